// libFuzzer target: bytes that claim to be a serialized rfm_agg or rfm_bins
// state (as a parallel worker or a distributed engine would send them) must
// be either accepted and usable, or rejected with an Error; never undefined
// behaviour. Built with -fsanitize=fuzzer,address,undefined.
#include <cstdlib>
#include <vector>

#include "error.hpp"
#include "rfm.hpp"

namespace ca = customer_analytics;

namespace {

struct MallocArena {
    std::vector<void*> blocks;
    ~MallocArena() {
        for (void* block : blocks)
            std::free(block);
    }
    static void* allocate(void* self, std::size_t bytes) {
        void* block = std::malloc(bytes);
        static_cast<MallocArena*>(self)->blocks.push_back(block);
        return block;
    }
    ca::Arena arena() { return ca::Arena{allocate, this}; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    MallocArena memory;
    const ca::Arena arena = memory.arena();
    try {
        ca::OrderSummaryState state;
        std::size_t consumed = 0;
        ca::summary_deserialize(arena, data, size, &state, &consumed);
        // An accepted state must survive every later use.
        ca::OrderSummaryState merged;
        merged.money_kind = state.money_kind;
        merged.merge(arena, state);
        merged.add_row_date(arena, state.last_day, true);
        std::vector<std::uint8_t> bytes(ca::summary_serialized_size(merged));
        ca::summary_serialize(merged, bytes.data());
    } catch (const ca::Error&) {
    }
    try {
        ca::BinsState bins;
        ca::bins_deserialize(arena, data, size, &bins);
        if (bins.buckets != 0)
            ca::compute_bins(bins);
    } catch (const ca::Error&) {
    }
    return 0;
}
