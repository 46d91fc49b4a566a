// A malloc-backed Arena for the unit tests. The core never frees arena
// memory (PostgreSQL frees the memory context wholesale), so this records
// every block and frees them all in its destructor, which keeps ASan's leak
// checker quiet. It can also be told to fail after a number of allocations,
// to check that the core reports out-of-memory as std::bad_alloc.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <vector>

#include "arena.hpp"

namespace customer_analytics_test {

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
