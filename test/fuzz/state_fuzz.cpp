// libFuzzer target: bytes that claim to be a serialized aggregate state (as
// a parallel worker, a distributed engine or a user's stored rfm_agg_state
// would hand them over) go through every state reader, the very core
// functions the glue calls, including the reader of 0.1.0 rfm_agg states.
// Each must reject them with Error(invalid_binary_representation) or accept
// a state that is valid: written again and read again it comes back the
// same, and it survives being used. Anything else (another error, a crash,
// undefined behaviour, an allocation beyond the input size) is a finding.
// Built with -fsanitize=fuzzer,address,undefined.
//
// The first input byte picks a reader; the rest follows a valid header for
// it, so the fuzzer spends its time on the fields. The whole input is also
// fed to every reader as it is, which covers the header checks.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "affinity.hpp"
#include "campaign.hpp"
#include "pareto.hpp"
#include "error.hpp"
#include "btyd/fit_state.hpp"
#include "kmeans.hpp"
#include "rfm_bins.hpp"
#include "rfm_summary.hpp"
#include "rfm_summary_orders.hpp"
#include "segment_distribution.hpp"
#include "state_format.hpp"
#include "tags.hpp"

namespace ca = customer_analytics;

namespace {

using Bytes = std::vector<std::uint8_t>;

// Frees every block at the end of the run and checks that no reader
// allocates much more than its input: counts are checked against the bytes
// left before anything is allocated.
struct MallocArena {
    std::vector<void*> blocks;
    std::size_t total = 0;
    ~MallocArena() {
        for (void* block : blocks)
            std::free(block);
    }
    static void* allocate(void* self, std::size_t bytes) {
        auto* arena = static_cast<MallocArena*>(self);
        arena->total += bytes;
        void* block = std::malloc(bytes);
        arena->blocks.push_back(block);
        return block;
    }
    ca::Arena arena() { return ca::Arena{allocate, this}; }
};

// Arrays start at 8 elements, so small inputs get a little more.
std::size_t bounded(const Bytes& in) { return 2 * in.size() + 512; }

template <typename Write>
Bytes bytes_of(Write write) {
    Bytes out;
    ca::write_state(write, [&out](std::size_t size) {
        out.resize(size);
        return out.data();
    });
    return out;
}

void check(bool ok) {
    if (!ok)
        __builtin_trap();
}

// Each reader reads, checks memory, writes what it read, reads that again
// and checks it writes the same bytes.
Bytes summary(const Bytes& in) {
    MallocArena memory;
    ca::OrderSummaryState state;
    ca::LargeDecimal overflow;
    bool has_overflow = false;
    ca::read_summary_state(memory.arena(), in.data(), in.size(), &state, &overflow, &has_overflow);
    check(memory.total <= bounded(in));
    if (has_overflow) {
        std::vector<char> text(ca::large_decimal_text_capacity(overflow));
        check(ca::large_decimal_format(overflow, text.data()) < text.size());
    }
    // An accepted state keeps working (merging it into itself doubles it, or
    // raises numeric_value_out_of_range).
    ca::OrderSummaryState merged;
    merged.money_kind = state.money_kind;
    merged.merge(memory.arena(), state);
    try {
        merged.merge(memory.arena(), state);
    } catch (const ca::Error& e) {
        check(e.kind() == ca::ErrorKind::numeric_value_out_of_range);
    }
    return bytes_of([&](ca::StateWriter& w) { ca::write_summary_state(w, state, has_overflow ? &overflow : nullptr); });
}

Bytes bins(const Bytes& in) {
    MallocArena memory;
    ca::BinsState state;
    ca::read_bins_state(memory.arena(), in.data(), in.size(), &state);
    check(memory.total <= bounded(in));
    const Bytes out = bytes_of([&](ca::StateWriter& w) { ca::write_bins_state(w, state); });
    if (state.buckets != 0)
        ca::compute_bins(state);
    return out;
}

Bytes btyd_fit(const Bytes& in) {
    MallocArena memory;
    double penalty;
    bool given;
    ca::FlatArray<ca::BtydObservation> rows;
    ca::read_btyd_fit_state(memory.arena(), in.data(), in.size(), &penalty, &given, &rows);
    check(memory.total <= bounded(in));
    return bytes_of([&](ca::StateWriter& w) { ca::write_btyd_fit_state(w, penalty, given, rows.data, rows.size); });
}

Bytes bgbb_fit(const Bytes& in) {
    MallocArena memory;
    double penalty;
    bool given;
    ca::FlatArray<ca::BgbbObservation> rows;
    ca::read_bgbb_fit_state(memory.arena(), in.data(), in.size(), &penalty, &given, &rows);
    check(memory.total <= bounded(in));
    return bytes_of([&](ca::StateWriter& w) { ca::write_bgbb_fit_state(w, penalty, given, rows.data, rows.size); });
}

Bytes sbg_fit(const Bytes& in) {
    MallocArena memory;
    double penalty;
    bool given;
    ca::FlatArray<ca::SbgObservation> rows;
    ca::read_sbg_fit_state(memory.arena(), in.data(), in.size(), &penalty, &given, &rows);
    check(memory.total <= bounded(in));
    return bytes_of([&](ca::StateWriter& w) { ca::write_sbg_fit_state(w, penalty, given, rows.data, rows.size); });
}

Bytes btyd_cov_fit(const Bytes& in) {
    MallocArena memory;
    std::uint32_t k, rows;
    ca::FlatArray<double> values;
    ca::read_btyd_cov_fit_state(memory.arena(), in.data(), in.size(), &k, &values, &rows);
    check(memory.total <= bounded(in));
    return bytes_of([&](ca::StateWriter& w) { ca::write_btyd_cov_fit_state(w, k, values.data, rows); });
}

Bytes gamma_gamma_fit(const Bytes& in) {
    MallocArena memory;
    double penalty;
    bool given;
    ca::FlatArray<ca::GammaGammaObservation> rows;
    ca::read_gamma_gamma_fit_state(memory.arena(), in.data(), in.size(), &penalty, &given, &rows);
    check(memory.total <= bounded(in));
    return bytes_of(
        [&](ca::StateWriter& w) { ca::write_gamma_gamma_fit_state(w, penalty, given, rows.data, rows.size); });
}

Bytes activity(const Bytes& in) {
    ca::ActivityThresholds thresholds;
    const ca::ActivityState state = ca::read_activity_state(in.data(), in.size(), &thresholds);
    state.result(thresholds);
    return bytes_of([&](ca::StateWriter& w) { ca::write_activity_state(w, state, thresholds); });
}

Bytes coupon(const Bytes& in) {
    MallocArena memory;
    ca::FlatArray<double> ladder;
    const ca::CouponState state = ca::read_coupon_state(memory.arena(), in.data(), in.size(), &ladder);
    check(memory.total <= bounded(in));
    state.result(std::vector<double>(ladder.begin(), ladder.end()));
    return bytes_of([&](ca::StateWriter& w) { ca::write_coupon_state(w, state, ladder.data, ladder.size); });
}

Bytes purchase_mix(const Bytes& in) {
    ca::PurchaseSensitivityParams params;
    const ca::PurchaseMixState state = ca::read_purchase_mix_state(in.data(), in.size(), &params);
    state.result(params);
    return bytes_of([&](ca::StateWriter& w) { ca::write_purchase_mix_state(w, state, params); });
}

Bytes channel(const Bytes& in) {
    ca::ChannelPreferenceParams params;
    const ca::ChannelState state = ca::read_channel_state(in.data(), in.size(), &params);
    state.result(params);
    return bytes_of([&](ca::StateWriter& w) { ca::write_channel_state(w, state, params); });
}

Bytes spend(const Bytes& in) {
    MallocArena memory;
    ca::FlatArray<double> parameters, spends;
    ca::read_spend_state(memory.arena(), in.data(), in.size(), &parameters, &spends);
    check(memory.total <= bounded(in));
    if (spends.size != 0)
        ca::ParetoDiagnosis(spends.data, spends.size).gini();
    return bytes_of([&](ca::StateWriter& w) {
        ca::write_spend_state(w, parameters.data, parameters.size, spends.data, spends.size);
    });
}

Bytes kmeans(const Bytes& in) {
    MallocArena memory;
    ca::KMeansParams params;
    std::uint32_t d;
    ca::FlatArray<double> values;
    ca::read_kmeans_state(memory.arena(), in.data(), in.size(), &params, &d, &values);
    check(memory.total <= bounded(in));
    check(d == 0 ? values.size == 0 : values.size % d == 0);
    return bytes_of([&](ca::StateWriter& w) { ca::write_kmeans_state(w, params, d, values.data, values.size); });
}

Bytes kmeans_model(const Bytes& in) { return ca::KMeansModel::deserialize(in.data(), in.size()).serialize(); }

Bytes affinity(const Bytes& in) {
    ca::AffinityQuery query;
    const ca::AffinityState state = ca::read_affinity_state(in.data(), in.size(), &query);
    state.pairs(query);
    return bytes_of([&](ca::StateWriter& w) { ca::write_affinity_state(w, state, query); });
}

Bytes overlap(const Bytes& in) {
    const ca::OverlapCounts counts = ca::read_overlap_state(in.data(), in.size());
    ca::overlap(counts.x, counts.y, counts.xy, counts.n);
    return bytes_of([&](ca::StateWriter& w) { ca::write_overlap_state(w, counts); });
}

Bytes campaign(const Bytes& in) {
    ca::CampaignParams params;
    const ca::CampaignState state = ca::read_campaign_state(in.data(), in.size(), &params);
    ca::campaign_report(state.counts(), params);
    return bytes_of([&](ca::StateWriter& w) { ca::write_campaign_state(w, state, params); });
}

// An order book: read, used as rfm_agg's final function and a merge use it
// (counts by the purchase rule, the money total), written again.
Bytes orders(const Bytes& in) {
    MallocArena memory;
    ca::OrderBook book;
    ca::read_orders_state(memory.arena(), in.data(), in.size(), &book);
    check(memory.total <= bounded(in));
    ca::OrderBook copy = book;
    ca::OrderBook merged;
    merged.money_kind = book.money_kind;
    merged.key_kind = book.key_kind;
    merged.has_minimum = book.has_minimum;
    merged.decimal_minimum = book.decimal_minimum;
    merged.float_minimum = book.float_minimum;
    merged.merge(memory.arena(), copy);
    ca::count_orders(memory.arena(), merged);
    if (book.money_kind == ca::MoneyKind::binary_float)
        ca::float_net_total(book);
    return bytes_of([&](ca::StateWriter& w) { ca::write_orders_state(w, book); });
}

// A segment distribution: read into vectors and in place, its statistics
// computed both ways, everything it holds removed again, written again.
Bytes distribution(const Bytes& in) {
    const ca::SegmentValues values = ca::read_segment_distribution(in.data(), in.size());
    const ca::SegmentView view = ca::view_segment_distribution(in.data(), in.size());
    check(view.buyers == values.buyers() && view.days.size() == values.days.size());
    const ca::SegmentStatistics a = ca::segment_statistics(values, 9000, 5);
    const ca::SegmentStatistics b = ca::segment_statistics(view, 9000, 5);
    // Field by field: Bins has padding.
    check(a.bins.buckets == b.bins.buckets && a.bins.customers == b.bins.customers);
    check(std::memcmp(a.bins.monetary_cuts, b.bins.monetary_cuts, sizeof a.bins.monetary_cuts) == 0);
    check(std::memcmp(a.bins.recency_cuts, b.bins.recency_cuts, sizeof a.bins.recency_cuts) == 0);
    check(std::memcmp(&a.bins.monetary_mean, &b.bins.monetary_mean, sizeof(double)) == 0);
    check(a.value_median == b.value_median && a.spend_above == b.spend_above);
    const ca::SegmentDelta all{values, {}};
    check(ca::apply_segment_delta(values, all).buyers() == 0);
    return bytes_of([&](ca::StateWriter& w) { ca::write_segment_distribution(w, values); });
}

// A delta: applied to what it removes, it leaves what it adds.
Bytes segment_delta(const Bytes& in) {
    const ca::SegmentDelta delta = ca::read_segment_delta(in.data(), in.size());
    check(ca::apply_segment_delta(delta.removed, delta) == delta.added);
    return bytes_of([&](ca::StateWriter& w) { ca::write_segment_delta(w, delta); });
}

struct Reader {
    ca::StateKind kind;
    Bytes (*reread)(const Bytes&);
    // Whether accepted bytes come back unchanged: affinity writes its pairs
    // in hash-table order, not in the order it read them.
    bool canonical = true;
};

const Reader kReaders[] = {
    {ca::StateKind::rfm_summary, summary},
    {ca::StateKind::rfm_bins, bins},
    {ca::StateKind::btyd_fit, btyd_fit},
    {ca::StateKind::gamma_gamma_fit, gamma_gamma_fit},
    {ca::StateKind::activity_status, activity},
    {ca::StateKind::coupon_sensitivity, coupon},
    {ca::StateKind::purchase_mix, purchase_mix},
    {ca::StateKind::channel_preference, channel},
    {ca::StateKind::spend_sample, spend},
    {ca::StateKind::kmeans_fit, kmeans},
    {ca::StateKind::affinity, affinity, false},
    {ca::StateKind::segment_overlap, overlap},
    {ca::StateKind::campaign_report, campaign},
    {ca::StateKind::kmeans_model, kmeans_model},
    {ca::StateKind::rfm_orders, orders},
    {ca::StateKind::bgbb_fit, bgbb_fit},
    {ca::StateKind::sbg_fit, sbg_fit},
    {ca::StateKind::btyd_cov_fit, btyd_cov_fit},
    {ca::StateKind::segment_distribution, distribution},
    {ca::StateKind::segment_delta, segment_delta},
};
constexpr std::size_t kReaderCount = sizeof kReaders / sizeof kReaders[0];

// Accepted input must be canonical for format 2 (the writer gives back the
// same bytes) and stable for 0.1.0 states (rewritten once, then fixed).
void run(const Reader& reader, const Bytes& in) {
    Bytes once;
    try {
        once = reader.reread(in);
    } catch (const ca::Error& e) {
        // Rejected input, or an accepted state whose use hits a documented
        // error of its own (parameters that only the final function checks).
        check(e.kind() != ca::ErrorKind::internal_error);
        return;
    }
    try {
        const Bytes twice = reader.reread(once);
        if (reader.canonical) {
            check(twice == once);
            if (!in.empty() && in[0] == 'C')
                check(once == in);
        }
    } catch (const ca::Error& e) {
        check(e.kind() != ca::ErrorKind::invalid_binary_representation && e.kind() != ca::ErrorKind::internal_error);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const Bytes raw(data, data + size);
    for (const Reader& reader : kReaders)
        run(reader, raw);
    if (size == 0)
        return 0;
    // data[0] picks a reader; kReaderCount stands for a 0.1.0 rfm_agg state.
    const std::size_t pick = data[0] % (kReaderCount + 1);
    Bytes framed;
    if (pick == kReaderCount) {
        framed.push_back(1);
        framed.insert(framed.end(), data + 1, data + size);
        run(kReaders[0], framed);
    } else {
        framed = {'C', 'A', ca::kStateFormatVersion, static_cast<std::uint8_t>(kReaders[pick].kind)};
        framed.insert(framed.end(), data + 1, data + size);
        run(kReaders[pick], framed);
    }
    return 0;
}
