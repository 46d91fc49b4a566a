// lifecycle_stage, tier_for and quadrant.
#include "stages.hpp"

#include "barrier.hpp"
#include "convert.hpp"

namespace ca = customer_analytics;

namespace {

// ------------------------------------------------------------- lifecycle

enum class DateArgument { date, timestamptz };

template <DateArgument kind>
std::int32_t day_argument(FunctionCallInfo fcinfo, int argument, const char* what) {
    if constexpr (kind == DateArgument::date)
        return ca::pg::finite_date(PG_GETARG_DATEADT(argument), what);
    else
        return ca::pg::date_of_timestamptz(PG_GETARG_TIMESTAMPTZ(argument), what);
}

// Parsed thresholds and stage names, kept while the same arrays come in.
struct LifecycleCache {
    ca::pg::CachedBytes thresholds_bytes;
    ca::pg::CachedBytes names_bytes;
    std::int32_t* thresholds;
    int threshold_count;
    Datum* names;
};

void parse_lifecycle_arguments(FunctionCallInfo fcinfo, LifecycleCache* cache, bool named_stages) {
    const Datum thresholds_datum = PG_GETARG_DATUM(2);
    const bool same_names = !named_stages || ca::pg::matches_cached(cache->names_bytes, PG_GETARG_DATUM(3));
    if (ca::pg::matches_cached(cache->thresholds_bytes, thresholds_datum) && same_names)
        return;
    cache->thresholds_bytes.length = cache->names_bytes.length = 0;  // invalid until parsed
    int threshold_count = 0;
    std::int32_t* thresholds = ca::pg::int4_array(PG_GETARG_ARRAYTYPE_P(2), &threshold_count, "thresholds");
    ca::check_lifecycle_thresholds(thresholds, static_cast<std::size_t>(threshold_count));
    Datum* names = nullptr;
    if (named_stages) {
        int name_count = 0;
        Datum* elements = ca::pg::datum_array(PG_GETARG_ARRAYTYPE_P(3), TEXTOID, &name_count, "stages");
        ca::check_stage_names(static_cast<std::size_t>(threshold_count), static_cast<std::size_t>(name_count));
        names = static_cast<Datum*>(MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(Datum) * name_count));
        for (int i = 0; i < name_count; ++i)
            names[i] = PointerGetDatum(MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, VARSIZE_ANY(DatumGetPointer(elements[i]))));
        for (int i = 0; i < name_count; ++i)
            std::memcpy(DatumGetPointer(names[i]), DatumGetPointer(elements[i]), VARSIZE_ANY(DatumGetPointer(elements[i])));
    } else if (threshold_count != 3) {
        throw ca::Error(ca::ErrorKind::array_subscript_error,
                        "lifecycle_stage needs stage names for other than 3 thresholds",
                        "The default stages active, silent, sleeping and churned need exactly 3 thresholds.",
                        "Pass the stage names as the fourth argument.");
    }
    cache->thresholds = static_cast<std::int32_t*>(
        MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(std::int32_t) * (threshold_count + 1)));
    std::memcpy(cache->thresholds, thresholds, sizeof(std::int32_t) * threshold_count);
    cache->threshold_count = threshold_count;
    cache->names = names;
    ca::pg::remember_bytes(fcinfo, &cache->thresholds_bytes, thresholds_datum);
    if (named_stages)
        ca::pg::remember_bytes(fcinfo, &cache->names_bytes, PG_GETARG_DATUM(3));
}

// Arguments: last_order, as_of, thresholds int[], [stages text[]].
template <DateArgument kind>
Datum lifecycle(FunctionCallInfo fcinfo, bool named_stages) {
    const std::int32_t last_order = day_argument<kind>(fcinfo, 0, "last_order");
    const std::int32_t as_of = day_argument<kind>(fcinfo, 1, "as_of");
    auto* cache = ca::pg::call_cache<LifecycleCache>(fcinfo);
    parse_lifecycle_arguments(fcinfo, cache, named_stages);
    const std::size_t index = ca::lifecycle_index(ca::days_since(last_order, as_of), cache->thresholds,
                                                  static_cast<std::size_t>(cache->threshold_count));
    if (!named_stages)
        PG_RETURN_TEXT_P(cstring_to_text(ca::kDefaultStageNames[index]));
    PG_RETURN_DATUM(cache->names[index]);
}

}  // namespace

CA_FUNCTION(ca_lifecycle_stage_date) { return lifecycle<DateArgument::date>(fcinfo, false); }
CA_FUNCTION(ca_lifecycle_stage_date_named) { return lifecycle<DateArgument::date>(fcinfo, true); }
CA_FUNCTION(ca_lifecycle_stage_timestamptz) { return lifecycle<DateArgument::timestamptz>(fcinfo, false); }
CA_FUNCTION(ca_lifecycle_stage_timestamptz_named) { return lifecycle<DateArgument::timestamptz>(fcinfo, true); }

// ----------------------------------------------------------------- tiers

namespace {

enum class AmountArgument { numeric, float8 };

// Copies datums of a varlena array into fn_mcxt so a cache can keep them.
Datum* copy_varlena_datums(FunctionCallInfo fcinfo, const Datum* elements, int count) {
    auto* copies = static_cast<Datum*>(MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(Datum) * (count + 1)));
    for (int i = 0; i < count; ++i) {
        const std::size_t size = VARSIZE_ANY(DatumGetPointer(elements[i]));
        void* copy = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, size);
        std::memcpy(copy, DatumGetPointer(elements[i]), size);
        copies[i] = PointerGetDatum(copy);
    }
    return copies;
}

// Parsed and validated thresholds and tier names, kept while the same
// arrays come in (as they do for every row of a query).
struct TierCache {
    ca::pg::CachedBytes thresholds_bytes;
    ca::pg::CachedBytes tiers_bytes;
    Datum* numeric_thresholds;
    double* float_thresholds;
    int threshold_count;
    Datum* tiers;
    int tier_count;
};

template <AmountArgument kind>
void parse_tier_arguments(FunctionCallInfo fcinfo, TierCache* cache) {
    if (ca::pg::matches_cached(cache->thresholds_bytes, PG_GETARG_DATUM(1)) &&
        ca::pg::matches_cached(cache->tiers_bytes, PG_GETARG_DATUM(2)))
        return;
    cache->thresholds_bytes.length = cache->tiers_bytes.length = 0;  // invalid until parsed
    int tier_count = 0;
    Datum* tiers = ca::pg::datum_array(PG_GETARG_ARRAYTYPE_P(2), TEXTOID, &tier_count, "tiers");
    int threshold_count = 0;
    if constexpr (kind == AmountArgument::numeric) {
        Datum* thresholds = ca::pg::datum_array(PG_GETARG_ARRAYTYPE_P(1), NUMERICOID, &threshold_count, "thresholds");
        for (int i = 0; i < threshold_count; ++i)
            ca::pg::check_numeric_finite(thresholds[i], "each tier threshold");
        ca::check_tier_thresholds(thresholds, static_cast<std::size_t>(threshold_count),
                                  static_cast<std::size_t>(tier_count),
                                  [](Datum left, Datum right) { return ca::pg::numeric_compare(left, right); });
        cache->numeric_thresholds = copy_varlena_datums(fcinfo, thresholds, threshold_count);
    } else {
        double* thresholds = ca::pg::float8_array(PG_GETARG_ARRAYTYPE_P(1), &threshold_count, "thresholds");
        for (int i = 0; i < threshold_count; ++i)
            ca::pg::finite_double(thresholds[i], "each tier threshold");
        ca::check_tier_thresholds(thresholds, static_cast<std::size_t>(threshold_count),
                                  static_cast<std::size_t>(tier_count), ca::compare_doubles);
        cache->float_thresholds = static_cast<double*>(
            MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(double) * (threshold_count + 1)));
        std::memcpy(cache->float_thresholds, thresholds, sizeof(double) * threshold_count);
    }
    cache->threshold_count = threshold_count;
    cache->tiers = copy_varlena_datums(fcinfo, tiers, tier_count);
    cache->tier_count = tier_count;
    ca::pg::remember_bytes(fcinfo, &cache->thresholds_bytes, PG_GETARG_DATUM(1));
    ca::pg::remember_bytes(fcinfo, &cache->tiers_bytes, PG_GETARG_DATUM(2));
}

// Arguments: spend, thresholds[], tiers text[], [current_tier text, rerating
// boolean]. The five-argument form is not strict: a NULL current_tier means
// the customer holds no tier yet; any other NULL argument gives NULL.
template <AmountArgument kind>
Datum tier(FunctionCallInfo fcinfo, bool with_hysteresis) {
    for (int argument : {0, 1, 2})
        if (PG_ARGISNULL(argument))
            PG_RETURN_NULL();
    if (with_hysteresis && PG_ARGISNULL(4))
        PG_RETURN_NULL();
    auto* cache = ca::pg::call_cache<TierCache>(fcinfo);
    parse_tier_arguments<kind>(fcinfo, cache);
    const auto threshold_count = static_cast<std::size_t>(cache->threshold_count);
    std::size_t earned;
    if constexpr (kind == AmountArgument::numeric) {
        const Datum spend = PG_GETARG_DATUM(0);
        ca::pg::check_numeric_finite(spend, "spend");
        earned = ca::thresholds_reached(spend, cache->numeric_thresholds, threshold_count,
                                        [](Datum left, Datum right) { return ca::pg::numeric_compare(left, right); });
    } else {
        const double spend = ca::pg::finite_double(PG_GETARG_FLOAT8(0), "spend");
        earned = ca::thresholds_reached(spend, cache->float_thresholds, threshold_count, ca::compare_doubles);
    }
    if (!with_hysteresis)
        PG_RETURN_DATUM(cache->tiers[earned]);
    long current = -1;
    if (!PG_ARGISNULL(3)) {
        text* current_tier = PG_GETARG_TEXT_PP(3);
        for (int i = 0; i < cache->tier_count && current < 0; ++i)
            if (DatumGetBool(DirectFunctionCall2Coll(texteq, C_COLLATION_OID, cache->tiers[i],
                                                     PointerGetDatum(current_tier))))
                current = i;
        if (current < 0) {
            const char* name = text_to_cstring(current_tier);  // before any std::string exists
            throw ca::Error(ca::ErrorKind::invalid_parameter_value,
                            std::string("current tier \"") + name + "\" is not one of the tiers",
                            {}, "Pass NULL for a customer who holds no tier yet.");
        }
    }
    PG_RETURN_DATUM(cache->tiers[ca::tier_with_hysteresis(earned, current, PG_GETARG_BOOL(4))]);
}

}  // namespace

CA_FUNCTION(ca_tier_for_numeric) { return tier<AmountArgument::numeric>(fcinfo, false); }
CA_FUNCTION(ca_tier_for_float8) { return tier<AmountArgument::float8>(fcinfo, false); }
CA_FUNCTION(ca_tier_for_numeric_hysteresis) { return tier<AmountArgument::numeric>(fcinfo, true); }
CA_FUNCTION(ca_tier_for_float8_hysteresis) { return tier<AmountArgument::float8>(fcinfo, true); }

// -------------------------------------------------------------- quadrant

CA_FUNCTION(ca_quadrant_numeric) {
    const char* names[] = {"frequency", "avg_order_value", "frequency_cut", "value_cut"};
    for (int i = 0; i < 4; ++i)
        if (numeric_is_nan(PG_GETARG_NUMERIC(i)))
            throw ca::Error(ca::ErrorKind::invalid_parameter_value, std::string(names[i]) + " must not be NaN");
    const bool high_frequency = ca::pg::numeric_compare(PG_GETARG_DATUM(0), PG_GETARG_DATUM(2)) >= 0;
    const bool high_value = ca::pg::numeric_compare(PG_GETARG_DATUM(1), PG_GETARG_DATUM(3)) >= 0;
    PG_RETURN_TEXT_P(cstring_to_text(ca::quadrant_name(high_frequency, high_value)));
}

CA_FUNCTION(ca_quadrant_float8) {
    const char* names[] = {"frequency", "avg_order_value", "frequency_cut", "value_cut"};
    for (int i = 0; i < 4; ++i)
        if (std::isnan(PG_GETARG_FLOAT8(i)))
            throw ca::Error(ca::ErrorKind::invalid_parameter_value, std::string(names[i]) + " must not be NaN");
    const bool high_frequency = PG_GETARG_FLOAT8(0) >= PG_GETARG_FLOAT8(2);
    const bool high_value = PG_GETARG_FLOAT8(1) >= PG_GETARG_FLOAT8(3);
    PG_RETURN_TEXT_P(cstring_to_text(ca::quadrant_name(high_frequency, high_value)));
}
