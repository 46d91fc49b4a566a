// rfm_summary: the per-customer order summary of rfm_agg (an aggregate
// state) and its serialized form, which rfm_agg_state keeps and
// rfm_state_merge and rfm_state_summary read back. With an order key the
// state is an order book instead (rfm_summary_orders.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "arena.hpp"
#include "decimal.hpp"
#include "error.hpp"

namespace customer_analytics {

// Distinct purchase days of one customer. Days are appended as they come and
// de-duplicated in batches (sort + unique) only when the unsorted tail has
// grown as large as the sorted part, so in-order input costs O(1) a row and
// any order costs O(log n) amortized. Memory stays under four times the
// number of distinct days.
// At most kMaxPurchaseDays distinct days (2,700 years of daily purchases;
// ErrorKind::program_limit_exceeded beyond), so a state stays under 16 MB.
// Compaction polls `interrupts`.
constexpr std::uint32_t kMaxPurchaseDays = 1000000;
struct DaySet {
    FlatArray<std::int32_t> days;
    std::uint32_t sorted_unique = 0;  // days[0, sorted_unique) is sorted and unique

    void add(const Arena& arena, std::int32_t day, const Interrupts& interrupts = Interrupts{});
    void merge(const Arena& arena, const DaySet& other, const Interrupts& interrupts = Interrupts{});
    void compact(const Interrupts& interrupts = Interrupts{});
    std::uint32_t distinct_count();  // compacts first
};

enum class MoneyKind : std::uint8_t { exact_decimal = 1, binary_float = 2 };

// The state of rfm_agg. Order rows with amount >= 0 are purchases; rows with
// amount < 0 are refunds: they reduce monetary (which is always the plain sum
// of every amount) but do not count as purchases and do not move the first or
// last order date.
struct OrderSummaryState {
    std::int32_t first_day = 0;  // valid when purchases > 0
    std::int32_t last_day = 0;
    std::int64_t purchases = 0;
    std::int64_t refunds = 0;
    MoneyKind money_kind = MoneyKind::exact_decimal;
    Decimal decimal_total;
    double float_total = 0.0;  // Neumaier-compensated sum for float8 input
    double float_compensation = 0.0;
    DaySet purchase_days;

    // Registers one order row's date; `is_purchase` is amount >= 0. Counts
    // beyond bigint raise numeric_value_out_of_range.
    void add_row_date(const Arena& arena, std::int32_t day, bool is_purchase,
                      const Interrupts& interrupts = Interrupts{});
    // Adds an exact amount; false if the total would not fit (sum unchanged).
    bool add_decimal(const Decimal& amount);
    void add_float(double amount);
    // Merges other into this. Returns false if the decimal totals could not be
    // added; then other's decimal_total is left for the caller to add (the
    // glue keeps totals beyond 128 bits in a PostgreSQL numeric). States of
    // numeric and float8 amounts cannot be merged (invalid_parameter_value);
    // counts beyond bigint raise numeric_value_out_of_range. Nothing changes
    // when it raises.
    bool merge(const Arena& arena, const OrderSummaryState& other, const Interrupts& interrupts = Interrupts{});
    double float_sum() const { return float_total + float_compensation; }
};

class StateWriter;

// Serialized summary (StateKind::rfm_summary, format 2): money kind,
// purchases, refunds, the distinct purchase days ascending (the first and
// last order are the first and last of them), then for exact totals the
// 128-bit mantissa, its scale and the arbitrary-precision remainder beyond
// 128 bits (overflow: the glue keeps it as a PostgreSQL numeric) as checked
// digits, or for float totals the sum and its compensation. Compacts the day
// set. A float total that is no longer finite cannot be written: it raises
// the same numeric_value_out_of_range as the summary would.
void write_summary_state(StateWriter& writer, OrderSummaryState& state, const LargeDecimal* overflow);
// What write_summary_state will write, in bytes (rfm_agg serializes once per
// group and worker, so it skips the measuring pass). Compacts the day set.
std::size_t summary_state_size(OrderSummaryState& state, const LargeDecimal* overflow);

// Reads a serialized summary: format 2, or a state written by 0.1.0 (first
// byte 1, native byte order, with the overflow total as the raw bytes of a
// PostgreSQL numeric, which is parsed as fields and never followed, detoasted
// or decompressed). Every field is checked (see the DETAIL messages) and any
// problem raises invalid_binary_representation. The day array and the
// overflow digits come from arena; *has_overflow says whether *overflow is set.
void read_summary_state(const Arena& arena, const std::uint8_t* bytes, std::size_t length, OrderSummaryState* out,
                        LargeDecimal* overflow, bool* has_overflow);

}  // namespace customer_analytics
