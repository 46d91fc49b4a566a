#include "affinity.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace customer_analytics;
using namespace customer_analytics_test;

namespace {

std::vector<uint8_t> affinity_bytes(const AffinityState& s) {
    return customer_analytics_test::bytes_of([&](StateWriter& w) { write_affinity_state(w, s, AffinityQuery{}); });
}

AffinityState affinity_from(const std::vector<uint8_t>& bytes) {
    AffinityQuery query;
    return read_affinity_state(bytes.data(), bytes.size(), &query);
}

using Basket = std::vector<std::string>;

AffinityState from(const std::vector<Basket>& baskets, const AffinityLimits& limits = {}) {
    AffinityState s(limits);
    for (const auto& b : baskets)
        s.add_basket(b);
    return s;
}

AffinityQuery all_pairs(AffinityOrder order = AffinityOrder::support) {
    AffinityQuery q;
    q.min_support = 0;
    q.top_n = 1000000;
    q.order_by = order;
    return q;
}

void expect_same(const std::vector<PairStats>& x, const std::vector<PairStats>& y) {
    ASSERT_EQ(x.size(), y.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        EXPECT_EQ(x[i].item_a, y[i].item_a);
        EXPECT_EQ(x[i].item_b, y[i].item_b);
        EXPECT_EQ(x[i].count_ab, y[i].count_ab);
        EXPECT_EQ(x[i].count_a, y[i].count_a);
        EXPECT_EQ(x[i].count_b, y[i].count_b);
        EXPECT_EQ(x[i].baskets, y[i].baskets);
        EXPECT_EQ(x[i].lift, y[i].lift);
    }
}

std::vector<Basket> random_baskets(std::mt19937_64& g, int n, int n_items) {
    std::vector<Basket> out;
    for (int i = 0; i < n; ++i) {
        Basket b;
        const int m = static_cast<int>(g() % 6);
        for (int j = 0; j < m; ++j)
            b.push_back("cat-" + std::to_string(g() % static_cast<uint64_t>(n_items)));
        out.push_back(b);
    }
    return out;
}

}  // namespace

TEST(Affinity, HandComputed) {
    auto s = from({{"A", "B"}, {"A", "C"}, {"C", "B", "A"}, {"B"}, {"D"}});
    EXPECT_EQ(s.baskets(), 5);
    EXPECT_EQ(s.distinct_items(), 4u);
    EXPECT_EQ(s.distinct_pairs(), 3u);
    EXPECT_EQ(s.item_count("A"), 3);
    EXPECT_EQ(s.item_count("Z"), 0);
    EXPECT_EQ(s.pair_count("B", "A"), 2);
    EXPECT_EQ(s.pair_count("A", "D"), 0);
    EXPECT_EQ(s.pair_count("A", "A"), 0);

    auto p = s.pairs(all_pairs());
    ASSERT_EQ(p.size(), 3u);
    // support 0.4 for A-B and A-C (tie, same count -> by name), then B-C
    EXPECT_EQ(p[0].item_a, "A");
    EXPECT_EQ(p[0].item_b, "B");
    EXPECT_EQ(p[1].item_b, "C");
    EXPECT_EQ(p[2].item_a, "B");
    EXPECT_EQ(p[2].item_b, "C");
    EXPECT_DOUBLE_EQ(p[0].support_ab, 0.4);
    EXPECT_DOUBLE_EQ(p[0].support_a, 0.6);
    EXPECT_DOUBLE_EQ(p[0].confidence_ab, 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(p[0].confidence_ba, 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(p[0].lift, 10.0 / 9.0);
    EXPECT_DOUBLE_EQ(p[0].jaccard, 0.5);
    EXPECT_DOUBLE_EQ(p[1].confidence_ab, 2.0 / 3.0);  // A -> C
    EXPECT_DOUBLE_EQ(p[1].confidence_ba, 1.0);        // C -> A
    EXPECT_DOUBLE_EQ(p[1].lift, 5.0 / 3.0);
    EXPECT_DOUBLE_EQ(p[2].lift, 5.0 / 6.0);

    auto by_lift = s.pairs(all_pairs(AffinityOrder::lift));
    ASSERT_EQ(by_lift.size(), 3u);
    EXPECT_EQ(by_lift[0].item_b, "C");
    EXPECT_EQ(by_lift[0].item_a, "A");
    EXPECT_EQ(by_lift[1].item_b, "B");
    EXPECT_EQ(by_lift[2].item_a, "B");

    AffinityQuery q = all_pairs();
    q.min_support = 0.4;  // support == min_support is kept
    EXPECT_EQ(s.pairs(q).size(), 2u);
    q.min_support = 0.41;
    EXPECT_EQ(s.pairs(q).size(), 0u);
    q = all_pairs();
    q.min_count = 2;
    EXPECT_EQ(s.pairs(q).size(), 2u);
    q = all_pairs();
    q.top_n = 1;
    ASSERT_EQ(s.pairs(q).size(), 1u);
    EXPECT_EQ(s.pairs(q)[0].item_b, "B");

    auto items = s.items();
    ASSERT_EQ(items.size(), 4u);
    EXPECT_EQ(items[0].item, "A");  // 3, tie with B -> name
    EXPECT_EQ(items[1].item, "B");
    EXPECT_EQ(items[3].item, "D");
    EXPECT_DOUBLE_EQ(items[2].support, 0.4);
}

TEST(Affinity, BasketsAreSets) {
    auto s = from({{"A", "A", "B", "B", "A"}, {}, {"B"}});
    EXPECT_EQ(s.baskets(), 3);  // the empty basket counts
    EXPECT_EQ(s.item_count("A"), 1);
    EXPECT_EQ(s.item_count("B"), 2);
    EXPECT_EQ(s.pair_count("A", "B"), 1);
    auto p = s.pairs(all_pairs());
    ASSERT_EQ(p.size(), 1u);
    EXPECT_DOUBLE_EQ(p[0].support_ab, 1.0 / 3.0);
    EXPECT_DOUBLE_EQ(p[0].lift, 1.5);  // 1 * 3 / (1 * 2)
    EXPECT_TRUE(AffinityState().pairs().empty());
    EXPECT_TRUE(AffinityState().items().empty());
    // order of items in a basket and of names does not matter
    auto t = from({{"zeta", "alpha"}});
    EXPECT_EQ(t.pairs(all_pairs())[0].item_a, "alpha");
    // empty item name and arbitrary bytes are items like any other
    auto u = from({{"", std::string("\0x", 2)}});
    EXPECT_EQ(u.pair_count("", std::string("\0x", 2)), 1);
}

TEST(Affinity, MatchesBruteForce) {
    std::mt19937_64 g(10);
    auto baskets = random_baskets(g, 3000, 15);
    auto s = from(baskets);
    std::map<std::string, int64_t> items;
    std::map<std::pair<std::string, std::string>, int64_t> pairs;
    for (const auto& b : baskets) {
        std::set<std::string> set(b.begin(), b.end());
        for (const auto& x : set) {
            ++items[x];
            for (const auto& y : set)
                if (x < y)
                    ++pairs[{x, y}];
        }
    }
    EXPECT_EQ(s.distinct_items(), items.size());
    EXPECT_EQ(s.distinct_pairs(), pairs.size());
    for (const auto& kv : items)
        EXPECT_EQ(s.item_count(kv.first), kv.second);
    for (const auto& kv : pairs)
        EXPECT_EQ(s.pair_count(kv.first.first, kv.first.second), kv.second);
    auto p = s.pairs(all_pairs());
    EXPECT_EQ(p.size(), pairs.size());
    for (std::size_t i = 1; i < p.size(); ++i)
        EXPECT_GE(p[i - 1].count_ab, p[i].count_ab);
    auto l = s.pairs(all_pairs(AffinityOrder::lift));
    for (std::size_t i = 1; i < l.size(); ++i)
        EXPECT_GE(l[i - 1].lift, l[i].lift);
}

TEST(Affinity, MergeEqualsOnePass) {
    std::mt19937_64 g(20);
    for (int trial = 0; trial < 20; ++trial) {
        auto baskets = random_baskets(g, 400, 12);
        AffinityState all, a, b, c;
        for (const auto& bk : baskets) {
            all.add_basket(bk);
            const auto r = g() % 3;
            (r == 0 ? a : r == 1 ? b : c).add_basket(bk);
        }
        // merge through serialize / deserialize, in a scrambled order
        const auto ba = affinity_bytes(a), bb = affinity_bytes(b), bc = affinity_bytes(c);
        AffinityState m = affinity_from(bc);
        m.merge(affinity_from(ba));
        m.merge(affinity_from(bb));
        m.merge(AffinityState());
        EXPECT_EQ(m.baskets(), all.baskets());
        expect_same(m.pairs(all_pairs()), all.pairs(all_pairs()));
        expect_same(m.pairs(all_pairs(AffinityOrder::lift)), all.pairs(all_pairs(AffinityOrder::lift)));
        auto mi = m.items(), ai = all.items();
        ASSERT_EQ(mi.size(), ai.size());
        for (std::size_t i = 0; i < mi.size(); ++i) {
            EXPECT_EQ(mi[i].item, ai[i].item);
            EXPECT_EQ(mi[i].count, ai[i].count);
        }
    }
    AffinityState self = from({{"A", "B"}});
    self.merge(self);
    EXPECT_EQ(self.baskets(), 2);
    EXPECT_EQ(self.pair_count("A", "B"), 2);
    // copies are deep
    AffinityState copy = self;
    copy.add_basket(Basket{"A", "B"});
    EXPECT_EQ(self.pair_count("A", "B"), 2);
    EXPECT_EQ(copy.pair_count("A", "B"), 3);
}

TEST(Affinity, LimitsLeaveStateUnchanged) {
    AffinityLimits lim;
    lim.max_basket_items = 3;
    lim.max_items = 5;
    lim.max_pairs = 4;
    AffinityState s(lim);
    s.add_basket(Basket{"A", "B", "C"});  // 3 pairs
    EXPECT_EQ(kind_of([&] { s.add_basket(Basket{"A", "B", "C", "D"}); }), ErrorKind::program_limit_exceeded);
    EXPECT_EQ(s.baskets(), 1);
    EXPECT_EQ(s.distinct_items(), 3u);
    s.add_basket(Basket{"A", "A", "B", "B", "C"});  // duplicates do not count against the basket limit
    s.add_basket(Basket{"D"});
    s.add_basket(Basket{"C", "D"});  // 4th pair
    EXPECT_EQ(s.distinct_pairs(), 4u);
    EXPECT_EQ(kind_of([&] { s.add_basket(Basket{"A", "D"}); }), ErrorKind::program_limit_exceeded);  // 5th pair
    s.add_basket(Basket{"A", "B"});  // existing pair: fine
    s.add_basket(Basket{"E"});
    EXPECT_EQ(kind_of([&] { s.add_basket(Basket{"F"}); }), ErrorKind::program_limit_exceeded);  // 6th item
    EXPECT_EQ(s.baskets(), 6);
    EXPECT_EQ(s.distinct_items(), 5u);
    EXPECT_EQ(s.pair_count("A", "D"), 0);
    EXPECT_EQ(s.item_count("A"), 3);
    // merges that would exceed a limit leave the target unchanged
    AffinityState other(lim);
    other.add_basket(Basket{"B", "D"});
    const auto before = affinity_bytes(s);
    EXPECT_EQ(kind_of([&] { s.merge(other); }), ErrorKind::program_limit_exceeded);
    EXPECT_EQ(affinity_bytes(s), before);
    AffinityState many;
    many.add_basket(Basket{"X"});
    many.add_basket(Basket{"Y"});
    AffinityState small(lim);
    small.add_basket(Basket{"A", "B"});
    small.add_basket(Basket{"C"});
    small.add_basket(Basket{"D"});
    small.add_basket(Basket{"E"});
    EXPECT_EQ(kind_of([&] { small.merge(many); }), ErrorKind::program_limit_exceeded);
    EXPECT_EQ(small.distinct_items(), 5u);
    // a too long name
    EXPECT_EQ(kind_of([&] { s.add_basket(Basket{std::string(513, 'x')}); }), ErrorKind::data_exception);
    // bad limits and queries
    AffinityLimits bad;
    bad.max_pairs = 0;
    EXPECT_EQ(kind_of([&] { AffinityState x(bad); }), ErrorKind::invalid_parameter_value);
    AffinityQuery q;
    q.min_support = 2;
    EXPECT_EQ(kind_of([&] { s.pairs(q); }), ErrorKind::invalid_parameter_value);
    q = {};
    q.top_n = 0;
    EXPECT_EQ(kind_of([&] { s.pairs(q); }), ErrorKind::invalid_parameter_value);
    q = {};
    q.min_count = 0;
    EXPECT_EQ(kind_of([&] { s.pairs(q); }), ErrorKind::invalid_parameter_value);
    q = {};
    q.order_by = static_cast<AffinityOrder>(7);
    EXPECT_EQ(kind_of([&] { s.pairs(q); }), ErrorKind::invalid_parameter_value);
}

TEST(Overlap, HandComputed) {
    // 1000 customers; 200 in X, 100 in Y, 50 in both
    auto o = overlap(200, 100, 50, 1000);
    EXPECT_DOUBLE_EQ(*o.share_x_in_y, 0.25);
    EXPECT_DOUBLE_EQ(*o.share_y_in_x, 0.5);
    EXPECT_DOUBLE_EQ(*o.jaccard, 0.2);  // 50 / 250
    EXPECT_DOUBLE_EQ(*o.lift, 2.5);     // 50 * 1000 / (200 * 100)
    EXPECT_DOUBLE_EQ(*o.support_xy, 0.05);
    EXPECT_DOUBLE_EQ(*o.support_x, 0.2);
    // independent sets: lift 1
    EXPECT_DOUBLE_EQ(*overlap(500, 200, 100, 1000).lift, 1.0);
    // undefined measures are null
    auto z = overlap(0, 10, 0, 100);
    EXPECT_FALSE(z.share_x_in_y.has_value());
    EXPECT_DOUBLE_EQ(*z.share_y_in_x, 0);
    EXPECT_FALSE(z.lift.has_value());
    EXPECT_DOUBLE_EQ(*z.jaccard, 0);
    auto e = overlap(0, 0, 0, 0);
    EXPECT_FALSE(e.support_x.has_value());
    EXPECT_FALSE(e.jaccard.has_value());
    // huge counts do not overflow
    const int64_t big = int64_t{1} << 62;
    EXPECT_DOUBLE_EQ(*overlap(big, big, big, big).lift, 1.0);
}

TEST(Overlap, Errors) {
    EXPECT_EQ(kind_of([] { overlap(-1, 1, 0, 10); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([] { overlap(5, 3, 4, 10); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([] { overlap(8, 8, 2, 10); }), ErrorKind::invalid_parameter_value);  // union 14 > 10
    EXPECT_EQ(kind_of([] { overlap(1, 1, 1, -1); }), ErrorKind::invalid_parameter_value);
}

// Baskets built from order lines: ~3 lines per order, 60 categories with
// skewed popularity. 1M lines by default; 10M with CA_LONG_TESTS set.
TEST(Affinity, Scale) {
    const bool long_run = std::getenv("CA_LONG_TESTS") != nullptr;
    const int64_t lines = long_run ? 10000000 : 1000000;
    std::vector<std::string> names;
    for (int i = 0; i < 60; ++i)
        names.push_back("category-" + std::to_string(i));
    std::mt19937_64 g(99);
    AffinityState s;
    std::vector<std::string_view> basket;
    const auto t0 = std::chrono::steady_clock::now();
    int64_t done = 0;
    while (done < lines) {
        const int m = 1 + static_cast<int>(g() % 5);
        basket.clear();
        for (int j = 0; j < m; ++j) {
            const double u = static_cast<double>(g() >> 11) * 0x1.0p-53;
            basket.push_back(names[static_cast<std::size_t>(60 * u * u)]);
        }
        s.add_basket(basket);
        done += m;
    }
    const auto top = s.pairs();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(s.distinct_items(), 60u);
    EXPECT_FALSE(top.empty());
    std::printf("affinity over %lld order lines (%lld baskets): %.2f s\n", static_cast<long long>(lines),
                static_cast<long long>(s.baskets()), secs);
}
