// Customers per (segment before the last refresh, segment now) from
// T_migration; NULL before means a customer new at the last refresh.
import {load} from "../../lib/db.js";

await load(async (client, {relations, target, asOf, refreshNumber}) => {
  const moves = (
    await client.query(
      `SELECT from_segment, to_segment, customers FROM ${relations.migration}
       ORDER BY customers DESC, from_segment NULLS FIRST, to_segment`
    )
  ).rows;
  return {target, asOf, refreshNumber, moves};
});
