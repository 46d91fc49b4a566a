
-- ---------------------------------------------------------- customer tags
--
-- Consumption stage, value band, activity, coupon sensitivity, discount /
-- new-product sensitivity and channel preference.
-- Aggregates take no parameter defaults, so each has a short form and a
-- form with every parameter; parameters of an aggregate must be the same on
-- every row of a group (this holds for the aggregates of the following
-- parts too).

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
    AS 'MODULE_PATHNAME', 'ca_value_band_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- --------------------------------------------------------------- activity

CREATE FUNCTION activity_status_transfn(analytics_state, date, text, date) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_activity_status_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION activity_status_transfn(analytics_state, date, text, date, integer, integer, integer, integer)
    RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_activity_status_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION activity_status_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_activity_status_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION activity_status_finalfn(analytics_state) RETURNS text
    AS 'MODULE_PATHNAME', 'ca_activity_status_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- One row per event; kind 'purchase' and 'checkin' (or 'offline_checkin')
-- qualify, any other kind is an ordinary interaction. active: >= 3 events
-- in the 30 days up to as_of, >= 1 of them qualifying; inactive: no event
-- in the 180 days up to as_of; neither otherwise.
CREATE AGGREGATE activity_status(event_date date, kind text, as_of date) (
    SFUNC = activity_status_transfn, STYPE = analytics_state, SSPACE = 176,
    FINALFUNC = activity_status_finalfn, COMBINEFUNC = activity_status_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE activity_status(event_date date, kind text, as_of date, recent_days integer,
                                 min_recent_events integer, min_recent_qualifying integer,
                                 inactive_days integer) (
    SFUNC = activity_status_transfn, STYPE = analytics_state, SSPACE = 176,
    FINALFUNC = activity_status_finalfn, COMBINEFUNC = activity_status_combinefn,
    PARALLEL = SAFE);

-- ----------------------------------------------------- coupon sensitivity

CREATE FUNCTION coupon_sensitivity_transfn(analytics_state, float8, boolean) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_coupon_sensitivity_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION coupon_sensitivity_transfn(analytics_state, float8, boolean, float8[]) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_coupon_sensitivity_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION coupon_sensitivity_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_coupon_sensitivity_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION coupon_sensitivity_finalfn(analytics_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_coupon_sensitivity_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The smallest ladder value (default 5 / 10 / 15 / 20) that activated the
-- customer: the smallest redeemed value, rounded up to the ladder. NULL when
-- nothing was redeemed or only values above the ladder.
CREATE AGGREGATE coupon_sensitivity(value float8, redeemed boolean) (
    SFUNC = coupon_sensitivity_transfn, STYPE = analytics_state, SSPACE = 128,
    FINALFUNC = coupon_sensitivity_finalfn, COMBINEFUNC = coupon_sensitivity_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE coupon_sensitivity(value float8, redeemed boolean, ladder float8[]) (
    SFUNC = coupon_sensitivity_transfn, STYPE = analytics_state, SSPACE = 128,
    FINALFUNC = coupon_sensitivity_finalfn, COMBINEFUNC = coupon_sensitivity_combinefn,
    PARALLEL = SAFE);

-- ----------------------------------------------------------- purchase mix

CREATE FUNCTION purchase_mix_transfn(analytics_state, boolean, boolean) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION purchase_mix_transfn(analytics_state, boolean, boolean, float8, float8, bigint) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION purchase_mix_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION purchase_mix_finalfn(analytics_state) RETURNS text
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- One row per order line: 'discount-sensitive' when >= 50% of lines were
-- discounted, 'new-product-sensitive' when >= 30% were new items, 'both',
-- or 'neither'; NULL with fewer than min_lines (default 1) lines.
CREATE AGGREGATE purchase_mix(discounted boolean, new_item boolean) (
    SFUNC = purchase_mix_transfn, STYPE = analytics_state, SSPACE = 112,
    FINALFUNC = purchase_mix_finalfn, COMBINEFUNC = purchase_mix_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE purchase_mix(discounted boolean, new_item boolean, discount_share_cutoff float8,
                              new_item_share_cutoff float8, min_lines bigint) (
    SFUNC = purchase_mix_transfn, STYPE = analytics_state, SSPACE = 112,
    FINALFUNC = purchase_mix_finalfn, COMBINEFUNC = purchase_mix_combinefn,
    PARALLEL = SAFE);

-- ----------------------------------------------------- channel preference

CREATE TYPE channel_choice AS (
    channel text,           -- the preferred channel
    smoothed_rate float8,   -- (responses + m * prior) / (contacts + m)
    contacts bigint,        -- contacts on that channel
    responses bigint
);

CREATE FUNCTION channel_preference_transfn(analytics_state, text, boolean) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_channel_preference_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION channel_preference_transfn(analytics_state, text, boolean, float8, float8, bigint) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_channel_preference_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION channel_preference_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_channel_preference_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION channel_preference_finalfn(analytics_state) RETURNS channel_choice
    AS 'MODULE_PATHNAME', 'ca_channel_preference_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- One row per contact: the channel with the best smoothed response rate.
-- prior_rate NULL (the default) = the customer's own pooled rate over all
-- channels; prior_weight default 10; channels with fewer than min_contacts
-- (default 1) contacts are not eligible. Ties: more contacts, then the
-- bytewise smaller name.
CREATE AGGREGATE channel_preference(channel text, responded boolean) (
    SFUNC = channel_preference_transfn, STYPE = analytics_state, SSPACE = 192,
    FINALFUNC = channel_preference_finalfn, COMBINEFUNC = channel_preference_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE channel_preference(channel text, responded boolean, prior_rate float8, prior_weight float8,
                                    min_contacts bigint) (
    SFUNC = channel_preference_transfn, STYPE = analytics_state, SSPACE = 192,
    FINALFUNC = channel_preference_finalfn, COMBINEFUNC = channel_preference_combinefn,
    PARALLEL = SAFE);
