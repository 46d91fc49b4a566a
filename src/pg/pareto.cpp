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
                        std::string(what) + (allow_zero ? " must be between 0 and 1" : " must be greater than 0 and at most 1"));
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
    ca::pg::check_limit(customers, ca::kMaxSpendCustomers,
                        "a Pareto diagnosis accepts at most 100000000 customers",
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

// Results of the core, computed by helpers that own the C++ objects and call
// no PostgreSQL API; outputs go to caller-provided (palloc'd) memory.
double gini_of(const SpendAggState* state) {
    return ca::ParetoDiagnosis(state->values.data, state->values.size, ca::pg::interrupts()).gini();
}

double share_of(const SpendAggState* state) {
    return ca::ParetoDiagnosis(state->values.data, state->values.size, ca::pg::interrupts()).pareto_share(single_parameter(state));
}

void lorenz_of(const SpendAggState* state, double* customer_shares, double* revenue_shares) {
    const ca::ParetoDiagnosis diagnosis(state->values.data, state->values.size, ca::pg::interrupts());
    const std::vector<ca::LorenzPoint> points = diagnosis.lorenz(static_cast<std::int64_t>(single_parameter(state)));
    for (std::size_t i = 0; i < points.size(); ++i) {
        customer_shares[i] = points[i].customer_share;
        revenue_shares[i] = points[i].revenue_share;
    }
}

void thresholds_of(const SpendAggState* state, double* out) {
    const ca::ParetoDiagnosis diagnosis(state->values.data, state->values.size, ca::pg::interrupts());
    const std::vector<double> fractions(state->params.begin(), state->params.end());
    const std::vector<double> thresholds = diagnosis.tier_thresholds(fractions);
    std::copy(thresholds.begin(), thresholds.end(), out);
}

void band_cuts_of(const SpendAggState* state, double* out) {
    const ca::ValueBandCuts cuts =
        ca::ParetoDiagnosis(state->values.data, state->values.size, ca::pg::interrupts()).default_value_band_cuts();
    out[0] = cuts.low_cut;
    out[1] = cuts.high_cut;
}

Datum float8_array_datum(const double* values, int count) {
    Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * (count + 1)));
    for (int i = 0; i < count; ++i)
        elements[i] = Float8GetDatum(values[i]);
    return PointerGetDatum(construct_array(elements, count, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
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
CA_FUNCTION(ca_lorenz_curve_transfn_segments) { return spend_transition<SpendParams::segments>(fcinfo, "lorenz_curve"); }
CA_FUNCTION(ca_lorenz_curve_transfn) {
    return spend_transition<SpendParams::default_segments>(fcinfo, "lorenz_curve");
}
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

CA_FUNCTION(ca_pareto_spend_serialfn) {
    const auto* state = reinterpret_cast<const SpendAggState*>(PG_GETARG_POINTER(0));
    PG_RETURN_BYTEA_P(ca::pg::state_bytea([state](ca::StateWriter& writer) {
        ca::write_spend_state(writer, state->params.data, state->params.size, state->values.data, state->values.size);
    }));
}

CA_FUNCTION(ca_pareto_spend_deserialfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "spend sample deserialize");
    const ca::pg::StateBytes bytes = ca::pg::state_argument(fcinfo, 0);
    auto* state = new (MemoryContextAllocZero(context, sizeof(SpendAggState))) SpendAggState();
    ca::read_spend_state(arena_for(context), bytes.data, bytes.size, &state->params, &state->values);
    PG_RETURN_POINTER(state);
}

CA_FUNCTION(ca_gini_finalfn) {
    const SpendAggState* state = final_state(fcinfo);
    if (state == nullptr)
        PG_RETURN_NULL();
    PG_RETURN_FLOAT8(gini_of(state));
}

CA_FUNCTION(ca_pareto_share_finalfn) {
    const SpendAggState* state = final_state(fcinfo);
    if (state == nullptr)
        PG_RETURN_NULL();
    PG_RETURN_FLOAT8(share_of(state));
}

CA_FUNCTION(ca_pareto_tier_thresholds_finalfn) {
    const SpendAggState* state = final_state(fcinfo);
    if (state == nullptr)
        PG_RETURN_NULL();
    const int count = static_cast<int>(state->params.size);
    auto* thresholds = static_cast<double*>(palloc(sizeof(double) * (count + 1)));
    thresholds_of(state, thresholds);
    PG_RETURN_DATUM(float8_array_datum(thresholds, count));
}

CA_FUNCTION(ca_value_band_cuts_finalfn) {
    const SpendAggState* state = final_state(fcinfo);
    if (state == nullptr)
        PG_RETURN_NULL();
    double cuts[2];
    band_cuts_of(state, cuts);
    PG_RETURN_DATUM(float8_array_datum(cuts, 2));
}

// lorenz_curve → lorenz_point[]: segments + 1 points (customer_share,
// revenue_share) from (0, 0) to (1, 1).
CA_FUNCTION(ca_lorenz_curve_finalfn) {
    const SpendAggState* state = final_state(fcinfo);
    if (state == nullptr)
        PG_RETURN_NULL();
    const int count = static_cast<int>(single_parameter(state)) + 1;
    auto* customer_shares = static_cast<double*>(palloc(sizeof(double) * count));
    auto* revenue_shares = static_cast<double*>(palloc(sizeof(double) * count));
    lorenz_of(state, customer_shares, revenue_shares);

    const Oid array_type = get_func_rettype(fcinfo->flinfo->fn_oid);
    const Oid element_type = OidIsValid(array_type) ? get_element_type(array_type) : InvalidOid;
    if (!OidIsValid(element_type))
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("could not determine the lorenz_point type")));
    TupleDesc descriptor = lookup_rowtype_tupdesc_copy(element_type, -1);
    descriptor = BlessTupleDesc(descriptor);
    Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * count));
    for (int i = 0; i < count; ++i) {
        Datum values[2] = {Float8GetDatum(customer_shares[i]), Float8GetDatum(revenue_shares[i])};
        bool nulls[2] = {false, false};
        elements[i] = HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
    }
    std::int16_t length;
    bool by_value;
    char alignment;
    get_typlenbyvalalign(element_type, &length, &by_value, &alignment);
    PG_RETURN_ARRAYTYPE_P(construct_array(elements, count, element_type, length, by_value, alignment));
}
