// Aggregates whose state holds C++ objects: the core's state owns strings
// and hash tables (channel_preference's ChannelState, affinity's
// AffinityState), so it cannot be a flat struct in the aggregate memory
// context. The state there is a flat HeapState (the parameters, which must
// be the same on every row, and a pointer to the core object on the C++
// heap), and a reset callback registered on that context deletes the core
// object when the context is reset or deleted, also when the query fails.
// Such memory is not counted against work_mem; the core bounds its size.
//
// An aggregate describes itself with a traits struct:
//
//   struct Traits {
//       using Params = ...;  // trivially copyable, 8-byte fields (require_same)
//       using Core = ...;    // the core's state, default constructible
//       static constexpr FlatAggregate aggregate{"sql_name"};
//       static void validate(const Params&);   // raises for bad parameters
//       static void merge(Core& core, const Core& other);
//       static void write(StateWriter& writer, const Core& core, const Params& params);
//       static Params read(const StateBytes& bytes, Core& core);
//   };
//
// and gets its combine, serialize and deserialize functions from here; its
// transition function takes the state from heap_state_for_row and adds the
// row to state->core, its final function reads heap_final_state.
#pragma once

#include "barrier.hpp"
#include "flat_state.hpp"

namespace customer_analytics::pg {

template <typename Traits>
struct HeapState {
    MemoryContextCallback callback;
    typename Traits::Params params;
    typename Traits::Core* core;
};

template <typename Traits>
void delete_heap_core(void* argument) {
    auto* state = static_cast<HeapState<Traits>*>(argument);
    delete state->core;
    state->core = nullptr;
}

// A state in `context` with an empty core. The flat part is allocated first,
// while no C++ object exists; the callback is registered once the core is.
template <typename Traits>
HeapState<Traits>* new_heap_state(MemoryContext context, const typename Traits::Params& params) {
    auto* state = static_cast<HeapState<Traits>*>(MemoryContextAllocZero(context, sizeof(HeapState<Traits>)));
    state->params = params;
    state->core = new typename Traits::Core();
    state->callback.func = delete_heap_core<Traits>;
    state->callback.arg = state;
    MemoryContextRegisterResetCallback(context, &state->callback);
    return state;
}

// The transition function's state: on the first row a new one (after
// Traits::validate), afterwards the stored one, whose parameters must equal
// this row's.
template <typename Traits>
HeapState<Traits>* heap_state_for_row(FunctionCallInfo fcinfo, MemoryContext context,
                                      const typename Traits::Params& params) {
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<HeapState<Traits>*>(PG_GETARG_POINTER(0));
    if (state == nullptr) {
        Traits::validate(params);
        return new_heap_state<Traits>(context, params);
    }
    require_same(state->params, params, Traits::aggregate.name);
    return state;
}

template <typename Traits>
Datum heap_combine(FunctionCallInfo fcinfo) {
    MemoryContext context = flat_context(fcinfo, Traits::aggregate, "combine");
    if (PG_ARGISNULL(1))
        return keep_first_state(fcinfo);
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<HeapState<Traits>*>(PG_GETARG_POINTER(0));
    const auto* other = reinterpret_cast<const HeapState<Traits>*>(PG_GETARG_POINTER(1));
    // Never alias the second state: it may live in a shorter-lived context.
    if (state == nullptr)
        state = new_heap_state<Traits>(context, other->params);
    else
        require_same(state->params, other->params, Traits::aggregate.name);
    Traits::merge(*state->core, *other->core);
    PG_RETURN_POINTER(state);
}

template <typename Traits>
Datum heap_serialize(FunctionCallInfo fcinfo) {
    const auto* state = reinterpret_cast<const HeapState<Traits>*>(PG_GETARG_POINTER(0));
    PG_RETURN_BYTEA_P(
        state_bytea([state](StateWriter& writer) { Traits::write(writer, *state->core, state->params); }));
}

template <typename Traits>
Datum heap_deserialize(FunctionCallInfo fcinfo) {
    MemoryContext context = flat_context(fcinfo, Traits::aggregate, "deserialize");
    const StateBytes bytes = state_argument(fcinfo, 0);
    HeapState<Traits>* state = new_heap_state<Traits>(context, typename Traits::Params{});
    state->params = Traits::read(bytes, *state->core);
    PG_RETURN_POINTER(state);
}

// The same state as analytics_state (analytics_state.hpp): a family's read
// and write.
template <typename Traits>
void heap_write_object(StateWriter& writer, void* memory) {
    const auto* state = static_cast<const HeapState<Traits>*>(memory);
    Traits::write(writer, *state->core, state->params);
}

template <typename Traits>
void* heap_read_object(MemoryContext context, const StateBytes& bytes) {
    HeapState<Traits>* state = new_heap_state<Traits>(context, typename Traits::Params{});
    state->params = Traits::read(bytes, *state->core);
    return state;
}

// The final function's state, or nullptr when no row came (NULL result).
template <typename Traits>
const HeapState<Traits>* heap_final_state(FunctionCallInfo fcinfo) {
    if (PG_ARGISNULL(0))
        return nullptr;
    return reinterpret_cast<const HeapState<Traits>*>(PG_GETARG_POINTER(0));
}

}  // namespace customer_analytics::pg
