
-- ------------------------------------------------- aggregate volatility

-- CREATE AGGREGATE records every aggregate as IMMUTABLE, whatever its
-- support functions are, and offers no clause to say otherwise. The
-- planner believes the record: postgres_fdw ships an "immutable" aggregate
-- to the remote server, whose session runs in UTC, so rfm_agg over
-- timestamptz order times would turn them into dates in UTC instead of the
-- caller's TimeZone. So every aggregate of the extension is recorded with
-- the most volatile of its support functions (the timestamptz variants:
-- STABLE), which keeps such aggregates local; date variants stay IMMUTABLE
-- and are still shipped. This runs last, after every CREATE (OR REPLACE)
-- AGGREGATE, which would record IMMUTABLE again.
UPDATE pg_catalog.pg_proc AS aggregate_proc
   SET provolatile = support.volatility
  FROM (SELECT a.aggfnoid,
               CASE WHEN bool_or(f.provolatile = 'v') THEN 'v'
                    WHEN bool_or(f.provolatile = 's') THEN 's'
                    ELSE 'i' END::"char" AS volatility
          FROM pg_catalog.pg_aggregate AS a
          JOIN pg_catalog.pg_proc AS f
            ON f.oid IN (a.aggtransfn, a.aggfinalfn, a.aggcombinefn, a.aggserialfn, a.aggdeserialfn)
         WHERE a.aggfnoid IN (SELECT d.objid FROM pg_catalog.pg_depend AS d
                               WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                                 AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
                                 AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension AS e
                                                    WHERE e.extname = 'customer_analytics')
                                 AND d.deptype = 'e')
         GROUP BY a.aggfnoid) AS support
 WHERE aggregate_proc.oid = support.aggfnoid
   AND aggregate_proc.provolatile <> support.volatility;
