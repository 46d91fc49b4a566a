-- The extension in a schema whose name needs quoting and contains the
-- characters format() treats specially, off the caller's search_path: the
-- builder reaches its own objects by the quoted schema name, never by
-- splicing the name into a format() template.
SELECT current_database() AS original_database \gset
CREATE DATABASE ca_schema_names;
\c ca_schema_names
CREATE SCHEMA "ca%s%I%L x";
CREATE EXTENSION customer_analytics SCHEMA "ca%s%I%L x";
GRANT USAGE ON SCHEMA "ca%s%I%L x" TO PUBLIC;
GRANT CREATE ON SCHEMA public TO ca_analyst;
SET ROLE ca_analyst;
SET search_path = public;
CREATE TABLE orders (customer_id int, ordered_on date, amount numeric(12, 2));
INSERT INTO orders SELECT g % 25, DATE '2024-01-01' + (g * 11) % 330, (g % 50) + 0.25 FROM generate_series(1, 500) g;
SELECT "ca%s%I%L x".build_segments('orders', 'customer_id', 'ordered_on', 'amount', 'segments', DATE '2024-12-31');
SELECT "ca%s%I%L x".add_segment_rule('segments', 'regular', 'frequency >= 20 AND rfm_segment(rfm_score(r_score, f_score, m_score)) IS NOT NULL');
INSERT INTO orders VALUES (1, DATE '2024-12-30', 10), (99, DATE '2024-12-30', 20);
SELECT "ca%s%I%L x".refresh_segments('segments', DATE '2024-12-31') - 'seconds';
SELECT count(*) AS customers, count(*) FILTER (WHERE 'regular' = ANY (tags)) AS regulars,
       sum(monetary) = (SELECT sum(amount) FROM orders) AS revenue_matches
FROM segments;
SELECT sum(customers) FROM segments_migration;
SELECT "ca%s%I%L x".drop_segments('segments');
RESET ROLE;
\c :original_database
DROP DATABASE ca_schema_names;
