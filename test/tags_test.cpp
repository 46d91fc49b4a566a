#include "tags.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <type_traits>

using namespace customer_analytics;
using namespace customer_analytics_test;

namespace {

std::vector<uint8_t> channel_bytes(const ChannelState& s) {
    return customer_analytics_test::bytes_of(
        [&](StateWriter& w) { write_channel_state(w, s, ChannelPreferenceParams{}); });
}

ChannelState channel_from(const std::vector<uint8_t>& bytes) {
    ChannelPreferenceParams params;
    return read_channel_state(bytes.data(), bytes.size(), &params);
}

}  // namespace

// ------------------------------------------------------------ consumption

TEST(ConsumptionStage, Basics) {
    const int64_t as_of = 1000;
    EXPECT_FALSE(consumption_stage({0, 0, 0, 0}, as_of).has_value());
    EXPECT_EQ(consumption_stage({0, 0, 0, 5}, as_of), ConsumptionStage::prospect);
    EXPECT_EQ(consumption_stage({1, 900, 900, 0}, as_of), ConsumptionStage::new_customer);
    EXPECT_EQ(consumption_stage({1, 900, 900, 7}, as_of), ConsumptionStage::new_customer);
    EXPECT_EQ(consumption_stage({2, 500, 900, 0}, as_of), ConsumptionStage::returning);
    // 3 purchases, span exactly 180, last exactly 365 days ago -> loyal (both bounds inclusive).
    EXPECT_EQ(consumption_stage({3, 455, 635, 0}, as_of), ConsumptionStage::loyal);
    // span 179 -> returning
    EXPECT_EQ(consumption_stage({3, 456, 635, 0}, as_of), ConsumptionStage::returning);
    // last purchase 366 days ago -> returning
    EXPECT_EQ(consumption_stage({3, 454, 634, 0}, as_of), ConsumptionStage::returning);
    // purchase after as_of: recency counts as 0
    EXPECT_EQ(consumption_stage({5, 500, 1100, 0}, as_of), ConsumptionStage::loyal);
    EXPECT_STREQ(to_string(ConsumptionStage::new_customer), "new");
    EXPECT_STREQ(to_string(ConsumptionStage::loyal), "loyal");
}

TEST(ConsumptionStage, OverridableRule) {
    ConsumptionParams p;
    p.loyal_min_purchases = 2;
    p.loyal_min_span_days = 30;
    p.loyal_max_recency_days = 60;
    EXPECT_EQ(consumption_stage({2, 900, 930, 0}, 990, p), ConsumptionStage::loyal);
    EXPECT_EQ(consumption_stage({2, 900, 930, 0}, 991, p), ConsumptionStage::returning);
    // extreme day numbers do not overflow
    const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
    EXPECT_EQ(consumption_stage({3, lo, hi, 0}, lo), ConsumptionStage::loyal);
    EXPECT_EQ(consumption_stage({3, lo, lo, 0}, hi), ConsumptionStage::returning);
}

TEST(ConsumptionStage, Errors) {
    EXPECT_EQ(kind_of([] { consumption_stage({-1, 0, 0, 0}, 0); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([] { consumption_stage({0, 0, 0, -1}, 0); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([] { consumption_stage({2, 10, 5, 0}, 20); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([] { consumption_stage({1, 5, 10, 0}, 20); }), ErrorKind::data_exception);
    ConsumptionParams p;
    p.loyal_min_purchases = 1;
    EXPECT_EQ(kind_of([&] { consumption_stage({2, 1, 2, 0}, 3, p); }), ErrorKind::invalid_parameter_value);
    p = {};
    p.loyal_min_span_days = -1;
    EXPECT_EQ(kind_of([&] { consumption_stage({2, 1, 2, 0}, 3, p); }), ErrorKind::invalid_parameter_value);
    p = {};
    p.loyal_max_recency_days = -1;
    EXPECT_EQ(kind_of([&] { consumption_stage({2, 1, 2, 0}, 3, p); }), ErrorKind::invalid_parameter_value);
}

// ------------------------------------------------------------ value band

TEST(ValueBand, CutsGoToHigherBand) {
    EXPECT_EQ(value_band(99.99, 100, 500), ValueBand::low);
    EXPECT_EQ(value_band(100, 100, 500), ValueBand::mid);
    EXPECT_EQ(value_band(499.99, 100, 500), ValueBand::mid);
    EXPECT_EQ(value_band(500, 100, 500), ValueBand::high);
    EXPECT_EQ(value_band(-5, 100, 500), ValueBand::low);
    // equal cuts: no mid band
    EXPECT_EQ(value_band(100, 100, 100), ValueBand::high);
    EXPECT_EQ(value_band(99, 100, 100), ValueBand::low);
    EXPECT_STREQ(to_string(ValueBand::mid), "mid");
}

TEST(ValueBand, Errors) {
    EXPECT_EQ(kind_of([] { value_band(kNaN, 1, 2); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([] { value_band(kInf, 1, 2); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([] { value_band(1, 3, 2); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([] { value_band(1, kNaN, 2); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([] { value_band(1, 1, kInf); }), ErrorKind::invalid_parameter_value);
}

// ------------------------------------------------------------ activity

static_assert(std::is_trivially_copyable<ActivityState>::value, "activity state is copied as bytes");
static_assert(std::is_trivially_copyable<CouponState>::value, "coupon state is copied as bytes");
static_assert(std::is_trivially_copyable<PurchaseMixState>::value, "mix state is copied as bytes");

TEST(Activity, DefaultRule) {
    const int64_t as_of = 10000;
    {
        ActivityState s(as_of);
        EXPECT_EQ(s.result(), Activity::inactive);  // no event at all
    }
    {
        // 3 events in as_of-29 .. as_of, one a check-in -> active
        ActivityState s(as_of);
        s.add(as_of - 29, EventKind::other_interaction);
        s.add(as_of, EventKind::other_interaction);
        s.add(as_of - 10, EventKind::offline_checkin);
        EXPECT_EQ(s.result(), Activity::active);
        EXPECT_EQ(s.recent_events(), 3);
        EXPECT_EQ(s.recent_qualifying(), 1);
    }
    {
        // day as_of-30 is outside the 30-day window
        ActivityState s(as_of);
        s.add(as_of - 30, EventKind::purchase);
        s.add(as_of - 1, EventKind::other_interaction);
        s.add(as_of - 2, EventKind::other_interaction);
        EXPECT_EQ(s.recent_events(), 2);
        EXPECT_EQ(s.result(), Activity::neither);
    }
    {
        // 3 recent events but none qualifying
        ActivityState s(as_of);
        for (int i = 0; i < 5; ++i)
            s.add(as_of - i, EventKind::other_interaction);
        EXPECT_EQ(s.result(), Activity::neither);
    }
    {
        // last event exactly 180 days ago -> inactive; 179 -> neither
        ActivityState s(as_of);
        s.add(as_of - 180, EventKind::purchase);
        EXPECT_EQ(s.result(), Activity::inactive);
        ActivityState t(as_of);
        t.add(as_of - 179, EventKind::purchase);
        EXPECT_EQ(t.result(), Activity::neither);
    }
    {
        // events after as_of are ignored
        ActivityState s(as_of);
        for (int i = 1; i <= 5; ++i)
            s.add(as_of + i, EventKind::purchase);
        EXPECT_EQ(s.future_events(), 5);
        EXPECT_EQ(s.events(), 0);
        EXPECT_EQ(s.result(), Activity::inactive);
        EXPECT_FALSE(s.last_event_day().has_value());
    }
}

TEST(Activity, OverridableThresholds) {
    ActivityState s(100, 7);
    s.add(94, EventKind::purchase);
    s.add(93, EventKind::purchase);  // outside the 7-day window
    s.add(99, EventKind::other_interaction);
    EXPECT_EQ(s.recent_events(), 2);
    ActivityThresholds t;
    t.min_recent_events = 2;
    EXPECT_EQ(s.result(t), Activity::active);
    t.min_recent_qualifying = 2;
    EXPECT_EQ(s.result(t), Activity::neither);
    t.inactive_days = 1;  // last event 1 day ago -> inactive
    EXPECT_EQ(s.result(t), Activity::inactive);
    t.min_recent_qualifying = 0;  // active wins over inactive
    EXPECT_EQ(s.result(t), Activity::active);
    EXPECT_STREQ(to_string(Activity::neither), "neither");
}

TEST(Activity, MergeEqualsOnePass) {
    std::mt19937_64 g(7);
    for (int trial = 0; trial < 50; ++trial) {
        const int64_t as_of = 500;
        ActivityState all(as_of), a(as_of), b(as_of), empty;
        const int n = static_cast<int>(g() % 20);
        for (int i = 0; i < n; ++i) {
            const int64_t day = as_of - 250 + static_cast<int64_t>(g() % 300);
            const auto kind = static_cast<EventKind>(g() % 3);
            all.add(day, kind);
            (g() % 2 ? a : b).add(day, kind);
        }
        ActivityState m = empty;
        m.merge(a);
        m.merge(empty);
        m.merge(b);
        EXPECT_EQ(m.events(), all.events());
        EXPECT_EQ(m.recent_events(), all.recent_events());
        EXPECT_EQ(m.recent_qualifying(), all.recent_qualifying());
        EXPECT_EQ(m.future_events(), all.future_events());
        EXPECT_EQ(m.last_event_day(), all.last_event_day());
        EXPECT_EQ(m.result(), all.result());
    }
}

TEST(Activity, Errors) {
    EXPECT_EQ(kind_of([] { ActivityState s(0, 0); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([] {
                  ActivityState s;
                  s.add(1, EventKind::purchase);
              }),
              ErrorKind::internal_error);
    EXPECT_EQ(kind_of([] {
                  ActivityState a(10), b(11);
                  a.merge(b);
              }),
              ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([] {
                  ActivityState a(10, 30), b(10, 31);
                  a.merge(b);
              }),
              ErrorKind::invalid_parameter_value);
    ActivityState s(10);
    ActivityThresholds t;
    t.min_recent_events = 0;
    EXPECT_EQ(kind_of([&] { s.result(t); }), ErrorKind::invalid_parameter_value);
    t = {};
    t.min_recent_qualifying = 4;
    EXPECT_EQ(kind_of([&] { s.result(t); }), ErrorKind::invalid_parameter_value);
    t = {};
    t.inactive_days = 0;
    EXPECT_EQ(kind_of([&] { s.result(t); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { s.add(1, static_cast<EventKind>(9)); }), ErrorKind::invalid_parameter_value);
}

TEST(Activity, ExtremeDays) {
    const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
    ActivityState s(hi);
    s.add(lo, EventKind::purchase);
    EXPECT_EQ(s.recent_events(), 0);
    EXPECT_EQ(s.result(), Activity::inactive);
    ActivityState t(lo);
    t.add(lo, EventKind::purchase);
    t.add(hi, EventKind::purchase);
    EXPECT_EQ(t.recent_events(), 1);
    EXPECT_EQ(t.future_events(), 1);
}

// ------------------------------------------------------------ coupon

TEST(Coupon, LadderMapping) {
    CouponState s;
    EXPECT_FALSE(s.result().has_value());
    s.add(20, false);
    s.add(15, true);
    s.add(10, false);
    EXPECT_EQ(s.result(), 15.0);
    s.add(12, true);  // between rungs -> next rung up
    EXPECT_EQ(s.result(), 15.0);
    s.add(10, true);  // exactly on a rung
    EXPECT_EQ(s.result(), 10.0);
    EXPECT_EQ(s.offers(), 5);
    EXPECT_EQ(s.redemptions(), 3);
    EXPECT_EQ(s.min_redeemed_value(), 10.0);
    EXPECT_EQ(s.result({1, 2, 3}), std::nullopt);  // above the ladder
    EXPECT_EQ(s.result({10}), 10.0);
    s.add(0, true);
    EXPECT_EQ(s.result(), 5.0);
    EXPECT_EQ(s.result({0, 5}), 0.0);
}

TEST(Coupon, NeverRedeemed) {
    CouponState s;
    s.add(5, false);
    s.add(20, false);
    EXPECT_EQ(s.result(), std::nullopt);
    EXPECT_EQ(s.min_redeemed_value(), std::nullopt);
    CouponState above;
    above.add(25, true);
    EXPECT_EQ(above.result(), std::nullopt);
}

TEST(Coupon, MergeEqualsOnePass) {
    std::mt19937_64 g(11);
    for (int trial = 0; trial < 100; ++trial) {
        CouponState all, a, b;
        const int n = static_cast<int>(g() % 8);
        for (int i = 0; i < n; ++i) {
            const double v = static_cast<double>(g() % 25);
            const bool r = g() % 3 == 0;
            all.add(v, r);
            (g() % 2 ? a : b).add(v, r);
        }
        a.merge(b);
        EXPECT_EQ(a.offers(), all.offers());
        EXPECT_EQ(a.redemptions(), all.redemptions());
        EXPECT_EQ(a.min_redeemed_value(), all.min_redeemed_value());
        EXPECT_EQ(a.result(), all.result());
    }
}

TEST(Coupon, Errors) {
    CouponState s;
    EXPECT_EQ(kind_of([&] { s.add(kNaN, true); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([&] { s.add(-1, true); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([&] { s.add(kInf, true); }), ErrorKind::data_exception);
    EXPECT_EQ(s.offers(), 0);
    EXPECT_EQ(kind_of([&] { s.result({}); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { s.result({10, 5}); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { s.result({5, 5}); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { s.result({-5, 5}); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { s.result({5, kNaN}); }), ErrorKind::invalid_parameter_value);
}

// ------------------------------------------------------------ purchase mix

TEST(PurchaseMix, LabelsAndTies) {
    PurchaseMixState s;
    EXPECT_EQ(s.result(), std::nullopt);
    EXPECT_EQ(s.discount_share(), std::nullopt);
    // 10 lines: 5 discounted (0.5 -> meets cutoff), 3 new (0.3 -> meets cutoff)
    for (int i = 0; i < 10; ++i)
        s.add(i < 5, i >= 7);
    EXPECT_DOUBLE_EQ(*s.discount_share(), 0.5);
    EXPECT_DOUBLE_EQ(*s.new_item_share(), 0.3);
    EXPECT_EQ(s.result(), PurchaseSensitivity::both);
    s.add(false, false);  // 5/11 and 3/11
    EXPECT_EQ(s.result(), PurchaseSensitivity::neither);
    PurchaseSensitivityParams p;
    p.discount_share_cutoff = 0.45;
    EXPECT_EQ(s.result(p), PurchaseSensitivity::discount);
    p = {};
    p.new_item_share_cutoff = 0.25;
    EXPECT_EQ(s.result(p), PurchaseSensitivity::new_product);
    p = {};
    p.min_lines = 12;
    EXPECT_EQ(s.result(p), std::nullopt);
    // 1 of 10 meets a 0.1 cutoff exactly (0.1 is not exact in binary)
    PurchaseMixState t;
    for (int i = 0; i < 10; ++i)
        t.add(i == 0, false);
    p = {};
    p.discount_share_cutoff = 0.1;
    EXPECT_EQ(t.result(p), PurchaseSensitivity::discount);
    // cutoff 0 -> everyone sensitive; cutoff 1 -> only all-lines
    p.discount_share_cutoff = 1.0;
    p.new_item_share_cutoff = 0.0;
    EXPECT_EQ(t.result(p), PurchaseSensitivity::new_product);
    EXPECT_STREQ(to_string(PurchaseSensitivity::discount), "discount-sensitive");
}

TEST(PurchaseMix, MergeAndErrors) {
    PurchaseMixState a, b, all;
    for (int i = 0; i < 17; ++i) {
        const bool d = i % 3 == 0, n = i % 4 == 0;
        all.add(d, n);
        (i % 2 ? a : b).add(d, n);
    }
    a.merge(b);
    EXPECT_EQ(a.lines(), all.lines());
    EXPECT_EQ(a.discounted_lines(), all.discounted_lines());
    EXPECT_EQ(a.new_item_lines(), all.new_item_lines());
    PurchaseSensitivityParams p;
    p.discount_share_cutoff = 1.5;
    EXPECT_EQ(kind_of([&] { a.result(p); }), ErrorKind::invalid_parameter_value);
    p = {};
    p.new_item_share_cutoff = kNaN;
    EXPECT_EQ(kind_of([&] { a.result(p); }), ErrorKind::invalid_parameter_value);
    p = {};
    p.min_lines = 0;
    EXPECT_EQ(kind_of([&] { a.result(p); }), ErrorKind::invalid_parameter_value);
}

// ------------------------------------------------------------ channel

TEST(Channel, SmoothedRateHandComputed) {
    ChannelState s;
    // sms: 2/4; email: 10/40; app: 1/1
    for (int i = 0; i < 4; ++i)
        s.add("sms", i < 2);
    for (int i = 0; i < 40; ++i)
        s.add("email", i < 10);
    s.add("app", true);
    // pooled prior = 13/45; m = 10
    const double prior = 13.0 / 45.0;
    const double sms = (2 + 10 * prior) / 14, email = (10 + 10 * prior) / 50, app = (1 + 10 * prior) / 11;
    ASSERT_GT(app, sms);
    ASSERT_GT(sms, email);
    auto r = s.result();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->channel, "app");
    EXPECT_NEAR(r->smoothed_rate, app, 1e-12);
    EXPECT_EQ(r->contacts, 1);
    EXPECT_EQ(r->responses, 1);
    // m = 0: raw rates -> app (1.0)
    ChannelPreferenceParams p;
    p.prior_weight = 0;
    EXPECT_EQ(s.result(p)->channel, "app");
    // min_contacts 2 -> sms
    p = {};
    p.min_contacts = 2;
    EXPECT_EQ(s.result(p)->channel, "sms");
    // heavy smoothing towards a low population prior favours the channel with evidence:
    // app (1+100*0.01)/101 = 0.0198, sms (2+1)/104 = 0.0288, email (10+1)/140 = 0.0786
    p = {};
    p.prior_rate = 0.01;
    p.prior_weight = 100;
    EXPECT_EQ(s.result(p)->channel, "email");
    EXPECT_NEAR(s.result(p)->smoothed_rate, 11.0 / 140.0, 1e-12);
    p.min_contacts = 41;
    EXPECT_EQ(s.result(p), std::nullopt);
}

TEST(Channel, Ties) {
    // equal smoothed rates: more contacts wins
    ChannelState s;
    s.add("b", 10, 5);
    s.add("a", 20, 10);  // both raw 0.5; with pooled prior 0.5 both smooth to 0.5
    EXPECT_EQ(s.result()->channel, "a");
    ChannelState t;
    t.add("sms", 10, 5);
    t.add("email", 10, 5);
    t.add("wechat", 10, 5);
    EXPECT_EQ(t.result()->channel, "email");  // same contacts -> smallest name
    ChannelState u;
    u.add("zeta", 20, 10);
    u.add("alpha", 10, 5);
    EXPECT_EQ(u.result()->channel, "zeta");
    EXPECT_EQ(ChannelState().result(), std::nullopt);
}

TEST(Channel, MergeEqualsOnePassAndSerialize) {
    std::mt19937_64 g(3);
    const char* names[] = {"phone", "sms", "wechat", "email", "app", "store"};
    for (int trial = 0; trial < 100; ++trial) {
        ChannelState all, a, b;
        const int n = static_cast<int>(g() % 30);
        for (int i = 0; i < n; ++i) {
            const char* c = names[g() % 6];
            const bool r = unit(g) < 0.3;
            all.add(c, r);
            (g() % 2 ? a : b).add(c, r);
        }
        ChannelState m = channel_from(channel_bytes(a));
        m.merge(channel_from(channel_bytes(b)));
        auto ra = m.result(), rb = all.result();
        ASSERT_EQ(ra.has_value(), rb.has_value());
        if (ra) {
            EXPECT_EQ(ra->channel, rb->channel);
            EXPECT_EQ(ra->smoothed_rate, rb->smoothed_rate);
            EXPECT_EQ(ra->contacts, rb->contacts);
        }
        // round trip is exact
        const auto s1 = channel_bytes(all);
        const auto s2 = channel_bytes(channel_from(s1));
        EXPECT_EQ(s1, s2);
    }
    ChannelState self;
    self.add("sms", 3, 1);
    self.merge(self);
    EXPECT_EQ(self.channels()[0].contacts, 6);
}

TEST(Channel, Errors) {
    ChannelState s;
    EXPECT_EQ(kind_of([&] { s.add("", true); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { s.add(std::string(65, 'x'), true); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { s.add("sms", 0, 0); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([&] { s.add("sms", 3, 4); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([&] { s.add("sms", 3, -1); }), ErrorKind::data_exception);
    for (std::size_t i = 0; i < ChannelState::kMaxChannels; ++i)
        s.add("c" + std::to_string(i), false);
    EXPECT_EQ(kind_of([&] { s.add("one-too-many", true); }), ErrorKind::program_limit_exceeded);
    ChannelState o;
    o.add("x", std::numeric_limits<int64_t>::max(), 0);
    EXPECT_EQ(kind_of([&] { o.add("x", true); }), ErrorKind::numeric_value_out_of_range);
    EXPECT_EQ(o.channels()[0].contacts, std::numeric_limits<int64_t>::max());
    ChannelPreferenceParams p;
    p.prior_rate = 1.5;
    EXPECT_EQ(kind_of([&] { o.result(p); }), ErrorKind::invalid_parameter_value);
    p = {};
    p.prior_weight = -1;
    EXPECT_EQ(kind_of([&] { o.result(p); }), ErrorKind::invalid_parameter_value);
    p = {};
    p.min_contacts = 0;
    EXPECT_EQ(kind_of([&] { o.result(p); }), ErrorKind::invalid_parameter_value);
    // huge counts still give a finite rate
    auto r = o.result();
    ASSERT_TRUE(r);
    EXPECT_TRUE(std::isfinite(r->smoothed_rate));
}
