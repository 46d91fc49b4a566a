#include "rfm_summaries.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>

#include "error.hpp"
#include "state_format.hpp"

#include "no_postgres.hpp"

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
    // Amounts of one column mostly share a scale: then a plain 128-bit add.
    if (totals.scale == amount.scale) {
        int128 sum;
        const int128 total = totals.money.mantissa;
        if (__builtin_add_overflow(total, static_cast<int128>(amount.mantissa), &sum))
            return false;
        totals.money.mantissa = sum;
        return true;
    }
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

void RfmSummaryTable::start(const Arena& arena, CustomerKeyKind kind, MoneyKind money, const OrderBook* book_like) {
    *this = RfmSummaryTable();
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

void* RfmSummaryTable::grow(void* old, std::size_t old_bytes, std::size_t new_bytes) {
    void* fresh = arena_.allocate_or_throw(new_bytes);
    if (old != nullptr) {
        std::memcpy(fresh, old, old_bytes);
        if (arena_.release != nullptr)
            arena_.release(arena_.context, old);
    }
    return fresh;
}

std::uint32_t RfmSummaryTable::new_customer() {
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
        auto* raw =
            static_cast<std::uint8_t*>(arena_.allocate_or_throw(sizeof(CustomerTotals) * kChunkSize + kCacheLine));
        const auto misalignment = reinterpret_cast<std::uintptr_t>(raw) % kCacheLine;
        const std::size_t skip = misalignment == 0 ? 0 : kCacheLine - misalignment;
        totals_[chunk_count_] = reinterpret_cast<CustomerTotals*>(raw + skip);
        extras_[chunk_count_] =
            static_cast<CustomerExtra*>(arena_.allocate_or_throw(sizeof(CustomerExtra) * kChunkSize));
        ++chunk_count_;
    }
    const std::uint32_t customer = size_++;
    std::memset(static_cast<void*>(&totals(customer)), 0, sizeof(CustomerTotals));
    std::memset(static_cast<void*>(&extra(customer)), 0, sizeof(CustomerExtra));
    return customer;
}

void RfmSummaryTable::grow_index() {
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

std::uint32_t RfmSummaryTable::find_or_insert(std::uint64_t tag, std::uint64_t position, const std::uint8_t* bytes,
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

std::uint32_t RfmSummaryTable::integer_customer(std::int64_t key) {
    const auto tag = static_cast<std::uint64_t>(key);
    return find_or_insert(tag, mix(tag), nullptr, 0);
}

std::uint32_t RfmSummaryTable::bytes_customer(const std::uint8_t* bytes, std::size_t length) {
    const std::uint64_t tag = order_key_hash(bytes, length);
    return find_or_insert(tag, mix(tag), bytes, length);
}

std::uint32_t RfmSummaryTable::null_customer() {
    if (null_index_ >= 0)
        return static_cast<std::uint32_t>(null_index_);
    const std::uint32_t customer = new_customer();
    totals(customer).flags |= kNullKey;
    null_index_ = customer;
    return customer;
}

void RfmSummaryTable::log_day(std::uint32_t customer, std::int32_t day) {
    CustomerTotals& entry = totals(customer);
    if ((entry.flags & kLogged) != 0 && entry.last_logged_day == day)
        return;
    entry.flags |= kLogged;
    entry.last_logged_day = day;
    if (log_tail_ == nullptr || log_tail_->size == kDayBlockMarks) {
        auto* block = static_cast<DayBlock*>(arena_.allocate_or_throw(sizeof(DayBlock)));
        block->next = nullptr;
        block->size = 0;
        if (log_tail_ == nullptr)
            log_head_ = block;
        else
            log_tail_->next = block;
        log_tail_ = block;
    }
    log_tail_->marks[log_tail_->size++] = DayMark{customer, day};
    ++log_size_;
}

OrderBook* RfmSummaryTable::orders(std::uint32_t customer) {
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

std::uint32_t RfmSummaryTable::add_rows(OrderRow* rows, std::uint32_t count, std::uint32_t* spilled) {
    // Stage 1: hash every key and prefetch its slot.
    for (std::uint32_t i = 0; i < count; ++i) {
        OrderRow& row = rows[i];
        if (row.null_key)
            continue;
        if (key_kind_ == CustomerKeyKind::bytes)
            row.key = order_key_hash(row.key_bytes, row.key_length);
        if (slots_ != nullptr)
            __builtin_prefetch(&slots_[mix(row.key) & mask_], 0, 3);
    }
    // Stage 2: find (or create) every customer and prefetch its totals.
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

void RfmSummaryTable::finish_days() {
    // A counting sort by customer: the starts, then each day in its place.
    auto* starts =
        static_cast<std::uint32_t*>(arena_.allocate_or_throw(sizeof(std::uint32_t) * (std::uint64_t(size_) + 1)));
    std::memset(starts, 0, sizeof(std::uint32_t) * (std::uint64_t(size_) + 1));
    if (log_size_ > UINT32_MAX)
        throw std::bad_alloc();
    for (const DayBlock* block = log_head_; block != nullptr; block = block->next)
        for (std::uint32_t i = 0; i < block->size; ++i)
            ++starts[block->marks[i].customer + 1];
    for (std::uint32_t c = 0; c < size_; ++c)
        starts[c + 1] += starts[c];
    auto* days = static_cast<std::int32_t*>(arena_.allocate_or_throw(sizeof(std::int32_t) * (log_size_ + 1)));
    // starts[c] is used as customer c's cursor, and ends as customer c+1's
    // start; each block of the log is freed once its days are placed.
    for (DayBlock* block = log_head_; block != nullptr;) {
        for (std::uint32_t i = 0; i < block->size; ++i)
            days[starts[block->marks[i].customer]++] = block->marks[i].day;
        DayBlock* next = block->next;
        if (arena_.release != nullptr)
            arena_.release(arena_.context, block);
        block = next;
    }
    log_head_ = log_tail_ = nullptr;
    log_size_ = 0;
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

OrderSummaryState RfmSummaryTable::summary_state(std::uint32_t customer) {
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

// ------------------------------------------------------------ rows on the move

std::uint32_t row_partition(const OrderRow& row, CustomerKeyKind kind, std::uint32_t partitions) {
    if (row.null_key || partitions <= 1)
        return 0;
    const std::uint64_t tag =
        kind == CustomerKeyKind::integer ? row.key : order_key_hash(row.key_bytes, row.key_length);
    return partition_of(tag, partitions);
}

namespace {

constexpr std::uint8_t kRowNullKey = 1;
constexpr std::uint8_t kRowHasValues = 2;
constexpr std::uint8_t kRowPurchase = 4;
constexpr std::uint8_t kRowWide = 8;
constexpr std::uint8_t kRowOrderKey = 16;

[[noreturn]] void corrupt_row() {
    invalid_state(StateKind::rfm_summary, "A row sent between the processes of a parallel scan is malformed.");
}

class RowWriter {
public:
    explicit RowWriter(std::uint8_t* out) : out_(out) {}
    template <typename T>
    void put(T value) {
        state_bytes::store(out_ + pos_, value);
        pos_ += sizeof(T);
    }
    void bytes(const std::uint8_t* data, std::size_t size) {
        if (size != 0)
            std::memcpy(out_ + pos_, data, size);
        pos_ += size;
    }

private:
    std::uint8_t* out_;
    std::size_t pos_ = 0;
};

class RowReader {
public:
    RowReader(const std::uint8_t* in, std::size_t available) : in_(in), available_(available) {}
    const std::uint8_t* take(std::size_t size) {
        if (available_ - pos_ < size)
            corrupt_row();
        const std::uint8_t* at = in_ + pos_;
        pos_ += size;
        return at;
    }
    template <typename T>
    T get() {
        return state_bytes::load<T>(take(sizeof(T)));
    }
    std::size_t position() const { return pos_; }

private:
    const std::uint8_t* in_;
    std::size_t available_;
    std::size_t pos_ = 0;
};

}  // namespace

std::size_t order_row_size(const RowFormat& format, const OrderRow& row, std::uint32_t wide_length) {
    std::size_t size = 1;
    if (!row.null_key)
        size += format.key_kind == CustomerKeyKind::integer ? 8 : 4 + std::size_t(row.key_length);
    if (!row.has_values)
        return size;
    size += 4;  // day
    if (format.money == MoneyKind::binary_float)
        size += 8;
    else if (row.fits)
        size += 16 + 1;
    else
        size += 4 + std::size_t(wide_length);
    if (format.orders && row.has_order_key)
        size += 8;
    return size;
}

void write_order_row(const RowFormat& format, const OrderRow& row, const std::uint8_t* wide, std::uint32_t wide_length,
                     std::uint8_t* out) {
    RowWriter writer(out);
    std::uint8_t flags = 0;
    if (row.null_key)
        flags |= kRowNullKey;
    if (row.has_values)
        flags |= kRowHasValues;
    if (row.has_values && row.purchase)
        flags |= kRowPurchase;
    if (row.has_values && format.money == MoneyKind::exact_decimal && !row.fits)
        flags |= kRowWide;
    if (row.has_values && format.orders && row.has_order_key)
        flags |= kRowOrderKey;
    writer.put<std::uint8_t>(flags);
    if (!row.null_key) {
        if (format.key_kind == CustomerKeyKind::integer) {
            writer.put<std::uint64_t>(row.key);
        } else {
            writer.put<std::uint32_t>(row.key_length);
            writer.bytes(row.key_bytes, row.key_length);
        }
    }
    if (!row.has_values)
        return;
    writer.put<std::uint32_t>(static_cast<std::uint32_t>(row.day));
    if (format.money == MoneyKind::binary_float) {
        std::uint64_t bits;
        std::memcpy(&bits, &row.float_amount, sizeof bits);
        writer.put<std::uint64_t>(bits);
    } else if (row.fits) {
        const auto mantissa = static_cast<unsigned __int128>(row.amount.mantissa);
        writer.put<std::uint64_t>(static_cast<std::uint64_t>(mantissa));
        writer.put<std::uint64_t>(static_cast<std::uint64_t>(mantissa >> 64));
        writer.put<std::uint8_t>(static_cast<std::uint8_t>(row.amount.scale));
    } else {
        writer.put<std::uint32_t>(wide_length);
        writer.bytes(wide, wide_length);
    }
    if (format.orders && row.has_order_key)
        writer.put<std::uint64_t>(row.order_key);
}

std::size_t read_order_row(const RowFormat& format, const std::uint8_t* bytes, std::size_t available, OrderRow* row,
                           const std::uint8_t** wide, std::uint32_t* wide_length) {
    RowReader reader(bytes, available);
    const auto flags = reader.get<std::uint8_t>();
    row->null_key = (flags & kRowNullKey) != 0;
    row->has_values = (flags & kRowHasValues) != 0;
    row->purchase = (flags & kRowPurchase) != 0;
    row->fits = (flags & kRowWide) == 0;
    row->has_order_key = (flags & kRowOrderKey) != 0;
    row->key_bytes = nullptr;
    row->key_length = 0;
    *wide = nullptr;
    *wide_length = 0;
    if (!row->null_key) {
        if (format.key_kind == CustomerKeyKind::integer) {
            row->key = reader.get<std::uint64_t>();
        } else {
            row->key_length = reader.get<std::uint32_t>();
            row->key_bytes = reader.take(row->key_length);
        }
    }
    if (row->has_values) {
        row->day = static_cast<std::int32_t>(reader.get<std::uint32_t>());
        if (format.money == MoneyKind::binary_float) {
            const auto bits = reader.get<std::uint64_t>();
            std::memcpy(&row->float_amount, &bits, sizeof bits);
        } else if (row->fits) {
            const auto low = reader.get<std::uint64_t>();
            const auto high = reader.get<std::uint64_t>();
            row->amount.mantissa = static_cast<int128>((static_cast<unsigned __int128>(high) << 64) | low);
            row->amount.scale = reader.get<std::uint8_t>();
            if (row->amount.scale > kMaxDecimalScale)
                corrupt_row();
        } else {
            *wide_length = reader.get<std::uint32_t>();
            *wide = reader.take(*wide_length);
        }
        row->order_key = row->has_order_key ? reader.get<std::uint64_t>() : 0;
    }
    return reader.position();
}

}  // namespace customer_analytics
