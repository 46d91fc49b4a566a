// rfm_agg: the per-customer order summary aggregate, with the combine,
// serialize and deserialize functions that make it parallel safe.
#include "rfm.hpp"

#include "barrier.hpp"
#include "convert.hpp"

namespace ca = customer_analytics;
using ca::pg::arena_for;

namespace {

// Amounts whose running total no longer fits 128 bits continue in `overflow`,
// a numeric in the aggregate context, so totals stay exact at any size.
struct SummaryAggState {
    ca::OrderSummaryState core;
    MemoryContext context;
    Datum overflow;  // numeric, or 0 when everything fit core.decimal_total
};

SummaryAggState* new_state(MemoryContext context, ca::MoneyKind kind) {
    void* memory = MemoryContextAllocZero(context, sizeof(SummaryAggState));
    auto* state = new (memory) SummaryAggState();
    state->core.money_kind = kind;
    state->context = context;
    state->overflow = 0;
    return state;
}

void add_to_overflow(SummaryAggState* state, Datum numeric) {
    MemoryContext previous = MemoryContextSwitchTo(state->context);
    state->overflow = state->overflow == 0 ? datumCopy(numeric, false, -1)
                                           : DirectFunctionCall2(numeric_add, state->overflow, numeric);
    MemoryContextSwitchTo(previous);
}

enum class DateArgument { date, timestamptz };
enum class AmountArgument { numeric, float8 };

template <DateArgument date_kind, AmountArgument amount_kind>
Datum summary_transition(FunctionCallInfo fcinfo) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "rfm_agg");
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<SummaryAggState*>(PG_GETARG_POINTER(0));
    // Rows with a NULL date or amount are skipped, as sum() and count(x) do.
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2)) {
        if (state == nullptr)
            PG_RETURN_NULL();
        PG_RETURN_POINTER(state);
    }
    const std::int32_t day = date_kind == DateArgument::date
                                 ? ca::pg::finite_date(PG_GETARG_DATEADT(1), "order_date")
                                 : ca::pg::date_of_timestamptz(PG_GETARG_TIMESTAMPTZ(1), "order_date");
    bool negative;
    if constexpr (amount_kind == AmountArgument::numeric) {
        const Datum amount = PG_GETARG_DATUM(2);
        ca::Decimal decimal;
        const bool fits = ca::pg::numeric_to_decimal(amount, &decimal, &negative, "amount");
        if (state == nullptr)
            state = new_state(context, ca::MoneyKind::exact_decimal);
        if (!fits || !state->core.add_decimal(decimal))
            add_to_overflow(state, amount);
    } else {
        const double amount = ca::pg::finite_double(PG_GETARG_FLOAT8(2), "amount");
        negative = amount < 0;
        if (state == nullptr)
            state = new_state(context, ca::MoneyKind::binary_float);
        state->core.add_float(amount);
    }
    state->core.add_row_date(arena_for(context), day, !negative, ca::pg::interrupts());
    PG_RETURN_POINTER(state);
}

}  // namespace

CA_FUNCTION(ca_rfm_agg_date_numeric) { return summary_transition<DateArgument::date, AmountArgument::numeric>(fcinfo); }
CA_FUNCTION(ca_rfm_agg_date_float8) { return summary_transition<DateArgument::date, AmountArgument::float8>(fcinfo); }
CA_FUNCTION(ca_rfm_agg_timestamptz_numeric) {
    return summary_transition<DateArgument::timestamptz, AmountArgument::numeric>(fcinfo);
}
CA_FUNCTION(ca_rfm_agg_timestamptz_float8) {
    return summary_transition<DateArgument::timestamptz, AmountArgument::float8>(fcinfo);
}

CA_FUNCTION(ca_rfm_agg_combine) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "rfm_agg_combine");
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<SummaryAggState*>(PG_GETARG_POINTER(0));
    if (PG_ARGISNULL(1)) {
        if (state == nullptr)
            PG_RETURN_NULL();
        PG_RETURN_POINTER(state);
    }
    const auto* other = reinterpret_cast<SummaryAggState*>(PG_GETARG_POINTER(1));
    // Never alias the second state: it may live in a shorter-lived context.
    if (state == nullptr)
        state = new_state(context, other->core.money_kind);
    if (!state->core.merge(arena_for(context), other->core, ca::pg::interrupts()))
        add_to_overflow(state, ca::pg::decimal_to_numeric(other->core.decimal_total));
    if (other->overflow != 0)
        add_to_overflow(state, other->overflow);
    PG_RETURN_POINTER(state);
}

CA_FUNCTION(ca_rfm_agg_serialize) {
    auto* state = reinterpret_cast<SummaryAggState*>(PG_GETARG_POINTER(0));
    const std::size_t core_size = ca::summary_serialized_size(state->core);
    const std::size_t overflow_size = state->overflow == 0 ? 0 : VARSIZE_ANY(DatumGetPointer(state->overflow));
    bytea* result = static_cast<bytea*>(palloc(VARHDRSZ + core_size + overflow_size));
    SET_VARSIZE(result, VARHDRSZ + core_size + overflow_size);
    auto* out = reinterpret_cast<std::uint8_t*>(VARDATA(result));
    ca::summary_serialize(state->core, out);
    if (overflow_size != 0)
        std::memcpy(out + core_size, DatumGetPointer(state->overflow), overflow_size);
    PG_RETURN_BYTEA_P(result);
}

namespace {

SummaryAggState* deserialize_state(MemoryContext context, bytea* bytes) {
    const auto* data = reinterpret_cast<const std::uint8_t*>(VARDATA_ANY(bytes));
    const std::size_t length = VARSIZE_ANY_EXHDR(bytes);
    SummaryAggState* state = new_state(context, ca::MoneyKind::exact_decimal);
    std::size_t consumed = 0;
    ca::summary_deserialize(arena_for(context), data, length, &state->core, &consumed);
    const std::size_t rest = length - consumed;
    if (rest != 0) {
        if (rest < VARHDRSZ_SHORT || VARSIZE_ANY(data + consumed) != rest)
            throw ca::Error(ca::ErrorKind::data_exception, "invalid serialized rfm_agg state",
                            "The overflow total is truncated.");
        void* copy = MemoryContextAlloc(context, rest);
        std::memcpy(copy, data + consumed, rest);
        state->overflow = PointerGetDatum(copy);
    }
    return state;
}

}  // namespace

CA_FUNCTION(ca_rfm_agg_deserialize) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "rfm_agg_deserialize");
    PG_RETURN_POINTER(deserialize_state(context, PG_GETARG_BYTEA_PP(0)));
}

// rfm_state_merge: folds stored states (bytea from rfm_agg_state) into one,
// so a refresh merges new orders into kept per-customer state.
CA_FUNCTION(ca_rfm_state_merge_transition) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "rfm_state_merge");
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<SummaryAggState*>(PG_GETARG_POINTER(0));
    if (PG_ARGISNULL(1)) {
        if (state == nullptr)
            PG_RETURN_NULL();
        PG_RETURN_POINTER(state);
    }
    // Deserialized in the per-row context, which the executor resets.
    const SummaryAggState* other = deserialize_state(CurrentMemoryContext, PG_GETARG_BYTEA_PP(1));
    if (state == nullptr)
        state = new_state(context, other->core.money_kind);
    if (!state->core.merge(arena_for(context), other->core))
        add_to_overflow(state, ca::pg::decimal_to_numeric(other->core.decimal_total));
    if (other->overflow != 0)
        add_to_overflow(state, other->overflow);
    PG_RETURN_POINTER(state);
}

namespace {

// Output columns of the rfm_summary type.
enum SummaryField { first_order, last_order, frequency, purchase_days, monetary, refunds, summary_fields };

}  // namespace

namespace {

Datum summary_datum(FunctionCallInfo fcinfo, SummaryAggState* state) {
    TupleDesc descriptor = ca::pg::result_descriptor(fcinfo, &fcinfo->flinfo->fn_extra);
    Datum values[summary_fields];
    bool nulls[summary_fields] = {false};
    const bool bought = state->core.purchases > 0;
    values[first_order] = DateADTGetDatum(state->core.first_day);
    values[last_order] = DateADTGetDatum(state->core.last_day);
    nulls[first_order] = nulls[last_order] = !bought;
    values[frequency] = Int64GetDatum(state->core.purchases);
    values[purchase_days] = Int64GetDatum(bought ? state->core.purchase_days.distinct_count() : 0);
    values[refunds] = Int64GetDatum(state->core.refunds);
    if (state->core.money_kind == ca::MoneyKind::exact_decimal) {
        Datum total = ca::pg::decimal_to_numeric(state->core.decimal_total);
        if (state->overflow != 0)
            total = DirectFunctionCall2(numeric_add, total, state->overflow);
        values[monetary] = total;
    } else {
        const double total = state->core.float_sum();
        if (!std::isfinite(total))
            throw ca::Error(ca::ErrorKind::numeric_value_out_of_range,
                            "sum of amounts is out of range for type double precision",
                            {}, "Use numeric amounts for exact totals of any size.");
        values[monetary] = DirectFunctionCall1(float8_numeric, Float8GetDatum(total));
    }
    return HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
}

}  // namespace

CA_FUNCTION(ca_rfm_agg_final) {
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    return summary_datum(fcinfo, reinterpret_cast<SummaryAggState*>(PG_GETARG_POINTER(0)));
}

// rfm_state_summary(bytea): the summary of a stored state.
CA_FUNCTION(ca_rfm_state_summary) {
    return summary_datum(fcinfo, deserialize_state(CurrentMemoryContext, PG_GETARG_BYTEA_PP(0)));
}
