// Calibration against holdout: the orders are split at as_of minus
// CA_HOLDOUT_WEEKS weeks (26); BG/NBD is fitted on the calibration period
// and each customer's expected purchases in the holdout weeks are compared
// with the purchase days they actually made there, per number of repeat
// purchases in calibration (the published way to check a BTYD model).
import {load} from "../../lib/db.js";

const weeks = Number(process.env.CA_HOLDOUT_WEEKS || 26);

await load(async (client, {target, asOf, orders}) => {
  if (!orders) return {target, asOf, model: null, reason: "no orders table: set CA_ORDERS to the table the build reads"};
  const {table, customer, date, amount} = orders;
  const sql = `
    WITH split AS (SELECT $1::date - 7 * $2::int AS cal_end, $1::date AS holdout_end),
    calibration AS (
        SELECT ${customer} AS customer, btyd_inputs(rfm_agg(${date}, ${amount}), split.cal_end, 'week') AS i
        FROM ${table}, split WHERE ${date} < split.cal_end + 1 AND ${customer} IS NOT NULL GROUP BY 1, split.cal_end
    ), holdout AS (
        SELECT ${customer} AS customer, (rfm_agg(${date}, ${amount})).purchase_days AS purchases
        FROM ${table}, split WHERE ${date} >= split.cal_end + 1 AND ${date} < split.holdout_end + 1 GROUP BY 1
    ), model AS MATERIALIZED (
        SELECT bgnbd_fit((i).x, (i).t_x, (i).t_cal) AS m FROM calibration
    ), customers AS MATERIALIZED (
        SELECT (c.i).x, bgnbd_expected(model.m, $2, (c.i).x, (c.i).t_x, (c.i).t_cal) AS predicted,
               coalesce(h.purchases, 0) AS actual
        FROM calibration c LEFT JOIN holdout h USING (customer), model
        WHERE c.i IS NOT NULL
    )
    SELECT json_build_object(
        'calEnd', (SELECT cal_end FROM split),
        'model', (SELECT to_json(m) FROM model),
        'buckets', (SELECT json_agg(b ORDER BY b.repeat_purchases) FROM (
            SELECT least(x, 7)::int AS repeat_purchases, count(*) AS customers,
                   avg(predicted) AS predicted_mean, avg(actual) AS actual_mean,
                   sum(predicted) AS predicted_sum, sum(actual) AS actual_sum
            FROM customers GROUP BY 1) b),
        'totals', (SELECT json_build_object('customers', count(*), 'predicted', sum(predicted), 'actual', sum(actual))
                   FROM customers)
    ) AS result`;
  try {
    const {rows} = await client.query(sql, [asOf, weeks]);
    return {target, asOf, weeks, ...rows[0].result};
  } catch (error) {
    if (error.code === "22000") return {target, asOf, weeks, model: null, reason: error.message};
    throw error;
  }
});
