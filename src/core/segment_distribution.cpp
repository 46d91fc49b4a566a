#include "segment_distribution.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>

#include "sort.hpp"
#include "stages.hpp"
#include "state_format.hpp"

#include "no_postgres.hpp"

namespace customer_analytics {

namespace {

constexpr std::uint8_t kDistributionLayout = 1;

// Equal doubles must be equal bytes, so that a distribution built from
// scratch and one updated by deltas serialize alike: -0 is kept as 0.
double canonical(double value) { return value == 0.0 ? 0.0 : value; }

void check_buyers(std::uint64_t buyers) {
    if (buyers > kMaxSegmentBuyers)
        throw Error(ErrorKind::program_limit_exceeded,
                    "a segment distribution holds at most " + std::to_string(kMaxSegmentBuyers) + " buyers",
                    "It keeps the monetary and order value of every buying customer.");
}

[[noreturn]] void not_held() {
    throw Error(ErrorKind::data_exception, "segment distribution does not hold a removed customer", {},
                "Build the distribution again from every customer.");
}

std::int64_t key_of(const DayCount& entry) { return entry.day; }
std::int64_t key_of(const FrequencyCount& entry) { return entry.frequency; }
DayCount entry_of(std::int64_t key, std::int64_t count, const DayCount*) {
    return DayCount{static_cast<std::int32_t>(key), count};
}
FrequencyCount entry_of(std::int64_t key, std::int64_t count, const FrequencyCount*) {
    return FrequencyCount{key, count};
}

// Histograms of keys in a narrow range (days of a few years, purchase
// counts) are counted directly; others are sorted first.
template <typename Entry, typename Key>
std::vector<Entry> histogram_of(std::vector<Key> keys, const Interrupts& interrupts) {
    std::vector<Entry> entries;
    if (keys.empty())
        return entries;
    const auto [low, high] = std::minmax_element(keys.begin(), keys.end());
    const std::int64_t first = *low;
    const auto span = static_cast<std::uint64_t>(static_cast<std::int64_t>(*high) - first);
    if (span < 2 * keys.size() + 65536) {
        std::vector<std::int64_t> counts(span + 1, 0);
        for (Key key : keys)
            ++counts[static_cast<std::size_t>(static_cast<std::int64_t>(key) - first)];
        for (std::size_t i = 0; i < counts.size(); ++i)
            if (counts[i] > 0)
                entries.push_back(
                    entry_of(first + static_cast<std::int64_t>(i), counts[i], static_cast<const Entry*>(nullptr)));
        return entries;
    }
    sort_interruptible(keys.data(), keys.data() + keys.size(), std::less<Key>(), interrupts);
    for (std::size_t i = 0; i < keys.size();) {
        std::size_t j = i + 1;
        while (j < keys.size() && keys[j] == keys[i])
            ++j;
        entries.push_back(entry_of(keys[i], static_cast<std::int64_t>(j - i), static_cast<const Entry*>(nullptr)));
        i = j;
    }
    return entries;
}

// Sorts finite doubles (no -0) ascending: a least-significant-digit radix
// sort of their bits mapped to unsigned integers in the same order, several
// times faster than comparison sorting at a million values. Passes whose
// digit is the same in every value are skipped.
void sort_doubles(std::vector<double>& values, const Interrupts& interrupts) {
    const std::size_t n = values.size();
    if (n < 4096) {
        std::sort(values.begin(), values.end());
        return;
    }
    constexpr int kDigitBits = 11;
    constexpr int kPasses = 6;  // 66 bits >= 64
    constexpr std::size_t kRadix = std::size_t(1) << kDigitBits;
    constexpr std::uint64_t kSign = std::uint64_t(1) << 63;
    std::vector<std::uint64_t> keys(n), scratch(n);
    std::vector<std::size_t> counts(kPasses * kRadix, 0);
    for (std::size_t i = 0; i < n; ++i) {
        std::uint64_t bits;
        std::memcpy(&bits, &values[i], sizeof bits);
        const std::uint64_t key = (bits & kSign) != 0 ? ~bits : bits | kSign;
        keys[i] = key;
        for (int pass = 0; pass < kPasses; ++pass)
            ++counts[pass * kRadix + ((key >> (pass * kDigitBits)) & (kRadix - 1))];
    }
    for (int pass = 0; pass < kPasses; ++pass) {
        std::size_t* count = &counts[pass * kRadix];
        const int shift = pass * kDigitBits;
        if (count[(keys[0] >> shift) & (kRadix - 1)] == n)
            continue;
        interrupts.check();
        std::size_t offset = 0;
        for (std::size_t digit = 0; digit < kRadix; ++digit) {
            const std::size_t here = count[digit];
            count[digit] = offset;
            offset += here;
        }
        for (std::uint64_t key : keys)
            scratch[count[(key >> shift) & (kRadix - 1)]++] = key;
        keys.swap(scratch);
    }
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t key = keys[i];
        const std::uint64_t bits = (key & kSign) != 0 ? key & ~kSign : ~key;
        std::memcpy(&values[i], &bits, sizeof bits);
    }
}

// held - removed + added, histograms ascending by key.
template <typename Entry>
std::vector<Entry> merge_histogram(const std::vector<Entry>& held, const std::vector<Entry>& removed,
                                   const std::vector<Entry>& added) {
    std::vector<Entry> out;
    out.reserve(held.size() + added.size());
    std::size_t h = 0, r = 0, a = 0;
    while (h < held.size() || r < removed.size() || a < added.size()) {
        std::int64_t key = INT64_MAX;
        if (h < held.size())
            key = std::min(key, key_of(held[h]));
        if (r < removed.size())
            key = std::min(key, key_of(removed[r]));
        if (a < added.size())
            key = std::min(key, key_of(added[a]));
        std::int64_t count = 0;
        if (h < held.size() && key_of(held[h]) == key)
            count += held[h++].count;
        if (r < removed.size() && key_of(removed[r]) == key) {
            if (removed[r].count > count)
                not_held();
            count -= removed[r++].count;
        }
        if (a < added.size() && key_of(added[a]) == key)
            count += added[a++].count;
        if (count > 0)
            out.push_back(entry_of(key, count, static_cast<const Entry*>(nullptr)));
    }
    return out;
}

// held - removed + added, arrays ascending.
std::vector<double> merge_values(const std::vector<double>& held, const std::vector<double>& removed,
                                 const std::vector<double>& added) {
    if (removed.size() > held.size())
        not_held();
    std::vector<double> out;
    out.reserve(held.size() - removed.size() + added.size());
    std::size_t h = 0, r = 0, a = 0;
    // Each held value is either removed (matched in order) or merged with the
    // added values; equal values are interchangeable.
    while (h < held.size()) {
        const double value = held[h++];
        if (r < removed.size() && removed[r] <= value) {
            if (removed[r] < value)
                not_held();
            ++r;
            continue;
        }
        while (a < added.size() && added[a] < value)
            out.push_back(added[a++]);
        out.push_back(value);
    }
    if (r < removed.size())
        not_held();
    out.insert(out.end(), added.begin() + static_cast<std::ptrdiff_t>(a), added.end());
    return out;
}

// An ascending sequence given as runs of equal values, read by index.
class Runs {
public:
    void add(double value, std::int64_t count) {
        end_ += count;
        runs_.push_back(Run{value, count, end_});
    }
    double at(std::size_t index) const {
        const auto run = std::upper_bound(runs_.begin(), runs_.end(), static_cast<std::int64_t>(index),
                                          [](std::int64_t i, const Run& r) { return i < r.end; });
        return run->value;
    }
    template <typename Add>
    void visit(Add add) const {
        for (const Run& run : runs_)
            for (std::int64_t i = 0; i < run.count; ++i)
                add(run.value);
    }

private:
    struct Run {
        double value;
        std::int64_t count;
        std::int64_t end;  // index after the run
    };
    std::vector<Run> runs_;
    std::int64_t end_ = 0;
};

void runs_bins(const Runs& runs, std::size_t count, int buckets, double* cuts, double* mean) {
    for (int j = 1; j < buckets; ++j)
        cuts[j - 1] =
            percentile_cont_at([&runs](std::size_t i) { return runs.at(i); }, count, static_cast<double>(j) / buckets);
    *mean = mean_in_order(count, [&runs](auto add) { runs.visit(add); });
}

}  // namespace

bool SegmentValues::operator==(const SegmentValues& other) const {
    auto same_days = [](const DayCount& x, const DayCount& y) { return x.day == y.day && x.count == y.count; };
    auto same_frequencies = [](const FrequencyCount& x, const FrequencyCount& y) {
        return x.frequency == y.frequency && x.count == y.count;
    };
    return inexact == other.inexact && days.size() == other.days.size() &&
           std::equal(days.begin(), days.end(), other.days.begin(), same_days) &&
           frequencies.size() == other.frequencies.size() &&
           std::equal(frequencies.begin(), frequencies.end(), other.frequencies.begin(), same_frequencies) &&
           monetary == other.monetary && values == other.values;
}

// ----------------------------------------------------------- collecting

void SegmentCollector::add(const SegmentCustomer& customer) {
    if (!valid_day(customer.last_order))
        throw Error(ErrorKind::invalid_parameter_value, "last_order is outside the range of dates");
    if (customer.frequency <= 0)
        throw Error(ErrorKind::invalid_parameter_value, "a buying customer must have a positive frequency");
    if (!std::isfinite(customer.monetary) || !std::isfinite(customer.value))
        throw Error(ErrorKind::invalid_parameter_value, "monetary and order value must be finite");
    check_buyers(std::uint64_t(monetary_.size()) + 1);
    sorted_ = false;
    days_.push_back(customer.last_order);
    frequencies_.push_back(customer.frequency);
    monetary_.push_back(canonical(customer.monetary));
    values_.push_back(canonical(customer.value));
    inexact_ += customer.exact ? 0 : 1;
}

void SegmentCollector::merge(const SegmentCollector& other) {
    check_buyers(std::uint64_t(monetary_.size()) + other.monetary_.size());
    sorted_ = false;
    days_.insert(days_.end(), other.days_.begin(), other.days_.end());
    frequencies_.insert(frequencies_.end(), other.frequencies_.begin(), other.frequencies_.end());
    monetary_.insert(monetary_.end(), other.monetary_.begin(), other.monetary_.end());
    values_.insert(values_.end(), other.values_.begin(), other.values_.end());
    inexact_ += other.inexact_;
}

void SegmentCollector::add_values(const SegmentValues& values) {
    check_buyers(std::uint64_t(monetary_.size()) + values.buyers());
    sorted_ = false;
    for (const DayCount& entry : values.days)
        days_.insert(days_.end(), static_cast<std::size_t>(entry.count), entry.day);
    for (const FrequencyCount& entry : values.frequencies)
        frequencies_.insert(frequencies_.end(), static_cast<std::size_t>(entry.count), entry.frequency);
    monetary_.insert(monetary_.end(), values.monetary.begin(), values.monetary.end());
    values_.insert(values_.end(), values.values.begin(), values.values.end());
    inexact_ += values.inexact;
}

SegmentValues SegmentCollector::sorted(const Interrupts& interrupts) const {
    SegmentValues out;
    out.days = histogram_of<DayCount>(days_, interrupts);
    out.frequencies = histogram_of<FrequencyCount>(frequencies_, interrupts);
    out.monetary = monetary_;
    out.values = values_;
    sort_doubles(out.monetary, interrupts);
    sort_doubles(out.values, interrupts);
    out.inexact = inexact_;
    return out;
}

void SegmentCollector::sort(const Interrupts& interrupts) {
    if (sorted_)
        return;
    day_histogram_ = histogram_of<DayCount>(days_, interrupts);
    frequency_histogram_ = histogram_of<FrequencyCount>(frequencies_, interrupts);
    sort_doubles(monetary_, interrupts);
    sort_doubles(values_, interrupts);
    sorted_ = true;
}

SegmentValues apply_segment_delta(const SegmentValues& distribution, const SegmentDelta& delta) {
    if (delta.removed.inexact > distribution.inexact)
        not_held();
    check_buyers(std::uint64_t(distribution.buyers()) + delta.added.buyers());
    SegmentValues out;
    out.days = merge_histogram(distribution.days, delta.removed.days, delta.added.days);
    out.frequencies = merge_histogram(distribution.frequencies, delta.removed.frequencies, delta.added.frequencies);
    out.monetary = merge_values(distribution.monetary, delta.removed.monetary, delta.added.monetary);
    out.values = merge_values(distribution.values, delta.removed.values, delta.added.values);
    out.inexact = distribution.inexact - delta.removed.inexact + delta.added.inexact;
    return out;
}

// ----------------------------------------------------------- statistics

std::size_t percentile_disc_index(std::size_t count, double fraction) {
    // PostgreSQL's percentile_disc: the smallest K with K / N >= p, at least
    // 1, computed as ceil(p * N) in double.
    auto row = static_cast<std::int64_t>(std::ceil(fraction * static_cast<double>(count)));
    row = std::max<std::int64_t>(row, 1);
    return static_cast<std::size_t>(std::min<std::int64_t>(row, static_cast<std::int64_t>(count)) - 1);
}

namespace {

// The statistics over histograms and two ascending columns read through
// monetary_at(i) and value_at(i) (vectors, or doubles in place in a
// serialized distribution).
template <typename MonetaryAt, typename ValueAt>
SegmentStatistics statistics_of(const std::vector<DayCount>& days, const std::vector<FrequencyCount>& frequencies,
                                std::size_t n, std::int64_t inexact, MonetaryAt monetary_at, ValueAt value_at,
                                std::int32_t as_of_day, int buckets) {
    check_buckets(buckets);
    SegmentStatistics stats;
    stats.buyers = static_cast<std::int64_t>(n);
    stats.exact_spend = inexact == 0;
    if (n == 0)
        return stats;
    stats.has_bins = true;
    Bins& bins = stats.bins;
    bins.buckets = buckets;
    bins.customers = stats.buyers;
    // Recency ascending is last_order descending.
    Runs recency;
    for (auto entry = days.rbegin(); entry != days.rend(); ++entry)
        recency.add(static_cast<double>(days_since(entry->day, as_of_day)), entry->count);
    runs_bins(recency, n, buckets, bins.recency_cuts, &bins.recency_mean);
    Runs frequency;
    for (const FrequencyCount& entry : frequencies)
        frequency.add(static_cast<double>(entry.frequency), entry.count);
    runs_bins(frequency, n, buckets, bins.frequency_cuts, &bins.frequency_mean);
    for (int j = 1; j < buckets; ++j)
        bins.monetary_cuts[j - 1] = percentile_cont_at(monetary_at, n, static_cast<double>(j) / buckets);
    bins.monetary_mean = mean_in_order(n, [&monetary_at, n](auto add) {
        for (std::size_t i = 0; i < n; ++i)
            add(monetary_at(i));
    });
    stats.frequency_median = percentile_cont_at([&frequency](std::size_t i) { return frequency.at(i); }, n, 0.5);
    stats.value_median = percentile_cont_at(value_at, n, 0.5);
    stats.has_top = true;
    stats.spend_top[0] = monetary_at(percentile_disc_index(n, 0.8));
    stats.spend_top[1] = monetary_at(percentile_disc_index(n, 0.95));
    // The first value above the top-20 % spend, by bisection.
    std::size_t low = percentile_disc_index(n, 0.8), high = n;
    while (low < high) {
        const std::size_t middle = low + (high - low) / 2;
        if (monetary_at(middle) > stats.spend_top[0])
            high = middle;
        else
            low = middle + 1;
    }
    if (low < n)
        stats.spend_above = monetary_at(low);
    return stats;
}

double load_double(const std::uint8_t* at) {
    const auto bits = state_bytes::load<std::uint64_t>(at);
    double value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

}  // namespace

SegmentStatistics segment_statistics(const SegmentValues& distribution, std::int32_t as_of_day, int buckets) {
    const double* monetary = distribution.monetary.data();
    const double* values = distribution.values.data();
    return statistics_of(
        distribution.days, distribution.frequencies, distribution.buyers(), distribution.inexact,
        [monetary](std::size_t i) { return monetary[i]; }, [values](std::size_t i) { return values[i]; }, as_of_day,
        buckets);
}

SegmentStatistics segment_statistics(const SegmentView& distribution, std::int32_t as_of_day, int buckets) {
    const std::uint8_t* monetary = distribution.monetary;
    const std::uint8_t* values = distribution.values;
    return statistics_of(
        distribution.days, distribution.frequencies, distribution.buyers, distribution.inexact,
        [monetary](std::size_t i) { return load_double(monetary + 8 * i); },
        [values](std::size_t i) { return load_double(values + 8 * i); }, as_of_day, buckets);
}

// -------------------------------------------------------- serialization

namespace {

void write_values(StateWriter& writer, const std::vector<DayCount>& days,
                  const std::vector<FrequencyCount>& frequencies, const std::vector<double>& monetary,
                  const std::vector<double>& values, std::int64_t inexact) {
    writer.u32(static_cast<std::uint32_t>(days.size()));
    for (const DayCount& entry : days) {
        writer.i32(entry.day);
        writer.i64(entry.count);
    }
    writer.u32(static_cast<std::uint32_t>(frequencies.size()));
    for (const FrequencyCount& entry : frequencies) {
        writer.i64(entry.frequency);
        writer.i64(entry.count);
    }
    writer.u32(static_cast<std::uint32_t>(monetary.size()));
    writer.f64_array(monetary.data(), monetary.size());
    writer.f64_array(values.data(), values.size());
    writer.i64(inexact);
}

void write_values(StateWriter& writer, const SegmentValues& values) {
    write_values(writer, values.days, values.frequencies, values.monetary, values.values, values.inexact);
}

// count ascending finite doubles (no -0) in place.
const std::uint8_t* read_ascending(StateReader& reader, std::uint32_t count, const char* field) {
    const std::uint8_t* bytes = reader.raw(std::size_t(count) * 8, field);
    double previous = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
        const double value = load_double(bytes + 8 * std::size_t(i));
        if (!std::isfinite(value))
            reader.fail(std::string("A ") + field + " is not a finite number.");
        if (value == 0.0 && std::signbit(value))
            reader.fail(std::string("A ") + field + " is a negative zero.");
        if (i > 0 && value < previous)
            reader.fail(std::string("The ") + field + "s are not in ascending order.");
        previous = value;
    }
    return bytes;
}

template <typename Entry>
void check_histogram(StateReader& reader, const std::vector<Entry>& entries, std::uint64_t buyers, const char* what) {
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        if (entries[i].count <= 0 || static_cast<std::uint64_t>(entries[i].count) > buyers)
            reader.fail(std::string("A ") + what + " count is not between 1 and the number of buyers.");
        if (i > 0 && key_of(entries[i]) <= key_of(entries[i - 1]))
            reader.fail(std::string("The ") + what + "s are not in strictly ascending order.");
        total += static_cast<std::uint64_t>(entries[i].count);
        if (total > buyers)
            break;
    }
    if (total != buyers)
        reader.fail(std::string("The ") + what + " counts do not add up to the number of buyers.");
}

SegmentView read_view(StateReader& reader) {
    SegmentView view;
    const std::uint32_t day_count = reader.count("last_order count", 12, kMaxSegmentBuyers);
    view.days.resize(day_count);
    for (DayCount& entry : view.days) {
        entry.day = reader.i32("last_order");
        if (!valid_day(entry.day))
            reader.fail("A last_order is outside the range of PostgreSQL dates.");
        entry.count = reader.i64("last_order count");
    }
    const std::uint32_t frequency_count = reader.count("frequency count", 16, kMaxSegmentBuyers);
    view.frequencies.resize(frequency_count);
    for (FrequencyCount& entry : view.frequencies) {
        entry.frequency = reader.i64("frequency");
        if (entry.frequency <= 0)
            reader.fail("A frequency is not positive.");
        entry.count = reader.i64("frequency count");
    }
    const std::uint32_t buyers = reader.count("buyer count", 2 * sizeof(double), kMaxSegmentBuyers);
    view.buyers = buyers;
    view.monetary = read_ascending(reader, buyers, "monetary value");
    view.values = read_ascending(reader, buyers, "order value");
    view.inexact = reader.i64("inexact monetary count");
    if (view.inexact < 0 || static_cast<std::uint64_t>(view.inexact) > buyers)
        reader.fail("The count of inexact monetary values is not between 0 and the number of buyers.");
    check_histogram(reader, view.days, buyers, "last_order");
    check_histogram(reader, view.frequencies, buyers, "frequency");
    return view;
}

std::vector<double> doubles_of(const std::uint8_t* bytes, std::size_t count) {
    std::vector<double> out(count);
    for (std::size_t i = 0; i < count; ++i)
        out[i] = load_double(bytes + 8 * i);
    return out;
}

SegmentValues read_values(StateReader& reader) {
    SegmentView view = read_view(reader);
    SegmentValues values;
    values.days = std::move(view.days);
    values.frequencies = std::move(view.frequencies);
    values.monetary = doubles_of(view.monetary, view.buyers);
    values.values = doubles_of(view.values, view.buyers);
    values.inexact = view.inexact;
    return values;
}

}  // namespace

void write_segment_distribution(StateWriter& writer, const SegmentValues& values) {
    writer.header(StateKind::segment_distribution);
    writer.u8(kDistributionLayout);
    write_values(writer, values);
}

SegmentValues read_segment_distribution(const std::uint8_t* bytes, std::size_t length) {
    StateReader reader(bytes, length, StateKind::segment_distribution);
    if (reader.u8("layout version") != kDistributionLayout)
        reader.fail("The layout version is unknown.");
    SegmentValues values = read_values(reader);
    reader.finish();
    return values;
}

SegmentView view_segment_distribution(const std::uint8_t* bytes, std::size_t length) {
    StateReader reader(bytes, length, StateKind::segment_distribution);
    if (reader.u8("layout version") != kDistributionLayout)
        reader.fail("The layout version is unknown.");
    SegmentView view = read_view(reader);
    reader.finish();
    return view;
}

namespace {

// held - removed + added: held in place, the result written double by double.
void write_merged(StateWriter& writer, const std::uint8_t* held, std::size_t held_count,
                  const std::vector<double>& removed, const std::vector<double>& added) {
    std::size_t r = 0, a = 0;
    for (std::size_t h = 0; h < held_count; ++h) {
        const double value = load_double(held + 8 * h);
        if (r < removed.size() && removed[r] <= value) {
            if (removed[r] < value)
                not_held();
            ++r;
            continue;
        }
        while (a < added.size() && added[a] < value)
            writer.f64(added[a++]);
        writer.f64(value);
    }
    if (r < removed.size())
        not_held();
    for (; a < added.size(); ++a)
        writer.f64(added[a]);
}

}  // namespace

namespace {

struct AppliedHistograms {
    std::vector<DayCount> days;
    std::vector<FrequencyCount> frequencies;
    std::size_t buyers;
};

AppliedHistograms applied_histograms(const SegmentView& distribution, const SegmentDelta& delta) {
    if (delta.removed.inexact > distribution.inexact || delta.removed.buyers() > distribution.buyers)
        not_held();
    check_buyers(std::uint64_t(distribution.buyers) + delta.added.buyers());
    AppliedHistograms out;
    out.days = merge_histogram(distribution.days, delta.removed.days, delta.added.days);
    out.frequencies = merge_histogram(distribution.frequencies, delta.removed.frequencies, delta.added.frequencies);
    out.buyers = distribution.buyers - delta.removed.buyers() + delta.added.buyers();
    return out;
}

}  // namespace

std::size_t applied_segment_size(const SegmentView& distribution, const SegmentDelta& delta) {
    const AppliedHistograms h = applied_histograms(distribution, delta);
    return 4 + 1 + 4 + 12 * h.days.size() + 4 + 16 * h.frequencies.size() + 4 + 16 * h.buyers + 8;
}

void write_applied_segment_delta(StateWriter& writer, const SegmentView& distribution, const SegmentDelta& delta) {
    const AppliedHistograms h = applied_histograms(distribution, delta);
    writer.header(StateKind::segment_distribution);
    writer.u8(kDistributionLayout);
    writer.u32(static_cast<std::uint32_t>(h.days.size()));
    for (const DayCount& entry : h.days) {
        writer.i32(entry.day);
        writer.i64(entry.count);
    }
    writer.u32(static_cast<std::uint32_t>(h.frequencies.size()));
    for (const FrequencyCount& entry : h.frequencies) {
        writer.i64(entry.frequency);
        writer.i64(entry.count);
    }
    writer.u32(static_cast<std::uint32_t>(h.buyers));
    write_merged(writer, distribution.monetary, distribution.buyers, delta.removed.monetary, delta.added.monetary);
    write_merged(writer, distribution.values, distribution.buyers, delta.removed.values, delta.added.values);
    writer.i64(distribution.inexact - delta.removed.inexact + delta.added.inexact);
}

void write_segment_delta(StateWriter& writer, const SegmentDelta& delta) {
    writer.header(StateKind::segment_delta);
    writer.u8(kDistributionLayout);
    write_values(writer, delta.removed);
    write_values(writer, delta.added);
}

void write_segment_delta(StateWriter& writer, const SegmentCollector& removed, const SegmentCollector& added) {
    if (!removed.sorted_ || !added.sorted_)
        throw Error(ErrorKind::internal_error, "segment delta written before sorting");
    writer.header(StateKind::segment_delta);
    writer.u8(kDistributionLayout);
    for (const SegmentCollector* side : {&removed, &added})
        write_values(writer, side->day_histogram_, side->frequency_histogram_, side->monetary_, side->values_,
                     side->inexact_);
}

SegmentDelta read_segment_delta(const std::uint8_t* bytes, std::size_t length) {
    StateReader reader(bytes, length, StateKind::segment_delta);
    if (reader.u8("layout version") != kDistributionLayout)
        reader.fail("The layout version is unknown.");
    SegmentDelta delta;
    delta.removed = read_values(reader);
    delta.added = read_values(reader);
    reader.finish();
    return delta;
}

std::size_t shortest_double_text(double value, char* out) {
    if (!std::isfinite(value))
        throw Error(ErrorKind::invalid_parameter_value, "spend must be a finite number");
    const auto result = std::to_chars(out, out + kShortestDoubleCapacity - 1, value);
    *result.ptr = '\0';
    return static_cast<std::size_t>(result.ptr - out);
}

}  // namespace customer_analytics
