// The R x F grid: customers and revenue per (r_score, f_score) cell of the
// build's table (one row per customer), with the cell's commonest segment.
import {load} from "../../lib/db.js";

await load(async (client, {target, asOf}) => {
  const cells = (
    await client.query(
      `SELECT r_score, f_score, count(*) AS customers, sum(monetary) AS revenue,
              mode() WITHIN GROUP (ORDER BY segment) AS segment
       FROM ${target} WHERE r_score IS NOT NULL AND f_score IS NOT NULL
       GROUP BY 1, 2 ORDER BY 1, 2`
    )
  ).rows;
  const unscored = (
    await client.query(`SELECT count(*) AS customers FROM ${target} WHERE r_score IS NULL OR f_score IS NULL`)
  ).rows[0].customers;
  return {target, asOf, cells, unscored};
});
