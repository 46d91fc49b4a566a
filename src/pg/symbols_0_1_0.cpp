// The C symbols of the released 0.1.0 install script
// (extension/customer_analytics--0.1.0.sql, frozen) that the current scripts
// name differently. One library serves every version of the extension, so a
// database still on 0.1.0, and CREATE EXTENSION ... VERSION '0.1.0' before an
// update, resolve these names: each stays exported as an alias of the
// function that now serves its SQL function. Never remove a line.
// scripts/c_symbols.py generates the list ("changes") and checks it
// ("check", run by test/upgrade/run.sh); symbols added after 0.1.0 need no
// line here.
#include "postgres_headers.hpp"

// The old symbol and its function-info record, forwarding to the new one.
#define CA_SYMBOL_0_1_0(old_name, new_name) \
    extern "C" {                            \
    Datum new_name(PG_FUNCTION_ARGS);       \
    PG_FUNCTION_INFO_V1(old_name);          \
    Datum old_name(PG_FUNCTION_ARGS) {      \
        return new_name(fcinfo);            \
    }                                       \
    }

CA_SYMBOL_0_1_0(ca_rfm_agg_date_numeric, ca_rfm_agg_transfn_date_numeric)
CA_SYMBOL_0_1_0(ca_rfm_agg_date_float8, ca_rfm_agg_transfn_date_float8)
CA_SYMBOL_0_1_0(ca_rfm_agg_timestamptz_numeric, ca_rfm_agg_transfn_timestamptz_numeric)
CA_SYMBOL_0_1_0(ca_rfm_agg_timestamptz_float8, ca_rfm_agg_transfn_timestamptz_float8)
CA_SYMBOL_0_1_0(ca_rfm_agg_combine, ca_rfm_agg_combinefn)
CA_SYMBOL_0_1_0(ca_rfm_agg_serialize, ca_rfm_agg_serialfn)
CA_SYMBOL_0_1_0(ca_rfm_agg_deserialize, ca_rfm_agg_deserialfn)
CA_SYMBOL_0_1_0(ca_rfm_agg_final, ca_rfm_agg_finalfn)
CA_SYMBOL_0_1_0(ca_rfm_state_merge_transition, ca_rfm_state_merge_transfn)
CA_SYMBOL_0_1_0(ca_rfm_bins_transition, ca_rfm_bins_transfn)
CA_SYMBOL_0_1_0(ca_rfm_bins_combine, ca_rfm_bins_combinefn)
CA_SYMBOL_0_1_0(ca_rfm_bins_serialize, ca_rfm_bins_serialfn)
CA_SYMBOL_0_1_0(ca_rfm_bins_deserialize, ca_rfm_bins_deserialfn)
CA_SYMBOL_0_1_0(ca_rfm_bins_final, ca_rfm_bins_finalfn)
CA_SYMBOL_0_1_0(ca_rfm_score_recency, ca_recency_score)
CA_SYMBOL_0_1_0(ca_rfm_score_frequency, ca_frequency_score)
CA_SYMBOL_0_1_0(ca_rfm_score_monetary, ca_monetary_score)
CA_SYMBOL_0_1_0(ca_btyd_fit_transition, ca_btyd_fit_transfn)
CA_SYMBOL_0_1_0(ca_btyd_fit_combine, ca_btyd_fit_combinefn)
CA_SYMBOL_0_1_0(ca_btyd_fit_serialize, ca_btyd_fit_serialfn)
CA_SYMBOL_0_1_0(ca_btyd_fit_deserialize, ca_btyd_fit_deserialfn)
CA_SYMBOL_0_1_0(ca_bgnbd_fit_final, ca_bgnbd_fit_finalfn)
CA_SYMBOL_0_1_0(ca_pareto_nbd_fit_final, ca_pareto_nbd_fit_finalfn)
CA_SYMBOL_0_1_0(ca_gamma_gamma_fit_transition, ca_gamma_gamma_fit_transfn)
CA_SYMBOL_0_1_0(ca_gamma_gamma_fit_combine, ca_gamma_gamma_fit_combinefn)
CA_SYMBOL_0_1_0(ca_gamma_gamma_fit_serialize, ca_gamma_gamma_fit_serialfn)
CA_SYMBOL_0_1_0(ca_gamma_gamma_fit_deserialize, ca_gamma_gamma_fit_deserialfn)
CA_SYMBOL_0_1_0(ca_gamma_gamma_fit_final, ca_gamma_gamma_fit_finalfn)
CA_SYMBOL_0_1_0(ca_bgnbd_clv, ca_clv_bgnbd)
CA_SYMBOL_0_1_0(ca_pareto_nbd_clv, ca_clv_pareto_nbd)
CA_SYMBOL_0_1_0(ca_value_band_cuts_array, ca_value_band_array)
CA_SYMBOL_0_1_0(ca_activity_transition, ca_activity_status_transfn)
CA_SYMBOL_0_1_0(ca_activity_combine, ca_activity_status_combinefn)
CA_SYMBOL_0_1_0(ca_activity_serialize, ca_activity_status_serialfn)
CA_SYMBOL_0_1_0(ca_activity_deserialize, ca_activity_status_deserialfn)
CA_SYMBOL_0_1_0(ca_activity_final, ca_activity_status_finalfn)
CA_SYMBOL_0_1_0(ca_coupon_transition, ca_coupon_sensitivity_transfn)
CA_SYMBOL_0_1_0(ca_coupon_combine, ca_coupon_sensitivity_combinefn)
CA_SYMBOL_0_1_0(ca_coupon_serialize, ca_coupon_sensitivity_serialfn)
CA_SYMBOL_0_1_0(ca_coupon_deserialize, ca_coupon_sensitivity_deserialfn)
CA_SYMBOL_0_1_0(ca_coupon_final, ca_coupon_sensitivity_finalfn)
CA_SYMBOL_0_1_0(ca_purchase_mix_transition, ca_purchase_mix_transfn)
CA_SYMBOL_0_1_0(ca_purchase_mix_combine, ca_purchase_mix_combinefn)
CA_SYMBOL_0_1_0(ca_purchase_mix_serialize, ca_purchase_mix_serialfn)
CA_SYMBOL_0_1_0(ca_purchase_mix_deserialize, ca_purchase_mix_deserialfn)
CA_SYMBOL_0_1_0(ca_purchase_mix_final, ca_purchase_mix_finalfn)
CA_SYMBOL_0_1_0(ca_channel_transition, ca_channel_preference_transfn)
CA_SYMBOL_0_1_0(ca_channel_combine, ca_channel_preference_combinefn)
CA_SYMBOL_0_1_0(ca_channel_serialize, ca_channel_preference_serialfn)
CA_SYMBOL_0_1_0(ca_channel_deserialize, ca_channel_preference_deserialfn)
CA_SYMBOL_0_1_0(ca_channel_final, ca_channel_preference_finalfn)
CA_SYMBOL_0_1_0(ca_spend_combine, ca_pareto_spend_combinefn)
CA_SYMBOL_0_1_0(ca_spend_serialize, ca_pareto_spend_serialfn)
CA_SYMBOL_0_1_0(ca_spend_deserialize, ca_pareto_spend_deserialfn)
CA_SYMBOL_0_1_0(ca_gini_transition, ca_gini_transfn)
CA_SYMBOL_0_1_0(ca_gini_final, ca_gini_finalfn)
CA_SYMBOL_0_1_0(ca_pareto_share_transition, ca_pareto_share_transfn)
CA_SYMBOL_0_1_0(ca_pareto_share_final, ca_pareto_share_finalfn)
CA_SYMBOL_0_1_0(ca_lorenz_default_transition, ca_lorenz_curve_transfn)
CA_SYMBOL_0_1_0(ca_lorenz_transition, ca_lorenz_curve_transfn_segments)
CA_SYMBOL_0_1_0(ca_lorenz_final, ca_lorenz_curve_finalfn)
CA_SYMBOL_0_1_0(ca_tier_thresholds_default_transition, ca_pareto_tier_thresholds_transfn)
CA_SYMBOL_0_1_0(ca_tier_thresholds_transition, ca_pareto_tier_thresholds_transfn_fractions)
CA_SYMBOL_0_1_0(ca_tier_thresholds_final, ca_pareto_tier_thresholds_finalfn)
CA_SYMBOL_0_1_0(ca_value_band_cuts_transition, ca_value_band_cuts_transfn)
CA_SYMBOL_0_1_0(ca_value_band_cuts_final, ca_value_band_cuts_finalfn)
CA_SYMBOL_0_1_0(ca_kmeans_transition, ca_kmeans_fit_transfn)
CA_SYMBOL_0_1_0(ca_kmeans_combine, ca_kmeans_fit_combinefn)
CA_SYMBOL_0_1_0(ca_kmeans_serialize, ca_kmeans_fit_serialfn)
CA_SYMBOL_0_1_0(ca_kmeans_deserialize, ca_kmeans_fit_deserialfn)
CA_SYMBOL_0_1_0(ca_kmeans_final, ca_kmeans_fit_finalfn)
CA_SYMBOL_0_1_0(ca_affinity_transition, ca_affinity_transfn)
CA_SYMBOL_0_1_0(ca_affinity_combine, ca_affinity_combinefn)
CA_SYMBOL_0_1_0(ca_affinity_serialize, ca_affinity_serialfn)
CA_SYMBOL_0_1_0(ca_affinity_deserialize, ca_affinity_deserialfn)
CA_SYMBOL_0_1_0(ca_affinity_final, ca_affinity_finalfn)
CA_SYMBOL_0_1_0(ca_segment_overlap_counts, ca_segment_overlap)
CA_SYMBOL_0_1_0(ca_overlap_transition, ca_segment_overlap_transfn)
CA_SYMBOL_0_1_0(ca_overlap_combine, ca_segment_overlap_combinefn)
CA_SYMBOL_0_1_0(ca_overlap_serialize, ca_segment_overlap_serialfn)
CA_SYMBOL_0_1_0(ca_overlap_deserialize, ca_segment_overlap_deserialfn)
CA_SYMBOL_0_1_0(ca_overlap_final, ca_segment_overlap_finalfn)
CA_SYMBOL_0_1_0(ca_campaign_transition, ca_campaign_report_transfn)
CA_SYMBOL_0_1_0(ca_campaign_combine, ca_campaign_report_combinefn)
CA_SYMBOL_0_1_0(ca_campaign_serialize, ca_campaign_report_serialfn)
CA_SYMBOL_0_1_0(ca_campaign_deserialize, ca_campaign_report_deserialfn)
CA_SYMBOL_0_1_0(ca_campaign_final, ca_campaign_report_finalfn)
