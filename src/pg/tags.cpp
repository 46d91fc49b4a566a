// Customer tags: consumption_stage, value_band, activity_status,
// coupon_sensitivity, purchase_mix and channel_preference.
//
// Aggregate parameters (as_of, thresholds, ladders, priors) are arguments on
// every row; the first row fixes them in the state and every later row (and
// every partial state being combined) must bring the same values.
//
// Memory: the activity, coupon and purchase-mix states are flat structs in
// the aggregate memory context (the coupon ladder is a FlatArray there). The
// channel state keeps the core's ChannelState, which owns std::string names,
// on the C++ heap (heap_state.hpp). It is small (at most 64 channels of at
// most 64 bytes), so keeping it outside work_mem accounting costs little.
#include <vector>

#include "tags.hpp"

#include "analytics_state.hpp"
#include "barrier.hpp"
#include "convert.hpp"
#include "flat_state.hpp"
#include "heap_state.hpp"
#include "rfm_types.hpp"

namespace ca = customer_analytics;
using ca::pg::arena_for;
using ca::pg::DateArgument;
using ca::pg::day_argument;
using ca::pg::require_argument;
using ca::pg::require_same;

namespace {

text* text_of(const char* value) { return cstring_to_text(value); }

// ---------------------------------------------------------- consumption

// Trailing optional arguments (interactions, loyal_min_purchases,
// loyal_min_span_days, loyal_max_recency_days) starting at `first`; false
// when one is NULL.
bool consumption_options(FunctionCallInfo fcinfo, int first, std::int64_t* interactions,
                         ca::ConsumptionParams* params) {
    for (int i = first; i < first + 4; ++i)
        if (PG_ARGISNULL(i))
            return false;
    *interactions = PG_GETARG_INT64(first);
    params->loyal_min_purchases = PG_GETARG_INT32(first + 1);
    params->loyal_min_span_days = PG_GETARG_INT32(first + 2);
    params->loyal_max_recency_days = PG_GETARG_INT32(first + 3);
    return true;
}

Datum stage_datum(FunctionCallInfo fcinfo, const ca::ConsumptionInput& input, std::int64_t as_of,
                  const ca::ConsumptionParams& params) {
    const std::optional<ca::ConsumptionStage> stage = ca::consumption_stage(input, as_of, params);
    if (!stage)
        PG_RETURN_NULL();
    PG_RETURN_TEXT_P(text_of(ca::to_string(*stage)));
}

}  // namespace

// consumption_stage(purchases, first_purchase, last_purchase, as_of,
// interactions, loyal_min_purchases, loyal_min_span_days,
// loyal_max_recency_days): not STRICT, because the purchase dates are NULL
// for a customer without purchases; any other NULL gives NULL.
CA_FUNCTION(ca_consumption_stage) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(3))
        PG_RETURN_NULL();
    ca::ConsumptionInput input;
    ca::ConsumptionParams params;
    if (!consumption_options(fcinfo, 4, &input.interactions, &params))
        PG_RETURN_NULL();
    input.purchases = PG_GETARG_INT64(0);
    const std::int32_t as_of = day_argument<DateArgument::date>(fcinfo, 3, "as_of");
    if (input.purchases > 0) {
        if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
            PG_RETURN_NULL();
        input.first_purchase_day = day_argument<DateArgument::date>(fcinfo, 1, "first_purchase");
        input.last_purchase_day = day_argument<DateArgument::date>(fcinfo, 2, "last_purchase");
    }
    return stage_datum(fcinfo, input, as_of, params);
}

// consumption_stage(summary rfm_summary, as_of, interactions, ...): purchases
// are the summary's purchase_days (several orders on one day are one
// purchase), first and last purchase its first_order and last_order.
CA_FUNCTION(ca_consumption_stage_summary) {
    ca::ConsumptionInput input;
    ca::ConsumptionParams params;
    if (!consumption_options(fcinfo, 2, &input.interactions, &params))
        PG_RETURN_NULL();
    const std::int32_t as_of = day_argument<DateArgument::date>(fcinfo, 1, "as_of");
    HeapTupleHeader summary = PG_GETARG_HEAPTUPLEHEADER(0);
    const ca::pg::CompositeReader* reader = ca::pg::composite_reader(fcinfo, &fcinfo->flinfo->fn_extra, summary);
    bool first_null = false, last_null = false, days_null = false;
    const Datum first = ca::pg::composite_field(reader, summary, ca::pg::summary_first_order + 1, &first_null);
    const Datum last = ca::pg::composite_field(reader, summary, ca::pg::summary_last_order + 1, &last_null);
    const Datum days = ca::pg::composite_field(reader, summary, ca::pg::summary_purchase_days + 1, &days_null);
    input.purchases = days_null ? 0 : DatumGetInt64(days);
    if (input.purchases > 0) {
        if (first_null || last_null)
            throw ca::Error(ca::ErrorKind::data_exception, "summary with purchases has no first or last order");
        input.first_purchase_day = ca::pg::finite_date(DatumGetDateADT(first), "first_order");
        input.last_purchase_day = ca::pg::finite_date(DatumGetDateADT(last), "last_order");
        // One purchase day: first and last order are that day.
    }
    return stage_datum(fcinfo, input, as_of, params);
}

// ----------------------------------------------------------- value band

CA_FUNCTION(ca_value_band) {
    const ca::ValueBand band = ca::value_band(PG_GETARG_FLOAT8(0), PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2));
    PG_RETURN_TEXT_P(text_of(ca::to_string(band)));
}

// value_band(spend, cuts float8[2]): the cuts as value_band_cuts() returns them.
CA_FUNCTION(ca_value_band_array) {
    int count = 0;
    const double* cuts = ca::pg::float8_array(PG_GETARG_ARRAYTYPE_P(1), &count, "cuts", ca::pg::kMaxParameterElements);
    if (count != 2)
        throw ca::Error(ca::ErrorKind::array_subscript_error, "cuts must have exactly 2 elements",
                        "The cuts are {low_cut, high_cut}, as value_band_cuts() returns them.");
    const ca::ValueBand band = ca::value_band(PG_GETARG_FLOAT8(0), cuts[0], cuts[1]);
    PG_RETURN_TEXT_P(text_of(ca::to_string(band)));
}

// -------------------------------------------------------------- activity

namespace {

struct ActivityParams {
    std::int64_t as_of;
    std::int64_t recent_days;
    std::int64_t min_recent_events;
    std::int64_t min_recent_qualifying;
    std::int64_t inactive_days;
};

struct ActivityAggState {
    ActivityParams params;
    ca::ActivityState core;
};

constexpr ca::pg::FlatAggregate kActivity{"activity_status"};

ca::ActivityThresholds thresholds_of(const ActivityParams& p) {
    ca::ActivityThresholds t;
    t.min_recent_events = p.min_recent_events;
    t.min_recent_qualifying = p.min_recent_qualifying;
    t.inactive_days = p.inactive_days;
    return t;
}

// Raises invalid_parameter_value for bad windows or thresholds.
void validate_activity(const ActivityParams& p) {
    const ca::ActivityState probe(p.as_of, p.recent_days);
    probe.result(thresholds_of(p));
}

// 'purchase' and 'checkin' (or 'offline_checkin') qualify; every other kind
// is an ordinary interaction.
ca::EventKind event_kind(text* kind) {
    const char* data = VARDATA_ANY(kind);
    const std::size_t length = VARSIZE_ANY_EXHDR(kind);
    auto is = [&](const char* name) { return std::strlen(name) == length && std::memcmp(data, name, length) == 0; };
    if (is("purchase"))
        return ca::EventKind::purchase;
    if (is("checkin") || is("offline_checkin"))
        return ca::EventKind::offline_checkin;
    return ca::EventKind::other_interaction;
}

}  // namespace

// activity_status(event_date, kind, as_of [, recent_days, min_recent_events,
// min_recent_qualifying, inactive_days]).
CA_FUNCTION(ca_activity_status_transfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "activity_status");
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<ActivityAggState*>(PG_GETARG_POINTER(0));
    ActivityParams params{0, 30, 3, 1, 180};
    require_argument(fcinfo, 3, "as_of");
    params.as_of = ca::pg::finite_date(PG_GETARG_DATEADT(3), "as_of");
    if (PG_NARGS() > 4) {
        static const char* const names[] = {"recent_days", "min_recent_events", "min_recent_qualifying",
                                            "inactive_days"};
        std::int64_t* fields[] = {&params.recent_days, &params.min_recent_events, &params.min_recent_qualifying,
                                  &params.inactive_days};
        for (int i = 0; i < 4; ++i) {
            require_argument(fcinfo, 4 + i, names[i]);
            *fields[i] = PG_GETARG_INT32(4 + i);
        }
    }
    if (state == nullptr) {
        validate_activity(params);
        state = ca::pg::new_flat_state<ActivityAggState>(context);
        state->params = params;
        state->core = ca::ActivityState(params.as_of, params.recent_days);
    } else {
        require_same(state->params, params, "activity_status");
    }
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
        PG_RETURN_POINTER(state);
    const std::int32_t day = ca::pg::finite_date(PG_GETARG_DATEADT(1), "event_date");
    state->core.add(day, event_kind(PG_GETARG_TEXT_PP(2)));
    PG_RETURN_POINTER(state);
}

CA_FUNCTION(ca_activity_status_combinefn) { return ca::pg::flat_combine_params<ActivityAggState>(fcinfo, kActivity); }

namespace {

void read_activity(const ca::pg::StateBytes& bytes, ActivityAggState* state) {
    ca::ActivityThresholds thresholds;
    state->core = ca::read_activity_state(bytes.data, bytes.size, &thresholds);
    state->params = ActivityParams{state->core.as_of(), state->core.recent_days(), thresholds.min_recent_events,
                                   thresholds.min_recent_qualifying, thresholds.inactive_days};
}

}  // namespace

namespace {

// The serialized form of the state, for analytics_state and for 0.1.0's
// serialize and deserialize functions.
void write_Activity_state_object(ca::StateWriter& writer, void* memory) {
    const auto* state = static_cast<const ActivityAggState*>(memory);
    ca::write_activity_state(writer, state->core, thresholds_of(state->params));
}

void* read_Activity_state_object(MemoryContext context, const ca::pg::StateBytes& bytes) {
    auto* state = ca::pg::new_flat_state<ActivityAggState>(context);
    read_activity(bytes, state);
    return state;
}

}  // namespace

namespace customer_analytics::pg {
extern const StateFamily kActivityFamily{CA_STATE_METHODS,           "activity_status",
                                         StateKind::activity_status, StateKind::activity_status,
                                         read_Activity_state_object, write_Activity_state_object};
}  // namespace customer_analytics::pg

CA_FUNCTION(ca_activity_status_serialfn) {
    PG_RETURN_BYTEA_P(ca::pg::state_bytea(
        [fcinfo](ca::StateWriter& writer) { write_Activity_state_object(writer, PG_GETARG_POINTER(0)); }));
}

CA_FUNCTION(ca_activity_status_deserialfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "activity_status_deserialize");
    PG_RETURN_POINTER(read_Activity_state_object(context, ca::pg::state_argument(fcinfo, 0)));
}

CA_FUNCTION(ca_activity_status_finalfn) {
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    const auto* state = reinterpret_cast<const ActivityAggState*>(PG_GETARG_POINTER(0));
    const ca::Activity activity = state->core.result(thresholds_of(state->params));
    PG_RETURN_TEXT_P(text_of(ca::to_string(activity)));
}

// ---------------------------------------------------- coupon sensitivity

namespace {

constexpr int kMaxLadder = static_cast<int>(ca::kMaxCouponLadder);
const double kDefaultLadder[] = {5.0, 10.0, 15.0, 20.0};

struct CouponAggState {
    ca::CouponState core;
    ca::FlatArray<double> ladder;
};

// Raises invalid_parameter_value unless the ladder is non-empty, finite,
// >= 0 and strictly increasing (the core's rule) and not too long.
void validate_ladder(const double* ladder, int count) {
    if (count > kMaxLadder)
        throw ca::Error(ca::ErrorKind::invalid_parameter_value, "coupon ladder must have at most 1000 values");
    const std::vector<double> values(ladder, ladder + count);
    ca::CouponState().result(values);
}

bool ladder_result(const ca::CouponState& state, const double* ladder, int count, double* out) {
    const std::vector<double> values(ladder, ladder + count);
    const std::optional<double> rung = state.result(values);
    if (rung)
        *out = *rung;
    return rung.has_value();
}

// The ladder argument, parsed and validated once per distinct value.
const ca::pg::CachedFloat8Array* ladder_argument(FunctionCallInfo fcinfo, int argument) {
    return ca::pg::cached_float8_array(fcinfo, argument, "ladder", validate_ladder);
}

CouponAggState* new_coupon_state(MemoryContext context, const double* ladder, int count) {
    auto* state = new (MemoryContextAllocZero(context, sizeof(CouponAggState))) CouponAggState();
    state->ladder.append(arena_for(context), ladder, static_cast<std::uint32_t>(count));
    return state;
}

}  // namespace

// coupon_sensitivity(value, redeemed [, ladder]).
CA_FUNCTION(ca_coupon_sensitivity_transfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "coupon_sensitivity");
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<CouponAggState*>(PG_GETARG_POINTER(0));
    const double* ladder = kDefaultLadder;
    int count = 4;
    if (PG_NARGS() > 3) {
        require_argument(fcinfo, 3, "ladder");
        const ca::pg::CachedFloat8Array* parsed = ladder_argument(fcinfo, 3);
        ladder = parsed->values;
        count = parsed->count;
    }
    if (state == nullptr)
        state = new_coupon_state(context, ladder, count);
    else
        ca::pg::require_same_values(state->ladder, ladder, count, "coupon_sensitivity");
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
        PG_RETURN_POINTER(state);
    state->core.add(PG_GETARG_FLOAT8(1), PG_GETARG_BOOL(2));
    PG_RETURN_POINTER(state);
}

CA_FUNCTION(ca_coupon_sensitivity_combinefn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "coupon_sensitivity_combine");
    if (PG_ARGISNULL(1))
        return ca::pg::keep_first_state(fcinfo);
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<CouponAggState*>(PG_GETARG_POINTER(0));
    const auto* other = reinterpret_cast<const CouponAggState*>(PG_GETARG_POINTER(1));
    if (state == nullptr)
        state = new_coupon_state(context, other->ladder.data, static_cast<int>(other->ladder.size));
    else
        ca::pg::require_same_values(state->ladder, other->ladder.data, static_cast<int>(other->ladder.size),
                                    "coupon_sensitivity");
    state->core.merge(other->core);
    PG_RETURN_POINTER(state);
}

namespace {

// The serialized form of the state, for analytics_state and for 0.1.0's
// serialize and deserialize functions.
void write_Coupon_state_object(ca::StateWriter& writer, void* memory) {
    const auto* state = static_cast<const CouponAggState*>(memory);
    ca::write_coupon_state(writer, state->core, state->ladder.data, state->ladder.size);
}

void* read_Coupon_state_object(MemoryContext context, const ca::pg::StateBytes& bytes) {
    auto* state = new (MemoryContextAllocZero(context, sizeof(CouponAggState))) CouponAggState();
    state->core = ca::read_coupon_state(arena_for(context), bytes.data, bytes.size, &state->ladder);
    return state;
}

}  // namespace

namespace customer_analytics::pg {
extern const StateFamily kCouponFamily{
    CA_STATE_METHODS,         "coupon_sensitivity",     StateKind::coupon_sensitivity, StateKind::coupon_sensitivity,
    read_Coupon_state_object, write_Coupon_state_object};
}  // namespace customer_analytics::pg

CA_FUNCTION(ca_coupon_sensitivity_serialfn) {
    PG_RETURN_BYTEA_P(ca::pg::state_bytea(
        [fcinfo](ca::StateWriter& writer) { write_Coupon_state_object(writer, PG_GETARG_POINTER(0)); }));
}

CA_FUNCTION(ca_coupon_sensitivity_deserialfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "coupon_sensitivity_deserialize");
    PG_RETURN_POINTER(read_Coupon_state_object(context, ca::pg::state_argument(fcinfo, 0)));
}

CA_FUNCTION(ca_coupon_sensitivity_finalfn) {
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    const auto* state = reinterpret_cast<const CouponAggState*>(PG_GETARG_POINTER(0));
    double rung = 0;
    if (!ladder_result(state->core, state->ladder.data, static_cast<int>(state->ladder.size), &rung))
        PG_RETURN_NULL();
    PG_RETURN_FLOAT8(rung);
}

// ---------------------------------------------------------- purchase mix

namespace {

struct MixParams {
    double discount_share_cutoff;
    double new_item_share_cutoff;
    std::int64_t min_lines;
};

struct MixAggState {
    MixParams params;
    ca::PurchaseMixState core;
};

constexpr ca::pg::FlatAggregate kMix{"purchase_mix"};

ca::PurchaseSensitivityParams mix_params(const MixParams& p) {
    ca::PurchaseSensitivityParams out;
    out.discount_share_cutoff = p.discount_share_cutoff;
    out.new_item_share_cutoff = p.new_item_share_cutoff;
    out.min_lines = p.min_lines;
    return out;
}

}  // namespace

// purchase_mix(discounted, new_item [, discount_share_cutoff,
// new_item_share_cutoff, min_lines]).
CA_FUNCTION(ca_purchase_mix_transfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "purchase_mix");
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<MixAggState*>(PG_GETARG_POINTER(0));
    MixParams params{0.5, 0.3, 1};
    if (PG_NARGS() > 3) {
        require_argument(fcinfo, 3, "discount_share_cutoff");
        require_argument(fcinfo, 4, "new_item_share_cutoff");
        require_argument(fcinfo, 5, "min_lines");
        params.discount_share_cutoff = PG_GETARG_FLOAT8(3);
        params.new_item_share_cutoff = PG_GETARG_FLOAT8(4);
        params.min_lines = PG_GETARG_INT64(5);
        if (params.discount_share_cutoff == 0.0)
            params.discount_share_cutoff = 0.0;  // -0 and 0 are the same parameter
        if (params.new_item_share_cutoff == 0.0)
            params.new_item_share_cutoff = 0.0;
    }
    if (state == nullptr) {
        ca::PurchaseMixState().result(mix_params(params));  // validates the parameters
        state = ca::pg::new_flat_state<MixAggState>(context);
        state->params = params;
    } else {
        require_same(state->params, params, "purchase_mix");
    }
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
        PG_RETURN_POINTER(state);
    state->core.add(PG_GETARG_BOOL(1), PG_GETARG_BOOL(2));
    PG_RETURN_POINTER(state);
}

CA_FUNCTION(ca_purchase_mix_combinefn) { return ca::pg::flat_combine_params<MixAggState>(fcinfo, kMix); }

namespace {

// The serialized form of the state, for analytics_state and for 0.1.0's
// serialize and deserialize functions.
void write_Mix_state_object(ca::StateWriter& writer, void* memory) {
    const auto* state = static_cast<const MixAggState*>(memory);
    ca::write_purchase_mix_state(writer, state->core, mix_params(state->params));
}

void* read_Mix_state_object(MemoryContext context, const ca::pg::StateBytes& bytes) {
    auto* state = ca::pg::new_flat_state<MixAggState>(context);
    ca::PurchaseSensitivityParams params;
    state->core = ca::read_purchase_mix_state(bytes.data, bytes.size, &params);
    state->params = MixParams{params.discount_share_cutoff, params.new_item_share_cutoff, params.min_lines};
    return state;
}

}  // namespace

namespace customer_analytics::pg {
extern const StateFamily kMixFamily{CA_STATE_METHODS,        "purchase_mix",        StateKind::purchase_mix,
                                    StateKind::purchase_mix, read_Mix_state_object, write_Mix_state_object};
}  // namespace customer_analytics::pg

CA_FUNCTION(ca_purchase_mix_serialfn) {
    PG_RETURN_BYTEA_P(ca::pg::state_bytea(
        [fcinfo](ca::StateWriter& writer) { write_Mix_state_object(writer, PG_GETARG_POINTER(0)); }));
}

CA_FUNCTION(ca_purchase_mix_deserialfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "purchase_mix_deserialize");
    PG_RETURN_POINTER(read_Mix_state_object(context, ca::pg::state_argument(fcinfo, 0)));
}

CA_FUNCTION(ca_purchase_mix_finalfn) {
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    const auto* state = reinterpret_cast<const MixAggState*>(PG_GETARG_POINTER(0));
    const std::optional<ca::PurchaseSensitivity> label = state->core.result(mix_params(state->params));
    if (!label)
        PG_RETURN_NULL();
    PG_RETURN_TEXT_P(text_of(ca::to_string(*label)));
}

// ----------------------------------------------------- channel preference

namespace {

struct ChannelParams {
    std::int64_t has_prior_rate;
    double prior_rate;
    double prior_weight;
    std::int64_t min_contacts;
};

ca::ChannelPreferenceParams channel_params(const ChannelParams& p) {
    ca::ChannelPreferenceParams out;
    if (p.has_prior_rate)
        out.prior_rate = p.prior_rate;
    out.prior_weight = p.prior_weight;
    out.min_contacts = p.min_contacts;
    return out;
}

// The state keeps the core's ChannelState (std::string names) on the C++
// heap (heap_state.hpp); it is small (at most 64 channels of at most 64
// bytes).
struct ChannelAggregate {
    using Params = ChannelParams;
    using Core = ca::ChannelState;
    static constexpr ca::pg::FlatAggregate aggregate{"channel_preference"};

    static void validate(const Params& params) { Core().result(channel_params(params)); }
    static void merge(Core& core, const Core& other) { core.merge(other); }
    static void write(ca::StateWriter& writer, const Core& core, const Params& params) {
        ca::write_channel_state(writer, core, channel_params(params));
    }
    static Params read(const ca::pg::StateBytes& bytes, Core& core) {
        ca::ChannelPreferenceParams params;
        core = ca::read_channel_state(bytes.data, bytes.size, &params);
        return Params{params.prior_rate ? 1 : 0, params.prior_rate.value_or(0.0), params.prior_weight,
                      params.min_contacts};
    }
};

}  // namespace

// channel_preference(channel, responded [, prior_rate, prior_weight,
// min_contacts]); a NULL prior_rate means the customer's own pooled rate.
CA_FUNCTION(ca_channel_preference_transfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "channel_preference");
    ChannelParams params{0, 0.0, 10.0, 1};
    if (PG_NARGS() > 3) {
        if (!PG_ARGISNULL(3)) {
            params.has_prior_rate = 1;
            params.prior_rate = ca::pg::positive_zero(PG_GETARG_FLOAT8(3));
        }
        require_argument(fcinfo, 4, "prior_weight");
        require_argument(fcinfo, 5, "min_contacts");
        params.prior_weight = ca::pg::positive_zero(PG_GETARG_FLOAT8(4));
        params.min_contacts = PG_GETARG_INT64(5);
    }
    auto* state = ca::pg::heap_state_for_row<ChannelAggregate>(fcinfo, context, params);
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
        PG_RETURN_POINTER(state);
    const text* channel = PG_GETARG_TEXT_PP(1);
    state->core->add(ca::pg::text_view(channel), PG_GETARG_BOOL(2));
    PG_RETURN_POINTER(state);
}

CA_FUNCTION(ca_channel_preference_combinefn) { return ca::pg::heap_combine<ChannelAggregate>(fcinfo); }
namespace customer_analytics::pg {
extern const StateFamily kChannelFamily{CA_STATE_METHODS,
                                        "channel_preference",
                                        StateKind::channel_preference,
                                        StateKind::channel_preference,
                                        heap_read_object<ChannelAggregate>,
                                        heap_write_object<ChannelAggregate>};
}  // namespace customer_analytics::pg

CA_FUNCTION(ca_channel_preference_serialfn) { return ca::pg::heap_serialize<ChannelAggregate>(fcinfo); }
CA_FUNCTION(ca_channel_preference_deserialfn) { return ca::pg::heap_deserialize<ChannelAggregate>(fcinfo); }

CA_FUNCTION(ca_channel_preference_finalfn) {
    const auto* state = ca::pg::heap_final_state<ChannelAggregate>(fcinfo);
    if (state == nullptr)
        PG_RETURN_NULL();
    const std::optional<ca::ChannelChoice> choice = state->core->result(channel_params(state->params));
    if (!choice)
        PG_RETURN_NULL();
    // choice owns a std::string: PostgreSQL is called through pg_call.
    TupleDesc descriptor = ca::pg::pg_call(ca::pg::result_descriptor, fcinfo, &fcinfo->flinfo->fn_extra);
    Datum values[4];
    bool nulls[4] = {false, false, false, false};
    values[0] = ca::pg::text_datum(choice->channel);
    values[1] = Float8GetDatum(choice->smoothed_rate);
    values[2] = Int64GetDatum(choice->contacts);
    values[3] = Int64GetDatum(choice->responses);
    PG_RETURN_DATUM(ca::pg::tuple_datum(descriptor, values, nulls));
}

// The analytics_state entry points (analytics_state.hpp).
using ca::pg::kActivityFamily;
CA_STATE_TRANSFN(ca_activity_status_transfn, kActivityFamily)
CA_STATE_COMBINEFN(ca_activity_status_combinefn, kActivityFamily)
CA_STATE_FINALFN(ca_activity_status_finalfn, kActivityFamily)
using ca::pg::kCouponFamily;
CA_STATE_TRANSFN(ca_coupon_sensitivity_transfn, kCouponFamily)
CA_STATE_COMBINEFN(ca_coupon_sensitivity_combinefn, kCouponFamily)
CA_STATE_FINALFN(ca_coupon_sensitivity_finalfn, kCouponFamily)
using ca::pg::kMixFamily;
CA_STATE_TRANSFN(ca_purchase_mix_transfn, kMixFamily)
CA_STATE_COMBINEFN(ca_purchase_mix_combinefn, kMixFamily)
CA_STATE_FINALFN(ca_purchase_mix_finalfn, kMixFamily)
using ca::pg::kChannelFamily;
CA_STATE_TRANSFN(ca_channel_preference_transfn, kChannelFamily)
CA_STATE_COMBINEFN(ca_channel_preference_combinefn, kChannelFamily)
CA_STATE_FINALFN(ca_channel_preference_finalfn, kChannelFamily)
