// What the unit tests share: the kind of error a call raises, a
// malloc-backed Arena, serialized states as byte vectors, and small value
// helpers (random numbers, decimals, scores).
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "arena.hpp"
#include "decimal.hpp"
#include "error.hpp"
#include "rfm_score.hpp"
#include "state_format.hpp"

namespace customer_analytics_test {

// The ErrorKind of the customer_analytics::Error that f() throws (a test
// failure when it throws none). The message must follow PostgreSQL's
// style: lower-case start, no final period.
template <class F>
customer_analytics::ErrorKind kind_of(F&& f) {
    try {
        f();
    } catch (const customer_analytics::Error& e) {
        const std::string message = e.what();
        EXPECT_FALSE(message.empty());
        if (!message.empty()) {
            EXPECT_FALSE(std::isupper(static_cast<unsigned char>(message[0]))) << message;
            EXPECT_NE(message.back(), '.') << message;
        }
        return e.kind();
    }
    ADD_FAILURE() << "expected a customer_analytics::Error";
    return customer_analytics::ErrorKind::internal_error;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// A uniform double in [0, 1) from the raw engine output, the same on every
// platform (std distributions are not).
inline double unit(std::mt19937_64& g) { return static_cast<double>(g() >> 11) * 0x1.0p-53; }

// mantissa * 10^-scale.
inline customer_analytics::Decimal dec(customer_analytics::int128 mantissa, std::int32_t scale) {
    customer_analytics::Decimal value;
    value.mantissa = mantissa;
    value.scale = scale;
    return value;
}

inline customer_analytics::RfmScore score_of(int r, int f, int m) { return customer_analytics::RfmScore{r, f, m}; }

inline bool same_score(const customer_analytics::RfmScore& a, const customer_analytics::RfmScore& b) {
    return a.r == b.r && a.f == b.f && a.m == b.m;
}

// Adds customers (recency, frequency, monetary) to a bins state.
inline void add_customers(const customer_analytics::Arena& arena, customer_analytics::BinsState& state,
                          const std::vector<std::array<double, 3>>& customers) {
    for (const auto& c : customers)
        state.add(arena, c[0], c[1], c[2]);
}

// The text form of a score ("545", "10-4-5").
inline std::string score_text(const customer_analytics::RfmScore& score) {
    char buffer[customer_analytics::kScoreTextCapacity];
    return customer_analytics::format_score(score, buffer);
}

// The bytes write(StateWriter&) produces.
template <typename Write>
std::vector<std::uint8_t> bytes_of(Write write) {
    std::vector<std::uint8_t> out;
    customer_analytics::write_state(write, [&out](std::size_t size) {
        out.resize(size);
        return out.data();
    });
    return out;
}

// A malloc-backed Arena. The core never frees arena memory (PostgreSQL frees
// the memory context wholesale), so this records every block and frees them
// all in its destructor, which keeps ASan's leak checker quiet. It can also
// be told to fail after a number of allocations, to check that the core
// reports out-of-memory as std::bad_alloc.
class TestArena {
public:
    TestArena() {
        arena_.allocate = &TestArena::allocate;
        arena_.context = this;
    }
    ~TestArena() {
        for (void* block : blocks_)
            std::free(block);
    }
    TestArena(const TestArena&) = delete;
    TestArena& operator=(const TestArena&) = delete;

    const customer_analytics::Arena& arena() const { return arena_; }
    operator const customer_analytics::Arena&() const { return arena_; }

    std::size_t allocations() const { return blocks_.size(); }
    std::size_t bytes_allocated() const { return bytes_; }
    // After `count` more successful allocations, allocate returns nullptr.
    void fail_after(std::size_t count) { remaining_ = static_cast<long>(count); }

private:
    static void* allocate(void* context, std::size_t bytes) {
        auto* self = static_cast<TestArena*>(context);
        if (self->remaining_ == 0)
            return nullptr;
        if (self->remaining_ > 0)
            --self->remaining_;
        void* block = std::malloc(bytes);
        if (block != nullptr) {
            self->blocks_.push_back(block);
            self->bytes_ += bytes;
        }
        return block;
    }

    customer_analytics::Arena arena_;
    std::vector<void*> blocks_;
    std::size_t bytes_ = 0;
    long remaining_ = -1;  // negative: never fail
};

}  // namespace customer_analytics_test
