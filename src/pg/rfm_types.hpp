// Reading the extension's composite types rfm_summary and rfm_bins, and
// rfm_score arguments, in the glue of the rfm_* functions.
#pragma once

#include "rfm_bins.hpp"
#include "rfm_score.hpp"

#include "postgres_headers.hpp"

namespace customer_analytics::pg {

// Field positions (0-based) of the composite types, as declared in the
// install script.
enum SummaryField {
    summary_first_order,
    summary_last_order,
    summary_frequency,
    summary_purchase_days,
    summary_monetary,
    summary_refunds,
    summary_fields
};
enum BinsField {
    bins_buckets,
    bins_as_of,
    bins_customers,
    bins_recency_cuts,
    bins_frequency_cuts,
    bins_monetary_cuts,
    bins_recency_mean,
    bins_frequency_mean,
    bins_monetary_mean,
    bins_fields
};

struct SummaryValues {
    std::int32_t last_order;
    std::int64_t frequency;
    double monetary;
};

// An rfm_bins value (descriptor: the blessed descriptor of rfm_bins) of
// bins computed for as_of: the one place that builds it.
Datum bins_datum(TupleDesc descriptor, const Bins& bins, std::int32_t as_of_day);

// False when the customer has no purchase (last_order is NULL).
bool read_summary(FunctionCallInfo fcinfo, void** reader_slot, HeapTupleHeader summary, SummaryValues* out);

// Parsed and validated rfm_bins, cached per call site: parsing is skipped
// while the same bins value comes in (as it does for every row of a query).
struct ParsedBins {
    Bins bins;
    std::int32_t as_of_day;
};
struct BinsCache {
    void* reader;     // CompositeReader of rfm_bins
    void* arguments;  // ArgumentCache of ParsedBins
};
const ParsedBins* read_bins(FunctionCallInfo fcinfo, BinsCache* cache, Datum bins);

// The call cache of the functions that read a summary and bins (rfm_score,
// rfm_class).
struct SummaryBinsCache {
    void* summary_reader;
    BinsCache bins;
};

inline RfmScore score_argument(FunctionCallInfo fcinfo, int argument) {
    return unpack_score(DatumGetUInt32(PG_GETARG_DATUM(argument)));
}

}  // namespace customer_analytics::pg
