// rfm_segment (the standard segments and rules of the caller's) and
// rfm_class (the 8 classes).
#include "rfm_segment.hpp"
#include "stages.hpp"

#include "barrier.hpp"
#include "convert.hpp"
#include "flat_state.hpp"
#include "rfm_types.hpp"

namespace ca = customer_analytics;
using ca::pg::require_argument;
using ca::pg::score_argument;

// ------------------------------------------------------------ segments

CA_FUNCTION(ca_rfm_segment) { PG_RETURN_TEXT_P(cstring_to_text(ca::standard_segment(score_argument(fcinfo, 0)))); }

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
        rules[i] = ca::SegmentRule{
            text_to_cstring(DatumGetTextPP(name)), bounds[0], bounds[1], bounds[2], bounds[3], bounds[4], bounds[5]};
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
    const long index =
        ca::first_matching_rule(cache->rules, static_cast<std::size_t>(cache->count), score_argument(fcinfo, 0));
    PG_RETURN_TEXT_P(cstring_to_text(index < 0 ? ca::kOtherSegment : cache->rules[index].name));
}

CA_FUNCTION(ca_rfm_standard_segments) {
    const auto& rules = ca::standard_segment_rules();
    ca::pg::CompositeArray array(fcinfo, static_cast<int>(rules.size()), "rfm_segment_rule");
    for (const ca::SegmentRule& rule : rules) {
        Datum* values = array.values();
        values[rule_name] = ca::pg::text_datum(rule.name);
        values[rule_r_min] = Int32GetDatum(rule.r_min);
        values[rule_r_max] = Int32GetDatum(rule.r_max);
        values[rule_f_min] = Int32GetDatum(rule.f_min);
        values[rule_f_max] = Int32GetDatum(rule.f_max);
        values[rule_m_min] = Int32GetDatum(rule.m_min);
        values[rule_m_max] = Int32GetDatum(rule.m_max);
        array.add_row();
    }
    PG_RETURN_DATUM(array.result());
}

// -------------------------------------------------------------- 8 classes

// Not STRICT: a NULL summary or bins gives NULL (no customer, or no bins
// because nobody bought), a NULL as_of or language is an error.
CA_FUNCTION(ca_rfm_class) {
    require_argument(fcinfo, 2, "as_of");
    require_argument(fcinfo, 3, "language");
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        PG_RETURN_NULL();
    const ca::Language language = ca::parse_language(text_to_cstring(PG_GETARG_TEXT_PP(3)));
    auto* cache = ca::pg::call_cache<ca::pg::SummaryBinsCache>(fcinfo);
    ca::pg::SummaryValues summary;
    if (!ca::pg::read_summary(fcinfo, &cache->summary_reader, PG_GETARG_HEAPTUPLEHEADER(0), &summary))
        PG_RETURN_NULL();
    const ca::pg::ParsedBins* parsed = ca::pg::read_bins(fcinfo, &cache->bins, PG_GETARG_DATUM(1));
    const std::int32_t as_of = ca::pg::finite_date(PG_GETARG_DATEADT(2), "as_of");
    const ca::RfmClass value =
        ca::classify(static_cast<double>(ca::days_since(summary.last_order, as_of)),
                     static_cast<double>(summary.frequency), summary.monetary, parsed->bins.recency_mean,
                     parsed->bins.frequency_mean, parsed->bins.monetary_mean);
    PG_RETURN_TEXT_P(cstring_to_text(ca::class_label(value, language)));
}

CA_FUNCTION(ca_rfm_class_values) {
    const ca::Language language = ca::parse_language(text_to_cstring(PG_GETARG_TEXT_PP(6)));
    const ca::RfmClass value = ca::classify(PG_GETARG_FLOAT8(0), PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2),
                                            PG_GETARG_FLOAT8(3), PG_GETARG_FLOAT8(4), PG_GETARG_FLOAT8(5));
    PG_RETURN_TEXT_P(cstring_to_text(ca::class_label(value, language)));
}
