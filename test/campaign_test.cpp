#include "campaign.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <boost/math/distributions/chi_squared.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace customer_analytics;
using namespace customer_analytics_test;

namespace {

double chi2_quantile(double df, double p) {
    return boost::math::quantile(boost::math::chi_squared_distribution<double>(df), p);
}

}  // namespace

// ------------------------------------------------------------ holdout hash

// Values computed with the Python reference in campaign.hpp, an
// independent implementation of the documented hash. A change of the hash
// (which would silently reshuffle every running holdout) fails here.
TEST(Holdout, StableKnownValues) {
    EXPECT_EQ(holdout_hash(int64_t{12345}, "spring-2024"), 0x36696fbe6adb3fd6ULL);
    EXPECT_EQ(holdout_hash(int64_t{-1}, ""), 0xd28c42a966c5914bULL);
    EXPECT_EQ(holdout_hash(int64_t{0}, ""), 0x35282f16fbd3f65cULL);
    EXPECT_EQ(holdout_hash(std::string_view(""), ""), 0x238275bc38fcbe91ULL);
    EXPECT_EQ(holdout_hash(std::string_view("customer-42"), "spring-2024"), 0xcb76d95d776c4a4eULL);
    EXPECT_EQ(holdout_hash(std::string_view("a much longer key!"), "salt with 17 bytes"), 0xa98adb3ce3753a10ULL);
    EXPECT_EQ(holdout_hash(std::string_view("\xe5\xae\xa2\xe6\x88\xb7"), "\xe6\xb4\xbb\xe5\x8a\xa8"),
              0x7bd603981b84ad29ULL);  // 客户 / 活动 in UTF-8
    EXPECT_EQ(holdout_hash(std::numeric_limits<int64_t>::max(), "x"), 0x2ba672b941e2d9a3ULL);
    EXPECT_EQ(holdout_hash(std::numeric_limits<int64_t>::min(), "x"), 0x3ba3d59277c5419dULL);
    EXPECT_DOUBLE_EQ(holdout_unit(int64_t{12345}, "spring-2024"), 0.21254633330214012);
    EXPECT_DOUBLE_EQ(holdout_unit(std::string_view("customer-42"), "spring-2024"), 0.79478224307915568);
    EXPECT_TRUE(holdout(int64_t{12345}, 0.25, "spring-2024"));
    EXPECT_FALSE(holdout(int64_t{12345}, 0.2, "spring-2024"));
    EXPECT_TRUE(holdout(std::string_view("customer-42"), 0.8, "spring-2024"));
    EXPECT_FALSE(holdout(std::string_view("customer-42"), 0.79, "spring-2024"));
    // an int key and its text are different keys
    EXPECT_NE(holdout_hash(int64_t{0}, ""), holdout_hash(std::string_view(""), ""));
    EXPECT_NE(holdout_hash(int64_t{7}, "s"), holdout_hash(std::string_view("7"), "s"));
}

TEST(Holdout, UniformChiSquare) {
    const int n = 1000000, bins = 100;
    const double limit = chi2_quantile(bins - 1, 0.999);
    for (const char* salt : {"uniformity", ""}) {
        std::vector<int64_t> count(bins, 0);
        for (int64_t k = 0; k < n; ++k)
            ++count[static_cast<std::size_t>(holdout_unit(k, salt) * bins)];
        double stat = 0;
        const double e = static_cast<double>(n) / bins;
        for (int64_t c : count)
            stat += (c - e) * (c - e) / e;
        EXPECT_LT(stat, limit) << "int keys, salt '" << salt << "'";
    }
    // text keys of the usual shape
    std::vector<int64_t> count(bins, 0);
    std::string key;
    for (int k = 0; k < n; ++k) {
        key = "CUST-" + std::to_string(k);
        ++count[static_cast<std::size_t>(holdout_unit(std::string_view(key), "text keys") * bins)];
    }
    double stat = 0;
    const double e = static_cast<double>(n) / bins;
    for (int64_t c : count)
        stat += (c - e) * (c - e) / e;
    EXPECT_LT(stat, limit) << "text keys";
}

TEST(Holdout, FractionIsRespectedAndNested) {
    const int n = 1000000;
    int64_t in10 = 0, in20 = 0;
    for (int64_t k = 0; k < n; ++k) {
        const bool a = holdout(k, 0.1, "nest"), b = holdout(k, 0.2, "nest");
        in10 += a;
        in20 += b;
        if (a && !b)
            ADD_FAILURE() << "not nested at key " << k;
        EXPECT_FALSE(holdout(k, 0.0, "nest"));
        EXPECT_TRUE(holdout(k, 1.0, "nest"));
    }
    // within 4 standard deviations
    EXPECT_NEAR(in10 / 1e6, 0.1, 4 * std::sqrt(0.1 * 0.9 / n));
    EXPECT_NEAR(in20 / 1e6, 0.2, 4 * std::sqrt(0.2 * 0.8 / n));
}

TEST(Holdout, IndependentAcrossSalts) {
    const int n = 1000000;
    const double limit = chi2_quantile(1, 0.999);
    const std::pair<const char*, const char*> salts[] = {{"campaign-1", "campaign-2"},
                                                         {"a", "b"},
                                                         {"", "x"},
                                                         {"spring", "spring "}};
    for (const auto& sp : salts) {
        // 2x2 contingency of 20% holdouts under the two salts
        int64_t t[2][2] = {{0, 0}, {0, 0}};
        long double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (int64_t k = 0; k < n; ++k) {
            const double u = holdout_unit(k, sp.first), v = holdout_unit(k, sp.second);
            ++t[u < 0.2][v < 0.2];
            sx += u;
            sy += v;
            sxx += u * u;
            syy += v * v;
            sxy += u * v;
        }
        double stat = 0;
        for (int i = 0; i < 2; ++i)
            for (int j = 0; j < 2; ++j) {
                const double row = static_cast<double>(t[i][0] + t[i][1]);
                const double col = static_cast<double>(t[0][j] + t[1][j]);
                const double e = row * col / n;
                stat += (t[i][j] - e) * (t[i][j] - e) / e;
            }
        EXPECT_LT(stat, limit) << sp.first << " / " << sp.second;
        const long double N = n;
        const long double cov = sxy / N - (sx / N) * (sy / N);
        const long double r = cov / std::sqrt((sxx / N - (sx / N) * (sx / N)) * (syy / N - (sy / N) * (sy / N)));
        EXPECT_LT(std::fabs(static_cast<double>(r)), 3.3 / std::sqrt(N)) << sp.first << " / " << sp.second;
    }
}

TEST(Holdout, Errors) {
    EXPECT_EQ(kind_of([] { holdout(int64_t{1}, -0.1, "s"); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([] { holdout(int64_t{1}, 1.5, "s"); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([] { holdout(std::string_view("k"), std::nan(""), "s"); }), ErrorKind::invalid_parameter_value);
}

// ------------------------------------------------------------ campaign report

TEST(Campaign, HandComputed) {
    CampaignCounts c{1000, 50, 5000.0, 250, 10, 1000.0};
    CampaignParams p;
    p.cost = 500;
    auto r = campaign_report(c, p);
    EXPECT_DOUBLE_EQ(*r.treated_rate, 0.05);
    EXPECT_DOUBLE_EQ(*r.holdout_rate, 0.04);
    EXPECT_NEAR(*r.absolute_lift, 0.01, 1e-15);
    EXPECT_NEAR(*r.relative_lift, 0.25, 1e-13);
    EXPECT_DOUBLE_EQ(*r.revenue_per_treated, 5);
    EXPECT_DOUBLE_EQ(*r.revenue_per_holdout, 4);
    EXPECT_DOUBLE_EQ(*r.revenue_lift, 1);
    EXPECT_DOUBLE_EQ(*r.incremental_revenue, 1000);
    EXPECT_NEAR(*r.incremental_responders, 10, 1e-12);
    EXPECT_DOUBLE_EQ(*r.roi, 1.0);
    EXPECT_LT(*r.lift_ci_low, 0.01);
    EXPECT_GT(*r.lift_ci_high, 0.01);
    EXPECT_FALSE(campaign_report(c).roi.has_value());
}

// Worked examples of Newcombe (1998), Statistics in Medicine 17:873-890,
// Table II, method 10 (hybrid score), 95%.
TEST(Campaign, NewcombeIntervals) {
    auto ci = [](int64_t r1, int64_t n1, int64_t r2, int64_t n2) {
        auto r = campaign_report(CampaignCounts{n1, r1, 0, n2, r2, 0});
        return std::make_pair(*r.lift_ci_low, *r.lift_ci_high);
    };
    auto a = ci(56, 70, 48, 80);
    EXPECT_NEAR(a.first, 0.0524, 5e-5);
    EXPECT_NEAR(a.second, 0.3339, 5e-5);
    auto b = ci(9, 10, 3, 10);
    EXPECT_NEAR(b.first, 0.1705, 5e-5);
    EXPECT_NEAR(b.second, 0.8090, 5e-5);
    // zero counts: the interval comes from the Wilson upper limits 0.2775 (0/10) and 0.1611 (0/20)
    auto e = ci(0, 10, 0, 20);
    EXPECT_NEAR(e.first, -0.1611, 5e-5);
    EXPECT_NEAR(e.second, 0.2775, 5e-5);
    auto f = ci(0, 10, 0, 10);
    EXPECT_NEAR(f.first, -0.2775, 5e-5);
    EXPECT_NEAR(f.second, 0.2775, 5e-5);
    auto h = ci(10, 10, 0, 10);
    EXPECT_NEAR(h.first, 0.6075, 5e-5);
    EXPECT_DOUBLE_EQ(h.second, 1.0);
    // wider at 99%, narrower at 80%
    CampaignParams p99;
    p99.confidence = 0.99;
    auto r99 = campaign_report(CampaignCounts{70, 56, 0, 80, 48, 0}, p99);
    EXPECT_LT(*r99.lift_ci_low, a.first);
    EXPECT_GT(*r99.lift_ci_high, a.second);
}

TEST(Campaign, ZTest) {
    auto r = campaign_report(CampaignCounts{70, 56, 0, 80, 48, 0});
    EXPECT_NEAR(*r.z, 2.6501719512585336, 1e-12);
    EXPECT_NEAR(*r.p_value, 0.008045081368196568, 1e-12);
    auto none = campaign_report(CampaignCounts{10, 0, 0, 10, 0, 0});
    EXPECT_EQ(*none.z, 0);
    EXPECT_EQ(*none.p_value, 1);
    EXPECT_FALSE(none.relative_lift.has_value());
    auto all = campaign_report(CampaignCounts{10, 10, 0, 10, 10, 0});
    EXPECT_EQ(*all.p_value, 1);
    EXPECT_DOUBLE_EQ(*all.relative_lift, 0);
}

TEST(Campaign, CoverageByTheNumbers) {
    // Simulated campaigns: the 95% interval covers the true difference about 95% of the time.
    std::mt19937_64 g(123);
    const double p1 = 0.10, p2 = 0.05;
    const int n1 = 300, n2 = 200, sims = 2000;
    int covered = 0;
    for (int s = 0; s < sims; ++s) {
        int64_t r1 = 0, r2 = 0;
        for (int i = 0; i < n1; ++i)
            r1 += unit(g) < p1;
        for (int i = 0; i < n2; ++i)
            r2 += unit(g) < p2;
        auto r = campaign_report(CampaignCounts{n1, r1, 0, n2, r2, 0});
        covered += *r.lift_ci_low <= p1 - p2 && p1 - p2 <= *r.lift_ci_high;
    }
    const double cov = static_cast<double>(covered) / sims;
    EXPECT_GT(cov, 0.93);
    EXPECT_LT(cov, 0.975);
}

TEST(Campaign, MissingSides) {
    auto r = campaign_report(CampaignCounts{100, 5, 300, 0, 0, 0});
    EXPECT_DOUBLE_EQ(*r.treated_rate, 0.05);
    EXPECT_DOUBLE_EQ(*r.revenue_per_treated, 3);
    EXPECT_FALSE(r.holdout_rate.has_value());
    EXPECT_FALSE(r.absolute_lift.has_value());
    EXPECT_FALSE(r.lift_ci_low.has_value());
    EXPECT_FALSE(r.p_value.has_value());
    EXPECT_FALSE(r.incremental_revenue.has_value());
    auto e = campaign_report(CampaignCounts{});
    EXPECT_FALSE(e.treated_rate.has_value());
    EXPECT_FALSE(e.holdout_rate.has_value());
    // negative revenue (refunds) is allowed
    auto neg = campaign_report(CampaignCounts{10, 1, -50, 10, 1, 20});
    EXPECT_DOUBLE_EQ(*neg.revenue_lift, -7);
}

TEST(Campaign, Errors) {
    EXPECT_EQ(kind_of([] { campaign_report(CampaignCounts{-1, 0, 0, 1, 0, 0}); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([] { campaign_report(CampaignCounts{1, 2, 0, 1, 0, 0}); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([] { campaign_report(CampaignCounts{1, 0, 0, 1, 3, 0}); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([] { campaign_report(CampaignCounts{1, 0, std::nan(""), 1, 0, 0}); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([] { campaign_report(CampaignCounts{1, 0, 0, 1, 0, HUGE_VAL}); }), ErrorKind::data_exception);
    CampaignParams p;
    p.confidence = 1.0;
    EXPECT_EQ(kind_of([&] {
                  campaign_report(CampaignCounts{1, 0, 0, 1, 0, 0}, p);
              }),
              ErrorKind::invalid_parameter_value);
    p.confidence = 0;
    EXPECT_EQ(kind_of([&] {
                  campaign_report(CampaignCounts{1, 0, 0, 1, 0, 0}, p);
              }),
              ErrorKind::invalid_parameter_value);
    p = {};
    p.cost = -1;
    EXPECT_EQ(kind_of([&] {
                  campaign_report(CampaignCounts{1, 0, 0, 1, 0, 0}, p);
              }),
              ErrorKind::invalid_parameter_value);
    p.cost = std::nan("");
    EXPECT_EQ(kind_of([&] {
                  campaign_report(CampaignCounts{1, 0, 0, 1, 0, 0}, p);
              }),
              ErrorKind::invalid_parameter_value);
    // huge revenues whose difference overflows
    EXPECT_EQ(kind_of([] {
                  campaign_report(CampaignCounts{1, 0, 1.7e308, 1, 0, -1.7e308});
              }),
              ErrorKind::numeric_value_out_of_range);
}

TEST(CampaignState, MergeEqualsOnePass) {
    static_assert(std::is_trivially_copyable<CampaignState>::value, "campaign state is copied as bytes");
    std::mt19937_64 g(77);
    CampaignState all, a, b;
    for (int i = 0; i < 5000; ++i) {
        const bool h = unit(g) < 0.2, r = unit(g) < 0.1;
        const double rev = r ? std::floor(unit(g) * 10000) / 100 : 0.0;
        all.add(h, r, rev);
        (g() % 2 ? a : b).add(h, r, rev);
    }
    CampaignState m = b;
    m.merge(a);
    const auto x = m.counts(), y = all.counts();
    EXPECT_EQ(x.treated, y.treated);
    EXPECT_EQ(x.treated_responders, y.treated_responders);
    EXPECT_EQ(x.holdout, y.holdout);
    EXPECT_EQ(x.holdout_responders, y.holdout_responders);
    EXPECT_NEAR(x.treated_revenue, y.treated_revenue, 1e-9);
    EXPECT_NEAR(x.holdout_revenue, y.holdout_revenue, 1e-9);
    // compensated sums keep small amounts next to a huge one
    CampaignState c;
    c.add(false, true, 1e16);
    for (int i = 0; i < 1000; ++i)
        c.add(false, false, 1.0);
    c.add(false, false, -1e16);
    EXPECT_DOUBLE_EQ(c.counts().treated_revenue, 1000.0);
    EXPECT_EQ(kind_of([&] { c.add(true, true, std::nan("")); }), ErrorKind::data_exception);
    EXPECT_EQ(c.counts().holdout, 0);
    CampaignState big;
    big.add(false, false, 1.7e308);
    big.add(false, false, 1.7e308);
    EXPECT_EQ(kind_of([&] { big.counts(); }), ErrorKind::numeric_value_out_of_range);
}
