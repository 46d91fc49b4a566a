// Per-customer RFM summaries of a whole table, for the bulk path
// (rfm_summaries): a hash table from customer keys to the totals rfm_agg
// keeps per group, built from batches of rows (in parallel, each process
// holds the customers of one hash partition; see partition_of).
// Like every aggregate state it is plain data in arena memory with no
// destructor, so the glue can hold it across PostgreSQL calls that raise
// errors; the memory context frees it.
//
// The same answers as rfm_agg: every row is counted by rfm_agg's rules
// (OrderSummaryState::add_row_date, add_decimal, add_float), and
// with an order key each customer keeps rfm_agg's own order book. What
// differs is only where things live, because a scan touches a random
// customer on every row and the time goes into cache misses:
//
//   - an open addressing index of 16-byte slots (an integer key lives in
//     its slot, so a probe compares keys without touching the entry);
//   - the totals every row updates in one 64-byte entry, stored densely in
//     fixed-size chunks (entries never move; growing copies the index);
//   - rows come in batches, and the slots, then the entries, of a whole
//     batch are prefetched before any is touched;
//   - purchase days go to one log per table, (customer, day) appended in
//     scan order, instead of an array per customer; finish_days() sorts the
//     log by customer (a counting sort) and leaves each customer's distinct
//     days, ascending.
#pragma once

#include <cstddef>
#include <cstdint>

#include "arena.hpp"
#include "decimal.hpp"
#include "rfm_summary.hpp"
#include "rfm_summary_orders.hpp"

namespace customer_analytics {

enum class CustomerKeyKind : std::uint8_t {
    integer = 1,  // smallint, integer, bigint: the value
    bytes = 2,    // text, varchar, uuid: the bytes (equal keys have equal bytes)
};

// A tag mixed so that every bit of it reaches the low bits (which pick an
// index slot) and the high bits (which pick a partition); a bijection, so
// distinct integer keys never collide.
inline std::uint64_t mixed_tag(std::uint64_t h) {
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    return h;
}

// The totals of one customer (rfm_agg's OrderSummaryState without its day
// set): one cache line (the table aligns its chunks to cache lines; the type
// itself asks for no more than 8 bytes, as PostgreSQL memory gives).
struct CustomerTotals {
    std::uint64_t tag;  // an integer key's bits, or the hash of the key's bytes
    std::int32_t first_day;
    std::int32_t last_day;
    std::int64_t purchases;
    std::int64_t refunds;
    union {
        stored_int128 mantissa;  // exact amounts: total = mantissa * 10^-scale
        double binary[2];        // float8 amounts: compensated sum and compensation
    } money;
    std::int32_t scale;
    std::int32_t last_logged_day;  // the day last written to the log for this customer
    std::uint8_t flags;
    std::uint8_t unused[7];
};
static_assert(sizeof(CustomerTotals) == 64, "one cache line a customer");

// What a customer needs besides its totals, touched rarely.
struct CustomerExtra {
    const std::uint8_t* key_bytes;  // bytes keys: the arena's copy
    std::uint32_t key_length;
    void* overflow;     // the glue's: the money total beyond 128 bits, or nullptr
    OrderBook* orders;  // with an order key: rfm_agg's order book, or nullptr
};

// One row as the glue decoded it.
struct OrderRow {
    // In: the customer.
    std::uint64_t key;              // integer keys: the value's bits
    const std::uint8_t* key_bytes;  // bytes keys: valid for the call
    std::uint32_t key_length;
    bool null_key;
    // In: the row. Without a date or an amount only the customer's group
    // exists (its summary stays NULL until a full row comes).
    bool has_values;
    bool purchase;       // rows mode: amount >= 0
    bool fits;           // exact amounts: the amount fit a Decimal
    bool has_order_key;  // orders mode
    std::int32_t day;
    std::uint64_t order_key;
    Decimal amount;
    double float_amount;
    // Out: the customer's index.
    std::uint32_t customer;
};

class RfmSummaryTable {
public:
    // An empty table; every allocation comes from arena (whose release
    // function, if any, gets the blocks the table outgrows). Without a book
    // (rows mode) each customer keeps rfm_agg's row totals; with one, an
    // order book like it (its money kind, key kind and minimum).
    void start(const Arena& arena, CustomerKeyKind kind, MoneyKind money, const OrderBook* book_like);

    // Adds rows[0, count). In rows mode with exact amounts, a row whose
    // amount did not fit a Decimal, or did not fit the customer's 128-bit
    // total, is left for the glue, which continues that customer's total in
    // arbitrary precision: its position goes to spilled[], and the count is
    // returned. Raises what rfm_agg raises (counts beyond bigint; with an
    // order key, nets beyond 38 digits); rows before the failing one may
    // have been added.
    std::uint32_t add_rows(OrderRow* rows, std::uint32_t count, std::uint32_t* spilled);

    // The customer of a key, created when new (a NULL key's is one more).
    std::uint32_t integer_customer(std::int64_t key);
    std::uint32_t bytes_customer(const std::uint8_t* bytes, std::size_t length);
    std::uint32_t null_customer();

    // The customer's order book, created like the table's when missing.
    OrderBook* orders(std::uint32_t customer);

    // Sorts the day log into each customer's distinct days. Call once every
    // row is in; afterwards only reads.
    void finish_days();
    // After finish_days: customer's distinct purchase days, ascending.
    std::uint32_t day_count(std::uint32_t customer) const { return day_end(customer) - day_start(customer); }
    const std::int32_t* days(std::uint32_t customer) const { return finished_days_ + day_start(customer); }

    std::uint32_t size() const { return size_; }
    CustomerTotals& totals(std::uint32_t customer) { return totals_[customer >> kChunkBits][customer & kChunkMask]; }
    CustomerExtra& extra(std::uint32_t customer) { return extras_[customer >> kChunkBits][customer & kChunkMask]; }
    bool has_summary(std::uint32_t customer) { return (totals(customer).flags & kHasSummary) != 0; }
    bool null_key(std::uint32_t customer) { return (totals(customer).flags & kNullKey) != 0; }
    CustomerKeyKind key_kind() const { return key_kind_; }
    MoneyKind money_kind() const { return money_kind_; }
    bool orders_mode() const { return orders_mode_; }
    const Arena& arena() const { return arena_; }
    // The totals of a customer as rfm_agg's state (its days from
    // finish_days, read only).
    OrderSummaryState summary_state(std::uint32_t customer);

    static constexpr std::uint8_t kHasSummary = 1;
    static constexpr std::uint8_t kNullKey = 2;
    static constexpr std::uint8_t kLogged = 4;
    static constexpr std::uint8_t kOverflow = 8;

    // The glue's total beyond 128 bits (nullptr: none); a flag in the totals
    // spares a walk over customers the cold entry.
    void* overflow(std::uint32_t customer) {
        return (totals(customer).flags & kOverflow) != 0 ? extra(customer).overflow : nullptr;
    }
    void set_overflow(std::uint32_t customer, void* value) {
        extra(customer).overflow = value;
        totals(customer).flags |= kOverflow;
    }

private:
    struct Slot {
        std::uint64_t tag;
        std::uint32_t index;  // entry index + 1; 0 for an empty slot
        std::uint32_t unused;
    };
    struct DayMark {
        std::uint32_t customer;
        std::int32_t day;
    };
    // The log grows by blocks (never copied; freed as finish_days sorts it).
    static constexpr std::uint32_t kDayBlockMarks = 8190;
    struct DayBlock {
        DayBlock* next;
        std::uint32_t size;
        DayMark marks[kDayBlockMarks];
    };
    static constexpr std::uint32_t kChunkBits = 10;
    static constexpr std::uint32_t kChunkSize = 1u << kChunkBits;
    static constexpr std::uint32_t kChunkMask = kChunkSize - 1;
    static constexpr std::uint64_t kMinSlots = 1024;

    static std::uint64_t mix(std::uint64_t tag) { return mixed_tag(tag); }

    std::uint32_t find_or_insert(std::uint64_t tag, std::uint64_t position, const std::uint8_t* bytes,
                                 std::size_t length);
    std::uint32_t new_customer();
    void grow_index();
    void log_day(std::uint32_t customer, std::int32_t day);
    std::uint32_t day_start(std::uint32_t customer) const { return day_starts_[customer]; }
    std::uint32_t day_end(std::uint32_t customer) const { return day_starts_[customer + 1]; }
    void* grow(void* old, std::size_t old_bytes, std::size_t new_bytes);

    Arena arena_;
    CustomerKeyKind key_kind_ = CustomerKeyKind::integer;
    MoneyKind money_kind_ = MoneyKind::exact_decimal;
    bool orders_mode_ = false;
    OrderBook book_like_;
    Slot* slots_ = nullptr;
    std::uint64_t mask_ = 0;
    std::uint64_t slot_count_ = 0;
    CustomerTotals** totals_ = nullptr;
    CustomerExtra** extras_ = nullptr;
    std::uint32_t chunk_count_ = 0;
    std::uint32_t chunk_capacity_ = 0;
    std::uint32_t size_ = 0;
    std::int64_t null_index_ = -1;
    DayBlock* log_head_ = nullptr;
    DayBlock* log_tail_ = nullptr;
    std::uint64_t log_size_ = 0;
    std::uint32_t* day_starts_ = nullptr;  // finish_days: customer i's days are [day_starts_[i], day_starts_[i+1])
    std::int32_t* finished_days_ = nullptr;
};

// Parallel scans split the customers among the processes by a hash
// partition: every row goes to the process that owns its customer, which
// then holds the customer's complete state (no partial states to merge).
// The high bits of the mixed tag pick the partition; the table's index uses
// the low ones. The NULL customer belongs to partition 0.
inline std::uint32_t partition_of(std::uint64_t tag, std::uint32_t partitions) {
    return static_cast<std::uint32_t>(((mixed_tag(tag) >> 32) * partitions) >> 32);
}
std::uint32_t row_partition(const OrderRow& row, CustomerKeyKind kind, std::uint32_t partitions);

// A decoded row on its way to its owner: little-endian fields, the key by
// value (integer) or length and bytes, and an amount that did not fit a
// Decimal as the bytes the glue gives (a numeric's), which stay inside the
// message. What a row needs depends on the table's kinds, which both sides
// know.
struct RowFormat {
    CustomerKeyKind key_kind;
    MoneyKind money;
    bool orders;
};
// Bytes write_order_row will write.
std::size_t order_row_size(const RowFormat& format, const OrderRow& row, std::uint32_t wide_length);
void write_order_row(const RowFormat& format, const OrderRow& row, const std::uint8_t* wide, std::uint32_t wide_length,
                     std::uint8_t* out);
// Reads one row from bytes[0, available); returns its size. Key bytes and
// wide amounts point into bytes. A malformed row raises
// invalid_binary_representation.
std::size_t read_order_row(const RowFormat& format, const std::uint8_t* bytes, std::size_t available, OrderRow* row,
                           const std::uint8_t** wide, std::uint32_t* wide_length);

}  // namespace customer_analytics
