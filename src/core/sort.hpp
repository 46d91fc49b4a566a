// Sorting that can be cancelled. std::sort of a hundred million values runs
// for seconds without a point where a query cancel could take effect; this
// sort polls Interrupts every few milliseconds and otherwise behaves like
// std::sort (in place, not stable, O(n log n) worst case).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "error.hpp"

namespace customer_analytics {

namespace sort_detail {

// Ranges up to this size go to std::sort (well under a millisecond).
constexpr std::ptrdiff_t kBlock = std::ptrdiff_t(1) << 14;

// Heapsort with polling: the fallback when partitioning degenerates.
template <typename T, typename Less>
void heap_sort(T* first, T* last, Less& less, InterruptMeter& meter) {
    const std::ptrdiff_t n = last - first;
    for (std::ptrdiff_t i = 2; i <= n; ++i) {
        std::push_heap(first, first + i, less);
        meter.add(32);
    }
    for (std::ptrdiff_t i = n; i > 1; --i) {
        std::pop_heap(first, first + i, less);
        meter.add(32);
    }
}

// Hoare partition around the median of the first, middle and last values:
// returns cut with [first, cut) <= pivot <= [cut, last), both non-empty.
template <typename T, typename Less>
T* partition(T* first, T* last, Less& less, InterruptMeter& meter, std::uint64_t cost) {
    T* middle = first + (last - first) / 2;
    T* back = last - 1;
    if (less(*middle, *first))
        std::iter_swap(middle, first);
    if (less(*back, *middle)) {
        std::iter_swap(back, middle);
        if (less(*middle, *first))
            std::iter_swap(middle, first);
    }
    const T pivot = *middle;
    std::ptrdiff_t i = -1, j = last - first;
    for (;;) {
        // The median of three leaves a value <= pivot at the front and one
        // >= pivot at the back, so the scans stop inside the range; the
        // bounds also hold for comparators that are not strict weak orders.
        do
            ++i;
        while (i < j && less(first[i], pivot));
        do
            --j;
        while (j > 0 && less(pivot, first[j]));
        if (i >= j)
            return first + j + 1;
        std::iter_swap(first + i, first + j);
        meter.add(cost);
    }
}

template <typename T, typename Less>
void sort_range(T* first, T* last, Less& less, InterruptMeter& meter, std::uint64_t cost, int depth) {
    while (last - first > kBlock) {
        if (depth-- == 0) {
            heap_sort(first, last, less, meter);
            return;
        }
        meter.add(cost * static_cast<std::uint64_t>(last - first) / 8);
        T* cut = partition(first, last, less, meter, cost);
        if (cut == first || cut == last) {  // cannot happen with a consistent comparator
            heap_sort(first, last, less, meter);
            return;
        }
        // Recurse into the smaller part, loop on the larger: O(log n) stack.
        if (cut - first < last - cut) {
            sort_range(first, cut, less, meter, cost, depth);
            first = cut;
        } else {
            sort_range(cut, last, less, meter, cost, depth);
            last = cut;
        }
    }
    std::sort(first, last, less);
    meter.add(cost * static_cast<std::uint64_t>(last - first) * 14);
}

}  // namespace sort_detail

// Sorts [first, last) by `less`. `cost` is the rough cost of one comparison
// in work units (1 for numbers; the row length for rows compared
// lexicographically), so that polling stays every few milliseconds.
template <typename T, typename Less>
void sort_interruptible(T* first, T* last, Less less, const Interrupts& interrupts, std::uint64_t cost = 1) {
    InterruptMeter meter(interrupts);
    int depth = 8;
    for (std::ptrdiff_t n = last - first; n > 1; n >>= 1)
        depth += 2;
    sort_detail::sort_range(first, last, less, meter, cost, depth);
}

// Moves the `keep` smallest elements of data[0, n) (by `less`) to the
// front, in order, and returns how many that is (min(keep, n)); the rest is
// left unspecified. Works in chunks of max(keep, 65536) elements, polling
// between them, so that picking the top 100 of millions stays cancellable
// and costs O(n + n keep / chunk).
template <typename T, typename Less>
std::size_t smallest_sorted(T* data, std::size_t n, std::size_t keep, Less less, const Interrupts& interrupts) {
    if (keep >= n) {
        sort_interruptible(data, data + n, less, interrupts);
        return n;
    }
    const std::size_t chunk = std::max<std::size_t>(keep, std::size_t(1) << 16);
    std::size_t kept = 0;  // data[0, kept) holds the best so far
    for (std::size_t next = 0; next < n;) {
        interrupts.check();
        const std::size_t take = std::min(chunk, n - next);
        // Bring the chunk next to the kept ones (a rotation by sequential
        // swaps; the discarded elements move behind).
        if (next != kept)
            for (std::size_t i = 0; i < take; ++i)
                std::swap(data[kept + i], data[next + i]);
        const std::size_t total = kept + take;
        if (total > keep) {
            std::nth_element(data, data + keep, data + total, less);
            kept = keep;
        } else {
            kept = total;
        }
        next += take;
    }
    sort_interruptible(data, data + kept, less, interrupts);
    return kept;
}

}  // namespace customer_analytics
