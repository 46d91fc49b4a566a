// RFM summaries at order granularity: rfm_agg(order_date, amount, order_key
// [, min_purchase]). Order lines are grouped into orders by their key, and
// what counts as a purchase is decided per order and per day, never per
// line. The lines of one order (or of one day) may reach the state in any
// order and in different batches (a builder refresh merges new lines into a
// state kept in a table), so the state remembers every order's net amount
// and date, merges them exactly, and applies the purchase rule only when the
// summary is read:
//
//   - an order is the set of a customer's lines with one key; its net amount
//     is the sum of its lines, its date the earliest date among its lines;
//     a line without a key (NULL) is an order of its own;
//   - without a minimum, an order whose net is >= 0 is a purchase and one
//     whose net is < 0 a refund (the rule of rfm_agg without a key, which is
//     the same aggregate with every row its own order);
//   - with a minimum m >= 0, a day's net is the sum of the nets of the
//     orders dated that day (refunds included); an order is a purchase when
//     its net is > 0 and its day's net is >= m, a refund when its net is < 0,
//     and otherwise neither (it only counts in the money total).
//
// Memory: 32 bytes per distinct order (lines without a key: per line), plus
// as much again at most while lines arrive out of key order, plus the
// doubling slack of the array.
#pragma once

#include <cstddef>
#include <cstdint>

#include "arena.hpp"
#include "decimal.hpp"
#include "rfm_summary.hpp"

namespace customer_analytics {

enum class OrderKeyKind : std::uint8_t { bigint = 1, text = 2 };

// The 64-bit hash of a text key's bytes, the same on every platform. Part
// of the stored format: states keep it instead of the key, so it must never
// change. Two distinct keys of one customer collide (and count as one order)
// with probability about n^2 / 2^65 for n orders.
std::uint64_t order_key_hash(const std::uint8_t* bytes, std::size_t length);

// The net amount of an order or a day: exact amounts keep the 128-bit
// mantissa (the scale is beside it); float8 amounts a compensated sum and
// its compensation in the same 16 bytes.
union OrderNet {
    stored_int128 mantissa;
    double binary[2];
};

struct Order {
    std::uint64_t key;   // a bigint key's bits or a text key's hash; 0 for a line without a key
    std::int32_t day;    // the earliest date of its lines
    std::int32_t scale;  // exact amounts: net = mantissa * 10^-scale
    OrderNet net;
};
static_assert(sizeof(Order) == 32, "32 bytes an order");

// Raises numeric_value_out_of_range: an order's or a day's net amount does
// not fit 38 significant digits (or an amount has more than 38 decimals).
[[noreturn]] void order_amount_out_of_range();

// The state of rfm_agg with an order key: plain data whose arrays come from
// an arena, like every aggregate state.
struct OrderBook {
    MoneyKind money_kind = MoneyKind::exact_decimal;
    OrderKeyKind key_kind = OrderKeyKind::bigint;
    bool has_minimum = false;
    Decimal decimal_minimum;   // exact amounts with a minimum
    double float_minimum = 0;  // float8 amounts with a minimum
    FlatArray<Order> keyed;    // [0, sorted) ascending by key, one entry a key; the rest not merged yet
    std::uint32_t sorted = 0;
    FlatArray<Order> loose;  // lines without a key

    // Adds one line (has_key false: a line without a key).
    void add_decimal(const Arena& arena, bool has_key, std::uint64_t key, std::int32_t day, const Decimal& amount);
    void add_float(const Arena& arena, bool has_key, std::uint64_t key, std::int32_t day, double amount);
    // Folds other in: entries with one key become one order (nets added,
    // the earlier date). Money kind, key kind and minimum must be the same
    // (invalid_parameter_value); a net that no longer fits raises
    // numeric_value_out_of_range, after which the book must not be used
    // again (an error ends the aggregate that holds it).
    void merge(const Arena& arena, const OrderBook& other);
    // Sorts and merges the keyed orders that came out of order.
    void compact();
    // Raises invalid_parameter_value unless the minimum is the one this
    // book was started with (the aggregate's argument on every row).
    void require_minimum(bool has, const Decimal& decimal_value, double float_value) const;
};

// Checks a minimum given as an argument: not negative, finite.
void check_decimal_minimum(const Decimal& value);
void check_float_minimum(double value);

// Exact net of an order as a Decimal (exact books only).
inline Decimal order_net_decimal(const Order& order) {
    Decimal value;
    value.mantissa = order.net.mantissa;
    value.scale = order.scale;
    return value;
}
// float8 books: every net summed with compensation (the money total).
double float_net_total(const OrderBook& book);

struct OrderCounts {
    std::int32_t first_day = 0;  // valid when purchases > 0
    std::int32_t last_day = 0;
    std::int64_t purchases = 0;
    std::int64_t refunds = 0;
    std::int64_t purchase_days = 0;
};

// Applies the purchase rule to every order. Compacts the book; scratch
// memory comes from arena.
OrderCounts count_orders(const Arena& arena, OrderBook& book);

class StateWriter;

// Serialized book (StateKind::rfm_orders): money kind, key kind, the
// minimum flag and minimum, the keyed orders ascending by key (key, date,
// net), the orders without a key (date, net). An exact net is its 128-bit
// mantissa and its scale, a float8 net its sum and compensation. Compacts
// the book.
void write_orders_state(StateWriter& writer, OrderBook& book);
// Reads and checks every field (keys strictly ascending, dates within
// PostgreSQL's range, scales at most 38, finite floats, a minimum >= 0);
// anything else raises invalid_binary_representation.
void read_orders_state(const Arena& arena, const std::uint8_t* bytes, std::size_t length, OrderBook* out);
// Whether serialized bytes claim to be a book (the reader checks the rest).
bool is_orders_state(const std::uint8_t* bytes, std::size_t length);

}  // namespace customer_analytics
