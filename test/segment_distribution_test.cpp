#include "segment_distribution.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "rfm_bins.hpp"
#include "stages.hpp"
#include "state_format.hpp"
#include "test_util.hpp"

using namespace customer_analytics;
using namespace customer_analytics_test;

namespace {

// Populations with many ties (few days, few frequencies, prices in cents
// from a short list) and a spread of plain random values.
SegmentCustomer random_customer(std::mt19937_64& g) {
    SegmentCustomer c;
    c.last_order = 8000 + static_cast<std::int32_t>(g() % 400);
    c.frequency = 1 + static_cast<std::int64_t>(g() % (g() % 2 ? 4 : 60));
    c.monetary = g() % 3 == 0 ? static_cast<double>(g() % 20) * 5 : static_cast<double>(g() % 1000000) / 100;
    c.value = c.monetary / static_cast<double>(c.frequency);
    c.exact = g() % 50 != 0;
    return c;
}

SegmentValues from_scratch(const std::vector<SegmentCustomer>& customers) {
    SegmentCollector collector;
    for (const SegmentCustomer& c : customers)
        collector.add(c);
    return collector.sorted();
}

std::vector<std::uint8_t> distribution_bytes(const SegmentValues& values) {
    return bytes_of([&values](StateWriter& w) { write_segment_distribution(w, values); });
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// The statistics the SQL definitions give, computed the plain way: every
// value listed, sorted, the shared percentile and rfm_bins code.
void expect_same_statistics(const SegmentStatistics& a, const SegmentStatistics& b) {
    // Field by field: Bins has padding.
    EXPECT_EQ(a.bins.buckets, b.bins.buckets);
    EXPECT_EQ(a.bins.customers, b.bins.customers);
    EXPECT_EQ(std::memcmp(a.bins.recency_cuts, b.bins.recency_cuts, sizeof a.bins.recency_cuts), 0);
    EXPECT_EQ(std::memcmp(a.bins.frequency_cuts, b.bins.frequency_cuts, sizeof a.bins.frequency_cuts), 0);
    EXPECT_EQ(std::memcmp(a.bins.monetary_cuts, b.bins.monetary_cuts, sizeof a.bins.monetary_cuts), 0);
    for (auto mean : {&Bins::recency_mean, &Bins::frequency_mean, &Bins::monetary_mean})
        EXPECT_TRUE(same_bits(a.bins.*mean, b.bins.*mean));
    EXPECT_EQ(a.buyers, b.buyers);
    EXPECT_EQ(a.has_bins, b.has_bins);
    EXPECT_EQ(a.has_top, b.has_top);
    EXPECT_EQ(a.exact_spend, b.exact_spend);
    EXPECT_EQ(std::memcmp(a.spend_top, b.spend_top, sizeof a.spend_top), 0);
    EXPECT_EQ(a.frequency_median, b.frequency_median);
    EXPECT_EQ(a.value_median, b.value_median);
    EXPECT_EQ(a.spend_above, b.spend_above);
}

void expect_direct_statistics(const std::vector<SegmentCustomer>& customers, std::int32_t as_of, int buckets) {
    const SegmentValues values = from_scratch(customers);
    const SegmentStatistics stats = segment_statistics(values, as_of, buckets);
    // The same from the serialized bytes read in place.
    const auto bytes = distribution_bytes(values);
    expect_same_statistics(stats,
                           segment_statistics(view_segment_distribution(bytes.data(), bytes.size()), as_of, buckets));
    ASSERT_EQ(stats.buyers, static_cast<std::int64_t>(customers.size()));
    TestArena arena;
    BinsState state;
    state.start(as_of, buckets);
    std::vector<double> frequency, value, monetary;
    bool exact = true;
    for (const SegmentCustomer& c : customers) {
        state.add(arena, static_cast<double>(days_since(c.last_order, as_of)), static_cast<double>(c.frequency),
                  c.monetary);
        frequency.push_back(static_cast<double>(c.frequency));
        value.push_back(c.value);
        monetary.push_back(c.monetary);
        exact = exact && c.exact;
    }
    EXPECT_EQ(stats.exact_spend, exact);
    if (customers.empty()) {
        EXPECT_FALSE(stats.has_bins);
        EXPECT_FALSE(stats.frequency_median.has_value());
        EXPECT_FALSE(stats.value_median.has_value());
        EXPECT_FALSE(stats.has_top);
        EXPECT_FALSE(stats.spend_above.has_value());
        return;
    }
    const Bins bins = compute_bins(state);
    ASSERT_TRUE(stats.has_bins);
    EXPECT_EQ(stats.bins.customers, bins.customers);
    EXPECT_EQ(stats.bins.buckets, buckets);
    for (int j = 0; j < buckets - 1; ++j) {
        EXPECT_TRUE(same_bits(stats.bins.recency_cuts[j], bins.recency_cuts[j])) << j;
        EXPECT_TRUE(same_bits(stats.bins.frequency_cuts[j], bins.frequency_cuts[j])) << j;
        EXPECT_TRUE(same_bits(stats.bins.monetary_cuts[j], bins.monetary_cuts[j])) << j;
    }
    EXPECT_TRUE(same_bits(stats.bins.recency_mean, bins.recency_mean));
    EXPECT_TRUE(same_bits(stats.bins.frequency_mean, bins.frequency_mean));
    EXPECT_TRUE(same_bits(stats.bins.monetary_mean, bins.monetary_mean));
    std::sort(frequency.begin(), frequency.end());
    std::sort(value.begin(), value.end());
    std::sort(monetary.begin(), monetary.end());
    EXPECT_TRUE(same_bits(*stats.frequency_median, percentile_cont_sorted(frequency.data(), frequency.size(), 0.5)));
    EXPECT_TRUE(same_bits(*stats.value_median, percentile_cont_sorted(value.data(), value.size(), 0.5)));
    // percentile_disc: the first value whose cumulative fraction i / n
    // reaches p, found by walking.
    const double n = static_cast<double>(monetary.size());
    for (int t = 0; t < 2; ++t) {
        const double p = t == 0 ? 0.8 : 0.95;
        std::size_t k = 1;
        while (static_cast<double>(k) < p * n)
            ++k;
        EXPECT_TRUE(same_bits(stats.spend_top[t], monetary[k - 1])) << p << " of " << n;
    }
    std::optional<double> above;
    for (double m : monetary)
        if (m > stats.spend_top[0]) {
            above = m;
            break;
        }
    EXPECT_EQ(stats.spend_above.has_value(), above.has_value());
    if (above) {
        EXPECT_TRUE(same_bits(*stats.spend_above, *above));
    }
}

}  // namespace

TEST(SegmentDistribution, StatisticsEqualTheDirectComputation) {
    std::mt19937_64 g(7);
    for (int round = 0; round < 60; ++round) {
        std::vector<SegmentCustomer> customers(round < 10 ? round : 1 + g() % 3000);
        for (SegmentCustomer& c : customers)
            c = random_customer(g);
        // as_of inside the range of last orders: recency clamps at 0.
        const std::int32_t as_of = 8000 + static_cast<std::int32_t>(g() % 600);
        expect_direct_statistics(customers, as_of, 2 + static_cast<int>(g() % 98));
    }
}

TEST(SegmentDistribution, EmptyHasNoBins) {
    const SegmentStatistics stats = segment_statistics(SegmentValues{}, 9000, 5);
    EXPECT_EQ(stats.buyers, 0);
    EXPECT_FALSE(stats.has_bins);
    EXPECT_FALSE(stats.has_top);
    EXPECT_TRUE(stats.exact_spend);
    EXPECT_EQ(kind_of([] { segment_statistics(SegmentValues{}, 9000, 1); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([] { segment_statistics(SegmentValues{}, 9000, 100); }), ErrorKind::invalid_parameter_value);
}

TEST(SegmentDistribution, PercentileDiscRanks) {
    // ceil(p * n), at least 1: of 10 values, 0.8 is the 8th and 0.95 the 10th.
    EXPECT_EQ(percentile_disc_index(10, 0.8), 7u);
    EXPECT_EQ(percentile_disc_index(10, 0.95), 9u);
    EXPECT_EQ(percentile_disc_index(1, 0.8), 0u);
    EXPECT_EQ(percentile_disc_index(5, 0.8), 3u);  // 0.8 * 5 is exactly 4 in double
    EXPECT_EQ(percentile_disc_index(20, 0.95), 18u);
}

TEST(SegmentDistribution, DeltasGiveTheBytesOfAFreshBuild) {
    std::mt19937_64 g(11);
    for (int round = 0; round < 40; ++round) {
        std::vector<SegmentCustomer> held(g() % 2000);
        for (SegmentCustomer& c : held)
            c = random_customer(g);
        SegmentValues distribution = round % 2 == 0 ? from_scratch(held) : SegmentValues{};
        if (round % 2 == 1) {  // built by a delta with additions only
            SegmentDelta first;
            first.added = from_scratch(held);
            distribution = apply_segment_delta(distribution, first);
        }
        for (int step = 0; step < 4; ++step) {
            SegmentCollector removed, added;
            std::shuffle(held.begin(), held.end(), g);
            const std::size_t drop = held.empty() ? 0 : g() % (held.size() + 1);
            // The last `drop` customers change or go.
            std::vector<SegmentCustomer> kept(held.begin(), held.end() - static_cast<std::ptrdiff_t>(drop));
            for (std::size_t i = held.size() - drop; i < held.size(); ++i) {
                removed.add(held[i]);
                if (g() % 2) {
                    kept.push_back(random_customer(g));
                    added.add(kept.back());
                }
            }
            held = kept;
            for (std::size_t i = g() % 300; i > 0; --i) {
                held.push_back(random_customer(g));
                added.add(held.back());
            }
            SegmentDelta delta{removed.sorted(), added.sorted()};
            // The delta survives its own serialization.
            const auto delta_bytes = bytes_of([&delta](StateWriter& w) { write_segment_delta(w, delta); });
            const SegmentDelta read = read_segment_delta(delta_bytes.data(), delta_bytes.size());
            EXPECT_TRUE(read.removed == delta.removed && read.added == delta.added);
            // The in-place path: the old bytes, at an odd address, viewed
            // and merged straight into the result.
            const auto old_bytes = distribution_bytes(distribution);
            std::vector<std::uint8_t> odd(old_bytes.size() + 1);
            std::memcpy(odd.data() + 1, old_bytes.data(), old_bytes.size());
            const SegmentView view = view_segment_distribution(odd.data() + 1, old_bytes.size());
            const std::size_t size = applied_segment_size(view, read);
            std::vector<std::uint8_t> in_place(size);
            write_state(
                size, [&](StateWriter& w) { write_applied_segment_delta(w, view, read); },
                [&](std::size_t) { return in_place.data(); });
            distribution = apply_segment_delta(distribution, read);
            const auto bytes = distribution_bytes(distribution);
            ASSERT_EQ(in_place, bytes);
            ASSERT_EQ(bytes, distribution_bytes(from_scratch(held))) << round << " " << step;
            EXPECT_TRUE(read_segment_distribution(bytes.data(), bytes.size()) == distribution);
        }
    }
}

TEST(SegmentDistribution, RemovingWhatIsNotHeldFails) {
    std::mt19937_64 g(3);
    std::vector<SegmentCustomer> held(50);
    for (SegmentCustomer& c : held)
        c = random_customer(g);
    const SegmentValues distribution = from_scratch(held);
    const auto held_bytes = distribution_bytes(distribution);
    auto remove = [&distribution, &held_bytes](SegmentCustomer c) {
        SegmentCollector removed;
        removed.add(c);
        SegmentDelta delta{removed.sorted(), {}};
        // The in-place path fails alike.
        EXPECT_EQ(kind_of([&] {
                      const SegmentView view = view_segment_distribution(held_bytes.data(), held_bytes.size());
                      std::vector<std::uint8_t> out(applied_segment_size(view, delta));
                      StateWriter writer(out.data(), out.size());
                      write_applied_segment_delta(writer, view, delta);
                  }),
                  ErrorKind::data_exception);
        apply_segment_delta(distribution, delta);
    };
    SegmentCustomer other = held[0];
    other.monetary = 1234567.5;  // no such spend
    EXPECT_EQ(kind_of([&] { remove(other); }), ErrorKind::data_exception);
    other = held[0];
    other.last_order = 100;
    EXPECT_EQ(kind_of([&] { remove(other); }), ErrorKind::data_exception);
    other = held[0];
    other.frequency = 1000;
    EXPECT_EQ(kind_of([&] { remove(other); }), ErrorKind::data_exception);
    // From an empty distribution nothing can be removed.
    EXPECT_EQ(kind_of([&] {
                  SegmentCollector removed;
                  removed.add(held[0]);
                  apply_segment_delta(SegmentValues{}, SegmentDelta{removed.sorted(), {}});
              }),
              ErrorKind::data_exception);
    // Removing exactly what is held empties it.
    SegmentDelta all{distribution, {}};
    const SegmentValues empty = apply_segment_delta(distribution, all);
    EXPECT_EQ(empty.buyers(), 0u);
    EXPECT_TRUE(empty.days.empty() && empty.frequencies.empty() && empty.inexact == 0);
}

TEST(SegmentDistribution, CustomersAreChecked) {
    SegmentCollector collector;
    SegmentCustomer c;
    c.last_order = 9000;
    c.frequency = 0;
    EXPECT_EQ(kind_of([&] { collector.add(c); }), ErrorKind::invalid_parameter_value);
    c.frequency = 1;
    c.monetary = kNaN;
    EXPECT_EQ(kind_of([&] { collector.add(c); }), ErrorKind::invalid_parameter_value);
    c.monetary = -0.0;
    c.value = -0.0;
    collector.add(c);
    const SegmentValues values = collector.sorted();
    EXPECT_FALSE(std::signbit(values.monetary[0]));  // kept as 0: equal values, equal bytes
}

namespace {

std::vector<std::uint8_t> sample_bytes() {
    std::vector<SegmentCustomer> customers;
    for (int i = 0; i < 5; ++i) {
        SegmentCustomer c;
        c.last_order = 9000 + i % 2;
        c.frequency = 1 + i % 3;
        c.monetary = 10.0 * (i + 1);
        c.value = c.monetary / static_cast<double>(c.frequency);
        c.exact = i != 2;
        customers.push_back(c);
    }
    return distribution_bytes(from_scratch(customers));
}

ErrorKind read_kind(const std::vector<std::uint8_t>& bytes) {
    return kind_of([&bytes] { read_segment_distribution(bytes.data(), bytes.size()); });
}

// Offsets in the sample: header 4, layout 1, day count 4, two days of 12
// (day, count), frequency count 4, three frequencies of 16 (frequency,
// count), buyer count 4, then 5 + 5 doubles and the inexact count.
constexpr std::size_t kDays = 9, kFrequencies = 4 + 9 + 24, kBuyers = kFrequencies + 48;
constexpr std::size_t kMonetary = kBuyers + 4, kValues = kMonetary + 40, kInexact = kValues + 40;

void put_f64(std::vector<std::uint8_t>& bytes, std::size_t at, double value) { std::memcpy(&bytes[at], &value, 8); }
void put_i64(std::vector<std::uint8_t>& bytes, std::size_t at, std::int64_t value) {
    std::memcpy(&bytes[at], &value, 8);
}

}  // namespace

TEST(SegmentDistribution, CorruptBytesAreInvalidState) {
    const auto good = sample_bytes();
    ASSERT_EQ(good.size(), kInexact + 8);
    EXPECT_EQ(read_segment_distribution(good.data(), good.size()).inexact, 1);
    for (std::size_t length = 0; length < good.size(); ++length)
        EXPECT_EQ(read_kind(std::vector<std::uint8_t>(good.begin(), good.begin() + length)),
                  ErrorKind::invalid_binary_representation)
            << length;
    auto longer = good;
    longer.push_back(0);
    EXPECT_EQ(read_kind(longer), ErrorKind::invalid_binary_representation);
    auto bad = good;
    bad[4] = 2;  // unknown layout
    EXPECT_EQ(read_kind(bad), ErrorKind::invalid_binary_representation);
    bad = good;
    put_f64(bad, kMonetary, 45.0);  // monetary not ascending
    EXPECT_EQ(read_kind(bad), ErrorKind::invalid_binary_representation);
    bad = good;
    put_f64(bad, kValues + 8, kInf);
    EXPECT_EQ(read_kind(bad), ErrorKind::invalid_binary_representation);
    bad = good;
    put_f64(bad, kMonetary, -0.0);
    EXPECT_EQ(read_kind(bad), ErrorKind::invalid_binary_representation);
    bad = good;
    put_i64(bad, kDays + 4, 4);  // day counts add up to 6
    EXPECT_EQ(read_kind(bad), ErrorKind::invalid_binary_representation);
    bad = good;
    put_i64(bad, kDays + 4, 0);
    EXPECT_EQ(read_kind(bad), ErrorKind::invalid_binary_representation);
    bad = good;
    put_i64(bad, kFrequencies, 0);  // frequency 0
    EXPECT_EQ(read_kind(bad), ErrorKind::invalid_binary_representation);
    bad = good;
    put_i64(bad, kFrequencies + 16, 1);  // frequencies 1, 1: not strictly ascending
    EXPECT_EQ(read_kind(bad), ErrorKind::invalid_binary_representation);
    bad = good;
    put_i64(bad, kInexact, 6);
    EXPECT_EQ(read_kind(bad), ErrorKind::invalid_binary_representation);
    bad = good;
    put_i64(bad, kInexact, -1);
    EXPECT_EQ(read_kind(bad), ErrorKind::invalid_binary_representation);
    bad = good;
    bad[kBuyers] = 4;  // buyer count 4 against 5 in the histograms
    EXPECT_EQ(read_kind(bad), ErrorKind::invalid_binary_representation);
    bad = good;
    bad[kBuyers + 3] = 0x7f;  // a huge count is refused before allocating
    EXPECT_EQ(read_kind(bad), ErrorKind::invalid_binary_representation);
    bad = good;
    bad[3] = static_cast<std::uint8_t>(StateKind::segment_delta);
    EXPECT_EQ(read_kind(bad), ErrorKind::invalid_binary_representation);
}

TEST(SegmentDistribution, ShortestDoubleText) {
    char text[kShortestDoubleCapacity];
    for (double value : {0.1, 19.99, 1234567.89, 1e20, 123456789012345.0, 5e-324, -2.5}) {
        const std::size_t length = shortest_double_text(value, text);
        EXPECT_EQ(std::strlen(text), length);
        EXPECT_TRUE(same_bits(std::strtod(text, nullptr), value)) << text;
    }
    shortest_double_text(19.99, text);
    EXPECT_STREQ(text, "19.99");
    EXPECT_EQ(kind_of([&] { shortest_double_text(kInf, text); }), ErrorKind::invalid_parameter_value);
}

TEST(SegmentDistribution, LargeCollectionsSortLikeStdSort) {
    // Beyond the small-input cutoff the columns are radix sorted and the
    // histograms counted (or sorted, for keys spread widely).
    std::mt19937_64 g(5);
    for (int round = 0; round < 3; ++round) {
        SegmentCollector collector;
        std::vector<double> monetary, values;
        std::vector<std::int32_t> days;
        for (int i = 0; i < 50000; ++i) {
            SegmentCustomer c;
            c.last_order = round == 0 ? 8000 + static_cast<std::int32_t>(g() % 1000)
                                      : kFirstValidDay + static_cast<std::int32_t>(g() % 2000000000u);
            c.frequency = round == 2 ? 1 + static_cast<std::int64_t>(g() >> 2) : 1 + static_cast<std::int64_t>(g() % 9);
            const double scale = std::ldexp(1.0, static_cast<int>(g() % 200) - 100);
            c.monetary = (static_cast<double>(g() % 2000001) - 1000000) * (round == 0 ? 0.01 : scale);
            c.value = round == 0 ? static_cast<double>(g() % 7) : -c.monetary * 3;
            collector.add(c);
            monetary.push_back(c.monetary == 0 ? 0.0 : c.monetary);
            values.push_back(c.value == 0 ? 0.0 : c.value);
            days.push_back(c.last_order);
        }
        const SegmentValues sorted = collector.sorted();
        std::sort(monetary.begin(), monetary.end());
        std::sort(values.begin(), values.end());
        ASSERT_EQ(sorted.monetary.size(), monetary.size());
        EXPECT_EQ(std::memcmp(sorted.monetary.data(), monetary.data(), monetary.size() * sizeof(double)), 0);
        EXPECT_EQ(std::memcmp(sorted.values.data(), values.data(), values.size() * sizeof(double)), 0);
        std::sort(days.begin(), days.end());
        std::size_t at = 0;
        for (const DayCount& entry : sorted.days)
            for (std::int64_t k = 0; k < entry.count; ++k)
                ASSERT_EQ(days[at++], entry.day);
        EXPECT_EQ(at, days.size());
        std::int64_t total = 0;
        for (std::size_t i = 0; i < sorted.frequencies.size(); ++i) {
            total += sorted.frequencies[i].count;
            if (i > 0) {
                EXPECT_LT(sorted.frequencies[i - 1].frequency, sorted.frequencies[i].frequency);
            }
        }
        EXPECT_EQ(total, 50000);
        const auto bytes = distribution_bytes(sorted);
        EXPECT_TRUE(read_segment_distribution(bytes.data(), bytes.size()) == sorted);
    }
}
