#include "rfm_summary_orders.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "error.hpp"
#include "state_format.hpp"

#include "no_postgres.hpp"

namespace customer_analytics {

// ------------------------------------------------------------------ keys

namespace {

constexpr std::uint64_t kPrime1 = 0x9E3779B97F4A7C15ull;
constexpr std::uint64_t kPrime2 = 0xC2B2AE3D27D4EB4Full;
constexpr std::uint64_t kPrime3 = 0x165667B19E3779F9ull;

inline std::uint64_t rotate_left(std::uint64_t value, int bits) { return (value << bits) | (value >> (64 - bits)); }

inline std::uint64_t scramble(std::uint64_t word) { return rotate_left(word * kPrime2, 31) * kPrime1; }

// Every input bit affects every output bit (the xor-shift-multiply
// finalizer of 64-bit mixers).
inline std::uint64_t avalanche(std::uint64_t h) {
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    return h;
}

}  // namespace

std::uint64_t order_key_hash(const std::uint8_t* bytes, std::size_t length) {
    std::uint64_t h = kPrime3 ^ (static_cast<std::uint64_t>(length) * kPrime1);
    std::size_t i = 0;
    for (; i + 8 <= length; i += 8) {
        h ^= scramble(state_bytes::load<std::uint64_t>(bytes + i));
        h = rotate_left(h, 27) * kPrime1 + kPrime3;
    }
    if (i < length) {
        // The last 1..7 bytes, little-endian, so the hash is the same on
        // every byte order.
        std::uint64_t tail = 0;
        for (std::size_t j = length; j > i; --j)
            tail = (tail << 8) | bytes[j - 1];
        h ^= scramble(tail);
        h = rotate_left(h, 27) * kPrime1 + kPrime3;
    }
    return avalanche(h);
}

// ---------------------------------------------------------------- nets

void order_amount_out_of_range() {
    throw Error(ErrorKind::numeric_value_out_of_range, "net amount of an order is out of range",
                "With an order key, the amounts of one order and of one day are summed exactly in 38 significant "
                "digits with at most 38 decimals.",
                "Round the amounts, for example to numeric(20,2), or summarize without an order key.");
}

namespace {

// Neumaier's compensated summation, as the money totals use.
inline void compensated_add(double* sum, double* compensation, double value) {
    const double total = *sum + value;
    if (std::fabs(*sum) >= std::fabs(value))
        *compensation += (*sum - total) + value;
    else
        *compensation += (value - total) + *sum;
    *sum = total;
}

inline void add_exact(std::int32_t* scale, OrderNet* net, const Decimal& amount) {
    Decimal value;
    value.mantissa = net->mantissa;
    value.scale = *scale;
    if (!decimal_add(&value, amount))
        order_amount_out_of_range();
    net->mantissa = value.mantissa;
    *scale = value.scale;
}

inline double float_value(const OrderNet& net) { return net.binary[0] + net.binary[1]; }

// Folds `from` into `into` (the same order).
inline void combine(MoneyKind kind, Order* into, const Order& from) {
    into->day = std::min(into->day, from.day);
    if (kind == MoneyKind::exact_decimal) {
        add_exact(&into->scale, &into->net, order_net_decimal(from));
    } else {
        compensated_add(&into->net.binary[0], &into->net.binary[1], from.net.binary[0]);
        compensated_add(&into->net.binary[0], &into->net.binary[1], from.net.binary[1]);
    }
}

Order exact_order(std::uint64_t key, std::int32_t day, const Decimal& amount) {
    Order order;
    order.key = key;
    order.day = day;
    order.scale = amount.scale;
    order.net.mantissa = amount.mantissa;
    return order;
}

Order float_order(std::uint64_t key, std::int32_t day, double amount) {
    Order order;
    order.key = key;
    order.day = day;
    order.scale = 0;
    order.net.binary[0] = amount;
    order.net.binary[1] = 0;
    return order;
}

// The entry of key in [0, sorted), or nullptr.
Order* find_sorted(FlatArray<Order>& orders, std::uint32_t sorted, std::uint64_t key) {
    Order* end = orders.data + sorted;
    Order* at = std::lower_bound(orders.data, end, key, [](const Order& o, std::uint64_t k) { return o.key < k; });
    return at != end && at->key == key ? at : nullptr;
}

}  // namespace

// ---------------------------------------------------------------- book

namespace {

// A line joins its order: the last entry (lines of one order usually come
// together), an already merged entry (binary search), or a new entry at
// the end. The unsorted tail is merged in batches when the array is full
// and the tail is as long as the sorted part, as DaySet does.
void add_line(const Arena& arena, OrderBook& book, const Order& line) {
    FlatArray<Order>& keyed = book.keyed;
    if (keyed.size != 0) {
        Order& last = keyed.data[keyed.size - 1];
        if (last.key == line.key) {
            combine(book.money_kind, &last, line);
            return;
        }
        if (line.key > last.key && book.sorted == keyed.size) {
            keyed.push_back(arena, line);
            book.sorted = keyed.size;
            return;
        }
    }
    if (Order* found = find_sorted(keyed, book.sorted, line.key)) {
        combine(book.money_kind, found, line);
        return;
    }
    if (keyed.size == keyed.capacity && keyed.size - book.sorted >= book.sorted && keyed.size != 0) {
        book.compact();
        if (Order* found = find_sorted(keyed, book.sorted, line.key)) {
            combine(book.money_kind, found, line);
            return;
        }
    }
    keyed.push_back(arena, line);
    if (keyed.size == 1)
        book.sorted = 1;
}

}  // namespace

void OrderBook::add_decimal(const Arena& arena, bool has_key, std::uint64_t key, std::int32_t day,
                            const Decimal& amount) {
    if (!has_key) {
        loose.push_back(arena, exact_order(0, day, amount));
        return;
    }
    add_line(arena, *this, exact_order(key, day, amount));
}

void OrderBook::add_float(const Arena& arena, bool has_key, std::uint64_t key, std::int32_t day, double amount) {
    if (!has_key) {
        loose.push_back(arena, float_order(0, day, amount));
        return;
    }
    add_line(arena, *this, float_order(key, day, amount));
}

void OrderBook::compact() {
    if (sorted == keyed.size)
        return;
    std::sort(keyed.begin(), keyed.end(), [](const Order& a, const Order& b) { return a.key < b.key; });
    std::uint32_t out = 0;
    for (std::uint32_t i = 0; i < keyed.size; ++i) {
        if (out != 0 && keyed.data[out - 1].key == keyed.data[i].key)
            combine(money_kind, &keyed.data[out - 1], keyed.data[i]);
        else
            keyed.data[out++] = keyed.data[i];
    }
    keyed.size = out;
    sorted = out;
}

namespace {

bool same_minimum(const OrderBook& book, bool has, const Decimal& decimal_value, double float_value) {
    if (book.has_minimum != has)
        return false;
    if (!has)
        return true;
    return book.money_kind == MoneyKind::exact_decimal ? decimal_compare(book.decimal_minimum, decimal_value) == 0
                                                       : book.float_minimum == float_value;
}

}  // namespace

void OrderBook::require_minimum(bool has, const Decimal& decimal_value, double float_value) const {
    if (!same_minimum(*this, has, decimal_value, float_value))
        throw Error(ErrorKind::invalid_parameter_value, "rfm_agg needs the same min_purchase on every row", {},
                    "Pass a constant as min_purchase.");
}

void OrderBook::merge(const Arena& arena, const OrderBook& other) {
    if (other.money_kind != money_kind)
        throw Error(ErrorKind::invalid_parameter_value,
                    "cannot merge rfm_agg states of numeric amounts with states of double precision amounts",
                    "Numeric totals are exact and double precision totals are not, so they are never added.",
                    "Compute every state of a customer with the same amount type, for example with amount::numeric.");
    if (other.key_kind != key_kind)
        throw Error(ErrorKind::invalid_parameter_value,
                    "cannot merge rfm_agg states of bigint order keys with states of text order keys",
                    "The same order would count twice, once by each kind of key.",
                    "Compute every state of a customer with the same order key type.");
    if (!same_minimum(*this, other.has_minimum, other.decimal_minimum, other.float_minimum))
        throw Error(ErrorKind::invalid_parameter_value,
                    "cannot merge rfm_agg states with different min_purchase values", {},
                    "Compute every state of a customer with the same min_purchase.");
    loose.append(arena, other.loose.data, other.loose.size);
    if (other.keyed.size == 0)
        return;
    // The sorted prefix stays sorted; compact() merges what was appended.
    keyed.append(arena, other.keyed.data, other.keyed.size);
    compact();
}

namespace {

[[noreturn]] void negative_minimum() {
    throw Error(ErrorKind::invalid_parameter_value, "min_purchase must not be negative",
                "It is the smallest net amount of a day that counts as a purchase day.");
}

}  // namespace

void check_decimal_minimum(const Decimal& value) {
    if (value.mantissa < 0)
        negative_minimum();
}

void check_float_minimum(double value) {
    if (!std::isfinite(value))
        throw Error(ErrorKind::invalid_parameter_value, "min_purchase must be a finite number");
    if (value < 0)
        negative_minimum();
}

double float_net_total(const OrderBook& book) {
    double sum = 0, compensation = 0;
    for (const FlatArray<Order>* orders : {&book.keyed, &book.loose})
        for (const Order& order : *orders) {
            compensated_add(&sum, &compensation, order.net.binary[0]);
            compensated_add(&sum, &compensation, order.net.binary[1]);
        }
    return sum + compensation;
}

// ---------------------------------------------------------------- rule

namespace {

int sign_of(MoneyKind kind, const Order& order) {
    if (kind == MoneyKind::exact_decimal)
        return order.net.mantissa > 0 ? 1 : (order.net.mantissa < 0 ? -1 : 0);
    const double value = float_value(order.net);
    return value > 0 ? 1 : (value < 0 ? -1 : 0);
}

// Days whose net reaches the minimum, ascending.
FlatArray<std::int32_t> qualifying_days(const Arena& arena, const OrderBook& book) {
    const std::uint64_t count = std::uint64_t(book.keyed.size) + book.loose.size;
    FlatArray<Order> by_day;
    by_day.reserve(arena, count);
    by_day.append(arena, book.keyed.data, book.keyed.size);
    by_day.append(arena, book.loose.data, book.loose.size);
    std::sort(by_day.begin(), by_day.end(), [](const Order& a, const Order& b) { return a.day < b.day; });
    FlatArray<std::int32_t> days;
    for (std::uint32_t i = 0; i < by_day.size;) {
        Order day = by_day.data[i];
        std::uint32_t j = i + 1;
        for (; j < by_day.size && by_day.data[j].day == day.day; ++j)
            combine(book.money_kind, &day, by_day.data[j]);
        const bool reaches = book.money_kind == MoneyKind::exact_decimal
                                 ? decimal_compare(order_net_decimal(day), book.decimal_minimum) >= 0
                                 : float_value(day.net) >= book.float_minimum;
        if (reaches)
            days.push_back(arena, day.day);
        i = j;
    }
    return days;
}

}  // namespace

OrderCounts count_orders(const Arena& arena, OrderBook& book) {
    book.compact();
    FlatArray<std::int32_t> qualifying;
    if (book.has_minimum)
        qualifying = qualifying_days(arena, book);
    FlatArray<std::int32_t> purchase_days;
    OrderCounts counts;
    for (const FlatArray<Order>* orders : {&book.keyed, &book.loose})
        for (const Order& order : *orders) {
            const int sign = sign_of(book.money_kind, order);
            if (sign < 0) {
                ++counts.refunds;
                continue;
            }
            if (book.has_minimum && (sign == 0 || !std::binary_search(qualifying.begin(), qualifying.end(), order.day)))
                continue;
            if (counts.purchases == 0) {
                counts.first_day = counts.last_day = order.day;
            } else {
                counts.first_day = std::min(counts.first_day, order.day);
                counts.last_day = std::max(counts.last_day, order.day);
            }
            ++counts.purchases;
            purchase_days.push_back(arena, order.day);
        }
    std::sort(purchase_days.begin(), purchase_days.end());
    counts.purchase_days = std::unique(purchase_days.begin(), purchase_days.end()) - purchase_days.begin();
    return counts;
}

// ------------------------------------------------------ serialized books

namespace {

constexpr StateKind kOrders = StateKind::rfm_orders;

void write_net(StateWriter& writer, MoneyKind kind, const Order& order) {
    if (kind == MoneyKind::exact_decimal) {
        writer.i128(order.net.mantissa);
        writer.u8(static_cast<std::uint8_t>(order.scale));
    } else {
        writer.f64(order.net.binary[0]);
        writer.f64(order.net.binary[1]);
    }
}

std::size_t net_size(MoneyKind kind) { return kind == MoneyKind::exact_decimal ? 16 + 1 : 8 + 8; }

std::int32_t read_scale(StateReader& reader, const char* field) {
    const std::uint8_t scale = reader.u8(field);
    if (scale > kMaxDecimalScale)
        reader.fail(std::string("The ") + field + " is above " + std::to_string(kMaxDecimalScale) + ".");
    return scale;
}

void read_net(StateReader& reader, MoneyKind kind, Order* order) {
    if (kind == MoneyKind::exact_decimal) {
        order->net.mantissa = reader.i128("order net amount");
        order->scale = read_scale(reader, "scale of an order net amount");
    } else {
        order->net.binary[0] = reader.finite_f64("order net amount");
        order->net.binary[1] = reader.finite_f64("order net compensation");
        order->scale = 0;
    }
}

std::int32_t read_day(StateReader& reader) {
    const std::int32_t day = reader.i32("order date");
    if (!valid_day(day))
        reader.fail("An order date is outside the range of PostgreSQL dates.");
    return day;
}

}  // namespace

void write_orders_state(StateWriter& writer, OrderBook& book) {
    book.compact();
    writer.header(kOrders);
    writer.u8(static_cast<std::uint8_t>(book.money_kind));
    writer.u8(static_cast<std::uint8_t>(book.key_kind));
    writer.boolean(book.has_minimum);
    if (book.has_minimum) {
        if (book.money_kind == MoneyKind::exact_decimal) {
            writer.i128(book.decimal_minimum.mantissa);
            writer.u8(static_cast<std::uint8_t>(book.decimal_minimum.scale));
        } else {
            writer.f64(book.float_minimum);
        }
    }
    writer.u32(book.keyed.size);
    for (const Order& order : book.keyed) {
        writer.u64(order.key);
        writer.i32(order.day);
        write_net(writer, book.money_kind, order);
    }
    writer.u32(book.loose.size);
    for (const Order& order : book.loose) {
        writer.i32(order.day);
        write_net(writer, book.money_kind, order);
    }
}

void read_orders_state(const Arena& arena, const std::uint8_t* bytes, std::size_t length, OrderBook* out) {
    StateReader reader(bytes, length, kOrders);
    OrderBook book;
    const std::uint8_t money = reader.u8("money kind");
    if (money != static_cast<std::uint8_t>(MoneyKind::exact_decimal) &&
        money != static_cast<std::uint8_t>(MoneyKind::binary_float))
        reader.fail("The money kind " + std::to_string(money) + " is unknown.");
    book.money_kind = static_cast<MoneyKind>(money);
    const std::uint8_t key = reader.u8("order key kind");
    if (key != static_cast<std::uint8_t>(OrderKeyKind::bigint) && key != static_cast<std::uint8_t>(OrderKeyKind::text))
        reader.fail("The order key kind " + std::to_string(key) + " is unknown.");
    book.key_kind = static_cast<OrderKeyKind>(key);
    book.has_minimum = reader.boolean("minimum flag");
    if (book.has_minimum) {
        if (book.money_kind == MoneyKind::exact_decimal) {
            book.decimal_minimum.mantissa = reader.i128("minimum");
            book.decimal_minimum.scale = read_scale(reader, "scale of the minimum");
            if (book.decimal_minimum.mantissa < 0)
                reader.fail("The minimum is negative.");
        } else {
            book.float_minimum = reader.finite_f64("minimum");
            if (book.float_minimum < 0)
                reader.fail("The minimum is negative.");
        }
    }
    const std::size_t net = net_size(book.money_kind);
    const std::uint32_t keyed = reader.count("order count", 8 + 4 + net);
    book.keyed.reserve(arena, keyed);
    for (std::uint32_t i = 0; i < keyed; ++i) {
        Order order;
        order.key = reader.u64("order key");
        if (i > 0 && order.key <= book.keyed.data[i - 1].key)
            reader.fail("The order keys are not in strictly ascending order.");
        order.day = read_day(reader);
        read_net(reader, book.money_kind, &order);
        book.keyed.data[book.keyed.size++] = order;
    }
    book.sorted = book.keyed.size;
    const std::uint32_t loose = reader.count("count of orders without a key", 4 + net);
    book.loose.reserve(arena, loose);
    for (std::uint32_t i = 0; i < loose; ++i) {
        Order order;
        order.key = 0;
        order.day = read_day(reader);
        read_net(reader, book.money_kind, &order);
        book.loose.data[book.loose.size++] = order;
    }
    reader.finish();
    *out = book;
}

bool is_orders_state(const std::uint8_t* bytes, std::size_t length) {
    return length >= 4 && bytes[0] == 'C' && bytes[1] == 'A' && bytes[3] == static_cast<std::uint8_t>(kOrders);
}

}  // namespace customer_analytics
