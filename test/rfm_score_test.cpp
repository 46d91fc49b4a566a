// Unit tests for src/core/rfm_score: scores against cuts, the packed
// rfm_score and its text form.
#include "rfm_score.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "error.hpp"
#include "rfm_bins.hpp"
#include "test_util.hpp"

using namespace customer_analytics;
using namespace customer_analytics_test;

// ================================================================ scores

TEST(BucketOf, ValueEqualToCutGoesToLowerBucket) {
    const double cuts[] = {10, 20, 30, 40};
    EXPECT_EQ(bucket_of(-1e300, cuts, 4), 1);
    EXPECT_EQ(bucket_of(9.99, cuts, 4), 1);
    EXPECT_EQ(bucket_of(10, cuts, 4), 1);
    EXPECT_EQ(bucket_of(std::nextafter(10.0, 11.0), cuts, 4), 2);
    EXPECT_EQ(bucket_of(20, cuts, 4), 2);
    EXPECT_EQ(bucket_of(25, cuts, 4), 3);
    EXPECT_EQ(bucket_of(40, cuts, 4), 4);
    EXPECT_EQ(bucket_of(40.0001, cuts, 4), 5);
    EXPECT_EQ(bucket_of(kInf, cuts, 4), 5);
    EXPECT_EQ(bucket_of(-kInf, cuts, 4), 1);
    const double repeated[] = {5, 5, 5, 7};
    EXPECT_EQ(bucket_of(5, repeated, 4), 1);
    EXPECT_EQ(bucket_of(6, repeated, 4), 4);
    EXPECT_EQ(bucket_of(7, repeated, 4), 4);
    EXPECT_EQ(bucket_of(8, repeated, 4), 5);
}

TEST(ScoreCustomer, RecencyIsReversed) {
    const double cuts[] = {10, 20, 30, 40};
    // Smallest recency (most recent) gets the highest r.
    EXPECT_EQ(score_customer(0, 0, 0, 5, cuts, cuts, cuts).r, 5);
    EXPECT_EQ(score_customer(10, 0, 0, 5, cuts, cuts, cuts).r, 5);
    EXPECT_EQ(score_customer(11, 0, 0, 5, cuts, cuts, cuts).r, 4);
    EXPECT_EQ(score_customer(40, 0, 0, 5, cuts, cuts, cuts).r, 2);
    EXPECT_EQ(score_customer(41, 0, 0, 5, cuts, cuts, cuts).r, 1);
    // Frequency and monetary are not reversed.
    const RfmScore s = score_customer(25, 35, 5, 5, cuts, cuts, cuts);
    EXPECT_TRUE(same_score(s, score_of(3, 4, 1)));
    // Different cut arrays per dimension.
    const double r_cuts[] = {100}, f_cuts[] = {2}, m_cuts[] = {50};
    EXPECT_TRUE(same_score(score_customer(100, 3, 50, 2, r_cuts, f_cuts, m_cuts), score_of(2, 2, 1)));
    EXPECT_TRUE(same_score(score_customer(101, 2, 51, 2, r_cuts, f_cuts, m_cuts), score_of(1, 1, 2)));
}

TEST(ScoreCustomer, RejectsNaN) {
    const double cuts[] = {10, 20, 30, 40};
    EXPECT_EQ(kind_of([&] { score_customer(kNaN, 1, 1, 5, cuts, cuts, cuts); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { score_customer(1, kNaN, 1, 5, cuts, cuts, cuts); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { score_customer(1, 1, kNaN, 5, cuts, cuts, cuts); }), ErrorKind::invalid_parameter_value);
}

// Property: over random populations with many ties, equal values always get
// equal scores, scores are monotonic in each value, stay in 1..buckets, and
// with many distinct values every bucket is used.
TEST(ScoreCustomer, EqualValuesEqualScoresAndMonotonic) {
    std::mt19937 random(2718);
    for (int trial = 0; trial < 60; ++trial) {
        TestArena arena;
        const int buckets = 2 + static_cast<int>(random() % 8);
        const int distinct = 1 + static_cast<int>(random() % (trial % 2 == 0 ? 4 : 1000));
        const int count = 1 + static_cast<int>(random() % 500);
        std::vector<std::array<double, 3>> customers(static_cast<std::size_t>(count));
        for (auto& c : customers)
            c = {static_cast<double>(random() % distinct), static_cast<double>(random() % distinct) / 4,
                 static_cast<double>(random() % distinct) * 12.5};
        BinsState state;
        state.start(0, buckets);
        add_customers(arena, state, customers);
        const Bins bins = compute_bins(state);
        std::map<double, int> r_of, f_of, m_of;
        std::vector<RfmScore> scores;
        for (const auto& c : customers) {
            const RfmScore s =
                score_customer(c[0], c[1], c[2], buckets, bins.recency_cuts, bins.frequency_cuts, bins.monetary_cuts);
            ASSERT_GE(s.r, 1);
            ASSERT_LE(s.r, buckets);
            ASSERT_GE(s.f, 1);
            ASSERT_LE(s.f, buckets);
            ASSERT_GE(s.m, 1);
            ASSERT_LE(s.m, buckets);
            auto r = r_of.emplace(c[0], s.r);
            ASSERT_EQ(r.first->second, s.r) << "recency " << c[0];
            auto f = f_of.emplace(c[1], s.f);
            ASSERT_EQ(f.first->second, s.f) << "frequency " << c[1];
            auto m = m_of.emplace(c[2], s.m);
            ASSERT_EQ(m.first->second, s.m) << "monetary " << c[2];
        }
        // Walking the values upwards, r never rises and f, m never fall.
        int previous = buckets + 1;
        for (const auto& entry : r_of) {
            ASSERT_LE(entry.second, previous);
            previous = entry.second;
        }
        for (const std::map<double, int>* scores_by_value : {&f_of, &m_of}) {
            previous = 0;
            for (const auto& entry : *scores_by_value) {
                ASSERT_GE(entry.second, previous);
                previous = entry.second;
            }
        }
        // Without ties every bucket gets customers.
        if (static_cast<int>(f_of.size()) == count && count >= buckets) {
            std::set<int> used;
            for (const auto& entry : f_of)
                used.insert(entry.second);
            EXPECT_EQ(static_cast<int>(used.size()), buckets);
        }
    }
}

TEST(PackScore, RoundTripAndOrder) {
    std::mt19937 random(55);
    auto random_score = [&] {
        // Mostly small values, so equal components are common.
        auto part = [&] {
            return random() % 3 == 0 ? 1 + static_cast<int>(random() % 99) : 1 + static_cast<int>(random() % 3);
        };
        const int r = part();
        const int f = part();
        const int m = part();
        return score_of(r, f, m);
    };
    for (int i = 0; i < 20000; ++i) {
        const RfmScore a = random_score();
        const RfmScore b = random_score();
        const std::uint32_t pa = pack_score(a);
        const std::uint32_t pb = pack_score(b);
        ASSERT_TRUE(same_score(unpack_score(pa), a));
        ASSERT_LT(pa, 1u << 24);
        ASSERT_EQ(pa < pb, std::tie(a.r, a.f, a.m) < std::tie(b.r, b.f, b.m));
        ASSERT_EQ(pa == pb, same_score(a, b));
    }
    EXPECT_EQ(pack_score(score_of(5, 4, 5)), 0x050405u);
    EXPECT_EQ(pack_score(score_of(99, 99, 99)), 0x636363u);
}

TEST(PackScore, RejectsOutOfRange) {
    for (const RfmScore& bad : {score_of(0, 1, 1), score_of(1, 0, 1), score_of(1, 1, 0), score_of(100, 1, 1),
                                score_of(1, 100, 1), score_of(1, 1, 100), score_of(-1, 5, 5), score_of(256, 1, 1)}) {
        EXPECT_EQ(kind_of([&] { pack_score(bad); }), ErrorKind::invalid_parameter_value);
        EXPECT_EQ(kind_of([&] { check_score(bad); }), ErrorKind::invalid_parameter_value);
        EXPECT_EQ(kind_of([&] { score_text(bad); }), ErrorKind::invalid_parameter_value);
    }
}

TEST(FormatScore, Shapes) {
    EXPECT_EQ(score_text(score_of(5, 4, 5)), "545");
    EXPECT_EQ(score_text(score_of(1, 1, 1)), "111");
    EXPECT_EQ(score_text(score_of(9, 9, 9)), "999");
    EXPECT_EQ(score_text(score_of(10, 4, 5)), "10-4-5");
    EXPECT_EQ(score_text(score_of(1, 1, 10)), "1-1-10");
    EXPECT_EQ(score_text(score_of(9, 20, 9)), "9-20-9");
    EXPECT_EQ(score_text(score_of(99, 99, 99)), "99-99-99");
    char buffer[kScoreTextCapacity];
    EXPECT_EQ(format_score(score_of(1, 2, 3), buffer), buffer);
}

TEST(ParseScore, Accepts) {
    EXPECT_TRUE(same_score(parse_score("545"), score_of(5, 4, 5)));
    EXPECT_TRUE(same_score(parse_score("111"), score_of(1, 1, 1)));
    EXPECT_TRUE(same_score(parse_score("10-4-5"), score_of(10, 4, 5)));
    EXPECT_TRUE(same_score(parse_score("5-4-5"), score_of(5, 4, 5)));
    EXPECT_TRUE(same_score(parse_score("99-99-99"), score_of(99, 99, 99)));
    // Every formatted score parses back to itself.
    for (int r : {1, 2, 5, 9, 10, 11, 50, 98, 99})
        for (int f : {1, 3, 9, 10, 99})
            for (int m : {1, 7, 9, 10, 42, 99}) {
                const RfmScore s = score_of(r, f, m);
                ASSERT_TRUE(same_score(parse_score(score_text(s).c_str()), s)) << score_text(s);
            }
}

TEST(ParseScore, Rejects) {
    // Malformed text.
    for (const char* text : {"12", "1234", "5a5", "", "1--2-3", "505", "-1-1-1", "1-1", "1-1-1-", "1-1-1-1", " 545",
                             "545 ", "5-4-5 ", "1000-1-1", "1-1-a", "+1-1-1", "a45", "1.5-1-1"}) {
        EXPECT_EQ(kind_of([&] { parse_score(text); }), ErrorKind::invalid_text_representation) << '"' << text << '"';
    }
    // Well-formed numbers out of range are reported by the range check.
    for (const char* text : {"0-1-1", "100-1-1", "1-100-1", "1-1-0", "999-1-1"})
        EXPECT_EQ(kind_of([&] { parse_score(text); }), ErrorKind::invalid_parameter_value) << '"' << text << '"';
}
