// Internal helpers of the Buy-Till-You-Die models (the files of this folder).
// Not part of the public API.
#pragma once

#include <boost/math/policies/policy.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
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
// The integral of the Pareto/NBD model,
//   I = int_{t0}^{t1} (1 + t/alpha)^-a (1 + t/beta)^-b dt,
// a, b >= 0, alpha, beta > 0, 0 <= t0 <= t1 finite, as log I (-inf when
// t0 == t1) and, with moments, the means under the density proportional to
// the integrand of log1p(t/alpha), t/(alpha+t), log1p(t/beta), t/(beta+t)
// (what the parameter derivatives of log I need). In u = log((c + t) /
// (c + t0)), c = min(alpha, beta), the factor with scale c is an exact
// exponential and the log of the integrand is concave and analytic in the
// strip |Im u| < pi; it is integrated by Boost's 10-point Gauss-Legendre rule
// on panels of bounded drop, cut where it has fallen e^-40 below its peak:
// ~1e-14 relative accuracy, 10 to 30 nodes for customers of real data, and
// a bounded cost at any parameters (dropout rates going to 0 or the
// dropout distribution to a point mass included). Throws
// numeric_value_out_of_range for arguments outside the domain or a result
// that is not finite.
struct PowerIntegral {
    double log_value = -std::numeric_limits<double>::infinity();
    double mean_log_a = 0, mean_frac_a = 0, mean_log_b = 0, mean_frac_b = 0;
};
PowerIntegral power_integral(double a, double alpha, double b, double beta, double t0, double t1, bool moments);

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

// The gradient of pareto_nbd_log_likelihood in log-parameters (log r,
// log alpha, log s, log beta), analytic; for tests.
std::array<double, 4> pareto_nbd_gradient(const ParetoNbdModel& model, const BtydObservation* data, std::size_t n);

// The covariance of the log-parameters theta at a converged fit (see
// ParameterCovariance); d = 0 when the information is not positive definite.
ParameterCovariance parameter_covariance(const LogLikelihood& ll, const std::vector<double>& theta);

// The bootstrap of bgnbd_clv_interval: clv(parameters) at the estimate and
// at draws from N(log estimate, covariance).
ClvInterval clv_interval(const double* estimate, const ParameterCovariance& covariance,
                         const std::function<double(const double*)>& clv, int draws, double level, std::uint64_t seed,
                         const Interrupts& interrupts);

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
