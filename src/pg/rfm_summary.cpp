// rfm_agg: the per-customer order summary aggregate, with the combine,
// serialize and deserialize functions that make it parallel safe. With an
// order key (rfm_agg(order_date, amount, order_key [, min_purchase])) the
// same state holds an order book (rfm_summary_orders.hpp) instead of row counts;
// every support function handles both.
#include "rfm_summary.hpp"
#include "rfm_summary_orders.hpp"

#include "state_format.hpp"

#include "analytics_state.hpp"
#include "barrier.hpp"
#include "convert.hpp"
#include "flat_state.hpp"
#include "rfm_types.hpp"

namespace ca = customer_analytics;
using ca::pg::arena_for;
using ca::pg::DateArgument;
using ca::pg::day_argument;

// Stored states are checked against PostgreSQL's own date range.
static_assert(ca::kFirstValidDay == DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE, "first valid date");
static_assert(ca::kLastValidDay == DATE_END_JULIAN - POSTGRES_EPOCH_JDATE - 1, "last valid date");
static_assert(IS_VALID_DATE(ca::kFirstValidDay) && IS_VALID_DATE(ca::kLastValidDay) &&
                  !IS_VALID_DATE(ca::kFirstValidDay - 1) && !IS_VALID_DATE(std::int64_t(ca::kLastValidDay) + 1),
              "the core's date range is IS_VALID_DATE's");

namespace {

// Amounts whose running total no longer fits 128 bits continue in `overflow`,
// a numeric in the aggregate context, so totals stay exact at any size.
// States of rfm_agg with an order key keep their orders in `orders` (and
// derive every count and the total from them); core then only says the
// money kind.
struct SummaryAggState {
    ca::OrderSummaryState core;
    MemoryContext context;
    Datum overflow;  // numeric, or 0 when everything fit core.decimal_total
    ca::OrderBook* orders;
};

SummaryAggState* new_state(MemoryContext context, ca::MoneyKind kind) {
    void* memory = MemoryContextAllocZero(context, sizeof(SummaryAggState));
    auto* state = new (memory) SummaryAggState();
    state->core.money_kind = kind;
    state->context = context;
    state->overflow = 0;
    state->orders = nullptr;
    return state;
}

// An empty state with an order book of these kinds and minimum.
SummaryAggState* new_orders_state(MemoryContext context, const ca::OrderBook& like) {
    SummaryAggState* state = new_state(context, like.money_kind);
    auto* book = new (MemoryContextAllocZero(context, sizeof(ca::OrderBook))) ca::OrderBook();
    book->money_kind = like.money_kind;
    book->key_kind = like.key_kind;
    book->has_minimum = like.has_minimum;
    book->decimal_minimum = like.decimal_minimum;
    book->float_minimum = like.float_minimum;
    state->orders = book;
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
    const std::int32_t day = day_argument<date_kind>(fcinfo, 1, "order_date");
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

CA_FUNCTION(ca_rfm_agg_transfn_date_numeric) {
    return summary_transition<DateArgument::date, AmountArgument::numeric>(fcinfo);
}
CA_FUNCTION(ca_rfm_agg_transfn_date_float8) {
    return summary_transition<DateArgument::date, AmountArgument::float8>(fcinfo);
}
CA_FUNCTION(ca_rfm_agg_transfn_timestamptz_numeric) {
    return summary_transition<DateArgument::timestamptz, AmountArgument::numeric>(fcinfo);
}
CA_FUNCTION(ca_rfm_agg_transfn_timestamptz_float8) {
    return summary_transition<DateArgument::timestamptz, AmountArgument::float8>(fcinfo);
}

namespace {

enum class KeyArgument { bigint, text };

// rfm_agg(order_date, amount, order_key [, min_purchase]): arguments 1..3
// (and 4). Rows with a NULL date or amount are skipped; a NULL key makes
// the line an order of its own; a NULL minimum is no minimum.
template <DateArgument date_kind, AmountArgument amount_kind, KeyArgument key_kind, bool with_minimum>
Datum orders_transition(FunctionCallInfo fcinfo) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "rfm_agg");
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<SummaryAggState*>(PG_GETARG_POINTER(0));
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2)) {
        if (state == nullptr)
            PG_RETURN_NULL();
        PG_RETURN_POINTER(state);
    }
    const std::int32_t day = day_argument<date_kind>(fcinfo, 1, "order_date");
    ca::OrderBook like;
    like.money_kind =
        amount_kind == AmountArgument::numeric ? ca::MoneyKind::exact_decimal : ca::MoneyKind::binary_float;
    like.key_kind = key_kind == KeyArgument::bigint ? ca::OrderKeyKind::bigint : ca::OrderKeyKind::text;
    if (with_minimum && !PG_ARGISNULL(4)) {
        like.has_minimum = true;
        if constexpr (amount_kind == AmountArgument::numeric) {
            bool negative;
            if (!ca::pg::numeric_to_decimal(PG_GETARG_DATUM(4), &like.decimal_minimum, &negative, "min_purchase"))
                throw ca::Error(ca::ErrorKind::invalid_parameter_value, "min_purchase is out of range",
                                "It must fit 38 significant digits with at most 38 decimals.");
            ca::check_decimal_minimum(like.decimal_minimum);
        } else {
            like.float_minimum = PG_GETARG_FLOAT8(4);
            ca::check_float_minimum(like.float_minimum);
        }
    }
    if (state == nullptr)
        state = new_orders_state(context, like);
    else if (with_minimum)
        state->orders->require_minimum(like.has_minimum, like.decimal_minimum, like.float_minimum);
    const bool has_key = !PG_ARGISNULL(3);
    std::uint64_t key = 0;
    if (has_key) {
        if constexpr (key_kind == KeyArgument::bigint) {
            key = static_cast<std::uint64_t>(PG_GETARG_INT64(3));
        } else {
            const text* value = PG_GETARG_TEXT_PP(3);
            key =
                ca::order_key_hash(reinterpret_cast<const std::uint8_t*>(VARDATA_ANY(value)), VARSIZE_ANY_EXHDR(value));
        }
    }
    if constexpr (amount_kind == AmountArgument::numeric) {
        ca::Decimal amount;
        bool negative;
        if (!ca::pg::numeric_to_decimal(PG_GETARG_DATUM(2), &amount, &negative, "amount"))
            ca::order_amount_out_of_range();
        state->orders->add_decimal(arena_for(context), has_key, key, day, amount);
    } else {
        state->orders->add_float(arena_for(context), has_key, key, day,
                                 ca::pg::finite_double(PG_GETARG_FLOAT8(2), "amount"));
    }
    PG_RETURN_POINTER(state);
}

}  // namespace

#define CA_ORDERS_TRANSITION(name, date_kind, amount_kind)                                                          \
    CA_FUNCTION(ca_rfm_agg_transfn_##name##_bigint) {                                                               \
        return orders_transition<DateArgument::date_kind, AmountArgument::amount_kind, KeyArgument::bigint, false>( \
            fcinfo);                                                                                                \
    }                                                                                                               \
    CA_FUNCTION(ca_rfm_agg_transfn_##name##_text) {                                                                 \
        return orders_transition<DateArgument::date_kind, AmountArgument::amount_kind, KeyArgument::text, false>(   \
            fcinfo);                                                                                                \
    }                                                                                                               \
    CA_FUNCTION(ca_rfm_agg_transfn_##name##_bigint_minimum) {                                                       \
        return orders_transition<DateArgument::date_kind, AmountArgument::amount_kind, KeyArgument::bigint, true>(  \
            fcinfo);                                                                                                \
    }                                                                                                               \
    CA_FUNCTION(ca_rfm_agg_transfn_##name##_text_minimum) {                                                         \
        return orders_transition<DateArgument::date_kind, AmountArgument::amount_kind, KeyArgument::text, true>(    \
            fcinfo);                                                                                                \
    }

CA_ORDERS_TRANSITION(date_numeric, date, numeric)
CA_ORDERS_TRANSITION(date_float8, date, float8)
CA_ORDERS_TRANSITION(timestamptz_numeric, timestamptz, numeric)
CA_ORDERS_TRANSITION(timestamptz_float8, timestamptz, float8)

namespace {

// Folds other into state: row states with row states, order books with
// order books.
void merge_states(MemoryContext context, SummaryAggState* state, const SummaryAggState* other) {
    if ((state->orders == nullptr) != (other->orders == nullptr))
        throw ca::Error(ca::ErrorKind::invalid_parameter_value,
                        "cannot merge rfm_agg states with an order key with states without one",
                        "With an order key the state remembers orders, without one only counts of rows.",
                        "Compute every state of a customer with the same rfm_agg arguments.");
    if (state->orders != nullptr) {
        state->orders->merge(arena_for(context), *other->orders);
        return;
    }
    if (!state->core.merge(arena_for(context), other->core, ca::pg::interrupts()))
        add_to_overflow(state, ca::pg::decimal_to_numeric(other->core.decimal_total));
    if (other->overflow != 0)
        add_to_overflow(state, other->overflow);
}

// A new state to merge other into, in the aggregate context (never an
// alias of other, which may live in a shorter-lived context).
SummaryAggState* state_like(MemoryContext context, const SummaryAggState* other) {
    return other->orders != nullptr ? new_orders_state(context, *other->orders)
                                    : new_state(context, other->core.money_kind);
}

}  // namespace

CA_FUNCTION(ca_rfm_agg_combinefn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "rfm_agg_combine");
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<SummaryAggState*>(PG_GETARG_POINTER(0));
    if (PG_ARGISNULL(1)) {
        if (state == nullptr)
            PG_RETURN_NULL();
        PG_RETURN_POINTER(state);
    }
    const auto* other = reinterpret_cast<SummaryAggState*>(PG_GETARG_POINTER(1));
    if (state == nullptr)
        state = state_like(context, other);
    merge_states(context, state, other);
    PG_RETURN_POINTER(state);
}

CA_FUNCTION(ca_rfm_agg_serialfn) {
    auto* state = reinterpret_cast<SummaryAggState*>(PG_GETARG_POINTER(0));
    if (state->orders != nullptr) {
        ca::OrderBook* book = state->orders;
        PG_RETURN_BYTEA_P(
            ca::pg::state_bytea([book](ca::StateWriter& writer) { ca::write_orders_state(writer, *book); }));
    }
    ca::LargeDecimal overflow;
    const bool has_overflow = state->overflow != 0;
    if (has_overflow)
        overflow = ca::pg::numeric_to_large_decimal(state->overflow);
    const ca::LargeDecimal* digits = has_overflow ? &overflow : nullptr;
    const std::size_t size = ca::summary_state_size(state->core, digits);
    PG_RETURN_BYTEA_P(ca::pg::state_bytea(size, [state, digits](ca::StateWriter& writer) {
        ca::write_summary_state(writer, state->core, digits);
    }));
}

namespace {

// The same for analytics_state (a writer pass that measures, then one that
// writes).
void write_summary(ca::StateWriter& writer, void* memory) {
    auto* state = static_cast<SummaryAggState*>(memory);
    if (state->orders != nullptr) {
        ca::write_orders_state(writer, *state->orders);
        return;
    }
    ca::LargeDecimal overflow;
    const bool has_overflow = state->overflow != 0;
    if (has_overflow)
        overflow = ca::pg::numeric_to_large_decimal(state->overflow);
    ca::write_summary_state(writer, state->core, has_overflow ? &overflow : nullptr);
}

}  // namespace

namespace {

// The core reads and checks every field; an overflow total comes back as
// digits and becomes a numeric through numeric_in.
SummaryAggState* deserialize_state(MemoryContext context, const ca::pg::StateBytes& bytes) {
    const std::uint8_t* data = bytes.data;
    const std::size_t length = bytes.size;
    if (ca::is_orders_state(data, length)) {
        ca::OrderBook book;
        ca::read_orders_state(arena_for(context), data, length, &book);
        SummaryAggState* state = new_orders_state(context, book);
        *state->orders = book;
        return state;
    }
    SummaryAggState* state = new_state(context, ca::MoneyKind::exact_decimal);
    ca::LargeDecimal overflow;
    bool has_overflow = false;
    ca::read_summary_state(arena_for(context), data, length, &state->core, &overflow, &has_overflow);
    if (has_overflow)
        state->overflow = ca::pg::large_decimal_to_numeric(overflow, context);
    return state;
}

}  // namespace

namespace customer_analytics::pg {
extern const StateFamily kRfmSummaryFamily{CA_STATE_METHODS,
                                           "rfm_agg",
                                           StateKind::rfm_summary,
                                           StateKind::rfm_orders,
                                           [](MemoryContext context, const StateBytes& bytes) -> void* {
                                               return deserialize_state(context, bytes);
                                           },
                                           write_summary};
}  // namespace customer_analytics::pg

CA_FUNCTION(ca_rfm_agg_deserialfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "rfm_agg_deserialize");
    PG_RETURN_POINTER(deserialize_state(context, ca::pg::state_argument(fcinfo, 0)));
}

// rfm_state_merge: folds stored states (bytea from rfm_agg_state) into one,
// so a refresh merges new orders into kept per-customer state.
CA_FUNCTION(ca_rfm_state_merge_transfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "rfm_state_merge");
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<SummaryAggState*>(PG_GETARG_POINTER(0));
    if (PG_ARGISNULL(1)) {
        if (state == nullptr)
            PG_RETURN_NULL();
        PG_RETURN_POINTER(state);
    }
    // Deserialized in the per-row context, which the executor resets.
    const SummaryAggState* other = deserialize_state(CurrentMemoryContext, ca::pg::state_argument(fcinfo, 1));
    if (state == nullptr)
        state = state_like(context, other);
    merge_states(context, state, other);
    PG_RETURN_POINTER(state);
}

namespace {

[[noreturn]] void float_total_out_of_range() {
    throw ca::Error(ca::ErrorKind::numeric_value_out_of_range,
                    "sum of amounts is out of range for type double precision", {},
                    "Use numeric amounts for exact totals of any size.");
}

// The summary of an order book: counts by the purchase rule, the money
// total as the sum of the order nets (continued in numeric beyond 128 bits).
Datum orders_summary_datum(TupleDesc descriptor, ca::OrderBook* book) {
    Datum values[ca::pg::summary_fields];
    bool nulls[ca::pg::summary_fields] = {false};
    const ca::OrderCounts counts = ca::count_orders(arena_for(CurrentMemoryContext), *book);
    values[ca::pg::summary_first_order] = DateADTGetDatum(counts.first_day);
    values[ca::pg::summary_last_order] = DateADTGetDatum(counts.last_day);
    nulls[ca::pg::summary_first_order] = nulls[ca::pg::summary_last_order] = counts.purchases == 0;
    values[ca::pg::summary_frequency] = Int64GetDatum(counts.purchases);
    values[ca::pg::summary_purchase_days] = Int64GetDatum(counts.purchase_days);
    values[ca::pg::summary_refunds] = Int64GetDatum(counts.refunds);
    if (book->money_kind == ca::MoneyKind::exact_decimal) {
        ca::Decimal total;
        Datum beyond = 0;
        for (const ca::FlatArray<ca::Order>* orders : {&book->keyed, &book->loose})
            for (const ca::Order& order : *orders) {
                const ca::Decimal net = ca::order_net_decimal(order);
                if (ca::decimal_add(&total, net))
                    continue;
                const Datum value = ca::pg::decimal_to_numeric(net);
                beyond = beyond == 0 ? value : DirectFunctionCall2(numeric_add, beyond, value);
            }
        values[ca::pg::summary_monetary] = ca::pg::decimal_to_numeric(total);
        if (beyond != 0)
            values[ca::pg::summary_monetary] =
                DirectFunctionCall2(numeric_add, values[ca::pg::summary_monetary], beyond);
    } else {
        const double total = ca::float_net_total(*book);
        if (!std::isfinite(total))
            float_total_out_of_range();
        values[ca::pg::summary_monetary] = DirectFunctionCall1(float8_numeric, Float8GetDatum(total));
    }
    return HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
}

Datum summary_datum(FunctionCallInfo fcinfo, SummaryAggState* state) {
    TupleDesc descriptor = ca::pg::result_descriptor(fcinfo, &fcinfo->flinfo->fn_extra);
    if (state->orders != nullptr)
        return orders_summary_datum(descriptor, state->orders);
    Datum values[ca::pg::summary_fields];
    bool nulls[ca::pg::summary_fields] = {false};
    const bool bought = state->core.purchases > 0;
    values[ca::pg::summary_first_order] = DateADTGetDatum(state->core.first_day);
    values[ca::pg::summary_last_order] = DateADTGetDatum(state->core.last_day);
    nulls[ca::pg::summary_first_order] = nulls[ca::pg::summary_last_order] = !bought;
    values[ca::pg::summary_frequency] = Int64GetDatum(state->core.purchases);
    values[ca::pg::summary_purchase_days] = Int64GetDatum(bought ? state->core.purchase_days.distinct_count() : 0);
    values[ca::pg::summary_refunds] = Int64GetDatum(state->core.refunds);
    if (state->core.money_kind == ca::MoneyKind::exact_decimal) {
        Datum total = ca::pg::decimal_to_numeric(state->core.decimal_total);
        if (state->overflow != 0)
            total = DirectFunctionCall2(numeric_add, total, state->overflow);
        values[ca::pg::summary_monetary] = total;
    } else {
        const double total = state->core.float_sum();
        if (!std::isfinite(total))
            float_total_out_of_range();
        values[ca::pg::summary_monetary] = DirectFunctionCall1(float8_numeric, Float8GetDatum(total));
    }
    return HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
}

}  // namespace

CA_FUNCTION(ca_rfm_agg_finalfn) {
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    return summary_datum(fcinfo, reinterpret_cast<SummaryAggState*>(PG_GETARG_POINTER(0)));
}

// rfm_state_summary(bytea): the summary of a stored state.
CA_FUNCTION(ca_rfm_state_summary) {
    return summary_datum(fcinfo, deserialize_state(CurrentMemoryContext, ca::pg::state_argument(fcinfo, 0)));
}

// The analytics_state entry points (analytics_state.hpp).
using ca::pg::kRfmSummaryFamily;
CA_STATE_TRANSFN(ca_rfm_agg_transfn_date_numeric, kRfmSummaryFamily)
CA_STATE_TRANSFN(ca_rfm_agg_transfn_date_float8, kRfmSummaryFamily)
CA_STATE_TRANSFN(ca_rfm_agg_transfn_timestamptz_numeric, kRfmSummaryFamily)
CA_STATE_TRANSFN(ca_rfm_agg_transfn_timestamptz_float8, kRfmSummaryFamily)
#define CA_ORDERS_STATE_TRANSITION(name)                                            \
    CA_STATE_TRANSFN(ca_rfm_agg_transfn_##name##_bigint, kRfmSummaryFamily)         \
    CA_STATE_TRANSFN(ca_rfm_agg_transfn_##name##_text, kRfmSummaryFamily)           \
    CA_STATE_TRANSFN(ca_rfm_agg_transfn_##name##_bigint_minimum, kRfmSummaryFamily) \
    CA_STATE_TRANSFN(ca_rfm_agg_transfn_##name##_text_minimum, kRfmSummaryFamily)
CA_ORDERS_STATE_TRANSITION(date_numeric)
CA_ORDERS_STATE_TRANSITION(date_float8)
CA_ORDERS_STATE_TRANSITION(timestamptz_numeric)
CA_ORDERS_STATE_TRANSITION(timestamptz_float8)
CA_STATE_COMBINEFN(ca_rfm_agg_combinefn, kRfmSummaryFamily)
CA_STATE_TRANSFN(ca_rfm_state_merge_transfn, kRfmSummaryFamily)
CA_STATE_FINALFN(ca_rfm_agg_finalfn, kRfmSummaryFamily)
// rfm_agg_state's final function: the state as bytea, to keep.
CA_STATE_FINALFN(ca_rfm_agg_serialfn, kRfmSummaryFamily)

// ------------------------------------------------- reading an rfm_summary

namespace customer_analytics::pg {

bool read_summary(FunctionCallInfo fcinfo, void** reader_slot, HeapTupleHeader summary, SummaryValues* out) {
    const CompositeReader* reader = composite_reader(fcinfo, reader_slot, summary);
    bool is_null = false;
    const Datum last_order = composite_field(reader, summary, summary_last_order + 1, &is_null);
    if (is_null)
        return false;
    out->last_order = finite_date(DatumGetDateADT(last_order), "last_order");
    out->frequency = DatumGetInt64(required_field(reader, summary, summary_frequency + 1, "frequency"));
    out->monetary = numeric_to_double(required_field(reader, summary, summary_monetary + 1, "monetary"));
    return true;
}

}  // namespace customer_analytics::pg
