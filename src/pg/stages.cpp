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

// Copies datums of a varlena array into `context` so a cache can keep them.
Datum* copy_varlena_datums(MemoryContext context, const Datum* elements, int count) {
    auto* copies = static_cast<Datum*>(MemoryContextAlloc(context, sizeof(Datum) * (count + 1)));
    for (int i = 0; i < count; ++i) {
        const std::size_t size = VARSIZE_ANY(DatumGetPointer(elements[i]));
        void* copy = MemoryContextAlloc(context, size);
        std::memcpy(copy, DatumGetPointer(elements[i]), size);
        copies[i] = PointerGetDatum(copy);
    }
    return copies;
}

// Parsed thresholds and stage names, kept while the same arrays come in.
struct LifecycleArguments {
    std::int32_t* thresholds;
    int threshold_count;
    Datum* names;
};

struct LifecycleCallCache {
    void* arguments;  // ArgumentCache of LifecycleArguments
};

const LifecycleArguments* lifecycle_arguments(FunctionCallInfo fcinfo, bool named_stages) {
    auto* call = ca::pg::call_cache<LifecycleCallCache>(fcinfo);
    ca::pg::ArgumentCache* cache = ca::pg::argument_cache(fcinfo, &call->arguments);
    const Datum keys[2] = {PG_GETARG_DATUM(2), named_stages ? PG_GETARG_DATUM(3) : Datum(0)};
    const int key_count = named_stages ? 2 : 1;
    if (void* hit = ca::pg::argument_cache_lookup(cache, keys, key_count))
        return static_cast<const LifecycleArguments*>(hit);
    MemoryContext context = ca::pg::argument_cache_reset(cache);
    int threshold_count = 0;
    const std::int32_t* thresholds = ca::pg::int4_array(PG_GETARG_ARRAYTYPE_P(2), &threshold_count, "thresholds",
                                                        ca::pg::kMaxParameterElements);
    ca::check_lifecycle_thresholds(thresholds, static_cast<std::size_t>(threshold_count));
    auto* parsed = static_cast<LifecycleArguments*>(MemoryContextAllocZero(context, sizeof(LifecycleArguments)));
    if (named_stages) {
        int name_count = 0;
        Datum* elements = ca::pg::datum_array(PG_GETARG_ARRAYTYPE_P(3), TEXTOID, &name_count, "stages",
                                              ca::pg::kMaxParameterElements + 1);
        ca::check_stage_names(static_cast<std::size_t>(threshold_count), static_cast<std::size_t>(name_count));
        parsed->names = copy_varlena_datums(context, elements, name_count);
    } else if (threshold_count != 3) {
        throw ca::Error(ca::ErrorKind::array_subscript_error,
                        "lifecycle_stage needs stage names for other than 3 thresholds",
                        "The default stages active, silent, sleeping and churned need exactly 3 thresholds.",
                        "Pass the stage names as the fourth argument.");
    }
    parsed->thresholds =
        static_cast<std::int32_t*>(MemoryContextAlloc(context, sizeof(std::int32_t) * (threshold_count + 1)));
    std::memcpy(parsed->thresholds, thresholds, sizeof(std::int32_t) * threshold_count);
    parsed->threshold_count = threshold_count;
    ca::pg::argument_cache_store(cache, keys, key_count, parsed);
    return parsed;
}

// Arguments: last_order, as_of, thresholds int[], [stages text[]]. Not
// STRICT: a NULL last_order (a customer without a purchase) gives NULL, a
// NULL parameter is an error.
template <DateArgument kind>
Datum lifecycle(FunctionCallInfo fcinfo, bool named_stages) {
    static const char* const parameters[] = {"as_of", "thresholds", "stages"};
    for (int argument = 1; argument < (named_stages ? 4 : 3); ++argument)
        if (PG_ARGISNULL(argument))
            throw ca::Error(ca::ErrorKind::null_value_not_allowed,
                            std::string(parameters[argument - 1]) + " must not be null",
                            {}, "Pass NULL only as last_order, for a customer without a purchase.");
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    const std::int32_t last_order = day_argument<kind>(fcinfo, 0, "last_order");
    const std::int32_t as_of = day_argument<kind>(fcinfo, 1, "as_of");
    const LifecycleArguments* parsed = lifecycle_arguments(fcinfo, named_stages);
    const std::size_t index = ca::lifecycle_index(ca::days_since(last_order, as_of), parsed->thresholds,
                                                  static_cast<std::size_t>(parsed->threshold_count));
    if (!named_stages)
        PG_RETURN_TEXT_P(cstring_to_text(ca::kDefaultStageNames[index]));
    PG_RETURN_DATUM(parsed->names[index]);
}

}  // namespace

CA_FUNCTION(ca_lifecycle_stage_date) { return lifecycle<DateArgument::date>(fcinfo, false); }
CA_FUNCTION(ca_lifecycle_stage_date_named) { return lifecycle<DateArgument::date>(fcinfo, true); }
CA_FUNCTION(ca_lifecycle_stage_timestamptz) { return lifecycle<DateArgument::timestamptz>(fcinfo, false); }
CA_FUNCTION(ca_lifecycle_stage_timestamptz_named) { return lifecycle<DateArgument::timestamptz>(fcinfo, true); }

// ----------------------------------------------------------------- tiers

namespace {

enum class AmountArgument { numeric, float8 };

// Parsed and validated thresholds and tier names, kept while the same
// arrays come in (as they do for every row of a query).
struct TierArguments {
    Datum* numeric_thresholds;
    double* float_thresholds;
    int threshold_count;
    Datum* tiers;
    int tier_count;
};

struct TierCallCache {
    void* arguments;  // ArgumentCache of TierArguments
};

template <AmountArgument kind>
const TierArguments* tier_arguments(FunctionCallInfo fcinfo) {
    auto* call = ca::pg::call_cache<TierCallCache>(fcinfo);
    ca::pg::ArgumentCache* cache = ca::pg::argument_cache(fcinfo, &call->arguments);
    const Datum keys[2] = {PG_GETARG_DATUM(1), PG_GETARG_DATUM(2)};
    if (void* hit = ca::pg::argument_cache_lookup(cache, keys, 2))
        return static_cast<const TierArguments*>(hit);
    MemoryContext context = ca::pg::argument_cache_reset(cache);
    int tier_count = 0;
    Datum* tiers = ca::pg::datum_array(PG_GETARG_ARRAYTYPE_P(2), TEXTOID, &tier_count, "tiers",
                                       ca::pg::kMaxParameterElements + 1);
    auto* parsed = static_cast<TierArguments*>(MemoryContextAllocZero(context, sizeof(TierArguments)));
    int threshold_count = 0;
    if constexpr (kind == AmountArgument::numeric) {
        Datum* thresholds = ca::pg::datum_array(PG_GETARG_ARRAYTYPE_P(1), NUMERICOID, &threshold_count, "thresholds",
                                                ca::pg::kMaxParameterElements);
        for (int i = 0; i < threshold_count; ++i)
            ca::pg::check_numeric_finite(thresholds[i], "each tier threshold");
        ca::check_tier_thresholds(thresholds, static_cast<std::size_t>(threshold_count),
                                  static_cast<std::size_t>(tier_count),
                                  [](Datum left, Datum right) { return ca::pg::numeric_compare(left, right); });
        parsed->numeric_thresholds = copy_varlena_datums(context, thresholds, threshold_count);
    } else {
        double* thresholds = ca::pg::float8_array(PG_GETARG_ARRAYTYPE_P(1), &threshold_count, "thresholds",
                                                  ca::pg::kMaxParameterElements);
        for (int i = 0; i < threshold_count; ++i)
            ca::pg::finite_double(thresholds[i], "each tier threshold");
        ca::check_tier_thresholds(thresholds, static_cast<std::size_t>(threshold_count),
                                  static_cast<std::size_t>(tier_count), ca::compare_doubles);
        parsed->float_thresholds =
            static_cast<double*>(MemoryContextAlloc(context, sizeof(double) * (threshold_count + 1)));
        std::memcpy(parsed->float_thresholds, thresholds, sizeof(double) * threshold_count);
    }
    parsed->threshold_count = threshold_count;
    parsed->tiers = copy_varlena_datums(context, tiers, tier_count);
    parsed->tier_count = tier_count;
    ca::pg::argument_cache_store(cache, keys, 2, parsed);
    return parsed;
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
    const TierArguments* cache = tier_arguments<kind>(fcinfo);
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
