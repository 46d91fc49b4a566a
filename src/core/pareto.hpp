// Pareto diagnosis over the spends of a set of customers (one value per
// customer): share of revenue from the top X% customers, Lorenz curve
// points, the Gini coefficient, and tier thresholds (the spend level of the
// top 20% / top 5% customers).
//
// SpendSample is the mergeable aggregate state (it keeps every value, 8
// bytes per customer); ParetoDiagnosis computes the results from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "arena.hpp"
#include "error.hpp"

namespace customer_analytics {

class StateWriter;

// What SpendSample::add does with a negative spend (net refunds). The Gini
// coefficient, Lorenz curve and Pareto shares are defined for non-negative
// values only.
enum class NegativeSpend {
    reject,         // default: raise data_exception
    clamp_to_zero,  // count the customer with spend 0
    exclude,        // leave the customer out of the population
};

// The most customers one diagnosis takes (8 bytes each, and as much again
// while sorting): program_limit_exceeded beyond.
constexpr std::size_t kMaxSpendCustomers = 100000000;

// Mergeable state: the multiset of customer spends. merge() concatenates, so
// results over merged partial states equal a single pass (the results sort
// the values, so input order never matters).
class SpendSample {
public:
    // spend must be finite (else data_exception); negative spends are
    // handled by `negative` (default: reject).
    void add(double spend, NegativeSpend negative = NegativeSpend::reject);
    void merge(const SpendSample& other);

    std::size_t size() const { return values_.size(); }
    bool empty() const { return values_.empty(); }
    const std::vector<double>& values() const { return values_; }
    int64_t clamped() const { return clamped_; }    // negatives counted as 0
    int64_t excluded() const { return excluded_; }  // negatives left out

private:
    std::vector<double> values_;
    int64_t clamped_ = 0;
    int64_t excluded_ = 0;
};

struct LorenzPoint {
    double customer_share;  // p: the poorest p of customers ...
    double revenue_share;   // L(p): ... hold this share of revenue
};

struct ValueBandCuts {
    double low_cut;   // spend of the top 50% customers (top_threshold(0.5))
    double high_cut;  // spend of the top 20% customers (top_threshold(0.2))
};

// Definitions (n customers, spends x, total T = sum x):
//  * "top X%" is the top k = ceil(X * n) customers by spend, where X * n is
//    first snapped to the nearest integer when within a relative 1e-9 of it
//    (so 0.07 * 100 counts as exactly 7). Which of several tied customers
//    is "in" the top k does not change any result below.
//  * T == 0 (every spend zero) counts as perfect equality: Gini 0, the
//    Lorenz curve is the diagonal, the top X% hold k / n of revenue.
// Construction requires at least one customer (data_exception otherwise;
// the SQL functions return NULL over no rows), and finite non-negative
// values (data_exception).
class ParetoDiagnosis {
public:
    // Sorting polls `interrupts`.
    explicit ParetoDiagnosis(std::vector<double> spends, const Interrupts& interrupts = Interrupts{});
    ParetoDiagnosis(const double* spends, std::size_t n, const Interrupts& interrupts = Interrupts{})
        : ParetoDiagnosis(std::vector<double>(spends, spends + n), interrupts) {}
    explicit ParetoDiagnosis(const SpendSample& sample) : ParetoDiagnosis(sample.values()) {}

    std::size_t size() const { return ascending_.size(); }
    double total() const { return static_cast<double>(total_); }

    // k = ceil(X * n) as defined above; top_fraction in [0, 1] (else
    // invalid_parameter_value).
    int64_t top_count(double top_fraction) const;

    // Share of total revenue from the top_count(top_fraction) customers, in
    // [0, 1]. pareto_share(0) = 0, pareto_share(1) = 1.
    double pareto_share(double top_fraction) const;

    // Gini coefficient on the sorted values x_(1) <= ... <= x_(n):
    //   G = sum_i (2i - n - 1) x_(i) / (n * T)
    // (the population form, without the n / (n - 1) small-sample factor).
    // All equal -> 0; one customer holds everything -> (n - 1) / n;
    // uniform -> 1/3; exponential -> 1/2.
    double gini() const;

    // Lorenz curve L(p) at the given customer shares p (each in [0, 1], in
    // non-decreasing order, else invalid_parameter_value). L is the
    // piecewise-linear curve through (i/n, share of revenue held by the i
    // smallest spenders); between those knots it is interpolated linearly.
    // Top-down Pareto shares are 1 - L(1 - X).
    std::vector<LorenzPoint> lorenz(const std::vector<double>& customer_shares) const;
    // segments + 1 evenly spaced points 0, 1/segments, ..., 1; segments in
    // 1 .. 100000 (else invalid_parameter_value). Default 10.
    std::vector<LorenzPoint> lorenz(int64_t segments = 10) const;

    // The spend level of the top X% customers: the smallest spend among the
    // top k = top_count(X) customers, i.e. the k-th largest spend. Every
    // customer with spend >= this value is in the top X% or tied with its
    // last member. top_fraction in (0, 1] (else invalid_parameter_value).
    double top_threshold(double top_fraction) const;

    // top_threshold for each fraction, in the order given. Default {0.20,
    // 0.05}: the silver and gold thresholds of a normal / silver / gold
    // membership ladder.
    std::vector<double> tier_thresholds(const std::vector<double>& top_fractions = {0.20, 0.05}) const;

    // Tier funnel: customers and revenue per tier for strictly ascending,
    // finite thresholds t_1 < ... < t_m (else invalid_parameter_value).
    // Row i (0..m) holds the customers who reached exactly i thresholds
    // (spend >= t_i upgrades, as in tier_for), so row 0 is below t_1 and
    // row m at or above t_m. No thresholds -> one row with everybody.
    struct TierRow {
        int64_t customers;
        double revenue;
        double customer_share;
        double revenue_share;  // T == 0: equal to customer_share
    };
    std::vector<TierRow> tier_funnel(const std::vector<double>& thresholds) const;

    // Default value-band cuts: bottom 50% low, next 30% mid, top 20% high
    // (by top_threshold, so ties at a cut go to the higher band).
    ValueBandCuts default_value_band_cuts() const;

private:
    std::vector<double> ascending_;
    long double total_ = 0;
};

// The serialized state of the spend aggregates (gini, pareto_share,
// lorenz_curve, pareto_tier_thresholds, value_band_cuts; state_format.hpp):
// the aggregate's parameters (none, a top fraction, a segment count or the
// top fractions: at most kMaxSpendParameters finite values in 0..100000,
// which the final functions check further), then the spends (finite, >= 0).
// The reader fills both arrays from arena and raises
// invalid_binary_representation for anything else.
constexpr uint32_t kMaxSpendParameters = 1000;
void write_spend_state(StateWriter& writer, const double* parameters, uint32_t parameter_count, const double* spends,
                       uint32_t spend_count);
void read_spend_state(const Arena& arena, const uint8_t* data, std::size_t size, FlatArray<double>* parameters,
                      FlatArray<double>* spends);

}  // namespace customer_analytics
