// Segment sizes and revenue from T_segment_sizes, and the 8 RFM classes
// (English and Chinese names) from the build's table.
import {load} from "../../lib/db.js";

await load(async (client, context) => {
  const {relations, target} = context;
  const segments = (
    await client.query(
      `SELECT segment, customers, customer_share, revenue, revenue_share
       FROM ${relations.segment_sizes} ORDER BY revenue DESC NULLS LAST, segment`
    )
  ).rows;
  // The views give shares as fractions in [0, 1] (percentages before 0.2.0).
  if (segments.some((d) => d.customer_share > 1 || d.revenue_share > 1)) {
    throw new Error(`${relations.segment_sizes} gives shares above 1: the dashboard needs customer_analytics 0.2.0 or later (refresh the build after ALTER EXTENSION customer_analytics UPDATE)`);
  }
  const classes = (
    await client.query(
      `SELECT rfm_class, rfm_class_zh, count(*) AS customers, sum(monetary) AS revenue
       FROM ${target} GROUP BY 1, 2 ORDER BY revenue DESC NULLS LAST, rfm_class`
    )
  ).rows;
  return {
    target,
    asOf: context.asOf,
    refreshNumber: context.refreshNumber,
    refreshedAt: context.refreshedAt,
    segments,
    classes
  };
});
