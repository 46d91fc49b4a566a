// rfm_score (the type and the function), rfm_segment and rfm_class.
#include "rfm.hpp"
#include "stages.hpp"

#include "barrier.hpp"
#include "convert.hpp"
#include "rfm_glue.hpp"

namespace ca = customer_analytics;

namespace customer_analytics::pg {

namespace {

enum SummaryField { summary_first_order, summary_last_order, summary_frequency, summary_purchase_days,
                    summary_monetary, summary_refunds };

Datum required_field(const CompositeReader* reader, HeapTupleHeader tuple, int field, const char* name) {
    bool is_null = false;
    const Datum value = composite_field(reader, tuple, field + 1, &is_null);
    if (is_null)
        throw Error(ErrorKind::null_value_not_allowed, std::string(name) + " must not be null");
    return value;
}

}  // namespace

bool read_summary(FunctionCallInfo fcinfo, void** reader_slot, HeapTupleHeader summary, SummaryValues* out) {
    const CompositeReader* reader = composite_reader(fcinfo, reader_slot, summary);
    bool is_null = false;
    const Datum last_order = composite_field(reader, summary, summary_last_order + 1, &is_null);
    if (is_null)
        return false;
    out->last_order = finite_date(DatumGetDateADT(last_order), "last_order");
    out->frequency = DatumGetInt64(required_field(reader, summary, summary_frequency, "frequency"));
    out->monetary = numeric_to_double(required_field(reader, summary, summary_monetary, "monetary"));
    return true;
}

namespace {

void read_cuts(const CompositeReader* reader, HeapTupleHeader tuple, int field, const char* name, double* out,
               int* count) {
    ArrayType* array = DatumGetArrayTypeP(required_field(reader, tuple, field, name));
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
    parsed.bins.buckets = DatumGetInt32(required_field(reader, bins, bins_buckets, "buckets"));
    check_buckets(parsed.bins.buckets);
    parsed.as_of_day = finite_date(DatumGetDateADT(required_field(reader, bins, bins_as_of, "as_of")), "as_of");
    int recency_count, frequency_count, monetary_count;
    read_cuts(reader, bins, bins_recency_cuts, "recency_cuts", parsed.bins.recency_cuts, &recency_count);
    read_cuts(reader, bins, bins_frequency_cuts, "frequency_cuts", parsed.bins.frequency_cuts, &frequency_count);
    read_cuts(reader, bins, bins_monetary_cuts, "monetary_cuts", parsed.bins.monetary_cuts, &monetary_count);
    check_bins(parsed.bins.buckets, parsed.bins.recency_cuts, recency_count, parsed.bins.frequency_cuts,
               frequency_count, parsed.bins.monetary_cuts, monetary_count);
    parsed.bins.recency_mean = DatumGetFloat8(required_field(reader, bins, bins_recency_mean, "recency_mean"));
    parsed.bins.frequency_mean = DatumGetFloat8(required_field(reader, bins, bins_frequency_mean, "frequency_mean"));
    parsed.bins.monetary_mean = DatumGetFloat8(required_field(reader, bins, bins_monetary_mean, "monetary_mean"));
    auto* stored = static_cast<ParsedBins*>(MemoryContextAlloc(context, sizeof(ParsedBins)));
    *stored = parsed;
    argument_cache_store(arguments, &bins_datum, 1, stored);
    return stored;
}

}  // namespace customer_analytics::pg

namespace {

struct ScoreCallCache {
    void* summary_reader;
    ca::pg::BinsCache bins;
};

// rfm_score and rfm_class are not STRICT: a NULL summary or bins gives NULL
// (no customer, or no bins because nobody bought), a NULL as_of or
// language is an error.
void require_parameters(FunctionCallInfo fcinfo, int first, const char* const* names, int count) {
    for (int i = 0; i < count; ++i)
        if (PG_ARGISNULL(first + i))
            throw ca::Error(ca::ErrorKind::null_value_not_allowed, std::string(names[i]) + " must not be null");
}

Datum score_datum(const ca::RfmScore& score) {
    return UInt32GetDatum(ca::pack_score(score));
}

ca::RfmScore score_argument(FunctionCallInfo fcinfo, int argument) {
    return ca::unpack_score(DatumGetUInt32(PG_GETARG_DATUM(argument)));
}

// The score, or false when the customer has no purchase.
bool score_of(FunctionCallInfo fcinfo, std::int32_t as_of_day, bool use_bins_as_of, ca::RfmScore* score) {
    auto* cache = ca::pg::call_cache<ScoreCallCache>(fcinfo);
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

CA_FUNCTION(ca_rfm_score) {
    static const char* const names[] = {"as_of"};
    require_parameters(fcinfo, 2, names, 1);
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

CA_FUNCTION(ca_rfm_score_in) {
    return score_datum(ca::parse_score(PG_GETARG_CSTRING(0)));
}

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

#define CA_SCORE_COMPARISON(name, op)                                                          \
    CA_FUNCTION(name) {                                                                         \
        PG_RETURN_BOOL(DatumGetUInt32(PG_GETARG_DATUM(0)) op DatumGetUInt32(PG_GETARG_DATUM(1))); \
    }
CA_SCORE_COMPARISON(ca_rfm_score_eq, ==)
CA_SCORE_COMPARISON(ca_rfm_score_ne, !=)
CA_SCORE_COMPARISON(ca_rfm_score_lt, <)
CA_SCORE_COMPARISON(ca_rfm_score_le, <=)
CA_SCORE_COMPARISON(ca_rfm_score_gt, >)
CA_SCORE_COMPARISON(ca_rfm_score_ge, >=)

CA_FUNCTION(ca_rfm_score_hash) {
    return hash_uint32(DatumGetUInt32(PG_GETARG_DATUM(0)));
}

CA_FUNCTION(ca_rfm_score_recency) { PG_RETURN_INT32(score_argument(fcinfo, 0).r); }
CA_FUNCTION(ca_rfm_score_frequency) { PG_RETURN_INT32(score_argument(fcinfo, 0).f); }
CA_FUNCTION(ca_rfm_score_monetary) { PG_RETURN_INT32(score_argument(fcinfo, 0).m); }

// ------------------------------------------------------------ segments

CA_FUNCTION(ca_rfm_segment) {
    PG_RETURN_TEXT_P(cstring_to_text(ca::standard_segment(score_argument(fcinfo, 0))));
}

namespace {

enum RuleField { rule_name, rule_r_min, rule_r_max, rule_f_min, rule_f_max, rule_m_min, rule_m_max, rule_fields };

// Parsed rules cached while the same rule array comes in.
struct ParsedRules {
    ca::SegmentRule* rules;
    int count;
};

struct RuleCallCache {
    void* reader;
    void* arguments;  // ArgumentCache of ParsedRules
};

const ParsedRules* read_rules(FunctionCallInfo fcinfo) {
    auto* call = ca::pg::call_cache<RuleCallCache>(fcinfo);
    ca::pg::ArgumentCache* cache = ca::pg::argument_cache(fcinfo, &call->arguments);
    const Datum key = PG_GETARG_DATUM(1);
    if (void* hit = ca::pg::argument_cache_lookup(cache, &key, 1))
        return static_cast<const ParsedRules*>(hit);
    MemoryContext context = ca::pg::argument_cache_reset(cache);
    ArrayType* array = PG_GETARG_ARRAYTYPE_P(1);
    int count = 0;
    Datum* elements =
        ca::pg::datum_array(array, ARR_ELEMTYPE(array), &count, "segment rules", ca::pg::kMaxParameterElements);
    auto* parsed = static_cast<ParsedRules*>(MemoryContextAllocZero(context, sizeof(ParsedRules)));
    auto* rules = static_cast<ca::SegmentRule*>(MemoryContextAllocZero(context, sizeof(ca::SegmentRule) * (count + 1)));
    for (int i = 0; i < count; ++i) {
        HeapTupleHeader tuple = DatumGetHeapTupleHeader(elements[i]);
        const ca::pg::CompositeReader* reader = ca::pg::composite_reader(fcinfo, &call->reader, tuple);
        int bounds[6];
        bool is_null = false;
        const Datum name = ca::pg::composite_field(reader, tuple, rule_name + 1, &is_null);
        if (is_null)
            throw ca::Error(ca::ErrorKind::null_value_not_allowed, "segment rule names must not be null",
                            "Rule " + std::to_string(i + 1) + " has a NULL name.");
        for (int field = rule_r_min; field <= rule_m_max; ++field) {
            const Datum bound = ca::pg::composite_field(reader, tuple, field + 1, &is_null);
            if (is_null)
                throw ca::Error(ca::ErrorKind::null_value_not_allowed, "segment rule bounds must not be null",
                                "Rule " + std::to_string(i + 1) + " has a NULL bound.");
            bounds[field - rule_r_min] = DatumGetInt32(bound);
        }
        MemoryContext previous = MemoryContextSwitchTo(context);
        rules[i] = ca::SegmentRule{text_to_cstring(DatumGetTextPP(name)), bounds[0], bounds[1], bounds[2],
                                   bounds[3], bounds[4], bounds[5]};
        MemoryContextSwitchTo(previous);
        ca::check_segment_rule(rules[i], static_cast<std::size_t>(i));
    }
    parsed->rules = rules;
    parsed->count = count;
    ca::pg::argument_cache_store(cache, &key, 1, parsed);
    return parsed;
}

}  // namespace

CA_FUNCTION(ca_rfm_segment_rules) {
    const ParsedRules* cache = read_rules(fcinfo);
    const long index = ca::first_matching_rule(cache->rules, static_cast<std::size_t>(cache->count),
                                               score_argument(fcinfo, 0));
    PG_RETURN_TEXT_P(cstring_to_text(index < 0 ? ca::kOtherSegment : cache->rules[index].name));
}

CA_FUNCTION(ca_rfm_standard_segments) {
    const auto& rules = ca::standard_segment_rules();
    TupleDesc descriptor = nullptr;
    const Oid array_type = get_func_rettype(fcinfo->flinfo->fn_oid);
    const Oid element_type = get_element_type(array_type);
    if (!OidIsValid(element_type))
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("could not determine the rfm_segment_rule type")));
    descriptor = BlessTupleDesc(lookup_rowtype_tupdesc_copy(element_type, -1));
    const int count = static_cast<int>(rules.size());
    Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * count));
    for (int i = 0; i < count; ++i) {
        const ca::SegmentRule& rule = rules[static_cast<std::size_t>(i)];
        Datum values[rule_fields] = {CStringGetTextDatum(rule.name), Int32GetDatum(rule.r_min),
                                     Int32GetDatum(rule.r_max),     Int32GetDatum(rule.f_min),
                                     Int32GetDatum(rule.f_max),     Int32GetDatum(rule.m_min),
                                     Int32GetDatum(rule.m_max)};
        bool nulls[rule_fields] = {false};
        elements[i] = HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
    }
    std::int16_t length;
    bool by_value;
    char alignment;
    get_typlenbyvalalign(element_type, &length, &by_value, &alignment);
    PG_RETURN_ARRAYTYPE_P(construct_array(elements, count, element_type, length, by_value, alignment));
}

// -------------------------------------------------------------- 8 classes

CA_FUNCTION(ca_rfm_class) {
    static const char* const names[] = {"as_of", "language"};
    require_parameters(fcinfo, 2, names, 2);
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        PG_RETURN_NULL();
    const ca::Language language = ca::parse_language(text_to_cstring(PG_GETARG_TEXT_PP(3)));
    auto* cache = ca::pg::call_cache<ScoreCallCache>(fcinfo);
    ca::pg::SummaryValues summary;
    if (!ca::pg::read_summary(fcinfo, &cache->summary_reader, PG_GETARG_HEAPTUPLEHEADER(0), &summary))
        PG_RETURN_NULL();
    const ca::pg::ParsedBins* parsed = ca::pg::read_bins(fcinfo, &cache->bins, PG_GETARG_DATUM(1));
    const std::int32_t as_of = ca::pg::finite_date(PG_GETARG_DATEADT(2), "as_of");
    const ca::RfmClass value = ca::classify(static_cast<double>(ca::days_since(summary.last_order, as_of)),
                                            static_cast<double>(summary.frequency), summary.monetary,
                                            parsed->bins.recency_mean, parsed->bins.frequency_mean,
                                            parsed->bins.monetary_mean);
    PG_RETURN_TEXT_P(cstring_to_text(ca::class_label(value, language)));
}

CA_FUNCTION(ca_rfm_class_values) {
    const ca::Language language = ca::parse_language(text_to_cstring(PG_GETARG_TEXT_PP(6)));
    const ca::RfmClass value = ca::classify(PG_GETARG_FLOAT8(0), PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2),
                                            PG_GETARG_FLOAT8(3), PG_GETARG_FLOAT8(4), PG_GETARG_FLOAT8(5));
    PG_RETURN_TEXT_P(cstring_to_text(ca::class_label(value, language)));
}
