#include "customer_table.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>

#include "error.hpp"
#include "state_format.hpp"

namespace customer_analytics {

namespace {

[[noreturn]] void count_out_of_range() {
    throw Error(ErrorKind::numeric_value_out_of_range, "order count out of range for type bigint");
}

// OrderSummaryState::add_float's arithmetic (Neumaier), on the entry's
// fields, so the bulk path and rfm_agg round alike.
inline void compensated_add(double* total, double* compensation, double amount) {
    const double sum = *total + amount;
    if (std::fabs(*total) >= std::fabs(amount))
        *compensation += (*total - sum) + amount;
    else
        *compensation += (amount - sum) + *total;
    *total = sum;
}

inline bool add_exact(CustomerTotals& totals, const Decimal& amount) {
    Decimal sum;
    sum.mantissa = totals.money.mantissa;
    sum.scale = totals.scale;
    if (!decimal_add(&sum, amount))
        return false;
    totals.money.mantissa = sum.mantissa;
    totals.scale = sum.scale;
    return true;
}

constexpr std::size_t kCacheLine = 64;

}  // namespace

void CustomerTable::start(const Arena& arena, CustomerKeyKind kind, MoneyKind money, const OrderBook* book_like) {
    *this = CustomerTable();
    arena_ = arena;
    key_kind_ = kind;
    money_kind_ = money;
    orders_mode_ = book_like != nullptr;
    if (book_like != nullptr) {
        book_like_ = OrderBook();
        book_like_.money_kind = book_like->money_kind;
        book_like_.key_kind = book_like->key_kind;
        book_like_.has_minimum = book_like->has_minimum;
        book_like_.decimal_minimum = book_like->decimal_minimum;
        book_like_.float_minimum = book_like->float_minimum;
        money_kind_ = book_like->money_kind;
    }
}

void* CustomerTable::grow(void* old, std::size_t old_bytes, std::size_t new_bytes) {
    void* fresh = arena_.allocate_or_throw(new_bytes);
    if (old != nullptr) {
        std::memcpy(fresh, old, old_bytes);
        if (arena_.release != nullptr)
            arena_.release(arena_.context, old);
    }
    return fresh;
}

std::uint32_t CustomerTable::new_customer() {
    if (size_ == UINT32_MAX - 1)
        throw Error(ErrorKind::numeric_value_out_of_range, "too many customers for one summary table");
    const std::uint32_t chunk = size_ >> kChunkBits;
    if (chunk == chunk_count_) {
        if (chunk_count_ == chunk_capacity_) {
            const std::uint32_t capacity = chunk_capacity_ == 0 ? 16 : chunk_capacity_ * 2;
            totals_ = static_cast<CustomerTotals**>(
                grow(totals_, sizeof(CustomerTotals*) * chunk_count_, sizeof(CustomerTotals*) * capacity));
            extras_ = static_cast<CustomerExtra**>(
                grow(extras_, sizeof(CustomerExtra*) * chunk_count_, sizeof(CustomerExtra*) * capacity));
            chunk_capacity_ = capacity;
        }
        // Arena memory is only 8-byte aligned: a chunk of totals is placed
        // on a cache line boundary by hand.
        auto* raw = static_cast<std::uint8_t*>(arena_.allocate_or_throw(sizeof(CustomerTotals) * kChunkSize + kCacheLine));
        const auto misalignment = reinterpret_cast<std::uintptr_t>(raw) % kCacheLine;
        totals_[chunk_count_] = reinterpret_cast<CustomerTotals*>(raw + (misalignment == 0 ? 0 : kCacheLine - misalignment));
        extras_[chunk_count_] =
            static_cast<CustomerExtra*>(arena_.allocate_or_throw(sizeof(CustomerExtra) * kChunkSize));
        ++chunk_count_;
    }
    const std::uint32_t customer = size_++;
    std::memset(static_cast<void*>(&totals(customer)), 0, sizeof(CustomerTotals));
    std::memset(static_cast<void*>(&extra(customer)), 0, sizeof(CustomerExtra));
    return customer;
}

void CustomerTable::grow_index() {
    const std::uint64_t count = slot_count_ == 0 ? kMinSlots : slot_count_ * 2;
    if (count > (std::uint64_t(1) << 33))
        throw std::bad_alloc();
    auto* grown = static_cast<Slot*>(arena_.allocate_or_throw(sizeof(Slot) * count));
    std::memset(static_cast<void*>(grown), 0, sizeof(Slot) * count);
    const std::uint64_t mask = count - 1;
    for (std::uint64_t i = 0; i < slot_count_; ++i) {
        const Slot& slot = slots_[i];
        if (slot.index == 0)
            continue;
        std::uint64_t position = mix(slot.tag) & mask;
        while (grown[position].index != 0)
            position = (position + 1) & mask;
        grown[position] = slot;
    }
    if (slots_ != nullptr && arena_.release != nullptr)
        arena_.release(arena_.context, slots_);
    slots_ = grown;
    slot_count_ = count;
    mask_ = mask;
}

std::uint32_t CustomerTable::find_or_insert(std::uint64_t tag, std::uint64_t position, const std::uint8_t* bytes,
                                            std::size_t length) {
    if (slots_ != nullptr) {
        for (position &= mask_;; position = (position + 1) & mask_) {
            const Slot& slot = slots_[position];
            if (slot.index == 0)
                break;
            if (slot.tag != tag)
                continue;
            if (key_kind_ == CustomerKeyKind::integer)
                return slot.index - 1;
            const CustomerExtra& found = extra(slot.index - 1);
            if (found.key_length == length && (length == 0 || std::memcmp(found.key_bytes, bytes, length) == 0))
                return slot.index - 1;
        }
    }
    // At most 11/16 of the slots in use keeps linear probes short.
    if ((std::uint64_t(size_) + 1) * 16 > slot_count_ * 11)
        grow_index();
    std::uint8_t* copy = nullptr;
    if (key_kind_ == CustomerKeyKind::bytes) {
        if (length > UINT32_MAX)
            throw std::bad_alloc();
        copy = static_cast<std::uint8_t*>(arena_.allocate_or_throw(length));
        if (length != 0)
            std::memcpy(copy, bytes, length);
    }
    const std::uint32_t customer = new_customer();
    totals(customer).tag = tag;
    extra(customer).key_bytes = copy;
    extra(customer).key_length = static_cast<std::uint32_t>(length);
    position = mix(tag) & mask_;
    while (slots_[position].index != 0)
        position = (position + 1) & mask_;
    slots_[position].tag = tag;
    slots_[position].index = customer + 1;
    return customer;
}

std::uint32_t CustomerTable::integer_customer(std::int64_t key) {
    const auto tag = static_cast<std::uint64_t>(key);
    return find_or_insert(tag, mix(tag), nullptr, 0);
}

std::uint32_t CustomerTable::bytes_customer(const std::uint8_t* bytes, std::size_t length) {
    const std::uint64_t tag = order_key_hash(bytes, length);
    return find_or_insert(tag, mix(tag), bytes, length);
}

std::uint32_t CustomerTable::null_customer() {
    if (null_index_ >= 0)
        return static_cast<std::uint32_t>(null_index_);
    const std::uint32_t customer = new_customer();
    totals(customer).flags |= kNullKey;
    null_index_ = customer;
    return customer;
}

void CustomerTable::log_day(std::uint32_t customer, std::int32_t day) {
    CustomerTotals& entry = totals(customer);
    if ((entry.flags & kLogged) != 0 && entry.last_logged_day == day)
        return;
    entry.flags |= kLogged;
    entry.last_logged_day = day;
    if (log_size_ == log_capacity_) {
        const std::uint64_t capacity = log_capacity_ == 0 ? 4096 : log_capacity_ * 2;
        log_ = static_cast<DayMark*>(grow(log_, sizeof(DayMark) * log_size_, sizeof(DayMark) * capacity));
        log_capacity_ = capacity;
    }
    log_[log_size_++] = DayMark{customer, day};
}

OrderBook* CustomerTable::orders(std::uint32_t customer) {
    CustomerExtra& cold = extra(customer);
    if (cold.orders == nullptr) {
        auto* book = static_cast<OrderBook*>(arena_.allocate_or_throw(sizeof(OrderBook)));
        new (book) OrderBook();
        book->money_kind = book_like_.money_kind;
        book->key_kind = book_like_.key_kind;
        book->has_minimum = book_like_.has_minimum;
        book->decimal_minimum = book_like_.decimal_minimum;
        book->float_minimum = book_like_.float_minimum;
        cold.orders = book;
    }
    return cold.orders;
}

std::uint32_t CustomerTable::add_rows(OrderRow* rows, std::uint32_t count, std::uint32_t* spilled) {
    // Stage 1: hash every key and prefetch its slot.
    for (std::uint32_t i = 0; i < count; ++i) {
        OrderRow& row = rows[i];
        if (row.null_key)
            continue;
        if (key_kind_ == CustomerKeyKind::bytes)
            row.key = order_key_hash(row.key_bytes, row.key_length);
        const std::uint64_t position = mix(row.key);
        row.position = static_cast<std::uint32_t>(position);
        if (slots_ != nullptr)
            __builtin_prefetch(&slots_[position & mask_], 0, 3);
    }
    // Stage 2: find (or create) every customer and prefetch its totals. The
    // position may be stale if the index grew; find_or_insert re-masks it.
    for (std::uint32_t i = 0; i < count; ++i) {
        OrderRow& row = rows[i];
        if (row.null_key)
            row.customer = null_customer();
        else
            row.customer = find_or_insert(row.key, mix(row.key), row.key_bytes, row.key_length);
        __builtin_prefetch(&totals(row.customer), 1, 3);
    }
    // Stage 3: rfm_agg's transition, row by row.
    std::uint32_t spilled_count = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
        const OrderRow& row = rows[i];
        if (!row.has_values)
            continue;
        CustomerTotals& entry = totals(row.customer);
        entry.flags |= kHasSummary;
        if (orders_mode_) {
            OrderBook* book = orders(row.customer);
            if (money_kind_ == MoneyKind::exact_decimal)
                book->add_decimal(arena_, row.has_order_key, row.order_key, row.day, row.amount);
            else
                book->add_float(arena_, row.has_order_key, row.order_key, row.day, row.float_amount);
            continue;
        }
        if (money_kind_ == MoneyKind::exact_decimal) {
            if (!row.fits || !add_exact(entry, row.amount))
                spilled[spilled_count++] = i;
        } else {
            compensated_add(&entry.money.binary[0], &entry.money.binary[1], row.float_amount);
        }
        if (!row.purchase) {
            if (entry.refunds == INT64_MAX)
                count_out_of_range();
            ++entry.refunds;
            continue;
        }
        if (entry.purchases == INT64_MAX)
            count_out_of_range();
        if (entry.purchases == 0) {
            entry.first_day = entry.last_day = row.day;
        } else {
            entry.first_day = std::min(entry.first_day, row.day);
            entry.last_day = std::max(entry.last_day, row.day);
        }
        ++entry.purchases;
        log_day(row.customer, row.day);
    }
    return spilled_count;
}

bool merge_totals(CustomerTotals* into, const CustomerTotals& other, MoneyKind money) {
    CustomerTotals& entry = *into;
    std::int64_t purchases, refunds;
    if (__builtin_add_overflow(entry.purchases, other.purchases, &purchases) ||
        __builtin_add_overflow(entry.refunds, other.refunds, &refunds))
        count_out_of_range();
    if (other.purchases > 0) {
        if (entry.purchases == 0) {
            entry.first_day = other.first_day;
            entry.last_day = other.last_day;
        } else {
            entry.first_day = std::min(entry.first_day, other.first_day);
            entry.last_day = std::max(entry.last_day, other.last_day);
        }
    }
    entry.purchases = purchases;
    entry.refunds = refunds;
    entry.flags |= CustomerTable::kHasSummary;
    if (money == MoneyKind::binary_float) {
        // As OrderSummaryState::merge: the other's sum, then its compensation.
        compensated_add(&entry.money.binary[0], &entry.money.binary[1], other.money.binary[0]);
        compensated_add(&entry.money.binary[0], &entry.money.binary[1], other.money.binary[1]);
        return true;
    }
    Decimal amount;
    amount.mantissa = other.money.mantissa;
    amount.scale = other.scale;
    return add_exact(entry, amount);
}

std::uint64_t distinct_days_of(const std::int32_t* const* lists, const std::uint32_t* counts, int list_count) {
    if (list_count == 1)
        return counts[0];
    // A k-way merge of a handful of short lists.
    constexpr int kMaxLists = 64;
    std::uint32_t at[kMaxLists] = {0};
    if (list_count > kMaxLists)
        throw Error(ErrorKind::internal_error, "too many day lists to merge");
    std::uint64_t distinct = 0;
    for (;;) {
        int best = -1;
        for (int i = 0; i < list_count; ++i)
            if (at[i] < counts[i] && (best < 0 || lists[i][at[i]] < lists[best][at[best]]))
                best = i;
        if (best < 0)
            return distinct;
        const std::int32_t day = lists[best][at[best]];
        ++distinct;
        for (int i = 0; i < list_count; ++i)
            if (at[i] < counts[i] && lists[i][at[i]] == day)
                ++at[i];
    }
}

void CustomerTable::finish_days() {
    // A counting sort by customer: the starts, then each day in its place.
    auto* starts = static_cast<std::uint32_t*>(arena_.allocate_or_throw(sizeof(std::uint32_t) * (std::uint64_t(size_) + 1)));
    std::memset(starts, 0, sizeof(std::uint32_t) * (std::uint64_t(size_) + 1));
    if (log_size_ > UINT32_MAX)
        throw std::bad_alloc();
    for (std::uint64_t i = 0; i < log_size_; ++i)
        ++starts[log_[i].customer + 1];
    for (std::uint32_t c = 0; c < size_; ++c)
        starts[c + 1] += starts[c];
    auto* days = static_cast<std::int32_t*>(arena_.allocate_or_throw(sizeof(std::int32_t) * (log_size_ + 1)));
    // starts[c] is used as customer c's cursor, and ends as customer c+1's start.
    for (std::uint64_t i = 0; i < log_size_; ++i)
        days[starts[log_[i].customer]++] = log_[i].day;
    if (log_ != nullptr && arena_.release != nullptr)
        arena_.release(arena_.context, log_);
    log_ = nullptr;
    log_size_ = log_capacity_ = 0;
    // Shift the ends back to starts; sort and de-duplicate each customer's
    // days in place, compacting the whole array as it goes.
    std::uint32_t write = 0;
    std::uint32_t begin = 0;
    for (std::uint32_t c = 0; c < size_; ++c) {
        const std::uint32_t end = starts[c];
        std::int32_t* first = days + begin;
        std::int32_t* last = days + end;
        if (!std::is_sorted(first, last))
            std::sort(first, last);
        const std::uint32_t unique = static_cast<std::uint32_t>(std::unique(first, last) - first);
        if (write != begin)
            std::memmove(days + write, first, sizeof(std::int32_t) * unique);
        starts[c] = write;
        write += unique;
        begin = end;
    }
    starts[size_] = write;
    day_starts_ = starts;
    finished_days_ = days;
}

OrderSummaryState CustomerTable::summary_state(std::uint32_t customer) {
    const CustomerTotals& entry = totals(customer);
    OrderSummaryState state;
    state.money_kind = money_kind_;
    state.purchases = entry.purchases;
    state.refunds = entry.refunds;
    state.first_day = entry.first_day;
    state.last_day = entry.last_day;
    if (money_kind_ == MoneyKind::exact_decimal) {
        state.decimal_total.mantissa = entry.money.mantissa;
        state.decimal_total.scale = entry.scale;
    } else {
        state.float_total = entry.money.binary[0];
        state.float_compensation = entry.money.binary[1];
    }
    // The day array is the table's (read only): sorted and unique.
    state.purchase_days.days.data = finished_days_ + day_start(customer);
    state.purchase_days.days.size = day_count(customer);
    state.purchase_days.days.capacity = state.purchase_days.days.size;
    state.purchase_days.sorted_unique = state.purchase_days.days.size;
    return state;
}

// ------------------------------------------------------------ merge order

int compare_customer_keys(const CustomerKey& a, const CustomerKey& b) {
    if (a.null_key || b.null_key)
        return a.null_key == b.null_key ? 0 : (a.null_key ? -1 : 1);
    if (a.order != b.order)
        return a.order < b.order ? -1 : 1;
    if (a.length != b.length)
        return a.length < b.length ? -1 : 1;
    if (a.length == 0)
        return 0;
    const int bytes = std::memcmp(a.bytes, b.bytes, a.length);
    return bytes < 0 ? -1 : (bytes > 0 ? 1 : 0);
}

CustomerKey customer_key(CustomerTable& table, std::uint32_t customer) {
    const CustomerTotals& entry = table.totals(customer);
    const CustomerExtra& cold = table.extra(customer);
    CustomerKey key;
    key.null_key = (entry.flags & CustomerTable::kNullKey) != 0;
    key.order = customer_order_of(entry.tag);
    key.bytes = cold.key_bytes;
    key.length = cold.key_length;
    return key;
}

MergeItem* customers_in_merge_order(CustomerTable& table) {
    const std::uint32_t size = table.size();
    auto* items = static_cast<MergeItem*>(table.arena().allocate_or_throw(sizeof(MergeItem) * (std::uint64_t(size) + 1)));
    for (std::uint32_t i = 0; i < size; ++i)
        items[i] = MergeItem{customer_order_of(table.totals(i).tag), i, table.null_key(i)};
    std::sort(items, items + size, [&table](const MergeItem& a, const MergeItem& b) {
        if (a.null_key != b.null_key)
            return a.null_key;
        if (a.order != b.order)
            return a.order < b.order;
        return compare_customer_keys(customer_key(table, a.customer), customer_key(table, b.customer)) < 0;
    });
    return items;
}

// ---------------------------------------------------------------- records

namespace {

constexpr std::uint8_t kRecordNullKey = 1;
constexpr std::uint8_t kRecordHasSummary = 2;
constexpr std::uint8_t kRecordOrderBook = 4;
constexpr std::uint8_t kRecordOverflow = 8;
constexpr std::uint8_t kRecordFloat = 16;

[[noreturn]] void corrupt_record(const char* detail) { invalid_state(StateKind::rfm_summary, detail); }

class RecordReader {
public:
    RecordReader(const std::uint8_t* bytes, std::size_t length) : bytes_(bytes), length_(length) {}
    const std::uint8_t* take(std::size_t size) {
        if (length_ - pos_ < size)
            corrupt_record("A customer record is truncated.");
        const std::uint8_t* at = bytes_ + pos_;
        pos_ += size;
        return at;
    }
    template <typename T>
    T get() {
        return state_bytes::load<T>(take(sizeof(T)));
    }
    bool done() const { return pos_ == length_; }

private:
    const std::uint8_t* bytes_;
    std::size_t length_;
    std::size_t pos_ = 0;
};

}  // namespace

void write_customer_record(StateWriter& writer, CustomerTable& table, std::uint32_t customer,
                           const LargeDecimal* overflow) {
    const CustomerTotals& entry = table.totals(customer);
    const CustomerExtra& cold = table.extra(customer);
    const bool has_summary = (entry.flags & CustomerTable::kHasSummary) != 0;
    const bool null_key = (entry.flags & CustomerTable::kNullKey) != 0;
    std::uint8_t flags = 0;
    if (null_key)
        flags |= kRecordNullKey;
    if (has_summary)
        flags |= kRecordHasSummary;
    if (has_summary && table.orders_mode())
        flags |= kRecordOrderBook;
    if (has_summary && !table.orders_mode() && overflow != nullptr)
        flags |= kRecordOverflow;
    if (table.money_kind() == MoneyKind::binary_float)
        flags |= kRecordFloat;
    writer.u8(flags);
    if (!null_key) {
        if (table.key_kind() == CustomerKeyKind::integer) {
            writer.u64(entry.tag);
        } else {
            writer.u32(cold.key_length);
            writer.bytes(cold.key_bytes, cold.key_length);
        }
    }
    if (!has_summary)
        return;
    if (table.orders_mode()) {
        StateWriter measure;
        write_orders_state(measure, *cold.orders);
        writer.u32(static_cast<std::uint32_t>(measure.size()));
        write_orders_state(writer, *cold.orders);
        return;
    }
    writer.i32(entry.first_day);
    writer.i32(entry.last_day);
    writer.i64(entry.purchases);
    writer.i64(entry.refunds);
    if (table.money_kind() == MoneyKind::exact_decimal) {
        writer.i128(entry.money.mantissa);
        writer.i32(entry.scale);
    } else {
        writer.f64(entry.money.binary[0]);
        writer.f64(entry.money.binary[1]);
    }
    writer.u32(table.day_count(customer));
    writer.i32_array(table.days(customer), table.day_count(customer));
    if (overflow != nullptr) {
        writer.boolean(overflow->negative);
        writer.i32(overflow->weight);
        writer.i32(overflow->display_scale);
        writer.u32(overflow->count);
        for (std::uint32_t i = 0; i < overflow->count; ++i)
            writer.u16(static_cast<std::uint16_t>(overflow->digits[i]));
    }
}

void read_customer_record(const Arena& arena, CustomerKeyKind kind, const std::uint8_t* bytes, std::size_t length,
                          CustomerRecord* out) {
    *out = CustomerRecord();
    RecordReader reader(bytes, length);
    const auto flags = reader.get<std::uint8_t>();
    if ((flags & ~(kRecordNullKey | kRecordHasSummary | kRecordOrderBook | kRecordOverflow | kRecordFloat)) != 0)
        corrupt_record("A customer record has unknown flags.");
    out->null_key = (flags & kRecordNullKey) != 0;
    out->has_summary = (flags & kRecordHasSummary) != 0;
    out->is_orders = (flags & kRecordOrderBook) != 0;
    out->has_overflow = (flags & kRecordOverflow) != 0;
    out->money = (flags & kRecordFloat) != 0 ? MoneyKind::binary_float : MoneyKind::exact_decimal;
    if (!out->null_key) {
        if (kind == CustomerKeyKind::integer) {
            out->integer_key = static_cast<std::int64_t>(reader.get<std::uint64_t>());
            out->tag = static_cast<std::uint64_t>(out->integer_key);
        } else {
            out->key_length = reader.get<std::uint32_t>();
            out->key_bytes = reader.take(out->key_length);
            out->tag = order_key_hash(out->key_bytes, out->key_length);
        }
    }
    if (out->has_summary && out->is_orders) {
        const auto size = reader.get<std::uint32_t>();
        read_orders_state(arena, reader.take(size), size, &out->orders);
    } else if (out->has_summary) {
        CustomerTotals& totals = out->totals;
        totals.first_day = reader.get<std::int32_t>();
        totals.last_day = reader.get<std::int32_t>();
        totals.purchases = reader.get<std::int64_t>();
        totals.refunds = reader.get<std::int64_t>();
        if (out->money == MoneyKind::exact_decimal) {
            const auto low = reader.get<std::uint64_t>();
            const auto high = reader.get<std::uint64_t>();
            totals.money.mantissa = static_cast<int128>((static_cast<unsigned __int128>(high) << 64) | low);
            totals.scale = reader.get<std::int32_t>();
            if (totals.scale < 0 || totals.scale > kMaxDecimalScale)
                corrupt_record("The scale of a customer's total is out of range.");
        } else {
            std::uint64_t bits = reader.get<std::uint64_t>();
            std::memcpy(&totals.money.binary[0], &bits, sizeof bits);
            bits = reader.get<std::uint64_t>();
            std::memcpy(&totals.money.binary[1], &bits, sizeof bits);
        }
        if (totals.purchases < 0 || totals.refunds < 0)
            corrupt_record("A customer record has a negative count.");
        out->day_count = reader.get<std::uint32_t>();
        if (out->day_count > static_cast<std::uint64_t>(totals.purchases) || (totals.purchases > 0) != (out->day_count > 0))
            corrupt_record("The purchase days of a customer record do not match its purchases.");
        const std::uint8_t* days = reader.take(sizeof(std::int32_t) * std::size_t(out->day_count));
        auto* native = static_cast<std::int32_t*>(arena.allocate_or_throw(sizeof(std::int32_t) * (std::size_t(out->day_count) + 1)));
        for (std::uint32_t i = 0; i < out->day_count; ++i) {
            native[i] = state_bytes::load<std::int32_t>(days + sizeof(std::int32_t) * i);
            if (!valid_day(native[i]) || (i > 0 && native[i] <= native[i - 1]))
                corrupt_record("The purchase days of a customer record are not ascending dates.");
        }
        out->days = native;
        if (out->has_overflow) {
            LargeDecimal& value = out->overflow;
            value.negative = reader.get<std::uint8_t>() != 0;
            value.weight = reader.get<std::int32_t>();
            value.display_scale = reader.get<std::int32_t>();
            value.count = reader.get<std::uint32_t>();
            if (value.count > kLargeDecimalMaxDigits)
                corrupt_record("The overflow total of a customer record has too many digits.");
            auto* digits = static_cast<std::int16_t*>(arena.allocate_or_throw(sizeof(std::int16_t) * (value.count + 1)));
            for (std::uint32_t i = 0; i < value.count; ++i)
                digits[i] = static_cast<std::int16_t>(reader.get<std::uint16_t>());
            value.digits = digits;
            if (const char* problem = large_decimal_problem(value))
                corrupt_record(problem);
        }
    }
    if (!reader.done())
        corrupt_record("A customer record has trailing bytes.");
}

CustomerKey record_key(const CustomerRecord& record) {
    CustomerKey key;
    key.null_key = record.null_key;
    key.order = customer_order_of(record.tag);
    key.bytes = record.key_bytes;
    key.length = record.key_length;
    return key;
}

}  // namespace customer_analytics
