
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
--
-- The script runs as a superuser with search_path set to the extension's
-- schema, which the installing role may own and fill beforehand: every
-- operator and function here is written with its schema and compares
-- values of exactly its argument types, so no operator of that schema
-- (say "=" of oid and regclass, a better match than pg_catalog's for
-- mixed types) can be chosen and run with a superuser's rights.
UPDATE pg_catalog.pg_proc AS aggregate_proc
   SET provolatile = support.volatility
  FROM (SELECT a.aggfnoid::pg_catalog.oid AS aggregate_oid,
               CASE WHEN pg_catalog.bool_or(f.provolatile OPERATOR(pg_catalog.=) 'v'::pg_catalog."char") THEN 'v'
                    WHEN pg_catalog.bool_or(f.provolatile OPERATOR(pg_catalog.=) 's'::pg_catalog."char") THEN 's'
                    ELSE 'i' END::pg_catalog."char" AS volatility
          FROM pg_catalog.pg_aggregate AS a
          JOIN pg_catalog.pg_proc AS f
            ON f.oid OPERATOR(pg_catalog.=) ANY (ARRAY[a.aggtransfn::pg_catalog.oid, a.aggfinalfn::pg_catalog.oid,
                                                       a.aggcombinefn::pg_catalog.oid, a.aggserialfn::pg_catalog.oid,
                                                       a.aggdeserialfn::pg_catalog.oid])
          JOIN pg_catalog.pg_depend AS d
            ON d.objid OPERATOR(pg_catalog.=) a.aggfnoid::pg_catalog.oid
           AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass::pg_catalog.oid
           AND d.objsubid OPERATOR(pg_catalog.=) 0
         WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass::pg_catalog.oid
           AND d.refobjid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension AS e
                                                   WHERE e.extname OPERATOR(pg_catalog.=)
                                                         'customer_analytics'::pg_catalog.name)
           AND d.deptype OPERATOR(pg_catalog.=) 'e'::pg_catalog."char"
         GROUP BY a.aggfnoid) AS support
 WHERE aggregate_proc.oid OPERATOR(pg_catalog.=) support.aggregate_oid
   AND aggregate_proc.provolatile OPERATOR(pg_catalog.<>) support.volatility;
