// Internal helpers of the Buy-Till-You-Die models (the files of this folder).
// Not part of the public API.
#pragma once

#include <boost/math/policies/policy.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "btyd.hpp"
#include "optimizer.hpp"

namespace customer_analytics {
namespace btyd_detail {

// Boost.Math policy of every special function call here: evaluate in
// double (Boost's default promotes double to long double, several times
// slower for the 2F1 series and not needed for double results); errors
// throw (Boost's default), and are caught and reported as Error.
using BoostPolicy = boost::math::policies::policy<boost::math::policies::promote_double<false>>;

// printf-style formatting for error details.
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// boost::math::lgamma and boost::math::digamma with BoostPolicy.
double ln_gamma(double v);
double psi(double v);

// Neumaier-compensated sum: the likelihood of a million customers summed
// to ~1 ulp, so that finite-difference Hessians are not dominated by
// rounding noise.
class CompensatedSum {
public:
    void add(double v) {
        const double t = sum_ + v;
        if (std::fabs(sum_) >= std::fabs(v))
            comp_ += (sum_ - t) + v;
        else
            comp_ += (v - t) + sum_;
        sum_ = t;
    }
    double value() const { return sum_ + comp_; }

private:
    double sum_ = 0, comp_ = 0;
};

// log(exp(a) + exp(b)) without overflow; -inf inputs allowed.
double log_add_exp(double a, double b);
// log(exp(a) - exp(b)) for a >= b; returns -inf when a <= b.
double log_sub_exp(double a, double b);

// Throws invalid_parameter_value unless v is finite and > 0.
void check_model_parameter(double v, const char* model, const char* name);
// Throws invalid_parameter_value unless v is finite and >= 0.
void check_horizon(double t, const char* name);
// Validates one customer's (x, t_x, T) as btyd_validate does.
void check_customer(double x, double t_x, double T);

// Generalized hypergeometric pFq(a; b; z) (p = q + 1, |z| < 1) through
// boost::math::hypergeometric_pFq. Throws numeric_value_out_of_range when the
// series would need too many terms (|z| too close to 1), when Boost fails,
// or when Boost's error estimate shows fewer than ~8 correct digits.
double hypergeometric(std::initializer_list<double> a, std::initializer_list<double> b, double z);
// Gauss hypergeometric 2F1(a, b; c; z), same conditions.
double hyp2f1(double a, double b, double c, double z);
// log 2F1(1, b; b + d; z) for b > 0, d > 0, b + d > 1 and 0 <= z < 1, with
// y = 1 - z passed separately (callers compute it without cancellation).
// This is the only 2F1 family of the Pareto/NBD model. Where the series is
// short it is summed by Boost; near z = 1 (where it would need up to
// millions of terms) the Euler integral (b + d - 1) int_0^1 u^(b+d-2)
// (y + z u)^-b du is evaluated instead, in the variable -log u where its
// logarithm is concave: Gauss-Kronrod quadrature over the bulk, found by
// Newton steps from the mode, and the far tail in closed form as a short
// 2F1 at a small negative argument. Cost is bounded in every region; the
// result has ~1e-13 relative accuracy. Throws numeric_value_out_of_range
// for arguments outside the domain or a non-finite result.
double log_hyp2f1_unit(double b, double d, double z, double y);

// out[k] = lgamma(v + xs[k]) - lgamma(v) (log Pochhammer symbol) for
// ascending non-negative integers xs. Accumulates log(v + i) so that the
// result stays exact when v is large (lgamma(v) itself would carry an
// absolute error of eps * v log v, which swamps the likelihood of
// near-homogeneous populations); falls back to Boost's lgamma difference
// when max x > 100000.
void log_pochhammer(double v, const std::vector<double>& xs, std::vector<double>& out);
// out[k] = digamma(v + xs[k]) - digamma(v) = sum_{i < xs[k]} 1 / (v + i), same scheme.
void digamma_difference(double v, const std::vector<double>& xs, std::vector<double>& out);

// Distinct (x, t_x, T) triples with weights, indexed into the distinct x
// values and the distinct time values (t_x and T pooled), so that the
// likelihood evaluates lgamma/digamma once per distinct x and log once per
// distinct time.
struct TripleRow {
    std::uint32_t xi;   // index into xs
    std::uint32_t txi;  // index into times
    std::uint32_t Ti;   // index into times
    double w;
};

struct CompiledTriples {
    std::vector<double> xs;     // distinct x, ascending
    std::vector<double> times;  // distinct t_x and T values, ascending
    std::vector<TripleRow> rows;
    double total_weight = 0;
    double weighted_x = 0;  // sum w * x
    double weighted_T = 0;  // sum w * T
};

// Validates every observation (btyd_validate), drops weight-0 rows, merges
// duplicates. Throws invalid_parameter_value for invalid input and
// data_exception when the total weight is 0 (unless allow_empty).
CompiledTriples compile_triples(const BtydObservation* data, std::size_t n, bool allow_empty = false,
                                const Interrupts& interrupts = Interrupts{});

// Validates the CLV arguments documented in btyd.hpp.
void check_clv_arguments(double expected_spend, int periods, double discount_rate, double period_length);
// The CLV sum of btyd.hpp per alive customer: alive_expected(t) is E[Y(t) |
// alive at T], nondecreasing, whose increments over a period are at most
// rate_bound * period_length.
double clv_alive_sum(const std::function<double(double)>& alive_expected, int periods, double discount_rate,
                     double period_length, double rate_bound, const Interrupts& interrupts);

// v, or numeric_value_out_of_range naming `what` when v is NaN or infinite:
// no prediction ever returns a non-finite value.
double finite_result(double v, const char* what);

// Converts a caught exception during a public prediction function into a
// customer_analytics::Error (Errors pass through unchanged).
[[noreturn]] void rethrow_as_error(const char* what);

}  // namespace btyd_detail
}  // namespace customer_analytics
