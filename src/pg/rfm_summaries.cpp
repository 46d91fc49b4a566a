// rfm_summaries(source, customer_column, date_column, amount_column
// [, order_column, min_purchase, customer_type]): the per-customer summaries
// of a whole table, the result of
//
//   SELECT customer, rfm_agg(date, amount [, order_key, min_purchase])
//   FROM source GROUP BY customer
//
// computed without the executor: the table is read through the table access
// method under the statement's snapshot (in parallel workers started here,
// over a parallel table scan), only the needed columns are deformed, every
// row goes straight into a C++ hash table holding rfm_agg's own per-group
// states (customer_table.hpp), and the workers' tables are merged by the
// leader. The rights are a SELECT's: the caller needs SELECT on the table or
// on every column used, and tables whose row-level security applies to the
// caller are refused (reading them here would bypass the policies).
//
// The barrier's rule holds throughout: the table, its entries and every
// other object alive while PostgreSQL is called are plain data in memory
// contexts, so an error (or a cancel) anywhere simply abandons them.
#include "customer_table.hpp"
#include "rfm.hpp"
#include "rfm_orders.hpp"
#include "state_format.hpp"

#include "barrier.hpp"
#include "convert.hpp"

extern "C" {
#include "access/parallel.h"
#include "access/relation.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "executor/tuptable.h"
#include "portability/instr_time.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/paths.h"
#include "storage/bufmgr.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "utils/acl.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"
}

#undef printf
#undef sprintf
#undef snprintf
#undef vsnprintf
#undef fprintf
#undef vfprintf
#undef strerror

namespace ca = customer_analytics;

namespace {

// ------------------------------------------------------------ column kinds

enum class KeyType : std::uint8_t { int2, int4, int8, text, uuid };
enum class DateType : std::uint8_t { date, timestamptz, timestamp };
enum class AmountType : std::uint8_t { numeric, int2, int4, int8, float4, float8 };
enum class OrderType : std::uint8_t { none, int2, int4, int8, text, uuid };

// Column positions in BulkRelation::columns.
enum Column { customer_column, date_column, amount_column, order_column, column_count };

// What every process needs to know; plain data, copied into shared memory.
struct BulkOptions {
    KeyType key_type;
    DateType date_type;
    AmountType amount_type;
    OrderType order_type;
    bool keyed;  // an order book per customer (an order column, or a minimum)
    bool has_minimum;
    ca::Decimal decimal_minimum;
    double float_minimum;
    std::size_t memory_limit;  // bytes of table per process
};

// One relation with storage to scan (the source, or a leaf of it).
struct BulkRelation {
    Oid relid;
    AttrNumber columns[column_count];  // 0: not used
    AttrNumber last_column;
};

bool exact_amounts(const BulkOptions& options) {
    return options.amount_type != AmountType::float4 && options.amount_type != AmountType::float8;
}

// --------------------------------------------------------- one process

// A process's table (the leader's, or a worker's partial one).
struct BulkState {
    const BulkOptions* options;
    MemoryContext table_context;  // the table and its states
    MemoryContext scratch;        // per-batch values (copied keys, detoasted values)
    ca::Arena arena;
    ca::CustomerTable table;
};

void* allocate_in(void* context, std::size_t bytes) {
    return MemoryContextAllocExtended(static_cast<MemoryContext>(context), bytes,
                                      MCXT_ALLOC_NO_OOM | MCXT_ALLOC_HUGE);
}

void release_in(void*, void* block) { pfree(block); }

ca::OrderBook book_of(const BulkOptions& options) {
    ca::OrderBook like;
    like.money_kind = exact_amounts(options) ? ca::MoneyKind::exact_decimal : ca::MoneyKind::binary_float;
    like.key_kind = options.order_type == OrderType::text || options.order_type == OrderType::uuid
                        ? ca::OrderKeyKind::text
                        : ca::OrderKeyKind::bigint;
    like.has_minimum = options.has_minimum;
    like.decimal_minimum = options.decimal_minimum;
    like.float_minimum = options.float_minimum;
    return like;
}

void start_state(BulkState* state, const BulkOptions* options, MemoryContext parent) {
    state->options = options;
    state->table_context = AllocSetContextCreate(parent, "rfm_summaries table", ALLOCSET_DEFAULT_SIZES);
    state->scratch = AllocSetContextCreate(parent, "rfm_summaries rows", ALLOCSET_DEFAULT_SIZES);
    state->arena.allocate = allocate_in;
    state->arena.release = release_in;
    state->arena.context = state->table_context;
    const ca::CustomerKeyKind kind = options->key_type == KeyType::text || options->key_type == KeyType::uuid
                                         ? ca::CustomerKeyKind::bytes
                                         : ca::CustomerKeyKind::integer;
    const ca::OrderBook like = book_of(*options);
    state->table.start(state->arena, kind, like.money_kind, options->keyed ? &like : nullptr);
}

// The memory bound: what a hash aggregate may use (work_mem times
// hash_mem_multiplier), per process, like PostgreSQL's own.
void check_memory(const BulkState* state) {
    const Size used = MemoryContextMemAllocated(state->table_context, true);
    if (used <= state->options->memory_limit)
        return;
    ereport(ERROR,
            (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("rfm_summaries needs more memory than work_mem allows"),
             errdetail("The summaries of %u customers took %zu kB in one process, more than work_mem times "
                       "hash_mem_multiplier (%zu kB).",
                       state->table.size(), used / 1024, state->options->memory_limit / 1024),
             errhint("Raise work_mem, for example SET work_mem = '256MB', or summarize with rfm_agg and GROUP BY, "
                     "which spills to disk.")));
}

// A customer's money total beyond 128 bits continues in a numeric, exactly
// as rfm_agg's does; the previous value is freed (it is the table's).
void add_to_overflow(BulkState* state, std::uint32_t customer, Datum numeric) {
    MemoryContext previous = MemoryContextSwitchTo(state->table_context);
    void* old = state->table.overflow(customer);
    if (old == nullptr) {
        auto* plain = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(numeric)));
        state->table.set_overflow(customer, DatumGetPointer(datumCopy(PointerGetDatum(plain), false, -1)));
    } else {
        state->table.set_overflow(customer,
                                  DatumGetPointer(DirectFunctionCall2(numeric_add, PointerGetDatum(old), numeric)));
        pfree(old);
    }
    MemoryContextSwitchTo(previous);
}

const struct varlena* plain_varlena(Datum value) {
    auto* raw = reinterpret_cast<struct varlena*>(DatumGetPointer(value));
    if (VARATT_IS_EXTENDED(raw) && !VARATT_IS_SHORT(raw))
        raw = pg_detoast_datum_packed(raw);
    return raw;
}

std::int32_t day_of(const BulkOptions& options, Datum value) {
    switch (options.date_type) {
    case DateType::date:
        return ca::pg::finite_date(DatumGetDateADT(value), "order_date");
    case DateType::timestamptz:
        return ca::pg::date_of_timestamptz(DatumGetTimestampTz(value), "order_date");
    case DateType::timestamp:
        // rfm_agg reads a timestamp through its implicit cast to timestamptz.
        if (TIMESTAMP_NOT_FINITE(DatumGetTimestamp(value)))
            throw ca::Error(ca::ErrorKind::invalid_parameter_value, "order_date must be a finite timestamp");
        return ca::pg::date_of_timestamptz(
            DatumGetTimestampTz(DirectFunctionCall1(timestamp_timestamptz, value)), "order_date");
    }
    return 0;
}

std::int64_t integer_of(AmountType type, Datum value) {
    switch (type) {
    case AmountType::int2:
        return DatumGetInt16(value);
    case AmountType::int4:
        return DatumGetInt32(value);
    default:
        return DatumGetInt64(value);
    }
}

double float_amount(const BulkOptions& options, Datum value) {
    const double amount =
        options.amount_type == AmountType::float4 ? double(DatumGetFloat4(value)) : DatumGetFloat8(value);
    return ca::pg::finite_double(amount, "amount");
}

// The order key of a line: an integer key's bits, or the hash of a text
// key's bytes (a uuid's text form, as rfm_agg(..., uuid_column::text)).
std::uint64_t order_key_of(OrderType type, Datum value) {
    switch (type) {
    case OrderType::int2:
        return static_cast<std::uint64_t>(std::int64_t(DatumGetInt16(value)));
    case OrderType::int4:
        return static_cast<std::uint64_t>(std::int64_t(DatumGetInt32(value)));
    case OrderType::int8:
        return static_cast<std::uint64_t>(DatumGetInt64(value));
    case OrderType::uuid: {
        static const char hex[] = "0123456789abcdef";
        const unsigned char* bytes = DatumGetUUIDP(value)->data;
        std::uint8_t text[36];
        int length = 0;
        for (int i = 0; i < UUID_LEN; ++i) {
            if (i == 4 || i == 6 || i == 8 || i == 10)
                text[length++] = '-';
            text[length++] = hex[bytes[i] >> 4];
            text[length++] = hex[bytes[i] & 15];
        }
        return ca::order_key_hash(text, sizeof text);
    }
    case OrderType::text:
    case OrderType::none:
        break;
    }
    const struct varlena* text = plain_varlena(value);
    return ca::order_key_hash(reinterpret_cast<const std::uint8_t*>(VARDATA_ANY(text)), VARSIZE_ANY_EXHDR(text));
}

constexpr std::uint32_t kBatchRows = 64;

// Rows decoded from the current scan, waiting to enter the table. Values
// that point into a buffer page (keys, and amounts that will not fit 128
// bits) are copied into the scratch context, since the page may be
// released before the batch is added.
struct RowBatch {
    ca::OrderRow rows[kBatchRows];
    Datum wide_amounts[kBatchRows];  // numerics that did not fit a Decimal
    std::uint32_t size;
    std::uint32_t spilled[kBatchRows];
};

// Decodes one row, checking what rfm_agg's transition function checks in
// the same order (the date, then the amount).
void decode_row(BulkState* state, const BulkRelation& relation, const Datum* values, const bool* nulls,
                RowBatch* batch) {
    const BulkOptions& options = *state->options;
    ca::OrderRow& row = batch->rows[batch->size];
    const int customer = relation.columns[customer_column] - 1;
    const int date = relation.columns[date_column] - 1;
    const int amount = relation.columns[amount_column] - 1;
    row.null_key = nulls[customer];
    row.key_bytes = nullptr;
    row.key_length = 0;
    if (!row.null_key) {
        const Datum key = values[customer];
        switch (options.key_type) {
        case KeyType::int2:
            row.key = static_cast<std::uint64_t>(std::int64_t(DatumGetInt16(key)));
            break;
        case KeyType::int4:
            row.key = static_cast<std::uint64_t>(std::int64_t(DatumGetInt32(key)));
            break;
        case KeyType::int8:
            row.key = static_cast<std::uint64_t>(DatumGetInt64(key));
            break;
        case KeyType::uuid:
        case KeyType::text: {
            const std::uint8_t* bytes;
            std::size_t length;
            if (options.key_type == KeyType::uuid) {
                bytes = DatumGetUUIDP(key)->data;
                length = UUID_LEN;
            } else {
                const struct varlena* text = plain_varlena(key);
                bytes = reinterpret_cast<const std::uint8_t*>(VARDATA_ANY(text));
                length = VARSIZE_ANY_EXHDR(text);
            }
            auto* copy = static_cast<std::uint8_t*>(palloc(length + 1));
            std::memcpy(copy, bytes, length);
            row.key_bytes = copy;
            row.key_length = static_cast<std::uint32_t>(length);
            break;
        }
        }
    }
    row.has_values = !nulls[date] && !nulls[amount];
    batch->wide_amounts[batch->size] = 0;
    ++batch->size;
    if (!row.has_values)
        return;
    row.day = day_of(options, values[date]);
    if (exact_amounts(options)) {
        bool negative = false;
        if (options.amount_type == AmountType::numeric) {
            row.fits = ca::pg::numeric_to_decimal(values[amount], &row.amount, &negative, "amount");
            if (!row.fits) {
                if (options.keyed)
                    ca::order_amount_out_of_range();
                const struct varlena* plain = plain_varlena(values[amount]);
                batch->wide_amounts[batch->size - 1] = datumCopy(PointerGetDatum(plain), false, -1);
            }
        } else {
            row.amount.mantissa = integer_of(options.amount_type, values[amount]);
            row.amount.scale = 0;
            negative = row.amount.mantissa < 0;
            row.fits = true;
        }
        row.purchase = !negative;
    } else {
        row.float_amount = float_amount(options, values[amount]);
        row.purchase = !(row.float_amount < 0);
    }
    if (options.keyed) {
        const int order = relation.columns[order_column] - 1;
        row.has_order_key = order >= 0 && !nulls[order];
        row.order_key = row.has_order_key ? order_key_of(options.order_type, values[order]) : 0;
    }
}

// Adds the batch; the totals that leave 128 bits continue in numerics.
void flush_batch(BulkState* state, RowBatch* batch) {
    const std::uint32_t spilled = state->table.add_rows(batch->rows, batch->size, batch->spilled);
    for (std::uint32_t i = 0; i < spilled; ++i) {
        const std::uint32_t at = batch->spilled[i];
        const ca::OrderRow& row = batch->rows[at];
        add_to_overflow(state, row.customer,
                        row.fits ? ca::pg::decimal_to_numeric(row.amount) : batch->wide_amounts[at]);
    }
    batch->size = 0;
}

constexpr std::uint32_t kBatchesBetweenChecks = 4;

// Every row of one scan (a serial scan, or this process's share of a
// parallel one). Cancels and memory are checked every few hundred rows.
void scan_rows(BulkState* state, Relation relation, TableScanDesc scan, const BulkRelation& columns) {
    TupleTableSlot* slot = table_slot_create(relation, nullptr);
    auto* batch = static_cast<RowBatch*>(palloc0(sizeof(RowBatch)));
    MemoryContext previous = MemoryContextSwitchTo(state->scratch);
    std::uint32_t batches = 0;
    while (table_scan_getnextslot(scan, ForwardScanDirection, slot)) {
        slot_getsomeattrs(slot, columns.last_column);
        decode_row(state, columns, slot->tts_values, slot->tts_isnull, batch);
        if (batch->size < kBatchRows)
            continue;
        flush_batch(state, batch);
        if (++batches == kBatchesBetweenChecks) {
            batches = 0;
            CHECK_FOR_INTERRUPTS();
            check_memory(state);
            MemoryContextReset(state->scratch);
        }
    }
    flush_batch(state, batch);
    MemoryContextSwitchTo(previous);
    MemoryContextReset(state->scratch);
    check_memory(state);
    pfree(batch);
    ExecDropSingleTupleTableSlot(slot);
}

// ------------------------------------------------------ shared memory

constexpr std::uint64_t kKeyOptions = UINT64CONST(0xCA5A000000000001);
constexpr std::uint64_t kKeyRelations = UINT64CONST(0xCA5A000000000002);
constexpr std::uint64_t kKeyQueues = UINT64CONST(0xCA5A000000000003);
constexpr std::uint64_t kKeyScans = UINT64CONST(0xCA5A000000010000);  // + relation index

struct BulkShared {
    BulkOptions options;
    int relation_count;
    Size queue_size;
};

// A worker's records reach the leader through a queue of this size, in
// batches of about kBatchBytes.
constexpr Size kQueueSize = 1024 * 1024;
constexpr std::size_t kBatchBytes = 256 * 1024;

struct Batch {
    std::uint8_t* bytes;
    std::size_t size;
    std::size_t capacity;
};

void send_batch(shm_mq_handle* queue, Batch* batch) {
    if (batch->size == 0)
        return;
    const shm_mq_result result = shm_mq_send(queue, batch->size, batch->bytes, false, true);
    // The leader only detaches when it is stopping with an error.
    if (result == SHM_MQ_DETACHED)
        ereport(ERROR, (errcode(ERRCODE_QUERY_CANCELED), errmsg("rfm_summaries leader stopped")));
    batch->size = 0;
}

void send_table(BulkState* state, shm_mq_handle* queue) {
    state->table.finish_days();
    check_memory(state);
    Batch batch;
    batch.capacity = kBatchBytes + 1024;
    batch.bytes = static_cast<std::uint8_t*>(MemoryContextAlloc(state->scratch, batch.capacity));
    batch.size = 0;
    const ca::MergeItem* order = ca::customers_in_merge_order(state->table);
    const std::uint32_t size = state->table.size();
    for (std::uint32_t n = 0; n < size; ++n) {
        const std::uint32_t i = order[n].customer;
        if (n + 16 < size)
            state->table.prefetch_customer(order[n + 16].customer);
        if (n + 8 < size)
            state->table.prefetch_days(order[n + 8].customer);
        ca::LargeDecimal digits;
        const ca::LargeDecimal* overflow = nullptr;
        if (state->table.overflow(i) != nullptr) {
            digits = ca::pg::numeric_to_large_decimal(PointerGetDatum(state->table.overflow(i)));
            overflow = &digits;
        }
        ca::StateWriter measure;
        ca::write_customer_record(measure, state->table, i, overflow);
        const std::size_t size = measure.size();
        if (size > UINT32_MAX - 4)
            ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED), errmsg("the summary of one customer is too large")));
        if (batch.size + 4 + size > batch.capacity) {
            send_batch(queue, &batch);
            if (4 + size > batch.capacity) {
                pfree(batch.bytes);
                batch.capacity = 4 + size;
                batch.bytes = static_cast<std::uint8_t*>(MemoryContextAllocHuge(state->scratch, batch.capacity));
            }
        }
        ca::state_bytes::store<std::uint32_t>(batch.bytes + batch.size, static_cast<std::uint32_t>(size));
        ca::StateWriter writer(batch.bytes + batch.size + 4, size);
        ca::write_customer_record(writer, state->table, i, overflow);
        writer.finish();
        batch.size += 4 + size;
        if (batch.size >= kBatchBytes)
            send_batch(queue, &batch);
        if ((n & 1023) == 0)
            CHECK_FOR_INTERRUPTS();
    }
    send_batch(queue, &batch);
}

// Scans this process's share of every relation (a parallel scan hands out
// blocks to whoever asks next).
void scan_shared(BulkState* state, shm_toc* toc, const BulkShared* shared, const BulkRelation* relations) {
    for (int i = 0; i < shared->relation_count; ++i) {
        auto* pscan = static_cast<ParallelTableScanDesc>(shm_toc_lookup(toc, kKeyScans + i, false));
        Relation relation = table_open(relations[i].relid, AccessShareLock);
        TableScanDesc scan = table_beginscan_parallel(relation, pscan);
        scan_rows(state, relation, scan, relations[i]);
        table_endscan(scan);
        table_close(relation, AccessShareLock);
    }
}

template <typename Body>
void guarded_void(Body body) {
    ca::pg::CaughtError caught;
    try {
        body();
    } catch (const ca::Error& error) {
        ca::pg::record_error(&caught, error);
    } catch (const std::bad_alloc&) {
        ca::pg::record_error(&caught, ERRCODE_OUT_OF_MEMORY, "out of memory");
    } catch (const std::exception& error) {
        ca::pg::record_error(&caught, ERRCODE_INTERNAL_ERROR, error.what());
    } catch (...) {
        ca::pg::record_error(&caught, ERRCODE_INTERNAL_ERROR, "unexpected C++ exception");
    }
    if (caught.sqlstate != 0)
        ca::pg::raise_error(caught);
}

}  // namespace

// The entry point of the parallel workers (CreateParallelContext looks it up
// by name): scan a share of the rows, send the partial table to the leader.
extern "C" PGDLLEXPORT void ca_rfm_summaries_worker(dsm_segment* segment, shm_toc* toc);

void ca_rfm_summaries_worker(dsm_segment* segment, shm_toc* toc) {
    guarded_void([segment, toc]() {
        const auto* shared = static_cast<const BulkShared*>(shm_toc_lookup(toc, kKeyOptions, false));
        const auto* relations = static_cast<const BulkRelation*>(shm_toc_lookup(toc, kKeyRelations, false));
        auto* queues = static_cast<char*>(shm_toc_lookup(toc, kKeyQueues, false));
        auto* queue = reinterpret_cast<shm_mq*>(queues + ParallelWorkerNumber * shared->queue_size);
        shm_mq_set_sender(queue, MyProc);
        shm_mq_handle* handle = shm_mq_attach(queue, segment, nullptr);
        auto* state = static_cast<BulkState*>(palloc0(sizeof(BulkState)));
        start_state(state, &shared->options, CurrentMemoryContext);
        instr_time t0, t1, t2;
        INSTR_TIME_SET_CURRENT(t0);
        scan_shared(state, toc, shared, relations);
        INSTR_TIME_SET_CURRENT(t1);
        send_table(state, handle);
        INSTR_TIME_SET_CURRENT(t2);
        INSTR_TIME_SUBTRACT(t2, t1);
        INSTR_TIME_SUBTRACT(t1, t0);
        elog(DEBUG1, "rfm_summaries worker %d: scan %.1f ms, send %.1f ms, %u customers", ParallelWorkerNumber,
             INSTR_TIME_GET_MILLISEC(t1), INSTR_TIME_GET_MILLISEC(t2), state->table.size());
        shm_mq_detach(handle);
    });
}

namespace {

// ---------------------------------------------------------------- output

enum SummaryField { first_order, last_order, frequency, purchase_days, monetary, refunds, summary_fields };

[[noreturn]] void float_total_out_of_range() {
    throw ca::Error(ca::ErrorKind::numeric_value_out_of_range, "sum of amounts is out of range for type double precision",
                    {}, "Use numeric amounts for exact totals of any size.");
}

// One customer of the result: its key, and its summary as rfm_agg's final
// function sees the group's state (the combined states of every process).
struct Group {
    ca::CustomerKey key;
    std::uint64_t tag;
    bool has_summary;
    ca::CustomerTotals totals;  // without an order key
    std::uint64_t purchase_days;
    Datum overflow;             // numeric total beyond 128 bits, or 0
    ca::OrderBook* book;        // with an order key
};

// The rfm_summary of a group: the fields rfm_agg's final function forms.
Datum summary_datum(TupleDesc descriptor, ca::MoneyKind money, Group& group) {
    Datum values[summary_fields];
    bool nulls[summary_fields] = {false};
    if (group.book != nullptr) {
        ca::OrderBook* book = group.book;
        const ca::OrderCounts counts = ca::count_orders(ca::pg::arena_for(CurrentMemoryContext), *book);
        values[first_order] = DateADTGetDatum(counts.first_day);
        values[last_order] = DateADTGetDatum(counts.last_day);
        nulls[first_order] = nulls[last_order] = counts.purchases == 0;
        values[frequency] = Int64GetDatum(counts.purchases);
        values[purchase_days] = Int64GetDatum(counts.purchase_days);
        values[refunds] = Int64GetDatum(counts.refunds);
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
            values[monetary] = ca::pg::decimal_to_numeric(total);
            if (beyond != 0)
                values[monetary] = DirectFunctionCall2(numeric_add, values[monetary], beyond);
        } else {
            const double total = ca::float_net_total(*book);
            if (!std::isfinite(total))
                float_total_out_of_range();
            values[monetary] = DirectFunctionCall1(float8_numeric, Float8GetDatum(total));
        }
        return HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
    }
    const ca::CustomerTotals& totals = group.totals;
    const bool bought = totals.purchases > 0;
    values[first_order] = DateADTGetDatum(totals.first_day);
    values[last_order] = DateADTGetDatum(totals.last_day);
    nulls[first_order] = nulls[last_order] = !bought;
    values[frequency] = Int64GetDatum(totals.purchases);
    values[purchase_days] = Int64GetDatum(bought ? group.purchase_days : 0);
    values[refunds] = Int64GetDatum(totals.refunds);
    if (money == ca::MoneyKind::exact_decimal) {
        ca::Decimal total;
        total.mantissa = totals.money.mantissa;
        total.scale = totals.scale;
        Datum sum = ca::pg::decimal_to_numeric(total);
        if (group.overflow != 0)
            sum = DirectFunctionCall2(numeric_add, sum, group.overflow);
        values[monetary] = sum;
    } else {
        const double total = totals.money.binary[0] + totals.money.binary[1];
        if (!std::isfinite(total))
            float_total_out_of_range();
        values[monetary] = DirectFunctionCall1(float8_numeric, Float8GetDatum(total));
    }
    return HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
}

Datum key_datum(const Group& group, Oid output_type, KeyType key_type) {
    switch (key_type) {
    case KeyType::int2:
    case KeyType::int4:
    case KeyType::int8: {
        const auto key = static_cast<std::int64_t>(group.tag);
        if (output_type == INT2OID)
            return Int16GetDatum(static_cast<std::int16_t>(key));
        if (output_type == INT4OID)
            return Int32GetDatum(static_cast<std::int32_t>(key));
        return Int64GetDatum(key);
    }
    case KeyType::uuid: {
        auto* uuid = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t)));
        std::memcpy(uuid->data, group.key.bytes, UUID_LEN);
        return UUIDPGetDatum(uuid);
    }
    case KeyType::text:
        break;
    }
    return PointerGetDatum(
        cstring_to_text_with_len(reinterpret_cast<const char*>(group.key.bytes), static_cast<int>(group.key.length)));
}

struct Output {
    ReturnSetInfo* result;
    TupleDesc summary;
    Oid output_type;
    KeyType key_type;
    ca::MoneyKind money;
};

void put_group(const Output& output, Group& group) {
    Datum values[2];
    bool nulls[2] = {group.key.null_key, !group.has_summary};
    values[0] = nulls[0] ? Datum(0) : key_datum(group, output.output_type, output.key_type);
    values[1] = nulls[1] ? Datum(0) : summary_datum(output.summary, output.money, group);
    tuplestore_putvalues(output.result->setResult, output.result->setDesc, values, nulls);
}

Output output_of(ReturnSetInfo* result, BulkState* state, Oid output_type) {
    Output output;
    output.result = result;
    output.summary = lookup_rowtype_tupdesc_copy(TupleDescAttr(result->setDesc, 1)->atttypid, -1);
    BlessTupleDesc(output.summary);
    output.output_type = output_type;
    output.key_type = state->options->key_type;
    output.money = state->table.money_kind();
    return output;
}

void start_group(Group* group, const ca::CustomerKey& key) {
    std::memset(static_cast<void*>(group), 0, sizeof(Group));
    group->key = key;
}

// The leader's own customers, one group each (no worker took part).
void emit_table(const Output& output, BulkState* state) {
    ca::CustomerTable& table = state->table;
    if (!table.orders_mode())
        table.finish_days();
    check_memory(state);
    MemoryContext row_context = AllocSetContextCreate(CurrentMemoryContext, "rfm_summaries row", ALLOCSET_DEFAULT_SIZES);
    MemoryContext previous = MemoryContextSwitchTo(row_context);
    for (std::uint32_t i = 0; i < table.size(); ++i) {
        Group group;
        start_group(&group, ca::customer_key(table, i));
        group.tag = table.totals(i).tag;
        group.has_summary = table.has_summary(i);
        group.totals = table.totals(i);
        group.purchase_days = table.orders_mode() ? 0 : table.day_count(i);
        group.overflow = PointerGetDatum(table.overflow(i));
        group.book = table.orders_mode() && group.has_summary ? table.orders(i) : nullptr;
        put_group(output, group);
        if ((i & 255) == 255) {
            MemoryContextReset(row_context);
            CHECK_FOR_INTERRUPTS();
        }
    }
    MemoryContextSwitchTo(previous);
    MemoryContextDelete(row_context);
}

// A worker's records, read one at a time in the merge order.
struct WorkerStream {
    shm_mq_handle* queue;
    const std::uint8_t* batch;  // valid until the next receive
    std::size_t size;
    std::size_t pos;
    bool done;
    MemoryContext context;  // the current record's arrays
    ca::Arena arena;
    ca::CustomerRecord record;
    ca::CustomerKey key;
};

instr_time receive_wait;

void advance(WorkerStream* stream, ca::CustomerKeyKind kind) {
    for (;;) {
        if (stream->pos < stream->size) {
            if (stream->size - stream->pos < 4)
                elog(ERROR, "rfm_summaries: truncated batch from a parallel worker");
            const std::uint32_t length = ca::state_bytes::load<std::uint32_t>(stream->batch + stream->pos);
            stream->pos += 4;
            if (stream->size - stream->pos < length)
                elog(ERROR, "rfm_summaries: truncated record from a parallel worker");
            MemoryContextReset(stream->context);
            ca::read_customer_record(stream->arena, kind, stream->batch + stream->pos, length, &stream->record);
            stream->pos += length;
            stream->key = ca::record_key(stream->record);
            return;
        }
        Size size = 0;
        void* data = nullptr;
        instr_time w0, w1;
        INSTR_TIME_SET_CURRENT(w0);
        const shm_mq_result received = shm_mq_receive(stream->queue, &size, &data, false);
        INSTR_TIME_SET_CURRENT(w1);
        INSTR_TIME_ACCUM_DIFF(receive_wait, w1, w0);
        if (received == SHM_MQ_DETACHED) {
            stream->done = true;
            return;
        }
        stream->batch = static_cast<const std::uint8_t*>(data);
        stream->size = size;
        stream->pos = 0;
        CHECK_FOR_INTERRUPTS();
    }
}

void add_overflow_to(Datum* overflow, Datum numeric) {
    *overflow = *overflow == 0 ? numeric : DirectFunctionCall2(numeric_add, *overflow, numeric);
}

// Folds one process's part of a group in, as rfm_agg's combine function.
void merge_part(BulkState* state, Group* group, const ca::CustomerTotals* totals, const std::int32_t* days,
                std::uint32_t day_count, Datum overflow, ca::OrderBook* book, const std::int32_t** day_lists,
                std::uint32_t* day_counts, int* lists) {
    group->has_summary = true;
    if (state->table.orders_mode()) {
        if (group->book == nullptr) {
            group->book = static_cast<ca::OrderBook*>(palloc(sizeof(ca::OrderBook)));
            new (group->book) ca::OrderBook();
            const ca::OrderBook like = book_of(*state->options);
            group->book->money_kind = like.money_kind;
            group->book->key_kind = like.key_kind;
            group->book->has_minimum = like.has_minimum;
            group->book->decimal_minimum = like.decimal_minimum;
            group->book->float_minimum = like.float_minimum;
        }
        group->book->merge(ca::pg::arena_for(CurrentMemoryContext), *book);
        return;
    }
    if (!ca::merge_totals(&group->totals, *totals, state->table.money_kind())) {
        ca::Decimal total;
        total.mantissa = totals->money.mantissa;
        total.scale = totals->scale;
        add_overflow_to(&group->overflow, ca::pg::decimal_to_numeric(total));
    }
    if (overflow != 0)
        add_overflow_to(&group->overflow, overflow);
    day_lists[*lists] = days;
    day_counts[*lists] = day_count;
    ++*lists;
}

// The leader's merge: its own customers and every worker's records, all in
// the merge order, combined key by key and written out as they complete.
void emit_merged(const Output& output, BulkState* state, shm_mq_handle** queues, int workers) {
    ca::CustomerTable& table = state->table;
    instr_time p0, p1, p2;
    INSTR_TIME_SET_CURRENT(p0);
    if (!table.orders_mode())
        table.finish_days();
    INSTR_TIME_SET_CURRENT(p1);
    const ca::MergeItem* order = ca::customers_in_merge_order(table);
    INSTR_TIME_SET_CURRENT(p2);
    INSTR_TIME_SUBTRACT(p2, p1);
    INSTR_TIME_SUBTRACT(p1, p0);
    elog(DEBUG1, "finish_days %.1f ms, sort %.1f ms", INSTR_TIME_GET_MILLISEC(p1), INSTR_TIME_GET_MILLISEC(p2));
    const std::uint32_t size = table.size();
    check_memory(state);
    auto* streams = static_cast<WorkerStream*>(palloc0(sizeof(WorkerStream) * workers));
    for (int w = 0; w < workers; ++w) {
        streams[w].queue = queues[w];
        streams[w].context = AllocSetContextCreate(CurrentMemoryContext, "rfm_summaries worker records",
                                                   ALLOCSET_DEFAULT_SIZES);
        streams[w].arena = ca::pg::arena_for(streams[w].context);
        advance(&streams[w], table.key_kind());
    }
    const int max_lists = workers + 1;
    auto* day_lists = static_cast<const std::int32_t**>(palloc(sizeof(std::int32_t*) * max_lists));
    auto* day_counts = static_cast<std::uint32_t*>(palloc(sizeof(std::uint32_t) * max_lists));
    bool* contributes = static_cast<bool*>(palloc(sizeof(bool) * max_lists));
    MemoryContext row_context = AllocSetContextCreate(CurrentMemoryContext, "rfm_summaries row", ALLOCSET_DEFAULT_SIZES);
    MemoryContext previous = MemoryContextSwitchTo(row_context);
    std::uint32_t next = 0;
    std::uint64_t groups = 0;
    for (;;) {
        // The smallest key among the heads.
        const ca::CustomerKey* best = nullptr;
        ca::CustomerKey own;
        if (next < size) {
            // The key from the sorted items; bytes only for bytes keys.
            own.null_key = order[next].null_key;
            own.order = order[next].order;
            own.bytes = nullptr;
            own.length = 0;
            if (table.key_kind() == ca::CustomerKeyKind::bytes && !own.null_key) {
                own.bytes = table.extra(order[next].customer).key_bytes;
                own.length = table.extra(order[next].customer).key_length;
            }
            best = &own;
            if (next + 16 < size)
                table.prefetch_customer(order[next + 16].customer);
            if (next + 8 < size)
                table.prefetch_days(order[next + 8].customer);
        }
        for (int w = 0; w < workers; ++w)
            if (!streams[w].done && (best == nullptr || ca::compare_customer_keys(streams[w].key, *best) < 0))
                best = &streams[w].key;
        if (best == nullptr)
            break;
        Group group;
        start_group(&group, *best);
        int lists = 0;
        contributes[0] = next < size && ca::compare_customer_keys(own, *best) == 0;
        if (contributes[0]) {
            const std::uint32_t c = order[next].customer;
            group.tag = table.totals(c).tag;
            if (table.has_summary(c))
                merge_part(state, &group, &table.totals(c), table.orders_mode() ? nullptr : table.days(c),
                           table.orders_mode() ? 0 : table.day_count(c), PointerGetDatum(table.overflow(c)),
                           table.orders_mode() ? table.orders(c) : nullptr, day_lists, day_counts, &lists);
        }
        for (int w = 0; w < workers; ++w) {
            WorkerStream& stream = streams[w];
            contributes[w + 1] = !stream.done && ca::compare_customer_keys(stream.key, *best) == 0;
            if (!contributes[w + 1])
                continue;
            const ca::CustomerRecord& record = stream.record;
            group.tag = record.tag;
            if (record.has_summary)
                merge_part(state, &group, &record.totals, record.days, record.day_count,
                           record.has_overflow ? ca::pg::large_decimal_to_numeric(record.overflow, CurrentMemoryContext)
                                               : Datum(0),
                           &stream.record.orders, day_lists, day_counts, &lists);
        }
        if (lists > 0)
            group.purchase_days = ca::distinct_days_of(day_lists, day_counts, lists);
        put_group(output, group);
        // Only now: advancing a stream may release the batch its record is in.
        if (contributes[0])
            ++next;
        for (int w = 0; w < workers; ++w)
            if (contributes[w + 1])
                advance(&streams[w], table.key_kind());
        if ((++groups & 255) == 0) {
            MemoryContextReset(row_context);
            CHECK_FOR_INTERRUPTS();
        }
    }
    MemoryContextSwitchTo(previous);
    MemoryContextDelete(row_context);
}

// ---------------------------------------------------------------- source

struct Source {
    Relation relation;   // the relation named, locked
    int leaf_count;      // relations with storage
    Relation* leaves;    // opened, locked
    BulkRelation* columns;
    double pages;        // of every leaf
    bool local;          // a temporary relation: no parallel workers
};

[[noreturn]] void refuse_relation(Relation relation, const char* what) {
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("rfm_summaries cannot read \"%s\"", RelationGetRelationName(relation)),
                    errdetail("\"%s\" is %s; rfm_summaries reads tables, partitioned tables and materialized views "
                              "directly.",
                              RelationGetRelationName(relation), what),
                    errhint("Summarize it with rfm_agg and GROUP BY, which reads any relation.")));
}

const char* relkind_phrase(char relkind) {
    switch (relkind) {
    case RELKIND_VIEW:
        return "a view";
    case RELKIND_FOREIGN_TABLE:
        return "a foreign table";
    case RELKIND_INDEX:
    case RELKIND_PARTITIONED_INDEX:
        return "an index";
    case RELKIND_SEQUENCE:
        return "a sequence";
    case RELKIND_COMPOSITE_TYPE:
        return "a composite type";
    case RELKIND_TOASTVALUE:
        return "a TOAST table";
    default:
        return "not a table";
    }
}

bool readable_kind(char relkind) {
    return relkind == RELKIND_RELATION || relkind == RELKIND_MATVIEW || relkind == RELKIND_PARTITIONED_TABLE;
}

void check_leaf(Relation leaf) {
    const char relkind = leaf->rd_rel->relkind;
    if (!readable_kind(relkind))
        refuse_relation(leaf, relkind_phrase(relkind));
    if (RELATION_IS_OTHER_TEMP(leaf))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("cannot access temporary tables of other sessions")));
    if (relkind == RELKIND_MATVIEW && !RelationIsPopulated(leaf))
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("materialized view \"%s\" has not been populated", RelationGetRelationName(leaf)),
                        errhint("Use the REFRESH MATERIALIZED VIEW command.")));
}

AttrNumber column_number(Relation relation, const char* name, const char* argument) {
    const AttrNumber number = get_attnum(RelationGetRelid(relation), name);
    if (number == InvalidAttrNumber)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                        errmsg("column \"%s\" of relation \"%s\" does not exist", name,
                               RelationGetRelationName(relation)),
                        errdetail("It was given as %s.", argument)));
    if (number < 0)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("rfm_summaries cannot read system column \"%s\"", name)));
    return number;
}

// SELECT's rule: the table privilege, or the privilege on every column read.
void check_privileges(Relation relation, const AttrNumber* columns) {
    const Oid user = GetUserId();
    const Oid relid = RelationGetRelid(relation);
    if (pg_class_aclcheck(relid, user, ACL_SELECT) == ACLCHECK_OK)
        return;
    for (int i = 0; i < column_count; ++i)
        if (columns[i] != 0 && pg_attribute_aclcheck(relid, columns[i], user, ACL_SELECT) != ACLCHECK_OK)
            aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(relation->rd_rel->relkind),
                           RelationGetRelationName(relation));
}

// Row-level security is applied by the rewriter to queries; a direct scan
// would see every row, so a table whose policies apply to the caller is
// refused. (PostgreSQL applies the policies of the table a query names,
// not those of its partitions or children, and so does this check.)
void check_row_security(Relation relation) {
    if (check_enable_rls(RelationGetRelid(relation), InvalidOid, false) == RLS_ENABLED)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("rfm_summaries cannot read \"%s\" under row-level security",
                               RelationGetRelationName(relation)),
                        errdetail("Row-level security of \"%s\" applies to the current role, and rfm_summaries reads "
                                  "the table without the policies.",
                                  RelationGetRelationName(relation)),
                        errhint("Summarize it with rfm_agg and GROUP BY, which applies the policies.")));
}

Oid column_type(Relation relation, AttrNumber number, Oid* collation) {
    const Form_pg_attribute attribute = TupleDescAttr(RelationGetDescr(relation), number - 1);
    if (collation != nullptr)
        *collation = attribute->attcollation;
    return getBaseType(attribute->atttypid);
}

[[noreturn]] void unsupported_type(const char* argument, const char* name, Oid type, const char* supported) {
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("rfm_summaries cannot read %s \"%s\" of type %s", argument, name, format_type_be(type)),
                    errdetail("%s", supported),
                    errhint("Summarize it with rfm_agg and GROUP BY, or cast the column in a table of your own.")));
}

KeyType key_type_of(Relation relation, AttrNumber number, const char* name) {
    Oid collation = InvalidOid;
    const Oid type = column_type(relation, number, &collation);
    switch (type) {
    case INT2OID:
        return KeyType::int2;
    case INT4OID:
        return KeyType::int4;
    case INT8OID:
        return KeyType::int8;
    case UUIDOID:
        return KeyType::uuid;
    case TEXTOID:
    case VARCHAROID:
        // Byte equality is GROUP BY's equality only under a deterministic
        // collation.
        if (OidIsValid(collation) && !get_collation_isdeterministic(collation))
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("rfm_summaries cannot group customer column \"%s\" by its collation", name),
                            errdetail("The column's collation is nondeterministic: keys with different bytes can be "
                                      "equal."),
                            errhint("Summarize it with rfm_agg and GROUP BY.")));
        return KeyType::text;
    default:
        unsupported_type("customer column", name, type,
                         "Customer keys may be smallint, integer, bigint, text, varchar or uuid.");
    }
}

DateType date_type_of(Relation relation, AttrNumber number, const char* name) {
    const Oid type = column_type(relation, number, nullptr);
    switch (type) {
    case DATEOID:
        return DateType::date;
    case TIMESTAMPTZOID:
        return DateType::timestamptz;
    case TIMESTAMPOID:
        return DateType::timestamp;
    default:
        unsupported_type("date column", name, type, "Order dates may be date, timestamp or timestamptz.");
    }
}

AmountType amount_type_of(Relation relation, AttrNumber number, const char* name) {
    const Oid type = column_type(relation, number, nullptr);
    switch (type) {
    case NUMERICOID:
        return AmountType::numeric;
    case INT2OID:
        return AmountType::int2;
    case INT4OID:
        return AmountType::int4;
    case INT8OID:
        return AmountType::int8;
    case FLOAT4OID:
        return AmountType::float4;
    case FLOAT8OID:
        return AmountType::float8;
    default:
        unsupported_type("amount column", name, type,
                         "Amounts may be numeric, an integer type, real or double precision.");
    }
}

OrderType order_type_of(Relation relation, AttrNumber number, const char* name) {
    Oid collation = InvalidOid;
    const Oid type = column_type(relation, number, &collation);
    switch (type) {
    case INT2OID:
        return OrderType::int2;
    case INT4OID:
        return OrderType::int4;
    case INT8OID:
        return OrderType::int8;
    case UUIDOID:
        return OrderType::uuid;
    case TEXTOID:
    case VARCHAROID:
        return OrderType::text;
    default:
        unsupported_type("order column", name, type,
                         "Order keys may be smallint, integer, bigint, text, varchar or uuid.");
    }
}

// The relations with storage that a query of the source reads: the source
// itself, or its partitions and inheritance children, each locked.
void open_leaves(Source* source) {
    const Oid relid = RelationGetRelid(source->relation);
    List* members = has_subclass(relid) ? find_all_inheritors(relid, AccessShareLock, nullptr) : list_make1_oid(relid);
    source->leaves = static_cast<Relation*>(palloc(sizeof(Relation) * list_length(members)));
    source->columns = static_cast<BulkRelation*>(palloc0(sizeof(BulkRelation) * list_length(members)));
    source->leaf_count = 0;
    source->pages = 0;
    source->local = false;
    ListCell* cell;
    foreach (cell, members) {
        const Oid member = lfirst_oid(cell);
        Relation leaf = member == relid ? source->relation : relation_open(member, NoLock);
        check_leaf(leaf);
        if (leaf->rd_rel->relkind == RELKIND_PARTITIONED_TABLE) {
            if (leaf != source->relation)
                relation_close(leaf, NoLock);
            continue;
        }
        source->local = source->local || RelationUsesLocalBuffers(leaf);
        source->pages += RelationGetNumberOfBlocks(leaf);
        source->leaves[source->leaf_count++] = leaf;
    }
}

// Columns are found by name in every leaf (their numbers may differ).
void resolve_columns(Source* source, const char* const* names) {
    for (int i = 0; i < source->leaf_count; ++i) {
        BulkRelation& columns = source->columns[i];
        columns.relid = RelationGetRelid(source->leaves[i]);
        columns.last_column = 0;
        for (int c = 0; c < column_count; ++c) {
            columns.columns[c] = names[c] == nullptr ? 0 : get_attnum(columns.relid, names[c]);
            if (names[c] != nullptr && columns.columns[c] <= 0)
                elog(ERROR, "column \"%s\" is missing in relation \"%s\"", names[c],
                     RelationGetRelationName(source->leaves[i]));
            columns.last_column = std::max(columns.last_column, columns.columns[c]);
        }
    }
}

// As the planner sizes a parallel sequential scan: a worker from
// min_parallel_table_scan_size on, one more for every tripling, at most
// max_parallel_workers_per_gather (or the table's parallel_workers).
int worker_count(const Source& source) {
    if (IsParallelWorker() || !IsUnderPostmaster || source.local || max_parallel_workers_per_gather <= 0 ||
        source.leaf_count == 0)
        return 0;
    int workers = -1;
    const char relkind = source.relation->rd_rel->relkind;
    if (relkind == RELKIND_RELATION || relkind == RELKIND_MATVIEW)
        workers = RelationGetParallelWorkers(source.relation, -1);
    if (workers < 0) {
        const double threshold = std::max(1, min_parallel_table_scan_size);
        if (source.pages < threshold)
            return 0;
        workers = 1;
        for (double limit = threshold * 3; source.pages >= limit && workers < 64; limit *= 3)
            ++workers;
    }
    return std::min(workers, max_parallel_workers_per_gather);
}

void scan_serial(BulkState* state, const Source& source) {
    for (int i = 0; i < source.leaf_count; ++i) {
        Relation leaf = source.leaves[i];
        TableScanDesc scan = table_beginscan(leaf, GetActiveSnapshot(), 0, nullptr);
        scan_rows(state, leaf, scan, source.columns[i]);
        table_endscan(scan);
    }
}

// The leader's side of a parallel scan: workers scan and send their tables;
// the leader scans too (unless parallel_leader_participation is off and a
// worker started), then merges what the workers send.
void scan_parallel(const Output& output, BulkState* state, const Source& source, const BulkOptions& options,
                   int workers) {
    Snapshot snapshot = GetActiveSnapshot();
    EnterParallelMode();
    ParallelContext* context = CreateParallelContext("customer_analytics", "ca_rfm_summaries_worker", workers);
    shm_toc_estimate_chunk(&context->estimator, sizeof(BulkShared));
    shm_toc_estimate_chunk(&context->estimator, sizeof(BulkRelation) * source.leaf_count);
    Size* scan_sizes = static_cast<Size*>(palloc(sizeof(Size) * source.leaf_count));
    for (int i = 0; i < source.leaf_count; ++i) {
        scan_sizes[i] = table_parallelscan_estimate(source.leaves[i], snapshot);
        shm_toc_estimate_chunk(&context->estimator, scan_sizes[i]);
    }
    shm_toc_estimate_chunk(&context->estimator, mul_size(kQueueSize, workers));
    shm_toc_estimate_keys(&context->estimator, 3 + source.leaf_count);
    InitializeParallelDSM(context);

    auto* shared = static_cast<BulkShared*>(shm_toc_allocate(context->toc, sizeof(BulkShared)));
    shared->options = options;
    shared->relation_count = source.leaf_count;
    shared->queue_size = kQueueSize;
    shm_toc_insert(context->toc, kKeyOptions, shared);
    auto* relations =
        static_cast<BulkRelation*>(shm_toc_allocate(context->toc, sizeof(BulkRelation) * source.leaf_count));
    std::memcpy(relations, source.columns, sizeof(BulkRelation) * source.leaf_count);
    shm_toc_insert(context->toc, kKeyRelations, relations);
    for (int i = 0; i < source.leaf_count; ++i) {
        auto* pscan = static_cast<ParallelTableScanDesc>(shm_toc_allocate(context->toc, scan_sizes[i]));
        table_parallelscan_initialize(source.leaves[i], pscan, snapshot);
        shm_toc_insert(context->toc, kKeyScans + i, pscan);
    }
    // Without dynamic shared memory InitializeParallelDSM gives no workers.
    const int planned = context->nworkers;
    shm_mq_handle** queues = nullptr;
    if (planned > 0) {
        auto* space = static_cast<char*>(shm_toc_allocate(context->toc, mul_size(kQueueSize, planned)));
        shm_toc_insert(context->toc, kKeyQueues, space);
        queues = static_cast<shm_mq_handle**>(palloc(sizeof(shm_mq_handle*) * planned));
        for (int w = 0; w < planned; ++w) {
            shm_mq* queue = shm_mq_create(space + w * kQueueSize, kQueueSize);
            shm_mq_set_receiver(queue, MyProc);
            queues[w] = shm_mq_attach(queue, context->seg, nullptr);
        }
        LaunchParallelWorkers(context);
    }
    const int launched = planned > 0 ? context->nworkers_launched : 0;
    instr_time t0, t1, t2;
    INSTR_TIME_SET_CURRENT(t0);
    for (int w = 0; w < planned; ++w) {
        if (w < launched)
            shm_mq_set_handle(queues[w], context->worker[w].bgwhandle);
        else
            shm_mq_detach(queues[w]);
    }
    if (launched == 0 || parallel_leader_participation)
        scan_shared(state, context->toc, shared, relations);
    INSTR_TIME_SET_CURRENT(t1);
    INSTR_TIME_SET_ZERO(receive_wait);
    emit_merged(output, state, queues, launched);
    INSTR_TIME_SET_CURRENT(t2);
    INSTR_TIME_SUBTRACT(t2, t1);
    INSTR_TIME_SUBTRACT(t1, t0);
    elog(DEBUG1, "rfm_summaries: %d workers, leader scan %.1f ms, merge and emit %.1f ms (waiting %.1f ms)", launched,
         INSTR_TIME_GET_MILLISEC(t1), INSTR_TIME_GET_MILLISEC(t2), INSTR_TIME_GET_MILLISEC(receive_wait));
    // Raises a worker's error, if one failed.
    WaitForParallelWorkersToFinish(context);
    DestroyParallelContext(context);
    ExitParallelMode();
}

const char* name_argument(FunctionCallInfo fcinfo, int argument, const char* what) {
    if (PG_ARGISNULL(argument))
        throw ca::Error(ca::ErrorKind::null_value_not_allowed, std::string(what) + " must not be null");
    return NameStr(*PG_GETARG_NAME(argument));
}

// The customer column's values come out as customer_type: the column's own
// type, bigint for any integer column, or text for a varchar column.
void check_output_type(Oid output_type, Oid column_declared, KeyType key_type, const char* column, bool given) {
    const Oid base = getBaseType(column_declared);
    const bool integer_key = key_type == KeyType::int2 || key_type == KeyType::int4 || key_type == KeyType::int8;
    if (output_type == column_declared || (integer_key && output_type == INT8OID) ||
        (key_type == KeyType::text && (output_type == TEXTOID || output_type == base)))
        return;
    const char* suggestion = format_type_be(column_declared);
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("customer column \"%s\" of type %s cannot be returned as %s", column, suggestion,
                           format_type_be(output_type)),
                    given ? errdetail("customer_type may be the column's type, bigint for an integer column, or text "
                                      "for a varchar column.")
                          : errdetail("Without customer_type the customers are returned as bigint, for integer keys."),
                    errhint("Pass customer_type => NULL::%s.", suggestion)));
}

}  // namespace

CA_FUNCTION(ca_rfm_summaries) {
    InitMaterializedSRF(fcinfo, 0);
    auto* result = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    if (PG_ARGISNULL(0))
        throw ca::Error(ca::ErrorKind::null_value_not_allowed, "source must not be null");
    const Oid relid = PG_GETARG_OID(0);
    // rfm_summaries(source, customer_column, date_column, amount_column
    // [, customer_type], order_column, min_purchase): the form with a
    // customer_type has one argument more.
    const int order_argument = PG_NARGS() == 7 ? 5 : 4;
    const int minimum_argument = order_argument + 1;
    const char* names[column_count] = {
        name_argument(fcinfo, 1, "customer_column"), name_argument(fcinfo, 2, "date_column"),
        name_argument(fcinfo, 3, "amount_column"),
        PG_ARGISNULL(order_argument) ? nullptr : NameStr(*PG_GETARG_NAME(order_argument))};
    const bool has_minimum = !PG_ARGISNULL(minimum_argument);

    Source source;
    source.relation = relation_open(relid, AccessShareLock);
    if (!readable_kind(source.relation->rd_rel->relkind))
        refuse_relation(source.relation, relkind_phrase(source.relation->rd_rel->relkind));
    const char* arguments[column_count] = {"customer_column", "date_column", "amount_column", "order_column"};
    AttrNumber columns[column_count] = {0, 0, 0, 0};
    for (int c = 0; c < column_count; ++c)
        if (names[c] != nullptr)
            columns[c] = column_number(source.relation, names[c], arguments[c]);
    check_privileges(source.relation, columns);
    check_row_security(source.relation);

    BulkOptions* options = static_cast<BulkOptions*>(palloc0(sizeof(BulkOptions)));
    options->key_type = key_type_of(source.relation, columns[customer_column], names[customer_column]);
    options->date_type = date_type_of(source.relation, columns[date_column], names[date_column]);
    options->amount_type = amount_type_of(source.relation, columns[amount_column], names[amount_column]);
    options->order_type =
        names[order_column] == nullptr ? OrderType::none : order_type_of(source.relation, columns[order_column], names[order_column]);
    options->keyed = options->order_type != OrderType::none || has_minimum;
    options->has_minimum = has_minimum;
    if (has_minimum) {
        const Datum minimum = PG_GETARG_DATUM(minimum_argument);
        if (exact_amounts(*options)) {
            bool negative;
            if (!ca::pg::numeric_to_decimal(minimum, &options->decimal_minimum, &negative, "min_purchase"))
                throw ca::Error(ca::ErrorKind::invalid_parameter_value, "min_purchase is out of range",
                                "It must fit 38 significant digits with at most 38 decimals.");
            ca::check_decimal_minimum(options->decimal_minimum);
        } else {
            ca::pg::check_numeric_finite(minimum, "min_purchase");
            options->float_minimum = DatumGetFloat8(DirectFunctionCall1(numeric_float8, minimum));
            ca::check_float_minimum(options->float_minimum);
        }
    }
    options->memory_limit = get_hash_memory_limit();
    const Oid output_type = TupleDescAttr(result->setDesc, 0)->atttypid;
    check_output_type(output_type, TupleDescAttr(RelationGetDescr(source.relation), columns[customer_column] - 1)->atttypid,
                      options->key_type, names[customer_column], PG_NARGS() == 7);

    open_leaves(&source);
    resolve_columns(&source, names);

    MemoryContext work = AllocSetContextCreate(CurrentMemoryContext, "rfm_summaries", ALLOCSET_DEFAULT_SIZES);
    auto* state = static_cast<BulkState*>(MemoryContextAllocZero(work, sizeof(BulkState)));
    start_state(state, options, work);
    const int workers = worker_count(source);
    const Output output = output_of(result, state, output_type);
    instr_time t0, t1;
    INSTR_TIME_SET_CURRENT(t0);
    if (workers == 0) {
        scan_serial(state, source);
        emit_table(output, state);
    } else {
        scan_parallel(output, state, source, *options, workers);
    }
    INSTR_TIME_SET_CURRENT(t1);
    INSTR_TIME_SUBTRACT(t1, t0);
    elog(DEBUG1, "rfm_summaries: %.1f ms, %u customers in the leader's table", INSTR_TIME_GET_MILLISEC(t1),
         state->table.size());
    MemoryContextDelete(work);

    for (int i = 0; i < source.leaf_count; ++i)
        if (source.leaves[i] != source.relation)
            relation_close(source.leaves[i], NoLock);
    relation_close(source.relation, NoLock);
    return Datum(0);
}
