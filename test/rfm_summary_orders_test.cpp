// Unit tests for src/core/rfm_orders: order lines grouped into orders by a
// key, the purchase rule (per order, and per day with a minimum), exact
// merging of books split in any way, and the serialized book.
#include "rfm_summary_orders.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "error.hpp"
#include "state_format.hpp"
#include "test_util.hpp"

using namespace customer_analytics;
using namespace customer_analytics_test;

namespace {

using Bytes = std::vector<std::uint8_t>;

template <class F>
Error error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "expected an Error";
    return Error(ErrorKind::internal_error, "none");
}

std::uint64_t text_key(const std::string& key) {
    return order_key_hash(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
}

// One order line: a text key ("" = no key), a day, an amount in cents.
struct Line {
    std::string key;
    std::int32_t day;
    std::int64_t cents;
};

void add(const Arena& arena, OrderBook& book, const Line& line) {
    book.add_decimal(arena, !line.key.empty(), text_key(line.key), line.day, dec(line.cents, 2));
}

OrderBook book_of(const Arena& arena, const std::vector<Line>& lines, bool has_minimum = false,
                  std::int64_t minimum_cents = 0) {
    OrderBook book;
    book.key_kind = OrderKeyKind::text;
    book.has_minimum = has_minimum;
    book.decimal_minimum = dec(minimum_cents, 2);
    for (const Line& line : lines)
        add(arena, book, line);
    return book;
}

OrderCounts counts_of(const std::vector<Line>& lines, bool has_minimum = false, std::int64_t minimum_cents = 0) {
    TestArena arena;
    OrderBook book = book_of(arena, lines, has_minimum, minimum_cents);
    return count_orders(arena, book);
}

Decimal exact_total(const OrderBook& book) {
    Decimal total;
    for (const FlatArray<Order>* orders : {&book.keyed, &book.loose})
        for (const Order& order : *orders)
            EXPECT_TRUE(decimal_add(&total, order_net_decimal(order)));
    return total;
}

void expect_counts(const OrderCounts& c, std::int64_t purchases, std::int64_t refunds, std::int64_t days,
                   std::int32_t first = 0, std::int32_t last = 0) {
    EXPECT_EQ(c.purchases, purchases);
    EXPECT_EQ(c.refunds, refunds);
    EXPECT_EQ(c.purchase_days, days);
    if (purchases > 0) {
        EXPECT_EQ(c.first_day, first);
        EXPECT_EQ(c.last_day, last);
    }
}

Bytes orders_bytes(OrderBook& book) {
    return bytes_of([&](StateWriter& w) { write_orders_state(w, book); });
}

Bytes reread(const Bytes& bytes) {
    TestArena arena;
    OrderBook book;
    read_orders_state(arena, bytes.data(), bytes.size(), &book);
    return orders_bytes(book);
}

}  // namespace

// ------------------------------------------------------------------- keys

TEST(OrderKeyHash, IsPinnedBecauseStatesKeepIt) {
    // Changing the hash would split every stored order from its new lines.
    EXPECT_EQ(text_key(""), 0xF490368ABA8BFEACull) << std::hex << text_key("");
    EXPECT_EQ(text_key("536365"), 0x0BE4622C20A543D9ull) << std::hex << text_key("536365");
    EXPECT_EQ(text_key("C536379"), 0xE2300EEB879ED141ull) << std::hex << text_key("C536379");
    EXPECT_EQ(text_key("an order key of more than 16 bytes"), 0x5D2F0039F186109Bull)
        << std::hex << text_key("an order key of more than 16 bytes");
}

TEST(OrderKeyHash, DistinctKeysGetDistinctHashes) {
    // Invoice-like keys (with and without the cancellation prefix, padded,
    // differing in one trailing byte or only in length): no collision.
    std::vector<std::uint64_t> hashes;
    for (int i = 0; i < 300000; ++i) {
        const std::string n = std::to_string(500000 + i);
        for (const std::string& key : {n, "C" + n, n + " ", std::string(n.size(), 'x') + n})
            hashes.push_back(text_key(key));
    }
    hashes.push_back(text_key(std::string("\0", 1)));
    hashes.push_back(text_key(std::string("\0\0", 2)));
    std::sort(hashes.begin(), hashes.end());
    EXPECT_EQ(std::adjacent_find(hashes.begin(), hashes.end()), hashes.end());
}

TEST(DecimalCompare, ByValueAtAnyScale) {
    EXPECT_EQ(decimal_compare(dec(15, 1), dec(150, 2)), 0);
    EXPECT_EQ(decimal_compare(dec(1, 2), dec(0, 0)), 1);
    EXPECT_EQ(decimal_compare(dec(-1, 38), dec(0, 0)), -1);
    EXPECT_EQ(decimal_compare(dec(0, 5), dec(0, 0)), 0);
    // 10^30 at scale 0 cannot be brought to scale 20 (10^50): larger than
    // anything at that scale, whatever the sign.
    const int128 big = static_cast<int128>(1000000000000000ll) * 1000000000000000ll;
    EXPECT_EQ(decimal_compare(dec(big, 0), dec(5, 20)), 1);
    EXPECT_EQ(decimal_compare(dec(-big, 0), dec(5, 20)), -1);
    EXPECT_EQ(decimal_compare(dec(5, 20), dec(big, 0)), -1);
    EXPECT_EQ(decimal_compare(dec(5, 20), dec(-big, 0)), 1);
}

// ------------------------------------------------------------ granularity

TEST(OrderBook, LinesOfOneOrderAreOneOrder) {
    // Online Retail's shape: invoice 536365 has three lines, 536366 two, a
    // cancellation C536379 one; a line without a key is an order of its own.
    const std::vector<Line> lines = {{"536365", 100, 1530},   {"536365", 100, 2034}, {"536365", 100, 2200},
                                     {"536366", 100, 1110},   {"536366", 100, 1110}, {"536370", 130, 4000},
                                     {"C536379", 131, -2765}, {"", 140, 500},        {"", 140, 700}};
    TestArena arena;
    OrderBook book = book_of(arena, lines);
    const OrderCounts c = count_orders(arena, book);
    expect_counts(c, 5, 1, 3, 100, 140);  // 536365, 536366, 536370 and two lines without a key
    EXPECT_EQ(book.keyed.size, 4u);
    EXPECT_EQ(book.loose.size, 2u);
    EXPECT_TRUE(exact_total(book).mantissa == 1530 + 2034 + 2200 + 1110 + 1110 + 4000 - 2765 + 500 + 700);
}

TEST(OrderBook, WithoutKeysEveryLineIsAnOrderAsInTheSummary) {
    // rfm_agg(d, a, NULL) is rfm_agg(d, a): the same counts on random rows.
    std::mt19937 g(5);
    for (int round = 0; round < 50; ++round) {
        TestArena arena;
        OrderSummaryState summary;
        std::vector<Line> lines;
        for (int i = 0; i < 40; ++i) {
            const Line line{"", static_cast<std::int32_t>(g() % 30), static_cast<std::int64_t>(g() % 2001) - 500};
            lines.push_back(line);
            summary.add_row_date(arena, line.day, line.cents >= 0);
        }
        const OrderCounts c = counts_of(lines);
        EXPECT_EQ(c.purchases, summary.purchases);
        EXPECT_EQ(c.refunds, summary.refunds);
        EXPECT_EQ(c.purchase_days, summary.purchase_days.distinct_count());
        if (c.purchases > 0) {
            EXPECT_EQ(c.first_day, summary.first_day);
            EXPECT_EQ(c.last_day, summary.last_day);
        }
    }
}

TEST(OrderBook, AnOrderIsItsNetAndItsEarliestDate) {
    // Without a minimum the sign of the net decides: >= 0 a purchase (a free
    // order too), < 0 a refund; a line on a later day does not move the order.
    expect_counts(counts_of({{"a", 10, 1000}, {"a", 12, -300}}), 1, 0, 1, 10, 10);
    expect_counts(counts_of({{"a", 10, 300}, {"a", 12, -1000}}), 0, 1, 0);
    expect_counts(counts_of({{"free", 10, 0}}), 1, 0, 1, 10, 10);
    expect_counts(counts_of({{"a", 12, 100}, {"a", 10, 100}}), 1, 0, 1, 10, 10);   // dated by its earliest line
    expect_counts(counts_of({{"a", 10, 500}, {"a", 10, -500}}), 1, 0, 1, 10, 10);  // nets to zero
}

TEST(OrderBook, MinimumPerPurchaseDay) {
    // A free item alone: not a purchase, not a refund.
    expect_counts(counts_of({{"free", 10, 0}}, true, 1), 0, 0, 0);
    // Bought and cancelled the same day under two keys (Online Retail's
    // 77,183.60): the day nets to zero, so nothing that day is a purchase.
    expect_counts(counts_of({{"541431", 10, 7718360}, {"C541433", 10, -7718360}}, true, 1), 0, 1, 0);
    // ... whereas without a minimum the bought order stays a purchase.
    expect_counts(counts_of({{"541431", 10, 7718360}, {"C541433", 10, -7718360}}), 1, 1, 1, 10, 10);
    // A free order beside a paid one: only the paid one counts.
    expect_counts(counts_of({{"free", 10, 0}, {"paid", 10, 1500}}, true, 1), 1, 0, 1, 10, 10);
    // Two small orders reach the minimum of their day together.
    expect_counts(counts_of({{"a", 10, 500}, {"b", 10, 500}}, true, 1000), 2, 0, 1, 10, 10);
    expect_counts(counts_of({{"a", 10, 500}, {"b", 10, 499}}, true, 1000), 0, 0, 0);
    // A refund lowers the day it is dated, not the day of what it refunds.
    expect_counts(counts_of({{"a", 10, 2000}, {"b", 11, 1000}, {"Cb", 11, -1000}}, true, 1), 1, 1, 1, 10, 10);
    // A minimum of zero: positive orders on days that did not net negative.
    expect_counts(counts_of({{"a", 10, 0}, {"b", 11, 100}, {"c", 12, 100}, {"Cx", 12, -300}}, true, 0), 1, 1, 1, 11,
                  11);
    // An order belongs to its earliest day with all its lines.
    expect_counts(counts_of({{"a", 10, 1000}, {"b", 11, 1000}, {"a", 11, -900}}, true, 200), 1, 0, 1, 11, 11);
    expect_counts(counts_of({{"a", 10, 1000}, {"b", 11, 1000}, {"a", 11, -700}}, true, 200), 2, 0, 2, 10, 11);
    // Lines without a key are orders of their own, on their own dates.
    expect_counts(counts_of({{"", 10, 300}, {"", 10, -300}, {"", 11, 300}}, true, 1), 1, 1, 1, 11, 11);
}

TEST(OrderBook, FloatAmountsFollowTheSameRule) {
    TestArena arena;
    OrderBook book;
    book.money_kind = MoneyKind::binary_float;
    book.has_minimum = true;
    book.float_minimum = 0.01;
    book.add_float(arena, true, 1, 10, 77183.6);
    book.add_float(arena, true, 2, 10, -77183.6);
    book.add_float(arena, true, 3, 11, 0.1);
    book.add_float(arena, true, 3, 11, 0.2);
    book.add_float(arena, true, 4, 12, 0);
    expect_counts(count_orders(arena, book), 1, 1, 1, 11, 11);
    EXPECT_NEAR(float_net_total(book), 0.3, 1e-15);
}

// ------------------------------------------------------------------ merge

TEST(OrderBook, AnySplitIntoBatchesMergesToTheSameBook) {
    // Lines of one order (and of one day) land in different batches, in any
    // order, with earlier dates coming later: merged, the counts, the money
    // and the serialized book are those of one pass over the lines.
    std::mt19937 g(11);
    for (int round = 0; round < 200; ++round) {
        std::vector<Line> lines;
        const int n = 1 + static_cast<int>(g() % 60);
        for (int i = 0; i < n; ++i) {
            const int order = static_cast<int>(g() % 12);
            lines.push_back({order == 0 ? "" : "k" + std::to_string(order), static_cast<std::int32_t>(g() % 8),
                             static_cast<std::int64_t>(g() % 3001) - 1200});
        }
        const bool has_minimum = round % 2 == 1;
        TestArena arena;
        OrderBook whole = book_of(arena, lines, has_minimum, 250);
        const OrderCounts expected = count_orders(arena, whole);
        const Bytes expected_bytes = orders_bytes(whole);

        std::shuffle(lines.begin(), lines.end(), g);
        const int batches = 1 + static_cast<int>(g() % 5);
        std::vector<OrderBook> parts(batches);
        for (OrderBook& part : parts) {
            part = book_of(arena, {}, has_minimum, 250);
        }
        for (const Line& line : lines)
            add(arena, parts[g() % batches], line);
        OrderBook merged = book_of(arena, {}, has_minimum, 250);
        for (OrderBook& part : parts) {
            // Half of the batches go through their serialized form, as a
            // stored state or a parallel worker's state does.
            if (g() % 2 == 0) {
                const Bytes bytes = orders_bytes(part);
                read_orders_state(arena, bytes.data(), bytes.size(), &part);
            }
            merged.merge(arena, part);
        }
        const OrderCounts got = count_orders(arena, merged);
        EXPECT_EQ(got.purchases, expected.purchases);
        EXPECT_EQ(got.refunds, expected.refunds);
        EXPECT_EQ(got.purchase_days, expected.purchase_days);
        EXPECT_EQ(got.first_day, expected.first_day);
        EXPECT_EQ(got.last_day, expected.last_day);
        EXPECT_EQ(decimal_compare(exact_total(merged), exact_total(whole)), 0);
        // Orders without a key may come out in another order; the keyed
        // part is canonical.
        EXPECT_EQ(merged.keyed.size, whole.keyed.size);
        for (std::uint32_t i = 0; i < merged.keyed.size; ++i) {
            EXPECT_EQ(merged.keyed.data[i].key, whole.keyed.data[i].key);
            EXPECT_EQ(merged.keyed.data[i].day, whole.keyed.data[i].day);
            EXPECT_EQ(decimal_compare(order_net_decimal(merged.keyed.data[i]), order_net_decimal(whole.keyed.data[i])),
                      0);
        }
        EXPECT_EQ(merged.loose.size, whole.loose.size);
        if (merged.loose.size == 0) {
            EXPECT_EQ(orders_bytes(merged), expected_bytes);
        }
    }
}

TEST(OrderBook, LinesInAnyKeyOrderStayBounded) {
    // 5,000 orders of 3 lines each in random order: one entry per order in
    // the end, and the array never holds more than twice the orders (plus
    // the doubling of its capacity).
    std::vector<std::uint64_t> keys;
    for (std::uint64_t k = 1; k <= 5000; ++k)
        for (int line = 0; line < 3; ++line)
            keys.push_back(k * 7919);
    std::mt19937 g(3);
    std::shuffle(keys.begin(), keys.end(), g);
    TestArena arena;
    OrderBook book;
    for (std::uint64_t k : keys)
        book.add_decimal(arena, true, k, static_cast<std::int32_t>(k % 100), dec(1, 0));
    EXPECT_LE(book.keyed.capacity, 4u * 5000);
    book.compact();
    ASSERT_EQ(book.keyed.size, 5000u);
    for (const Order& order : book.keyed)
        EXPECT_TRUE(order.net.mantissa == 3);
}

TEST(OrderBook, OnlyBooksOfOneKindMerge) {
    TestArena arena;
    OrderBook a, b;
    a.add_decimal(arena, true, 1, 10, dec(1, 0));
    b = a;
    b.key_kind = OrderKeyKind::text;
    Error e = error_of([&] { a.merge(arena, b); });
    EXPECT_EQ(e.kind(), ErrorKind::invalid_parameter_value);
    EXPECT_STREQ(e.what(), "cannot merge rfm_agg states of bigint order keys with states of text order keys");
    b.key_kind = OrderKeyKind::bigint;
    b.money_kind = MoneyKind::binary_float;
    EXPECT_EQ(error_of([&] { a.merge(arena, b); }).kind(), ErrorKind::invalid_parameter_value);
    b.money_kind = MoneyKind::exact_decimal;
    b.has_minimum = true;
    b.decimal_minimum = dec(1, 2);
    e = error_of([&] { a.merge(arena, b); });
    EXPECT_STREQ(e.what(), "cannot merge rfm_agg states with different min_purchase values");
    a.has_minimum = true;
    a.decimal_minimum = dec(10, 3);  // 0.010 = 0.01
    a.merge(arena, b);
    a.compact();
    EXPECT_EQ(a.keyed.size, 1u);
    EXPECT_TRUE(a.keyed.data[0].net.mantissa == 2);
    EXPECT_STREQ(error_of([&] { a.require_minimum(true, dec(2, 2), 0); }).what(),
                 "rfm_agg needs the same min_purchase on every row");
    EXPECT_EQ(error_of([&] { a.require_minimum(false, dec(0, 0), 0); }).kind(), ErrorKind::invalid_parameter_value);
    a.require_minimum(true, dec(1, 2), 0);
}

TEST(OrderBook, MinimumsAreChecked) {
    EXPECT_STREQ(error_of([] { check_decimal_minimum(dec(-1, 2)); }).what(), "min_purchase must not be negative");
    check_decimal_minimum(dec(0, 0));
    EXPECT_EQ(error_of([] { check_float_minimum(-0.5); }).kind(), ErrorKind::invalid_parameter_value);
    EXPECT_STREQ(error_of([] { check_float_minimum(std::numeric_limits<double>::quiet_NaN()); }).what(),
                 "min_purchase must be a finite number");
    EXPECT_EQ(error_of([] { check_float_minimum(std::numeric_limits<double>::infinity()); }).kind(),
              ErrorKind::invalid_parameter_value);
    check_float_minimum(0.0);
}

TEST(OrderBook, NetsBeyond38DigitsAreAnError) {
    TestArena arena;
    OrderBook book;
    const int128 big = (static_cast<int128>(1) << 126);
    book.add_decimal(arena, true, 1, 10, dec(big, 0));
    const Error e = error_of([&] { book.add_decimal(arena, true, 1, 10, dec(big, 0)); });
    EXPECT_EQ(e.kind(), ErrorKind::numeric_value_out_of_range);
    EXPECT_STREQ(e.what(), "net amount of an order is out of range");
    // Two orders that fit alone but not together on their day.
    OrderBook day;
    day.has_minimum = true;
    day.add_decimal(arena, true, 1, 10, dec(big, 0));
    day.add_decimal(arena, true, 2, 10, dec(big, 0));
    EXPECT_EQ(error_of([&] { count_orders(arena, day); }).kind(), ErrorKind::numeric_value_out_of_range);
}

// ------------------------------------------------------------- the format

TEST(OrdersState, ExactLayout) {
    TestArena arena;
    OrderBook book;
    book.has_minimum = true;
    book.decimal_minimum = dec(1, 2);
    book.add_decimal(arena, true, 0x0102, 8770, dec(-250, 2));
    book.add_decimal(arena, false, 0, 8771, dec(7, 0));
    const Bytes bytes = orders_bytes(book);
    Bytes expected = {'C', 'A', 2, 15, 1, 1, 1};  // header, numeric, bigint keys, a minimum
    const Bytes minimum = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    expected.insert(expected.end(), minimum.begin(), minimum.end());
    const Bytes keyed = {1,    0,    0,    0,                                 // one order
                         0x02, 0x01, 0,    0,    0,    0,    0,    0,         // key
                         0x42, 0x22, 0,    0,                                 // 8770
                         0x06, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,      // -250
                         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2};  // scale 2
    expected.insert(expected.end(), keyed.begin(), keyed.end());
    const Bytes loose = {1, 0, 0, 0, 0x43, 0x22, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    expected.insert(expected.end(), loose.begin(), loose.end());
    EXPECT_EQ(bytes, expected);
    OrderBook back;
    read_orders_state(arena, bytes.data(), bytes.size(), &back);
    EXPECT_TRUE(back.has_minimum);
    EXPECT_EQ(decimal_compare(back.decimal_minimum, dec(1, 2)), 0);
    EXPECT_EQ(back.keyed.size, 1u);
    EXPECT_EQ(back.loose.size, 1u);
    EXPECT_TRUE(is_orders_state(bytes.data(), bytes.size()));
    EXPECT_FALSE(is_orders_state(bytes.data(), 3));
}

TEST(OrdersState, FieldProblemsAreNamed) {
    TestArena arena;
    OrderBook book;
    book.add_decimal(arena, true, 5, 100, dec(1, 0));
    book.add_decimal(arena, true, 9, 101, dec(2, 0));
    const Bytes good = orders_bytes(book);
    EXPECT_EQ(reread(good), good);
    const std::size_t first = 4 + 3 + 4;  // the first order's key
    const std::size_t entry = 8 + 4 + 17;
    auto problem = [&](const std::function<void(Bytes&)>& edit) {
        Bytes bytes = good;
        edit(bytes);
        const Error e = error_of([&] { reread(bytes); });
        EXPECT_EQ(e.kind(), ErrorKind::invalid_binary_representation);
        EXPECT_STREQ(e.what(), "invalid serialized rfm_agg state");
        return e.detail();
    };
    EXPECT_EQ(problem([&](Bytes& b) { b[first + entry] = 5; }), "The order keys are not in strictly ascending order.");
    EXPECT_EQ(problem([&](Bytes& b) { b[first + entry] = 4; }), "The order keys are not in strictly ascending order.");
    EXPECT_EQ(problem([&](Bytes& b) { b[first + 8 + 3] = 0x80; }),
              "An order date is outside the range of PostgreSQL dates.");
    EXPECT_EQ(problem([&](Bytes& b) { b[first + 8 + 4 + 16] = 39; }), "The scale of an order net amount is above 38.");
    EXPECT_EQ(problem([&](Bytes& b) { b[4] = 3; }), "The money kind 3 is unknown.");
    EXPECT_EQ(problem([&](Bytes& b) { b[5] = 0; }), "The order key kind 0 is unknown.");
    EXPECT_EQ(problem([&](Bytes& b) { b[6] = 2; }), "The minimum flag is neither true nor false.");
    EXPECT_EQ(problem([&](Bytes& b) { b[7] = 0xff; }), "The order count 255 is larger than the state can hold.");

    // A negative minimum, and float nets that are not finite.
    OrderBook minimum;
    minimum.has_minimum = true;
    minimum.decimal_minimum = dec(-1, 0);
    EXPECT_EQ(error_of([&] { reread(orders_bytes(minimum)); }).detail(), "The minimum is negative.");
    OrderBook f;
    f.money_kind = MoneyKind::binary_float;
    f.add_float(arena, true, 1, 10, std::numeric_limits<double>::infinity());
    EXPECT_EQ(error_of([&] { reread(orders_bytes(f)); }).detail(), "The order net amount is not a finite number.");
}

TEST(OrdersState, CountsAreBoundedBeforeAllocation) {
    Bytes bytes = {'C', 'A', 2, 15, 1, 2, 0, 0xff, 0xff, 0xff, 0x0f};
    bytes.resize(bytes.size() + 64, 0);
    TestArena arena;
    OrderBook book;
    EXPECT_EQ(error_of([&] { read_orders_state(arena, bytes.data(), bytes.size(), &book); }).detail(),
              "The order count 268435455 is larger than the state can hold.");
    EXPECT_EQ(arena.bytes_allocated(), 0u);
}
