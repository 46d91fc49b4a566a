#include "tags.hpp"
#include "state_format.hpp"

#include <cmath>
#include <cstring>
#include <limits>

#include "no_postgres.hpp"

namespace customer_analytics {

namespace {

int64_t checked_add(int64_t a, int64_t b) {
    int64_t out = 0;
    if (__builtin_add_overflow(a, b, &out))
        throw Error(ErrorKind::numeric_value_out_of_range, "count out of range",
                    "A count exceeds the range of bigint.");
    return out;
}

void require_param(bool ok, const char* message, const std::string& detail = {}) {
    if (!ok)
        throw Error(ErrorKind::invalid_parameter_value, message, detail);
}

void require_data(bool ok, const char* message, const std::string& detail = {}) {
    if (!ok)
        throw Error(ErrorKind::data_exception, message, detail);
}

}  // namespace

// ---------------------------------------------------------------------------
// Consumption stage
// ---------------------------------------------------------------------------

const char* to_string(ConsumptionStage stage) {
    switch (stage) {
    case ConsumptionStage::prospect:
        return "prospect";
    case ConsumptionStage::new_customer:
        return "new";
    case ConsumptionStage::returning:
        return "returning";
    case ConsumptionStage::loyal:
        return "loyal";
    }
    return "unknown";
}

std::optional<ConsumptionStage> consumption_stage(const ConsumptionInput& in, int64_t as_of,
                                                  const ConsumptionParams& p) {
    require_param(p.loyal_min_purchases >= 2, "loyal_min_purchases must be at least 2");
    require_param(p.loyal_min_span_days >= 0, "loyal_min_span_days must not be negative");
    require_param(p.loyal_max_recency_days >= 0, "loyal_max_recency_days must not be negative");
    require_data(in.purchases >= 0, "number of purchases must not be negative");
    require_data(in.interactions >= 0, "number of interactions must not be negative");

    if (in.purchases == 0) {
        if (in.interactions > 0)
            return ConsumptionStage::prospect;
        return std::nullopt;
    }
    require_data(in.first_purchase_day <= in.last_purchase_day, "first purchase day is after last purchase day");
    if (in.purchases == 1) {
        require_data(in.first_purchase_day == in.last_purchase_day,
                     "a single purchase must have equal first and last purchase days");
        return ConsumptionStage::new_customer;
    }
    // Differences computed in a wider type: day numbers may be anything.
    const __int128 span = static_cast<__int128>(in.last_purchase_day) - in.first_purchase_day;
    __int128 recency = static_cast<__int128>(as_of) - in.last_purchase_day;
    if (recency < 0)
        recency = 0;
    if (in.purchases >= p.loyal_min_purchases && span >= p.loyal_min_span_days && recency <= p.loyal_max_recency_days)
        return ConsumptionStage::loyal;
    return ConsumptionStage::returning;
}

// ---------------------------------------------------------------------------
// Value band
// ---------------------------------------------------------------------------

const char* to_string(ValueBand band) {
    switch (band) {
    case ValueBand::low:
        return "low";
    case ValueBand::mid:
        return "mid";
    case ValueBand::high:
        return "high";
    }
    return "unknown";
}

ValueBand value_band(double spend, double low_cut, double high_cut) {
    require_data(std::isfinite(spend), "spend must be a finite number");
    require_param(std::isfinite(low_cut) && std::isfinite(high_cut), "value band cuts must be finite numbers");
    require_param(low_cut <= high_cut, "value band cuts must be in ascending order",
                  "The low cut must not exceed the high cut.");
    if (spend >= high_cut)
        return ValueBand::high;
    if (spend >= low_cut)
        return ValueBand::mid;
    return ValueBand::low;
}

// ---------------------------------------------------------------------------
// Activity
// ---------------------------------------------------------------------------

const char* to_string(Activity activity) {
    switch (activity) {
    case Activity::active:
        return "active";
    case Activity::inactive:
        return "inactive";
    case Activity::neither:
        return "neither";
    }
    return "unknown";
}

ActivityState::ActivityState(int64_t as_of, int64_t recent_days)
    : configured_(true), as_of_(as_of), recent_days_(recent_days) {
    require_param(recent_days >= 1, "recent window must be at least 1 day");
}

void ActivityState::add(int64_t day, EventKind kind) {
    if (!configured_)
        throw Error(ErrorKind::internal_error, "activity state used before it was configured");
    const bool qualifying = kind == EventKind::purchase || kind == EventKind::offline_checkin;
    if (kind != EventKind::purchase && kind != EventKind::offline_checkin && kind != EventKind::other_interaction)
        throw Error(ErrorKind::invalid_parameter_value, "unknown event kind");
    if (day > as_of_) {
        future_events_ = checked_add(future_events_, 1);
        return;
    }
    events_ = checked_add(events_, 1);
    if (!has_last_ || day > last_event_day_)
        last_event_day_ = day;
    has_last_ = true;
    // day <= as_of here; age fits in unsigned arithmetic.
    const uint64_t age = static_cast<uint64_t>(as_of_) - static_cast<uint64_t>(day);
    if (age < static_cast<uint64_t>(recent_days_)) {
        recent_events_ = checked_add(recent_events_, 1);
        if (qualifying)
            recent_qualifying_ = checked_add(recent_qualifying_, 1);
    }
}

void ActivityState::merge(const ActivityState& o) {
    if (!o.configured_)
        return;
    if (!configured_) {
        *this = o;
        return;
    }
    require_param(as_of_ == o.as_of_ && recent_days_ == o.recent_days_,
                  "activity states with different as_of or recent window cannot be combined",
                  "Every row of one activity aggregate must use the same as_of and recent window.");
    ActivityState m = *this;
    m.events_ = checked_add(events_, o.events_);
    m.recent_events_ = checked_add(recent_events_, o.recent_events_);
    m.recent_qualifying_ = checked_add(recent_qualifying_, o.recent_qualifying_);
    m.future_events_ = checked_add(future_events_, o.future_events_);
    if (o.has_last_ && (!has_last_ || o.last_event_day_ > last_event_day_))
        m.last_event_day_ = o.last_event_day_;
    m.has_last_ = has_last_ || o.has_last_;
    *this = m;
}

std::optional<int64_t> ActivityState::last_event_day() const {
    if (!has_last_)
        return std::nullopt;
    return last_event_day_;
}

Activity ActivityState::result(const ActivityThresholds& t) const {
    require_param(t.min_recent_events >= 1, "min_recent_events must be at least 1");
    require_param(t.min_recent_qualifying >= 0 && t.min_recent_qualifying <= t.min_recent_events,
                  "min_recent_qualifying must be between 0 and min_recent_events");
    require_param(t.inactive_days >= 1, "inactive window must be at least 1 day");
    if (recent_events_ >= t.min_recent_events && recent_qualifying_ >= t.min_recent_qualifying)
        return Activity::active;
    if (!has_last_)
        return Activity::inactive;
    const uint64_t age = static_cast<uint64_t>(as_of_) - static_cast<uint64_t>(last_event_day_);
    if (age >= static_cast<uint64_t>(t.inactive_days))
        return Activity::inactive;
    return Activity::neither;
}

// ---------------------------------------------------------------------------
// Coupon sensitivity
// ---------------------------------------------------------------------------

std::vector<double> default_coupon_ladder() { return {5.0, 10.0, 15.0, 20.0}; }

void CouponState::add(double value, bool redeemed) {
    require_data(std::isfinite(value) && value >= 0.0, "coupon value must be a finite non-negative number");
    offers_ = checked_add(offers_, 1);
    if (redeemed) {
        redemptions_ = checked_add(redemptions_, 1);
        if (!any_redeemed_ || value < min_redeemed_)
            min_redeemed_ = value;
        any_redeemed_ = true;
    }
}

void CouponState::merge(const CouponState& o) {
    CouponState m = *this;
    m.offers_ = checked_add(offers_, o.offers_);
    m.redemptions_ = checked_add(redemptions_, o.redemptions_);
    if (o.any_redeemed_ && (!any_redeemed_ || o.min_redeemed_ < min_redeemed_))
        m.min_redeemed_ = o.min_redeemed_;
    m.any_redeemed_ = any_redeemed_ || o.any_redeemed_;
    *this = m;
}

std::optional<double> CouponState::min_redeemed_value() const {
    if (!any_redeemed_)
        return std::nullopt;
    return min_redeemed_;
}

std::optional<double> CouponState::result(const std::vector<double>& ladder) const {
    require_param(!ladder.empty(), "coupon ladder must not be empty");
    for (std::size_t i = 0; i < ladder.size(); ++i) {
        require_param(std::isfinite(ladder[i]) && ladder[i] >= 0.0,
                      "coupon ladder values must be finite non-negative numbers");
        require_param(i == 0 || ladder[i - 1] < ladder[i], "coupon ladder must be strictly increasing");
    }
    if (!any_redeemed_)
        return std::nullopt;
    for (double rung : ladder)
        if (rung >= min_redeemed_)
            return rung;
    return std::nullopt;
}

// ---------------------------------------------------------------------------
// Discount vs new-product sensitivity
// ---------------------------------------------------------------------------

const char* to_string(PurchaseSensitivity s) {
    switch (s) {
    case PurchaseSensitivity::discount:
        return "discount-sensitive";
    case PurchaseSensitivity::new_product:
        return "new-product-sensitive";
    case PurchaseSensitivity::both:
        return "both";
    case PurchaseSensitivity::neither:
        return "neither";
    }
    return "unknown";
}

void PurchaseMixState::add(bool discounted, bool new_item) {
    lines_ = checked_add(lines_, 1);
    if (discounted)
        discounted_ = checked_add(discounted_, 1);
    if (new_item)
        new_items_ = checked_add(new_items_, 1);
}

void PurchaseMixState::merge(const PurchaseMixState& o) {
    PurchaseMixState m;
    m.lines_ = checked_add(lines_, o.lines_);
    m.discounted_ = checked_add(discounted_, o.discounted_);
    m.new_items_ = checked_add(new_items_, o.new_items_);
    *this = m;
}

std::optional<double> PurchaseMixState::discount_share() const {
    if (lines_ == 0)
        return std::nullopt;
    return static_cast<double>(discounted_) / static_cast<double>(lines_);
}

std::optional<double> PurchaseMixState::new_item_share() const {
    if (lines_ == 0)
        return std::nullopt;
    return static_cast<double>(new_items_) / static_cast<double>(lines_);
}

std::optional<PurchaseSensitivity> PurchaseMixState::result(const PurchaseSensitivityParams& p) const {
    auto in_unit = [](double x) { return std::isfinite(x) && x >= 0.0 && x <= 1.0; };
    require_param(in_unit(p.discount_share_cutoff), "discount share cutoff must be between 0 and 1");
    require_param(in_unit(p.new_item_share_cutoff), "new item share cutoff must be between 0 and 1");
    require_param(p.min_lines >= 1, "min_lines must be at least 1");
    if (lines_ < p.min_lines)
        return std::nullopt;
    // Shares are compared as correctly rounded doubles, so a share that
    // equals the cutoff exactly (3 of 10 lines against 0.3) meets it.
    const bool disc = *discount_share() >= p.discount_share_cutoff;
    const bool fresh = *new_item_share() >= p.new_item_share_cutoff;
    if (disc && fresh)
        return PurchaseSensitivity::both;
    if (disc)
        return PurchaseSensitivity::discount;
    if (fresh)
        return PurchaseSensitivity::new_product;
    return PurchaseSensitivity::neither;
}

// ---------------------------------------------------------------------------
// Channel preference
// ---------------------------------------------------------------------------

ChannelStats& ChannelState::slot(std::string_view channel) {
    for (auto& c : channels_)
        if (c.channel == channel)
            return c;
    require_param(!channel.empty(), "channel name must not be empty");
    require_param(channel.size() <= kMaxChannelNameBytes, "channel name is too long",
                  "A channel name may have at most " + std::to_string(kMaxChannelNameBytes) + " bytes.");
    if (channels_.size() >= kMaxChannels)
        throw Error(ErrorKind::program_limit_exceeded, "too many distinct channels",
                    "A customer may have at most " + std::to_string(kMaxChannels) + " distinct channels.",
                    "Map rare channels to a common name, such as other.");
    channels_.push_back(ChannelStats{std::string(channel), 0, 0});
    return channels_.back();
}

void ChannelState::add(std::string_view channel, bool responded) { add(channel, 1, responded ? 1 : 0); }

void ChannelState::add(std::string_view channel, int64_t contacts, int64_t responses) {
    require_data(contacts >= 1, "number of contacts must be at least 1");
    require_data(responses >= 0 && responses <= contacts,
                 "number of responses must be between 0 and the number of contacts");
    ChannelStats& c = slot(channel);
    const int64_t nc = checked_add(c.contacts, contacts);
    const int64_t nr = checked_add(c.responses, responses);
    c.contacts = nc;
    c.responses = nr;
}

void ChannelState::merge(const ChannelState& o) {
    if (&o == this) {
        ChannelState copy = o;
        merge(copy);
        return;
    }
    ChannelState m = *this;  // strong guarantee: *this untouched on error
    for (const auto& c : o.channels_)
        m.add(c.channel, c.contacts, c.responses);
    *this = std::move(m);
}

std::optional<ChannelChoice> ChannelState::result(const ChannelPreferenceParams& p) const {
    require_param(std::isfinite(p.prior_weight) && p.prior_weight >= 0.0,
                  "prior weight must be a finite non-negative number");
    require_param(p.min_contacts >= 1, "min_contacts must be at least 1");
    if (p.prior_rate)
        require_param(std::isfinite(*p.prior_rate) && *p.prior_rate >= 0.0 && *p.prior_rate <= 1.0,
                      "prior rate must be between 0 and 1");
    long double total_c = 0, total_r = 0;
    for (const auto& c : channels_) {
        total_c += c.contacts;
        total_r += c.responses;
    }
    if (total_c == 0)
        return std::nullopt;
    const long double prior = p.prior_rate ? static_cast<long double>(*p.prior_rate) : total_r / total_c;
    const long double m = p.prior_weight;

    const ChannelStats* best = nullptr;
    long double best_rate = 0;
    for (const auto& c : channels_) {
        if (c.contacts < p.min_contacts)
            continue;
        const long double rate =
            (static_cast<long double>(c.responses) + m * prior) / (static_cast<long double>(c.contacts) + m);
        bool better = false;
        if (best == nullptr || rate > best_rate)
            better = true;
        else if (rate == best_rate) {
            if (c.contacts > best->contacts)
                better = true;
            else if (c.contacts == best->contacts && c.channel < best->channel)
                better = true;
        }
        if (better) {
            best = &c;
            best_rate = rate;
        }
    }
    if (best == nullptr)
        return std::nullopt;
    return ChannelChoice{best->channel, static_cast<double>(best_rate), best->contacts, best->responses};
}

// ---------------------------------------------------------------------------
// Serialized states
// ---------------------------------------------------------------------------

void write_activity_state(StateWriter& w, const ActivityState& s, const ActivityThresholds& t) {
    if (!s.configured_)
        throw Error(ErrorKind::internal_error, "activity state written before it was configured");
    w.header(StateKind::activity_status);
    w.i64(s.as_of_);
    w.i64(s.recent_days_);
    w.i64(t.min_recent_events);
    w.i64(t.min_recent_qualifying);
    w.i64(t.inactive_days);
    w.i64(s.events_);
    w.i64(s.recent_events_);
    w.i64(s.recent_qualifying_);
    w.i64(s.future_events_);
    w.boolean(s.has_last_);
    if (s.has_last_)
        w.i64(s.last_event_day_);
}

ActivityState read_activity_state(const uint8_t* data, std::size_t size, ActivityThresholds* thresholds) {
    StateReader r(data, size, StateKind::activity_status);
    ActivityState s;
    s.configured_ = true;
    s.as_of_ = r.i64("as_of date");
    s.recent_days_ = r.i64("recent window");
    ActivityThresholds t;
    t.min_recent_events = r.i64("minimum of recent events");
    t.min_recent_qualifying = r.i64("minimum of recent qualifying events");
    t.inactive_days = r.i64("inactive window");
    s.events_ = r.i64("event count");
    s.recent_events_ = r.i64("recent event count");
    s.recent_qualifying_ = r.i64("recent qualifying event count");
    s.future_events_ = r.i64("future event count");
    s.has_last_ = r.boolean("last event flag");
    if (s.has_last_)
        s.last_event_day_ = r.i64("last event date");
    r.finish();
    if (!valid_day(s.as_of_))
        r.fail("The as_of date is outside the range of PostgreSQL dates.");
    if (s.recent_days_ < 1 || t.inactive_days < 1)
        r.fail("A window is shorter than one day.");
    if (t.min_recent_events < 1 || t.min_recent_qualifying < 0 || t.min_recent_qualifying > t.min_recent_events)
        r.fail("The minimum event counts are out of range.");
    if (s.events_ < 0 || s.recent_events_ < 0 || s.recent_qualifying_ < 0 || s.future_events_ < 0)
        r.fail("An event count is negative.");
    if (s.recent_events_ > s.events_ || s.recent_qualifying_ > s.recent_events_)
        r.fail("The recent event counts exceed the event counts they are part of.");
    if (s.has_last_ != (s.events_ > 0))
        r.fail("The last event date does not match the event count.");
    if (s.has_last_) {
        if (!valid_day(s.last_event_day_) || s.last_event_day_ > s.as_of_)
            r.fail("The last event date is after as_of or outside the range of PostgreSQL dates.");
        const bool last_is_recent = s.as_of_ - s.last_event_day_ < s.recent_days_;
        if (last_is_recent != (s.recent_events_ > 0))
            r.fail("The last event date does not match the recent event count.");
    }
    *thresholds = t;
    return s;
}

void write_coupon_state(StateWriter& w, const CouponState& s, const double* ladder, uint32_t ladder_size) {
    w.header(StateKind::coupon_sensitivity);
    w.u32(ladder_size);
    w.f64_array(ladder, ladder_size);
    w.i64(s.offers_);
    w.i64(s.redemptions_);
    w.boolean(s.any_redeemed_);
    if (s.any_redeemed_)
        w.f64(s.min_redeemed_);
}

CouponState read_coupon_state(const Arena& arena, const uint8_t* data, std::size_t size, FlatArray<double>* ladder) {
    StateReader r(data, size, StateKind::coupon_sensitivity);
    const uint32_t count = r.count("coupon ladder length", sizeof(double), kMaxCouponLadder);
    if (count == 0)
        r.fail("The coupon ladder is empty.");
    FlatArray<double> values;
    values.reserve(arena, count);
    r.finite_f64_array(values.data, count, "coupon ladder value");
    values.size = count;
    for (uint32_t i = 0; i < count; ++i)
        if (values.data[i] < 0 || (i > 0 && !(values.data[i - 1] < values.data[i])))
            r.fail("The coupon ladder is not strictly increasing from a non-negative value.");
    CouponState s;
    s.offers_ = r.i64("offer count");
    s.redemptions_ = r.i64("redemption count");
    s.any_redeemed_ = r.boolean("redemption flag");
    if (s.any_redeemed_)
        s.min_redeemed_ = r.finite_f64("smallest redeemed value");
    r.finish();
    if (s.offers_ < 0 || s.redemptions_ < 0 || s.redemptions_ > s.offers_)
        r.fail("The redemption count is not between 0 and the offer count.");
    if (s.any_redeemed_ != (s.redemptions_ > 0))
        r.fail("The smallest redeemed value does not match the redemption count.");
    if (s.any_redeemed_ && s.min_redeemed_ < 0)
        r.fail("The smallest redeemed value is negative.");
    *ladder = values;
    return s;
}

void write_purchase_mix_state(StateWriter& w, const PurchaseMixState& s, const PurchaseSensitivityParams& p) {
    w.header(StateKind::purchase_mix);
    w.f64(p.discount_share_cutoff);
    w.f64(p.new_item_share_cutoff);
    w.i64(p.min_lines);
    w.i64(s.lines());
    w.i64(s.discounted_lines());
    w.i64(s.new_item_lines());
}

PurchaseMixState read_purchase_mix_state(const uint8_t* data, std::size_t size, PurchaseSensitivityParams* params) {
    StateReader r(data, size, StateKind::purchase_mix);
    PurchaseSensitivityParams p;
    p.discount_share_cutoff = r.finite_f64("discount share cutoff");
    p.new_item_share_cutoff = r.finite_f64("new item share cutoff");
    p.min_lines = r.i64("minimum line count");
    PurchaseMixState s;
    s.lines_ = r.i64("line count");
    s.discounted_ = r.i64("discounted line count");
    s.new_items_ = r.i64("new item line count");
    r.finish();
    auto in_unit = [](double x) { return x >= 0.0 && x <= 1.0; };
    if (!in_unit(p.discount_share_cutoff) || !in_unit(p.new_item_share_cutoff))
        r.fail("A share cutoff is not between 0 and 1.");
    if (p.min_lines < 1)
        r.fail("The minimum line count is below 1.");
    if (s.lines_ < 0 || s.discounted_ < 0 || s.new_items_ < 0 || s.discounted_ > s.lines_ || s.new_items_ > s.lines_)
        r.fail("The discounted or new item line count is not between 0 and the line count.");
    *params = p;
    return s;
}

void write_channel_state(StateWriter& w, const ChannelState& s, const ChannelPreferenceParams& p) {
    w.header(StateKind::channel_preference);
    w.boolean(p.prior_rate.has_value());
    if (p.prior_rate)
        w.f64(*p.prior_rate);
    w.f64(p.prior_weight);
    w.i64(p.min_contacts);
    w.u32(static_cast<uint32_t>(s.channels().size()));
    for (const auto& c : s.channels()) {
        w.u32(static_cast<uint32_t>(c.channel.size()));
        w.bytes(c.channel.data(), c.channel.size());
        w.i64(c.contacts);
        w.i64(c.responses);
    }
}

ChannelState read_channel_state(const uint8_t* data, std::size_t size, ChannelPreferenceParams* params) {
    StateReader r(data, size, StateKind::channel_preference);
    ChannelPreferenceParams p;
    if (r.boolean("prior rate flag")) {
        p.prior_rate = r.finite_f64("prior rate");
        if (*p.prior_rate < 0 || *p.prior_rate > 1)
            r.fail("The prior rate is not between 0 and 1.");
    }
    p.prior_weight = r.finite_f64("prior weight");
    p.min_contacts = r.i64("minimum contact count");
    if (p.prior_weight < 0)
        r.fail("The prior weight is negative.");
    if (p.min_contacts < 1)
        r.fail("The minimum contact count is below 1.");
    // A channel takes at least 21 bytes: length, one name byte, two counts.
    const uint32_t count =
        r.count("channel count", sizeof(uint32_t) + 1 + 2 * sizeof(int64_t), ChannelState::kMaxChannels);
    ChannelState s;
    for (uint32_t i = 0; i < count; ++i) {
        const uint32_t length = r.count("channel name length", 1, ChannelState::kMaxChannelNameBytes);
        if (length == 0)
            r.fail("A channel name is empty.");
        const std::string_view name(reinterpret_cast<const char*>(r.raw(length, "channel name")), length);
        const int64_t contacts = r.i64("contact count");
        const int64_t responses = r.i64("response count");
        if (contacts < 1 || responses < 0 || responses > contacts)
            r.fail("A channel's response count is not between 0 and its contact count, or it has no contact.");
        for (const auto& c : s.channels())
            if (c.channel == name)
                r.fail("A channel appears twice.");
        s.add(name, contacts, responses);
    }
    r.finish();
    *params = p;
    return s;
}

}  // namespace customer_analytics
