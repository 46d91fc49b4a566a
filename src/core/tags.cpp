#include "tags.hpp"
#include "byte_io.hpp"

#include <cmath>
#include <cstring>
#include <limits>

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
        case ConsumptionStage::prospect: return "prospect";
        case ConsumptionStage::new_customer: return "new";
        case ConsumptionStage::returning: return "returning";
        case ConsumptionStage::loyal: return "loyal";
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
        if (in.interactions > 0) return ConsumptionStage::prospect;
        return std::nullopt;
    }
    require_data(in.first_purchase_day <= in.last_purchase_day,
                 "first purchase day is after last purchase day");
    if (in.purchases == 1) {
        require_data(in.first_purchase_day == in.last_purchase_day,
                     "a single purchase must have equal first and last purchase days");
        return ConsumptionStage::new_customer;
    }
    // Differences computed in a wider type: day numbers may be anything.
    const __int128 span = static_cast<__int128>(in.last_purchase_day) - in.first_purchase_day;
    __int128 recency = static_cast<__int128>(as_of) - in.last_purchase_day;
    if (recency < 0) recency = 0;
    if (in.purchases >= p.loyal_min_purchases && span >= p.loyal_min_span_days &&
        recency <= p.loyal_max_recency_days)
        return ConsumptionStage::loyal;
    return ConsumptionStage::returning;
}

// ---------------------------------------------------------------------------
// Value band
// ---------------------------------------------------------------------------

const char* to_string(ValueBand band) {
    switch (band) {
        case ValueBand::low: return "low";
        case ValueBand::mid: return "mid";
        case ValueBand::high: return "high";
    }
    return "unknown";
}

ValueBand value_band(double spend, double low_cut, double high_cut) {
    require_data(std::isfinite(spend), "spend must be a finite number");
    require_param(std::isfinite(low_cut) && std::isfinite(high_cut), "value band cuts must be finite numbers");
    require_param(low_cut <= high_cut, "value band cuts must be in ascending order",
                  "The low cut must not exceed the high cut.");
    if (spend >= high_cut) return ValueBand::high;
    if (spend >= low_cut) return ValueBand::mid;
    return ValueBand::low;
}

// ---------------------------------------------------------------------------
// Activity
// ---------------------------------------------------------------------------

const char* to_string(Activity activity) {
    switch (activity) {
        case Activity::active: return "active";
        case Activity::inactive: return "inactive";
        case Activity::neither: return "neither";
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
    if (kind != EventKind::purchase && kind != EventKind::offline_checkin &&
        kind != EventKind::other_interaction)
        throw Error(ErrorKind::invalid_parameter_value, "unknown event kind");
    if (day > as_of_) {
        future_events_ = checked_add(future_events_, 1);
        return;
    }
    events_ = checked_add(events_, 1);
    if (!has_last_ || day > last_event_day_) last_event_day_ = day;
    has_last_ = true;
    // day <= as_of here; age fits in unsigned arithmetic.
    const uint64_t age = static_cast<uint64_t>(as_of_) - static_cast<uint64_t>(day);
    if (age < static_cast<uint64_t>(recent_days_)) {
        recent_events_ = checked_add(recent_events_, 1);
        if (qualifying) recent_qualifying_ = checked_add(recent_qualifying_, 1);
    }
}

void ActivityState::merge(const ActivityState& o) {
    if (!o.configured_) return;
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
    if (o.has_last_ && (!has_last_ || o.last_event_day_ > last_event_day_)) m.last_event_day_ = o.last_event_day_;
    m.has_last_ = has_last_ || o.has_last_;
    *this = m;
}

std::optional<int64_t> ActivityState::last_event_day() const {
    if (!has_last_) return std::nullopt;
    return last_event_day_;
}

Activity ActivityState::result(const ActivityThresholds& t) const {
    require_param(t.min_recent_events >= 1, "min_recent_events must be at least 1");
    require_param(t.min_recent_qualifying >= 0 && t.min_recent_qualifying <= t.min_recent_events,
                  "min_recent_qualifying must be between 0 and min_recent_events");
    require_param(t.inactive_days >= 1, "inactive window must be at least 1 day");
    if (recent_events_ >= t.min_recent_events && recent_qualifying_ >= t.min_recent_qualifying)
        return Activity::active;
    if (!has_last_) return Activity::inactive;
    const uint64_t age = static_cast<uint64_t>(as_of_) - static_cast<uint64_t>(last_event_day_);
    if (age >= static_cast<uint64_t>(t.inactive_days)) return Activity::inactive;
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
        if (!any_redeemed_ || value < min_redeemed_) min_redeemed_ = value;
        any_redeemed_ = true;
    }
}

void CouponState::merge(const CouponState& o) {
    CouponState m = *this;
    m.offers_ = checked_add(offers_, o.offers_);
    m.redemptions_ = checked_add(redemptions_, o.redemptions_);
    if (o.any_redeemed_ && (!any_redeemed_ || o.min_redeemed_ < min_redeemed_)) m.min_redeemed_ = o.min_redeemed_;
    m.any_redeemed_ = any_redeemed_ || o.any_redeemed_;
    *this = m;
}

std::optional<double> CouponState::min_redeemed_value() const {
    if (!any_redeemed_) return std::nullopt;
    return min_redeemed_;
}

std::optional<double> CouponState::result(const std::vector<double>& ladder) const {
    require_param(!ladder.empty(), "coupon ladder must not be empty");
    for (std::size_t i = 0; i < ladder.size(); ++i) {
        require_param(std::isfinite(ladder[i]) && ladder[i] >= 0.0,
                      "coupon ladder values must be finite non-negative numbers");
        require_param(i == 0 || ladder[i - 1] < ladder[i], "coupon ladder must be strictly increasing");
    }
    if (!any_redeemed_) return std::nullopt;
    for (double rung : ladder)
        if (rung >= min_redeemed_) return rung;
    return std::nullopt;
}

// ---------------------------------------------------------------------------
// Discount vs new-product sensitivity
// ---------------------------------------------------------------------------

const char* to_string(PurchaseSensitivity s) {
    switch (s) {
        case PurchaseSensitivity::discount: return "discount-sensitive";
        case PurchaseSensitivity::new_product: return "new-product-sensitive";
        case PurchaseSensitivity::both: return "both";
        case PurchaseSensitivity::neither: return "neither";
    }
    return "unknown";
}

void PurchaseMixState::add(bool discounted, bool new_item) {
    lines_ = checked_add(lines_, 1);
    if (discounted) discounted_ = checked_add(discounted_, 1);
    if (new_item) new_items_ = checked_add(new_items_, 1);
}

void PurchaseMixState::merge(const PurchaseMixState& o) {
    PurchaseMixState m;
    m.lines_ = checked_add(lines_, o.lines_);
    m.discounted_ = checked_add(discounted_, o.discounted_);
    m.new_items_ = checked_add(new_items_, o.new_items_);
    *this = m;
}

std::optional<double> PurchaseMixState::discount_share() const {
    if (lines_ == 0) return std::nullopt;
    return static_cast<double>(discounted_) / static_cast<double>(lines_);
}

std::optional<double> PurchaseMixState::new_item_share() const {
    if (lines_ == 0) return std::nullopt;
    return static_cast<double>(new_items_) / static_cast<double>(lines_);
}

std::optional<PurchaseSensitivity> PurchaseMixState::result(const PurchaseSensitivityParams& p) const {
    auto in_unit = [](double x) { return std::isfinite(x) && x >= 0.0 && x <= 1.0; };
    require_param(in_unit(p.discount_share_cutoff), "discount share cutoff must be between 0 and 1");
    require_param(in_unit(p.new_item_share_cutoff), "new item share cutoff must be between 0 and 1");
    require_param(p.min_lines >= 1, "min_lines must be at least 1");
    if (lines_ < p.min_lines) return std::nullopt;
    // Shares are compared as correctly rounded doubles, so a share that
    // equals the cutoff exactly (3 of 10 lines against 0.3) meets it.
    const bool disc = *discount_share() >= p.discount_share_cutoff;
    const bool fresh = *new_item_share() >= p.new_item_share_cutoff;
    if (disc && fresh) return PurchaseSensitivity::both;
    if (disc) return PurchaseSensitivity::discount;
    if (fresh) return PurchaseSensitivity::new_product;
    return PurchaseSensitivity::neither;
}

// ---------------------------------------------------------------------------
// Channel preference
// ---------------------------------------------------------------------------

ChannelStats& ChannelState::slot(std::string_view channel) {
    for (auto& c : channels_)
        if (c.channel == channel) return c;
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

void ChannelState::add(std::string_view channel, bool responded) {
    add(channel, 1, responded ? 1 : 0);
}

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
    for (const auto& c : o.channels_) m.add(c.channel, c.contacts, c.responses);
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
    if (total_c == 0) return std::nullopt;
    const long double prior = p.prior_rate ? static_cast<long double>(*p.prior_rate) : total_r / total_c;
    const long double m = p.prior_weight;

    const ChannelStats* best = nullptr;
    long double best_rate = 0;
    for (const auto& c : channels_) {
        if (c.contacts < p.min_contacts) continue;
        const long double rate = (static_cast<long double>(c.responses) + m * prior) /
                                 (static_cast<long double>(c.contacts) + m);
        bool better = false;
        if (best == nullptr || rate > best_rate) better = true;
        else if (rate == best_rate) {
            if (c.contacts > best->contacts) better = true;
            else if (c.contacts == best->contacts && c.channel < best->channel) better = true;
        }
        if (better) {
            best = &c;
            best_rate = rate;
        }
    }
    if (best == nullptr) return std::nullopt;
    return ChannelChoice{best->channel, static_cast<double>(best_rate), best->contacts, best->responses};
}

std::vector<uint8_t> ChannelState::serialize() const {
    std::vector<uint8_t> out;
    put_bytes(out, "CACH", 4);
    put_u8(out, 1);
    put_u32(out, static_cast<uint32_t>(channels_.size()));
    for (const auto& c : channels_) {
        put_u32(out, static_cast<uint32_t>(c.channel.size()));
        put_bytes(out, c.channel.data(), c.channel.size());
        put_u64(out, static_cast<uint64_t>(c.contacts));
        put_u64(out, static_cast<uint64_t>(c.responses));
    }
    return out;
}

ChannelState ChannelState::deserialize(const uint8_t* data, std::size_t size) {
    ByteReader r(data, size, "channel preference state");
    if (r.bytes(4) != "CACH") r.fail("bad magic");
    if (r.u8() != 1) r.fail("unknown version");
    const uint32_t count = r.u32();
    if (count > kMaxChannels) r.fail("too many channels");
    ChannelState s;
    s.channels_.reserve(count);
    for (uint32_t i = 0; i < count; ++i) {
        const uint32_t len = r.u32();
        if (len == 0 || len > kMaxChannelNameBytes) r.fail("bad channel name length");
        std::string name(r.bytes(len));
        const auto contacts = static_cast<int64_t>(r.u64());
        const auto responses = static_cast<int64_t>(r.u64());
        if (contacts < 1 || responses < 0 || responses > contacts) r.fail("inconsistent counts");
        for (const auto& c : s.channels_)
            if (c.channel == name) r.fail("duplicate channel");
        s.channels_.push_back(ChannelStats{std::move(name), contacts, responses});
    }
    r.finish();
    return s;
}

}  // namespace customer_analytics
