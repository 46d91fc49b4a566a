-- Describes every object of the installed customer_analytics extension in
-- a form that does not depend on OIDs or creation order, one line each, so
-- that an upgraded database and a fresh install can be compared with diff.
-- Run with psql -XAt.
SET search_path = pg_catalog;

WITH ext AS (
    SELECT e.oid, e.extnamespace FROM pg_extension e WHERE e.extname = 'customer_analytics'
), member AS (
    SELECT d.classid, d.objid FROM pg_depend d, ext
    WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
), lines AS (
    -- The extension itself.
    SELECT 'extension' AS kind, e.extname::text AS name,
           format('version=%s relocatable=%s schema=%s config=%s conditions=%s', e.extversion, e.extrelocatable,
                  e.extnamespace::regnamespace,
                  (SELECT string_agg(c::regclass::text, ',' ORDER BY c::regclass::text) FROM unnest(e.extconfig) c),
                  array_to_string(e.extcondition, ',')) AS detail
    FROM pg_extension e WHERE e.extname = 'customer_analytics'
    UNION ALL
    -- Every member, by its description.
    SELECT 'member', pg_describe_object(m.classid, m.objid, 0), '' FROM member m
    UNION ALL
    -- Functions and procedures: their whole definition and privileges.
    SELECT 'function', p.oid::regprocedure::text,
           pg_get_functiondef(p.oid) || ' acl=' || coalesce(p.proacl::text, 'default') ||
           ' cost=' || p.procost || ' rows=' || p.prorows
    FROM member m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid WHERE p.prokind <> 'a'
    UNION ALL
    SELECT 'aggregate', p.oid::regprocedure::text,
           format('kind=%s direct=%s transfn=%s finalfn=%s combinefn=%s serialfn=%s deserialfn=%s '
                  'finalextra=%s finalmodify=%s transtype=%s transspace=%s initval=%s sortop=%s '
                  'parallel=%s volatile=%s strict=%s acl=%s',
                  a.aggkind, a.aggnumdirectargs, a.aggtransfn::regprocedure, a.aggfinalfn::regprocedure,
                  a.aggcombinefn::regprocedure, a.aggserialfn::regprocedure, a.aggdeserialfn::regprocedure,
                  a.aggfinalextra, a.aggfinalmodify, a.aggtranstype::regtype, a.aggtransspace, a.agginitval,
                  a.aggsortop, p.proparallel, p.provolatile, p.proisstrict, coalesce(p.proacl::text, 'default'))
    FROM member m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
    JOIN pg_aggregate a ON a.aggfnoid = p.oid
    UNION ALL
    -- Types: base types by their functions and storage, composite types by
    -- their attributes in order.
    SELECT 'type', t.oid::regtype::text,
           format('type=%s len=%s byval=%s align=%s storage=%s input=%s output=%s receive=%s send=%s '
                  'category=%s acl=%s',
                  t.typtype, t.typlen, t.typbyval, t.typalign, t.typstorage, t.typinput::regproc,
                  t.typoutput::regproc, t.typreceive::regproc, t.typsend::regproc, t.typcategory,
                  coalesce(t.typacl::text, 'default'))
    FROM member m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
    UNION ALL
    SELECT 'column', c.oid::regclass::text || '.' || a.attname,
           format('position=%s type=%s notnull=%s default=%s identity=%s generated=%s acl=%s',
                  row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), format_type(a.atttypid, a.atttypmod),
                  a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated,
                  coalesce(a.attacl::text, 'default'))
    FROM member m
    JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
    JOIN pg_class c ON c.oid = t.typrelid
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
    UNION ALL
    -- Tables, sequences, indexes: kind, security and privileges; columns of
    -- tables as above (a table's row type is not itself a member).
    SELECT 'relation', c.oid::regclass::text,
           format('kind=%s persistence=%s rls=%s force_rls=%s acl=%s options=%s comment=%s', c.relkind,
                  c.relpersistence, c.relrowsecurity, c.relforcerowsecurity, coalesce(c.relacl::text, 'default'),
                  c.reloptions, obj_description(c.oid, 'pg_class'))
    FROM member m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
    UNION ALL
    SELECT 'column', c.oid::regclass::text || '.' || a.attname,
           format('position=%s type=%s notnull=%s default=%s identity=%s generated=%s acl=%s',
                  row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), format_type(a.atttypid, a.atttypmod),
                  a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated,
                  coalesce(a.attacl::text, 'default'))
    FROM member m
    JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid AND c.relkind IN ('r', 'p')
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
    UNION ALL
    SELECT 'constraint', co.conrelid::regclass::text || '.' || co.conname, pg_get_constraintdef(co.oid)
    FROM member m JOIN pg_constraint co ON m.classid = 'pg_class'::regclass AND co.conrelid = m.objid
    UNION ALL
    SELECT 'index', i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
    FROM member m JOIN pg_index i ON m.classid = 'pg_class'::regclass AND i.indrelid = m.objid
    UNION ALL
    SELECT 'policy', po.polrelid::regclass::text || '.' || po.polname,
           format('cmd=%s permissive=%s roles=%s using=%s check=%s', po.polcmd, po.polpermissive,
                  (SELECT string_agg(r::regrole::text, ',' ORDER BY r::regrole::text) FROM unnest(po.polroles) r),
                  pg_get_expr(po.polqual, po.polrelid), pg_get_expr(po.polwithcheck, po.polrelid))
    FROM member m JOIN pg_policy po ON m.classid = 'pg_class'::regclass AND po.polrelid = m.objid
    UNION ALL
    SELECT 'trigger', tg.tgrelid::regclass::text || '.' || tg.tgname, pg_get_triggerdef(tg.oid)
    FROM member m JOIN pg_trigger tg ON m.classid = 'pg_class'::regclass AND tg.tgrelid = m.objid
    WHERE NOT tg.tgisinternal
    UNION ALL
    SELECT 'sequence', s.seqrelid::regclass::text,
           format('type=%s start=%s increment=%s max=%s min=%s cache=%s cycle=%s', s.seqtypid::regtype, s.seqstart,
                  s.seqincrement, s.seqmax, s.seqmin, s.seqcache, s.seqcycle)
    FROM member m JOIN pg_sequence s ON m.classid = 'pg_class'::regclass AND s.seqrelid = m.objid
    UNION ALL
    SELECT 'operator', o.oid::regoperator::text,
           format('function=%s commutator=%s negator=%s restrict=%s join=%s hashes=%s merges=%s', o.oprcode,
                  o.oprcom::regoperator, o.oprnegate::regoperator, o.oprrest, o.oprjoin, o.oprcanhash,
                  o.oprcanmerge)
    FROM member m JOIN pg_operator o ON m.classid = 'pg_operator'::regclass AND o.oid = m.objid
    UNION ALL
    SELECT 'opclass', format('%s %s', am.amname, oc.opcname),
           format('type=%s default=%s family=%s members=%s', oc.opcintype::regtype, oc.opcdefault,
                  of.opfname,
                  (SELECT string_agg(x, ',' ORDER BY x) FROM (
                       SELECT format('op %s %s', ao.amopstrategy, ao.amopopr::regoperator) AS x
                       FROM pg_amop ao WHERE ao.amopfamily = oc.opcfamily
                       UNION ALL
                       SELECT format('proc %s %s', ap.amprocnum, ap.amproc::regprocedure)
                       FROM pg_amproc ap WHERE ap.amprocfamily = oc.opcfamily) members))
    FROM member m JOIN pg_opclass oc ON m.classid = 'pg_opclass'::regclass AND oc.oid = m.objid
    JOIN pg_am am ON am.oid = oc.opcmethod JOIN pg_opfamily of ON of.oid = oc.opcfamily
    UNION ALL
    SELECT 'comment', pg_describe_object(m.classid, m.objid, 0), obj_description(m.objid, m.classid::regclass::name)
    FROM member m WHERE obj_description(m.objid, m.classid::regclass::name) IS NOT NULL
)
SELECT kind || ' | ' || name || ' | ' || regexp_replace(detail, '\s+', ' ', 'g') FROM lines ORDER BY 1;
