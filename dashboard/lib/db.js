// The one way the data loaders reach PostgreSQL: node-postgres, configured
// by the usual libpq variables (PGHOST, PGPORT, PGUSER, PGDATABASE,
// PGPASSWORD, PGSSLMODE...), plus CA_TARGET, the table build_segments made.
import pg from "pg";

// Counts are bigint and sums numeric: both arrive as text. Counts of
// customers fit a double exactly; sums are shown to the cent, which a double
// keeps for any total below 2^53 cents.
pg.types.setTypeParser(pg.types.builtins.INT8, Number);
pg.types.setTypeParser(pg.types.builtins.NUMERIC, Number);

export async function withClient(fn) {
  const client = new pg.Client({application_name: "customer_analytics dashboard"});
  await client.connect();
  try {
    // Read-only, whatever role the settings name: the dashboard never writes.
    await client.query("SET default_transaction_read_only = on");
    const {rows} = await client.query(
      `SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
       WHERE e.extname = 'customer_analytics'`
    );
    if (rows.length === 0) {
      throw new Error(`the database ${client.database} has no customer_analytics extension (CREATE EXTENSION customer_analytics)`);
    }
    // The extension's functions (rfm_agg, bgnbd_fit...) wherever it was installed.
    await client.query("SELECT set_config('search_path', quote_ident($1) || ', ' || current_setting('search_path'), false)", [
      rows[0].schema
    ]);
    return await fn(client, rows[0].schema);
  } finally {
    await client.end();
  }
}

// Runs fn with a client and the build's context, and writes its result as
// JSON to standard output (the contract of an Observable Framework loader).
export async function load(fn) {
  try {
    const result = await withClient(async (client, schema) => fn(client, await buildContext(client, schema)));
    process.stdout.write(JSON.stringify(result));
  } catch (error) {
    process.stderr.write(`dashboard data loader: ${error.message}\n`);
    process.exit(1);
  }
}

const suffixes = ["segment_sizes", "stage_counts", "tier_funnel", "quadrant_counts", "migration"];

// Where the build's table, views and orders are, and its as-of date, from
// its row in segment_builds (visible to every role that may read the
// table). CA_ORDERS, CA_CUSTOMER_COLUMN, CA_DATE_COLUMN, CA_AMOUNT_COLUMN and
// CA_AS_OF override it: for a table copied elsewhere, or a role that may not
// see the row.
export async function buildContext(client, schema) {
  const target = process.env.CA_TARGET || "customer_segments";
  const found = await client.query(
    `SELECT c.oid::regclass::text AS target, n.nspname AS schema, c.relname AS name
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`,
    [target]
  );
  if (found.rows.length === 0) {
    throw new Error(`no table ${target}: set CA_TARGET to the table build_segments created`);
  }
  const {target: table, schema: tableSchema, name} = found.rows[0];
  const q = (identifier) => client.escapeIdentifier(identifier);
  const relations = {table};
  for (const suffix of suffixes) relations[suffix] = `${q(tableSchema)}.${q(`${name}_${suffix}`)}`;

  const build = (
    await client.query(
      `SELECT as_of::text, refresh_number, refreshed_at, source::text AS source, customer_column::text,
              date_column::text, amount_column::text, options
       FROM ${q(schema)}.segment_builds WHERE target = $1::regclass`,
      [table]
    )
  ).rows[0];
  let asOf = process.env.CA_AS_OF || build?.as_of;
  if (!asOf) {
    // recency_days = as_of - last_order for every customer who bought before as_of.
    const {rows} = await client.query(
      `SELECT max(last_order + recency_days)::text AS as_of FROM ${table} WHERE recency_days > 0`
    );
    asOf = rows[0].as_of;
  }
  const refreshNumber = build?.refresh_number ?? null;

  let orders = null;
  const source = process.env.CA_ORDERS || build?.source;
  if (source) {
    const {rows} = await client.query("SELECT $1::regclass::text AS source", [source]);
    orders = {
      table: rows[0].source,
      customer: q(process.env.CA_CUSTOMER_COLUMN || build?.customer_column || "customer_id"),
      date: q(process.env.CA_DATE_COLUMN || build?.date_column || "order_date"),
      amount: q(process.env.CA_AMOUNT_COLUMN || build?.amount_column || "amount")
    };
  }
  return {target: table, relations, asOf, refreshNumber, refreshedAt: build?.refreshed_at ?? null, orders};
}
