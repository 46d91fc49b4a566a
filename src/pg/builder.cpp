// The segment builder's edges where rights change hands. Everything else of
// the builder is plpgsql (extension/source/40_builder.sql) running with the
// caller's rights; these functions are the only places where code runs as
// another role, and each one decides whose rights apply the way PostgreSQL
// itself does:
//
//   build_segments      resolves the target name with the caller's
//                       search_path, then builds with the caller's rights.
//   refresh_segments    like REFRESH MATERIALIZED VIEW: only a role with the
//                       privileges of the target's owner may refresh, and the
//                       refresh runs as that owner inside a security-restricted
//                       operation, so no code another role wrote (a view over
//                       the orders, a type's cast) ever runs with the
//                       refresher's rights.
//   catalog gates       the catalog tables (segment_builds, segment_tag_rules)
//                       grant no write privilege to anyone; a role writes the
//                       rows of targets it owns only through these functions,
//                       which check ownership first and then write as the
//                       catalog's owner with a fixed statement.
//   segment_capture     the trigger on the source: it looks its build up by
//                       id, refuses to run on any other table, never evaluates
//                       a cast or function of the source's column types (types
//                       that differ from those recorded at build time leave a
//                       rebuild marker instead), and writes the build owner's
//                       pending table as that owner.
//   rule conditions     parsed by PostgreSQL's parser as exactly one
//                       expression over the target's columns, then walked:
//                       only constants, columns and immutable functions and
//                       operators built into PostgreSQL or this extension.
//                       The stored text is never run; the deparsed, checked
//                       expression is.
//
// No C++ object with a destructor lives in these frames: they call
// PostgreSQL throughout, which can raise an error at any point.
#include <cctype>
#include <cerrno>

#include "barrier.hpp"

extern "C" {
#include "access/relation.h"
#include "access/transam.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_func.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
}

#undef printf
#undef sprintf
#undef snprintf

namespace {

constexpr const char* kExtension = "customer_analytics";

// ------------------------------------------------------------ identities

struct RelationFacts {
    Oid owner;
    Oid namespace_oid;
    char kind;
};

bool relation_facts(Oid relid, RelationFacts* facts) {
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(tuple))
        return false;
    const auto* form = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple));
    facts->owner = form->relowner;
    facts->namespace_oid = form->relnamespace;
    facts->kind = form->relkind;
    ReleaseSysCache(tuple);
    return true;
}

RelationFacts existing_relation(Oid relid) {
    RelationFacts facts;
    if (!relation_facts(relid, &facts))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation with OID %u does not exist", relid)));
    return facts;
}

// The ownership test PostgreSQL applies to ALTER TABLE or REFRESH
// MATERIALIZED VIEW: the current role has the privileges of the owner.
RelationFacts require_owner(Oid relid) {
    const RelationFacts facts = existing_relation(relid);
    if (!has_privs_of_role(GetUserId(), facts.owner))
        aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
    return facts;
}

// The extension's schema is the schema of the running function: every
// function of the extension lives there.
Oid extension_namespace(FunctionCallInfo fcinfo) { return get_func_namespace(fcinfo->flinfo->fn_oid); }

const char* qualified_name(Oid namespace_oid, const char* name) {
    return quote_qualified_identifier(get_namespace_name(namespace_oid), name);
}

const char* qualified_relation(Oid relid) {
    const RelationFacts facts = existing_relation(relid);
    return qualified_name(facts.namespace_oid, get_rel_name(relid));
}

Oid catalog_table(Oid extension_schema, const char* name) {
    const Oid relid = get_relname_relid(name, extension_schema);
    if (!OidIsValid(relid))
        ereport(ERROR,
                (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("catalog table %s.%s of %s is missing",
                                                          get_namespace_name(extension_schema), name, kExtension)));
    return relid;
}

// --------------------------------------------------------- acting as a role

// Runs the statements between become() and restore() as `role`, with
// search_path pinned and any setting they change undone at restore().
// An error in between needs no cleanup: aborting the (sub)transaction
// restores the user id, the security context and the settings.
struct Identity {
    Oid saved_user;
    int saved_context;
    int nest_level;
};

Identity become(Oid role, int context) {
    Identity identity;
    GetUserIdAndSecContext(&identity.saved_user, &identity.saved_context);
    SetUserIdAndSecContext(role, identity.saved_context | SECURITY_LOCAL_USERID_CHANGE | context);
    identity.nest_level = NewGUCNestLevel();
    set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                      false);
    return identity;
}

void restore(const Identity& identity) {
    AtEOXact_GUC(true, identity.nest_level);
    SetUserIdAndSecContext(identity.saved_user, identity.saved_context);
}

// ------------------------------------------------------------ catalog gates

// One fixed statement on the catalog, run as the catalog's owner inside a
// security-restricted operation. `statement` has one %s: the quoted
// extension schema. Returns the first column of the first row (or 0).
Datum catalog_statement(Oid extension_schema, const char* statement, int argument_count, Oid* types, Datum* values,
                        const char* nulls, bool* found) {
    const RelationFacts catalog = existing_relation(catalog_table(extension_schema, "segment_builds"));
    const char* sql = psprintf(statement, quote_identifier(get_namespace_name(extension_schema)));
    const Identity identity = become(catalog.owner, SECURITY_RESTRICTED_OPERATION);
    if (SPI_connect() != SPI_OK_CONNECT)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("SPI_connect failed")));
    const int status = SPI_execute_with_args(sql, argument_count, types, values, nulls, false, 0);
    if (status < 0)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                        errmsg("catalog statement failed: %s", SPI_result_code_string(status))));
    Datum result = 0;
    *found = false;
    if (SPI_tuptable != nullptr && SPI_processed > 0) {
        bool is_null = true;
        const Datum first = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &is_null);
        if (!is_null) {
            *found = true;
            result = first;  // by-value results only (bigint, integer, boolean)
        }
    }
    SPI_finish();
    restore(identity);
    return result;
}

void require_arguments(FunctionCallInfo fcinfo, int count, const char* function) {
    for (int i = 0; i < count; ++i)
        if (PG_ARGISNULL(i))
            ereport(ERROR,
                    (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s arguments must not be null", function)));
}

// Table-level SELECT, or SELECT on the column (pg_attribute_aclcheck looks
// at column privileges only).
bool may_read_column(Oid relid, AttrNumber column, Oid role) {
    return pg_class_aclcheck(relid, role, ACL_SELECT) == ACLCHECK_OK ||
           pg_attribute_aclcheck(relid, column, role, ACL_SELECT) == ACLCHECK_OK;
}

AttrNumber source_column(Oid source, Name column) {
    const AttrNumber number = get_attnum(source, NameStr(*column));
    if (number == InvalidAttrNumber)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                        errmsg("column \"%s\" does not exist in %s", NameStr(*column), qualified_relation(source))));
    return number;
}

}  // namespace

// segment_catalog_register(target, source, customer_column, date_column,
// amount_column, options, as_of, incremental, customers, orders_merged,
// state_table, pending_table, history_table [, order_column [,
// statistics_table]]) -> build_id. Called by segment_build after it created
// the tables; the caller must own them and be able to read the source's
// columns (and create triggers on it when the build captures new orders).
// The columns' types are recorded for the capture trigger, which copies
// values only while they still match. A build with a statistics table has
// layout 3 (the target is a view that derives its columns when read), one
// without has layout 2 (the target is a table of stored columns).
CA_FUNCTION(ca_segment_catalog_register) {
    require_arguments(fcinfo, 13, "segment_catalog_register");
    const bool has_order_column = PG_NARGS() > 13 && !PG_ARGISNULL(13);
    const bool has_statistics_table = PG_NARGS() > 14 && !PG_ARGISNULL(14);
    const Oid target = PG_GETARG_OID(0);
    const Oid source = PG_GETARG_OID(1);
    const bool incremental = PG_GETARG_BOOL(7);
    const RelationFacts owner = require_owner(target);
    for (int argument : {10, 11, 12, 14}) {
        if (argument == 14 && !has_statistics_table)
            continue;
        const RelationFacts table = existing_relation(PG_GETARG_OID(argument));
        if (table.owner != owner.owner)
            ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                            errmsg("%s must have the same owner as %s", qualified_relation(PG_GETARG_OID(argument)),
                                   qualified_relation(target))));
    }
    existing_relation(source);
    Oid column_types[4] = {InvalidOid, InvalidOid, InvalidOid, InvalidOid};
    for (int i = 0; i < (has_order_column ? 4 : 3); ++i) {
        const AttrNumber column = source_column(source, PG_GETARG_NAME(i < 3 ? 2 + i : 13));
        if (!may_read_column(source, column, GetUserId()))
            aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, get_rel_name(source));
        column_types[i] = get_atttype(source, column);
    }
    if (incremental && pg_class_aclcheck(source, GetUserId(), ACL_TRIGGER) != ACLCHECK_OK)
        aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, get_rel_name(source));

    const Oid schema = extension_namespace(fcinfo);
    Oid key_type[1] = {REGCLASSOID};
    Datum key[1] = {ObjectIdGetDatum(target)};
    bool found;
    // A row for this OID can only be left over from a dropped table whose OID
    // was reused: the target was created in this transaction.
    catalog_statement(schema, "DELETE FROM %s.segment_tag_rules WHERE target = $1", 1, key_type, key, nullptr, &found);
    catalog_statement(schema, "DELETE FROM %s.segment_builds WHERE target = $1", 1, key_type, key, nullptr, &found);
    Oid types[21] = {REGCLASSOID, REGROLEOID, REGCLASSOID, NAMEOID, NAMEOID,     NAMEOID,     JSONBOID,
                     DATEOID,     BOOLOID,    INT8OID,     INT8OID, REGCLASSOID, REGCLASSOID, REGCLASSOID,
                     REGTYPEOID,  REGTYPEOID, REGTYPEOID,  NAMEOID, REGTYPEOID,  REGCLASSOID, INT4OID};
    Datum values[21] = {ObjectIdGetDatum(target),
                        ObjectIdGetDatum(owner.owner),
                        ObjectIdGetDatum(source),
                        PG_GETARG_DATUM(2),
                        PG_GETARG_DATUM(3),
                        PG_GETARG_DATUM(4),
                        PG_GETARG_DATUM(5),
                        PG_GETARG_DATUM(6),
                        BoolGetDatum(incremental),
                        PG_GETARG_DATUM(8),
                        PG_GETARG_DATUM(9),
                        PG_GETARG_DATUM(10),
                        PG_GETARG_DATUM(11),
                        PG_GETARG_DATUM(12),
                        ObjectIdGetDatum(column_types[0]),
                        ObjectIdGetDatum(column_types[1]),
                        ObjectIdGetDatum(column_types[2]),
                        has_order_column ? PG_GETARG_DATUM(13) : (Datum)0,
                        ObjectIdGetDatum(column_types[3]),
                        has_statistics_table ? PG_GETARG_DATUM(14) : (Datum)0,
                        Int32GetDatum(has_statistics_table ? 3 : 2)};
    char nulls[22] = "                     ";
    if (!has_order_column)
        nulls[17] = nulls[18] = 'n';
    if (!has_statistics_table)
        nulls[19] = 'n';
    const Datum build_id = catalog_statement(
        schema,
        "INSERT INTO %s.segment_builds (target, owner, source, customer_column, date_column, amount_column, "
        "options, as_of, incremental, customers, orders_merged, state_table, pending_table, history_table, "
        "customer_type, date_type, amount_type, order_column, order_type, statistics_table, layout, refresh_number, "
        "last_mode, built_at, refreshed_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, 1, "
        "'build', pg_catalog.now(), pg_catalog.now()) RETURNING build_id",
        21, types, values, nulls, &found);
    PG_RETURN_DATUM(build_id);
}

// segment_catalog_refreshed(target, as_of, refresh_number, mode, customers,
// orders_merged, layout): records a finished refresh. The layout says which
// objects the builder made, so it can only be the one the build has: 3 with
// a statistics table, 2 (a build of an older release on its first refresh,
// too) without.
CA_FUNCTION(ca_segment_catalog_refreshed) {
    require_arguments(fcinfo, 7, "segment_catalog_refreshed");
    const Oid target = PG_GETARG_OID(0);
    const RelationFacts owner = require_owner(target);
    const std::int32_t layout = PG_GETARG_INT32(6);
    Oid key_type[1] = {REGCLASSOID};
    Datum key[1] = {ObjectIdGetDatum(target)};
    bool derived_found;
    const bool derived =
        DatumGetBool(catalog_statement(extension_namespace(fcinfo),
                                       "SELECT statistics_table IS NOT NULL FROM %s.segment_builds WHERE target = $1",
                                       1, key_type, key, nullptr, &derived_found));
    if (!derived_found)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("%s was not built by build_segments", qualified_relation(target))));
    if (layout != (derived ? 3 : 2))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("layout %d is not the layout of %s", layout, qualified_relation(target)),
                        errdetail("Its layout is %d.", derived ? 3 : 2)));
    Oid types[8] = {REGCLASSOID, DATEOID, INT4OID, TEXTOID, INT8OID, INT8OID, REGROLEOID, INT4OID};
    Datum values[8] = {ObjectIdGetDatum(target),
                       PG_GETARG_DATUM(1),
                       PG_GETARG_DATUM(2),
                       PG_GETARG_DATUM(3),
                       PG_GETARG_DATUM(4),
                       PG_GETARG_DATUM(5),
                       ObjectIdGetDatum(owner.owner),
                       PG_GETARG_DATUM(6)};
    bool found;
    catalog_statement(extension_namespace(fcinfo),
                      "UPDATE %s.segment_builds SET as_of = $2, refresh_number = $3, last_mode = $4, "
                      "refreshed_at = pg_catalog.now(), customers = $5, orders_merged = $6, owner = $7, "
                      "layout = $8 WHERE target = $1 RETURNING true",
                      8, types, values, nullptr, &found);
    if (!found)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("%s was not built by build_segments", qualified_relation(target))));
    PG_RETURN_VOID();
}

// segment_catalog_capture(target, relations): records the relations whose
// capture triggers feed the build; NULL turns capture off (every refresh
// rebuilds).
CA_FUNCTION(ca_segment_catalog_capture) {
    require_arguments(fcinfo, 1, "segment_catalog_capture");
    const Oid target = PG_GETARG_OID(0);
    require_owner(target);
    Oid types[2] = {REGCLASSOID, REGCLASSARRAYOID};
    Datum values[2] = {ObjectIdGetDatum(target), PG_ARGISNULL(1) ? Datum(0) : PG_GETARG_DATUM(1)};
    const char nulls[3] = {' ', PG_ARGISNULL(1) ? 'n' : ' ', '\0'};
    bool found;
    catalog_statement(extension_namespace(fcinfo),
                      "UPDATE %s.segment_builds SET capture_relations = $2, incremental = ($2 IS NOT NULL) "
                      "WHERE target = $1 RETURNING true",
                      2, types, values, nulls, &found);
    if (!found)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("%s was not built by build_segments", qualified_relation(target))));
    PG_RETURN_VOID();
}

// segment_catalog_forget(target): removes a build and its rules.
CA_FUNCTION(ca_segment_catalog_forget) {
    require_arguments(fcinfo, 1, "segment_catalog_forget");
    const Oid target = PG_GETARG_OID(0);
    require_owner(target);
    Oid types[1] = {REGCLASSOID};
    Datum values[1] = {ObjectIdGetDatum(target)};
    bool found;
    const Oid schema = extension_namespace(fcinfo);
    catalog_statement(schema, "DELETE FROM %s.segment_tag_rules WHERE target = $1", 1, types, values, nullptr, &found);
    catalog_statement(schema, "DELETE FROM %s.segment_builds WHERE target = $1 RETURNING true", 1, types, values,
                      nullptr, &found);
    if (!found)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("%s was not built by build_segments", qualified_relation(target))));
    PG_RETURN_VOID();
}

// ---------------------------------------------------------- rule conditions

namespace {

struct RuleCheck {
    const char* tag;
    Relation target;
    Oid extension;
};

[[noreturn]] void reject_rule(const RuleCheck* check, const char* what) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("rule condition for tag \"%s\" uses %s", check->tag, what),
                    errdetail("A rule condition is one boolean expression over the columns of %s, built from "
                              "constants and immutable functions and operators of PostgreSQL or %s.",
                              RelationGetRelationName(check->target), kExtension),
                    errhint("Write a condition such as frequency >= 5 AND segment = 'Champions'.")));
    pg_unreachable();
}

void check_rule_function(const RuleCheck* check, Oid function) {
    HeapTuple tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(function));
    if (!HeapTupleIsValid(tuple))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION), errmsg("function with OID %u does not exist", function)));
    const auto* form = reinterpret_cast<Form_pg_proc>(GETSTRUCT(tuple));
    const bool immutable = form->provolatile == PROVOLATILE_IMMUTABLE;
    const bool returns_set = form->proretset;
    ReleaseSysCache(tuple);
    // Objects numbered below FirstNormalObjectId were created by initdb.
    const bool trusted =
        function < FirstNormalObjectId || getExtensionOfObject(ProcedureRelationId, function) == check->extension;
    if (returns_set)
        reject_rule(check, psprintf("the set-returning function %s", format_procedure(function)));
    if (!trusted)
        reject_rule(check,
                    psprintf("%s, which is not part of PostgreSQL or %s", format_procedure(function), kExtension));
    if (!immutable)
        reject_rule(check, psprintf("%s, which is not immutable", format_procedure(function)));
}

bool check_rule_node(Node* node, void* context);

bool walk_rule_children(Node* node, void* context) {
#if PG_VERSION_NUM >= 160000
    return expression_tree_walker(node, check_rule_node, context);
#else
    return expression_tree_walker(node, reinterpret_cast<bool (*)()>(check_rule_node), context);
#endif
}

bool check_rule_node(Node* node, void* context) {
    if (node == nullptr)
        return false;
    const auto* check = static_cast<const RuleCheck*>(context);
    switch (nodeTag(node)) {
    case T_Var: {
        const auto* var = reinterpret_cast<Var*>(node);
        if (var->varlevelsup != 0 || var->varno != 1 || var->varattno <= 0)
            reject_rule(check, "a column that is not a column of the segment table");
        const char* column = NameStr(TupleDescAttr(RelationGetDescr(check->target), var->varattno - 1)->attname);
        if (std::strcmp(column, "tags") == 0)
            reject_rule(check, "the tags column, which the rules compute");
        return false;
    }
    case T_Const:
    case T_CaseTestExpr:
        return false;
    case T_List:
    case T_BoolExpr:
    case T_NullTest:
    case T_BooleanTest:
    case T_CaseExpr:
    case T_CaseWhen:
    case T_CoalesceExpr:
    case T_MinMaxExpr:
    case T_ArrayExpr:
    case T_RowExpr:
    case T_RelabelType:
    case T_CollateExpr:
    case T_FieldSelect:
    case T_ArrayCoerceExpr:
    case T_SubscriptingRef:
        break;
    case T_FuncExpr:
        check_rule_function(check, reinterpret_cast<FuncExpr*>(node)->funcid);
        break;
    case T_OpExpr:
    case T_DistinctExpr:
    case T_NullIfExpr:
        set_opfuncid(reinterpret_cast<OpExpr*>(node));
        check_rule_function(check, reinterpret_cast<OpExpr*>(node)->opfuncid);
        break;
    case T_ScalarArrayOpExpr:
        set_sa_opfuncid(reinterpret_cast<ScalarArrayOpExpr*>(node));
        check_rule_function(check, reinterpret_cast<ScalarArrayOpExpr*>(node)->opfuncid);
        break;
    case T_RowCompareExpr: {
        ListCell* cell;
        foreach (cell, reinterpret_cast<RowCompareExpr*>(node)->opnos)
            check_rule_function(check, get_opcode(lfirst_oid(cell)));
        break;
    }
    case T_CoerceViaIO: {
        // A cast through text calls the output function of one type and the
        // input function of the other.
        const auto* coerce = reinterpret_cast<CoerceViaIO*>(node);
        Oid output_function, input_function, io_parameter;
        bool varlena;
        getTypeOutputInfo(exprType(reinterpret_cast<Node*>(coerce->arg)), &output_function, &varlena);
        getTypeInputInfo(coerce->resulttype, &input_function, &io_parameter);
        check_rule_function(check, output_function);
        check_rule_function(check, input_function);
        break;
    }
    case T_SubLink:
        reject_rule(check, "a subquery");
    case T_Aggref:
        reject_rule(check, "an aggregate function");
    case T_WindowFunc:
        reject_rule(check, "a window function");
    case T_Param:
        reject_rule(check, "a parameter");
    case T_CoerceToDomain:
    case T_CoerceToDomainValue:
        reject_rule(check, "a domain type, whose checks could run any function");
    case T_SQLValueFunction:
        reject_rule(check, "a value that depends on the session, such as CURRENT_DATE");
    default:
        reject_rule(check, psprintf("an expression of a kind rules do not allow (node %d)", int(nodeTag(node))));
    }
    return walk_rule_children(node, context);
}

}  // namespace

// The checked, deparsed SQL of a rule condition over `target`'s columns.
// Errors from the parser and from the checks name the tag.
static char* rule_expression_sql(Oid extension_schema, Oid target, const char* tag, const char* condition) {
    // Parse and analysis errors point into the condition (as PL/pgSQL's do
    // into its queries), not into the statement that called us.
    static constexpr char kPrefix[] = "SELECT ";
    const char* sql = psprintf("%s%s", kPrefix, condition);
    MemoryContext caller_context = CurrentMemoryContext;
    // A condition reads the same whoever adds or refreshes it: names resolve
    // in pg_catalog, then the extension's schema, never the caller's path.
    const int parse_level = NewGUCNestLevel();
    set_config_option("search_path",
                      psprintf("pg_catalog, %s, pg_temp", quote_identifier(get_namespace_name(extension_schema))),
                      PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
    Node* checked = nullptr;
    Relation relation = nullptr;
    ParseState* parse = nullptr;
    PG_TRY();
    {
#if PG_VERSION_NUM >= 140000
        List* statements = raw_parser(sql, RAW_PARSE_DEFAULT);
#else
        List* statements = raw_parser(sql);
#endif
        Node* expression = nullptr;
        if (list_length(statements) == 1) {
            auto* select = reinterpret_cast<SelectStmt*>(linitial_node(RawStmt, statements)->stmt);
            if (IsA(select, SelectStmt) && select->op == SETOP_NONE && list_length(select->targetList) == 1 &&
                select->intoClause == nullptr && select->fromClause == NIL && select->whereClause == nullptr &&
                select->groupClause == NIL && select->havingClause == nullptr && select->windowClause == NIL &&
                select->valuesLists == NIL && select->sortClause == NIL && select->limitOffset == nullptr &&
                select->limitCount == nullptr && select->lockingClause == NIL && select->withClause == nullptr &&
                select->distinctClause == NIL) {
                auto* result = linitial_node(ResTarget, select->targetList);
                if (result->name == nullptr && result->indirection == NIL)
                    expression = result->val;
            }
        }
        if (expression == nullptr)
            ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR), errmsg("the condition is not one expression"),
                            errhint("Write a single boolean expression over the segment table's columns, without "
                                    "a semicolon, a FROM clause or a column alias.")));
        relation = try_relation_open(target, AccessShareLock);
        if (relation == nullptr)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation with OID %u does not exist", target)));
        parse = make_parsestate(nullptr);
        parse->p_sourcetext = sql;
        ParseNamespaceItem* item =
            addRangeTableEntryForRelation(parse, relation, AccessShareLock, nullptr, false, false);
        addNSItemToQuery(parse, item, false, true, true);
        checked = transformExpr(parse, expression, EXPR_KIND_OTHER);
        checked = coerce_to_boolean(parse, checked, "a rule condition");
        assign_expr_collations(parse, checked);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller_context);
        ErrorData* error = CopyErrorData();
        FlushErrorState();
        error->message = psprintf("invalid rule condition for tag \"%s\": %s", tag, error->message);
        if (error->cursorpos > static_cast<int>(sizeof kPrefix - 1)) {
            error->internalpos = error->cursorpos - static_cast<int>(sizeof kPrefix - 1);
            error->internalquery = pstrdup(condition);
        }
        error->cursorpos = 0;
        if (error->hint == nullptr)
            error->hint = pstrdup(
                "Write a boolean expression over the segment table's columns, such as "
                "frequency >= 5.");
        ReThrowError(error);
    }
    PG_END_TRY();
    AtEOXact_GUC(true, parse_level);
    RuleCheck check{tag, relation, get_extension_oid(kExtension, false)};
    check_rule_node(checked, &check);
    // Deparsed for a refresh, whose search_path is pg_catalog, pg_temp: the
    // extension's functions come out schema-qualified.
    const int deparse_level = NewGUCNestLevel();
    set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                      false);
    char* text =
        deparse_expression(checked, deparse_context_for(RelationGetRelationName(relation), target), false, false);
    AtEOXact_GUC(true, deparse_level);
    free_parsestate(parse);
    relation_close(relation, NoLock);
    return text;
}

static void check_tag(const char* tag) {
    bool blank = true;
    for (const char* c = tag; *c != '\0' && blank; ++c)
        blank = std::isspace(static_cast<unsigned char>(*c)) != 0;
    if (blank)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("tag names must not be empty")));
}

// segment_rule_sql(target, tag, condition) -> text: what a refresh runs for
// the rule (NULL-free arguments; the checks above, every time).
CA_FUNCTION(ca_segment_rule_sql) {
    require_arguments(fcinfo, 3, "segment_rule_sql");
    const char* tag = text_to_cstring(PG_GETARG_TEXT_PP(1));
    PG_RETURN_TEXT_P(cstring_to_text(rule_expression_sql(extension_namespace(fcinfo), PG_GETARG_OID(0), tag,
                                                         text_to_cstring(PG_GETARG_TEXT_PP(2)))));
}

// add_segment_rule(target, tag, condition, enabled)
CA_FUNCTION(ca_add_segment_rule) {
    require_arguments(fcinfo, 4, "add_segment_rule");
    const Oid target = PG_GETARG_OID(0);
    require_owner(target);
    const char* tag = text_to_cstring(PG_GETARG_TEXT_PP(1));
    check_tag(tag);
    const Oid schema = extension_namespace(fcinfo);
    Oid key_type[1] = {REGCLASSOID};
    Datum key[1] = {ObjectIdGetDatum(target)};
    bool found;
    catalog_statement(schema, "SELECT true FROM %s.segment_builds WHERE target = $1", 1, key_type, key, nullptr,
                      &found);
    if (!found)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("%s was not built by build_segments", qualified_relation(target)),
                        errhint("Build it first with build_segments().")));
    rule_expression_sql(schema, target, tag, text_to_cstring(PG_GETARG_TEXT_PP(2)));
    Oid types[5] = {REGCLASSOID, TEXTOID, TEXTOID, BOOLOID, REGROLEOID};
    Datum values[5] = {ObjectIdGetDatum(target), PG_GETARG_DATUM(1), PG_GETARG_DATUM(2), PG_GETARG_DATUM(3),
                       ObjectIdGetDatum(GetUserId())};
    catalog_statement(schema,
                      "INSERT INTO %s.segment_tag_rules AS r (target, tag, condition, enabled, owner) "
                      "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (target, tag) DO UPDATE "
                      "SET condition = excluded.condition, enabled = excluded.enabled, owner = excluded.owner",
                      5, types, values, nullptr, &found);
    PG_RETURN_VOID();
}

// drop_segment_rule(target, tag) -> whether a rule was removed
CA_FUNCTION(ca_drop_segment_rule) {
    require_arguments(fcinfo, 2, "drop_segment_rule");
    const Oid target = PG_GETARG_OID(0);
    require_owner(target);
    Oid types[2] = {REGCLASSOID, TEXTOID};
    Datum values[2] = {ObjectIdGetDatum(target), PG_GETARG_DATUM(1)};
    bool found;
    catalog_statement(extension_namespace(fcinfo),
                      "DELETE FROM %s.segment_tag_rules WHERE target = $1 AND tag = $2 RETURNING true", 2, types,
                      values, nullptr, &found);
    PG_RETURN_BOOL(found);
}

// ------------------------------------------------------ build and refresh

namespace {

Oid extension_function(FunctionCallInfo fcinfo, const char* name, int count, const Oid* types) {
    List* names = list_make2(makeString(get_namespace_name(extension_namespace(fcinfo))), makeString(pstrdup(name)));
    return LookupFuncName(names, count, types, false);
}

}  // namespace

// build_segments(source, customer_column, date_column, amount_column,
// target text, as_of, options): an unqualified target goes where CREATE
// TABLE would put it, by the caller's search_path; the build itself
// (segment_build) runs with the caller's rights and a pinned search_path.
CA_FUNCTION(ca_build_segments) {
    require_arguments(fcinfo, 6, "build_segments");
    const char* target = text_to_cstring(PG_GETARG_TEXT_PP(4));
    // parse_ident rejects anything but one or two identifiers, quoted or not.
    ArrayType* parts = DatumGetArrayTypeP(DirectFunctionCall2(parse_ident, PG_GETARG_DATUM(4), BoolGetDatum(true)));
    Datum* elements = nullptr;
    int count = 0;
    deconstruct_array(parts, TEXTOID, -1, false, TYPALIGN_INT, &elements, nullptr, &count);
    if (count < 1 || count > 2)
        ereport(ERROR, (errcode(ERRCODE_INVALID_NAME), errmsg("invalid target name \"%s\"", target),
                        errhint("Give a table name, optionally qualified with a schema name.")));
    List* names = NIL;
    for (int i = 0; i < count; ++i)
        names = lappend(names, makeString(TextDatumGetCString(elements[i])));
    RangeVar* relation = makeRangeVarFromNameList(names);
    const Oid schema = RangeVarGetCreationNamespace(relation);
    if (isAnyTempNamespace(schema))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("segment tables cannot be temporary")));
    const Oid types[8] = {REGCLASSOID, NAMEOID, NAMEOID, NAMEOID, NAMEOID, NAMEOID, DATEOID, JSONBOID};
    const Oid build = extension_function(fcinfo, "segment_build", 8, types);
    NameData schema_name, table_name;
    namestrcpy(&schema_name, get_namespace_name(schema));
    if (std::strlen(relation->relname) >= NAMEDATALEN)
        ereport(ERROR, (errcode(ERRCODE_NAME_TOO_LONG), errmsg("target name \"%s\" is too long", relation->relname)));
    namestrcpy(&table_name, relation->relname);
    PG_RETURN_DATUM(OidFunctionCall8(build, PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), PG_GETARG_DATUM(2),
                                     PG_GETARG_DATUM(3), NameGetDatum(&schema_name), NameGetDatum(&table_name),
                                     PG_GETARG_DATUM(5), PG_ARGISNULL(6) ? (Datum)0 : PG_GETARG_DATUM(6)));
}

// refresh_segments(target, as_of, full_rebuild) -> jsonb report.
CA_FUNCTION(ca_refresh_segments) {
    require_arguments(fcinfo, 3, "refresh_segments");
    const Oid target = PG_GETARG_OID(0);
    const RelationFacts facts = require_owner(target);
    Oid key_type[1] = {REGCLASSOID};
    Datum key[1] = {ObjectIdGetDatum(target)};
    bool found;
    catalog_statement(extension_namespace(fcinfo), "SELECT true FROM %s.segment_builds WHERE target = $1", 1, key_type,
                      key, nullptr, &found);
    if (!found)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("%s was not built by build_segments", qualified_relation(target)),
                        errhint("Build it first with build_segments().")));
    const Oid workspace_types[1] = {REGCLASSOID};
    const Oid workspace = extension_function(fcinfo, "segment_refresh_workspace", 1, workspace_types);
    const Oid refresh_types[3] = {REGCLASSOID, DATEOID, BOOLOID};
    const Oid refresh = extension_function(fcinfo, "segment_refresh", 3, refresh_types);
    // Our own statements create the temporary work tables as the owner;
    // everything that can run code of the owner's (the source, its types)
    // then runs restricted, as REFRESH MATERIALIZED VIEW does.
    Identity identity = become(facts.owner, 0);
    OidFunctionCall1(workspace, ObjectIdGetDatum(target));
    restore(identity);
    identity = become(facts.owner, SECURITY_RESTRICTED_OPERATION);
    const Datum report = OidFunctionCall3(refresh, ObjectIdGetDatum(target), PG_GETARG_DATUM(1), PG_GETARG_DATUM(2));
    restore(identity);
    PG_RETURN_DATUM(report);
}

// ----------------------------------------------------------------- capture

namespace {

// The recorded columns: customer, date, amount and, with the order_column
// option, the order key.
struct CapturedBuild {
    Oid target;
    Oid source;
    Oid pending;
    bool incremental;
    int column_count;
    NameData columns[4];
    Oid types[4];
};

bool find_build(Oid extension_schema, std::int64_t build_id, CapturedBuild* build) {
    const RelationFacts catalog = existing_relation(catalog_table(extension_schema, "segment_builds"));
    const char* sql = psprintf(
        "SELECT target, source, pending_table, incremental, customer_column, date_column, "
        "amount_column, order_column, customer_type, date_type, amount_type, order_type "
        "FROM %s.segment_builds WHERE build_id = $1",
        quote_identifier(get_namespace_name(extension_schema)));
    Oid types[1] = {INT8OID};
    Datum values[1] = {Int64GetDatum(build_id)};
    const Identity identity = become(catalog.owner, SECURITY_RESTRICTED_OPERATION);
    const int status = SPI_execute_with_args(sql, 1, types, values, nullptr, true, 1);
    if (status != SPI_OK_SELECT)
        ereport(ERROR,
                (errcode(ERRCODE_INTERNAL_ERROR), errmsg("catalog lookup failed: %s", SPI_result_code_string(status))));
    const bool found = SPI_processed == 1;
    if (found) {
        HeapTuple row = SPI_tuptable->vals[0];
        TupleDesc descriptor = SPI_tuptable->tupdesc;
        bool is_null;
        build->target = DatumGetObjectId(SPI_getbinval(row, descriptor, 1, &is_null));
        build->source = DatumGetObjectId(SPI_getbinval(row, descriptor, 2, &is_null));
        build->pending = DatumGetObjectId(SPI_getbinval(row, descriptor, 3, &is_null));
        build->incremental = DatumGetBool(SPI_getbinval(row, descriptor, 4, &is_null));
        build->column_count = 3;
        for (int i = 0; i < 4; ++i) {
            const Datum name = SPI_getbinval(row, descriptor, 5 + i, &is_null);
            if (is_null)
                break;  // only the order column may be NULL (no order_column option)
            namestrcpy(&build->columns[i], NameStr(*DatumGetName(name)));
            const Datum type = SPI_getbinval(row, descriptor, 9 + i, &is_null);
            build->types[i] = is_null ? InvalidOid : DatumGetObjectId(type);
            build->column_count = i + 1;
        }
    }
    restore(identity);
    return found;
}

// True when the source still has the recorded columns with the recorded
// types and the build's owner may still read them.
bool columns_as_recorded(Relation source, const CapturedBuild& build, Oid owner) {
    TupleDesc descriptor = RelationGetDescr(source);
    for (int i = 0; i < build.column_count; ++i) {
        const int number = SPI_fnumber(descriptor, NameStr(build.columns[i]));
        if (number <= 0 || !OidIsValid(build.types[i]) || SPI_gettypeid(descriptor, number) != build.types[i])
            return false;
        if (!may_read_column(RelationGetRelid(source), number, owner))
            return false;
    }
    return true;
}

}  // namespace

// segment_capture(build_id): AFTER ... FOR EACH STATEMENT trigger on a
// build's source. Inserted orders go to the build's pending table; UPDATE,
// DELETE and TRUNCATE (and a source whose columns changed type) leave a
// marker that makes the next refresh a full rebuild.
CA_FUNCTION(ca_segment_capture) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("segment_capture must be called as a trigger")));
    auto* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    if (!TRIGGER_FIRED_AFTER(trigger->tg_event) || !TRIGGER_FIRED_FOR_STATEMENT(trigger->tg_event) ||
        trigger->tg_trigger->tgnargs != 1)
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("segment_capture must be an AFTER ... FOR EACH STATEMENT trigger with a build id")));
    const char* argument = trigger->tg_trigger->tgargs[0];
    char* end = nullptr;
    errno = 0;
    const long long build_id = std::strtoll(argument, &end, 10);
    if (errno != 0 || end == argument || *end != '\0')
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("segment_capture needs a build id, not \"%s\"", argument)));
    const Oid source = RelationGetRelid(trigger->tg_relation);

    if (SPI_connect() != SPI_OK_CONNECT)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("SPI_connect failed")));
    CapturedBuild build;
    RelationFacts target;
    // A build that is gone (dropped by a role that could not drop the
    // triggers) captures nothing: the source stays writable.
    if (!find_build(extension_namespace(fcinfo), build_id, &build) || !build.incremental ||
        !relation_facts(build.target, &target)) {
        SPI_finish();
        return PointerGetDatum(nullptr);
    }
    // Only the source and the tables of its partition tree feed the build.
    // A trigger elsewhere (a partition since detached, or a table of a role
    // that copied the trigger) captures nothing: it must not stop inserts.
    if (build.source != source &&
        !(get_rel_relispartition(source) && list_member_oid(get_partition_ancestors(source), build.source))) {
        SPI_finish();
        return PointerGetDatum(nullptr);
    }
    const char* pending = qualified_relation(build.pending);
    const bool rows = TRIGGER_FIRED_BY_INSERT(trigger->tg_event) && trigger->tg_newtable != nullptr &&
                      trigger->tg_trigger->tgnewtable != nullptr &&
                      columns_as_recorded(trigger->tg_relation, build, target.owner);
    const bool keyed = build.column_count == 4;
    const char* sql =
        rows ? psprintf("INSERT INTO %s (customer, order_date, amount, kind%s) SELECT %s, %s, %s, 'i'%s%s FROM %s",
                        pending, keyed ? ", order_key" : "", quote_identifier(NameStr(build.columns[0])),
                        quote_identifier(NameStr(build.columns[1])), quote_identifier(NameStr(build.columns[2])),
                        keyed ? ", " : "", keyed ? quote_identifier(NameStr(build.columns[3])) : "",
                        quote_identifier(trigger->tg_trigger->tgnewtable))
             : psprintf("INSERT INTO %s (kind) VALUES ('r')", pending);
    if (rows && SPI_register_trigger_data(trigger) != SPI_OK_TD_REGISTER)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not register the transition table")));
    const Identity identity = become(target.owner, SECURITY_RESTRICTED_OPERATION);
    const int status = SPI_execute(sql, false, 0);
    if (status != SPI_OK_INSERT)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                        errmsg("capturing orders failed: %s", SPI_result_code_string(status))));
    restore(identity);
    SPI_finish();
    return PointerGetDatum(nullptr);
}
