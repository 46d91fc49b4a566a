// bench/duckdb_peer.cjs -- DuckDB's figures on the same orders, for
// bench/bulk.sh (a peer measurement, never a dependency of the extension):
//
//   NODE_PATH=DIR/node_modules node bench/duckdb_peer.cjs orders.csv AS_OF RUNS
//
// orders.csv holds customer_id, order_date, amount (PostgreSQL's \copy). It
// loads them into an in-memory DuckDB with 2 threads (amount as
// DECIMAL(18,2), exact like numeric), then times the bare GROUP BY and the
// plain-SQL RFM query of bench/bulk.sh (sections a and f), each consumed as
// a count over every row, best of RUNS.
const { DuckDBInstance } = require('@duckdb/node-api');

async function main() {
    const [csv, asOf, runsText] = process.argv.slice(2);
    const runs = Number(runsText || 3);
    const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
    const connection = await instance.connect();
    const time = async (sql) => {
        const started = process.hrtime.bigint();
        await connection.runAndReadAll(sql);
        return Number(process.hrtime.bigint() - started) / 1e9;
    };
    const load = await time(`CREATE TABLE orders AS SELECT * FROM read_csv('${csv}', header = false,
        columns = {'customer_id': 'BIGINT', 'order_date': 'DATE', 'amount': 'DECIMAL(18,2)'})`);
    const bare = `SELECT count(*) FROM (SELECT customer_id, max(order_date) AS d, count(*) AS n, sum(amount) AS s
                  FROM orders GROUP BY customer_id) q WHERE d IS NOT NULL AND s IS NOT NULL`;
    const rfm = `WITH s AS (
        SELECT customer_id, DATE '${asOf}' - max(order_date) FILTER (WHERE amount >= 0) AS recency,
               count(*) FILTER (WHERE amount >= 0) AS frequency, sum(amount) AS monetary
        FROM orders GROUP BY customer_id
    ), q AS (
        SELECT customer_id, recency, ntile(5) OVER (ORDER BY recency DESC) AS r,
               ntile(5) OVER (ORDER BY frequency) AS f, ntile(5) OVER (ORDER BY monetary) AS m
        FROM s
    ), z AS (
        SELECT customer_id, r, f, m,
               CASE WHEN r BETWEEN 4 AND 5 AND f BETWEEN 4 AND 5 AND m BETWEEN 4 AND 5 THEN 'Champions'
                    WHEN r BETWEEN 2 AND 5 AND f BETWEEN 3 AND 5 AND m BETWEEN 3 AND 5 THEN 'Loyal Customers'
                    WHEN r = 1 AND f BETWEEN 4 AND 5 AND m BETWEEN 4 AND 5 THEN 'Can''t Lose Them'
                    WHEN r BETWEEN 4 AND 5 AND f = 1 AND m = 1 THEN 'New Customers'
                    WHEN r BETWEEN 3 AND 4 AND f = 1 AND m = 1 THEN 'Promising'
                    WHEN r BETWEEN 2 AND 3 AND f BETWEEN 2 AND 3 AND m BETWEEN 2 AND 3 THEN 'Need Attention'
                    WHEN r BETWEEN 3 AND 5 AND f BETWEEN 1 AND 3 AND m BETWEEN 1 AND 3 THEN 'Potential Loyalist'
                    WHEN r BETWEEN 2 AND 3 AND f BETWEEN 1 AND 2 AND m BETWEEN 1 AND 2 THEN 'About To Sleep'
                    WHEN r BETWEEN 1 AND 2 AND f BETWEEN 2 AND 5 AND m BETWEEN 2 AND 5 THEN 'At Risk'
                    WHEN r = 1 AND f = 1 AND m = 1 THEN 'Lost'
                    WHEN r BETWEEN 1 AND 2 AND f BETWEEN 1 AND 2 AND m BETWEEN 1 AND 2 THEN 'Hibernating'
                    ELSE 'Others' END AS segment,
               CASE WHEN recency <= 63 THEN 'active' WHEN recency <= 126 THEN 'silent'
                    WHEN recency <= 365 THEN 'sleeping' ELSE 'churned' END AS stage
        FROM q
    )
    SELECT count(*) FROM z WHERE segment IS NOT NULL`;
    let bestBare = Infinity;
    let bestRfm = Infinity;
    for (let i = 0; i < runs; ++i) {
        bestBare = Math.min(bestBare, await time(bare));
        bestRfm = Math.min(bestRfm, await time(rfm));
    }
    console.log(`DuckDB (2 threads): load ${load.toFixed(2)} s, bare GROUP BY ${bestBare.toFixed(3)} s, ` +
                `plain RFM ${bestRfm.toFixed(3)} s (best of ${runs})`);
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
