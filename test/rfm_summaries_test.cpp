// Unit tests for src/core/rfm_summaries: the bulk path's per-customer
// table must hold exactly what rfm_agg's states hold for the same rows
// (OrderSummaryState and OrderBook are the reference), through index and
// chunk growth, for integer and bytes keys, exact and float amounts, totals
// that leave 128 bits, and rows that travel between processes.
#include "rfm_summaries.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "error.hpp"
#include "state_format.hpp"
#include "test_util.hpp"

using namespace customer_analytics;
using customer_analytics_test::bytes_of;
using customer_analytics_test::TestArena;

namespace {

// A row as a test writes it: customer (-1: NULL), day (INT32_MIN: NULL
// date), amount in units of 10^-scale.
struct Row {
    std::int64_t customer;
    std::int32_t day;
    int128 amount;
    std::int32_t scale;
    std::int64_t order;  // -1: no order key
};

constexpr std::int32_t kNoDay = INT32_MIN;

OrderRow order_row(const Row& row) {
    OrderRow out{};
    out.null_key = row.customer < 0;
    out.key = static_cast<std::uint64_t>(row.customer);
    out.has_values = row.day != kNoDay;
    out.day = row.day;
    out.amount.mantissa = row.amount;
    out.amount.scale = row.scale;
    out.fits = true;
    out.purchase = row.amount >= 0;
    out.float_amount = static_cast<double>(row.amount) / 100.0;
    out.has_order_key = row.order >= 0;
    out.order_key = static_cast<std::uint64_t>(row.order);
    return out;
}

// Adds rows in batches of up to 64, as the glue does; returns the spilled
// (row position, customer) pairs.
std::vector<std::pair<std::size_t, std::uint32_t>> add_all(RfmSummaryTable& table, const std::vector<Row>& rows) {
    std::vector<std::pair<std::size_t, std::uint32_t>> spilled;
    for (std::size_t start = 0; start < rows.size(); start += 64) {
        const std::size_t count = std::min<std::size_t>(64, rows.size() - start);
        std::vector<OrderRow> batch(count);
        for (std::size_t i = 0; i < count; ++i)
            batch[i] = order_row(rows[start + i]);
        std::uint32_t positions[64];
        const std::uint32_t n = table.add_rows(batch.data(), static_cast<std::uint32_t>(count), positions);
        for (std::uint32_t i = 0; i < n; ++i)
            spilled.emplace_back(start + positions[i], batch[positions[i]].customer);
    }
    return spilled;
}

std::vector<Row> random_rows(std::mt19937_64& random, std::size_t count, std::int64_t customers, bool huge) {
    std::vector<Row> rows;
    std::uniform_int_distribution<std::int64_t> customer(0, customers - 1);
    std::uniform_int_distribution<std::int32_t> day(-400, 1500);
    std::uniform_int_distribution<int> percent(0, 99);
    std::uniform_int_distribution<std::int64_t> cents(-50000, 500000);
    std::uniform_int_distribution<std::int32_t> scale(0, 4);
    for (std::size_t i = 0; i < count; ++i) {
        Row row;
        row.customer = percent(random) < 2 ? -1 : customer(random);
        row.day = percent(random) < 3 ? kNoDay : day(random);
        row.amount = cents(random);
        row.scale = scale(random);
        if (huge && percent(random) < 10)
            row.amount =
                static_cast<int128>(cents(random)) * static_cast<int128>(1000000000000000000LL) * 100000000000000LL;
        row.order = percent(random) < 10 ? -1 : std::int64_t(i % 97);
        rows.push_back(row);
    }
    return rows;
}

// rfm_agg's state per customer for the same rows, with the amounts its
// 128-bit total could not take (the glue's overflow), in row order.
struct Reference {
    bool has_summary = false;
    OrderSummaryState state;
    std::vector<std::size_t> spilled;
};

std::map<std::int64_t, Reference> reference_of(const Arena& arena, const std::vector<Row>& rows, MoneyKind money) {
    std::map<std::int64_t, Reference> reference;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const Row& row = rows[i];
        Reference& ref = reference[row.customer];
        if (row.day == kNoDay)
            continue;
        if (!ref.has_summary) {
            ref.has_summary = true;
            ref.state.money_kind = money;
        }
        if (money == MoneyKind::exact_decimal) {
            Decimal amount;
            amount.mantissa = row.amount;
            amount.scale = row.scale;
            if (!ref.state.add_decimal(amount))
                ref.spilled.push_back(i);
        } else {
            ref.state.add_float(static_cast<double>(row.amount) / 100.0);
        }
        ref.state.add_row_date(arena, row.day, row.amount >= 0);
    }
    return reference;
}

std::uint32_t customer_of(RfmSummaryTable& table, std::int64_t key) {
    return key < 0 ? table.null_customer() : table.integer_customer(key);
}

void expect_same(RfmSummaryTable& table, std::map<std::int64_t, Reference>& reference,
                 const std::vector<std::pair<std::size_t, std::uint32_t>>& spilled) {
    const std::uint32_t before = table.size();
    EXPECT_EQ(table.size(), reference.size());
    for (auto& [key, ref] : reference) {
        const std::uint32_t customer = customer_of(table, key);
        ASSERT_LT(customer, before) << "customer " << key << " missing";
        EXPECT_EQ(table.null_key(customer), key < 0);
        ASSERT_EQ(table.has_summary(customer), ref.has_summary) << key;
        if (!ref.has_summary)
            continue;
        const CustomerTotals& totals = table.totals(customer);
        EXPECT_EQ(totals.purchases, ref.state.purchases) << key;
        EXPECT_EQ(totals.refunds, ref.state.refunds) << key;
        if (ref.state.purchases > 0) {
            EXPECT_EQ(totals.first_day, ref.state.first_day) << key;
            EXPECT_EQ(totals.last_day, ref.state.last_day) << key;
        }
        EXPECT_EQ(table.day_count(customer), ref.state.purchase_days.distinct_count()) << key;
        ref.state.purchase_days.compact();
        ASSERT_EQ(table.day_count(customer), ref.state.purchase_days.days.size);
        EXPECT_TRUE(std::equal(table.days(customer), table.days(customer) + table.day_count(customer),
                               ref.state.purchase_days.days.data))
            << key;
        if (ref.state.money_kind == MoneyKind::exact_decimal) {
            EXPECT_TRUE(totals.money.mantissa == ref.state.decimal_total.mantissa) << key;
            EXPECT_EQ(totals.scale, ref.state.decimal_total.scale) << key;
        } else {
            // The same compensated arithmetic on the same rows in the same order.
            EXPECT_EQ(totals.money.binary[0], ref.state.float_total) << key;
            EXPECT_EQ(totals.money.binary[1], ref.state.float_compensation) << key;
        }
        std::vector<std::size_t> table_spilled;
        for (const auto& [position, who] : spilled)
            if (who == customer)
                table_spilled.push_back(position);
        EXPECT_EQ(table_spilled, ref.spilled) << key;
    }
    EXPECT_EQ(table.size(), before) << "a lookup created a customer";
}

}  // namespace

TEST(RfmSummaryTable, ExactTotalsEqualRfmAggStates) {
    std::mt19937_64 random(7);
    const std::vector<Row> rows = random_rows(random, 60000, 3000, false);
    TestArena arena;
    RfmSummaryTable table;
    table.start(arena, CustomerKeyKind::integer, MoneyKind::exact_decimal, nullptr);
    const auto spilled = add_all(table, rows);
    EXPECT_TRUE(spilled.empty());
    table.finish_days();
    auto reference = reference_of(arena, rows, MoneyKind::exact_decimal);
    expect_same(table, reference, spilled);
}

TEST(RfmSummaryTable, TotalsBeyond128BitsSpillTheSameRowsAsRfmAgg) {
    // Amounts near 10^37: a few of them overflow a customer's 128-bit total,
    // and exactly the rows rfm_agg continues in numeric come back spilled.
    std::mt19937_64 random(11);
    const std::vector<Row> rows = random_rows(random, 20000, 200, true);
    TestArena arena;
    RfmSummaryTable table;
    table.start(arena, CustomerKeyKind::integer, MoneyKind::exact_decimal, nullptr);
    const auto spilled = add_all(table, rows);
    EXPECT_FALSE(spilled.empty());
    table.finish_days();
    auto reference = reference_of(arena, rows, MoneyKind::exact_decimal);
    expect_same(table, reference, spilled);
}

TEST(RfmSummaryTable, AmountsThatDidNotFitADecimalSpill) {
    TestArena arena;
    RfmSummaryTable table;
    table.start(arena, CustomerKeyKind::integer, MoneyKind::exact_decimal, nullptr);
    OrderRow rows[2] = {order_row({1, 10, 500, 2, -1}), order_row({1, 11, 0, 0, -1})};
    rows[1].fits = false;  // e.g. 10^40: the glue adds the numeric itself
    rows[1].purchase = true;
    std::uint32_t spilled[2];
    ASSERT_EQ(table.add_rows(rows, 2, spilled), 1u);
    EXPECT_EQ(spilled[0], 1u);
    table.finish_days();
    const std::uint32_t customer = table.integer_customer(1);
    EXPECT_EQ(table.totals(customer).purchases, 2);
    EXPECT_EQ(table.day_count(customer), 2u);
    EXPECT_TRUE(table.totals(customer).money.mantissa == 500);
}

TEST(RfmSummaryTable, FloatTotalsEqualRfmAggStates) {
    std::mt19937_64 random(13);
    const std::vector<Row> rows = random_rows(random, 30000, 1000, false);
    TestArena arena;
    RfmSummaryTable table;
    table.start(arena, CustomerKeyKind::integer, MoneyKind::binary_float, nullptr);
    const auto spilled = add_all(table, rows);
    EXPECT_TRUE(spilled.empty());
    table.finish_days();
    auto reference = reference_of(arena, rows, MoneyKind::binary_float);
    expect_same(table, reference, spilled);
}

TEST(RfmSummaryTable, OrderBooksEqualRfmAggBooks) {
    std::mt19937_64 random(17);
    const std::vector<Row> rows = random_rows(random, 20000, 300, false);
    OrderBook like;
    like.key_kind = OrderKeyKind::bigint;
    like.has_minimum = true;
    like.decimal_minimum.mantissa = 1000;
    like.decimal_minimum.scale = 2;
    TestArena arena;
    RfmSummaryTable table;
    table.start(arena, CustomerKeyKind::integer, MoneyKind::exact_decimal, &like);
    // Books keep nets exactly at one scale per order: use cents throughout.
    std::vector<Row> cents = rows;
    for (Row& row : cents)
        row.scale = 2;
    add_all(table, cents);
    std::map<std::int64_t, OrderBook> reference;
    for (const Row& row : cents) {
        auto found = reference.find(row.customer);
        if (found == reference.end())
            found = reference.emplace(row.customer, like).first;
        if (row.day == kNoDay)
            continue;
        Decimal amount;
        amount.mantissa = row.amount;
        amount.scale = row.scale;
        found->second.add_decimal(arena, row.order >= 0, static_cast<std::uint64_t>(row.order), row.day, amount);
    }
    EXPECT_EQ(table.size(), reference.size());
    for (auto& entry : reference) {
        const std::int64_t key = entry.first;
        OrderBook& book = entry.second;
        const std::uint32_t customer = customer_of(table, key);
        const bool has_lines = book.keyed.size + book.loose.size != 0;
        ASSERT_EQ(table.has_summary(customer), has_lines) << key;
        if (!has_lines)
            continue;
        const OrderCounts expected = count_orders(arena, book);
        const OrderCounts got = count_orders(arena, *table.orders(customer));
        EXPECT_EQ(got.purchases, expected.purchases) << key;
        EXPECT_EQ(got.refunds, expected.refunds) << key;
        EXPECT_EQ(got.purchase_days, expected.purchase_days) << key;
        EXPECT_EQ(got.first_day, expected.first_day) << key;
        EXPECT_EQ(got.last_day, expected.last_day) << key;
        EXPECT_EQ(bytes_of([&](StateWriter& w) { write_orders_state(w, *table.orders(customer)); }),
                  bytes_of([&](StateWriter& w) { write_orders_state(w, book); }))
            << key;
    }
}

TEST(RfmSummaryTable, SummaryStateIsRfmAggsStateByteForByte) {
    // What a stored state of the same rows would be (rfm_agg_state).
    std::mt19937_64 random(19);
    const std::vector<Row> rows = random_rows(random, 5000, 50, false);
    TestArena arena;
    RfmSummaryTable table;
    table.start(arena, CustomerKeyKind::integer, MoneyKind::exact_decimal, nullptr);
    add_all(table, rows);
    table.finish_days();
    auto reference = reference_of(arena, rows, MoneyKind::exact_decimal);
    for (auto& entry : reference) {
        Reference& ref = entry.second;
        if (!ref.has_summary)
            continue;
        OrderSummaryState state = table.summary_state(customer_of(table, entry.first));
        EXPECT_EQ(bytes_of([&](StateWriter& w) { write_summary_state(w, state, nullptr); }),
                  bytes_of([&](StateWriter& w) { write_summary_state(w, ref.state, nullptr); }))
            << entry.first;
    }
}

TEST(RfmSummaryTable, BytesKeysAreComparedByTheirBytes) {
    TestArena arena;
    RfmSummaryTable table;
    table.start(arena, CustomerKeyKind::bytes, MoneyKind::exact_decimal, nullptr);
    const std::vector<std::string> keys = {
        "", "a", "A", "a ", "ab", "ba", std::string("a\0b", 3), std::string(300, 'x')};
    std::vector<OrderRow> rows;
    for (int pass = 0; pass < 3; ++pass)
        for (const std::string& key : keys) {
            OrderRow row = order_row({0, 100 + pass, 100, 2, -1});
            row.key_bytes = reinterpret_cast<const std::uint8_t*>(key.data());
            row.key_length = static_cast<std::uint32_t>(key.size());
            rows.push_back(row);
        }
    std::uint32_t spilled[64];
    ASSERT_EQ(table.add_rows(rows.data(), static_cast<std::uint32_t>(rows.size()), spilled), 0u);
    table.finish_days();
    ASSERT_EQ(table.size(), keys.size());
    for (const std::string& key : keys) {
        const std::uint32_t customer =
            table.bytes_customer(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
        EXPECT_EQ(table.totals(customer).purchases, 3);
        EXPECT_EQ(table.day_count(customer), 3u);
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(table.extra(customer).key_bytes),
                              table.extra(customer).key_length),
                  key);
    }
    EXPECT_EQ(table.size(), keys.size());
}

TEST(RfmSummaryTable, GrowsWithoutMovingCustomers) {
    // 300,000 keys: the index doubles many times, entries stay put.
    TestArena arena;
    RfmSummaryTable table;
    table.start(arena, CustomerKeyKind::integer, MoneyKind::exact_decimal, nullptr);
    for (std::int64_t key = 0; key < 300000; ++key)
        ASSERT_EQ(table.integer_customer(key * 7919), static_cast<std::uint32_t>(key));
    for (std::int64_t key = 299999; key >= 0; key -= 997)
        ASSERT_EQ(table.integer_customer(key * 7919), static_cast<std::uint32_t>(key));
    EXPECT_EQ(table.size(), 300000u);
    const std::uint32_t null_one = table.null_customer();
    EXPECT_EQ(table.null_customer(), null_one);
    EXPECT_TRUE(table.null_key(null_one));
    table.finish_days();
    EXPECT_EQ(table.day_count(null_one), 0u);
}

TEST(RfmSummaryTable, OutOfMemoryIsBadAllocNotACrash) {
    // Every allocation in turn fails: each time the table reports
    // std::bad_alloc (the glue makes it SQLSTATE 53200), until enough
    // succeed for the whole input.
    std::mt19937_64 random(23);
    const std::vector<Row> rows = random_rows(random, 3000, 2000, false);
    std::size_t allowed = 0;
    for (;; ++allowed) {
        TestArena arena;
        arena.fail_after(allowed);
        RfmSummaryTable table;
        table.start(arena, CustomerKeyKind::integer, MoneyKind::exact_decimal, nullptr);
        try {
            add_all(table, rows);
            table.finish_days();
        } catch (const std::bad_alloc&) {
            continue;
        }
        break;
    }
    EXPECT_GT(allowed, 5u);
}

TEST(RfmSummaryTable, CountsBeyondBigintAreErrors) {
    TestArena arena;
    RfmSummaryTable table;
    table.start(arena, CustomerKeyKind::integer, MoneyKind::exact_decimal, nullptr);
    OrderRow row = order_row({5, 1, 100, 2, -1});
    std::uint32_t spilled[1];
    table.add_rows(&row, 1, spilled);
    table.totals(row.customer).purchases = INT64_MAX;
    try {
        table.add_rows(&row, 1, spilled);
        FAIL() << "expected an error";
    } catch (const Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::numeric_value_out_of_range);
    }
}

// ------------------------------------------------------------- partitions

TEST(CustomerPartition, SplitsKeysEvenlyAndAlwaysAlike) {
    for (std::uint32_t partitions : {2u, 3u, 5u}) {
        std::vector<std::size_t> counts(partitions);
        for (std::int64_t key = 1; key <= 300000; ++key) {
            OrderRow row = order_row({key, 1, 1, 0, -1});
            const std::uint32_t p = row_partition(row, CustomerKeyKind::integer, partitions);
            ASSERT_LT(p, partitions);
            ASSERT_EQ(p, partition_of(static_cast<std::uint64_t>(key), partitions));
            ++counts[p];
        }
        for (std::size_t count : counts)
            EXPECT_NEAR(double(count), 300000.0 / partitions, 300000.0 / partitions * 0.02) << partitions;
    }
    OrderRow null_row = order_row({-1, 1, 1, 0, -1});
    EXPECT_EQ(row_partition(null_row, CustomerKeyKind::integer, 3), 0u);
    const std::string key = "C-42";
    OrderRow text_row = order_row({0, 1, 1, 0, -1});
    text_row.key_bytes = reinterpret_cast<const std::uint8_t*>(key.data());
    text_row.key_length = static_cast<std::uint32_t>(key.size());
    EXPECT_EQ(row_partition(text_row, CustomerKeyKind::bytes, 4),
              partition_of(order_key_hash(text_row.key_bytes, text_row.key_length), 4));
}

// ------------------------------------------------------------ rows on the move

namespace {

void expect_round_trip(const RowFormat& format, OrderRow row, const std::string& wide = {}) {
    const auto* wide_bytes = reinterpret_cast<const std::uint8_t*>(wide.data());
    const auto wide_length = static_cast<std::uint32_t>(wide.size());
    std::vector<std::uint8_t> bytes(order_row_size(format, row, wide_length));
    write_order_row(format, row, wide_bytes, wide_length, bytes.data());
    OrderRow back{};
    const std::uint8_t* wide_back = nullptr;
    std::uint32_t wide_back_length = 0;
    ASSERT_EQ(read_order_row(format, bytes.data(), bytes.size(), &back, &wide_back, &wide_back_length), bytes.size());
    EXPECT_EQ(back.null_key, row.null_key);
    EXPECT_EQ(back.has_values, row.has_values);
    if (!row.null_key) {
        if (format.key_kind == CustomerKeyKind::integer) {
            EXPECT_EQ(back.key, row.key);
        } else {
            EXPECT_EQ(std::string(reinterpret_cast<const char*>(back.key_bytes), back.key_length),
                      std::string(reinterpret_cast<const char*>(row.key_bytes), row.key_length));
        }
    }
    if (row.has_values) {
        EXPECT_EQ(back.day, row.day);
        EXPECT_EQ(back.purchase, row.purchase);
        if (format.money == MoneyKind::binary_float) {
            EXPECT_EQ(std::memcmp(&back.float_amount, &row.float_amount, sizeof(double)), 0);
        } else if (row.fits) {
            EXPECT_TRUE(back.fits);
            EXPECT_TRUE(back.amount.mantissa == row.amount.mantissa);
            EXPECT_EQ(back.amount.scale, row.amount.scale);
        } else {
            EXPECT_FALSE(back.fits);
            EXPECT_EQ(std::string(reinterpret_cast<const char*>(wide_back), wide_back_length), wide);
        }
        if (format.orders) {
            EXPECT_EQ(back.has_order_key, row.has_order_key);
            if (row.has_order_key) {
                EXPECT_EQ(back.order_key, row.order_key);
            }
        }
    }
    // Every truncation is refused.
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        try {
            read_order_row(format, bytes.data(), cut, &back, &wide_back, &wide_back_length);
            ADD_FAILURE() << "a row cut at " << cut << " was accepted";
        } catch (const Error& error) {
            EXPECT_EQ(error.kind(), ErrorKind::invalid_binary_representation);
        }
    }
}

}  // namespace

TEST(OrderRowFormat, RoundTripsEveryKindOfRow) {
    const RowFormat integer_exact{CustomerKeyKind::integer, MoneyKind::exact_decimal, false};
    const RowFormat bytes_float{CustomerKeyKind::bytes, MoneyKind::binary_float, false};
    const RowFormat integer_orders{CustomerKeyKind::integer, MoneyKind::exact_decimal, true};
    OrderRow row = order_row({-123456789012345LL, -2451545, -12345, 2, 77});
    expect_round_trip(integer_exact, row);
    row.amount.mantissa = -(static_cast<int128>(1) << 126);
    row.amount.scale = 38;
    expect_round_trip(integer_exact, row);
    expect_round_trip(integer_orders, row);
    row.has_order_key = false;
    expect_round_trip(integer_orders, row);
    OrderRow wide = order_row({5, 9, 0, 0, -1});
    wide.fits = false;
    expect_round_trip(integer_exact, wide, std::string("\x10\x00\x00\x00numeric bytes", 17));
    OrderRow null_row = order_row({-1, kNoDay, 0, 0, -1});
    expect_round_trip(integer_exact, null_row);
    const std::string key = "customer \xe2\x82\xac";
    OrderRow text = order_row({0, 100, -250, 2, -1});
    text.key_bytes = reinterpret_cast<const std::uint8_t*>(key.data());
    text.key_length = static_cast<std::uint32_t>(key.size());
    text.float_amount = -0.0;
    expect_round_trip(bytes_float, text);
    text.float_amount = 1e308;
    expect_round_trip(bytes_float, text);
}

TEST(OrderRowFormat, RefusesAScaleBeyond38) {
    const RowFormat format{CustomerKeyKind::integer, MoneyKind::exact_decimal, false};
    OrderRow row = order_row({1, 1, 1, 38, -1});
    std::vector<std::uint8_t> bytes(order_row_size(format, row, 0));
    write_order_row(format, row, nullptr, 0, bytes.data());
    bytes.back() = 39;
    OrderRow back{};
    const std::uint8_t* wide = nullptr;
    std::uint32_t wide_length = 0;
    EXPECT_THROW(read_order_row(format, bytes.data(), bytes.size(), &back, &wide, &wide_length), Error);
}
