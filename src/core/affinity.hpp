// Affinity: who buys A also buys B.
//
// (a) AffinityState counts, over baskets (the caller decides what a basket
//     is: an order, or all of a customer's purchases), how many baskets
//     contain each item (a product category, a segment, ...) and each
//     unordered pair of items. It is mergeable: partial states over disjoint
//     sets of baskets combine exactly. pairs() then reports support,
//     confidence and lift for the pairs above a minimum support, top-N.
// (b) overlap() measures two customer sets from their sizes and the size of
//     their intersection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"

namespace customer_analytics {

class StateWriter;

// Measures of two sets X and Y within a population of n (customers or
// baskets), from |X| = x, |Y| = y, |X ∩ Y| = xy:
//   support_x = x / n, support_y = y / n, support_xy = xy / n
//   share_x_in_y = xy / x   (confidence X -> Y: share of X also in Y)
//   share_y_in_x = xy / y   (confidence Y -> X)
//   jaccard      = xy / (x + y - xy)
//   lift         = xy * n / (x * y)   (> 1: together more often than by chance)
// A measure whose denominator is 0 is std::nullopt (SQL NULL).
struct OverlapStats {
    int64_t x = 0, y = 0, xy = 0, n = 0;
    std::optional<double> support_x, support_y, support_xy;
    std::optional<double> share_x_in_y, share_y_in_x;
    std::optional<double> jaccard;
    std::optional<double> lift;
};

// Requires 0 <= xy <= min(x, y) and x + y - xy <= n (so x, y <= n); else
// invalid_parameter_value.
OverlapStats overlap(int64_t x, int64_t y, int64_t xy, int64_t n);

// One pair of items from AffinityState::pairs(); item_a < item_b byte-wise.
// All counts are >= 1, so every measure is defined.
struct PairStats {
    std::string item_a, item_b;
    int64_t count_a = 0, count_b = 0, count_ab = 0, baskets = 0;
    double support_a = 0, support_b = 0, support_ab = 0;
    double confidence_ab = 0;  // P(B | A) = count_ab / count_a
    double confidence_ba = 0;  // P(A | B) = count_ab / count_b
    double jaccard = 0;        // count_ab / (count_a + count_b - count_ab)
    double lift = 0;           // count_ab * baskets / (count_a * count_b)
};

struct ItemStats {
    std::string item;
    int64_t count = 0;   // baskets containing the item
    double support = 0;  // count / baskets
};

enum class AffinityOrder { support, lift };

// Which pairs pairs() returns, and in which order:
//   keep a pair when count_ab >= min_count (default 1) and support_ab >=
//   min_support (default 0.001, i.e. 0.1% of baskets; in [0, 1]);
//   order by order_by (default support) descending, ties by count_ab
//   descending, then item_a, then item_b ascending (byte-wise);
//   return the first top_n (default 100, 1..1000000).
struct AffinityQuery {
    double min_support = 0.001;
    int64_t min_count = 1;
    int64_t top_n = 100;
    AffinityOrder order_by = AffinityOrder::support;
};

// Memory bounds of one state. Exceeding one raises program_limit_exceeded with a
// hint; the state is then unspecified (the query is being aborted).
//   max_items        distinct items (default 100000)
//   max_pairs        distinct pairs seen together (default 4194304; the pair
//                    table then takes at most 128 MB)
//   max_basket_items distinct items in one basket (default 1000, so one
//                    basket adds at most 499500 pairs)
// Item names are at most kMaxItemBytes (512) bytes.
struct AffinityLimits {
    int64_t max_items = 100000;
    int64_t max_pairs = 4194304;
    int64_t max_basket_items = 1000;
};

// Copies are deep; a moved-from state may only be assigned to or destroyed.
class AffinityState {
public:
    static constexpr std::size_t kMaxItemBytes = 512;

    AffinityState();
    explicit AffinityState(const AffinityLimits& limits);
    AffinityState(const AffinityState&);
    AffinityState(AffinityState&&) noexcept;
    AffinityState& operator=(const AffinityState&);
    AffinityState& operator=(AffinityState&&) noexcept;
    ~AffinityState();

    // One basket: the set of its items (duplicates count once; an empty
    // basket counts as a basket with no items, lowering every support).
    void add_basket(const std::vector<std::string_view>& items);
    void add_basket(const std::vector<std::string>& items);
    // Partial states must cover disjoint sets of baskets. The limits of
    // *this apply.
    void merge(const AffinityState& other, const Interrupts& interrupts = Interrupts{});

    int64_t baskets() const;
    std::size_t distinct_items() const;
    std::size_t distinct_pairs() const;
    // Count of a single item / a pair (0 when never seen).
    int64_t item_count(std::string_view item) const;
    int64_t pair_count(std::string_view a, std::string_view b) const;

    // Items by count descending, then name ascending.
    std::vector<ItemStats> items() const;
    // Pairs per the query (see AffinityQuery). No baskets -> empty.
    std::vector<PairStats> pairs(const AffinityQuery& query = {}, const Interrupts& interrupts = Interrupts{}) const;

private:
    friend void write_affinity_state(StateWriter&, const AffinityState&, const AffinityQuery&);
    friend AffinityState read_affinity_state(const uint8_t*, std::size_t, AffinityQuery*, const AffinityLimits&);
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Serialized affinity state (state_format.hpp): the query (min_support,
// min_count, top_n, order), the basket count, the items (name, count) and
// the pairs (the two item indexes in that order, a < b, and the count). The
// reader checks the query as pairs() does, every count and index against
// the others and against `limits`, and raises invalid_binary_representation.
void write_affinity_state(StateWriter& writer, const AffinityState& state, const AffinityQuery& query);
AffinityState read_affinity_state(const uint8_t* data, std::size_t size, AffinityQuery* query,
                                  const AffinityLimits& limits = {});

// segment_overlap's state: the counts x, y, xy and n of overlap() above.
struct OverlapCounts {
    int64_t x = 0, y = 0, xy = 0, n = 0;
};
// The reader requires what overlap() requires.
void write_overlap_state(StateWriter& writer, const OverlapCounts& counts);
OverlapCounts read_overlap_state(const uint8_t* data, std::size_t size);

}  // namespace customer_analytics
