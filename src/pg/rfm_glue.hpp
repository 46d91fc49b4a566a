// Reading the extension's composite types (rfm_summary, rfm_bins) in C++.
#pragma once

#include "rfm.hpp"

#include "postgres_headers.hpp"

namespace customer_analytics::pg {

// Field positions (0-based) of the composite types, as declared in the
// install script.
enum BinsField {
    bins_buckets, bins_as_of, bins_customers, bins_recency_cuts, bins_frequency_cuts, bins_monetary_cuts,
    bins_recency_mean, bins_frequency_mean, bins_monetary_mean, bins_fields
};

struct SummaryValues {
    std::int32_t last_order;
    std::int64_t frequency;
    double monetary;
};

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

}  // namespace customer_analytics::pg
