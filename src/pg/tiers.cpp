// tier_for.
#include "tiers.hpp"

#include "barrier.hpp"
#include "convert.hpp"

namespace ca = customer_analytics;
using ca::pg::copy_varlena_datums;

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
    Datum* tiers =
        ca::pg::datum_array(PG_GETARG_ARRAYTYPE_P(2), TEXTOID, &tier_count, "tiers", ca::pg::kMaxParameterElements + 1);
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
            if (DatumGetBool(
                    DirectFunctionCall2Coll(texteq, C_COLLATION_OID, cache->tiers[i], PointerGetDatum(current_tier))))
                current = i;
        if (current < 0)
            throw ca::Error(ca::ErrorKind::invalid_parameter_value,
                            "current tier \"" + std::string(ca::pg::text_view(current_tier)) +
                                "\" is not one of the tiers",
                            {}, "Pass NULL for a customer who holds no tier yet.");
    }
    PG_RETURN_DATUM(cache->tiers[ca::tier_with_hysteresis(earned, current, PG_GETARG_BOOL(4))]);
}

}  // namespace

CA_FUNCTION(ca_tier_for_numeric) { return tier<AmountArgument::numeric>(fcinfo, false); }
CA_FUNCTION(ca_tier_for_float8) { return tier<AmountArgument::float8>(fcinfo, false); }
CA_FUNCTION(ca_tier_for_numeric_hysteresis) { return tier<AmountArgument::numeric>(fcinfo, true); }
CA_FUNCTION(ca_tier_for_float8_hysteresis) { return tier<AmountArgument::float8>(fcinfo, true); }
