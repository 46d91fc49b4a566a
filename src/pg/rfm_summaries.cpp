// rfm_summaries(source, customer_column, date_column, amount_column
// [, order_column, min_purchase, customer_type]): the per-customer summaries
// of a whole table, the result of
//
//   SELECT customer, rfm_agg(date, amount [, order_key, min_purchase])
//   FROM source GROUP BY customer
//
// computed without the executor: the table is read through the table access
// method under the statement's snapshot (in parallel workers started here,
// over a parallel table scan), only the needed columns are deformed, and
// every row goes straight into a C++ hash table holding rfm_agg's own
// per-group totals (src/core/rfm_summaries.hpp). In parallel, the customers are
// split among the processes by a hash of their key and rows travel to the
// process that owns their customer (see "exchange"), so no partial state is
// ever merged. The rights are a SELECT's: the caller needs SELECT on the
// table or on every column used, and tables whose row-level security applies
// to the caller are refused (reading them here would bypass the policies).
//
// The barrier's rule holds throughout: the table, its entries and every
// other object alive while PostgreSQL is called are plain data in memory
// contexts, so an error (or a cancel) anywhere simply abandons them.
#include <algorithm>

#include "rfm_summaries.hpp"
#include "rfm_bins.hpp"
#include "rfm_score.hpp"
#include "rfm_segment.hpp"
#include "rfm_summary.hpp"
#include "rfm_summary_orders.hpp"
#include "stages.hpp"
#include "state_format.hpp"

#include "barrier.hpp"
#include "convert.hpp"
#include "flat_state.hpp"

extern "C" {
#include "access/genam.h"
#include "access/parallel.h"
#include "access/relation.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/paths.h"
#include "storage/bufmgr.h"
#include "storage/condition_variable.h"
#include "port/atomics.h"
#include "pgstat.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
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
    bool scoring;              // rfm_segments: scores, segments and stages too
    std::int32_t as_of_day;    // rfm_segments' as_of
    bool states;               // segment_bulk_states: each customer's rfm_agg_state bytes too
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

// A process's table: every customer of the source (a serial scan), or those
// of the partition this process owns (a parallel one).
struct BulkState {
    const BulkOptions* options;
    MemoryContext table_context;  // the table and its states
    MemoryContext scratch;        // per-batch values (copied keys, detoasted values)
    ca::Arena arena;
    ca::RfmSummaryTable table;
};

void* allocate_in(void* context, std::size_t bytes) {
    return MemoryContextAllocExtended(static_cast<MemoryContext>(context), bytes, MCXT_ALLOC_NO_OOM | MCXT_ALLOC_HUGE);
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
    state->arena.max_bytes = MaxAllocHugeSize;
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
    if (state->options->states)
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY),
                        errmsg("segment_bulk_states needs more memory than maintenance_work_mem allows"),
                        errdetail("The states of %u customers took %zu kB in one process, more than the larger of "
                                  "work_mem and maintenance_work_mem times hash_mem_multiplier (%zu kB).",
                                  state->table.size(), used / 1024, state->options->memory_limit / 1024)));
    ereport(ERROR,
            (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("rfm_summaries needs more memory than work_mem allows"),
             errdetail("The summaries of %u customers took %zu kB in one process, more than work_mem times "
                       "hash_mem_multiplier (%zu kB).",
                       state->table.size(), used / 1024, state->options->memory_limit / 1024),
             errhint("Raise work_mem, for example SET work_mem = '256MB', or summarize with rfm_agg and GROUP BY, "
                     "which spills to disk.")));
}

// A build is a maintenance operation, as CREATE INDEX or REFRESH
// MATERIALIZED VIEW are: segment_bulk_states (the builder's bulk path) may
// use maintenance_work_mem where it is the larger, times hash_mem_multiplier
// per process as a hash aggregate would. The builder takes GROUP BY beyond
// it, so at the default work_mem a build of some 300,000 customers would
// otherwise never take the bulk path.
Size build_memory_limit() {
    const double limit = double(std::max(work_mem, maintenance_work_mem)) * 1024.0 * hash_mem_multiplier;
    return limit >= double(SIZE_MAX) ? SIZE_MAX : Size(limit);
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
        return ca::pg::date_of_timestamptz(DatumGetTimestampTz(DirectFunctionCall1(timestamp_timestamptz, value)),
                                           "order_date");
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
            row.fits = ca::pg::small_numeric_to_decimal(values[amount], &row.amount, &negative) ||
                       ca::pg::numeric_to_decimal(values[amount], &row.amount, &negative, "amount");
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

// ------------------------------------------------------------- exchange

// A parallel scan splits the customers among its members (the workers,
// and the leader when it takes part) by a hash partition of their keys:
// every member scans blocks as the parallel scan hands them out, keeps the
// rows of its own customers and sends the others' rows to their owners
// through shared memory queues. Each customer's state is then whole in one
// process: nothing is merged, and every member forms the result rows of
// its own customers.
struct Batch {
    std::uint8_t* bytes;
    std::size_t size;
    std::size_t capacity;
};

struct Exchange {
    int self;  // this member's number
    int members;
    ca::RowFormat format;
    shm_mq_handle** out;  // [members]: rows to the others
    shm_mq_handle** in;   // [members]: rows from the others
    bool* in_done;
    Batch* pending;         // [members]: rows waiting to go
    bool* sending;          // a send of pending[j] is under way
    RowBatch* incoming;     // received rows on their way into the table
    MemoryContext context;  // what one received message needs
};

// Rows are sent in messages of about this size.
constexpr std::size_t kSendBytes = 64 * 1024;

void take_rows(BulkState* state, Exchange* exchange, const std::uint8_t* bytes, std::size_t length) {
    MemoryContext previous = MemoryContextSwitchTo(exchange->context);
    RowBatch* batch = exchange->incoming;
    std::size_t pos = 0;
    while (pos < length) {
        ca::OrderRow& row = batch->rows[batch->size];
        const std::uint8_t* wide = nullptr;
        std::uint32_t wide_length = 0;
        pos += ca::read_order_row(exchange->format, bytes + pos, length - pos, &row, &wide, &wide_length);
        batch->wide_amounts[batch->size] = 0;
        if (wide != nullptr) {
            // A numeric's bytes, copied to where a varlena may be read.
            auto* copy = static_cast<std::uint8_t*>(palloc(wide_length));
            std::memcpy(copy, wide, wide_length);
            batch->wide_amounts[batch->size] = PointerGetDatum(copy);
        }
        if (++batch->size == kBatchRows)
            flush_batch(state, batch);
    }
    // The keys point into the message, which the next receive releases.
    flush_batch(state, batch);
    MemoryContextSwitchTo(previous);
    MemoryContextReset(exchange->context);
    check_memory(state);
}

// Another process of the scan let go of a queue before the end: it failed.
// A process fails by reporting its error and only then exiting (which lets
// go of its queues), so its error is the one to report, never this
// consequence of it. The leader takes the workers' error messages at once
// (they are already in their queues, but the signal announcing them may come
// later) and re-throws the first; a worker raises nothing of its own (that
// could reach the leader before the real error) and waits: a failed worker's
// error makes the leader abort, a failed leader aborts, and either way the
// leader ends this worker.
[[noreturn]] void member_stopped() {
    if (IsParallelWorker()) {
        for (;;) {
            (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L, PG_WAIT_EXTENSION);
            ResetLatch(MyLatch);
            CHECK_FOR_INTERRUPTS();
        }
    }
    HandleParallelMessages();
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("a process of a parallel rfm_summaries stopped before it had read its rows")));
}

// Moves whatever can move without waiting; false when nothing could.
bool pump(BulkState* state, Exchange* exchange) {
    bool progress = false;
    for (int j = 0; j < exchange->members; ++j) {
        if (j == exchange->self || !exchange->sending[j])
            continue;
        Batch& batch = exchange->pending[j];
        const shm_mq_result result = shm_mq_send(exchange->out[j], batch.size, batch.bytes, true, true);
        if (result == SHM_MQ_DETACHED)
            member_stopped();
        if (result == SHM_MQ_SUCCESS) {
            batch.size = 0;
            exchange->sending[j] = false;
            progress = true;
        }
    }
    for (int j = 0; j < exchange->members; ++j) {
        if (j == exchange->self || exchange->in_done[j])
            continue;
        // A few messages a queue at a time, so that no sender waits long.
        for (int messages = 0; messages < 4; ++messages) {
            Size size = 0;
            void* data = nullptr;
            const shm_mq_result result = shm_mq_receive(exchange->in[j], &size, &data, true);
            if (result == SHM_MQ_WOULD_BLOCK)
                break;
            progress = true;
            if (result == SHM_MQ_DETACHED) {
                exchange->in_done[j] = true;
                break;
            }
            take_rows(state, exchange, static_cast<const std::uint8_t*>(data), size);
        }
    }
    return progress;
}

// One step of waiting for the queues: move what can move, else sleep until
// a queue's other end sets the latch.
void exchange_step(BulkState* state, Exchange* exchange) {
    if (!pump(state, exchange)) {
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }
    CHECK_FOR_INTERRUPTS();
}

// A row of another member's customer joins the rows waiting to go there.
void route_row(BulkState* state, Exchange* exchange, int owner, const ca::OrderRow& row, Datum wide_amount) {
    const std::uint8_t* wide = nullptr;
    std::uint32_t wide_length = 0;
    if (wide_amount != 0) {
        wide = reinterpret_cast<const std::uint8_t*>(DatumGetPointer(wide_amount));
        wide_length = VARSIZE_ANY(DatumGetPointer(wide_amount));
    }
    const std::size_t size = ca::order_row_size(exchange->format, row, wide_length);
    while (exchange->sending[owner])
        exchange_step(state, exchange);
    Batch& batch = exchange->pending[owner];
    if (batch.size + size > batch.capacity) {
        const std::size_t capacity = std::max(batch.capacity * 2, batch.size + size);
        batch.bytes = static_cast<std::uint8_t*>(repalloc_huge(batch.bytes, capacity));
        batch.capacity = capacity;
    }
    ca::write_order_row(exchange->format, row, wide, wide_length, batch.bytes + batch.size);
    batch.size += size;
    if (batch.size >= kSendBytes) {
        exchange->sending[owner] = true;
        pump(state, exchange);
    }
}

// After the last block: send what waits, tell the others (by detaching),
// and take rows until every other member has done the same.
void finish_exchange(BulkState* state, Exchange* exchange) {
    for (int j = 0; j < exchange->members; ++j)
        if (j != exchange->self && exchange->pending[j].size != 0)
            exchange->sending[j] = true;
    for (;;) {
        bool waiting = false;
        for (int j = 0; j < exchange->members; ++j)
            waiting = waiting || (j != exchange->self && exchange->sending[j]);
        if (!waiting)
            break;
        exchange_step(state, exchange);
    }
    for (int j = 0; j < exchange->members; ++j)
        if (j != exchange->self)
            shm_mq_detach(exchange->out[j]);
    for (;;) {
        bool waiting = false;
        for (int j = 0; j < exchange->members; ++j)
            waiting = waiting || (j != exchange->self && !exchange->in_done[j]);
        if (!waiting)
            break;
        exchange_step(state, exchange);
    }
}

constexpr std::uint32_t kRowsBetweenChecks = 512;

// Every row of one scan (a serial scan, or this process's share of a
// parallel one). Cancels and memory are checked every few hundred rows.
void scan_rows(BulkState* state, Exchange* exchange, Relation relation, TableScanDesc scan,
               const BulkRelation& columns) {
    TupleTableSlot* slot = table_slot_create(relation, nullptr);
    auto* batch = static_cast<RowBatch*>(palloc0(sizeof(RowBatch)));
    MemoryContext previous = MemoryContextSwitchTo(state->scratch);
    const ca::CustomerKeyKind kind = state->table.key_kind();
    std::uint32_t rows = 0;
    while (table_scan_getnextslot(scan, ForwardScanDirection, slot)) {
        slot_getsomeattrs(slot, columns.last_column);
        decode_row(state, columns, slot->tts_values, slot->tts_isnull, batch);
        if (exchange != nullptr) {
            const std::uint32_t last = batch->size - 1;
            const auto members = static_cast<std::uint32_t>(exchange->members);
            const auto owner = static_cast<int>(ca::row_partition(batch->rows[last], kind, members));
            if (owner != exchange->self) {
                route_row(state, exchange, owner, batch->rows[last], batch->wide_amounts[last]);
                batch->size = last;
            }
        }
        if (batch->size == kBatchRows)
            flush_batch(state, batch);
        if (++rows == kRowsBetweenChecks) {
            // The scratch memory holds the batch's keys: add it first.
            rows = 0;
            flush_batch(state, batch);
            CHECK_FOR_INTERRUPTS();
            check_memory(state);
            MemoryContextReset(state->scratch);
            if (exchange != nullptr)
                pump(state, exchange);
        }
    }
    flush_batch(state, batch);
    MemoryContextSwitchTo(previous);
    MemoryContextReset(state->scratch);
    check_memory(state);
    pfree(batch);
    ExecDropSingleTupleTableSlot(slot);
}

// ---------------------------------------------------------------- output

enum SummaryField { first_order, last_order, frequency, purchase_days, monetary, refunds, summary_fields };

[[noreturn]] void float_total_out_of_range() {
    throw ca::Error(ca::ErrorKind::numeric_value_out_of_range,
                    "sum of amounts is out of range for type double precision", {},
                    "Use numeric amounts for exact totals of any size.");
}

// The monetary field of a customer's rfm_summary (rows mode).
Datum rows_monetary(ca::RfmSummaryTable& table, std::uint32_t customer) {
    const ca::CustomerTotals& totals = table.totals(customer);
    if (table.money_kind() == ca::MoneyKind::exact_decimal) {
        ca::Decimal total;
        total.mantissa = totals.money.mantissa;
        total.scale = totals.scale;
        Datum sum = ca::pg::decimal_to_numeric(total);
        if (void* overflow = table.overflow(customer))
            sum = DirectFunctionCall2(numeric_add, sum, PointerGetDatum(overflow));
        return sum;
    }
    const double total = totals.money.binary[0] + totals.money.binary[1];
    if (!std::isfinite(total))
        float_total_out_of_range();
    return DirectFunctionCall1(float8_numeric, Float8GetDatum(total));
}

// The monetary field of a customer's rfm_summary (orders mode): the sum of
// the order nets, continued in numeric beyond 128 bits.
Datum book_monetary(ca::OrderBook* book) {
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
        Datum sum = ca::pg::decimal_to_numeric(total);
        if (beyond != 0)
            sum = DirectFunctionCall2(numeric_add, sum, beyond);
        return sum;
    }
    const double total = ca::float_net_total(*book);
    if (!std::isfinite(total))
        float_total_out_of_range();
    return DirectFunctionCall1(float8_numeric, Float8GetDatum(total));
}

// The rfm_summary of a customer: the fields rfm_agg's final function forms
// from the same state.
Datum summary_datum(TupleDesc descriptor, ca::RfmSummaryTable& table, std::uint32_t customer) {
    Datum values[summary_fields];
    bool nulls[summary_fields] = {false};
    if (table.orders_mode()) {
        ca::OrderBook* book = table.orders(customer);
        const ca::OrderCounts counts = ca::count_orders(ca::pg::arena_for(CurrentMemoryContext), *book);
        values[first_order] = DateADTGetDatum(counts.first_day);
        values[last_order] = DateADTGetDatum(counts.last_day);
        nulls[first_order] = nulls[last_order] = counts.purchases == 0;
        values[frequency] = Int64GetDatum(counts.purchases);
        values[purchase_days] = Int64GetDatum(counts.purchase_days);
        values[refunds] = Int64GetDatum(counts.refunds);
        values[monetary] = book_monetary(book);
        return HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
    }
    const ca::CustomerTotals& totals = table.totals(customer);
    const bool bought = totals.purchases > 0;
    values[first_order] = DateADTGetDatum(totals.first_day);
    values[last_order] = DateADTGetDatum(totals.last_day);
    nulls[first_order] = nulls[last_order] = !bought;
    values[frequency] = Int64GetDatum(totals.purchases);
    values[purchase_days] = Int64GetDatum(bought ? table.day_count(customer) : 0);
    values[refunds] = Int64GetDatum(totals.refunds);
    values[monetary] = rows_monetary(table, customer);
    return HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
}

// A customer's state as rfm_agg_state's bytes (its final function is the
// serial function, which writes these same fields): what the builder keeps
// to merge later orders into.
bytea* state_bytes(ca::RfmSummaryTable& table, std::uint32_t customer) {
    if (table.orders_mode()) {
        ca::OrderBook* book = table.orders(customer);
        return ca::pg::state_bytea([book](ca::StateWriter& writer) { ca::write_orders_state(writer, *book); });
    }
    ca::OrderSummaryState state = table.summary_state(customer);
    ca::LargeDecimal overflow;
    const ca::LargeDecimal* digits = nullptr;
    if (void* beyond = table.overflow(customer)) {
        overflow = ca::pg::numeric_to_large_decimal(PointerGetDatum(beyond));
        digits = &overflow;
    }
    const std::size_t size = ca::summary_state_size(state, digits);
    return ca::pg::state_bytea(size, [&state, digits](ca::StateWriter& writer) {
        ca::write_summary_state(writer, state, digits);
    });
}

Datum key_datum(ca::RfmSummaryTable& table, std::uint32_t customer, Oid output_type, KeyType key_type) {
    switch (key_type) {
    case KeyType::int2:
    case KeyType::int4:
    case KeyType::int8: {
        const auto key = static_cast<std::int64_t>(table.totals(customer).tag);
        if (output_type == INT2OID)
            return Int16GetDatum(static_cast<std::int16_t>(key));
        if (output_type == INT4OID)
            return Int32GetDatum(static_cast<std::int32_t>(key));
        return Int64GetDatum(key);
    }
    case KeyType::uuid: {
        auto* uuid = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t)));
        std::memcpy(uuid->data, table.extra(customer).key_bytes, UUID_LEN);
        return UUIDPGetDatum(uuid);
    }
    case KeyType::text:
        break;
    }
    const ca::CustomerExtra& extra = table.extra(customer);
    return PointerGetDatum(
        cstring_to_text_with_len(reinterpret_cast<const char*>(extra.key_bytes), static_cast<int>(extra.key_length)));
}

// rfm_segments: what rfm_bins reads from each summary (recency in days
// since the last purchase, frequency, monetary as a double), for this
// process's customers with a purchase: by customer for their scores, and
// ascending for the bins.
struct ScoreValues {
    double* by_customer;  // 3 a customer; NaN recency: no purchase
    ca::BinsState sorted;
};

void collect_values(BulkState* state, ScoreValues* values) {
    ca::RfmSummaryTable& table = state->table;
    const std::int32_t as_of = state->options->as_of_day;
    values->by_customer = static_cast<double*>(
        MemoryContextAllocHuge(state->table_context, sizeof(double) * 3 * (std::size_t(table.size()) + 1)));
    values->sorted = ca::BinsState();
    values->sorted.start(as_of, 5);
    MemoryContext row_context =
        AllocSetContextCreate(CurrentMemoryContext, "rfm_segments values", ALLOCSET_DEFAULT_SIZES);
    MemoryContext previous = MemoryContextSwitchTo(row_context);
    for (std::uint32_t c = 0; c < table.size(); ++c) {
        double* out = values->by_customer + 3 * std::size_t(c);
        out[0] = std::nan("");
        if (!table.has_summary(c))
            continue;
        std::int64_t purchases;
        std::int32_t last_day;
        double monetary;
        if (table.orders_mode()) {
            ca::OrderBook* book = table.orders(c);
            const ca::OrderCounts counts = ca::count_orders(ca::pg::arena_for(CurrentMemoryContext), *book);
            purchases = counts.purchases;
            last_day = counts.last_day;
            monetary = purchases > 0 ? ca::pg::numeric_to_double(book_monetary(book)) : 0;
        } else {
            const ca::CustomerTotals& totals = table.totals(c);
            purchases = totals.purchases;
            last_day = totals.last_day;
            // What rfm_bins gets from the summary's numeric: the same double
            // straight from an exact total that needs no numeric.
            if (purchases == 0) {
                monetary = 0;
            } else if (table.money_kind() == ca::MoneyKind::exact_decimal && table.overflow(c) == nullptr &&
                       totals.scale <= 18) {
                ca::Decimal total;
                total.mantissa = totals.money.mantissa;
                total.scale = totals.scale;
                monetary = ca::decimal_to_double(total);
            } else {
                monetary = ca::pg::numeric_to_double(rows_monetary(table, c));
            }
        }
        if (purchases > 0) {
            out[0] = static_cast<double>(ca::days_since(last_day, as_of));
            out[1] = static_cast<double>(purchases);
            out[2] = monetary;
            values->sorted.add(state->arena, out[0], out[1], out[2]);
        }
        if ((c & 255) == 255) {
            MemoryContextReset(row_context);
            CHECK_FOR_INTERRUPTS();
        }
    }
    MemoryContextSwitchTo(previous);
    MemoryContextDelete(row_context);
    for (ca::FlatArray<double>* column : {&values->sorted.recency, &values->sorted.frequency, &values->sorted.monetary})
        std::sort(column->begin(), column->end());
    check_memory(state);
}

// Folds a part's ascending values into the ascending whole (merging sorted
// runs keeps every array ascending without sorting it again).
void merge_sorted(BulkState* state, ca::BinsState* whole, const double* recency, const double* frequency,
                  const double* monetary, std::uint32_t count) {
    ca::FlatArray<double>* columns[3] = {&whole->recency, &whole->frequency, &whole->monetary};
    const double* parts[3] = {recency, frequency, monetary};
    for (int k = 0; k < 3; ++k) {
        ca::FlatArray<double>& column = *columns[k];
        const std::uint64_t size = std::uint64_t(column.size) + count;
        if (size > UINT32_MAX)
            throw std::bad_alloc();
        auto* merged = static_cast<double*>(state->arena.allocate_or_throw(sizeof(double) * (size + 1)));
        std::merge(column.begin(), column.end(), parts[k], parts[k] + count, merged);
        if (column.data != nullptr)
            state->arena.release(state->arena.context, column.data);
        column.data = merged;
        column.size = column.capacity = static_cast<std::uint32_t>(size);
    }
}

// The shape of a result row: (customer, summary [, score, segment, stage]).
// The leader has the function's result descriptor; a worker builds the same
// from the types.
struct RowShape {
    TupleDesc row;
    TupleDesc summary;
    Oid output_type;
    KeyType key_type;
    bool scoring;
    bool states;
    std::int32_t as_of_day;
    const ca::Bins* bins;  // rfm_segments: set once the bins are known
    const ScoreValues* values;
    // The texts of segments and stages, made once (in context).
    MemoryContext context;
    const char* segment_names[16];
    Datum segment_texts[16];
    int segment_count;
    Datum stage_texts[4];
};

Datum segment_text(RowShape* shape, const char* name) {
    for (int i = 0; i < shape->segment_count; ++i)
        if (shape->segment_names[i] == name)
            return shape->segment_texts[i];
    MemoryContext previous = MemoryContextSwitchTo(shape->context);
    const Datum text = PointerGetDatum(cstring_to_text(name));
    MemoryContextSwitchTo(previous);
    if (shape->segment_count < 16) {
        shape->segment_names[shape->segment_count] = name;
        shape->segment_texts[shape->segment_count++] = text;
    }
    return text;
}

RowShape row_shape(Oid output_type, Oid summary_type, Oid score_type, const BulkOptions& options, TupleDesc row) {
    RowShape shape;
    if (row == nullptr) {
        row = CreateTemplateTupleDesc(options.scoring ? 5 : options.states ? 3 : 2);
        TupleDescInitEntry(row, 1, "customer", output_type, -1, 0);
        TupleDescInitEntry(row, 2, "summary", summary_type, -1, 0);
        if (options.states)
            TupleDescInitEntry(row, 3, "state", BYTEAOID, -1, 0);
        if (options.scoring) {
            TupleDescInitEntry(row, 3, "score", score_type, -1, 0);
            TupleDescInitEntry(row, 4, "segment", TEXTOID, -1, 0);
            TupleDescInitEntry(row, 5, "stage", TEXTOID, -1, 0);
        }
    }
    shape.row = row;
    shape.summary = lookup_rowtype_tupdesc_copy(summary_type, -1);
    BlessTupleDesc(shape.summary);
    shape.output_type = output_type;
    shape.key_type = options.key_type;
    shape.scoring = options.scoring;
    shape.states = options.states;
    shape.as_of_day = options.as_of_day;
    shape.bins = nullptr;
    shape.values = nullptr;
    shape.segment_count = 0;
    shape.context = CurrentMemoryContext;
    for (int i = 0; i < 4; ++i)
        shape.stage_texts[i] = PointerGetDatum(cstring_to_text(ca::kDefaultStageNames[i]));
    return shape;
}

constexpr int kResultColumns = 5;
constexpr std::int32_t kLifecycleThresholds[] = {63, 126, 365};

// A result row. With scores: rfm_score(summary, bins) with the bins of every
// customer, rfm_segment of it and lifecycle_stage(last_order, as_of), each
// NULL without a purchase, as those functions give.
void result_values(RowShape& shape, ca::RfmSummaryTable& table, std::uint32_t customer, Datum* values, bool* nulls) {
    nulls[0] = table.null_key(customer);
    nulls[1] = !table.has_summary(customer);
    values[0] = nulls[0] ? Datum(0) : key_datum(table, customer, shape.output_type, shape.key_type);
    values[1] = nulls[1] ? Datum(0) : summary_datum(shape.summary, table, customer);
    if (shape.states) {
        nulls[2] = nulls[1];
        values[2] = nulls[2] ? Datum(0) : PointerGetDatum(state_bytes(table, customer));
    }
    if (!shape.scoring)
        return;
    const double* mine = shape.values->by_customer + 3 * std::size_t(customer);
    const bool bought = !std::isnan(mine[0]);
    nulls[2] = nulls[3] = nulls[4] = !bought;
    if (!bought)
        return;
    const ca::Bins& bins = *shape.bins;
    const ca::RfmScore score = ca::score_customer(mine[0], mine[1], mine[2], bins.buckets, bins.recency_cuts,
                                                  bins.frequency_cuts, bins.monetary_cuts);
    values[2] = UInt32GetDatum(ca::pack_score(score));
    values[3] = segment_text(&shape, ca::standard_segment(score));
    values[4] = shape.stage_texts[ca::lifecycle_index(static_cast<std::int64_t>(mine[0]), kLifecycleThresholds, 3)];
}

// The result rows of this process's customers, into the tuplestore; between
// them `between` runs (the leader takes the workers' rows meanwhile).
template <typename Between>
void emit_table(ReturnSetInfo* result, RowShape& shape, BulkState* state, Between between) {
    ca::RfmSummaryTable& table = state->table;
    MemoryContext row_context =
        AllocSetContextCreate(CurrentMemoryContext, "rfm_summaries row", ALLOCSET_DEFAULT_SIZES);
    MemoryContext previous = MemoryContextSwitchTo(row_context);
    for (std::uint32_t i = 0; i < table.size(); ++i) {
        Datum values[kResultColumns];
        bool nulls[kResultColumns];
        result_values(shape, table, i, values, nulls);
        tuplestore_putvalues(result->setResult, result->setDesc, values, nulls);
        if ((i & 255) == 255) {
            MemoryContextReset(row_context);
            CHECK_FOR_INTERRUPTS();
            between();
        }
    }
    MemoryContextSwitchTo(previous);
    MemoryContextDelete(row_context);
}

// A worker's result rows travel to the leader as minimal tuples, each
// preceded by its length and placed on an 8-byte boundary.
constexpr std::size_t kTupleBatchBytes = 64 * 1024;

void send_results(RowShape& shape, BulkState* state, shm_mq_handle* queue) {
    ca::RfmSummaryTable& table = state->table;
    Batch batch;
    batch.capacity = kTupleBatchBytes * 2;
    batch.bytes = static_cast<std::uint8_t*>(palloc(batch.capacity));
    batch.size = 0;
    MemoryContext row_context =
        AllocSetContextCreate(CurrentMemoryContext, "rfm_summaries row", ALLOCSET_DEFAULT_SIZES);
    MemoryContext previous = MemoryContextSwitchTo(row_context);
    for (std::uint32_t i = 0; i < table.size(); ++i) {
        Datum values[kResultColumns];
        bool nulls[kResultColumns];
        result_values(shape, table, i, values, nulls);
        MinimalTuple tuple = heap_form_minimal_tuple(shape.row, values, nulls);
        const std::size_t size = MAXALIGN(sizeof(std::uint64_t) + tuple->t_len);
        if (batch.size + size > batch.capacity) {
            if (shm_mq_send(queue, batch.size, batch.bytes, false, true) == SHM_MQ_DETACHED)
                member_stopped();
            batch.size = 0;
            if (size > batch.capacity) {
                batch.capacity = size;
                batch.bytes = static_cast<std::uint8_t*>(repalloc_huge(batch.bytes, size));
            }
        }
        const std::uint64_t length = tuple->t_len;
        std::memcpy(batch.bytes + batch.size, &length, sizeof length);
        std::memcpy(batch.bytes + batch.size + sizeof length, tuple, tuple->t_len);
        batch.size += size;
        if (batch.size >= kTupleBatchBytes) {
            if (shm_mq_send(queue, batch.size, batch.bytes, false, true) == SHM_MQ_DETACHED)
                member_stopped();
            batch.size = 0;
        }
        if ((i & 255) == 255) {
            MemoryContextReset(row_context);
            CHECK_FOR_INTERRUPTS();
        }
    }
    MemoryContextSwitchTo(previous);
    MemoryContextDelete(row_context);
    if (batch.size != 0 && shm_mq_send(queue, batch.size, batch.bytes, false, true) == SHM_MQ_DETACHED)
        member_stopped();
}

// After the scan: each customer's purchase days sorted, and for
// rfm_segments this process's values.
void finish_table(BulkState* state, ScoreValues* values) {
    if (!state->table.orders_mode())
        state->table.finish_days();
    check_memory(state);
    if (state->options->scoring)
        collect_values(state, values);
}

// A worker's values for the bins go to the leader first, as one message:
// the count, then the recency, frequency and monetary arrays, ascending.
void send_values(const ScoreValues& values, shm_mq_handle* queue) {
    const std::uint64_t count = values.sorted.recency.size;
    const Size size = sizeof count + 3 * sizeof(double) * count;
    auto* bytes = static_cast<std::uint8_t*>(palloc_extended(size, MCXT_ALLOC_HUGE));
    std::memcpy(bytes, &count, sizeof count);
    const ca::FlatArray<double>* columns[3] = {&values.sorted.recency, &values.sorted.frequency,
                                               &values.sorted.monetary};
    for (int k = 0; k < 3; ++k)
        if (count != 0)
            std::memcpy(bytes + sizeof count + k * sizeof(double) * count, columns[k]->data, sizeof(double) * count);
    if (shm_mq_send(queue, size, bytes, false, true) == SHM_MQ_DETACHED)
        member_stopped();
    pfree(bytes);
}

// The leader: a batch of a worker's result rows into the tuplestore.
void take_results(ReturnSetInfo* result, TupleTableSlot* slot, const std::uint8_t* bytes, std::size_t length) {
    std::size_t pos = 0;
    while (pos < length) {
        std::uint64_t size;
        std::memcpy(&size, bytes + pos, sizeof size);
        const std::uint8_t* tuple = bytes + pos + sizeof size;
        if (size > length - pos - sizeof size)
            elog(ERROR, "rfm_summaries: truncated result row from a parallel worker");
        // Queued messages start on 8-byte boundaries; a tuple is copied
        // only where one does not.
        MinimalTuple copy = nullptr;
        if (reinterpret_cast<std::uintptr_t>(tuple) % MAXIMUM_ALIGNOF != 0) {
            copy = static_cast<MinimalTuple>(palloc(size));
            std::memcpy(copy, tuple, size);
        }
        ExecStoreMinimalTuple(copy != nullptr ? copy : reinterpret_cast<MinimalTuple>(const_cast<std::uint8_t*>(tuple)),
                              slot, false);
        tuplestore_puttupleslot(result->setResult, slot);
        ExecClearTuple(slot);
        if (copy != nullptr)
            pfree(copy);
        pos += MAXALIGN(sizeof size + size);
    }
}

// ------------------------------------------------------ shared memory

constexpr std::uint64_t kKeyShared = UINT64CONST(0xCA5A000000000001);
constexpr std::uint64_t kKeyRelations = UINT64CONST(0xCA5A000000000002);
constexpr std::uint64_t kKeyQueues = UINT64CONST(0xCA5A000000000003);
constexpr std::uint64_t kKeyScans = UINT64CONST(0xCA5A000000010000);  // + relation index

struct BulkShared {
    BulkOptions options;
    int relation_count;
    int planned;         // workers planned: the queues are laid out for planned + 1 members
    bool leader_member;  // the leader scans and owns customers too
    Oid output_type;     // the result's customer type
    Oid summary_type;    // rfm_summary
    Size row_queue_size;
    Size result_queue_size;
    ConditionVariable ready;
    pg_atomic_uint32 members;  // 0 until the leader knows which workers started
    Oid score_type;            // rfm_score
    ConditionVariable bins_ready;
    pg_atomic_uint32 bins_known;  // rfm_segments: 1 once bins holds every process's bins
    ca::Bins bins;
};

// A worker waits for what the leader publishes (a count, the bins).
void wait_for(ConditionVariable* condition, pg_atomic_uint32* value) {
    ConditionVariablePrepareToSleep(condition);
    while (pg_atomic_read_u32(value) == 0)
        ConditionVariableSleep(condition, PG_WAIT_EXTENSION);
    ConditionVariableCancelSleep();
}

// Queues: rows from member i to member j at (i * (planned + 1) + j), then
// the result rows of every worker to the leader.
shm_mq* row_queue(char* space, const BulkShared* shared, int from, int to) {
    return reinterpret_cast<shm_mq*>(space + (Size(from) * (shared->planned + 1) + to) * shared->row_queue_size);
}

shm_mq* result_queue(char* space, const BulkShared* shared, int worker) {
    const Size rows = Size(shared->planned + 1) * (shared->planned + 1) * shared->row_queue_size;
    return reinterpret_cast<shm_mq*>(space + rows + Size(worker) * shared->result_queue_size);
}

Size queue_space(int planned, Size row_queue_size, Size result_queue_size) {
    return mul_size(mul_size(planned + 1, planned + 1), row_queue_size) + mul_size(planned, result_queue_size);
}

// This member's ends of the row queues (the leader attached its own before
// the workers started).
Exchange* start_exchange(BulkState* state, char* space, const BulkShared* shared, dsm_segment* segment, int self,
                         int members, bool attach) {
    auto* exchange = static_cast<Exchange*>(palloc0(sizeof(Exchange)));
    exchange->self = self;
    exchange->members = members;
    exchange->format.key_kind = state->table.key_kind();
    exchange->format.money = state->table.money_kind();
    exchange->format.orders = state->table.orders_mode();
    exchange->out = static_cast<shm_mq_handle**>(palloc0(sizeof(shm_mq_handle*) * members));
    exchange->in = static_cast<shm_mq_handle**>(palloc0(sizeof(shm_mq_handle*) * members));
    exchange->in_done = static_cast<bool*>(palloc0(sizeof(bool) * members));
    exchange->sending = static_cast<bool*>(palloc0(sizeof(bool) * members));
    exchange->pending = static_cast<Batch*>(palloc0(sizeof(Batch) * members));
    exchange->incoming = static_cast<RowBatch*>(palloc0(sizeof(RowBatch)));
    exchange->context =
        AllocSetContextCreate(CurrentMemoryContext, "rfm_summaries received rows", ALLOCSET_DEFAULT_SIZES);
    for (int j = 0; j < members; ++j) {
        if (j == self)
            continue;
        exchange->pending[j].capacity = kSendBytes + 1024;
        exchange->pending[j].bytes = static_cast<std::uint8_t*>(palloc(exchange->pending[j].capacity));
        if (attach) {
            shm_mq* out = row_queue(space, shared, self, j);
            shm_mq_set_sender(out, MyProc);
            exchange->out[j] = shm_mq_attach(out, segment, nullptr);
            shm_mq* in = row_queue(space, shared, j, self);
            shm_mq_set_receiver(in, MyProc);
            exchange->in[j] = shm_mq_attach(in, segment, nullptr);
        }
    }
    return exchange;
}

// Scans this process's share of every relation (a parallel scan hands out
// blocks to whoever asks next).
void scan_shared(BulkState* state, Exchange* exchange, shm_toc* toc, const BulkShared* shared,
                 const BulkRelation* relations) {
    for (int i = 0; i < shared->relation_count; ++i) {
        auto* pscan = static_cast<ParallelTableScanDesc>(shm_toc_lookup(toc, kKeyScans + i, false));
        Relation relation = table_open(relations[i].relid, AccessShareLock);
        TableScanDesc scan = table_beginscan_parallel(relation, pscan);
        scan_rows(state, exchange, relation, scan, relations[i]);
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
// by name): scan a share of the blocks, aggregate the customers this worker
// owns, send their result rows to the leader.
extern "C" PGDLLEXPORT void ca_rfm_summaries_worker(dsm_segment* segment, shm_toc* toc);

void ca_rfm_summaries_worker(dsm_segment* segment, shm_toc* toc) {
    guarded_void([segment, toc]() {
        auto* shared = static_cast<BulkShared*>(shm_toc_lookup(toc, kKeyShared, false));
        const auto* relations = static_cast<const BulkRelation*>(shm_toc_lookup(toc, kKeyRelations, false));
        auto* space = static_cast<char*>(shm_toc_lookup(toc, kKeyQueues, false));
        // Wait until the leader knows how many workers started.
        wait_for(&shared->ready, &shared->members);
        const int members = static_cast<int>(pg_atomic_read_u32(&shared->members));
        auto* state = static_cast<BulkState*>(palloc0(sizeof(BulkState)));
        start_state(state, &shared->options, CurrentMemoryContext);
        const int self = ParallelWorkerNumber + (shared->leader_member ? 1 : 0);
        Exchange* exchange = members > 1 ? start_exchange(state, space, shared, segment, self, members, true) : nullptr;
        scan_shared(state, exchange, toc, shared, relations);
        if (exchange != nullptr)
            finish_exchange(state, exchange);
        ScoreValues values;
        finish_table(state, &values);
        shm_mq* results = result_queue(space, shared, ParallelWorkerNumber);
        shm_mq_set_sender(results, MyProc);
        shm_mq_handle* handle = shm_mq_attach(results, segment, nullptr);
        RowShape shape =
            row_shape(shared->output_type, shared->summary_type, shared->score_type, shared->options, nullptr);
        if (shared->options.scoring) {
            send_values(values, handle);
            wait_for(&shared->bins_ready, &shared->bins_known);
            shape.bins = &shared->bins;
            shape.values = &values;
        }
        send_results(shape, state, handle);
        shm_mq_detach(handle);
    });
}

namespace {

// ---------------------------------------------------------------- source

struct Source {
    Relation relation;  // the relation named, locked
    int leaf_count;     // relations with storage
    Relation* leaves;   // opened, locked
    BulkRelation* columns;
    double pages;  // of every leaf
    bool local;    // a temporary relation: no parallel workers
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
        ereport(ERROR,
                (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("cannot access temporary tables of other sessions")));
    if (relkind == RELKIND_MATVIEW && !RelationIsPopulated(leaf))
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("materialized view \"%s\" has not been populated", RelationGetRelationName(leaf)),
                        errhint("Use the REFRESH MATERIALIZED VIEW command.")));
}

AttrNumber column_number(Relation relation, const char* name, const char* argument) {
    const AttrNumber number = get_attnum(RelationGetRelid(relation), name);
    if (number == InvalidAttrNumber)
        ereport(ERROR,
                (errcode(ERRCODE_UNDEFINED_COLUMN),
                 errmsg("column \"%s\" of relation \"%s\" does not exist", name, RelationGetRelationName(relation)),
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
        ereport(ERROR,
                (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                 errmsg("rfm_summaries cannot read \"%s\" under row-level security", RelationGetRelationName(relation)),
                 errdetail("Row-level security of \"%s\" applies to the current role, and rfm_summaries reads "
                           "the table without the policies.",
                           RelationGetRelationName(relation)),
                 errhint("Summarize it with rfm_agg and GROUP BY, which applies the policies.")));
}

// Citus keeps the rows of a table it distributes (and of its reference and
// local tables) in shards: the table of that name on this node holds none,
// and reading it would give no customers, silently. Its metadata catalog
// names every such table, partitions included; without Citus there is none.
// The catalog is scanned directly rather than queried: no search_path, no
// privilege on it and no dependency on Citus are involved.
void refuse_citus(Relation relation) {
    const Oid catalog = get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE);
    if (!OidIsValid(catalog))
        return;
    const AttrNumber key = get_attnum(catalog, "logicalrelid");
    if (key == InvalidAttrNumber)
        return;
    const Oid relid = RelationGetRelid(relation);
    List* members = has_subclass(relid) ? find_all_inheritors(relid, AccessShareLock, nullptr) : list_make1_oid(relid);
    Relation metadata = table_open(catalog, AccessShareLock);
    Oid distributed = InvalidOid;
    ListCell* cell;
    foreach (cell, members) {
        ScanKeyData scan_key;
        ScanKeyInit(&scan_key, key, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(lfirst_oid(cell)));
        SysScanDesc scan = systable_beginscan(metadata, InvalidOid, false, nullptr, 1, &scan_key);
        if (HeapTupleIsValid(systable_getnext(scan)))
            distributed = lfirst_oid(cell);
        systable_endscan(scan);
        if (OidIsValid(distributed))
            break;
    }
    table_close(metadata, AccessShareLock);
    if (!OidIsValid(distributed))
        return;
    const char* name = get_rel_name(distributed);
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("rfm_summaries cannot read \"%s\"", RelationGetRelationName(relation)),
                    errdetail("\"%s\" is a Citus table: its rows are in its shards, and rfm_summaries reads only the "
                              "table of that name on this node, which holds none of them.",
                              name != nullptr ? name : RelationGetRelationName(relation)),
                    errhint("Summarize it with rfm_agg and GROUP BY, which Citus distributes.")));
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
        // A query of the parent skips other sessions' temporary children.
        if (leaf != source->relation && RELATION_IS_OTHER_TEMP(leaf)) {
            relation_close(leaf, NoLock);
            continue;
        }
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
        scan_rows(state, nullptr, leaf, scan, source.columns[i]);
        table_endscan(scan);
    }
}

// Takes the result rows the workers have sent; with wait, until every
// worker is done.
void take_worker_results(ReturnSetInfo* result, TupleTableSlot* slot, shm_mq_handle** queues, bool* done, int workers,
                         bool wait) {
    for (;;) {
        bool progress = false;
        bool open = false;
        for (int w = 0; w < workers; ++w) {
            if (done[w])
                continue;
            Size size = 0;
            void* data = nullptr;
            const shm_mq_result received = shm_mq_receive(queues[w], &size, &data, true);
            if (received == SHM_MQ_WOULD_BLOCK) {
                open = true;
                continue;
            }
            progress = true;
            if (received == SHM_MQ_DETACHED) {
                done[w] = true;
                continue;
            }
            open = true;
            take_results(result, slot, static_cast<const std::uint8_t*>(data), size);
        }
        if (!open || !wait)
            return;
        if (!progress) {
            (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L, PG_WAIT_EXTENSION);
            ResetLatch(MyLatch);
        }
        CHECK_FOR_INTERRUPTS();
    }
}

// The leader's side of a parallel scan: it starts the workers, takes part
// in the scan and the exchange (unless parallel_leader_participation is
// off), writes its own customers' rows and then the workers'.
void scan_parallel(ReturnSetInfo* result, RowShape* shape, BulkState* state, const Source& source,
                   const BulkOptions& options, int workers) {
    Snapshot snapshot = GetActiveSnapshot();
    EnterParallelMode();
    ParallelContext* context = CreateParallelContext("customer_analytics", "ca_rfm_summaries_worker", workers);
    const Size row_queue_size = workers <= 3 ? 256 * 1024 : 64 * 1024;
    const Size result_queue_size = 256 * 1024;
    shm_toc_estimate_chunk(&context->estimator, sizeof(BulkShared));
    shm_toc_estimate_chunk(&context->estimator, sizeof(BulkRelation) * source.leaf_count);
    Size* scan_sizes = static_cast<Size*>(palloc(sizeof(Size) * source.leaf_count));
    for (int i = 0; i < source.leaf_count; ++i) {
        scan_sizes[i] = table_parallelscan_estimate(source.leaves[i], snapshot);
        shm_toc_estimate_chunk(&context->estimator, scan_sizes[i]);
    }
    shm_toc_estimate_chunk(&context->estimator, queue_space(workers, row_queue_size, result_queue_size));
    shm_toc_estimate_keys(&context->estimator, 3 + source.leaf_count);
    InitializeParallelDSM(context);

    // Without dynamic shared memory InitializeParallelDSM gives no workers.
    const int planned = context->nworkers;
    auto* shared = static_cast<BulkShared*>(shm_toc_allocate(context->toc, sizeof(BulkShared)));
    shared->options = options;
    shared->relation_count = source.leaf_count;
    shared->planned = planned;
    shared->leader_member = parallel_leader_participation;
    shared->output_type = shape->output_type;
    shared->summary_type = shape->summary->tdtypeid;
    shared->score_type = options.scoring ? TupleDescAttr(result->setDesc, 2)->atttypid : InvalidOid;
    ConditionVariableInit(&shared->bins_ready);
    pg_atomic_init_u32(&shared->bins_known, 0);
    shared->row_queue_size = row_queue_size;
    shared->result_queue_size = result_queue_size;
    ConditionVariableInit(&shared->ready);
    pg_atomic_init_u32(&shared->members, 0);
    shm_toc_insert(context->toc, kKeyShared, shared);
    auto* relations =
        static_cast<BulkRelation*>(shm_toc_allocate(context->toc, sizeof(BulkRelation) * source.leaf_count));
    std::memcpy(relations, source.columns, sizeof(BulkRelation) * source.leaf_count);
    shm_toc_insert(context->toc, kKeyRelations, relations);
    for (int i = 0; i < source.leaf_count; ++i) {
        auto* pscan = static_cast<ParallelTableScanDesc>(shm_toc_allocate(context->toc, scan_sizes[i]));
        table_parallelscan_initialize(source.leaves[i], pscan, snapshot);
        shm_toc_insert(context->toc, kKeyScans + i, pscan);
    }
    char* space = nullptr;
    Exchange* exchange = nullptr;
    shm_mq_handle** results = nullptr;
    bool* results_done = nullptr;
    if (planned > 0) {
        const Size queues = queue_space(planned, row_queue_size, result_queue_size);
        space = static_cast<char*>(shm_toc_allocate(context->toc, queues));
        shm_toc_insert(context->toc, kKeyQueues, space);
        for (int i = 0; i <= planned; ++i)
            for (int j = 0; j <= planned; ++j)
                if (i != j)
                    shm_mq_create(row_queue(space, shared, i, j), row_queue_size);
        results = static_cast<shm_mq_handle**>(palloc0(sizeof(shm_mq_handle*) * planned));
        results_done = static_cast<bool*>(palloc0(sizeof(bool) * planned));
        for (int w = 0; w < planned; ++w) {
            shm_mq* queue = shm_mq_create(result_queue(space, shared, w), result_queue_size);
            shm_mq_set_receiver(queue, MyProc);
            results[w] = shm_mq_attach(queue, context->seg, nullptr);
        }
        // The leader's ends of the row queues, before the workers start.
        if (shared->leader_member)
            exchange = start_exchange(state, space, shared, context->seg, 0, planned + 1, true);
        LaunchParallelWorkers(context);
    }
    const int launched = planned > 0 ? context->nworkers_launched : 0;
    ScoreValues values;
    if (launched == 0) {
        // Alone: the leader reads every block (through the same scans).
        scan_shared(state, nullptr, context->toc, shared, relations);
        finish_table(state, &values);
        if (options.scoring) {
            shared->bins = ca::bins_of_sorted(values.sorted);
            shape->bins = &shared->bins;
            shape->values = &values;
        }
        emit_table(result, *shape, state, []() {});
    } else {
        // A worker that failed to start raises an error here; from now on a
        // worker that stops reports its error to the leader.
        WaitForParallelWorkersToAttach(context);
        const int members = launched + (shared->leader_member ? 1 : 0);
        for (int w = 0; w < launched; ++w) {
            shm_mq_set_handle(results[w], context->worker[w].bgwhandle);
            if (exchange != nullptr) {
                shm_mq_set_handle(exchange->out[w + 1], context->worker[w].bgwhandle);
                shm_mq_set_handle(exchange->in[w + 1], context->worker[w].bgwhandle);
            }
        }
        for (int w = launched; w < planned; ++w) {
            shm_mq_detach(results[w]);
            results_done[w] = true;
        }
        pg_atomic_write_u32(&shared->members, static_cast<std::uint32_t>(members));
        ConditionVariableBroadcast(&shared->ready);
        TupleTableSlot* slot = MakeSingleTupleTableSlot(result->setDesc, &TTSOpsMinimalTuple);
        if (exchange != nullptr) {
            for (int j = members; j <= planned; ++j) {
                shm_mq_detach(exchange->out[j]);
                shm_mq_detach(exchange->in[j]);
            }
            exchange->members = members;
            scan_shared(state, exchange, context->toc, shared, relations);
            finish_exchange(state, exchange);
            finish_table(state, &values);
        }
        if (options.scoring) {
            // The bins of every process's customers: each sent its values
            // ascending; merged, they give rfm_bins' cuts and means.
            ca::BinsState all;
            all.start(options.as_of_day, 5);
            if (exchange != nullptr)
                merge_sorted(state, &all, values.sorted.recency.data, values.sorted.frequency.data,
                             values.sorted.monetary.data, values.sorted.recency.size);
            for (int w = 0; w < launched; ++w) {
                Size size = 0;
                void* data = nullptr;
                if (shm_mq_receive(results[w], &size, &data, false) != SHM_MQ_SUCCESS)
                    member_stopped();
                std::uint64_t count = 0;
                if (size >= sizeof count)
                    std::memcpy(&count, data, sizeof count);
                if (size < sizeof count || count > (size - sizeof count) / (3 * sizeof(double)) ||
                    size != sizeof count + 3 * sizeof(double) * count)
                    elog(ERROR, "rfm_segments: malformed values from a parallel worker");
                const auto* doubles = reinterpret_cast<const double*>(static_cast<const char*>(data) + sizeof count);
                merge_sorted(state, &all, doubles, doubles + count, doubles + 2 * count,
                             static_cast<std::uint32_t>(count));
                check_memory(state);
            }
            shared->bins = ca::bins_of_sorted(all);
            pg_atomic_write_u32(&shared->bins_known, 1);
            ConditionVariableBroadcast(&shared->bins_ready);
            shape->bins = &shared->bins;
            shape->values = &values;
        }
        if (exchange != nullptr)
            emit_table(result, *shape, state,
                       [&]() { take_worker_results(result, slot, results, results_done, launched, false); });
        take_worker_results(result, slot, results, results_done, launched, true);
        ExecDropSingleTupleTableSlot(slot);
    }
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

// segment_bulk_states returns records whose columns its caller lists
// (customer <the key's type>, summary rfm_summary, state bytea): a function
// with a polymorphic customer argument could be outbid, in the extension's
// schema, by an overload of the exact customer type another role created
// there, and would then run as whoever builds. The list is a caller's
// claim: the summary must be the rfm_summary of the function's own schema
// (the customer is checked with the key type, as for rfm_summaries).
void check_states_row(Oid function, TupleDesc row) {
    const Oid summary_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum("rfm_summary"),
                                             ObjectIdGetDatum(get_func_namespace(function)));
    if (row->natts != 3 || TupleDescAttr(row, 1)->atttypid != summary_type || !OidIsValid(summary_type) ||
        TupleDescAttr(row, 2)->atttypid != BYTEAOID)
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("segment_bulk_states returns (customer, summary rfm_summary, state bytea)"),
                        errdetail("The column definition list of the call must name these three columns, the "
                                  "customer's of the customer column's type.")));
}

}  // namespace

namespace {

// rfm_summaries(source, customer_column, date_column, amount_column
// [, customer_type], order_column, min_purchase), and rfm_segments with
// as_of after amount_column: the form with a customer_type has one
// argument more.
Datum bulk_summaries(FunctionCallInfo fcinfo, bool scoring, bool states = false) {
    InitMaterializedSRF(fcinfo, 0);
    auto* result = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    if (states)
        check_states_row(fcinfo->flinfo->fn_oid, result->setDesc);
    if (PG_ARGISNULL(0))
        throw ca::Error(ca::ErrorKind::null_value_not_allowed, "source must not be null");
    const Oid relid = PG_GETARG_OID(0);
    const int base = scoring ? 5 : 4;
    const bool typed = PG_NARGS() == base + 3;
    const int order_argument = base + (typed ? 1 : 0);
    const int minimum_argument = order_argument + 1;
    std::int32_t as_of_day = 0;
    if (scoring) {
        if (PG_ARGISNULL(4))
            throw ca::Error(ca::ErrorKind::null_value_not_allowed, "as_of must not be null");
        as_of_day = ca::pg::finite_date(PG_GETARG_DATEADT(4), "as_of");
    }
    const char* names[column_count] = {name_argument(fcinfo, 1, "customer_column"),
                                       name_argument(fcinfo, 2, "date_column"),
                                       name_argument(fcinfo, 3, "amount_column"),
                                       PG_ARGISNULL(order_argument) ? nullptr
                                                                    : NameStr(*PG_GETARG_NAME(order_argument))};
    const bool has_minimum = !PG_ARGISNULL(minimum_argument);

    Source source;
    source.relation = relation_open(relid, AccessShareLock);
    if (!readable_kind(source.relation->rd_rel->relkind))
        refuse_relation(source.relation, relkind_phrase(source.relation->rd_rel->relkind));
    refuse_citus(source.relation);
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
    options->order_type = names[order_column] == nullptr
                              ? OrderType::none
                              : order_type_of(source.relation, columns[order_column], names[order_column]);
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
    options->memory_limit = states ? build_memory_limit() : get_hash_memory_limit();
    options->scoring = scoring;
    options->as_of_day = as_of_day;
    options->states = states;
    const Oid output_type = TupleDescAttr(result->setDesc, 0)->atttypid;
    const Oid declared = TupleDescAttr(RelationGetDescr(source.relation), columns[customer_column] - 1)->atttypid;
    check_output_type(output_type, declared, options->key_type, names[customer_column], typed);

    open_leaves(&source);
    resolve_columns(&source, names);

    MemoryContext work = AllocSetContextCreate(CurrentMemoryContext, "rfm_summaries", ALLOCSET_DEFAULT_SIZES);
    auto* state = static_cast<BulkState*>(MemoryContextAllocZero(work, sizeof(BulkState)));
    start_state(state, options, work);
    RowShape shape =
        row_shape(output_type, TupleDescAttr(result->setDesc, 1)->atttypid,
                  scoring ? TupleDescAttr(result->setDesc, 2)->atttypid : InvalidOid, *options, result->setDesc);
    const int workers = worker_count(source);
    if (workers == 0) {
        scan_serial(state, source);
        ScoreValues values;
        finish_table(state, &values);
        ca::Bins bins;
        if (scoring) {
            bins = ca::bins_of_sorted(values.sorted);
            shape.bins = &bins;
            shape.values = &values;
        }
        emit_table(result, shape, state, []() {});
    } else {
        scan_parallel(result, &shape, state, source, *options, workers);
    }
    MemoryContextDelete(work);

    for (int i = 0; i < source.leaf_count; ++i)
        if (source.leaves[i] != source.relation)
            relation_close(source.leaves[i], NoLock);
    relation_close(source.relation, NoLock);
    return Datum(0);
}

}  // namespace

CA_FUNCTION(ca_rfm_summaries) { return bulk_summaries(fcinfo, false); }

// rfm_segments: the summaries with rfm_score, rfm_segment and
// lifecycle_stage over rfm_bins of all of them, in the same pass.
CA_FUNCTION(ca_rfm_segments) { return bulk_summaries(fcinfo, true); }

// segment_bulk_states: the summaries with each customer's rfm_agg_state
// bytes, for the segment builder's full builds.
CA_FUNCTION(ca_segment_bulk_states) { return bulk_summaries(fcinfo, false, true); }
