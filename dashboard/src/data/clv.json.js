// Probability alive and customer lifetime value per customer, summarised by
// segment. The builder's table has no model columns, so the models are
// fitted here, in the database, with the extension's functions: BG/NBD on
// (x, t_x, t_cal) in weeks from all orders up to the build's as-of date,
// Gamma-Gamma on the mean spend of the repeat purchase days (the orders after
// a customer's first purchase day), CLV over CA_CLV_MONTHS months (12) at
// CA_CLV_DISCOUNT a month (0.01).
import {load} from "../../lib/db.js";

const months = Number(process.env.CA_CLV_MONTHS || 12);
const monthlyDiscount = Number(process.env.CA_CLV_DISCOUNT || 0.01);

await load(async (client, {target, asOf, orders}) => {
  if (!orders) return {target, asOf, model: null, reason: "no orders table: set CA_ORDERS to the table the build reads"};
  const {table, customer, date, amount} = orders;
  const sql = `
    WITH per_customer AS (      -- orders up to the end of the as-of day (date, timestamp or timestamptz)
        SELECT ${customer} AS customer, rfm_agg(${date}, ${amount}) AS s
        FROM ${table} WHERE ${date} < $1::date + 1 AND ${customer} IS NOT NULL GROUP BY 1
    ), repeat_days AS (
        SELECT o.${customer} AS customer, rfm_agg(o.${date}, o.${amount}) AS r
        FROM ${table} o JOIN per_customer p ON p.customer = o.${customer}
        WHERE o.${date} < $1::date + 1 AND o.${date} >= (p.s).first_order + 1
        GROUP BY 1
    ), inputs AS MATERIALIZED (
        SELECT p.customer, (btyd_inputs(p.s, $1::date, 'week')).*, (r.r).purchase_days AS spend_x,
               (r.r).monetary / nullif((r.r).purchase_days, 0) AS mean_spend
        FROM per_customer p LEFT JOIN repeat_days r USING (customer)
        WHERE (p.s).first_order IS NOT NULL
    ), models AS MATERIALIZED (
        SELECT (SELECT bgnbd_fit(x, t_x, t_cal) FROM inputs) AS bg,
               (SELECT gamma_gamma_fit(spend_x, mean_spend) FROM inputs WHERE mean_spend > 0) AS gg
    ), customers AS MATERIALIZED (
        SELECT t.segment, bgnbd_p_alive(m.bg, i.x, i.t_x, i.t_cal) AS p_alive,
               clv(m.bg, i.x, i.t_x, i.t_cal,
                   -- refunds can leave no positive repeat spend: such customers get the population mean
                   CASE WHEN i.mean_spend > 0 THEN gamma_gamma_expected_spend(m.gg, i.spend_x, i.mean_spend)
                        ELSE gamma_gamma_expected_spend(m.gg, 0, NULL) END,
                   $2, $3, 52.0 / 12) AS clv
        FROM inputs i JOIN ${target} t ON t.customer = i.customer, models m
    )
    SELECT json_build_object(
        'bg', (SELECT to_json(m.bg) FROM models m),
        'gg', (SELECT to_json(m.gg) FROM models m),
        'bySegment', (SELECT json_agg(s ORDER BY s.clv_sum DESC) FROM (
            SELECT segment, count(*) AS customers, avg(p_alive) AS p_alive_mean,
                   percentile_cont(ARRAY[0.1, 0.25, 0.5, 0.75, 0.9]) WITHIN GROUP (ORDER BY p_alive) AS p_alive_quantiles,
                   sum(clv) AS clv_sum, avg(clv) AS clv_mean,
                   percentile_cont(ARRAY[0.1, 0.25, 0.5, 0.75, 0.9]) WITHIN GROUP (ORDER BY clv) AS clv_quantiles
            FROM customers GROUP BY segment) s),
        -- P(alive) in tenths per segment: the distribution behind the quantiles
        'histogram', (SELECT json_agg(h ORDER BY h.segment, h.bin) FROM (
            SELECT segment, least(floor(p_alive * 10), 9)::int AS bin, count(*) AS customers
            FROM customers GROUP BY 1, 2) h),
        'modelled', (SELECT count(*) FROM customers),
        'customers', (SELECT count(*) FROM ${target})
    ) AS result`;
  try {
    const {rows} = await client.query(sql, [asOf, months, monthlyDiscount]);
    return {target, asOf, months, monthlyDiscount, ...rows[0].result};
  } catch (error) {
    // 22000: nothing to estimate yet (no customer with a repeat purchase).
    if (error.code === "22000") return {target, asOf, model: null, reason: error.message};
    throw error;
  }
});
