// rfm_agg: the per-customer order summary aggregate, with the combine,
// serialize and deserialize functions that make it parallel safe.
#include "rfm.hpp"

#include "state_format.hpp"

#include "barrier.hpp"
#include "convert.hpp"
#include "flat_state.hpp"

namespace ca = customer_analytics;
using ca::pg::arena_for;

// Stored states are checked against PostgreSQL's own date range.
static_assert(ca::kFirstValidDay == DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE, "first valid date");
static_assert(ca::kLastValidDay == DATE_END_JULIAN - POSTGRES_EPOCH_JDATE - 1, "last valid date");
static_assert(IS_VALID_DATE(ca::kFirstValidDay) && IS_VALID_DATE(ca::kLastValidDay) &&
                  !IS_VALID_DATE(ca::kFirstValidDay - 1) && !IS_VALID_DATE(std::int64_t(ca::kLastValidDay) + 1),
              "the core's date range is IS_VALID_DATE's");

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

// The overflow is always a plain in-memory numeric (an argument may arrive
// toasted or compressed; its copy must not).
void add_to_overflow(SummaryAggState* state, Datum numeric) {
    MemoryContext previous = MemoryContextSwitchTo(state->context);
    if (state->overflow == 0) {
        auto* plain = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(numeric)));
        state->overflow = datumCopy(PointerGetDatum(plain), false, -1);
    } else {
        state->overflow = DirectFunctionCall2(numeric_add, state->overflow, numeric);
    }
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
    state->core.add_row_date(arena_for(context), day, !negative);
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
    if (!state->core.merge(arena_for(context), other->core))
        add_to_overflow(state, ca::pg::decimal_to_numeric(other->core.decimal_total));
    if (other->overflow != 0)
        add_to_overflow(state, other->overflow);
    PG_RETURN_POINTER(state);
}

CA_FUNCTION(ca_rfm_agg_serialize) {
    auto* state = reinterpret_cast<SummaryAggState*>(PG_GETARG_POINTER(0));
    ca::LargeDecimal overflow;
    const bool has_overflow = state->overflow != 0;
    if (has_overflow)
        overflow = ca::pg::numeric_to_large_decimal(state->overflow);
    const ca::LargeDecimal* digits = has_overflow ? &overflow : nullptr;
    const std::size_t size = ca::summary_state_size(state->core, digits);
    PG_RETURN_BYTEA_P(ca::pg::state_bytea(
        size, [state, digits](ca::StateWriter& writer) { ca::write_summary_state(writer, state->core, digits); }));
}

namespace {

// The core reads and checks every field; an overflow total comes back as
// digits and becomes a numeric through numeric_in.
SummaryAggState* deserialize_state(MemoryContext context, bytea* bytes) {
    const auto* data = reinterpret_cast<const std::uint8_t*>(VARDATA_ANY(bytes));
    const std::size_t length = VARSIZE_ANY_EXHDR(bytes);
    SummaryAggState* state = new_state(context, ca::MoneyKind::exact_decimal);
    ca::LargeDecimal overflow;
    bool has_overflow = false;
    ca::read_summary_state(arena_for(context), data, length, &state->core, &overflow, &has_overflow);
    if (has_overflow)
        state->overflow = ca::pg::large_decimal_to_numeric(overflow, context);
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
