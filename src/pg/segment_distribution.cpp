// segment_distribution: the segment builder's population statistics kept as
// a distribution (bytea) that deltas update (segment_distribution.hpp).
//
// Memory: the delta aggregate keeps the core's SegmentCollector on the C++
// heap (heap_state.hpp), 28 bytes per customer read, bounded by
// kMaxSegmentBuyers per side; it is not counted against work_mem. The apply
// and statistics functions read a distribution in place (its histograms
// copied into C++ vectors for the length of one call); apply merges it with
// the delta straight into the result.
#include "segment_distribution.hpp"

#include "analytics_state.hpp"
#include "barrier.hpp"
#include "convert.hpp"
#include "flat_state.hpp"
#include "heap_state.hpp"
#include "rfm_types.hpp"

namespace ca = customer_analytics;

namespace {

// Whether the numeric's double reads back as the same value: at most 15
// significant digits (trailing zeros of the scale do not count), which every
// double distinguishes.
bool exact_money(const ca::Decimal& decimal) {
    ca::int128 mantissa = decimal.mantissa;
    std::int32_t scale = decimal.scale;
    while (scale > 0 && mantissa != 0 && mantissa % 10 == 0) {
        mantissa /= 10;
        --scale;
    }
    constexpr ca::int128 kLimit = 1000000000000000;  // 10^15
    return mantissa > -kLimit && mantissa < kLimit;
}

// A buying customer's values from an rfm_summary, or false for a customer
// without a purchase (no last_order). Runs with no C++ object alive.
bool read_buyer(FunctionCallInfo fcinfo, HeapTupleHeader summary, ca::SegmentCustomer* out) {
    const ca::pg::CompositeReader* reader = ca::pg::composite_reader(fcinfo, &fcinfo->flinfo->fn_extra, summary);
    bool no_purchase = false;
    const Datum last_order = ca::pg::composite_field(reader, summary, ca::pg::summary_last_order + 1, &no_purchase);
    bool no_frequency = false;
    const Datum frequency_datum =
        ca::pg::composite_field(reader, summary, ca::pg::summary_frequency + 1, &no_frequency);
    const std::int64_t frequency = no_frequency ? 0 : DatumGetInt64(frequency_datum);
    // The statistics count buyers by last_order (rfm_bins) and by frequency
    // (the medians and top spend): a summary where these disagree cannot
    // give both definitions at once.
    if (no_purchase != (frequency <= 0))
        throw ca::Error(ca::ErrorKind::invalid_parameter_value,
                        "rfm_summary has a last_order exactly when its frequency is positive",
                        "The summary has " + std::string(no_purchase ? "no last_order" : "a last_order") +
                            " and frequency " + std::to_string(frequency) + ".");
    if (no_purchase)
        return false;
    out->last_order = ca::pg::finite_date(DatumGetDateADT(last_order), "last_order");
    out->frequency = frequency;
    const Datum monetary = ca::pg::required_field(reader, summary, ca::pg::summary_monetary + 1, "monetary");
    ca::Decimal decimal;
    bool negative = false;
    const bool fits = ca::pg::numeric_to_decimal(monetary, &decimal, &negative, "monetary");
    // As read_summary reads it for rfm_bins (numeric_to_double, whose first
    // step is this numeric_to_decimal).
    out->monetary = fits && decimal.scale <= 18 ? ca::decimal_to_double(decimal) : ca::pg::numeric_to_double(monetary);
    out->exact = fits && exact_money(decimal);
    // The order value as SQL's (monetary / frequency)::float8: numeric
    // division, then the conversion, which rounds the quotient's exact
    // decimal value correctly, as decimal_to_double does.
    ca::Decimal quotient;
    if (fits && ca::decimal_divide_like_numeric(decimal, frequency, &quotient)) {
        out->value = ca::decimal_to_double(quotient);
    } else {
        const Datum divisor = DirectFunctionCall1(int8_numeric, Int64GetDatum(frequency));
        const Datum result = DirectFunctionCall2(numeric_div, monetary, divisor);
        out->value = DatumGetFloat8(DirectFunctionCall1(numeric_float8, result));
        pfree(DatumGetPointer(result));
        pfree(DatumGetPointer(divisor));
    }
    return true;
}

struct DeltaParams {
    std::int64_t unused;
};

struct DeltaCore {
    ca::SegmentCollector removed;
    ca::SegmentCollector added;
};

// The serialized state is the delta itself, the columns sorted.
struct DeltaAggregate {
    using Params = DeltaParams;
    using Core = DeltaCore;
    static constexpr ca::pg::FlatAggregate aggregate{"segment_distribution_delta"};
    static void validate(const Params&) {}
    static void merge(Core& core, const Core& other) {
        core.removed.merge(other.removed);
        core.added.merge(other.added);
    }
    static void write(ca::StateWriter& writer, const Core& core, const Params&) {
        // Sorting in place changes no value of the state; once sorted, the
        // measuring and the writing pass find it sorted.
        Core& sortable = const_cast<Core&>(core);
        sortable.removed.sort(ca::pg::interrupts());
        sortable.added.sort(ca::pg::interrupts());
        ca::write_segment_delta(writer, core.removed, core.added);
    }
    static Params read(const ca::pg::StateBytes& bytes, Core& core) {
        const ca::SegmentDelta delta = ca::read_segment_delta(bytes.data, bytes.size);
        core.removed.add_values(delta.removed);
        core.added.add_values(delta.added);
        return Params{};
    }
};

// A new bytea of a state that write() (called twice: measure, then write)
// serializes, for frames that hold C++ objects: palloc goes through pg_call.
template <typename Write>
bytea* guarded_state_bytea(Write write) {
    bytea* result = nullptr;
    ca::write_state(write, [&result](std::size_t size) {
        if (size > MaxAllocSize - VARHDRSZ)
            throw ca::Error(ca::ErrorKind::program_limit_exceeded, "segment distribution is too large to serialize");
        result = static_cast<bytea*>(ca::pg::pg_call([](std::size_t bytes) { return palloc(bytes); }, VARHDRSZ + size));
        SET_VARSIZE(result, VARHDRSZ + size);
        return reinterpret_cast<std::uint8_t*>(VARDATA(result));
    });
    return result;
}

bytea* delta_bytea(DeltaCore& core) {
    core.removed.sort(ca::pg::interrupts());
    core.added.sort(ca::pg::interrupts());
    return guarded_state_bytea(
        [&core](ca::StateWriter& writer) { ca::write_segment_delta(writer, core.removed, core.added); });
}

bytea* applied_bytea(const ca::pg::StateBytes* distribution, const ca::pg::StateBytes& delta_bytes) {
    const ca::SegmentDelta delta = ca::read_segment_delta(delta_bytes.data, delta_bytes.size);
    const ca::SegmentView held = distribution == nullptr
                                     ? ca::SegmentView{}
                                     : ca::view_segment_distribution(distribution->data, distribution->size);
    const std::size_t size = ca::applied_segment_size(held, delta);
    if (size > MaxAllocSize - VARHDRSZ)
        throw ca::Error(ca::ErrorKind::program_limit_exceeded, "segment distribution is too large to serialize");
    auto* result =
        static_cast<bytea*>(ca::pg::pg_call([](std::size_t bytes) { return palloc(bytes); }, VARHDRSZ + size));
    SET_VARSIZE(result, VARHDRSZ + size);
    ca::write_state(
        size, [&held, &delta](ca::StateWriter& writer) { ca::write_applied_segment_delta(writer, held, delta); },
        [result](std::size_t) { return reinterpret_cast<std::uint8_t*>(VARDATA(result)); });
    return result;
}

ca::SegmentStatistics statistics_of(const ca::pg::StateBytes* distribution, std::int32_t as_of, int buckets) {
    const ca::SegmentView view = distribution == nullptr
                                     ? ca::SegmentView{}
                                     : ca::view_segment_distribution(distribution->data, distribution->size);
    return ca::segment_statistics(view, as_of, buckets);
}

enum StatisticsField {
    st_bins,
    st_frequency_median,
    st_value_median,
    st_spend_top,
    st_spend_above,
    st_exact_spend,
    st_buyers,
    st_fields
};

struct StatisticsCache {
    void* result;         // the record's descriptor
    TupleDesc bins_type;  // rfm_bins
};

}  // namespace

// segment_distribution_delta(before, after): each row removes before and
// adds after (each when a buyer).
CA_FUNCTION(ca_segment_distribution_delta_transfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, DeltaAggregate::aggregate.name);
    auto* state = ca::pg::heap_state_for_row<DeltaAggregate>(fcinfo, context, DeltaParams{});
    ca::SegmentCustomer customer;
    if (!PG_ARGISNULL(1) && read_buyer(fcinfo, PG_GETARG_HEAPTUPLEHEADER(1), &customer))
        state->core->removed.add(customer);
    if (!PG_ARGISNULL(2) && read_buyer(fcinfo, PG_GETARG_HEAPTUPLEHEADER(2), &customer))
        state->core->added.add(customer);
    PG_RETURN_POINTER(state);
}

CA_FUNCTION(ca_segment_distribution_delta_combinefn) { return ca::pg::heap_combine<DeltaAggregate>(fcinfo); }

namespace customer_analytics::pg {
extern const StateFamily kSegmentDeltaFamily{
    CA_STATE_METHODS,         "segment_distribution_delta",     StateKind::segment_delta,
    StateKind::segment_delta, heap_read_object<DeltaAggregate>, heap_write_object<DeltaAggregate>};
}  // namespace customer_analytics::pg

// NULL when no row removed or added a buyer.
CA_FUNCTION(ca_segment_distribution_delta_finalfn) {
    const auto* state = ca::pg::heap_final_state<DeltaAggregate>(fcinfo);
    if (state == nullptr || (state->core->removed.size() == 0 && state->core->added.size() == 0))
        PG_RETURN_NULL();
    PG_RETURN_BYTEA_P(delta_bytea(*state->core));
}

// segment_distribution_apply(distribution, delta): a NULL distribution is
// empty, a NULL delta changes nothing.
CA_FUNCTION(ca_segment_distribution_apply) {
    if (PG_ARGISNULL(1)) {
        if (PG_ARGISNULL(0))
            PG_RETURN_NULL();
        PG_RETURN_DATUM(PG_GETARG_DATUM(0));
    }
    const ca::pg::StateBytes delta = ca::pg::state_argument(fcinfo, 1);
    ca::pg::StateBytes distribution{};
    if (!PG_ARGISNULL(0))
        distribution = ca::pg::state_argument(fcinfo, 0);
    PG_RETURN_BYTEA_P(applied_bytea(PG_ARGISNULL(0) ? nullptr : &distribution, delta));
}

// segment_distribution_statistics(distribution, as_of, buckets): a NULL
// distribution is empty.
CA_FUNCTION(ca_segment_distribution_statistics) {
    ca::pg::require_argument(fcinfo, 1, "as_of");
    ca::pg::require_argument(fcinfo, 2, "buckets");
    const std::int32_t as_of = ca::pg::finite_date(PG_GETARG_DATEADT(1), "as_of");
    const int buckets = PG_GETARG_INT32(2);
    ca::pg::StateBytes distribution{};
    if (!PG_ARGISNULL(0))
        distribution = ca::pg::state_argument(fcinfo, 0);
    const ca::SegmentStatistics stats = statistics_of(PG_ARGISNULL(0) ? nullptr : &distribution, as_of, buckets);

    auto* cache = ca::pg::call_cache<StatisticsCache>(fcinfo);
    TupleDesc descriptor = ca::pg::result_descriptor(fcinfo, &cache->result);
    if (cache->bins_type == nullptr) {
        MemoryContext previous = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
        cache->bins_type =
            BlessTupleDesc(lookup_rowtype_tupdesc_copy(TupleDescAttr(descriptor, st_bins)->atttypid, -1));
        MemoryContextSwitchTo(previous);
    }
    Datum values[st_fields] = {};
    bool nulls[st_fields] = {};
    nulls[st_bins] = !stats.has_bins;
    if (stats.has_bins)
        values[st_bins] = ca::pg::bins_datum(cache->bins_type, stats.bins, as_of);
    ca::pg::set_optional_float8(values, nulls, st_frequency_median, stats.frequency_median);
    ca::pg::set_optional_float8(values, nulls, st_value_median, stats.value_median);
    nulls[st_spend_top] = !stats.has_top;
    if (stats.has_top)
        values[st_spend_top] = ca::pg::float8_array_datum(stats.spend_top, 2);
    ca::pg::set_optional_float8(values, nulls, st_spend_above, stats.spend_above);
    values[st_exact_spend] = BoolGetDatum(stats.exact_spend);
    values[st_buyers] = Int64GetDatum(stats.buyers);
    PG_RETURN_DATUM(ca::pg::tuple_datum(descriptor, values, nulls));
}

// segment_spend_numeric(spend): the shortest decimal that reads back as the
// double, so a spend that came from an exact numeric gives that numeric.
CA_FUNCTION(ca_segment_spend_numeric) {
    char text[ca::kShortestDoubleCapacity];
    ca::shortest_double_text(PG_GETARG_FLOAT8(0), text);
    PG_RETURN_DATUM(
        DirectFunctionCall3(numeric_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

// The analytics_state entry points (analytics_state.hpp).
using ca::pg::kSegmentDeltaFamily;
CA_STATE_TRANSFN(ca_segment_distribution_delta_transfn, kSegmentDeltaFamily)
CA_STATE_COMBINEFN(ca_segment_distribution_delta_combinefn, kSegmentDeltaFamily)
CA_STATE_FINALFN(ca_segment_distribution_delta_finalfn, kSegmentDeltaFamily)
