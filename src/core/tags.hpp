// Customer tags: consumption stage, value band, activity, coupon
// sensitivity, discount / new-product sensitivity and channel preference.
//
// Every aggregate-like tag has a small mergeable state: `add(...)` feeds one
// input row, `merge(other)` combines two partial states (PostgreSQL's
// combine function; merging is exact: merge(a, b) gives the same result as
// one pass over the inputs of a and b), and `result(...)` computes the tag.
// States with fixed-size fields are trivially copyable. Each aggregate's
// state, with its parameters, is serialized by the functions at the end of
// this file (state_format.hpp).
//
// Days are int64 day numbers on any fixed epoch (only differences matter;
// the glue passes PostgreSQL dates, or timestamps converted to a date in the
// session time zone). Counts are int64; a sum that would overflow raises
// numeric_value_out_of_range.
//
// Error classes: a bad parameter (threshold, cut, ladder, fraction) raises
// invalid_parameter_value; a bad data value (NaN or infinite amount,
// inconsistent summary) raises data_exception.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arena.hpp"
#include "error.hpp"

namespace customer_analytics {

class StateWriter;

// ---------------------------------------------------------------------------
// Consumption stage
// ---------------------------------------------------------------------------

enum class ConsumptionStage {
    prospect,      // interacted, never bought
    new_customer,  // exactly one purchase
    returning,     // two or more purchases, not (yet) loyal
    loyal,         // repeat purchases sustained over a long span, still recent
};

// "prospect", "new", "returning", "loyal".
const char* to_string(ConsumptionStage stage);

// A customer's summary. `purchases` is whatever the caller counts as one
// purchase: the builder passes the number of distinct purchase days (as the
// BTYD models count frequency), so several orders on one day are one
// purchase; passing the number of orders is equally valid.
struct ConsumptionInput {
    int64_t purchases = 0;           // >= 0
    int64_t first_purchase_day = 0;  // ignored when purchases == 0
    int64_t last_purchase_day = 0;   // ignored when purchases == 0; >= first
    int64_t interactions = 0;        // >= 0; non-purchase interactions (visits, check-ins, ...)
};

// Loyal = purchases >= loyal_min_purchases (default 3)
//     AND last_purchase_day - first_purchase_day >= loyal_min_span_days (default 180)
//     AND as_of - last_purchase_day <= loyal_max_recency_days (default 365).
// Requirements: loyal_min_purchases >= 2, the two day counts >= 0
// (set loyal_max_recency_days very large to drop the recency condition).
struct ConsumptionParams {
    int64_t loyal_min_purchases = 3;
    int64_t loyal_min_span_days = 180;
    int64_t loyal_max_recency_days = 365;
};

// Stage of one customer as of day `as_of`:
//   purchases == 0, interactions > 0 -> prospect
//   purchases == 0, interactions == 0 -> no stage (std::nullopt; SQL NULL)
//   purchases == 1                    -> new
//   purchases >= 2                    -> loyal if the loyal rule holds, else returning
// A last purchase after as_of counts as recency 0 (the caller decides which
// orders to pass; the builder passes only orders on or before as_of).
// Errors: negative counts, first > last, or purchases == 1 with first != last
// raise data_exception; invalid parameters raise invalid_parameter_value.
std::optional<ConsumptionStage> consumption_stage(const ConsumptionInput& input, int64_t as_of,
                                                  const ConsumptionParams& params = {});

// ---------------------------------------------------------------------------
// Value band
// ---------------------------------------------------------------------------

enum class ValueBand { low, mid, high };

// "low", "mid", "high".
const char* to_string(ValueBand band);

// low if spend < low_cut; mid if low_cut <= spend < high_cut; high if
// spend >= high_cut. A value equal to a cut goes to the higher band (as in
// `quadrant`). low_cut == high_cut is allowed (no customer is mid).
// Default cuts when the caller has none: see default_value_band_cuts() in
// pareto.hpp (bottom 50% low, next 30% mid, top 20% high).
// Errors: NaN or infinite spend -> data_exception; non-finite cuts or
// low_cut > high_cut -> invalid_parameter_value.
ValueBand value_band(double spend, double low_cut, double high_cut);

// ---------------------------------------------------------------------------
// Activity from interactions
// ---------------------------------------------------------------------------

enum class EventKind : uint8_t {
    purchase = 0,
    offline_checkin = 1,
    other_interaction = 2,
};

enum class Activity { active, inactive, neither };

// "active", "inactive", "neither".
const char* to_string(Activity activity);

// Thresholds applied by ActivityState::result. The recent window itself
// (recent_days) is fixed when the state is created, since events are counted
// into it as they arrive.
//   active   : at least min_recent_events events (of any kind) in the recent
//              window, of which at least min_recent_qualifying are purchases
//              or offline check-ins. Defaults 3 and 1.
//   inactive : no event of any kind in the last inactive_days days, i.e.
//              days as_of - inactive_days + 1 .. as_of (default 180), which
//              includes a customer with no event at all.
//   neither  : otherwise.
// Active is checked first (with the defaults the two cannot both hold).
// Requirements: min_recent_events >= 1, 0 <= min_recent_qualifying <=
// min_recent_events, inactive_days >= 1.
struct ActivityThresholds {
    int64_t min_recent_events = 3;
    int64_t min_recent_qualifying = 1;
    int64_t inactive_days = 180;
};

// Mergeable state over one customer's events (day, kind), as of day as_of.
// The recent window is the recent_days days as_of - recent_days + 1 .. as_of
// inclusive (default 30: as_of - 29 .. as_of). Events dated after as_of are
// ignored (counted in future_events()). Every add() is one event: two
// events on one day count twice. Trivially copyable.
class ActivityState {
public:
    // An empty, unconfigured state: merging it with any state is a no-op,
    // and add() on it raises internal_error (create it with as_of first).
    ActivityState() = default;
    // recent_days >= 1, else invalid_parameter_value.
    explicit ActivityState(int64_t as_of, int64_t recent_days = 30);

    void add(int64_t day, EventKind kind);
    // Both states must have been created with the same as_of and
    // recent_days (else invalid_parameter_value), unless one is unconfigured.
    void merge(const ActivityState& other);
    Activity result(const ActivityThresholds& thresholds = {}) const;

    bool configured() const { return configured_; }
    int64_t as_of() const { return as_of_; }
    int64_t recent_days() const { return recent_days_; }
    int64_t events() const { return events_; }  // events on or before as_of
    int64_t recent_events() const { return recent_events_; }
    int64_t recent_qualifying() const { return recent_qualifying_; }
    int64_t future_events() const { return future_events_; }  // ignored events after as_of
    std::optional<int64_t> last_event_day() const;            // latest event on or before as_of

private:
    friend void write_activity_state(StateWriter&, const ActivityState&, const ActivityThresholds&);
    friend ActivityState read_activity_state(const uint8_t*, std::size_t, ActivityThresholds*);
    bool configured_ = false;
    bool has_last_ = false;
    int64_t as_of_ = 0;
    int64_t recent_days_ = 30;
    int64_t events_ = 0;
    int64_t recent_events_ = 0;
    int64_t recent_qualifying_ = 0;
    int64_t future_events_ = 0;
    int64_t last_event_day_ = 0;
};

// ---------------------------------------------------------------------------
// Coupon sensitivity
// ---------------------------------------------------------------------------

// The default ladder 5 / 10 / 15 / 20.
std::vector<double> default_coupon_ladder();

// Mergeable state over a customer's coupon offers (value, redeemed).
// Only the smallest redeemed value matters for the result, so the state is a
// few fixed fields and is trivially copyable.
class CouponState {
public:
    // value must be finite and >= 0 (else data_exception).
    void add(double value, bool redeemed);
    void merge(const CouponState& other);

    // The smallest ladder value that activated the customer: the offer with
    // the smallest redeemed value v counts at the smallest ladder value >= v
    // (a 12 redeemed on the ladder 5/10/15/20 shows the customer answers a
    // 15 but proves nothing about 10). No redeemed offer, or a smallest
    // redeemed value above the top of the ladder -> std::nullopt (SQL NULL:
    // not activated by any value on this ladder).
    // The ladder must be non-empty, finite, >= 0 and strictly increasing
    // (else invalid_parameter_value).
    std::optional<double> result(const std::vector<double>& ladder = default_coupon_ladder()) const;

    int64_t offers() const { return offers_; }
    int64_t redemptions() const { return redemptions_; }
    std::optional<double> min_redeemed_value() const;

private:
    friend void write_coupon_state(StateWriter&, const CouponState&, const double*, uint32_t);
    friend CouponState read_coupon_state(const Arena&, const uint8_t*, std::size_t, FlatArray<double>*);
    int64_t offers_ = 0;
    int64_t redemptions_ = 0;
    bool any_redeemed_ = false;
    double min_redeemed_ = 0.0;
};

// ---------------------------------------------------------------------------
// Discount vs new-product sensitivity
// ---------------------------------------------------------------------------

enum class PurchaseSensitivity { discount, new_product, both, neither };

// "discount-sensitive", "new-product-sensitive", "both", "neither".
const char* to_string(PurchaseSensitivity sensitivity);

// discount-sensitive when discount_share >= discount_share_cutoff (default
// 0.5); new-product-sensitive when new_item_share >= new_item_share_cutoff
// (default 0.3); both when both hold; neither otherwise. A share equal to
// its cutoff counts as sensitive. A customer with fewer than min_lines
// order lines (default 1) gets no label. Cutoffs must lie in [0, 1] and
// min_lines >= 1 (else invalid_parameter_value).
struct PurchaseSensitivityParams {
    double discount_share_cutoff = 0.5;
    double new_item_share_cutoff = 0.3;
    int64_t min_lines = 1;
};

// Mergeable state over a customer's order lines (discounted, new_item).
// Trivially copyable.
class PurchaseMixState {
public:
    void add(bool discounted, bool new_item);
    void merge(const PurchaseMixState& other);

    int64_t lines() const { return lines_; }
    int64_t discounted_lines() const { return discounted_; }
    int64_t new_item_lines() const { return new_items_; }
    // Shares of lines; std::nullopt when there are no lines.
    std::optional<double> discount_share() const;
    std::optional<double> new_item_share() const;
    // std::nullopt when lines() < params.min_lines.
    std::optional<PurchaseSensitivity> result(const PurchaseSensitivityParams& params = {}) const;

private:
    friend PurchaseMixState read_purchase_mix_state(const uint8_t*, std::size_t, PurchaseSensitivityParams*);
    int64_t lines_ = 0;
    int64_t discounted_ = 0;
    int64_t new_items_ = 0;
};

// ---------------------------------------------------------------------------
// Channel preference
// ---------------------------------------------------------------------------

struct ChannelStats {
    std::string channel;
    int64_t contacts = 0;
    int64_t responses = 0;
};

// Smoothed response rate of a channel:
//   (responses + prior_weight * prior_rate) / (contacts + prior_weight).
// prior_rate: a given rate in [0, 1] (e.g. the population's response rate),
// or, when absent (the default), the customer's own pooled rate over all
// channels (total responses / total contacts). prior_weight (m) >= 0,
// default 10. Channels with fewer than min_contacts contacts (default 1,
// must be >= 1) are not eligible.
struct ChannelPreferenceParams {
    std::optional<double> prior_rate;
    double prior_weight = 10.0;
    int64_t min_contacts = 1;
};

struct ChannelChoice {
    std::string channel;
    double smoothed_rate = 0.0;
    int64_t contacts = 0;
    int64_t responses = 0;
};

// Mergeable state over a customer's contacts (channel, responded). Holds at
// most kMaxChannels distinct channels (more raises program_limit_exceeded)
// with names of 1..kMaxChannelNameBytes bytes, compared byte-wise (other
// names raise invalid_parameter_value).
// Not trivially copyable.
class ChannelState {
public:
    static constexpr std::size_t kMaxChannels = 64;
    static constexpr std::size_t kMaxChannelNameBytes = 64;

    void add(std::string_view channel, bool responded);
    // Pre-aggregated form: contacts >= 1, 0 <= responses <= contacts.
    void add(std::string_view channel, int64_t contacts, int64_t responses);
    void merge(const ChannelState& other);

    // The channel with the highest smoothed rate. Ties (equal smoothed
    // rates) go to the channel with more contacts, then to the
    // byte-wise smallest name. std::nullopt when no channel is eligible.
    std::optional<ChannelChoice> result(const ChannelPreferenceParams& params = {}) const;

    // Channels in first-seen order.
    const std::vector<ChannelStats>& channels() const { return channels_; }

private:
    ChannelStats& slot(std::string_view channel);
    std::vector<ChannelStats> channels_;
};

// ---------------------------------------------------------------------------
// Serialized states (state_format.hpp)
// ---------------------------------------------------------------------------
// Each holds the aggregate's parameters, checked on reading as its first row
// checks them, and its counters, checked against each other; the readers
// raise invalid_binary_representation for anything else.

// activity_status: as_of, recent_days, the thresholds, the counters and the
// last event day (when there is an event on or before as_of).
void write_activity_state(StateWriter& writer, const ActivityState& state, const ActivityThresholds& thresholds);
ActivityState read_activity_state(const uint8_t* data, std::size_t size, ActivityThresholds* thresholds);

// coupon_sensitivity: the ladder (1..kMaxCouponLadder values, finite, >= 0,
// strictly increasing; read into *ladder in arena memory), offers,
// redemptions and the smallest redeemed value.
constexpr std::size_t kMaxCouponLadder = 1000;
void write_coupon_state(StateWriter& writer, const CouponState& state, const double* ladder, uint32_t ladder_size);
CouponState read_coupon_state(const Arena& arena, const uint8_t* data, std::size_t size, FlatArray<double>* ladder);

// purchase_mix: the cutoffs and min_lines, then the line counts.
void write_purchase_mix_state(StateWriter& writer, const PurchaseMixState& state,
                              const PurchaseSensitivityParams& params);
PurchaseMixState read_purchase_mix_state(const uint8_t* data, std::size_t size, PurchaseSensitivityParams* params);

// channel_preference: the prior and min_contacts, then each channel (name,
// contacts, responses) in first-seen order.
void write_channel_state(StateWriter& writer, const ChannelState& state, const ChannelPreferenceParams& params);
ChannelState read_channel_state(const uint8_t* data, std::size_t size, ChannelPreferenceParams* params);

}  // namespace customer_analytics
