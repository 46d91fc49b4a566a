// Pareto diagnosis: pareto_share, gini, lorenz_curve,
// pareto_tier_thresholds and value_band_cuts, aggregates over one spend per
// customer.
//
// They share one state: the spends in a FlatArray<double> in the aggregate
// memory context (8 bytes per customer, counted against work_mem and freed
// with the context), plus the aggregate's parameters (top_fraction,
// segments or the top fractions), which must be the same on every row. The
// final functions hand the collected values to the core's ParetoDiagnosis,
// which sorts a copy, so the results do not depend on the order of the rows
// or on how a parallel plan split them.
#include <vector>

#include "pareto.hpp"

#include "analytics_state.hpp"
#include "barrier.hpp"
#include "convert.hpp"
#include "flat_state.hpp"

namespace ca = customer_analytics;
using ca::pg::arena_for;

namespace {

constexpr int kMaxFractions = static_cast<int>(ca::kMaxSpendParameters);

struct SpendAggState {
    ca::FlatArray<double> values;
    ca::FlatArray<double> params;
};

void check_fraction(double fraction, bool allow_zero, const char* what) {
    if (!(std::isfinite(fraction) && fraction <= 1.0 && (allow_zero ? fraction >= 0.0 : fraction > 0.0)))
        throw ca::Error(ca::ErrorKind::invalid_parameter_value,
                        std::string(what) +
                            (allow_zero ? " must be between 0 and 1" : " must be greater than 0 and at most 1"));
}

void check_segments(double segments) {
    if (!(segments >= 1 && segments <= 100000))
        throw ca::Error(ca::ErrorKind::invalid_parameter_value, "segments must be between 1 and 100000");
}

double check_spend(double spend) {
    if (!std::isfinite(spend))
        throw ca::Error(ca::ErrorKind::data_exception, "spend must be a finite number");
    if (spend < 0)
        throw ca::Error(ca::ErrorKind::data_exception, "spend must not be negative",
                        "The Pareto diagnosis and the Gini coefficient are defined for non-negative spends.",
                        "Clamp net refunds to zero with GREATEST(spend, 0), or leave those customers out.");
    return spend == 0.0 ? 0.0 : spend;  // no -0 in the sample
}

static_assert(ca::kMaxSpendCustomers == 100000000, "message below");
void check_customers(std::uint64_t customers) {
    ca::pg::check_limit(customers, ca::kMaxSpendCustomers, "a Pareto diagnosis accepts at most 100000000 customers",
                        "Aggregate one spend per customer (GROUP BY the customer first), or use a sample.");
}

SpendAggState* new_spend_state(MemoryContext context, const double* params, int count) {
    auto* state = new (MemoryContextAllocZero(context, sizeof(SpendAggState))) SpendAggState();
    state->params.append(arena_for(context), params, static_cast<std::uint32_t>(count));
    return state;
}

void check_fractions(const double* values, int count) {
    if (count < 1 || count > kMaxFractions)
        throw ca::Error(ca::ErrorKind::invalid_parameter_value, "top_fractions must have between 1 and 1000 elements");
    for (int i = 0; i < count; ++i)
        check_fraction(values[i], false, "each top fraction");
}

enum class SpendParams { none, top_fraction, segments, default_segments, fractions, default_fractions };

template <SpendParams kind>
Datum spend_transition(FunctionCallInfo fcinfo, const char* aggregate) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, aggregate);
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<SpendAggState*>(PG_GETARG_POINTER(0));
    double scalar[1] = {0};
    const double* params = scalar;
    int count = 0;
    if constexpr (kind == SpendParams::top_fraction || kind == SpendParams::segments ||
                  kind == SpendParams::fractions) {
        if (PG_ARGISNULL(2))
            throw ca::Error(ca::ErrorKind::null_value_not_allowed,
                            kind == SpendParams::top_fraction ? "top_fraction must not be null"
                            : kind == SpendParams::segments   ? "segments must not be null"
                                                              : "top_fractions must not be null");
    }
    if constexpr (kind == SpendParams::top_fraction) {
        scalar[0] = PG_GETARG_FLOAT8(2);
        if (scalar[0] == 0.0)
            scalar[0] = 0.0;
        count = 1;
        if (state == nullptr)
            check_fraction(scalar[0], true, "top_fraction");
    } else if constexpr (kind == SpendParams::segments || kind == SpendParams::default_segments) {
        scalar[0] = kind == SpendParams::segments ? PG_GETARG_INT32(2) : 10;
        count = 1;
        if (state == nullptr)
            check_segments(scalar[0]);
    } else if constexpr (kind == SpendParams::fractions) {
        const ca::pg::CachedFloat8Array* parsed =
            ca::pg::cached_float8_array(fcinfo, 2, "top_fractions", check_fractions);
        params = parsed->values;
        count = parsed->count;
    } else if constexpr (kind == SpendParams::default_fractions) {
        static const double defaults[] = {0.20, 0.05};
        params = defaults;
        count = 2;
    }
    if (state == nullptr)
        state = new_spend_state(context, params, count);
    else
        ca::pg::require_same_values(state->params, params, count, aggregate);
    if (!PG_ARGISNULL(1)) {
        const double spend = check_spend(PG_GETARG_FLOAT8(1));
        check_customers(std::uint64_t(state->values.size) + 1);
        state->values.push_back(arena_for(context), spend);
    }
    PG_RETURN_POINTER(state);
}

// A final function's single parameter (top_fraction or segments). A state
// from another spend aggregate, which only crafted bytes could give, has
// none.
double single_parameter(const SpendAggState* state) {
    if (state->params.size != 1)
        ca::invalid_state(ca::StateKind::spend_sample, "The state does not hold the parameter of this aggregate.");
    return state->params.data[0];
}

// The diagnosis of a final function's spends. It sorts a copy, so the
// results depend neither on the order of the rows nor on how a parallel
// plan split them.
ca::ParetoDiagnosis diagnosis_of(const SpendAggState* state) {
    return ca::ParetoDiagnosis(state->values.data, state->values.size, ca::pg::interrupts());
}

// The state of a final function, or nullptr when there is no customer.
const SpendAggState* final_state(FunctionCallInfo fcinfo) {
    if (PG_ARGISNULL(0))
        return nullptr;
    const auto* state = reinterpret_cast<const SpendAggState*>(PG_GETARG_POINTER(0));
    return state->values.size == 0 ? nullptr : state;
}

}  // namespace

CA_FUNCTION(ca_gini_transfn) { return spend_transition<SpendParams::none>(fcinfo, "gini"); }
CA_FUNCTION(ca_pareto_share_transfn) { return spend_transition<SpendParams::top_fraction>(fcinfo, "pareto_share"); }
CA_FUNCTION(ca_lorenz_curve_transfn_segments) {
    return spend_transition<SpendParams::segments>(fcinfo, "lorenz_curve");
}
CA_FUNCTION(ca_lorenz_curve_transfn) { return spend_transition<SpendParams::default_segments>(fcinfo, "lorenz_curve"); }
CA_FUNCTION(ca_pareto_tier_thresholds_transfn_fractions) {
    return spend_transition<SpendParams::fractions>(fcinfo, "pareto_tier_thresholds");
}
CA_FUNCTION(ca_pareto_tier_thresholds_transfn) {
    return spend_transition<SpendParams::default_fractions>(fcinfo, "pareto_tier_thresholds");
}
CA_FUNCTION(ca_value_band_cuts_transfn) { return spend_transition<SpendParams::none>(fcinfo, "value_band_cuts"); }

CA_FUNCTION(ca_pareto_spend_combinefn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "spend sample combine");
    if (PG_ARGISNULL(1))
        return ca::pg::keep_first_state(fcinfo);
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<SpendAggState*>(PG_GETARG_POINTER(0));
    const auto* other = reinterpret_cast<const SpendAggState*>(PG_GETARG_POINTER(1));
    if (state == nullptr)
        state = new_spend_state(context, other->params.data, static_cast<int>(other->params.size));
    else
        ca::pg::require_same_values(state->params, other->params.data, static_cast<int>(other->params.size),
                                    "the aggregate");
    check_customers(std::uint64_t(state->values.size) + other->values.size);
    state->values.append(arena_for(context), other->values.data, other->values.size);
    PG_RETURN_POINTER(state);
}

namespace {

void write_spend(ca::StateWriter& writer, void* memory) {
    const auto* state = static_cast<const SpendAggState*>(memory);
    ca::write_spend_state(writer, state->params.data, state->params.size, state->values.data, state->values.size);
}

void* read_spend(MemoryContext context, const ca::pg::StateBytes& bytes) {
    auto* state = new (MemoryContextAllocZero(context, sizeof(SpendAggState))) SpendAggState();
    ca::read_spend_state(arena_for(context), bytes.data, bytes.size, &state->params, &state->values);
    return state;
}

}  // namespace

namespace customer_analytics::pg {
extern const StateFamily kSpendFamily{CA_STATE_METHODS,        "spend sample", StateKind::spend_sample,
                                      StateKind::spend_sample, read_spend,     write_spend};
}  // namespace customer_analytics::pg

CA_FUNCTION(ca_pareto_spend_serialfn) {
    PG_RETURN_BYTEA_P(
        ca::pg::state_bytea([fcinfo](ca::StateWriter& writer) { write_spend(writer, PG_GETARG_POINTER(0)); }));
}

CA_FUNCTION(ca_pareto_spend_deserialfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "spend sample deserialize");
    PG_RETURN_POINTER(read_spend(context, ca::pg::state_argument(fcinfo, 0)));
}

// The final functions hold the core's results (C++ objects) while they
// build the SQL result, which calls PostgreSQL through pg_call.
CA_FUNCTION(ca_gini_finalfn) {
    const SpendAggState* state = final_state(fcinfo);
    if (state == nullptr)
        PG_RETURN_NULL();
    PG_RETURN_FLOAT8(diagnosis_of(state).gini());
}

CA_FUNCTION(ca_pareto_share_finalfn) {
    const SpendAggState* state = final_state(fcinfo);
    if (state == nullptr)
        PG_RETURN_NULL();
    PG_RETURN_FLOAT8(diagnosis_of(state).pareto_share(single_parameter(state)));
}

CA_FUNCTION(ca_pareto_tier_thresholds_finalfn) {
    const SpendAggState* state = final_state(fcinfo);
    if (state == nullptr)
        PG_RETURN_NULL();
    const std::vector<double> fractions(state->params.begin(), state->params.end());
    const std::vector<double> thresholds = diagnosis_of(state).tier_thresholds(fractions);
    PG_RETURN_DATUM(ca::pg::float8_array_datum(thresholds.data(), static_cast<int>(thresholds.size())));
}

CA_FUNCTION(ca_value_band_cuts_finalfn) {
    const SpendAggState* state = final_state(fcinfo);
    if (state == nullptr)
        PG_RETURN_NULL();
    const ca::ValueBandCuts cuts = diagnosis_of(state).default_value_band_cuts();
    const double values[2] = {cuts.low_cut, cuts.high_cut};
    PG_RETURN_DATUM(ca::pg::float8_array_datum(values, 2));
}

// lorenz_curve → lorenz_point[]: segments + 1 points (customer_share,
// revenue_share) from (0, 0) to (1, 1).
CA_FUNCTION(ca_lorenz_curve_finalfn) {
    const SpendAggState* state = final_state(fcinfo);
    if (state == nullptr)
        PG_RETURN_NULL();
    const std::vector<ca::LorenzPoint> points =
        diagnosis_of(state).lorenz(static_cast<std::int64_t>(single_parameter(state)));
    ca::pg::CompositeArray array(fcinfo, static_cast<int>(points.size()), "lorenz_point");
    for (const ca::LorenzPoint& point : points) {
        array.values()[0] = Float8GetDatum(point.customer_share);
        array.values()[1] = Float8GetDatum(point.revenue_share);
        array.add_row();
    }
    PG_RETURN_DATUM(array.result());
}

// The analytics_state entry points (analytics_state.hpp).
using ca::pg::kSpendFamily;
CA_STATE_TRANSFN(ca_gini_transfn, kSpendFamily)
CA_STATE_TRANSFN(ca_pareto_share_transfn, kSpendFamily)
CA_STATE_TRANSFN(ca_lorenz_curve_transfn_segments, kSpendFamily)
CA_STATE_TRANSFN(ca_lorenz_curve_transfn, kSpendFamily)
CA_STATE_TRANSFN(ca_pareto_tier_thresholds_transfn_fractions, kSpendFamily)
CA_STATE_TRANSFN(ca_pareto_tier_thresholds_transfn, kSpendFamily)
CA_STATE_TRANSFN(ca_value_band_cuts_transfn, kSpendFamily)
CA_STATE_COMBINEFN(ca_pareto_spend_combinefn, kSpendFamily)
CA_STATE_FINALFN(ca_gini_finalfn, kSpendFamily)
CA_STATE_FINALFN(ca_pareto_share_finalfn, kSpendFamily)
CA_STATE_FINALFN(ca_pareto_tier_thresholds_finalfn, kSpendFamily)
CA_STATE_FINALFN(ca_value_band_cuts_finalfn, kSpendFamily)
CA_STATE_FINALFN(ca_lorenz_curve_finalfn, kSpendFamily)
