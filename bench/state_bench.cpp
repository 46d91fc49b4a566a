// Per-group cost of rfm_agg's serialize and deserialize in the core (what a
// parallel plan pays per customer and worker), over typical customers:
// 1..20 orders on distinct days of three years, numeric amounts with two
// decimals. Build and run:
//   g++ -O2 -std=c++17 -Isrc/core bench/state_bench.cpp src/core/rfm_summary.cpp \
//       src/core/decimal.cpp src/core/state_format.cpp -o /tmp/state_bench
//   /tmp/state_bench 3000000
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "rfm_summary.hpp"
#include "state_format.hpp"

namespace ca = customer_analytics;

namespace {

// A bump allocator reset per state, like the per-group memory of a plan.
struct Bump {
    std::vector<char> buffer = std::vector<char>(1 << 20);
    std::size_t used = 0;
    static void* allocate(void* self, std::size_t bytes) {
        auto* bump = static_cast<Bump*>(self);
        bytes = (bytes + 15) & ~std::size_t(15);
        if (bump->used + bytes > bump->buffer.size())
            return nullptr;
        void* block = bump->buffer.data() + bump->used;
        bump->used += bytes;
        return block;
    }
};

}  // namespace

int main(int argc, char** argv) {
    const int states = argc > 1 ? std::atoi(argv[1]) : 1000000;
    Bump bump;
    const ca::Arena arena{Bump::allocate, &bump};
    std::vector<ca::OrderSummaryState> customers(1000);
    unsigned seed = 42;
    auto next = [&seed] {
        seed = seed * 1103515245u + 12345u;
        return (seed >> 8) & 0xffff;
    };
    for (ca::OrderSummaryState& s : customers) {
        const int orders = 1 + static_cast<int>(next() % 20);
        for (int o = 0; o < orders; ++o) {
            s.add_row_date(arena, 8036 + static_cast<std::int32_t>(next() % 1095), true);
            s.add_decimal(ca::Decimal{static_cast<long>(next() % 50000), 2});
        }
        s.purchase_days.compact();
    }
    std::vector<std::uint8_t> out(1 << 16);
    std::size_t total = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < states; ++i) {
        ca::OrderSummaryState& s = customers[i % 1000];
        total += ca::write_state(
            ca::summary_state_size(s, nullptr), [&s](ca::StateWriter& w) { ca::write_summary_state(w, s, nullptr); },
            [&out](std::size_t) { return out.data(); });
    }
    const auto t1 = std::chrono::steady_clock::now();
    std::vector<std::vector<std::uint8_t>> bytes(1000);
    for (int i = 0; i < 1000; ++i)
        ca::write_state([&](ca::StateWriter& w) { ca::write_summary_state(w, customers[i], nullptr); },
                        [&](std::size_t size) {
                            bytes[i].resize(size);
                            return bytes[i].data();
                        });
    long check = 0;
    const auto t2 = std::chrono::steady_clock::now();
    for (int i = 0; i < states; ++i) {
        bump.used = 0;
        ca::OrderSummaryState s;
        ca::LargeDecimal overflow;
        bool has_overflow;
        const std::vector<std::uint8_t>& b = bytes[i % 1000];
        ca::read_summary_state(arena, b.data(), b.size(), &s, &overflow, &has_overflow);
        check += s.purchases;
    }
    const auto t3 = std::chrono::steady_clock::now();
    auto per_state = [states](auto a, auto b) {
        return std::chrono::duration<double, std::nano>(b - a).count() / states;
    };
    std::printf("serialize %.1f ns/state, deserialize %.1f ns/state (%.1f bytes a state, check %ld)\n",
                per_state(t0, t1), per_state(t2, t3), double(total) / states, check);
}
