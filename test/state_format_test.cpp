// Unit tests of the state format (state_format.hpp) and of every state's
// writer and reader: exact byte layout, round trips, and the rejection of
// every class of corrupt input (truncation at every length, trailing bytes,
// another kind or version, counts beyond the input, non-finite values,
// inconsistent fields), plus states written by 0.1.0.
#include "state_format.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "affinity.hpp"
#include "campaign.hpp"
#include "pareto.hpp"
#include "btyd/fit_state.hpp"
#include "kmeans.hpp"
#include "rfm_bins.hpp"
#include "rfm_summary.hpp"
#include "segment_distribution.hpp"
#include "rfm_summary_orders.hpp"
#include "tags.hpp"
#include "test_util.hpp"

using namespace customer_analytics;
using namespace customer_analytics_test;

namespace {

using Bytes = std::vector<std::uint8_t>;

// The Error a call raises (internal_error, with a test failure, if none).
template <class F>
Error error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "expected an Error";
    return Error(ErrorKind::internal_error, "none");
}

Bytes from_hex(const std::string& hex) {
    Bytes out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
}

// ---------------------------------------------------------------- samples

// A sample state of each kind, and a function that reads bytes of that
// kind and writes what it read (so a valid state must come back unchanged).
struct Sample {
    StateKind kind;
    Bytes bytes;
    std::function<Bytes(const Bytes&)> reread;
};

Bytes summary_bytes(OrderSummaryState& state, const LargeDecimal* overflow) {
    Bytes bytes = bytes_of([&](StateWriter& w) { write_summary_state(w, state, overflow); });
    // The size rfm_agg's serialize function allocates without measuring.
    EXPECT_EQ(summary_state_size(state, overflow), bytes.size());
    return bytes;
}

Bytes reread_summary(const Bytes& bytes) {
    TestArena arena;
    OrderSummaryState state;
    LargeDecimal overflow;
    bool has_overflow = false;
    read_summary_state(arena, bytes.data(), bytes.size(), &state, &overflow, &has_overflow);
    return summary_bytes(state, has_overflow ? &overflow : nullptr);
}

const std::int16_t kOverflowDigits[] = {2, 123, 4567, 8901, 2345, 6789, 123, 4567, 8901, 2345, 6789, 5000};

LargeDecimal sample_overflow() {
    LargeDecimal value;
    value.weight = 10;
    value.display_scale = 1;
    value.count = 12;
    value.digits = kOverflowDigits;
    return value;
}

std::vector<Sample> samples() {
    std::vector<Sample> out;
    static TestArena arena;
    {
        OrderSummaryState s;
        for (std::int32_t day : {8770, 8826, 8770})
            s.add_row_date(arena, day, true);
        s.add_row_date(arena, 8800, false);
        s.add_decimal(Decimal{1825, 2});
        const LargeDecimal overflow = sample_overflow();
        out.push_back({StateKind::rfm_summary, summary_bytes(s, &overflow), reread_summary});
        out.push_back({StateKind::rfm_summary, summary_bytes(s, nullptr), reread_summary});
        OrderSummaryState f;
        f.money_kind = MoneyKind::binary_float;
        f.add_row_date(arena, -2451545, true);
        f.add_row_date(arena, 2145031948, true);
        f.add_float(0.1);
        f.add_float(1e10);
        out.push_back({StateKind::rfm_summary, summary_bytes(f, nullptr), reread_summary});
    }
    {
        auto reread_orders = [](const Bytes& bytes) {
            TestArena a;
            OrderBook back;
            read_orders_state(a, bytes.data(), bytes.size(), &back);
            return bytes_of([&](StateWriter& w) { write_orders_state(w, back); });
        };
        OrderBook o;
        o.key_kind = OrderKeyKind::text;
        o.has_minimum = true;
        o.decimal_minimum.mantissa = 1;
        o.decimal_minimum.scale = 2;
        o.add_decimal(arena, true, 77, 8770, Decimal{1825, 2});
        o.add_decimal(arena, true, 12, 8771, Decimal{-5, 0});
        o.add_decimal(arena, false, 0, 8772, Decimal{3, 1});
        out.push_back(
            {StateKind::rfm_orders, bytes_of([&](StateWriter& w) { write_orders_state(w, o); }), reread_orders});
        OrderBook f;
        f.money_kind = MoneyKind::binary_float;
        f.add_float(arena, true, 3, -2451545, 0.1);
        f.add_float(arena, true, 3, 2145031948, 0.2);
        f.add_float(arena, false, 0, 10, -1e10);
        out.push_back(
            {StateKind::rfm_orders, bytes_of([&](StateWriter& w) { write_orders_state(w, f); }), reread_orders});
    }
    {
        BinsState b;
        b.start(8766, 5);
        b.add(arena, 3, 2, 100.5);
        b.add(arena, 40, 1, 7);
        out.push_back(
            {StateKind::rfm_bins, bytes_of([&](StateWriter& w) { write_bins_state(w, b); }), [](const Bytes& bytes) {
                 TestArena a;
                 BinsState back;
                 read_bins_state(a, bytes.data(), bytes.size(), &back);
                 return bytes_of([&](StateWriter& w) { write_bins_state(w, back); });
             }});
    }
    {
        const BtydObservation rows[] = {{0, 0, 10, 3}, {2, 5.5, 10, 1}};
        out.push_back({StateKind::btyd_fit,
                       bytes_of([&](StateWriter& w) { write_btyd_fit_state(w, 0.1, true, rows, 2); }),
                       [](const Bytes& bytes) {
                           TestArena a;
                           double penalty;
                           bool given;
                           FlatArray<BtydObservation> back;
                           read_btyd_fit_state(a, bytes.data(), bytes.size(), &penalty, &given, &back);
                           return bytes_of(
                               [&](StateWriter& w) { write_btyd_fit_state(w, penalty, given, back.data, back.size); });
                       }});
        const BgbbObservation patterns[] = {{0, 0, 6, 3464}, {3, 5, 6, 1}};
        out.push_back({StateKind::bgbb_fit,
                       bytes_of([&](StateWriter& w) { write_bgbb_fit_state(w, 0, false, patterns, 2); }),
                       [](const Bytes& bytes) {
                           TestArena a;
                           double penalty;
                           bool given;
                           FlatArray<BgbbObservation> back;
                           read_bgbb_fit_state(a, bytes.data(), bytes.size(), &penalty, &given, &back);
                           return bytes_of(
                               [&](StateWriter& w) { write_bgbb_fit_state(w, penalty, given, back.data, back.size); });
                       }});
        const double cov_rows[] = {2, 5.5, 10, 1, 0.5, -1, 0, 0, 3, 1, 1, 2};
        out.push_back({StateKind::btyd_cov_fit,
                       bytes_of([&](StateWriter& w) { write_btyd_cov_fit_state(w, 2, cov_rows, 2); }),
                       [](const Bytes& bytes) {
                           TestArena a;
                           std::uint32_t k, rows;
                           FlatArray<double> back;
                           read_btyd_cov_fit_state(a, bytes.data(), bytes.size(), &k, &back, &rows);
                           return bytes_of([&](StateWriter& w) { write_btyd_cov_fit_state(w, k, back.data, rows); });
                       }});
        const SbgObservation tenures[] = {{1, true, 369}, {7, false, 241}};
        out.push_back(
            {StateKind::sbg_fit, bytes_of([&](StateWriter& w) { write_sbg_fit_state(w, 0.5, true, tenures, 2); }),
             [](const Bytes& bytes) {
                 TestArena a;
                 double penalty;
                 bool given;
                 FlatArray<SbgObservation> back;
                 read_sbg_fit_state(a, bytes.data(), bytes.size(), &penalty, &given, &back);
                 return bytes_of([&](StateWriter& w) { write_sbg_fit_state(w, penalty, given, back.data, back.size); });
             }});
        const GammaGammaObservation spend[] = {{1, 20.5, 2}, {4, 3, 1}};
        out.push_back({StateKind::gamma_gamma_fit,
                       bytes_of([&](StateWriter& w) { write_gamma_gamma_fit_state(w, 0, false, spend, 2); }),
                       [](const Bytes& bytes) {
                           TestArena a;
                           double penalty;
                           bool given;
                           FlatArray<GammaGammaObservation> back;
                           read_gamma_gamma_fit_state(a, bytes.data(), bytes.size(), &penalty, &given, &back);
                           return bytes_of([&](StateWriter& w) {
                               write_gamma_gamma_fit_state(w, penalty, given, back.data, back.size);
                           });
                       }});
    }
    {
        ActivityState s(8766, 30);
        s.add(8760, EventKind::purchase);
        s.add(8700, EventKind::other_interaction);
        s.add(8800, EventKind::offline_checkin);
        out.push_back({StateKind::activity_status,
                       bytes_of([&](StateWriter& w) { write_activity_state(w, s, ActivityThresholds{}); }),
                       [](const Bytes& bytes) {
                           ActivityThresholds t;
                           const ActivityState back = read_activity_state(bytes.data(), bytes.size(), &t);
                           return bytes_of([&](StateWriter& w) { write_activity_state(w, back, t); });
                       }});
    }
    {
        CouponState s;
        s.add(10, false);
        s.add(12, true);
        const double ladder[] = {5, 10, 15, 20};
        out.push_back({StateKind::coupon_sensitivity,
                       bytes_of([&](StateWriter& w) { write_coupon_state(w, s, ladder, 4); }), [](const Bytes& bytes) {
                           TestArena a;
                           FlatArray<double> l;
                           const CouponState back = read_coupon_state(a, bytes.data(), bytes.size(), &l);
                           return bytes_of([&](StateWriter& w) { write_coupon_state(w, back, l.data, l.size); });
                       }});
    }
    {
        PurchaseMixState s;
        s.add(true, false);
        s.add(true, true);
        s.add(false, false);
        out.push_back({StateKind::purchase_mix,
                       bytes_of([&](StateWriter& w) { write_purchase_mix_state(w, s, PurchaseSensitivityParams{}); }),
                       [](const Bytes& bytes) {
                           PurchaseSensitivityParams p;
                           const PurchaseMixState back = read_purchase_mix_state(bytes.data(), bytes.size(), &p);
                           return bytes_of([&](StateWriter& w) { write_purchase_mix_state(w, back, p); });
                       }});
    }
    {
        ChannelState s;
        s.add("sms", 4, 2);
        s.add("email", 7, 0);
        ChannelPreferenceParams p;
        p.prior_rate = 0.25;
        out.push_back({StateKind::channel_preference, bytes_of([&](StateWriter& w) { write_channel_state(w, s, p); }),
                       [](const Bytes& bytes) {
                           ChannelPreferenceParams params;
                           const ChannelState back = read_channel_state(bytes.data(), bytes.size(), &params);
                           return bytes_of([&](StateWriter& w) { write_channel_state(w, back, params); });
                       }});
    }
    {
        const double params[] = {0.2};
        const double spends[] = {0, 10, 2.5};
        out.push_back(
            {StateKind::spend_sample, bytes_of([&](StateWriter& w) { write_spend_state(w, params, 1, spends, 3); }),
             [](const Bytes& bytes) {
                 TestArena a;
                 FlatArray<double> p, v;
                 read_spend_state(a, bytes.data(), bytes.size(), &p, &v);
                 return bytes_of([&](StateWriter& w) { write_spend_state(w, p.data, p.size, v.data, v.size); });
             }});
    }
    {
        KMeansParams p;
        p.k = 2;
        p.tolerance = std::nan("");  // parameters travel as given; kmeans_fit checks them
        const double values[] = {1, 2, 3, 4, 5, 6};
        out.push_back({StateKind::kmeans_fit, bytes_of([&](StateWriter& w) { write_kmeans_state(w, p, 3, values, 6); }),
                       [](const Bytes& bytes) {
                           TestArena a;
                           KMeansParams params;
                           std::uint32_t d;
                           FlatArray<double> v;
                           read_kmeans_state(a, bytes.data(), bytes.size(), &params, &d, &v);
                           return bytes_of([&](StateWriter& w) { write_kmeans_state(w, params, d, v.data, v.size); });
                       }});
        KMeansSample sample;
        for (double x : {0.0, 0.1, 5.0, 5.2})
            sample.add({x, x * 2});
        KMeansParams fit;
        fit.k = 2;
        out.push_back({StateKind::kmeans_model, sample.fit(fit).serialize(), [](const Bytes& bytes) {
                           return KMeansModel::deserialize(bytes.data(), bytes.size()).serialize();
                       }});
    }
    {
        AffinityState s;
        s.add_basket(std::vector<std::string>{"A", "B"});
        s.add_basket(std::vector<std::string>{"A", "C", "B"});
        AffinityQuery q;
        q.order_by = AffinityOrder::lift;
        out.push_back({StateKind::affinity, bytes_of([&](StateWriter& w) { write_affinity_state(w, s, q); }),
                       [](const Bytes& bytes) {
                           AffinityQuery query;
                           const AffinityState back = read_affinity_state(bytes.data(), bytes.size(), &query);
                           return bytes_of([&](StateWriter& w) { write_affinity_state(w, back, query); });
                       }});
    }
    {
        const OverlapCounts c{5, 4, 2, 10};
        out.push_back({StateKind::segment_overlap, bytes_of([&](StateWriter& w) { write_overlap_state(w, c); }),
                       [](const Bytes& bytes) {
                           const OverlapCounts back = read_overlap_state(bytes.data(), bytes.size());
                           return bytes_of([&](StateWriter& w) { write_overlap_state(w, back); });
                       }});
    }
    {
        CampaignState s;
        s.add(false, true, 10.5);
        s.add(true, false);
        s.add(false, false, -2);
        out.push_back({StateKind::campaign_report,
                       bytes_of([&](StateWriter& w) { write_campaign_state(w, s, CampaignParams{}); }),
                       [](const Bytes& bytes) {
                           CampaignParams p;
                           const CampaignState back = read_campaign_state(bytes.data(), bytes.size(), &p);
                           return bytes_of([&](StateWriter& w) { write_campaign_state(w, back, p); });
                       }});
    }
    {
        SegmentCollector removed, added;
        for (int i = 0; i < 4; ++i) {
            SegmentCustomer c;
            c.last_order = 9000 + i % 2;
            c.frequency = 1 + i;
            c.monetary = 12.5 * i;
            c.value = c.monetary / static_cast<double>(c.frequency);
            c.exact = i != 3;
            added.add(c);
            if (i == 1)
                removed.add(c);
        }
        const SegmentDelta delta{removed.sorted(), added.sorted()};
        out.push_back({StateKind::segment_distribution,
                       bytes_of([&](StateWriter& w) { write_segment_distribution(w, delta.added); }),
                       [](const Bytes& bytes) {
                           const SegmentValues back = read_segment_distribution(bytes.data(), bytes.size());
                           return bytes_of([&](StateWriter& w) { write_segment_distribution(w, back); });
                       }});
        out.push_back({StateKind::segment_delta, bytes_of([&](StateWriter& w) { write_segment_delta(w, delta); }),
                       [](const Bytes& bytes) {
                           const SegmentDelta back = read_segment_delta(bytes.data(), bytes.size());
                           return bytes_of([&](StateWriter& w) { write_segment_delta(w, back); });
                       }});
    }
    return out;
}

}  // namespace

// ------------------------------------------------------------ the format

TEST(StateFormat, EveryKindHasASample) {
    std::vector<bool> seen(256, false);
    for (const Sample& s : samples())
        seen[static_cast<std::uint8_t>(s.kind)] = true;
    for (StateKind kind : kAllStateKinds)
        EXPECT_TRUE(seen[static_cast<std::uint8_t>(kind)]) << state_name(kind);
}

TEST(StateFormat, LittleEndianFieldByField) {
    // segment_overlap: the header, then four int64 counts, least significant
    // byte first, whatever the machine.
    const Bytes bytes = bytes_of([](StateWriter& w) { write_overlap_state(w, OverlapCounts{0x0102, 3, 2, 0x10000}); });
    const Bytes expected = {'C',  'A',  2, 12,               //
                            0x02, 0x01, 0, 0,  0, 0, 0, 0,   // x
                            3,    0,    0, 0,  0, 0, 0, 0,   // y
                            2,    0,    0, 0,  0, 0, 0, 0,   // xy
                            0,    0,    1, 0,  0, 0, 0, 0};  // n
    EXPECT_EQ(bytes, expected);
    // A negative int64 and a double.
    Bytes out(4 + 8 + 8);
    StateWriter w(out.data(), out.size());
    w.header(StateKind::campaign_report);
    w.i64(-2);
    w.f64(1.0);
    w.finish();
    EXPECT_EQ(out,
              (Bytes{'C', 'A', 2, 13, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f}));
}

TEST(StateFormat, WriterChecksItsBuffer) {
    Bytes out(5);
    StateWriter w(out.data(), out.size());
    w.header(StateKind::rfm_bins);
    EXPECT_EQ(error_of([&] { w.finish(); }).kind(), ErrorKind::internal_error);  // one byte short
    EXPECT_EQ(error_of([&] { w.u32(1); }).kind(), ErrorKind::internal_error);    // past the end
}

TEST(StateFormat, RoundTripsAreExact) {
    for (const Sample& s : samples())
        EXPECT_EQ(s.reread(s.bytes), s.bytes) << state_name(s.kind);
}

TEST(StateFormat, EveryTruncationIsRejected) {
    for (const Sample& s : samples())
        for (std::size_t length = 0; length < s.bytes.size(); ++length) {
            const Bytes cut(s.bytes.begin(), s.bytes.begin() + static_cast<long>(length));
            const Error e = error_of([&] { s.reread(cut); });
            EXPECT_EQ(e.kind(), ErrorKind::invalid_binary_representation) << state_name(s.kind) << " " << length;
            EXPECT_EQ(std::string(e.what()), std::string("invalid serialized ") + state_name(s.kind) + " state");
        }
}

TEST(StateFormat, TrailingBytesAreRejected) {
    for (const Sample& s : samples()) {
        Bytes longer = s.bytes;
        longer.push_back(0);
        const Error e = error_of([&] { s.reread(longer); });
        EXPECT_EQ(e.kind(), ErrorKind::invalid_binary_representation) << state_name(s.kind);
        EXPECT_EQ(e.detail(), "The state has 1 trailing bytes.") << state_name(s.kind);
    }
}

TEST(StateFormat, HeaderIsChecked) {
    for (const Sample& s : samples()) {
        Bytes other = s.bytes;
        other[3] =
            static_cast<std::uint8_t>(s.kind == StateKind::rfm_bins ? StateKind::kmeans_fit : StateKind::rfm_bins);
        const Error e = error_of([&] { s.reread(other); });
        EXPECT_EQ(e.kind(), ErrorKind::invalid_binary_representation);
        EXPECT_EQ(e.detail(), std::string("The bytes hold a ") +
                                  (s.kind == StateKind::rfm_bins ? "kmeans_fit" : "rfm_bins") + " state.");
        other[3] = 200;
        EXPECT_EQ(error_of([&] { s.reread(other); }).detail(), "The state kind 200 is unknown.");
        Bytes version = s.bytes;
        version[2] = 3;
        EXPECT_EQ(error_of([&] { s.reread(version); }).detail(), "The state format version 3 is not supported.");
        Bytes magic = s.bytes;
        magic[1] = 'B';
        EXPECT_EQ(error_of([&] { s.reread(magic); }).detail(), "The bytes do not start with the state format header.");
    }
    TestArena arena;
    FlatArray<double> p, v;
    EXPECT_EQ(error_of([&] { read_spend_state(arena, nullptr, 10, &p, &v); }).kind(),
              ErrorKind::invalid_binary_representation);
}

TEST(StateFormat, RandomCorruptionIsRejectedOrConsistent) {
    std::mt19937_64 g(7);
    for (const Sample& s : samples())
        for (int i = 0; i < 3000; ++i) {
            Bytes junk = s.bytes;
            const int flips = 1 + static_cast<int>(g() % 3);
            for (int f = 0; f < flips; ++f)
                junk[g() % junk.size()] ^= static_cast<std::uint8_t>(1u << (g() % 8));
            try {
                // Accepted bytes are a valid state: written again, they read back the same.
                const Bytes again = s.reread(junk);
                EXPECT_EQ(s.reread(again), again);
            } catch (const Error& e) {
                EXPECT_EQ(e.kind(), ErrorKind::invalid_binary_representation) << state_name(s.kind) << ": " << e.what();
            }
        }
}

TEST(StateFormat, CountsAreBoundedBeforeAllocation) {
    // A spend state claiming 2^32 - 1 spends in 8 bytes.
    Bytes bytes = {'C', 'A', 2, 9, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0};
    TestArena arena;
    FlatArray<double> p, v;
    const Error e = error_of([&] { read_spend_state(arena, bytes.data(), bytes.size(), &p, &v); });
    EXPECT_EQ(e.kind(), ErrorKind::invalid_binary_representation);
    EXPECT_EQ(e.detail(), "The spend count 4294967295 is larger than the state can hold.");
    EXPECT_EQ(arena.bytes_allocated(), 0u);
    // The same for the purchase days of a summary and the digits of its overflow.
    Bytes days = {'C', 'A', 2, 1, 1, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f};
    OrderSummaryState state;
    LargeDecimal overflow;
    bool has_overflow;
    EXPECT_EQ(error_of([&] {
                  read_summary_state(arena, days.data(), days.size(), &state, &overflow, &has_overflow);
              }).detail(),
              "The purchase day count 2147483647 is larger than the state can hold.");
    EXPECT_EQ(arena.bytes_allocated(), 0u);
    // And a limit that holds whatever the input size.
    Bytes ladder = {'C', 'A', 2, 6, 0xe9, 0x03, 0, 0};  // 1001 rungs
    ladder.resize(ladder.size() + 1001 * 8 + 17, 0);
    EXPECT_EQ(error_of([&] { read_coupon_state(arena, ladder.data(), ladder.size(), &p); }).detail(),
              "The coupon ladder length 1001 is above the limit of 1000.");
    EXPECT_EQ(arena.bytes_allocated(), 0u);
}

// --------------------------------------------------------- rfm summaries

namespace {

// A decimal summary written with `edit` applied to its fields after the
// days; returns the detail of the error reading it raises ("" if none).
std::string summary_problem(const std::function<void(OrderSummaryState&)>& edit,
                            const LargeDecimal* overflow = nullptr) {
    TestArena arena;
    OrderSummaryState s;
    for (std::int32_t day : {100, 200, 300})
        s.add_row_date(arena, day, true);
    edit(s);
    const Bytes bytes = summary_bytes(s, overflow);
    try {
        reread_summary(bytes);
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::invalid_binary_representation);
        return e.detail();
    }
    return "";
}

}  // namespace

TEST(SummaryState, ReadsBackEveryField) {
    TestArena arena;
    OrderSummaryState s;
    for (std::int32_t day : {300, 100, 300, 200})
        s.add_row_date(arena, day, true);
    s.add_row_date(arena, 50, false);
    s.add_decimal(Decimal{-123456789, 4});
    const LargeDecimal overflow = sample_overflow();
    const Bytes bytes = summary_bytes(s, &overflow);
    // header, kind, 2 counts, day count, 3 days, mantissa, scale, flag, sign,
    // weight, display scale, digit count, 12 digits
    EXPECT_EQ(bytes.size(), 4u + 1 + 16 + 4 + 12 + 16 + 1 + 1 + 1 + 4 + 2 + 4 + 24);
    OrderSummaryState back;
    LargeDecimal digits;
    bool has_overflow = false;
    read_summary_state(arena, bytes.data(), bytes.size(), &back, &digits, &has_overflow);
    EXPECT_EQ(back.money_kind, MoneyKind::exact_decimal);
    EXPECT_EQ(back.purchases, 4);
    EXPECT_EQ(back.refunds, 1);
    EXPECT_EQ(back.first_day, 100);
    EXPECT_EQ(back.last_day, 300);
    EXPECT_EQ(back.purchase_days.distinct_count(), 3u);
    EXPECT_TRUE(back.decimal_total.mantissa == -123456789);
    EXPECT_EQ(back.decimal_total.scale, 4);
    ASSERT_TRUE(has_overflow);
    std::vector<char> text(large_decimal_text_capacity(digits));
    large_decimal_format(digits, text.data());
    EXPECT_STREQ(text.data(), "20123456789012345678901234567890123456789.5");
    // The state keeps working.
    back.add_row_date(arena, 400, true);
    EXPECT_EQ(back.last_day, 400);
}

TEST(SummaryState, FieldProblemsAreNamed) {
    EXPECT_EQ(summary_problem([](OrderSummaryState& s) { s.purchases = 2; }),
              "The purchase count is smaller than the number of purchase days.");
    EXPECT_EQ(summary_problem([](OrderSummaryState& s) { s.refunds = -1; }), "The refund count is negative.");
    EXPECT_EQ(summary_problem([](OrderSummaryState& s) { s.purchases = -3; }), "The purchase count is negative.");
    EXPECT_EQ(summary_problem([](OrderSummaryState& s) { s.purchase_days.days.size = 0; }),
              "The state has purchases but no purchase days.");
    EXPECT_EQ(summary_problem([](OrderSummaryState& s) { s.purchase_days.days.data[2] = kLastValidDay + 1; }),
              "A purchase day is outside the range of PostgreSQL dates.");
    EXPECT_EQ(summary_problem([](OrderSummaryState& s) { s.purchase_days.days.data[0] = kFirstValidDay - 1; }),
              "A purchase day is outside the range of PostgreSQL dates.");
    EXPECT_EQ(summary_problem([](OrderSummaryState& s) { s.purchase_days.days.data[1] = 100; }),
              "The purchase days are not in strictly ascending order.");
    EXPECT_EQ(summary_problem([](OrderSummaryState& s) { s.decimal_total.scale = 39; }),
              "The scale of the decimal total is out of range.");
    // Huge counts are consistent as long as every purchase day has a purchase.
    EXPECT_EQ(summary_problem([](OrderSummaryState& s) { s.purchases = INT64_MAX; }), "");
    // Any 128-bit mantissa is a total the core can reach and print.
    EXPECT_EQ(summary_problem([](OrderSummaryState& s) { s.decimal_total.mantissa = -(int128(1) << 126) * 2; }), "");
    // A float total must be finite.
    const Error e = error_of([] {
        TestArena arena;
        OrderSummaryState s;
        s.money_kind = MoneyKind::binary_float;
        s.add_float(1.7e308);
        s.add_float(1.7e308);
        summary_bytes(s, nullptr);
    });
    EXPECT_EQ(e.kind(), ErrorKind::numeric_value_out_of_range);
    Bytes f = reread_summary(summary_bytes(
        *[] {
            static OrderSummaryState s;
            s.money_kind = MoneyKind::binary_float;
            s.add_float(2.5);
            return &s;
        }(),
        nullptr));
    for (std::uint64_t bits : {0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000001ull}) {
        Bytes bad = f;
        for (int i = 0; i < 8; ++i)
            bad[bad.size() - 16 + i] = static_cast<std::uint8_t>(bits >> (8 * i));
        EXPECT_EQ(error_of([&] { reread_summary(bad); }).detail(), "The float total is not a finite number.");
    }
}

TEST(SummaryState, OverflowDigitsAreChecked) {
    auto problem = [](std::vector<std::int16_t> digits, std::int32_t weight, std::int32_t scale,
                      bool negative = false) {
        LargeDecimal value;
        value.negative = negative;
        value.weight = weight;
        value.display_scale = scale;
        value.count = static_cast<std::uint32_t>(digits.size());
        value.digits = digits.data();
        return summary_problem([](OrderSummaryState&) {}, &value);
    };
    EXPECT_EQ(problem({1, 2}, 10, 0), "");
    EXPECT_EQ(problem({1, 10000}, 10, 0), "A digit of the overflow total is not between 0 and 9999.");
    EXPECT_EQ(problem({0, 2}, 10, 0), "The overflow total has a leading zero digit.");
    EXPECT_EQ(problem({2, 0}, 10, 0), "The overflow total has a trailing zero digit.");
    EXPECT_EQ(problem({}, 1, 0), "The overflow total is a zero that is not in canonical form.");
    EXPECT_EQ(problem({}, 0, 0, true), "The overflow total is a zero that is not in canonical form.");
    EXPECT_EQ(problem({}, 0, 5), "");
    // 12.3400 needs display scale 2 at least; the 5 of 12.3405 needs 4.
    EXPECT_EQ(problem({12, 3400}, 0, 2), "");
    EXPECT_EQ(problem({12, 3400}, 0, 1), "The overflow total has digits beyond its display scale.");
    EXPECT_EQ(problem({12, 3405}, 0, 3), "The overflow total has digits beyond its display scale.");
    EXPECT_EQ(problem({12, 3405}, 0, 4), "");
    EXPECT_EQ(problem({1}, 32768, 0), "The weight of the overflow total is out of range.");
    EXPECT_EQ(problem({1}, 32767, 0), "");
    EXPECT_EQ(problem({1}, -4097, 16383), "The weight of the overflow total is out of range.");
    EXPECT_EQ(problem({10}, -4096, 16383), "");
    EXPECT_EQ(problem({1}, -4096, 16383), "The overflow total has digits beyond its display scale.");
    EXPECT_EQ(problem({1}, 0, 16384), "The display scale of the overflow total is out of range.");
    // Text of the extremes: 1 followed by 131068 zeros, and 10^-16383.
    std::int16_t ten = 10;  // 10 * 10000^-4096 = 10^-16383
    LargeDecimal tiny{false, -4096, 16383, 1, &ten};
    std::vector<char> text(large_decimal_text_capacity(tiny));
    EXPECT_EQ(large_decimal_format(tiny, text.data()), 2u + 16383u);
    EXPECT_EQ(std::string(text.data()).substr(16380), "00001");
    std::int16_t big_digit = 1;
    LargeDecimal big{true, 32767, 0, 1, &big_digit};
    text.assign(large_decimal_text_capacity(big), 0);
    EXPECT_EQ(large_decimal_format(big, text.data()), 1u + 1u + 4u * 32767u);
    EXPECT_EQ(std::string(text.data(), 3), "-10");
}

TEST(SummaryState, FloatStatesHaveNoDecimalPart) {
    TestArena arena;
    OrderSummaryState f;
    f.money_kind = MoneyKind::binary_float;
    f.add_float(-3.25);
    f.add_row_date(arena, 5, false);
    const Bytes bytes = summary_bytes(f, nullptr);
    EXPECT_EQ(bytes.size(), 4u + 1 + 16 + 4 + 16);
    OrderSummaryState back;
    LargeDecimal overflow;
    bool has_overflow = true;
    read_summary_state(arena, bytes.data(), bytes.size(), &back, &overflow, &has_overflow);
    EXPECT_FALSE(has_overflow);
    EXPECT_EQ(back.money_kind, MoneyKind::binary_float);
    EXPECT_EQ(back.float_sum(), -3.25);
    EXPECT_EQ(back.refunds, 1);
    EXPECT_EQ(back.purchases, 0);
}

// ------------------------------------------------------- states of 0.1.0

namespace {

struct Summary {
    std::int32_t first_day, last_day;
    std::int64_t purchases, purchase_days, refunds;
    std::string monetary;  // decimal_total plus the overflow, as text; or the float sum
};

// Reads a state and adds its totals the way rfm_agg's final function does.
Summary read_legacy(const Bytes& bytes) {
    TestArena arena;
    OrderSummaryState s;
    LargeDecimal overflow;
    bool has_overflow = false;
    read_summary_state(arena, bytes.data(), bytes.size(), &s, &overflow, &has_overflow);
    Summary out{s.first_day, s.last_day, s.purchases, s.purchase_days.distinct_count(), s.refunds, ""};
    if (s.money_kind == MoneyKind::binary_float) {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "%.17g", s.float_sum());
        out.monetary = buffer;
    } else {
        char buffer[kDecimalTextCapacity];
        decimal_format(s.decimal_total, buffer);
        out.monetary = buffer;
        if (has_overflow) {
            std::vector<char> text(large_decimal_text_capacity(overflow));
            large_decimal_format(overflow, text.data());
            out.monetary += std::string(" + ") + text.data();
        }
    }
    return out;
}

// Written by 0.1.0's rfm_agg_state (x86-64), with what rfm_state_summary
// showed for them.
// (2024-01-05, 10.50), (2024-01-05, 2.25), (2024-03-01, 7), (2024-02-01, -1.5)
//   -> (2024-01-05, 2024-03-01, 3, 2, 18.25, 1)
const char* kLegacySmall =
    "01010000422200007a2200000300000000000000010000000000000021070000000000000000000000000000020000000000000000"
    "000000000000000000000002000000422200007a220000";
// float8: (2023-12-31, 0.1), (2024-06-30, 0.2), (2024-01-01, 1e10)
//   -> (2023-12-31, 2024-06-30, 3, 3, 10000000000.3, 0)
const char* kLegacyFloat =
    "010200003d220000f3220000030000000000000000000000000000000000000000000000000000000000000000000000666602205f"
    "a0024200009c999999a93e030000003d2200003e220000f3220000";
// (2024-05-01, 1e40), (2024-05-02, 123456789012345678901234567890123456789.5),
// (2024-05-03, 0.25), (2024-05-03, 1e40): the total beyond 128 bits follows
// as a numeric with a 4-byte header
//   -> (2024-05-01, 2024-05-03, 4, 3, 20123456789012345678901234567890123456789.75, 0)
const char* kLegacyBig =
    "01010000b7220000b92200000400000000000000000000000000000019000000000000000000000000000000020000000000000000"
    "000000000000000000000003000000b7220000b8220000b9220000780000008a8002007b00d711c5222909851a7b00d711c5222909"
    "851a8813";
// One refund of -98765432109876543210987654321098765432109.001 read from a
// table: the overflow is a copy of the stored value, with a 1-byte header
//   -> (,,0,0,-98765432109876543210987654321098765432109.001,1)
const char* kLegacyShortHeader =

    "010100000000000000000000000000000000000001000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000378aa109003d22e110db038f193d083d22e110db038f193d080a00";

}  // namespace

TEST(LegacySummaryState, StatesOf010ReadBack) {
    const bool little_endian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
    if (!little_endian)
        GTEST_SKIP() << "the embedded states were written on a little-endian machine";
    Summary s = read_legacy(from_hex(kLegacySmall));
    EXPECT_EQ(s.first_day, 8770);  // 2024-01-05
    EXPECT_EQ(s.last_day, 8826);   // 2024-03-01
    EXPECT_EQ(s.purchases, 3);
    EXPECT_EQ(s.purchase_days, 2);
    EXPECT_EQ(s.refunds, 1);
    EXPECT_EQ(s.monetary, "18.25");

    s = read_legacy(from_hex(kLegacyFloat));
    EXPECT_EQ(s.first_day, 8765);  // 2023-12-31
    EXPECT_EQ(s.last_day, 8947);   // 2024-06-30
    EXPECT_EQ(s.purchases, 3);
    EXPECT_EQ(s.purchase_days, 3);
    EXPECT_EQ(s.refunds, 0);
    OrderSummaryState same;
    for (double amount : {0.1, 0.2, 1e10})
        same.add_float(amount);
    char expected[64];
    std::snprintf(expected, sizeof expected, "%.17g", same.float_sum());
    EXPECT_EQ(s.monetary, expected);
    EXPECT_EQ(std::stod(s.monetary), 10000000000.3);

    s = read_legacy(from_hex(kLegacyBig));
    EXPECT_EQ(s.first_day, 8887);  // 2024-05-01
    EXPECT_EQ(s.last_day, 8889);
    EXPECT_EQ(s.purchases, 4);
    EXPECT_EQ(s.purchase_days, 3);
    EXPECT_EQ(s.monetary, "0.25 + 20123456789012345678901234567890123456789.5");

    s = read_legacy(from_hex(kLegacyShortHeader));
    EXPECT_EQ(s.purchases, 0);
    EXPECT_EQ(s.purchase_days, 0);
    EXPECT_EQ(s.refunds, 1);
    EXPECT_EQ(s.monetary, "0 + -98765432109876543210987654321098765432109.001");
}

TEST(LegacySummaryState, RewrittenAsFormat2WithTheSameContent) {
    if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
        GTEST_SKIP();
    for (const char* hex : {kLegacySmall, kLegacyFloat, kLegacyBig, kLegacyShortHeader}) {
        const Bytes legacy = from_hex(hex);
        const Bytes v2 = reread_summary(legacy);
        EXPECT_EQ(v2[0], 'C');
        EXPECT_EQ(v2[2], 2);
        const Summary a = read_legacy(legacy), b = read_legacy(v2);
        EXPECT_EQ(a.first_day, b.first_day);
        EXPECT_EQ(a.last_day, b.last_day);
        EXPECT_EQ(a.purchases, b.purchases);
        EXPECT_EQ(a.purchase_days, b.purchase_days);
        EXPECT_EQ(a.refunds, b.refunds);
        EXPECT_EQ(a.monetary, b.monetary);
    }
}

// Except where the overflow total starts: 0.1.0 wrote it only when there was
// one, so a state cut there is a state without it.
TEST(LegacySummaryState, EveryTruncationIsRejected) {
    if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
        GTEST_SKIP();
    for (const char* hex : {kLegacySmall, kLegacyFloat, kLegacyBig, kLegacyShortHeader}) {
        const Bytes legacy = from_hex(hex);
        std::uint32_t days;
        std::memcpy(&days, legacy.data() + 64, sizeof days);
        const std::size_t overflow_at = 68 + 4 * std::size_t(days);
        for (std::size_t length = 1; length < legacy.size(); ++length) {
            const Bytes cut(legacy.begin(), legacy.begin() + static_cast<long>(length));
            if (length == overflow_at) {
                EXPECT_EQ(read_legacy(cut).monetary.find('+'), std::string::npos);
                continue;
            }
            EXPECT_EQ(error_of([&] { reread_summary(cut); }).kind(), ErrorKind::invalid_binary_representation)
                << length;
        }
    }
}

TEST(LegacySummaryState, OverflowTailIsNeverAPointerOrCompressed) {
    if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
        GTEST_SKIP();
    const Bytes fixed = from_hex("01010000" + std::string(128, '0'));  // no purchases, zero totals
    auto with_tail = [&](const std::string& tail_hex) {
        Bytes bytes = fixed;
        const Bytes tail = from_hex(tail_hex);
        bytes.insert(bytes.end(), tail.begin(), tail.end());
        return error_of([&] { reread_summary(bytes); });
    };
    // The crash of 0.1.0: an "expanded" pointer tag followed by an address.
    Error e = with_tail("01014141414141414141");
    EXPECT_EQ(e.kind(), ErrorKind::invalid_binary_representation);
    EXPECT_EQ(e.detail(), "The overflow total is a pointer to data stored elsewhere.");
    // An on-disk TOAST pointer: tag 18, raw size, external size, value id, relation.
    EXPECT_EQ(with_tail("0112"
                        "10270000"
                        "10270000"
                        "39300000"
                        "e8030000")
                  .detail(),
              "The overflow total is a pointer to data stored elsewhere.");
    // An indirect pointer (tag 1).
    EXPECT_EQ(with_tail("01014141414141414141").detail(), "The overflow total is a pointer to data stored elsewhere.");
    // A compressed value (4-byte header with the compressed bit).
    EXPECT_EQ(with_tail("4a000000"
                        "00001000" +
                        std::string(24, 'a'))
                  .detail(),
              "The overflow total is compressed.");
    // A 1-byte tail: a short header of length 1, and a lone 4-byte header byte.
    EXPECT_EQ(with_tail("03").detail(), "The overflow total is truncated.");
    EXPECT_EQ(with_tail("00").detail(), "The overflow total is truncated.");
    // Lengths that do not match the tail.
    EXPECT_EQ(with_tail("0b008001").detail(), "The length of the overflow total does not match the rest of the state.");
    EXPECT_EQ(with_tail("7800000000800100").detail(),
              "The length of the overflow total does not match the rest of the state.");
    // NaN and infinities, and digits that are not digits.
    // (A 1-byte header holds the length, header included, times 2, plus 1.)
    EXPECT_EQ(with_tail("0700c0").detail(), "The overflow total is not a finite number.");
    EXPECT_EQ(with_tail("0700d0").detail(), "The overflow total is not a finite number.");
    EXPECT_EQ(with_tail("0700f0").detail(), "The overflow total is not a finite number.");
    EXPECT_EQ(with_tail("0b00801027").detail(), "A digit of the overflow total is not between 0 and 9999.");
    EXPECT_EQ(with_tail("0b0080ffff").detail(), "A digit of the overflow total is not between 0 and 9999.");
    EXPECT_EQ(with_tail("0500").detail(), "The overflow total is truncated.");
    EXPECT_EQ(with_tail("0900800a").detail(), "The overflow total ends inside a digit.");
    EXPECT_EQ(with_tail("0b00800000").detail(), "The overflow total has a leading zero digit.");
    // A well-formed small numeric (4-byte header, long form 12.5) is accepted.
    Bytes ok = fixed;
    const Bytes tail = from_hex(
        "30000000"
        "0100"
        "0000"
        "0c00"
        "8813");
    ok.insert(ok.end(), tail.begin(), tail.end());
    EXPECT_EQ(read_legacy(ok).monetary, "0 + 12.5");
}

TEST(LegacySummaryState, FieldsAreCheckedLikeFormat2) {
    if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
        GTEST_SKIP();
    const Bytes small = from_hex(kLegacySmall);
    auto problem = [&](std::size_t offset, const std::string& hex) {
        Bytes bytes = small;
        const Bytes patch = from_hex(hex);
        std::copy(patch.begin(), patch.end(), bytes.begin() + static_cast<long>(offset));
        return error_of([&] { reread_summary(bytes); }).detail();
    };
    EXPECT_EQ(problem(1, "03"), "The money kind 3 is unknown.");
    EXPECT_EQ(problem(2, "01"), "The padding bytes are not zero.");
    EXPECT_EQ(problem(4, "41220000"), "The first and last order dates do not match the purchase days.");
    EXPECT_EQ(problem(12, "0100000000000000"), "The purchase count is smaller than the number of purchase days.");
    EXPECT_EQ(problem(20, "ffffffffffffffff"), "The refund count is negative.");
    EXPECT_EQ(problem(44, "27000000"), "The scale of the decimal total is out of range.");
    EXPECT_EQ(problem(48, "000000000000f03f"), "A state of numeric amounts has a float total.");
    EXPECT_EQ(problem(64, "03000000"), "The purchase day count 3 is larger than the state can hold.");
    EXPECT_EQ(problem(68, "7a220000"), "The purchase days are not in strictly ascending order.");
    EXPECT_EQ(problem(72, "ffffff7f"), "A purchase day is outside the range of PostgreSQL dates.");
    // purchases = 2^63 - 1 with 2 purchase days is consistent and reads.
    Bytes huge = small;
    const Bytes max = from_hex("ffffffffffffff7f");
    std::copy(max.begin(), max.end(), huge.begin() + 12);
    EXPECT_EQ(read_legacy(huge).purchases, INT64_MAX);
    const Bytes fl = from_hex(kLegacyFloat);
    Bytes nan = fl;
    const Bytes nan_bits = from_hex("000000000000f87f");
    std::copy(nan_bits.begin(), nan_bits.end(), nan.begin() + 48);
    EXPECT_EQ(error_of([&] { reread_summary(nan); }).detail(), "The float total is not a finite number.");
    Bytes decimal = fl;
    decimal[28] = 1;
    EXPECT_EQ(error_of([&] { reread_summary(decimal); }).detail(), "A state of float8 amounts has a decimal total.");
    Bytes tail = fl;
    tail.push_back(3);
    EXPECT_EQ(error_of([&] { reread_summary(tail); }).detail(), "A state of float8 amounts has an overflow total.");
}

// ----------------------------------------------------- other state kinds

TEST(OtherStates, InconsistentFieldsAreRejected) {
    // segment_overlap: xy larger than x.
    Bytes overlap = bytes_of([](StateWriter& w) { write_overlap_state(w, OverlapCounts{1, 3, 2, 5}); });
    EXPECT_EQ(error_of([&] { read_overlap_state(overlap.data(), overlap.size()); }).detail(),
              "The set sizes are inconsistent with each other or with the population.");
    // x + y - xy larger than n.
    overlap = bytes_of([](StateWriter& w) { write_overlap_state(w, OverlapCounts{4, 4, 1, 6}); });
    EXPECT_EQ(error_of([&] { read_overlap_state(overlap.data(), overlap.size()); }).kind(),
              ErrorKind::invalid_binary_representation);
    // activity: more recent events than events, and a last event after as_of.
    ActivityState a(100, 30);
    a.add(90, EventKind::purchase);
    Bytes activity = bytes_of([&](StateWriter& w) { write_activity_state(w, a, ActivityThresholds{}); });
    Bytes bad = activity;
    bad[4 + 6 * 8] = 0;  // events = 0 while recent events = 1
    ActivityThresholds t;
    EXPECT_EQ(error_of([&] { read_activity_state(bad.data(), bad.size(), &t); }).detail(),
              "The recent event counts exceed the event counts they are part of.");
    bad = activity;
    bad[bad.size() - 8] = 101;  // last event after as_of
    EXPECT_EQ(error_of([&] { read_activity_state(bad.data(), bad.size(), &t); }).detail(),
              "The last event date is after as_of or outside the range of PostgreSQL dates.");
    bad = activity;
    bad[bad.size() - 8] = 60;  // last event outside the recent window, yet one recent event
    EXPECT_EQ(error_of([&] { read_activity_state(bad.data(), bad.size(), &t); }).detail(),
              "The last event date does not match the recent event count.");
    // coupon: a ladder that is not increasing.
    CouponState c;
    const double ladder[] = {5, 5};
    const Bytes coupon = bytes_of([&](StateWriter& w) { write_coupon_state(w, c, ladder, 2); });
    TestArena arena;
    FlatArray<double> l;
    EXPECT_EQ(error_of([&] { read_coupon_state(arena, coupon.data(), coupon.size(), &l); }).detail(),
              "The coupon ladder is not strictly increasing from a non-negative value.");
    // channel: a duplicate channel.
    ChannelState ch;
    ch.add("sms", 1, 0);
    Bytes channel = bytes_of([&](StateWriter& w) { write_channel_state(w, ch, ChannelPreferenceParams{}); });
    const Bytes one(channel.end() - (4 + 3 + 16), channel.end());
    channel.insert(channel.end(), one.begin(), one.end());
    channel[4 + 1 + 8 + 8] = 2;  // two channels
    ChannelPreferenceParams cp;
    EXPECT_EQ(error_of([&] { read_channel_state(channel.data(), channel.size(), &cp); }).detail(),
              "A channel appears twice.");
    // bgbb: t_x before x; sbg: churned in period 0.
    {
        const BgbbObservation pattern{3, 2, 6, 1};
        const Bytes bb = bytes_of([&](StateWriter& w) { write_bgbb_fit_state(w, 0, false, &pattern, 1); });
        double p;
        bool g;
        FlatArray<BgbbObservation> back;
        EXPECT_EQ(error_of([&] { read_bgbb_fit_state(arena, bb.data(), bb.size(), &p, &g, &back); }).detail(),
                  "A row is not a valid (x, t_x, n) observation with a weight.");
        const SbgObservation tenure{0, true, 1};
        const Bytes sb = bytes_of([&](StateWriter& w) { write_sbg_fit_state(w, 0, false, &tenure, 1); });
        FlatArray<SbgObservation> tenures;
        EXPECT_EQ(error_of([&] { read_sbg_fit_state(arena, sb.data(), sb.size(), &p, &g, &tenures); }).detail(),
                  "A row is not a valid (t, churned) observation with a weight.");
        const double cov_row[] = {0, 1, 10, 1, 0.5};  // t_x without a repeat purchase
        const Bytes cb = bytes_of([&](StateWriter& w) { write_btyd_cov_fit_state(w, 1, cov_row, 1); });
        std::uint32_t k, rows;
        FlatArray<double> values;
        EXPECT_EQ(error_of([&] { read_btyd_cov_fit_state(arena, cb.data(), cb.size(), &k, &values, &rows); }).detail(),
                  "A row is not a valid (x, t_x, T) observation with a weight.");
    }
    // btyd: t_x beyond T; gamma-gamma: a fractional x.
    const BtydObservation row{2, 11, 10, 1};
    const Bytes fit = bytes_of([&](StateWriter& w) { write_btyd_fit_state(w, 0, false, &row, 1); });
    double penalty;
    bool given;
    FlatArray<BtydObservation> rows;
    EXPECT_EQ(error_of([&] { read_btyd_fit_state(arena, fit.data(), fit.size(), &penalty, &given, &rows); }).detail(),
              "A row is not a valid (x, t_x, T) observation with a weight.");
    const GammaGammaObservation spend{1.5, 10, 1};
    const Bytes gg = bytes_of([&](StateWriter& w) { write_gamma_gamma_fit_state(w, 0, false, &spend, 1); });
    FlatArray<GammaGammaObservation> spends;
    EXPECT_EQ(error_of([&] {
                  read_gamma_gamma_fit_state(arena, gg.data(), gg.size(), &penalty, &given, &spends);
              }).detail(),
              "A row is not a valid (x, mean_spend) observation with a weight.");
    // kmeans: values that do not make whole rows.
    const double values[] = {1, 2, 3};
    const Bytes km = bytes_of([&](StateWriter& w) { write_kmeans_state(w, KMeansParams{}, 2, values, 3); });
    KMeansParams kp;
    std::uint32_t d;
    FlatArray<double> v;
    EXPECT_EQ(error_of([&] { read_kmeans_state(arena, km.data(), km.size(), &kp, &d, &v); }).detail(),
              "The values do not make whole rows of the feature count.");
    // spend: a negative spend; campaign: more responders than customers.
    const double negative[] = {-1};
    const Bytes sp = bytes_of([&](StateWriter& w) { write_spend_state(w, nullptr, 0, negative, 1); });
    FlatArray<double> p;
    EXPECT_EQ(error_of([&] { read_spend_state(arena, sp.data(), sp.size(), &p, &v); }).detail(),
              "A spend is negative.");
    CampaignState cs;
    cs.add(false, true);
    Bytes campaign = bytes_of([&](StateWriter& w) { write_campaign_state(w, cs, CampaignParams{}); });
    campaign[4 + 16 + 8] = 2;  // treated responders = 2 of 1
    CampaignParams params;
    EXPECT_EQ(error_of([&] { read_campaign_state(campaign.data(), campaign.size(), &params); }).detail(),
              "A responder count is not between 0 and its customer count.");
}

// ------------------------------------------------------------- text form

namespace {

std::string text_of(const Bytes& bytes) {
    std::string text(state_text_length(bytes.size()), '?');
    state_text_encode(bytes.data(), bytes.size(), text.data());
    return text;
}

// The decoded bytes, or "rejected" as a single marker byte sequence.
bool decode(const std::string& text, Bytes* out) {
    out->assign(state_text_max_bytes(text.size()), 0);
    std::size_t size = 0;
    if (!state_text_decode(text.data(), text.size(), out->data(), &size))
        return false;
    out->resize(size);
    return true;
}

}  // namespace

TEST(StateText, Rfc4648Vectors) {
    // RFC 4648, section 10.
    const char* const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char* const encoded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; ++i) {
        const Bytes bytes(plain[i], plain[i] + std::strlen(plain[i]));
        EXPECT_EQ(text_of(bytes), encoded[i]);
        Bytes back;
        ASSERT_TRUE(decode(encoded[i], &back)) << encoded[i];
        EXPECT_EQ(back, bytes);
    }
    // Every byte value, and the two characters past the letters and digits.
    Bytes all(256);
    for (int i = 0; i < 256; ++i)
        all[i] = static_cast<std::uint8_t>(i);
    const std::string text = text_of(all);
    EXPECT_EQ(text.substr(text.size() - 8), "/P3+/w==");  // 0xFC 0xFD 0xFE, then 0xFF alone
    Bytes back;
    ASSERT_TRUE(decode(text, &back));
    EXPECT_EQ(back, all);
}

TEST(StateText, StatesRoundTrip) {
    for (const Sample& s : samples()) {
        Bytes back;
        ASSERT_TRUE(decode(text_of(s.bytes), &back)) << state_name(s.kind);
        EXPECT_EQ(back, s.bytes) << state_name(s.kind);
    }
}

TEST(StateText, OnlyCanonicalBase64IsRead) {
    Bytes out;
    const std::string bad_texts[] = {"Zg=",                     // not a multiple of 4
                                     "Zg",                      // no padding
                                     "Zh==",                    // bits after the last byte
                                     "Zm9=",                    // the same with one '='
                                     "Z===",                    // three '='
                                     "====",                    //
                                     "Zg==Zg==",                // padding in the middle
                                     "Zm 9",                    // whitespace
                                     "Zm9\n",                   //
                                     "Zm-_",                    // the URL alphabet
                                     "Zm9v\xc3\xa9",            // a non-ASCII character
                                     std::string("Zm\0v", 4)};  // NUL
    for (const std::string& bad : bad_texts)
        EXPECT_FALSE(decode(bad, &out)) << '"' << bad << '"';
    // A text one character off from a valid one is rejected or decodes to
    // other bytes, never to the same ones.
    const std::string good = text_of(Bytes{'C', 'A', 2, 12, 1, 2, 3});
    Bytes original;
    ASSERT_TRUE(decode(good, &original));
    for (std::size_t i = 0; i < good.size(); ++i)
        for (int c = 0; c < 256; ++c) {
            if (c == static_cast<unsigned char>(good[i]))
                continue;
            std::string changed = good;
            changed[i] = static_cast<char>(c);
            Bytes back;
            if (decode(changed, &back)) {
                EXPECT_NE(back, original) << changed;
            }
        }
}

TEST(StateText, LengthsAreExact) {
    for (std::size_t n = 0; n < 40; ++n) {
        EXPECT_EQ(state_text_length(n), 4 * ((n + 2) / 3));
        EXPECT_GE(state_text_max_bytes(state_text_length(n)), n);
        EXPECT_LE(state_text_max_bytes(state_text_length(n)), n + 2);
    }
}
