// Affinity: affinity (support / confidence / lift of item pairs over
// baskets) and segment_overlap (two customer sets).
//
// Memory: the segment_overlap state is a flat struct in the aggregate
// memory context. The affinity state keeps the core's AffinityState (hash
// tables of item names and pair counts) on the C++ heap (heap_state.hpp).
// Its size is bounded by the core's AffinityLimits (100,000 items,
// 4,194,304 pairs: at most about 200 MB); it is not counted against
// work_mem.
#include <vector>

#include "affinity.hpp"

#include "analytics_state.hpp"
#include "barrier.hpp"
#include "convert.hpp"
#include "flat_state.hpp"
#include "heap_state.hpp"

namespace ca = customer_analytics;
using ca::pg::positive_zero;
using ca::pg::require_argument;
using ca::pg::require_same;
using ca::pg::set_optional_float8;
using ca::pg::text_view;

// -------------------------------------------------------- segment_overlap

namespace {

enum OverlapField {
    ov_x,
    ov_y,
    ov_xy,
    ov_n,
    ov_support_x,
    ov_support_y,
    ov_support_xy,
    ov_share_x_in_y,
    ov_share_y_in_x,
    ov_jaccard,
    ov_lift,
    ov_fields
};

Datum overlap_datum(FunctionCallInfo fcinfo, std::int64_t x, std::int64_t y, std::int64_t xy, std::int64_t n) {
    const ca::OverlapStats stats = ca::overlap(x, y, xy, n);
    TupleDesc descriptor = ca::pg::result_descriptor(fcinfo, &fcinfo->flinfo->fn_extra);
    Datum values[ov_fields];
    bool nulls[ov_fields] = {false};
    values[ov_x] = Int64GetDatum(stats.x);
    values[ov_y] = Int64GetDatum(stats.y);
    values[ov_xy] = Int64GetDatum(stats.xy);
    values[ov_n] = Int64GetDatum(stats.n);
    set_optional_float8(values, nulls, ov_support_x, stats.support_x);
    set_optional_float8(values, nulls, ov_support_y, stats.support_y);
    set_optional_float8(values, nulls, ov_support_xy, stats.support_xy);
    set_optional_float8(values, nulls, ov_share_x_in_y, stats.share_x_in_y);
    set_optional_float8(values, nulls, ov_share_y_in_x, stats.share_y_in_x);
    set_optional_float8(values, nulls, ov_jaccard, stats.jaccard);
    set_optional_float8(values, nulls, ov_lift, stats.lift);
    return HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
}

using OverlapAggState = ca::OverlapCounts;

constexpr ca::pg::FlatAggregate kOverlap{"segment_overlap"};

std::int64_t checked_add(std::int64_t a, std::int64_t b) {
    std::int64_t sum;
    if (__builtin_add_overflow(a, b, &sum))
        throw ca::Error(ca::ErrorKind::numeric_value_out_of_range, "count out of range");
    return sum;
}

}  // namespace

// segment_overlap(x, y, xy, n): from set sizes.
CA_FUNCTION(ca_segment_overlap) {
    PG_RETURN_DATUM(
        overlap_datum(fcinfo, PG_GETARG_INT64(0), PG_GETARG_INT64(1), PG_GETARG_INT64(2), PG_GETARG_INT64(3)));
}

// segment_overlap(in_x, in_y): one row per member of the population; rows
// with a NULL flag are skipped.
CA_FUNCTION(ca_segment_overlap_transfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "segment_overlap");
    auto* state = PG_ARGISNULL(0) ? ca::pg::new_flat_state<OverlapAggState>(context)
                                  : reinterpret_cast<OverlapAggState*>(PG_GETARG_POINTER(0));
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
        PG_RETURN_POINTER(state);
    const bool in_x = PG_GETARG_BOOL(1);
    const bool in_y = PG_GETARG_BOOL(2);
    state->n = checked_add(state->n, 1);
    state->x += in_x;
    state->y += in_y;
    state->xy += in_x && in_y;
    PG_RETURN_POINTER(state);
}

CA_FUNCTION(ca_segment_overlap_combinefn) {
    auto merge = [](OverlapAggState* state, const OverlapAggState& other) {
        OverlapAggState sum;
        sum.x = checked_add(state->x, other.x);
        sum.y = checked_add(state->y, other.y);
        sum.xy = checked_add(state->xy, other.xy);
        sum.n = checked_add(state->n, other.n);
        *state = sum;
    };
    return ca::pg::flat_combine<OverlapAggState>(fcinfo, kOverlap, merge);
}

namespace {

// The serialized form of the state, for analytics_state and for 0.1.0's
// serialize and deserialize functions.
void write_Overlap_state_object(ca::StateWriter& writer, void* memory) {
    const auto* state = static_cast<const OverlapAggState*>(memory);
    ca::write_overlap_state(writer, *state);
}

void* read_Overlap_state_object(MemoryContext context, const ca::pg::StateBytes& bytes) {
    auto* state = ca::pg::new_flat_state<OverlapAggState>(context);
    *state = ca::read_overlap_state(bytes.data, bytes.size);
    return state;
}

}  // namespace

namespace customer_analytics::pg {
extern const StateFamily kOverlapFamily{CA_STATE_METHODS,           "segment_overlap",
                                        StateKind::segment_overlap, StateKind::segment_overlap,
                                        read_Overlap_state_object,  write_Overlap_state_object};
}  // namespace customer_analytics::pg

CA_FUNCTION(ca_segment_overlap_serialfn) {
    PG_RETURN_BYTEA_P(ca::pg::state_bytea(
        [fcinfo](ca::StateWriter& writer) { write_Overlap_state_object(writer, PG_GETARG_POINTER(0)); }));
}

CA_FUNCTION(ca_segment_overlap_deserialfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "segment_overlap_deserialize");
    PG_RETURN_POINTER(read_Overlap_state_object(context, ca::pg::state_argument(fcinfo, 0)));
}

CA_FUNCTION(ca_segment_overlap_finalfn) {
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    const auto* state = reinterpret_cast<const OverlapAggState*>(PG_GETARG_POINTER(0));
    PG_RETURN_DATUM(overlap_datum(fcinfo, state->x, state->y, state->xy, state->n));
}

// --------------------------------------------------------------- affinity

namespace {

struct AffinityParams {
    double min_support;
    std::int64_t min_count;
    std::int64_t top_n;
    std::int64_t order_by_lift;
};

ca::AffinityQuery affinity_query(const AffinityParams& p) {
    ca::AffinityQuery query;
    query.min_support = p.min_support;
    query.min_count = p.min_count;
    query.top_n = p.top_n;
    query.order_by = p.order_by_lift ? ca::AffinityOrder::lift : ca::AffinityOrder::support;
    return query;
}

// The state keeps the core's AffinityState on the C++ heap
// (heap_state.hpp).
struct AffinityAggregate {
    using Params = AffinityParams;
    using Core = ca::AffinityState;
    static constexpr ca::pg::FlatAggregate aggregate{"affinity"};

    // An empty state checks the query only.
    static void validate(const Params& params) { Core().pairs(affinity_query(params)); }
    static void merge(Core& core, const Core& other) { core.merge(other, ca::pg::interrupts()); }
    static void write(ca::StateWriter& writer, const Core& core, const Params& params) {
        ca::write_affinity_state(writer, core, affinity_query(params));
    }
    static Params read(const ca::pg::StateBytes& bytes, Core& core) {
        ca::AffinityQuery query;
        core = ca::read_affinity_state(bytes.data, bytes.size, &query);
        return Params{query.min_support, query.min_count, query.top_n,
                      query.order_by == ca::AffinityOrder::lift ? 1 : 0};
    }
};

// Size of an affinity_pair value besides its two names (tuple header,
// text headers, eleven 8-byte fields, alignment), and the largest result.
constexpr std::uint64_t kPairFixedBytes = 136;
constexpr std::uint64_t kMaxResultBytes = std::uint64_t(512) << 20;
// Raw elements of one basket array (duplicates and NULLs included; the core
// then allows 1000 distinct items).
constexpr std::uint64_t kMaxBasketElements = 1000000;

// The result array must fit one allocation: with long item names and a
// large top_n it would not.
void check_result_size(const std::vector<ca::PairStats>& pairs) {
    std::uint64_t bytes = 0;
    for (const ca::PairStats& p : pairs)
        bytes += kPairFixedBytes + p.item_a.size() + p.item_b.size();
    if (bytes > kMaxResultBytes)
        throw ca::Error(ca::ErrorKind::program_limit_exceeded, "affinity result exceeds the limit of 512 MB",
                        "The " + std::to_string(pairs.size()) + " pairs need about " + std::to_string(bytes >> 20) +
                            " MB.",
                        "Ask for fewer pairs (a smaller top_n), or a higher min_support.");
}

enum PairField {
    pf_item_a,
    pf_item_b,
    pf_count_a,
    pf_count_b,
    pf_count_ab,
    pf_baskets,
    pf_support_a,
    pf_support_b,
    pf_support_ab,
    pf_confidence_ab,
    pf_confidence_ba,
    pf_lift,
    pf_jaccard,
    pf_fields
};

}  // namespace

// affinity(items text[] [, min_support, top_n [, min_count, order_by]]):
// one row per basket; NULL baskets and NULL items are skipped.
CA_FUNCTION(ca_affinity_transfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "affinity");
    AffinityParams params{0.001, 1, 100, 0};
    if (PG_NARGS() > 2) {
        require_argument(fcinfo, 2, "min_support");
        require_argument(fcinfo, 3, "top_n");
        params.min_support = positive_zero(PG_GETARG_FLOAT8(2));
        params.top_n = PG_GETARG_INT32(3);
    }
    if (PG_NARGS() > 4) {
        require_argument(fcinfo, 4, "min_count");
        require_argument(fcinfo, 5, "order_by");
        params.min_count = PG_GETARG_INT64(4);
        const text* order = PG_GETARG_TEXT_PP(5);
        const std::string_view order_by = text_view(order);
        if (order_by == "lift")
            params.order_by_lift = 1;
        else if (order_by != "support")
            throw ca::Error(ca::ErrorKind::invalid_parameter_value, "order_by must be 'support' or 'lift'");
    }
    auto* state = ca::pg::heap_state_for_row<AffinityAggregate>(fcinfo, context, params);
    if (PG_ARGISNULL(1))
        PG_RETURN_POINTER(state);
    ArrayType* array = PG_GETARG_ARRAYTYPE_P(1);
    if (ARR_NDIM(array) > 1)
        throw ca::Error(ca::ErrorKind::array_subscript_error, "items must be a one-dimensional array");
    Datum* elements = nullptr;
    bool* element_nulls = nullptr;
    int count = 0;
    ca::pg::check_limit(static_cast<std::uint64_t>(ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array))),
                        kMaxBasketElements, "a basket may have at most 1000000 array elements",
                        "Pass the distinct items of a basket, e.g. array_agg(DISTINCT category).");
    deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elements, &element_nulls, &count);
    // From here on a C++ object is alive, and PostgreSQL is not called.
    std::vector<std::string_view> basket;
    basket.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i)
        if (!element_nulls[i])
            basket.push_back(text_view(reinterpret_cast<const text*>(DatumGetPointer(elements[i]))));
    state->core->add_basket(basket);
    PG_RETURN_POINTER(state);
}

CA_FUNCTION(ca_affinity_combinefn) { return ca::pg::heap_combine<AffinityAggregate>(fcinfo); }
namespace customer_analytics::pg {
extern const StateFamily kAffinityFamily{CA_STATE_METHODS,
                                         "affinity",
                                         StateKind::affinity,
                                         StateKind::affinity,
                                         heap_read_object<AffinityAggregate>,
                                         heap_write_object<AffinityAggregate>};
}  // namespace customer_analytics::pg

CA_FUNCTION(ca_affinity_serialfn) { return ca::pg::heap_serialize<AffinityAggregate>(fcinfo); }
CA_FUNCTION(ca_affinity_deserialfn) { return ca::pg::heap_deserialize<AffinityAggregate>(fcinfo); }

// → affinity_pair[]: the top pairs, best first; an empty array when no pair
// qualifies. The pairs (with their std::string names) are alive while the
// array is built, through pg_call.
CA_FUNCTION(ca_affinity_finalfn) {
    const auto* state = ca::pg::heap_final_state<AffinityAggregate>(fcinfo);
    if (state == nullptr)
        PG_RETURN_NULL();
    const std::vector<ca::PairStats> pairs = state->core->pairs(affinity_query(state->params), ca::pg::interrupts());
    check_result_size(pairs);
    ca::pg::CompositeArray array(fcinfo, static_cast<int>(pairs.size()), "result element");
    for (const ca::PairStats& p : pairs) {
        Datum* values = array.values();
        values[pf_item_a] = ca::pg::text_datum(p.item_a);
        values[pf_item_b] = ca::pg::text_datum(p.item_b);
        values[pf_count_a] = Int64GetDatum(p.count_a);
        values[pf_count_b] = Int64GetDatum(p.count_b);
        values[pf_count_ab] = Int64GetDatum(p.count_ab);
        values[pf_baskets] = Int64GetDatum(p.baskets);
        values[pf_support_a] = Float8GetDatum(p.support_a);
        values[pf_support_b] = Float8GetDatum(p.support_b);
        values[pf_support_ab] = Float8GetDatum(p.support_ab);
        values[pf_confidence_ab] = Float8GetDatum(p.confidence_ab);
        values[pf_confidence_ba] = Float8GetDatum(p.confidence_ba);
        values[pf_lift] = Float8GetDatum(p.lift);
        values[pf_jaccard] = Float8GetDatum(p.jaccard);
        array.add_row();
    }
    PG_RETURN_DATUM(array.result());
}

// The analytics_state entry points (analytics_state.hpp).
using ca::pg::kOverlapFamily;
CA_STATE_TRANSFN(ca_segment_overlap_transfn, kOverlapFamily)
CA_STATE_COMBINEFN(ca_segment_overlap_combinefn, kOverlapFamily)
CA_STATE_FINALFN(ca_segment_overlap_finalfn, kOverlapFamily)
using ca::pg::kAffinityFamily;
CA_STATE_TRANSFN(ca_affinity_transfn, kAffinityFamily)
CA_STATE_COMBINEFN(ca_affinity_combinefn, kAffinityFamily)
CA_STATE_FINALFN(ca_affinity_finalfn, kAffinityFamily)
