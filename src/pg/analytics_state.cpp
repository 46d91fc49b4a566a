// The SQL type analytics_state (analytics_state.hpp): its expanded objects,
// the shared context of each aggregate context, and its text input and
// output.
#include "analytics_state.hpp"

#include "state_format.hpp"

#include "barrier.hpp"
#include "convert.hpp"

extern "C" {
#include "catalog/pg_aggregate.h"
#include "nodes/execnodes.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
}

namespace ca = customer_analytics;

namespace customer_analytics::pg {

// The families, each defined next to its aggregates. A new family adds a
// line here, so that the input function can check its states.
extern const StateFamily kRfmSummaryFamily;
extern const StateFamily kSpendFamily;
extern const StateFamily kBinsFamily;
extern const StateFamily kKMeansFamily;
extern const StateFamily kCampaignFamily;
extern const StateFamily kOverlapFamily;
extern const StateFamily kActivityFamily;
extern const StateFamily kCouponFamily;
extern const StateFamily kMixFamily;
extern const StateFamily kBtydFitFamily;
extern const StateFamily kGammaGammaFitFamily;
extern const StateFamily kBgbbFitFamily;
extern const StateFamily kSbgFitFamily;
extern const StateFamily kBtydCovFitFamily;
extern const StateFamily kAffinityFamily;
extern const StateFamily kChannelFamily;
extern const StateFamily kSegmentDeltaFamily;

namespace {

const StateFamily* const kFamilies[] = {
    &kRfmSummaryFamily, &kSpendFamily,   &kBinsFamily,   &kKMeansFamily,     &kCampaignFamily,      &kOverlapFamily,
    &kActivityFamily,   &kCouponFamily,  &kMixFamily,    &kBtydFitFamily,    &kGammaGammaFitFamily, &kAffinityFamily,
    &kChannelFamily,    &kBgbbFitFamily, &kSbgFitFamily, &kBtydCovFitFamily, &kSegmentDeltaFamily,
};

// ------------------------------------------------- shared contexts

// The one (empty) child context of an aggregate context that is the
// eoh_context of all its groups' objects. Entries live in the shared context
// itself and are unlinked by its reset callback, which runs when the
// aggregate context is reset or deleted (deleting its children) -- so the
// list never holds a context that is gone. A backend has a few at a time
// (one per aggregate node and grouping set running).
struct SharedContext {
    MemoryContextCallback callback;
    MemoryContext parent;
    MemoryContext context;
    SharedContext* next;
};

SharedContext* shared_contexts = nullptr;

void forget_shared_context(void* argument) {
    auto* entry = static_cast<SharedContext*>(argument);
    for (SharedContext** link = &shared_contexts; *link != nullptr; link = &(*link)->next)
        if (*link == entry) {
            *link = entry->next;
            return;
        }
}

MemoryContext shared_context_of(MemoryContext parent) {
    for (SharedContext* entry = shared_contexts; entry != nullptr; entry = entry->next)
        if (entry->parent == parent)
            return entry->context;
    MemoryContext context = AllocSetContextCreate(parent, "customer_analytics states", ALLOCSET_SMALL_SIZES);
    auto* entry = static_cast<SharedContext*>(MemoryContextAllocZero(context, sizeof(SharedContext)));
    entry->parent = parent;
    entry->context = context;
    entry->callback.func = forget_shared_context;
    entry->callback.arg = entry;
    MemoryContextRegisterResetCallback(context, &entry->callback);
    entry->next = shared_contexts;
    shared_contexts = entry;
    return context;
}

// ------------------------------------------------- objects

bool is_expanded(Datum value) { return VARATT_IS_EXTERNAL_EXPANDED(DatumGetPointer(value)); }

StateObject* object_of(ExpandedObjectHeader* header) { return reinterpret_cast<StateObject*>(header); }

// An expanded argument of another family: only a user's aggregate that mixes
// the functions of two aggregates can bring one.
void require_family(const ExpandedObjectHeader* header, const StateFamily& family) {
    if (header->eoh_methods == &family.methods)
        return;
    const StateFamily* other = family_of_object(header);
    invalid_state(family.kind, std::string("The bytes hold a ") +
                                   (other != nullptr ? state_name(other->kind) : "foreign") + " state.");
}

// Serialized bytes of an in-memory state, in the current memory context.
StateBytes serialize(const StateFamily& family, void* state) {
    StateWriter measure;
    family.write(measure, state);
    const std::size_t size = measure.size();
    auto* bytes = static_cast<std::uint8_t*>(palloc(size == 0 ? 1 : size));
    StateWriter writer(bytes, size);
    family.write(writer, state);
    writer.finish();
    return StateBytes{bytes, size};
}

// The bytes of a flat value (detoasted if need be).
StateBytes flat_bytes(Datum value) {
    auto* flat = reinterpret_cast<struct varlena*>(PG_DETOAST_DATUM_PACKED(value));
    return StateBytes{reinterpret_cast<const std::uint8_t*>(VARDATA_ANY(flat)), VARSIZE_ANY_EXHDR(flat)};
}

}  // namespace

const StateFamily* family_of_object(const ExpandedObjectHeader* header) {
    for (const StateFamily* family : kFamilies)
        if (header->eoh_methods == &family->methods)
            return family;
    return nullptr;
}

const StateFamily* family_of_kind(std::uint8_t kind) {
    for (const StateFamily* family : kFamilies)
        if (static_cast<std::uint8_t>(family->kind) == kind || static_cast<std::uint8_t>(family->other_kind) == kind)
            return family;
    return nullptr;
}

MemoryContext state_aggregate_context(FunctionCallInfo fcinfo) {
    MemoryContext context = nullptr;
    if (!AggCheckCallContext(fcinfo, &context)) {
        const char* name = get_func_name(fcinfo->flinfo->fn_oid);
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("%s called in non-aggregate context", name != nullptr ? name : "function")));
    }
    return context;
}

void refuse_moving_aggregate(FunctionCallInfo fcinfo) {
    if (fcinfo->context == nullptr || !IsA(fcinfo->context, WindowAggState))
        return;
    const Oid self = fcinfo->flinfo->fn_oid;
    ListCell* cell;
    foreach (cell, reinterpret_cast<WindowAggState*>(fcinfo->context)->funcs) {
        const Oid aggregate_oid = static_cast<WindowFuncExprState*>(lfirst(cell))->wfunc->winfnoid;
        HeapTuple tuple = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggregate_oid));
        if (!HeapTupleIsValid(tuple))
            continue;  // a window function, not an aggregate
        const auto* aggregate = reinterpret_cast<Form_pg_aggregate>(GETSTRUCT(tuple));
        const bool moving = aggregate->aggmtransfn == self || aggregate->aggminvtransfn == self;
        ReleaseSysCache(tuple);
        if (moving) {
            const char* name = get_func_name(self);
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("%s cannot be a moving-aggregate function", name != nullptr ? name : "function"),
                            errdetail("The aggregate %s uses it as its moving-aggregate transition or inverse "
                                      "function.",
                                      format_procedure(aggregate_oid)),
                            errhint("Define the aggregate without MSFUNC and MINVFUNC.")));
        }
    }
}

StateObject* reserve_state_object(MemoryContext aggregate_context) {
    return static_cast<StateObject*>(MemoryContextAlloc(aggregate_context, sizeof(StateObject)));
}

Datum new_state_object(StateObject* object, MemoryContext aggregate_context, const StateFamily& family, void* state) {
    EOH_init_header(&object->header, &family.methods, shared_context_of(aggregate_context));
    object->state = state;
    return EOHPGetRWDatum(&object->header);
}

void* state_for_reading(Datum value, const StateFamily& family, MemoryContext context) {
    if (is_expanded(value)) {
        ExpandedObjectHeader* header = DatumGetEOHP(value);
        require_family(header, family);
        return state_of(object_of(header));
    }
    return family.read(context, flat_bytes(value));
}

void* state_copy(Datum value, const StateFamily& family, MemoryContext context) {
    if (!is_expanded(value))
        return family.read(context, flat_bytes(value));
    ExpandedObjectHeader* header = DatumGetEOHP(value);
    require_family(header, family);
    // A read-write object of another aggregate context: replacing it would
    // make PostgreSQL delete its context, holding other groups' objects.
    // PostgreSQL never passes one (see analytics_state.hpp).
    if (VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(value)))
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("%s state belongs to another aggregate", family.name)));
    return family.read(context, serialize(family, state_of(object_of(header))));
}

// ------------------------------------------------- flattening

namespace {

// PostgreSQL calls these methods only through an object's own eoh_methods,
// which is the first member of its family: no table to look it up in (and
// none to forget a family in).
const StateFamily* family_of_methods(ExpandedObjectHeader* header) {
    return reinterpret_cast<const StateFamily*>(header->eoh_methods);
}

}  // namespace

Size state_flat_size(ExpandedObjectHeader* header) {
    Size size = 0;
    guarded(nullptr, [&](FunctionCallInfo) -> Datum {
        const StateFamily* family = family_of_methods(header);
        StateWriter measure;
        family->write(measure, state_of(object_of(header)));
        if (measure.size() > MaxAllocSize - VARHDRSZ)
            throw Error(ErrorKind::program_limit_exceeded, std::string(family->name) + " state is too large to copy",
                        "A state must fit 1 GB.");
        size = VARHDRSZ + measure.size();
        return 0;
    });
    return size;
}

void state_flatten_into(ExpandedObjectHeader* header, void* result, Size allocated_size) {
    guarded(nullptr, [&](FunctionCallInfo) -> Datum {
        const StateFamily* family = family_of_methods(header);
        StateWriter writer(static_cast<std::uint8_t*>(result) + VARHDRSZ, allocated_size - VARHDRSZ);
        family->write(writer, state_of(object_of(header)));
        writer.finish();
        SET_VARSIZE(result, allocated_size);
        return 0;
    });
}

}  // namespace customer_analytics::pg

// ------------------------------------------------- text input and output

namespace {

[[noreturn]] void not_a_state(const std::string& detail) {
    throw ca::Error(ca::ErrorKind::invalid_binary_representation, "invalid serialized aggregate state", detail);
}

}  // namespace

// analytics_state_in(cstring): base64 of a serialized state of any
// aggregate, checked by that aggregate's reader.
CA_FUNCTION(ca_analytics_state_in) {
    const char* text = PG_GETARG_CSTRING(0);
    const std::size_t length = std::strlen(text);
    if (ca::state_text_max_bytes(length) > MaxAllocSize - VARHDRSZ)
        throw ca::Error(ca::ErrorKind::program_limit_exceeded, "analytics_state value is too long",
                        "A state must fit 1 GB.");
    bytea* result = static_cast<bytea*>(palloc(VARHDRSZ + ca::state_text_max_bytes(length)));
    auto* bytes = reinterpret_cast<std::uint8_t*>(VARDATA(result));
    std::size_t size = 0;
    if (!ca::state_text_decode(text, length, bytes, &size))
        throw ca::Error(ca::ErrorKind::invalid_text_representation, "invalid input syntax for type analytics_state",
                        "A state is written in base64 (RFC 4648, with padding, without line breaks).");
    SET_VARSIZE(result, VARHDRSZ + size);
    if (size < 4 || bytes[0] != 'C' || bytes[1] != 'A')
        not_a_state("The bytes do not start with the state format header.");
    const ca::pg::StateFamily* family = ca::pg::family_of_kind(bytes[3]);
    if (family == nullptr)
        not_a_state("The state kind " + std::to_string(bytes[3]) + " is not an aggregate state.");
    // The family's reader checks every field (and the format version); what
    // it builds is thrown away with the context.
    MemoryContext scratch = AllocSetContextCreate(CurrentMemoryContext, "analytics_state input", ALLOCSET_SMALL_SIZES);
    family->read(scratch, ca::pg::StateBytes{bytes, size});
    MemoryContextDelete(scratch);
    PG_RETURN_BYTEA_P(result);
}

CA_FUNCTION(ca_analytics_state_out) {
    const Datum value = PG_GETARG_DATUM(0);
    const std::uint8_t* data;
    std::size_t size;
    if (VARATT_IS_EXTERNAL_EXPANDED(DatumGetPointer(value))) {
        ExpandedObjectHeader* header = DatumGetEOHP(value);
        const Size flat = ca::pg::state_flat_size(header);
        auto* copy = static_cast<char*>(palloc(flat));
        ca::pg::state_flatten_into(header, copy, flat);
        data = reinterpret_cast<const std::uint8_t*>(VARDATA(copy));
        size = flat - VARHDRSZ;
    } else {
        auto* flat = reinterpret_cast<struct varlena*>(PG_DETOAST_DATUM_PACKED(value));
        data = reinterpret_cast<const std::uint8_t*>(VARDATA_ANY(flat));
        size = VARSIZE_ANY_EXHDR(flat);
    }
    if (ca::state_text_length(size) >= MaxAllocSize)
        throw ca::Error(ca::ErrorKind::program_limit_exceeded, "analytics_state value is too large to write as text",
                        "Its base64 text must fit 1 GB.");
    char* text = static_cast<char*>(palloc(ca::state_text_length(size) + 1));
    ca::state_text_encode(data, size, text);
    text[ca::state_text_length(size)] = '\0';
    PG_RETURN_CSTRING(text);
}
