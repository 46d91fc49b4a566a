#include "pareto.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

using namespace customer_analytics;
using namespace customer_analytics_test;

namespace {

// Gini from its definition as the relative mean absolute difference.
double gini_by_pairs(const std::vector<double>& x) {
    double sum = 0, diff = 0;
    for (double a : x) {
        sum += a;
        for (double b : x)
            diff += std::fabs(a - b);
    }
    const double n = static_cast<double>(x.size());
    return diff / (2.0 * n * sum);
}

}  // namespace

TEST(ParetoDiagnosis, HandComputed) {
    ParetoDiagnosis d({40, 10, 30, 20});
    EXPECT_EQ(d.size(), 4u);
    EXPECT_DOUBLE_EQ(d.total(), 100);
    // (-3*10 - 1*20 + 1*30 + 3*40) / (4 * 100)
    EXPECT_DOUBLE_EQ(d.gini(), 0.25);
    EXPECT_EQ(d.top_count(0.25), 1);
    EXPECT_EQ(d.top_count(0.3), 2);  // ceil(1.2)
    EXPECT_DOUBLE_EQ(d.pareto_share(0.25), 0.4);
    EXPECT_DOUBLE_EQ(d.pareto_share(0.3), 0.7);
    EXPECT_DOUBLE_EQ(d.pareto_share(0), 0);
    EXPECT_DOUBLE_EQ(d.pareto_share(1), 1);
    auto l = d.lorenz(std::vector<double>{0, 0.25, 0.375, 0.5, 1});
    ASSERT_EQ(l.size(), 5u);
    EXPECT_DOUBLE_EQ(l[0].revenue_share, 0);
    EXPECT_DOUBLE_EQ(l[1].revenue_share, 0.1);
    EXPECT_DOUBLE_EQ(l[2].revenue_share, 0.2);  // (10 + 0.5 * 20) / 100
    EXPECT_DOUBLE_EQ(l[3].revenue_share, 0.3);
    EXPECT_DOUBLE_EQ(l[4].revenue_share, 1);
    EXPECT_DOUBLE_EQ(l[2].customer_share, 0.375);
    EXPECT_DOUBLE_EQ(d.top_threshold(0.5), 30);
    EXPECT_DOUBLE_EQ(d.top_threshold(0.05), 40);  // ceil(0.2) = 1
    EXPECT_DOUBLE_EQ(d.top_threshold(1), 10);
    auto tiers = d.tier_thresholds();
    ASSERT_EQ(tiers.size(), 2u);
    EXPECT_DOUBLE_EQ(tiers[0], 40);  // top 20%: ceil(0.8) = 1
    EXPECT_DOUBLE_EQ(tiers[1], 40);
    auto cuts = d.default_value_band_cuts();
    EXPECT_DOUBLE_EQ(cuts.low_cut, 30);
    EXPECT_DOUBLE_EQ(cuts.high_cut, 40);
}

TEST(ParetoDiagnosis, TopCountRounding) {
    std::vector<double> v(100, 1.0);
    ParetoDiagnosis d(v);
    EXPECT_EQ(d.top_count(0.07), 7);  // 0.07 * 100 = 7.000000000000001 in binary
    EXPECT_EQ(d.top_count(0.2), 20);
    EXPECT_EQ(d.top_count(0.201), 21);
    EXPECT_EQ(d.top_count(0.001), 1);
    EXPECT_EQ(d.top_count(0), 0);
    EXPECT_EQ(d.top_count(1), 100);
    for (int i = 0; i <= 100; ++i)
        EXPECT_EQ(d.top_count(i / 100.0), i);
    ParetoDiagnosis one({5});
    EXPECT_EQ(one.top_count(0.2), 1);
    EXPECT_DOUBLE_EQ(one.pareto_share(0.2), 1);
    EXPECT_DOUBLE_EQ(one.gini(), 0);
    EXPECT_DOUBLE_EQ(one.top_threshold(0.05), 5);
}

TEST(ParetoDiagnosis, KnownDistributions) {
    // all equal -> 0
    EXPECT_DOUBLE_EQ(ParetoDiagnosis(std::vector<double>(1000, 3.5)).gini(), 0);
    // one customer has everything -> (n - 1) / n
    for (std::size_t n : {2u, 5u, 100u, 12345u}) {
        std::vector<double> v(n, 0.0);
        v[n / 2] = 42;
        ParetoDiagnosis d(v);
        EXPECT_NEAR(d.gini(), (n - 1.0) / n, 1e-12);
        EXPECT_DOUBLE_EQ(d.pareto_share(1.0 / static_cast<double>(n)), 1);
    }
    // exact quantile samples: uniform -> 1/3, exponential -> 1/2
    const int n = 200000;
    std::vector<double> uni(n), expo(n);
    for (int i = 0; i < n; ++i) {
        const double p = (i + 0.5) / n;
        uni[i] = p;
        expo[i] = -std::log1p(-p);
    }
    ParetoDiagnosis du(uni), de(expo);
    EXPECT_NEAR(du.gini(), 1.0 / 3.0, 1e-6);
    EXPECT_NEAR(de.gini(), 0.5, 1e-4);
    // Lorenz curves: uniform L(p) = p^2, exponential L(p) = p + (1 - p) ln(1 - p)
    for (const auto& pt : du.lorenz(20))
        EXPECT_NEAR(pt.revenue_share, pt.customer_share * pt.customer_share, 1e-5);
    for (const auto& pt : de.lorenz(20)) {
        const double p = pt.customer_share;
        const double expect = p < 1 ? p + (1 - p) * std::log1p(-p) : 1.0;
        EXPECT_NEAR(pt.revenue_share, expect, 1e-4) << p;
    }
    // top 20% of an exponential population hold 0.2 - 0.2 ln 0.2 of revenue
    EXPECT_NEAR(de.pareto_share(0.2), 0.2 - 0.2 * std::log(0.2), 1e-4);
    // threshold of the top 20% / 5%: the 0.8 / 0.95 quantiles, -ln 0.2 and -ln 0.05
    EXPECT_NEAR(de.top_threshold(0.2), -std::log(0.2), 1e-4);
    EXPECT_NEAR(de.top_threshold(0.05), -std::log(0.05), 1e-3);
    // random samples
    std::mt19937_64 g(2024);
    std::vector<double> ru(n), re(n);
    for (int i = 0; i < n; ++i) {
        ru[i] = unit(g);
        re[i] = -std::log1p(-unit(g));
    }
    EXPECT_NEAR(ParetoDiagnosis(ru).gini(), 1.0 / 3.0, 0.005);
    EXPECT_NEAR(ParetoDiagnosis(re).gini(), 0.5, 0.005);
}

TEST(ParetoDiagnosis, GiniMatchesPairwiseDefinition) {
    std::mt19937_64 g(99);
    for (int trial = 0; trial < 30; ++trial) {
        const std::size_t n = 1 + g() % 60;
        std::vector<double> v(n);
        for (auto& x : v)
            x = (g() % 4 == 0) ? 0.0 : std::floor(unit(g) * 1000);
        double sum = 0;
        for (double x : v)
            sum += x;
        if (sum == 0)
            continue;
        EXPECT_NEAR(ParetoDiagnosis(v).gini(), gini_by_pairs(v), 1e-12);
    }
}

TEST(ParetoDiagnosis, Properties) {
    std::mt19937_64 g(5);
    for (int trial = 0; trial < 50; ++trial) {
        const std::size_t n = 1 + g() % 200;
        std::vector<double> v(n);
        for (auto& x : v)
            x = unit(g) * 100;
        ParetoDiagnosis d(v);
        // Lorenz is monotone, convex, below the diagonal; pareto = 1 - L(1 - X) at knots
        auto l = d.lorenz(static_cast<int64_t>(n));
        for (std::size_t i = 0; i < l.size(); ++i) {
            EXPECT_LE(l[i].revenue_share, l[i].customer_share + 1e-12);
            if (i > 0) {
                EXPECT_GE(l[i].revenue_share, l[i - 1].revenue_share);
            }
            if (i > 1) {
                EXPECT_GE(l[i].revenue_share - l[i - 1].revenue_share,
                          l[i - 1].revenue_share - l[i - 2].revenue_share - 1e-12);
            }
            const double top = 1.0 - l[i].customer_share;
            EXPECT_NEAR(d.pareto_share(top), 1.0 - l[i].revenue_share, 1e-9);
        }
        // scale invariance
        std::vector<double> w(v);
        for (auto& x : w)
            x *= 1000;
        EXPECT_NEAR(ParetoDiagnosis(w).gini(), d.gini(), 1e-12);
        // thresholds are non-increasing in the fraction, and the top-k share is consistent
        EXPECT_GE(d.top_threshold(0.05), d.top_threshold(0.2));
        EXPECT_GE(d.top_threshold(0.2), d.top_threshold(0.5));
    }
}

TEST(ParetoDiagnosis, AllZero) {
    ParetoDiagnosis d(std::vector<double>(10, 0.0));
    EXPECT_DOUBLE_EQ(d.gini(), 0);
    EXPECT_DOUBLE_EQ(d.pareto_share(0.2), 0.2);
    for (const auto& pt : d.lorenz(5))
        EXPECT_DOUBLE_EQ(pt.revenue_share, pt.customer_share);
    EXPECT_DOUBLE_EQ(d.top_threshold(0.2), 0);
}

TEST(ParetoDiagnosis, Errors) {
    EXPECT_EQ(kind_of([] { ParetoDiagnosis d(std::vector<double>{}); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([] { ParetoDiagnosis d({1, kNaN}); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([] { ParetoDiagnosis d({1, kInf}); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([] { ParetoDiagnosis d({1, -1}); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([] { ParetoDiagnosis d({1e308, 1e308}); }), ErrorKind::numeric_value_out_of_range);
    ParetoDiagnosis d({1, 2, 3});
    EXPECT_EQ(kind_of([&] { d.pareto_share(-0.1); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { d.pareto_share(1.1); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { d.pareto_share(kNaN); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { d.top_threshold(0); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { d.tier_thresholds({0.2, 2}); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { d.lorenz(std::vector<double>{0.5, 0.2}); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { d.lorenz(std::vector<double>{0.5, 1.2}); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { d.lorenz(int64_t{0}); }), ErrorKind::invalid_parameter_value);
    EXPECT_TRUE(d.lorenz(std::vector<double>{}).empty());
}

TEST(SpendSample, NegativePolicies) {
    SpendSample s;
    EXPECT_EQ(kind_of([&] { s.add(-1); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([&] { s.add(kNaN); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([&] { s.add(-kInf, NegativeSpend::clamp_to_zero); }), ErrorKind::data_exception);
    EXPECT_TRUE(s.empty());
    s.add(-5, NegativeSpend::clamp_to_zero);
    s.add(-5, NegativeSpend::exclude);
    s.add(10);
    s.add(-0.0);
    EXPECT_EQ(s.size(), 3u);
    EXPECT_EQ(s.clamped(), 1);
    EXPECT_EQ(s.excluded(), 1);
    ParetoDiagnosis d(s);
    EXPECT_NEAR(d.gini(), 2.0 / 3.0, 1e-15);
    EXPECT_FALSE(std::signbit(s.values()[2]));
}

TEST(SpendSample, MergeEqualsOnePass) {
    std::mt19937_64 g(17);
    SpendSample all, a, b;
    for (int i = 0; i < 1000; ++i) {
        const double x = std::floor(unit(g) * 500) - 50;
        all.add(x, NegativeSpend::clamp_to_zero);
        (g() % 3 == 0 ? a : b).add(x, NegativeSpend::clamp_to_zero);
    }
    SpendSample m = a;
    m.merge(b);
    EXPECT_EQ(m.size(), all.size());
    EXPECT_EQ(m.clamped(), all.clamped());
    ParetoDiagnosis dm(m), da(all);
    EXPECT_EQ(dm.gini(), da.gini());
    EXPECT_EQ(dm.pareto_share(0.2), da.pareto_share(0.2));
    EXPECT_EQ(dm.top_threshold(0.05), da.top_threshold(0.05));
    SpendSample self = a;
    self.merge(self);
    EXPECT_EQ(self.size(), 2 * a.size());
}

TEST(ParetoDiagnosis, TierFunnel) {
    ParetoDiagnosis d({5, 10, 20, 20, 45, 100});
    auto rows = d.tier_funnel({20, 100});
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].customers, 2);  // 5, 10
    EXPECT_EQ(rows[1].customers, 3);  // 20, 20, 45 (equal to a threshold reaches it)
    EXPECT_EQ(rows[2].customers, 1);  // 100
    EXPECT_DOUBLE_EQ(rows[0].revenue, 15);
    EXPECT_DOUBLE_EQ(rows[1].revenue, 85);
    EXPECT_DOUBLE_EQ(rows[2].revenue_share, 0.5);
    EXPECT_DOUBLE_EQ(rows[1].customer_share, 0.5);
    // thresholds from the Pareto diagnosis: silver = top 50%, gold = top 20%
    auto t = d.tier_thresholds({0.5, 0.2});
    EXPECT_EQ(t, (std::vector<double>{20, 45}));
    auto f = d.tier_funnel(t);
    EXPECT_EQ(f[2].customers, 2);  // ceil(0.2 * 6) = 2
    EXPECT_EQ(d.tier_funnel({}).size(), 1u);
    EXPECT_EQ(d.tier_funnel({}).front().customers, 6);
    EXPECT_EQ(kind_of([&] { d.tier_funnel({10, 10}); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { d.tier_funnel({10, kNaN}); }), ErrorKind::invalid_parameter_value);
    ParetoDiagnosis zero(std::vector<double>(4, 0.0));
    EXPECT_DOUBLE_EQ(zero.tier_funnel({1})[0].revenue_share, 1.0);
}
