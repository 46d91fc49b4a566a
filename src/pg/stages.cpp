// lifecycle_stage.
#include "stages.hpp"

#include "barrier.hpp"
#include "convert.hpp"

namespace ca = customer_analytics;
using ca::pg::copy_varlena_datums;
using ca::pg::DateArgument;
using ca::pg::day_argument;

namespace {

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
    const std::int32_t* thresholds =
        ca::pg::int4_array(PG_GETARG_ARRAYTYPE_P(2), &threshold_count, "thresholds", ca::pg::kMaxParameterElements);
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
                            std::string(parameters[argument - 1]) + " must not be null", {},
                            "Pass NULL only as last_order, for a customer without a purchase.");
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
