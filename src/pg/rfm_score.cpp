// rfm_score: the type, and the score of a customer against bins.
#include "rfm_score.hpp"
#include "stages.hpp"

#include "barrier.hpp"
#include "convert.hpp"
#include "flat_state.hpp"
#include "rfm_types.hpp"

namespace ca = customer_analytics;
using ca::pg::require_argument;
using ca::pg::score_argument;

namespace {

Datum score_datum(const ca::RfmScore& score) { return UInt32GetDatum(ca::pack_score(score)); }

// The score, or false when the customer has no purchase.
bool score_of(FunctionCallInfo fcinfo, std::int32_t as_of_day, bool use_bins_as_of, ca::RfmScore* score) {
    auto* cache = ca::pg::call_cache<ca::pg::SummaryBinsCache>(fcinfo);
    ca::pg::SummaryValues summary;
    if (!ca::pg::read_summary(fcinfo, &cache->summary_reader, PG_GETARG_HEAPTUPLEHEADER(0), &summary))
        return false;
    const ca::pg::ParsedBins* parsed = ca::pg::read_bins(fcinfo, &cache->bins, PG_GETARG_DATUM(1));
    const std::int32_t day = use_bins_as_of ? parsed->as_of_day : as_of_day;
    *score = ca::score_customer(static_cast<double>(ca::days_since(summary.last_order, day)),
                                static_cast<double>(summary.frequency), summary.monetary, parsed->bins.buckets,
                                parsed->bins.recency_cuts, parsed->bins.frequency_cuts, parsed->bins.monetary_cuts);
    return true;
}

}  // namespace

// Not STRICT: a NULL summary or bins gives NULL (no customer, or no bins
// because nobody bought), a NULL as_of is an error.
CA_FUNCTION(ca_rfm_score) {
    require_argument(fcinfo, 2, "as_of");
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        PG_RETURN_NULL();
    ca::RfmScore score;
    if (!score_of(fcinfo, ca::pg::finite_date(PG_GETARG_DATEADT(2), "as_of"), false, &score))
        PG_RETURN_NULL();
    return score_datum(score);
}

CA_FUNCTION(ca_rfm_score_bins_as_of) {
    ca::RfmScore score;
    if (!score_of(fcinfo, 0, true, &score))
        PG_RETURN_NULL();
    return score_datum(score);
}

CA_FUNCTION(ca_rfm_score_from_parts) {
    return score_datum(ca::RfmScore{PG_GETARG_INT32(0), PG_GETARG_INT32(1), PG_GETARG_INT32(2)});
}

// ---------------------------------------------------------------- the type

CA_FUNCTION(ca_rfm_score_in) { return score_datum(ca::parse_score(PG_GETARG_CSTRING(0))); }

CA_FUNCTION(ca_rfm_score_out) {
    char text[ca::kScoreTextCapacity];
    ca::format_score(score_argument(fcinfo, 0), text);
    PG_RETURN_CSTRING(pstrdup(text));
}

CA_FUNCTION(ca_rfm_score_recv) {
    StringInfo buffer = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
    const auto packed = static_cast<std::uint32_t>(pq_getmsgint(buffer, 4));
    ca::check_score(ca::unpack_score(packed));
    if (packed >> 24 != 0)
        throw ca::Error(ca::ErrorKind::invalid_parameter_value, "invalid external rfm_score value");
    return UInt32GetDatum(packed);
}

CA_FUNCTION(ca_rfm_score_send) {
    StringInfoData buffer;
    pq_begintypsend(&buffer);
    pq_sendint32(&buffer, DatumGetUInt32(PG_GETARG_DATUM(0)));
    PG_RETURN_BYTEA_P(pq_endtypsend(&buffer));
}

CA_FUNCTION(ca_rfm_score_cmp) {
    const std::uint32_t left = DatumGetUInt32(PG_GETARG_DATUM(0));
    const std::uint32_t right = DatumGetUInt32(PG_GETARG_DATUM(1));
    PG_RETURN_INT32(left < right ? -1 : (left > right ? 1 : 0));
}

#define CA_SCORE_COMPARISON(name, op) \
    CA_FUNCTION(name) { PG_RETURN_BOOL(DatumGetUInt32(PG_GETARG_DATUM(0)) op DatumGetUInt32(PG_GETARG_DATUM(1))); }
CA_SCORE_COMPARISON(ca_rfm_score_eq, ==)
CA_SCORE_COMPARISON(ca_rfm_score_ne, !=)
CA_SCORE_COMPARISON(ca_rfm_score_lt, <)
CA_SCORE_COMPARISON(ca_rfm_score_le, <=)
CA_SCORE_COMPARISON(ca_rfm_score_gt, >)
CA_SCORE_COMPARISON(ca_rfm_score_ge, >=)

CA_FUNCTION(ca_rfm_score_hash) { return hash_uint32(DatumGetUInt32(PG_GETARG_DATUM(0))); }

CA_FUNCTION(ca_recency_score) { PG_RETURN_INT32(score_argument(fcinfo, 0).r); }
CA_FUNCTION(ca_frequency_score) { PG_RETURN_INT32(score_argument(fcinfo, 0).f); }
CA_FUNCTION(ca_monetary_score) { PG_RETURN_INT32(score_argument(fcinfo, 0).m); }
