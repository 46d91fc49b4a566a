// Aggregate states as values of the SQL type analytics_state.
//
// Citus splits an aggregate into partial aggregates on the workers and a
// combine on the coordinator only when the aggregate's state type is a real
// type, not the pseudo-type internal, and it ships the partial states as
// text through that type's output and input functions. So every aggregate
// of the extension has STYPE analytics_state, in two representations:
//
//  * flat (in tuples, on disk, between processes, and as base64 text): a
//    varlena holding the serialized state (state_format.hpp). Every flat
//    value is untrusted bytes and is read by its family's reader, which
//    checks every field, before anything uses it.
//  * during aggregation: a read-write expanded object (utils/
//    expandeddatum.h) pointing to the glue's in-memory state, so a
//    transition function updates the state in place, with no copy per row.
//
// Memory. The in-memory states are allocated in the aggregate memory
// context by the transition functions, as always. The small header of each
// object is allocated there too, just before the group's state (in hash
// aggregation both then sit next to the group's hash table entry, so a row
// touches neighbouring cache lines, not one more random one). Every
// object's eoh_context is ONE empty child context of the aggregate context,
// shared by every group. PostgreSQL keeps a
// transition value without copying it only when it is a read-write expanded
// object whose eoh_context is a child of the aggregate context; a context
// per group would pass that check too, but hash aggregation adds up the
// memory of every child of the aggregate context for each new group
// (hash_agg_check_limits), which makes one context per group quadratic in
// the number of groups.
//
// What PostgreSQL does with a transition value (nodeAgg.c and
// ExecAggTransReparent in execExprInterp.c, nodeWindowAgg.c, and Citus's
// aggregate_utils.c, which copies that logic): when a transition or combine
// function returns a pointer other than its first argument, the new value is
// adopted (such an object) or copied, and the OLD value is freed: pfree, or
// DeleteExpandedObject for an expanded one, which deletes its eoh_context --
// here the context of every group. So these functions always return the
// object they were given; they return a new object only when the first
// argument was NULL or flat (a value PostgreSQL then pfrees), and never
// NULL after a state exists. Final functions, a partial aggregate's output
// and a window's repeated finalization get read-only pointers. The aggregate
// context is reset (deleting the shared context with it) between the groups
// of a sorted aggregation, between hash batches and at the end; a callback
// on the shared context then forgets it.
//
// Every family of aggregates that shares one state converts its existing
// functions (which take and return the in-memory state as a pointer, as an
// aggregate with STYPE internal does) with three macros, in the glue file
// that defines them:
//
//   extern const customer_analytics::pg::StateFamily kSpendFamily;  // read, write
//   CA_STATE_TRANSFN(ca_gini_transfn, kSpendFamily)        // -> ca_gini_transfn_state
//   CA_STATE_COMBINEFN(ca_pareto_spend_combinefn, kSpendFamily)
//   CA_STATE_FINALFN(ca_gini_finalfn, kSpendFamily)
//
// and one line in the table of families (analytics_state.cpp), which the
// type's input function uses to check a state of any kind.
#pragma once

#include "barrier.hpp"
#include "flat_state.hpp"
#include "state_format.hpp"

extern "C" {
#include "utils/expandeddatum.h"
}

namespace customer_analytics::pg {

// The aggregates that share one in-memory state and one serialized kind (or
// two: rfm_agg with and without an order key).
struct StateFamily {
    // First, so that an object's eoh_methods points at its family.
    ExpandedObjectMethods methods;
    // For messages ("<name> state is too large to copy").
    const char* name;
    StateKind kind;
    StateKind other_kind;
    // A new in-memory state in `context` from serialized bytes, every field
    // checked (invalid_binary_representation otherwise).
    void* (*read)(MemoryContext context, const StateBytes& bytes);
    // Serializes the state (called twice: to measure, then to write).
    void (*write)(StateWriter& writer, void* state);
};

static_assert(offsetof(StateFamily, methods) == 0, "an object's eoh_methods is its family");

// The expanded-object methods every family uses (the family's `methods`).
Size state_flat_size(ExpandedObjectHeader* header);
void state_flatten_into(ExpandedObjectHeader* header, void* result, Size allocated_size);
#define CA_STATE_METHODS \
    { customer_analytics::pg::state_flat_size, customer_analytics::pg::state_flatten_into }

// The family of a serialized kind, or of an object; nullptr for none.
const StateFamily* family_of_kind(std::uint8_t kind);
const StateFamily* family_of_object(const ExpandedObjectHeader* header);

struct StateObject {
    ExpandedObjectHeader header;
    void* state;
};
inline void* state_of(StateObject* object) { return object->state; }

// The argument's object when it is a read-write expanded object of `family`
// made for this aggregate context, nullptr otherwise.
inline StateObject* own_state_object(Datum value, MemoryContext aggregate_context, const StateFamily& family) {
    const char* pointer = DatumGetPointer(value);
    if (!VARATT_IS_EXTERNAL_EXPANDED_RW(pointer))
        return nullptr;
    ExpandedObjectHeader* header = DatumGetEOHP(value);
    if (header->eoh_methods != &family.methods || MemoryContextGetParent(header->eoh_context) != aggregate_context)
        return nullptr;
    return reinterpret_cast<StateObject*>(header);
}
// Room for the object of a group's first state, in the aggregate context.
StateObject* reserve_state_object(MemoryContext aggregate_context);
// Makes `object` (reserved above) the object of `state`: the read-write
// datum, whose eoh_context is the aggregate context's shared child.
Datum new_state_object(StateObject* object, MemoryContext aggregate_context, const StateFamily& family, void* state);
// The in-memory state of a non-NULL argument, for reading: an expanded
// object's own state, or a flat value read (and checked) into `context`.
void* state_for_reading(Datum value, const StateFamily& family, MemoryContext context);
// A state of this family that the caller may change: a flat value read
// into `context`, or a copy of an expanded one.
void* state_copy(Datum value, const StateFamily& family, MemoryContext context);

// The result of a transition or combine function, as described above.
// `reserved` is the object reserved for a group's first state (nullptr when
// the group had one).
inline Datum adopt_state(FunctionCallInfo fcinfo, Datum result, StateObject* object, StateObject* reserved,
                         MemoryContext aggregate_context, const StateFamily& family) {
    if (fcinfo->isnull) {
        if (reserved != nullptr)
            pfree(reserved);
        if (object == nullptr)
            return 0;
        fcinfo->isnull = false;  // a state never goes back to NULL
        return EOHPGetRWDatum(&object->header);
    }
    if (object != nullptr) {
        object->state = DatumGetPointer(result);  // the same state (or its replacement)
        return EOHPGetRWDatum(&object->header);
    }
    return new_state_object(reserved, aggregate_context, family, DatumGetPointer(result));
}

// A window aggregate whose moving-aggregate transition or inverse function
// is this function: an error. The window code hands the read-write object
// to the other one of the pair, and such aggregates are never the
// extension's: a user's aggregate pairing this function with its own
// function would give that function the object, whose context holds every
// group's, to reparent or delete (a PL/pgSQL function returning its
// argument reparents it, and the backend then frees it twice).
void refuse_moving_aggregate(FunctionCallInfo fcinfo);

// Argument 0 (the state) of a transition or combine function, replaced by
// its in-memory state. Returns its object (nullptr when NULL or flat); for
// NULL or flat, *reserved is room for the new object, allocated before the
// function allocates the state.
inline StateObject* take_state_argument(FunctionCallInfo fcinfo, MemoryContext aggregate_context,
                                        const StateFamily& family, StateObject** reserved) {
    *reserved = nullptr;
    refuse_moving_aggregate(fcinfo);
    if (fcinfo->args[0].isnull) {
        *reserved = reserve_state_object(aggregate_context);
        return nullptr;
    }
    StateObject* object = own_state_object(fcinfo->args[0].value, aggregate_context, family);
    if (object == nullptr) {
        *reserved = reserve_state_object(aggregate_context);
        fcinfo->args[0].value = PointerGetDatum(state_copy(fcinfo->args[0].value, family, aggregate_context));
        return nullptr;
    }
    fcinfo->args[0].value = PointerGetDatum(object->state);
    return object;
}

// The aggregate memory context; outside an aggregate an error naming the
// SQL function.
MemoryContext state_aggregate_context(FunctionCallInfo fcinfo);

// A read-write expanded object of `family`: on every row but a group's
// first, the state argument is the object the function returned for the
// group (such objects never leave the aggregate that made them).
inline StateObject* resident_state_object(const NullableDatum& argument, const StateFamily& family) {
    if (argument.isnull || !VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(argument.value)))
        return nullptr;
    ExpandedObjectHeader* header = DatumGetEOHP(argument.value);
    return header->eoh_methods == &family.methods ? reinterpret_cast<StateObject*>(header) : nullptr;
}

// Calls Body with the object's state in place of the object: the object
// back (with the state Body returned), never NULL.
template <Datum (*Body)(FunctionCallInfo)>
Datum call_with_resident_state(FunctionCallInfo fcinfo, StateObject* object) {
    fcinfo->args[0].value = PointerGetDatum(object->state);
    const Datum result = Body(fcinfo);
    if (fcinfo->isnull)
        fcinfo->isnull = false;  // a state never goes back to NULL
    else
        object->state = DatumGetPointer(result);
    return EOHPGetRWDatum(&object->header);
}

template <Datum (*Body)(FunctionCallInfo)>
Datum state_transition(FunctionCallInfo fcinfo, const StateFamily& family) {
    if (StateObject* object = resident_state_object(fcinfo->args[0], family))
        return call_with_resident_state<Body>(fcinfo, object);
    MemoryContext context = state_aggregate_context(fcinfo);
    StateObject* reserved;
    StateObject* object = take_state_argument(fcinfo, context, family, &reserved);
    return adopt_state(fcinfo, Body(fcinfo), object, reserved, context, family);
}

// The second state is only read: a partial aggregate's object (read-only)
// or a flat state from a parallel worker or a Citus worker, read into the
// aggregate context as a deserialize function would.
template <Datum (*Body)(FunctionCallInfo)>
Datum state_combine(FunctionCallInfo fcinfo, const StateFamily& family) {
    MemoryContext context = state_aggregate_context(fcinfo);
    if (!fcinfo->args[1].isnull)
        fcinfo->args[1].value = PointerGetDatum(state_for_reading(fcinfo->args[1].value, family, context));
    if (StateObject* object = resident_state_object(fcinfo->args[0], family))
        return call_with_resident_state<Body>(fcinfo, object);
    StateObject* reserved;
    StateObject* object = take_state_argument(fcinfo, context, family, &reserved);
    return adopt_state(fcinfo, Body(fcinfo), object, reserved, context, family);
}

// Final functions only read the state; a flat one (a final function called
// on a stored value) is read into the current memory context.
template <Datum (*Body)(FunctionCallInfo)>
Datum state_final(FunctionCallInfo fcinfo, const StateFamily& family) {
    if (!fcinfo->args[0].isnull)
        fcinfo->args[0].value = PointerGetDatum(state_for_reading(fcinfo->args[0].value, family, CurrentMemoryContext));
    return Body(fcinfo);
}

}  // namespace customer_analytics::pg

// The analytics_state entry point of an existing function `name` (defined
// with CA_FUNCTION above in the same file), named name_state.
#define CA_STATE_TRANSFN(name, family) \
    CA_FUNCTION(name##_state) { return customer_analytics::pg::state_transition<name##_body>(fcinfo, family); }
#define CA_STATE_COMBINEFN(name, family) \
    CA_FUNCTION(name##_state) { return customer_analytics::pg::state_combine<name##_body>(fcinfo, family); }
#define CA_STATE_FINALFN(name, family) \
    CA_FUNCTION(name##_state) { return customer_analytics::pg::state_final<name##_body>(fcinfo, family); }
