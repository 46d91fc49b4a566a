-- tier_for: membership tiers by spend, with hysteresis.
SET ROLE ca_analyst;

-- Tiers: reaching a threshold upgrades; numeric comparisons are exact.
SELECT s, tier_for(s, '{1000,5000}') FROM unnest(ARRAY[0, 999.999999999999999999, 1000, 4999.99, 5000, 1e9]::numeric[]) s;
SELECT tier_for(750.0::float8, '{500,1000}'::float8[], '{bronze,silver,gold}'), tier_for(-10, '{0}', '{none,member}');
-- Hysteresis: upgrade at once, downgrade only at re-rating, NULL = no tier yet.
SELECT current_tier, spend, rerating, tier_for(spend, '{1000,5000}', '{normal,silver,gold}', current_tier, rerating)
FROM (VALUES ('silver', 6000, false), ('gold', 10, false), ('gold', 10, true), ('silver', 2000, true),
             (NULL, 2000, false), ('normal', 999, false)) AS v(current_tier, spend, rerating);
SELECT tier_for(10.0::float8, '{1000,5000}', '{normal,silver,gold}', 'gold', false);
SELECT tier_for(NULL::numeric, '{1000,5000}', '{normal,silver,gold}', 'gold', false) IS NULL AS null_spend;
RESET ROLE;
