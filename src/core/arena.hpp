// Memory for aggregate states. PostgreSQL keeps an aggregate's state in the
// aggregate memory context and frees it wholesale (also when a query fails),
// so states are flat, trivially copyable structs whose arrays come from an
// Arena: the glue hands in a function that allocates from that context, the
// tests hand in malloc. Nothing here owns memory or has a destructor, which is
// what lets a PostgreSQL error abandon a state without leaking or crashing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <type_traits>

#include "error.hpp"

namespace customer_analytics {

struct Arena {
    // Returns nullptr when out of memory; never throws and never longjmps.
    void* (*allocate)(void* context, std::size_t bytes) = nullptr;
    void* context = nullptr;
    // The largest block allocate() can return (PostgreSQL: 1 GB - 1). Arrays
    // never ask for more: past it they raise program_limit_exceeded rather
    // than hand the allocator a request it rejects with an internal error.
    std::size_t max_bytes = SIZE_MAX;
    // Optional: takes back a block that allocate returned, for structures
    // that outgrow large blocks (nullptr: blocks stay until the memory is
    // freed wholesale, which is always correct).
    void (*release)(void* context, void* block) = nullptr;

    void* allocate_or_throw(std::size_t bytes) const {
        void* memory = allocate(context, bytes == 0 ? 1 : bytes);
        if (memory == nullptr)
            throw std::bad_alloc();
        return memory;
    }
};

// A growable array in arena memory. Growth abandons the old block to the
// arena (freed with its memory context); doubling bounds the waste to the
// size of the live array.
template <typename T>
struct FlatArray {
    static_assert(std::is_trivially_copyable<T>::value, "FlatArray holds plain values only");

    T* data = nullptr;
    std::uint32_t size = 0;
    std::uint32_t capacity = 0;

    void reserve(const Arena& arena, std::uint64_t wanted) {
        if (wanted <= capacity)
            return;
        const std::uint64_t most = std::min<std::uint64_t>(UINT32_MAX, arena.max_bytes / sizeof(T));
        if (wanted > most)
            throw Error(ErrorKind::program_limit_exceeded, "aggregate state exceeds the limit of one memory block",
                        "An array of the state would need more than " + std::to_string(arena.max_bytes) + " bytes.",
                        "Aggregate fewer rows per group, or a sample.");
        std::uint64_t grown = capacity == 0 ? 8 : std::uint64_t(capacity) * 2;
        if (grown < wanted)
            grown = wanted;
        if (grown > most)
            grown = most;
        T* fresh = static_cast<T*>(arena.allocate_or_throw(grown * sizeof(T)));
        if (size != 0)
            std::memcpy(fresh, data, size * sizeof(T));
        data = fresh;
        capacity = static_cast<std::uint32_t>(grown);
    }

    void push_back(const Arena& arena, const T& value) {
        if (size == capacity)
            reserve(arena, std::uint64_t(size) + 1);
        data[size++] = value;
    }

    void append(const Arena& arena, const T* values, std::uint32_t count) {
        if (count == 0)
            return;
        reserve(arena, std::uint64_t(size) + count);
        std::memcpy(data + size, values, count * sizeof(T));
        size += count;
    }

    const T* begin() const { return data; }
    const T* end() const { return data + size; }
    T* begin() { return data; }
    T* end() { return data + size; }
};

}  // namespace customer_analytics
