// rfm_bins: the aggregate over customers giving quantile cut points and means.
#include "rfm_bins.hpp"
#include "stages.hpp"

#include "analytics_state.hpp"
#include "barrier.hpp"
#include "convert.hpp"
#include "flat_state.hpp"
#include "rfm_types.hpp"

namespace ca = customer_analytics;
using ca::pg::arena_for;

namespace {

struct BinsAggState {
    ca::BinsState core;
};

}  // namespace

CA_FUNCTION(ca_rfm_bins_transfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "rfm_bins");
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<BinsAggState*>(PG_GETARG_POINTER(0));
    if (PG_ARGISNULL(2))
        throw ca::Error(ca::ErrorKind::null_value_not_allowed, "as_of must not be null");
    if (PG_NARGS() > 3 && PG_ARGISNULL(3))
        throw ca::Error(ca::ErrorKind::null_value_not_allowed, "buckets must not be null");
    const std::int32_t as_of = ca::pg::finite_date(PG_GETARG_DATEADT(2), "as_of");
    const std::int32_t buckets = PG_NARGS() > 3 ? PG_GETARG_INT32(3) : 5;
    if (state == nullptr) {
        ca::check_buckets(buckets);
        state = new (MemoryContextAllocZero(context, sizeof(BinsAggState))) BinsAggState();
        state->core.start(as_of, buckets);
    } else if (state->core.as_of_day != as_of || state->core.buckets != buckets) {
        throw ca::Error(ca::ErrorKind::invalid_parameter_value,
                        "rfm_bins needs the same as_of and buckets on every row", {},
                        "Pass constants, such as rfm_bins(summary, DATE '2024-12-31').");
    }
    // Customers without a purchase (only refunds) have no recency: they
    // neither shape the bins nor get a score.
    if (PG_ARGISNULL(1))
        PG_RETURN_POINTER(state);
    ca::pg::SummaryValues summary;
    if (!ca::pg::read_summary(fcinfo, &fcinfo->flinfo->fn_extra, PG_GETARG_HEAPTUPLEHEADER(1), &summary))
        PG_RETURN_POINTER(state);
    state->core.add(arena_for(context), static_cast<double>(ca::days_since(summary.last_order, as_of)),
                    static_cast<double>(summary.frequency), summary.monetary);
    PG_RETURN_POINTER(state);
}

CA_FUNCTION(ca_rfm_bins_combinefn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "rfm_bins_combine");
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<BinsAggState*>(PG_GETARG_POINTER(0));
    if (PG_ARGISNULL(1)) {
        if (state == nullptr)
            PG_RETURN_NULL();
        PG_RETURN_POINTER(state);
    }
    const auto* other = reinterpret_cast<BinsAggState*>(PG_GETARG_POINTER(1));
    if (state == nullptr)
        state = new (MemoryContextAllocZero(context, sizeof(BinsAggState))) BinsAggState();
    state->core.merge(arena_for(context), other->core);
    PG_RETURN_POINTER(state);
}

namespace {

void bins_state_write(ca::StateWriter& writer, void* memory) {
    ca::write_bins_state(writer, static_cast<const BinsAggState*>(memory)->core);
}

void* bins_state_read(MemoryContext context, const ca::pg::StateBytes& bytes) {
    auto* state = new (MemoryContextAllocZero(context, sizeof(BinsAggState))) BinsAggState();
    ca::read_bins_state(arena_for(context), bytes.data, bytes.size, &state->core);
    return state;
}

}  // namespace

namespace customer_analytics::pg {
extern const StateFamily kBinsFamily{CA_STATE_METHODS,    "rfm_bins",      StateKind::rfm_bins,
                                     StateKind::rfm_bins, bins_state_read, bins_state_write};
}  // namespace customer_analytics::pg

// The serialize and deserialize functions of 0.1.0's internal state.
CA_FUNCTION(ca_rfm_bins_serialfn) {
    PG_RETURN_BYTEA_P(
        ca::pg::state_bytea([fcinfo](ca::StateWriter& writer) { bins_state_write(writer, PG_GETARG_POINTER(0)); }));
}

CA_FUNCTION(ca_rfm_bins_deserialfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "rfm_bins_deserialize");
    PG_RETURN_POINTER(bins_state_read(context, ca::pg::state_argument(fcinfo, 0)));
}

// Sorts the collected values in place (FINALFUNC_MODIFY = READ_WRITE).
CA_FUNCTION(ca_rfm_bins_finalfn) {
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    auto* state = reinterpret_cast<BinsAggState*>(PG_GETARG_POINTER(0));
    if (state->core.recency.size == 0)
        PG_RETURN_NULL();  // no customer with a purchase: nothing to cut
    const ca::Bins bins = ca::compute_bins(state->core, ca::pg::interrupts());
    TupleDesc descriptor = ca::pg::result_descriptor(fcinfo, &fcinfo->flinfo->fn_extra);
    PG_RETURN_DATUM(ca::pg::bins_datum(descriptor, bins, state->core.as_of_day));
}

namespace customer_analytics::pg {

Datum bins_datum(TupleDesc descriptor, const Bins& bins, std::int32_t as_of_day) {
    Datum values[bins_fields];
    bool nulls[bins_fields] = {false};
    const int cut_count = bins.buckets - 1;
    values[bins_buckets] = Int32GetDatum(bins.buckets);
    values[bins_as_of] = DateADTGetDatum(as_of_day);
    values[bins_customers] = Int64GetDatum(bins.customers);
    values[bins_recency_cuts] = float8_array_datum(bins.recency_cuts, cut_count);
    values[bins_frequency_cuts] = float8_array_datum(bins.frequency_cuts, cut_count);
    values[bins_monetary_cuts] = float8_array_datum(bins.monetary_cuts, cut_count);
    values[bins_recency_mean] = Float8GetDatum(bins.recency_mean);
    values[bins_frequency_mean] = Float8GetDatum(bins.frequency_mean);
    values[bins_monetary_mean] = Float8GetDatum(bins.monetary_mean);
    return tuple_datum(descriptor, values, nulls);
}

}  // namespace customer_analytics::pg

// ---------------------------------------------------- reading an rfm_bins

namespace customer_analytics::pg {

namespace {

void read_cuts(const CompositeReader* reader, HeapTupleHeader tuple, int field, const char* name, double* out,
               int* count) {
    ArrayType* array = DatumGetArrayTypeP(required_field(reader, tuple, field + 1, name));
    const double* values = float8_array(array, count, name, kMaxParameterElements);
    if (*count > kMaxBuckets - 1)
        throw Error(ErrorKind::array_subscript_error, std::string(name) + " has too many elements");
    std::memcpy(out, values, sizeof(double) * *count);
}

}  // namespace

const ParsedBins* read_bins(FunctionCallInfo fcinfo, BinsCache* cache, Datum bins_datum) {
    ArgumentCache* arguments = argument_cache(fcinfo, &cache->arguments);
    if (void* hit = argument_cache_lookup(arguments, &bins_datum, 1))
        return static_cast<const ParsedBins*>(hit);
    MemoryContext context = argument_cache_reset(arguments);
    HeapTupleHeader bins = DatumGetHeapTupleHeader(bins_datum);
    const CompositeReader* reader = composite_reader(fcinfo, &cache->reader, bins);
    ParsedBins parsed;
    parsed.bins.buckets = DatumGetInt32(required_field(reader, bins, bins_buckets + 1, "buckets"));
    check_buckets(parsed.bins.buckets);
    parsed.as_of_day = finite_date(DatumGetDateADT(required_field(reader, bins, bins_as_of + 1, "as_of")), "as_of");
    int recency_count, frequency_count, monetary_count;
    read_cuts(reader, bins, bins_recency_cuts, "recency_cuts", parsed.bins.recency_cuts, &recency_count);
    read_cuts(reader, bins, bins_frequency_cuts, "frequency_cuts", parsed.bins.frequency_cuts, &frequency_count);
    read_cuts(reader, bins, bins_monetary_cuts, "monetary_cuts", parsed.bins.monetary_cuts, &monetary_count);
    check_bins(parsed.bins.buckets, parsed.bins.recency_cuts, recency_count, parsed.bins.frequency_cuts,
               frequency_count, parsed.bins.monetary_cuts, monetary_count);
    parsed.bins.recency_mean = DatumGetFloat8(required_field(reader, bins, bins_recency_mean + 1, "recency_mean"));
    parsed.bins.frequency_mean =
        DatumGetFloat8(required_field(reader, bins, bins_frequency_mean + 1, "frequency_mean"));
    parsed.bins.monetary_mean = DatumGetFloat8(required_field(reader, bins, bins_monetary_mean + 1, "monetary_mean"));
    auto* stored = static_cast<ParsedBins*>(MemoryContextAlloc(context, sizeof(ParsedBins)));
    *stored = parsed;
    argument_cache_store(arguments, &bins_datum, 1, stored);
    return stored;
}

}  // namespace customer_analytics::pg

// The analytics_state entry points (analytics_state.hpp).
using ca::pg::kBinsFamily;
CA_STATE_TRANSFN(ca_rfm_bins_transfn, kBinsFamily)
CA_STATE_COMBINEFN(ca_rfm_bins_combinefn, kBinsFamily)
CA_STATE_FINALFN(ca_rfm_bins_finalfn, kBinsFamily)
