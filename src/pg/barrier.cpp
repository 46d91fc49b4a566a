#include "barrier.hpp"

extern "C" {
PG_MODULE_MAGIC;
}

namespace customer_analytics::pg {

namespace {

int sqlstate_of(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::invalid_parameter_value:
        return ERRCODE_INVALID_PARAMETER_VALUE;
    case ErrorKind::numeric_value_out_of_range:
        return ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
    case ErrorKind::invalid_text_representation:
        return ERRCODE_INVALID_TEXT_REPRESENTATION;
    case ErrorKind::data_exception:
        return ERRCODE_DATA_EXCEPTION;
    case ErrorKind::invalid_binary_representation:
        return ERRCODE_INVALID_BINARY_REPRESENTATION;
    case ErrorKind::array_subscript_error:
        return ERRCODE_ARRAY_SUBSCRIPT_ERROR;
    case ErrorKind::null_value_not_allowed:
        return ERRCODE_NULL_VALUE_NOT_ALLOWED;
    case ErrorKind::query_canceled:
        return ERRCODE_QUERY_CANCELED;
    case ErrorKind::program_limit_exceeded:
        return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
    case ErrorKind::out_of_memory:
        return ERRCODE_OUT_OF_MEMORY;
    case ErrorKind::internal_error:
        break;
    }
    return ERRCODE_INTERNAL_ERROR;
}

void copy_text(char* target, std::size_t capacity, const char* source) {
    std::strncpy(target, source, capacity - 1);
    target[capacity - 1] = '\0';
}

// Only a cancel, a statement timeout, a termination or a lost client stops a
// core loop. Not every InterruptPending is one: in a parallel plan the leader
// is signalled whenever a worker sends a message, which the next
// CHECK_FOR_INTERRUPTS handles without error.
bool interrupt_pending(void*) {
    return InterruptPending && (QueryCancelPending || ProcDiePending || ClientConnectionLost);
}

}  // namespace

void record_error(CaughtError* caught, const Error& error) {
    caught->sqlstate = sqlstate_of(error.kind());
    caught->canceled = error.kind() == ErrorKind::query_canceled;
    copy_text(caught->message, sizeof caught->message, error.what());
    copy_text(caught->detail, sizeof caught->detail, error.detail().c_str());
    copy_text(caught->hint, sizeof caught->hint, error.hint().c_str());
}

void record_error(CaughtError* caught, int sqlstate, const char* message) {
    caught->sqlstate = sqlstate;
    caught->canceled = false;
    copy_text(caught->message, sizeof caught->message, message);
    caught->detail[0] = '\0';
    caught->hint[0] = '\0';
}

void raise_error(const CaughtError& caught) {
    // A core loop stopped because an interrupt is pending: let PostgreSQL
    // raise the real error (cancel, statement_timeout, termination).
    if (caught.canceled)
        CHECK_FOR_INTERRUPTS();
    ereport(ERROR, (errcode(caught.sqlstate), errmsg_internal("%s", caught.message),
                    caught.detail[0] != '\0' ? errdetail_internal("%s", caught.detail) : 0,
                    caught.hint[0] != '\0' ? errhint("%s", caught.hint) : 0));
    pg_unreachable();
}

const char* PostgresError::what() const noexcept {
    return data_->message != nullptr ? data_->message : "PostgreSQL error";
}

ErrorData* take_error(MemoryContext context) {
    MemoryContextSwitchTo(context);
    ErrorData* data = CopyErrorData();
    FlushErrorState();
    return data;
}

Interrupts interrupts() {
    Interrupts result;
    result.pending = interrupt_pending;
    return result;
}

}  // namespace customer_analytics::pg
