// Lifecycle stages, the tier funnel and the frequency x value quadrants from
// the builder's views; the day ranges and cuts are read from the customers
// the table put in each class, so they hold whatever options the build used.
import {load} from "../../lib/db.js";

await load(async (client, {relations, target, asOf}) => {
  const stages = (
    await client.query(
      `SELECT s.lifecycle_stage, s.customers, s.customer_share, s.revenue, d.min_days, d.max_days
       FROM ${relations.stage_counts} s
       LEFT JOIN (SELECT coalesce(lifecycle_stage, 'no purchase') AS lifecycle_stage,
                         min(recency_days) AS min_days, max(recency_days) AS max_days
                  FROM ${target} GROUP BY 1) d USING (lifecycle_stage)
       ORDER BY d.max_days NULLS LAST, s.lifecycle_stage`
    )
  ).rows;
  const tiers = (
    await client.query(
      `SELECT tier, tier_rank, customers, customer_share, revenue, lowest_spend
       FROM ${relations.tier_funnel} ORDER BY tier_rank DESC`
    )
  ).rows;
  const quadrants = (
    await client.query(
      `SELECT quadrant, customers, customer_share, revenue FROM ${relations.quadrant_counts} ORDER BY quadrant`
    )
  ).rows;
  // A value equal to its cut counts as high: the lowest value in the high
  // half is the cut as the data shows it.
  const cuts = (
    await client.query(
      `SELECT min(frequency) FILTER (WHERE quadrant LIKE 'high_frequency%') AS frequency_cut,
              min(monetary / frequency) FILTER (WHERE quadrant LIKE '%high_value') AS value_cut
       FROM ${target} WHERE frequency > 0`
    )
  ).rows[0];
  return {target, asOf, stages, tiers, quadrants, cuts};
});
