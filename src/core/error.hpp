// Errors raised by the core. Each carries the SQL error class it maps to, so
// the PostgreSQL glue can report it with the right SQLSTATE without parsing
// messages. The core never includes PostgreSQL headers; the glue owns the
// mapping from ErrorKind to ERRCODE_*.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace customer_analytics {

enum class ErrorKind {
    invalid_parameter_value,        // 22023: a bad argument (unsorted thresholds, buckets < 2, ...)
    numeric_value_out_of_range,     // 22003: a result that does not fit its type
    invalid_text_representation,    // 22P02: unparsable input text
    data_exception,                 // 22000: data that violates a documented precondition
    invalid_binary_representation,  // 22P03: a corrupt serialized state (state_format.hpp)
    array_subscript_error,          // 2202E: arrays of mismatched length
    null_value_not_allowed,         // 22004: a NULL where none is allowed
    query_canceled,                 // 57014: a long loop saw a pending interrupt
    program_limit_exceeded,         // 54000: input beyond a documented size limit
    out_of_memory,                  // 53200: memory could not be had
    internal_error,                 // XX000: a bug; never for anything SQL input can cause
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, std::string message, std::string detail = {}, std::string hint = {})
        : std::runtime_error(message), kind_(kind), detail_(std::move(detail)), hint_(std::move(hint)) {}

    ErrorKind kind() const noexcept { return kind_; }
    const std::string& detail() const noexcept { return detail_; }
    const std::string& hint() const noexcept { return hint_; }

private:
    ErrorKind kind_;
    std::string detail_;
    std::string hint_;
};

// Long loops (model fits, k-means) poll this between iterations. The glue
// supplies a function that reads PostgreSQL's InterruptPending flag without
// raising anything; the core throws ErrorKind::query_canceled and the glue,
// after every C++ frame has unwound, lets PostgreSQL raise the real error.
struct Interrupts {
    bool (*pending)(void* context) = nullptr;
    void* context = nullptr;

    void check() const {
        if (pending != nullptr && pending(context))
            throw Error(ErrorKind::query_canceled, "canceling statement due to user request");
    }
};

// Polls once per `every` units of work (roughly arithmetic operations or
// element moves; the default is a few milliseconds), for loops whose
// iterations differ widely in cost (a k-means pass over 10 features or
// 1000), so that cancellation takes effect within 100 ms either way.
class InterruptMeter {
public:
    explicit InterruptMeter(const Interrupts& interrupts, std::uint64_t every = std::uint64_t(1) << 22)
        : interrupts_(interrupts), every_(every) {}
    void add(std::uint64_t work) {
        spent_ += work;
        if (spent_ >= every_) {
            spent_ = 0;
            interrupts_.check();
        }
    }

private:
    const Interrupts& interrupts_;
    std::uint64_t every_;
    std::uint64_t spent_ = 0;
};

}  // namespace customer_analytics
