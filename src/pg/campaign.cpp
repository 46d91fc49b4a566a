// Campaigns: holdout / holdout_unit (deterministic hash-based assignment)
// and campaign_report (response, revenue and lift against the holdout).
//
// Memory: the campaign_report state is a flat struct in the aggregate
// memory context.
#include "campaign.hpp"

#include "analytics_state.hpp"
#include "barrier.hpp"
#include "convert.hpp"
#include "flat_state.hpp"

namespace ca = customer_analytics;
using ca::pg::positive_zero;
using ca::pg::require_argument;
using ca::pg::require_same;
using ca::pg::set_optional_float8;
using ca::pg::text_view;

// ---------------------------------------------------------------- holdout

CA_FUNCTION(ca_holdout_int8) {
    text* salt = PG_GETARG_TEXT_PP(2);
    PG_RETURN_BOOL(ca::holdout(PG_GETARG_INT64(0), PG_GETARG_FLOAT8(1), text_view(salt)));
}

CA_FUNCTION(ca_holdout_text) {
    text* key = PG_GETARG_TEXT_PP(0);
    text* salt = PG_GETARG_TEXT_PP(2);
    PG_RETURN_BOOL(ca::holdout(text_view(key), PG_GETARG_FLOAT8(1), text_view(salt)));
}

CA_FUNCTION(ca_holdout_unit_int8) {
    text* salt = PG_GETARG_TEXT_PP(1);
    PG_RETURN_FLOAT8(ca::holdout_unit(PG_GETARG_INT64(0), text_view(salt)));
}

CA_FUNCTION(ca_holdout_unit_text) {
    text* key = PG_GETARG_TEXT_PP(0);
    text* salt = PG_GETARG_TEXT_PP(1);
    PG_RETURN_FLOAT8(ca::holdout_unit(text_view(key), text_view(salt)));
}

// -------------------------------------------------------- campaign report

namespace {

struct CampaignParams {
    double confidence;
    double cost;
};

struct CampaignAggState {
    CampaignParams params;
    ca::CampaignState core;
};

constexpr ca::pg::FlatAggregate kCampaign{"campaign_report"};

ca::CampaignParams campaign_params(const CampaignParams& p) {
    ca::CampaignParams out;
    out.confidence = p.confidence;
    out.cost = p.cost;
    return out;
}

enum CampaignField {
    cr_treated,
    cr_treated_responders,
    cr_treated_revenue,
    cr_holdout,
    cr_holdout_responders,
    cr_holdout_revenue,
    cr_treated_rate,
    cr_holdout_rate,
    cr_revenue_per_treated,
    cr_revenue_per_holdout,
    cr_absolute_lift,
    cr_relative_lift,
    cr_lift_ci_low,
    cr_lift_ci_high,
    cr_z,
    cr_p_value,
    cr_incremental_responders,
    cr_revenue_lift,
    cr_incremental_revenue,
    cr_roi,
    cr_fields
};

}  // namespace

// campaign_report(in_holdout, responded [, revenue [, confidence, cost]]).
// A row with a NULL in_holdout is skipped; a NULL responded counts as no
// response and a NULL revenue as 0 (the usual LEFT JOIN of contacted
// customers to responses).
CA_FUNCTION(ca_campaign_report_transfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "campaign_report");
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<CampaignAggState*>(PG_GETARG_POINTER(0));
    CampaignParams params{0.95, 0.0};
    if (PG_NARGS() > 4) {
        require_argument(fcinfo, 4, "confidence");
        require_argument(fcinfo, 5, "cost");
        params.confidence = positive_zero(PG_GETARG_FLOAT8(4));
        params.cost = positive_zero(PG_GETARG_FLOAT8(5));
    }
    if (state == nullptr) {
        ca::campaign_report(ca::CampaignCounts{}, campaign_params(params));  // validates the parameters
        state = ca::pg::new_flat_state<CampaignAggState>(context);
        state->params = params;
    } else {
        require_same(state->params, params, "campaign_report");
    }
    if (PG_ARGISNULL(1))
        PG_RETURN_POINTER(state);
    const bool responded = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
    const double revenue = PG_NARGS() > 3 && !PG_ARGISNULL(3) ? PG_GETARG_FLOAT8(3) : 0.0;
    state->core.add(PG_GETARG_BOOL(1), responded, revenue);
    PG_RETURN_POINTER(state);
}

CA_FUNCTION(ca_campaign_report_combinefn) { return ca::pg::flat_combine_params<CampaignAggState>(fcinfo, kCampaign); }

namespace {

// The serialized form of the state, for analytics_state and for 0.1.0's
// serialize and deserialize functions.
void write_Campaign_state_object(ca::StateWriter& writer, void* memory) {
    const auto* state = static_cast<const CampaignAggState*>(memory);
    ca::write_campaign_state(writer, state->core, campaign_params(state->params));
}

void* read_Campaign_state_object(MemoryContext context, const ca::pg::StateBytes& bytes) {
    auto* state = ca::pg::new_flat_state<CampaignAggState>(context);
    ca::CampaignParams params;
    state->core = ca::read_campaign_state(bytes.data, bytes.size, &params);
    state->params = CampaignParams{params.confidence, params.cost};
    return state;
}

}  // namespace

namespace customer_analytics::pg {
extern const StateFamily kCampaignFamily{CA_STATE_METHODS,           "campaign_report",
                                         StateKind::campaign_report, StateKind::campaign_report,
                                         read_Campaign_state_object, write_Campaign_state_object};
}  // namespace customer_analytics::pg

CA_FUNCTION(ca_campaign_report_serialfn) {
    PG_RETURN_BYTEA_P(ca::pg::state_bytea(
        [fcinfo](ca::StateWriter& writer) { write_Campaign_state_object(writer, PG_GETARG_POINTER(0)); }));
}

CA_FUNCTION(ca_campaign_report_deserialfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "campaign_report_deserialize");
    PG_RETURN_POINTER(read_Campaign_state_object(context, ca::pg::state_argument(fcinfo, 0)));
}

CA_FUNCTION(ca_campaign_report_finalfn) {
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    const auto* state = reinterpret_cast<const CampaignAggState*>(PG_GETARG_POINTER(0));
    const ca::CampaignCounts counts = state->core.counts();
    const ca::CampaignReport report = ca::campaign_report(counts, campaign_params(state->params));
    TupleDesc descriptor = ca::pg::result_descriptor(fcinfo, &fcinfo->flinfo->fn_extra);
    Datum values[cr_fields];
    bool nulls[cr_fields] = {false};
    values[cr_treated] = Int64GetDatum(counts.treated);
    values[cr_treated_responders] = Int64GetDatum(counts.treated_responders);
    values[cr_treated_revenue] = Float8GetDatum(counts.treated_revenue);
    values[cr_holdout] = Int64GetDatum(counts.holdout);
    values[cr_holdout_responders] = Int64GetDatum(counts.holdout_responders);
    values[cr_holdout_revenue] = Float8GetDatum(counts.holdout_revenue);
    set_optional_float8(values, nulls, cr_treated_rate, report.treated_rate);
    set_optional_float8(values, nulls, cr_holdout_rate, report.holdout_rate);
    set_optional_float8(values, nulls, cr_revenue_per_treated, report.revenue_per_treated);
    set_optional_float8(values, nulls, cr_revenue_per_holdout, report.revenue_per_holdout);
    set_optional_float8(values, nulls, cr_absolute_lift, report.absolute_lift);
    set_optional_float8(values, nulls, cr_relative_lift, report.relative_lift);
    set_optional_float8(values, nulls, cr_lift_ci_low, report.lift_ci_low);
    set_optional_float8(values, nulls, cr_lift_ci_high, report.lift_ci_high);
    set_optional_float8(values, nulls, cr_z, report.z);
    set_optional_float8(values, nulls, cr_p_value, report.p_value);
    set_optional_float8(values, nulls, cr_incremental_responders, report.incremental_responders);
    set_optional_float8(values, nulls, cr_revenue_lift, report.revenue_lift);
    set_optional_float8(values, nulls, cr_incremental_revenue, report.incremental_revenue);
    set_optional_float8(values, nulls, cr_roi, report.roi);
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls)));
}

// The analytics_state entry points (analytics_state.hpp).
using ca::pg::kCampaignFamily;
CA_STATE_TRANSFN(ca_campaign_report_transfn, kCampaignFamily)
CA_STATE_COMBINEFN(ca_campaign_report_combinefn, kCampaignFamily)
CA_STATE_FINALFN(ca_campaign_report_finalfn, kCampaignFamily)
