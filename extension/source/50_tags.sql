
-- ---------------------------------------------------------- customer tags
--
-- Consumption stage, value band, activity, coupon sensitivity, discount /
-- new-product sensitivity, channel preference; the Pareto diagnosis; k-means
-- clustering; affinity and segment overlap; campaign holdouts and reports
-- (docs/tags.md). Aggregates take no parameter defaults, so each has a short
-- form and a form with every parameter; parameters of an aggregate must be
-- the same on every row of a group.

-- ------------------------------------------------------ consumption stage

-- prospect (interactions, no purchase), new (one purchase), returning,
-- loyal (>= loyal_min_purchases purchases spanning >= loyal_min_span_days,
-- the last within loyal_max_recency_days of as_of). NULL for a customer
-- with neither purchases nor interactions. Not STRICT: the purchase dates
-- are NULL when purchases = 0; any other NULL gives NULL.
CREATE FUNCTION consumption_stage(purchases bigint, first_purchase date, last_purchase date, as_of date,
                                  interactions bigint DEFAULT 0, loyal_min_purchases integer DEFAULT 3,
                                  loyal_min_span_days integer DEFAULT 180,
                                  loyal_max_recency_days integer DEFAULT 365)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_consumption_stage' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- From an rfm_summary: purchases = purchase_days (orders on one day are
-- one purchase), first / last purchase = first_order / last_order.
CREATE FUNCTION consumption_stage(summary rfm_summary, as_of date,
                                  interactions bigint DEFAULT 0, loyal_min_purchases integer DEFAULT 3,
                                  loyal_min_span_days integer DEFAULT 180,
                                  loyal_max_recency_days integer DEFAULT 365)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_consumption_stage_summary' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ------------------------------------------------------------- value band

-- low below low_cut, mid from low_cut, high from high_cut (a value equal to
-- a cut goes to the higher band). value_band_cuts(spend) gives default cuts.
CREATE FUNCTION value_band(spend float8, low_cut float8, high_cut float8) RETURNS text
    AS 'MODULE_PATHNAME', 'ca_value_band' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION value_band(spend float8, cuts float8[]) RETURNS text
    AS 'MODULE_PATHNAME', 'ca_value_band_cuts_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- --------------------------------------------------------------- activity

CREATE FUNCTION activity_status_transfn(internal, date, text, date) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_activity_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION activity_status_transfn(internal, date, text, date, integer, integer, integer, integer)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_activity_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION activity_status_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_activity_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION activity_status_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_activity_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION activity_status_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_activity_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION activity_status_finalfn(internal) RETURNS text
    AS 'MODULE_PATHNAME', 'ca_activity_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- One row per event; kind 'purchase' and 'checkin' (or 'offline_checkin')
-- qualify, any other kind is an ordinary interaction. active: >= 3 events
-- in the 30 days up to as_of, >= 1 of them qualifying; inactive: no event
-- in the 180 days up to as_of; neither otherwise.
CREATE AGGREGATE activity_status(event_date date, kind text, as_of date) (
    SFUNC = activity_status_transfn, STYPE = internal, SSPACE = 112,
    FINALFUNC = activity_status_finalfn, COMBINEFUNC = activity_status_combinefn,
    SERIALFUNC = activity_status_serialfn, DESERIALFUNC = activity_status_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE activity_status(event_date date, kind text, as_of date, recent_days integer,
                                 min_recent_events integer, min_recent_qualifying integer,
                                 inactive_days integer) (
    SFUNC = activity_status_transfn, STYPE = internal, SSPACE = 112,
    FINALFUNC = activity_status_finalfn, COMBINEFUNC = activity_status_combinefn,
    SERIALFUNC = activity_status_serialfn, DESERIALFUNC = activity_status_deserialfn,
    PARALLEL = SAFE);

-- ----------------------------------------------------- coupon sensitivity

CREATE FUNCTION coupon_sensitivity_transfn(internal, float8, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_coupon_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION coupon_sensitivity_transfn(internal, float8, boolean, float8[]) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_coupon_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION coupon_sensitivity_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_coupon_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION coupon_sensitivity_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_coupon_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION coupon_sensitivity_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_coupon_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION coupon_sensitivity_finalfn(internal) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_coupon_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The smallest ladder value (default 5 / 10 / 15 / 20) that activated the
-- customer: the smallest redeemed value, rounded up to the ladder. NULL when
-- nothing was redeemed or only values above the ladder.
CREATE AGGREGATE coupon_sensitivity(value float8, redeemed boolean) (
    SFUNC = coupon_sensitivity_transfn, STYPE = internal, SSPACE = 64,
    FINALFUNC = coupon_sensitivity_finalfn, COMBINEFUNC = coupon_sensitivity_combinefn,
    SERIALFUNC = coupon_sensitivity_serialfn, DESERIALFUNC = coupon_sensitivity_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE coupon_sensitivity(value float8, redeemed boolean, ladder float8[]) (
    SFUNC = coupon_sensitivity_transfn, STYPE = internal, SSPACE = 64,
    FINALFUNC = coupon_sensitivity_finalfn, COMBINEFUNC = coupon_sensitivity_combinefn,
    SERIALFUNC = coupon_sensitivity_serialfn, DESERIALFUNC = coupon_sensitivity_deserialfn,
    PARALLEL = SAFE);

-- ----------------------------------------------------------- purchase mix

CREATE FUNCTION purchase_mix_transfn(internal, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION purchase_mix_transfn(internal, boolean, boolean, float8, float8, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION purchase_mix_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION purchase_mix_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION purchase_mix_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION purchase_mix_finalfn(internal) RETURNS text
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- One row per order line: 'discount-sensitive' when >= 50% of lines were
-- discounted, 'new-product-sensitive' when >= 30% were new items, 'both',
-- or 'neither'; NULL with fewer than min_lines (default 1) lines.
CREATE AGGREGATE purchase_mix(discounted boolean, new_item boolean) (
    SFUNC = purchase_mix_transfn, STYPE = internal, SSPACE = 48,
    FINALFUNC = purchase_mix_finalfn, COMBINEFUNC = purchase_mix_combinefn,
    SERIALFUNC = purchase_mix_serialfn, DESERIALFUNC = purchase_mix_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE purchase_mix(discounted boolean, new_item boolean, discount_share_cutoff float8,
                              new_item_share_cutoff float8, min_lines bigint) (
    SFUNC = purchase_mix_transfn, STYPE = internal, SSPACE = 48,
    FINALFUNC = purchase_mix_finalfn, COMBINEFUNC = purchase_mix_combinefn,
    SERIALFUNC = purchase_mix_serialfn, DESERIALFUNC = purchase_mix_deserialfn,
    PARALLEL = SAFE);

-- ----------------------------------------------------- channel preference

CREATE TYPE channel_choice AS (
    channel text,           -- the preferred channel
    smoothed_rate float8,   -- (responses + m * prior) / (contacts + m)
    contacts bigint,        -- contacts on that channel
    responses bigint
);

CREATE FUNCTION channel_preference_transfn(internal, text, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_channel_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION channel_preference_transfn(internal, text, boolean, float8, float8, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_channel_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION channel_preference_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_channel_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION channel_preference_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_channel_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION channel_preference_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_channel_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION channel_preference_finalfn(internal) RETURNS channel_choice
    AS 'MODULE_PATHNAME', 'ca_channel_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- One row per contact: the channel with the best smoothed response rate.
-- prior_rate NULL (the default) = the customer's own pooled rate over all
-- channels; prior_weight default 10; channels with fewer than min_contacts
-- (default 1) contacts are not eligible. Ties: more contacts, then the
-- bytewise smaller name.
CREATE AGGREGATE channel_preference(channel text, responded boolean) (
    SFUNC = channel_preference_transfn, STYPE = internal, SSPACE = 128,
    FINALFUNC = channel_preference_finalfn, COMBINEFUNC = channel_preference_combinefn,
    SERIALFUNC = channel_preference_serialfn, DESERIALFUNC = channel_preference_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE channel_preference(channel text, responded boolean, prior_rate float8, prior_weight float8,
                                    min_contacts bigint) (
    SFUNC = channel_preference_transfn, STYPE = internal, SSPACE = 128,
    FINALFUNC = channel_preference_finalfn, COMBINEFUNC = channel_preference_combinefn,
    SERIALFUNC = channel_preference_serialfn, DESERIALFUNC = channel_preference_deserialfn,
    PARALLEL = SAFE);

-- -------------------------------------------------------- Pareto diagnosis

-- One spend per customer (non-negative; NULLs skipped). The aggregates share
-- one state: every spend, 8 bytes per customer.
CREATE TYPE lorenz_point AS (
    customer_share float8,  -- the poorest p of customers ...
    revenue_share float8    -- ... hold this share of revenue
);

CREATE FUNCTION pareto_spend_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_spend_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_spend_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_spend_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pareto_spend_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_spend_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION gini_transfn(internal, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_gini_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gini_finalfn(internal) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_gini_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- Gini coefficient, population form: 0 = all equal, (n - 1) / n = one
-- customer holds everything.
CREATE AGGREGATE gini(spend float8) (
    SFUNC = gini_transfn, STYPE = internal, SSPACE = 48,
    FINALFUNC = gini_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    SERIALFUNC = pareto_spend_serialfn, DESERIALFUNC = pareto_spend_deserialfn,
    PARALLEL = SAFE);

CREATE FUNCTION pareto_share_transfn(internal, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_pareto_share_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_share_finalfn(internal) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_pareto_share_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- Share of revenue from the top ceil(top_fraction * n) customers.
CREATE AGGREGATE pareto_share(spend float8, top_fraction float8) (
    SFUNC = pareto_share_transfn, STYPE = internal, SSPACE = 48,
    FINALFUNC = pareto_share_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    SERIALFUNC = pareto_spend_serialfn, DESERIALFUNC = pareto_spend_deserialfn,
    PARALLEL = SAFE);

CREATE FUNCTION lorenz_curve_transfn(internal, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_lorenz_default_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION lorenz_curve_transfn(internal, float8, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_lorenz_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION lorenz_curve_finalfn(internal) RETURNS lorenz_point[]
    AS 'MODULE_PATHNAME', 'ca_lorenz_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- segments + 1 evenly spaced points (default 10 segments) from (0, 0) to (1, 1).
CREATE AGGREGATE lorenz_curve(spend float8) (
    SFUNC = lorenz_curve_transfn, STYPE = internal, SSPACE = 48,
    FINALFUNC = lorenz_curve_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    SERIALFUNC = pareto_spend_serialfn, DESERIALFUNC = pareto_spend_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE lorenz_curve(spend float8, segments integer) (
    SFUNC = lorenz_curve_transfn, STYPE = internal, SSPACE = 48,
    FINALFUNC = lorenz_curve_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    SERIALFUNC = pareto_spend_serialfn, DESERIALFUNC = pareto_spend_deserialfn,
    PARALLEL = SAFE);

CREATE FUNCTION pareto_tier_thresholds_transfn(internal, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_tier_thresholds_default_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_tier_thresholds_transfn(internal, float8, float8[]) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_tier_thresholds_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_tier_thresholds_finalfn(internal) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'ca_tier_thresholds_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- The spend level of the top X% customers (the k-th largest spend, k =
-- ceil(X * n)) for each fraction, default {0.20, 0.05}: the silver and gold
-- thresholds for tier_for(spend, thresholds).
CREATE AGGREGATE pareto_tier_thresholds(spend float8) (
    SFUNC = pareto_tier_thresholds_transfn, STYPE = internal, SSPACE = 48,
    FINALFUNC = pareto_tier_thresholds_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    SERIALFUNC = pareto_spend_serialfn, DESERIALFUNC = pareto_spend_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE pareto_tier_thresholds(spend float8, top_fractions float8[]) (
    SFUNC = pareto_tier_thresholds_transfn, STYPE = internal, SSPACE = 48,
    FINALFUNC = pareto_tier_thresholds_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    SERIALFUNC = pareto_spend_serialfn, DESERIALFUNC = pareto_spend_deserialfn,
    PARALLEL = SAFE);

CREATE FUNCTION value_band_cuts_transfn(internal, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_value_band_cuts_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION value_band_cuts_finalfn(internal) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'ca_value_band_cuts_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- {low_cut, high_cut} for value_band: bottom 50% low, next 30% mid, top 20% high.
CREATE AGGREGATE value_band_cuts(spend float8) (
    SFUNC = value_band_cuts_transfn, STYPE = internal, SSPACE = 48,
    FINALFUNC = value_band_cuts_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    SERIALFUNC = pareto_spend_serialfn, DESERIALFUNC = pareto_spend_deserialfn,
    PARALLEL = SAFE);

-- ---------------------------------------------------------------- k-means

CREATE TYPE kmeans_model AS (
    k integer,
    d integer,                        -- features per point
    n bigint,                         -- points fitted
    feature_means float8[],           -- d: standardization
    feature_scales float8[],          -- d (1 when not standardized)
    centroids float8[],               -- k x d, original units; row i = cluster i
    centroids_standardized float8[],  -- k x d, standardized units
    sizes bigint[],                   -- k, points per cluster (cluster 1 is the largest)
    wcss float8,                      -- within-cluster sum of squares, standardized units
    silhouette float8,                -- mean silhouette width (sample of up to 4000 points); NULL for k = 1
    iterations integer,
    converged boolean
);

CREATE FUNCTION kmeans_fit_transfn(internal, float8[], integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_kmeans_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_fit_transfn(internal, float8[], integer, integer, integer, bigint, boolean, float8)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_kmeans_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_fit_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_kmeans_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_fit_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_kmeans_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION kmeans_fit_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_kmeans_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION kmeans_fit_finalfn(internal) RETURNS kmeans_model
    AS 'MODULE_PATHNAME', 'ca_kmeans_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- k-means++ seeding from a fixed seed, standardized features, Lloyd
-- iterations; the same data and parameters give the same model under any
-- plan. Full form: max_iterations (100), n_init (3), seed (42),
-- standardize (true), tolerance (0).
CREATE AGGREGATE kmeans_fit(features float8[], k integer) (
    SFUNC = kmeans_fit_transfn, STYPE = internal, SSPACE = 96,
    FINALFUNC = kmeans_fit_finalfn, COMBINEFUNC = kmeans_fit_combinefn,
    SERIALFUNC = kmeans_fit_serialfn, DESERIALFUNC = kmeans_fit_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE kmeans_fit(features float8[], k integer, max_iterations integer, n_init integer, seed bigint,
                            standardize boolean, tolerance float8) (
    SFUNC = kmeans_fit_transfn, STYPE = internal, SSPACE = 96,
    FINALFUNC = kmeans_fit_finalfn, COMBINEFUNC = kmeans_fit_combinefn,
    SERIALFUNC = kmeans_fit_serialfn, DESERIALFUNC = kmeans_fit_deserialfn,
    PARALLEL = SAFE);

-- The nearest centroid: cluster 1..k (ties to the lower number).
CREATE FUNCTION kmeans_assign(features float8[], model kmeans_model) RETURNS integer
    AS 'MODULE_PATHNAME', 'ca_kmeans_assign' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- --------------------------------------------------------------- affinity

CREATE TYPE affinity_pair AS (
    item_a text,            -- item_a < item_b (bytewise)
    item_b text,
    count_a bigint,         -- baskets with item_a
    count_b bigint,
    count_ab bigint,        -- baskets with both
    baskets bigint,         -- all baskets
    support_a float8,
    support_b float8,
    support_ab float8,      -- count_ab / baskets
    confidence_ab float8,   -- P(b | a) = count_ab / count_a
    confidence_ba float8,   -- P(a | b)
    lift float8,            -- count_ab * baskets / (count_a * count_b)
    jaccard float8          -- count_ab / (count_a + count_b - count_ab)
);

CREATE FUNCTION affinity_transfn(internal, text[]) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_affinity_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION affinity_transfn(internal, text[], float8, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_affinity_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION affinity_transfn(internal, text[], float8, integer, bigint, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_affinity_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION affinity_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_affinity_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION affinity_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_affinity_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION affinity_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_affinity_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION affinity_finalfn(internal) RETURNS affinity_pair[]
    AS 'MODULE_PATHNAME', 'ca_affinity_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- One row per basket (the set of its items): the top pairs of items with
-- support >= min_support (default 0.001) and count >= min_count (default
-- 1), ordered by order_by ('support', the default, or 'lift') descending,
-- at most top_n (default 100).
CREATE AGGREGATE affinity(items text[]) (
    SFUNC = affinity_transfn, STYPE = internal, SSPACE = 1024,
    FINALFUNC = affinity_finalfn, COMBINEFUNC = affinity_combinefn,
    SERIALFUNC = affinity_serialfn, DESERIALFUNC = affinity_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE affinity(items text[], min_support float8, top_n integer) (
    SFUNC = affinity_transfn, STYPE = internal, SSPACE = 1024,
    FINALFUNC = affinity_finalfn, COMBINEFUNC = affinity_combinefn,
    SERIALFUNC = affinity_serialfn, DESERIALFUNC = affinity_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE affinity(items text[], min_support float8, top_n integer, min_count bigint, order_by text) (
    SFUNC = affinity_transfn, STYPE = internal, SSPACE = 1024,
    FINALFUNC = affinity_finalfn, COMBINEFUNC = affinity_combinefn,
    SERIALFUNC = affinity_serialfn, DESERIALFUNC = affinity_deserialfn,
    PARALLEL = SAFE);

-- -------------------------------------------------------- segment overlap

CREATE TYPE overlap_stats AS (
    x bigint, y bigint, xy bigint, n bigint,  -- |X|, |Y|, |X and Y|, population
    support_x float8, support_y float8, support_xy float8,
    share_x_in_y float8,   -- xy / x: share of X also in Y
    share_y_in_x float8,   -- xy / y
    jaccard float8,        -- xy / (x + y - xy)
    lift float8            -- xy * n / (x * y)
);

CREATE FUNCTION segment_overlap(x bigint, y bigint, xy bigint, n bigint) RETURNS overlap_stats
    AS 'MODULE_PATHNAME', 'ca_segment_overlap_counts' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION segment_overlap_transfn(internal, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_overlap_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_overlap_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_overlap_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_overlap_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_overlap_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION segment_overlap_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_overlap_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION segment_overlap_finalfn(internal) RETURNS overlap_stats
    AS 'MODULE_PATHNAME', 'ca_overlap_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- One row per member of the population: is it in X, is it in Y.
CREATE AGGREGATE segment_overlap(in_x boolean, in_y boolean) (
    SFUNC = segment_overlap_transfn, STYPE = internal, SSPACE = 32,
    FINALFUNC = segment_overlap_finalfn, COMBINEFUNC = segment_overlap_combinefn,
    SERIALFUNC = segment_overlap_serialfn, DESERIALFUNC = segment_overlap_deserialfn,
    PARALLEL = SAFE);

-- -------------------------------------------------------------- campaigns

-- Deterministic hash-based holdout: the same (key, salt) always gives the
-- same answer; nested in the fraction; use the campaign name as the salt.
CREATE FUNCTION holdout(customer_key bigint, fraction float8, salt text DEFAULT '') RETURNS boolean
    AS 'MODULE_PATHNAME', 'ca_holdout_int8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION holdout(customer_key text, fraction float8, salt text DEFAULT '') RETURNS boolean
    AS 'MODULE_PATHNAME', 'ca_holdout_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- The uniform number in [0, 1) behind holdout: holdout = unit < fraction.
CREATE FUNCTION holdout_unit(customer_key bigint, salt text DEFAULT '') RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_holdout_unit_int8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION holdout_unit(customer_key text, salt text DEFAULT '') RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_holdout_unit_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE campaign_report AS (
    treated bigint,               -- contacted customers
    treated_responders bigint,
    treated_revenue float8,
    holdout bigint,               -- held-out customers
    holdout_responders bigint,
    holdout_revenue float8,
    treated_rate float8,          -- response rates
    holdout_rate float8,
    revenue_per_treated float8,
    revenue_per_holdout float8,
    absolute_lift float8,         -- treated_rate - holdout_rate
    relative_lift float8,         -- absolute_lift / holdout_rate
    lift_ci_low float8,           -- Newcombe interval for absolute_lift
    lift_ci_high float8,
    z float8,                     -- pooled two-proportion z test
    p_value float8,
    incremental_responders float8,
    revenue_lift float8,          -- revenue_per_treated - revenue_per_holdout
    incremental_revenue float8,
    roi float8                    -- (incremental_revenue - cost) / cost
);

CREATE FUNCTION campaign_report_transfn(internal, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_campaign_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION campaign_report_transfn(internal, boolean, boolean, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_campaign_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION campaign_report_transfn(internal, boolean, boolean, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_campaign_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION campaign_report_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_campaign_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION campaign_report_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_campaign_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION campaign_report_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_campaign_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION campaign_report_finalfn(internal) RETURNS campaign_report
    AS 'MODULE_PATHNAME', 'ca_campaign_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- One row per customer of the campaign (contacted or held out). A NULL
-- in_holdout skips the row; a NULL responded counts as no response and a
-- NULL revenue as 0. Full form: confidence of the interval (0.95) and the
-- campaign's cost (0 = no ROI).
CREATE AGGREGATE campaign_report(in_holdout boolean, responded boolean) (
    SFUNC = campaign_report_transfn, STYPE = internal, SSPACE = 80,
    FINALFUNC = campaign_report_finalfn, COMBINEFUNC = campaign_report_combinefn,
    SERIALFUNC = campaign_report_serialfn, DESERIALFUNC = campaign_report_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE campaign_report(in_holdout boolean, responded boolean, revenue float8) (
    SFUNC = campaign_report_transfn, STYPE = internal, SSPACE = 80,
    FINALFUNC = campaign_report_finalfn, COMBINEFUNC = campaign_report_combinefn,
    SERIALFUNC = campaign_report_serialfn, DESERIALFUNC = campaign_report_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE campaign_report(in_holdout boolean, responded boolean, revenue float8, confidence float8,
                                 cost float8) (
    SFUNC = campaign_report_transfn, STYPE = internal, SSPACE = 80,
    FINALFUNC = campaign_report_finalfn, COMBINEFUNC = campaign_report_combinefn,
    SERIALFUNC = campaign_report_serialfn, DESERIALFUNC = campaign_report_deserialfn,
    PARALLEL = SAFE);
