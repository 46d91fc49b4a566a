// Buy-Till-You-Die models: BG/NBD, Pareto/NBD, Gamma-Gamma and CLV.
//
// Pure C++17, no PostgreSQL headers. Errors are thrown as
// customer_analytics::Error (error.hpp); every optimizer iteration polls
// BtydFitOptions::interrupts so that query cancellation works.
//
// ---------------------------------------------------------------------------
// Data and conventions
// ---------------------------------------------------------------------------
// A customer is summarised by the triple (x, t_x, T) of the published
// models (Fader, Hardie & Lee 2005):
//   x   number of repeat purchases: distinct purchase days after the first
//       one, within the calibration period (several purchases on one day
//       count once);
//   t_x time from the first purchase to the last one in the period;
//   T   time from the first purchase to the end of the period.
// Times are in a "time unit" chosen by the caller (day, week or month, see
// btyd_observation); every model parameter with a time dimension (alpha,
// beta) and every horizon t is in that same unit.
//
// A BtydObservation carries a weight: the number of customers sharing the
// triple. Fits work on distinct triples (duplicates are merged internally),
// so memory and time grow with the number of distinct triples, not with
// the number of customers. Weights are finite and >= 0 (0 ignores the row);
// fractional weights are accepted and act as frequency weights.
//
// Validity of a triple (checked everywhere, else ErrorKind::invalid_parameter_value):
// all values finite; x >= 0, integral and at most kBtydMaxRepeatPurchases
// (1e9); 0 <= t_x <= T; x == 0 requires
// t_x == 0 (a customer without repeat purchases has no "last repeat").
//
// ---------------------------------------------------------------------------
// Fitting
// ---------------------------------------------------------------------------
// Maximum likelihood in log-parameter space. The objective minimised is
//     f(theta) = -LL(theta) / W + l2_penalty * sum_i theta_i^2,
// theta = log(parameters), W = sum of weights; i.e. the L2 penalty is on
// the log-parameters (shrinking each parameter towards 1) and is added to
// the mean negative log-likelihood per customer (as the `penalizer_coef`
// of common BTYD libraries), so its strength does not depend on the
// number of customers. The reported log_likelihood is the unpenalised
// total LL at the returned parameters.
//
// Optimizer: BFGS with backtracking line search from a few fixed,
// data-scaled starting points (analytic gradients), stopping once two runs
// agree (one for the costlier Pareto/NBD, or two runs ending at the same
// boundary of its parameter space), a Nelder-Mead fallback when no run
// converged, and the best point kept. Deterministic: no randomness.
// Pareto/NBD is optimised in (log r, log r/alpha, log s, log s/beta), and
// the conditions below apply to those coordinates.
// converged == true means a proper maximum was found:
//   - the gradient of f (per customer, in log-parameter space) has
//     max-norm <= 1e-6,
//   - every log-parameter is within [-20, 20] (parameters in ~[2e-9, 5e8];
//     the search box is [-25, 25]),
//   - the observed information of f (W times its Hessian, finite
//     differences) is positive definite and gives every log-parameter a
//     standard error <= 5.
// Data whose likelihood keeps increasing towards a parameter 0 or infinity
// (one customer, identical customers, repeat purchases at t_x = 0 making
// the density unbounded) give converged == false with the finite
// parameters reached; parameters and log-likelihood are never NaN.
// Cost: one likelihood evaluation is O(distinct triples + max x), plus for
// Pareto/NBD one quadrature (10 to 30 nodes) per distinct triple with
// t_x < T.
//
// ---------------------------------------------------------------------------
// Numerics
// ---------------------------------------------------------------------------
// Everything is computed in logs, with the published closed forms regrouped
// so that no term grows with the parameters or with x (see the comments at
// the top of bgnbd.cpp and pareto_nbd.cpp); customers with thousands of
// purchases are fine. Hypergeometric functions are Boost's
// hypergeometric_pFq, always with 0 <= z < 1 and positive (or, for the
// BG/NBD expectation, finitely many sign changes) terms. A series that
// would need more than 50000 terms (z within ~1e-3 of 1: horizons t beyond
// ~1000 (alpha + T), or extreme parameter ratios) is refused with
// ErrorKind::numeric_value_out_of_range rather than truncated.
// Prediction functions throw invalid_parameter_value for invalid model
// parameters (each must be finite and > 0), customers (see above) or
// horizons (t must be finite and >= 0); their results are never NaN.

#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "error.hpp"

namespace customer_analytics {

// Time-unit lengths in days for btyd_observation. A month is the mean
// Gregorian month, 365.25 / 12 = 30.4375 days.
inline constexpr double kBtydDay = 1.0;
inline constexpr double kBtydWeek = 7.0;
inline constexpr double kBtydMonth = 30.4375;

// The largest x accepted anywhere (far beyond any customer: more repeat
// purchase days than the calendar holds). Beyond it r + x and the other
// parameter sums of the formulas lose the parameters to rounding.
inline constexpr double kBtydMaxRepeatPurchases = 1e9;

struct BtydObservation {
    double x = 0;       // repeat purchases
    double t_x = 0;     // time of last purchase since the first
    double T = 0;       // age at the end of the calibration period
    double weight = 1;  // number of customers with this triple
};

// Throws invalid_parameter_value if the triple (and weight) is invalid.
void btyd_validate(const BtydObservation& obs);

// Builds (x, t_x, T) from day numbers (any consistent day numbering, e.g.
// days since an epoch; fractional days are allowed):
//   x   = purchase_days - 1
//   t_x = (last_day - first_day) / unit_days
//   T   = (end_day - first_day) / unit_days
// purchase_days is the number of distinct purchase days within the period
// (first day included), end_day the last day of the calibration period
// (inclusive: T = 0 for a customer whose first purchase is on end_day).
// Requires first_day <= last_day <= end_day, purchase_days >= 1,
// purchase_days == 1 iff last_day == first_day, and unit_days > 0
// (kBtydDay, kBtydWeek, kBtydMonth or any positive length).
// Returns weight 1.
BtydObservation btyd_observation(double first_day, double last_day, std::int64_t purchase_days, double end_day,
                                 double unit_days);

struct BtydFitOptions {
    double l2_penalty = 0.0;   // >= 0, see "Fitting" above
    int max_iterations = 500;  // per BFGS run (Nelder-Mead gets 20x this)
    Interrupts interrupts;     // polled once per optimizer iteration
};

// ---------------------------------------------------------------------------
// BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way")
// ---------------------------------------------------------------------------
// Purchases ~ Poisson(lambda) while alive, lambda ~ Gamma(r, alpha);
// after each purchase the customer drops out with probability p,
// p ~ Beta(a, b). Prediction functions only read r, alpha, a, b (all must
// be finite and > 0), so the SQL glue may build a model from stored
// parameters: BgnbdModel{r, alpha, a, b}.
// The covariance of a fit's log-parameters (the inverse observed
// information of the unpenalised log-likelihood at the estimate), d x d
// row-major in the order of the parameters; set by the fits that converge.
// Standard errors of the parameters follow by the delta method,
// se_i = p_i sqrt(cov_ii) (parameter_standard_error).
struct ParameterCovariance {
    int d = 0;  // 0: none
    std::array<double, 16> values{};
};
// The standard error of parameter i (0-based) whose value is p.
double parameter_standard_error(const ParameterCovariance& cov, int i, double p);

struct BgnbdModel {
    double r = 0, alpha = 0, a = 0, b = 0;
    double log_likelihood = 0;  // unpenalised, at the parameters above
    double customers = 0;       // sum of weights fitted
    bool converged = false;
    int iterations = 0;  // optimizer iterations, all runs together
    ParameterCovariance covariance{};
};

// Throws invalid_parameter_value, naming the parameter, unless every
// parameter is finite and > 0 (what the prediction functions require).
void validate_model(const BgnbdModel& model);

// Throws data_exception if no customer has a repeat purchase (the model is
// not identified), invalid_parameter_value for invalid data or options,
// query_canceled on interrupt.
BgnbdModel fit_bgnbd(const BtydObservation* data, std::size_t n, const BtydFitOptions& options = {});
// Weighted total log-likelihood at the parameters of `model`.
double bgnbd_log_likelihood(const BgnbdModel& model, const BtydObservation* data, std::size_t n);
// Probability that the customer is still alive at T (1 when x == 0).
double bgnbd_p_alive(const BgnbdModel& model, double x, double t_x, double T);
// E[Y(t) | x, t_x, T]: expected purchases in (T, T + t].
double bgnbd_expected(const BgnbdModel& model, double t, double x, double t_x, double T);
// E[X(t)]: expected purchases of a new customer in (0, t] (repeat purchases
// after the first one at time 0).
double bgnbd_unconditional_expected(const BgnbdModel& model, double t);
// P(Y(t) >= 1 | x, t_x, T): probability of at least one purchase in
// (T, T + t]  =  P(alive) * (1 - ((alpha + T) / (alpha + T + t))^(r + x)).
double bgnbd_prob_purchase(const BgnbdModel& model, double t, double x, double t_x, double T);
// Repurchase score 0..100 = 100 * bgnbd_prob_purchase (not rounded).
double bgnbd_repurchase_score(const BgnbdModel& model, double t, double x, double t_x, double T);
// Standard errors of (r, alpha, a, b) from the observed information matrix
// (inverse Hessian of the unpenalised weighted LL, delta method from
// log-parameters). Throws numeric_value_out_of_range if the information
// matrix is not positive definite.
std::array<double, 4> bgnbd_standard_errors(const BgnbdModel& model, const BtydObservation* data, std::size_t n);

// ---------------------------------------------------------------------------
// MBG/NBD (Batislam, Denizel & Filiztekin 2007, "Empirical validation and
// comparison of models for customer base analysis", IJRM 24(3))
// ---------------------------------------------------------------------------
// BG/NBD where a customer may also drop out right after the first purchase
// (with probability p): x repeat purchases are x + 1 chances to drop out, so
// a customer without repeat purchases is not alive for sure. Same data,
// parameters and functions as BG/NBD; P(alive) = 1 / (1 + a/(b+x)
// ((alpha+T)/(alpha+t_x))^(r+x)), and a new customer is alive with
// probability b / (a + b).
struct MbgnbdModel {
    double r = 0, alpha = 0, a = 0, b = 0;
    double log_likelihood = 0;
    double customers = 0;
    bool converged = false;
    int iterations = 0;
    ParameterCovariance covariance{};
};

void validate_model(const MbgnbdModel& model);
MbgnbdModel fit_mbgnbd(const BtydObservation* data, std::size_t n, const BtydFitOptions& options = {});
double mbgnbd_log_likelihood(const MbgnbdModel& model, const BtydObservation* data, std::size_t n);
double mbgnbd_p_alive(const MbgnbdModel& model, double x, double t_x, double T);
double mbgnbd_expected(const MbgnbdModel& model, double t, double x, double t_x, double T);
double mbgnbd_unconditional_expected(const MbgnbdModel& model, double t);
double mbgnbd_prob_purchase(const MbgnbdModel& model, double t, double x, double t_x, double T);
double mbgnbd_repurchase_score(const MbgnbdModel& model, double t, double x, double t_x, double T);
std::array<double, 4> mbgnbd_standard_errors(const MbgnbdModel& model, const BtydObservation* data, std::size_t n);
double mbgnbd_clv(const MbgnbdModel& model, double x, double t_x, double T, double expected_spend, int periods,
                  double discount_rate, double period_length = 1.0, const Interrupts& interrupts = Interrupts{});

// ---------------------------------------------------------------------------
// Pareto/NBD (Schmittlein, Morrison & Colombo 1987; likelihood as in
// Fader & Hardie's 2005 note "A note on deriving the Pareto/NBD model")
// ---------------------------------------------------------------------------
// Purchases ~ Poisson(lambda), lambda ~ Gamma(r, alpha); lifetime
// ~ Exponential(mu), mu ~ Gamma(s, beta).
//
// A fit without a proper maximum (converged == false) names the limit of
// the parameter space its likelihood rises towards, when it is one of:
//   no_dropout            s/beta -> 0: nobody drops out, purchases are NBD
//                         (the data show no sign of dropout; common on
//                         short windows of real retail data);
//   homogeneous_dropout   s, beta -> infinity with s/beta fixed: every
//                         customer has the dropout rate s/beta;
//   homogeneous_purchase  r, alpha -> infinity with r/alpha fixed: every
//                         customer has the purchase rate r/alpha.
// (no_dropout when even the oldest customer's prior probability of having
// dropped out is below 1e-6; the homogeneous limits when the gamma shape is
// beyond 1e6, a coefficient of variation below 0.1 %). The parameters are
// then the finite point reached, within ~1e-6 of the supremum of the
// log-likelihood per customer; predictions there are those of the limiting
// model to about that precision.
enum class ParetoNbdBoundary { none, no_dropout, homogeneous_dropout, homogeneous_purchase };

// "no dropout", "homogeneous dropout", "homogeneous purchase"; nullptr for none.
const char* boundary_name(ParetoNbdBoundary boundary);

struct ParetoNbdModel {
    double r = 0, alpha = 0, s = 0, beta = 0;
    double log_likelihood = 0;
    double customers = 0;
    bool converged = false;
    int iterations = 0;
    ParetoNbdBoundary boundary = ParetoNbdBoundary::none;
    ParameterCovariance covariance{};
};

void validate_model(const ParetoNbdModel& model);

ParetoNbdModel fit_pareto_nbd(const BtydObservation* data, std::size_t n, const BtydFitOptions& options = {});
double pareto_nbd_log_likelihood(const ParetoNbdModel& model, const BtydObservation* data, std::size_t n);
double pareto_nbd_p_alive(const ParetoNbdModel& model, double x, double t_x, double T);
// E[Y(t) | x, t_x, T] = P(alive) (r+x)(beta+T) / ((alpha+T)(s-1))
//                       * [1 - ((beta+T)/(beta+T+t))^(s-1)]   (limit at s == 1)
double pareto_nbd_expected(const ParetoNbdModel& model, double t, double x, double t_x, double T);
// E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]
double pareto_nbd_unconditional_expected(const ParetoNbdModel& model, double t);
// P(Y(t) >= 1 | x, t_x, T) = P(alive) * E[lambda/(lambda+mu) (1 - exp(-(lambda+mu) t))]
// under the posterior of an alive customer.
double pareto_nbd_prob_purchase(const ParetoNbdModel& model, double t, double x, double t_x, double T);
double pareto_nbd_repurchase_score(const ParetoNbdModel& model, double t, double x, double t_x, double T);
std::array<double, 4> pareto_nbd_standard_errors(const ParetoNbdModel& model, const BtydObservation* data,
                                                 std::size_t n);

// ---------------------------------------------------------------------------
// Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV", JMR;
// Fader & Hardie 2013 note "The Gamma-Gamma model of monetary value")
// ---------------------------------------------------------------------------
// Each transaction value ~ Gamma(p, nu), nu ~ Gamma(q, gamma). The data of a
// customer are x >= 1 transactions with mean value mean_spend > 0 (usually
// x = repeat purchases and mean_spend = mean value of the repeat purchase
// days, as in the JMR paper). Customers with x == 0 carry no spend
// information and must be left out by the caller; x == 0 or
// mean_spend <= 0 is an invalid_parameter_value error (refunds that make a
// mean spend non-positive must be handled before fitting).
struct GammaGammaObservation {
    double x = 0;
    double mean_spend = 0;
    double weight = 1;
};

struct GammaGammaModel {
    double p = 0, q = 0, gamma = 0;
    double log_likelihood = 0;
    double customers = 0;
    bool converged = false;
    int iterations = 0;
    ParameterCovariance covariance{};
};

void validate_model(const GammaGammaModel& model);

GammaGammaModel fit_gamma_gamma(const GammaGammaObservation* data, std::size_t n, const BtydFitOptions& options = {});
double gamma_gamma_log_likelihood(const GammaGammaModel& model, const GammaGammaObservation* data, std::size_t n);
// E[spend per transaction | x, mean_spend] = p (gamma + x mean_spend) / (p x + q - 1).
// x == 0 gives the population mean p gamma / (q - 1) (mean_spend ignored).
// x > 0 requires mean_spend > 0 (invalid_parameter_value otherwise);
// p x + q <= 1 means an infinite expectation: numeric_value_out_of_range.
double gamma_gamma_expected_spend(const GammaGammaModel& model, double x, double mean_spend);
std::array<double, 3> gamma_gamma_standard_errors(const GammaGammaModel& model, const GammaGammaObservation* data,
                                                  std::size_t n);

// ---------------------------------------------------------------------------
// BG/BB (Fader, Hardie & Shang 2010): discrete-time non-contractual
// ---------------------------------------------------------------------------
// n transaction opportunities (annual events, yearly donations); while
// alive a customer transacts at each with probability p ~ Beta(alpha,
// beta) and becomes inactive after each with probability theta ~
// Beta(gamma, delta). A customer is (x, t_x, n): x transactions in the n
// opportunities, the last at opportunity t_x (0 when x = 0); all integers
// with 0 <= x <= t_x <= n <= kBgbbMaxOpportunities and t_x = 0 iff x = 0
// (else invalid_parameter_value).
inline constexpr double kBgbbMaxOpportunities = 100000;

struct BgbbObservation {
    double x = 0, t_x = 0, n = 0;
    double weight = 1;
};

struct BgbbModel {
    double alpha = 0, beta = 0, gamma = 0, delta = 0;
    double log_likelihood = 0;
    double customers = 0;
    bool converged = false;
    int iterations = 0;
    ParameterCovariance covariance{};
};

void bgbb_validate(const BgbbObservation& obs);
void validate_model(const BgbbModel& model);
// data_exception when no customer transacted, or every one at every opportunity.
BgbbModel fit_bgbb(const BgbbObservation* data, std::size_t n, const BtydFitOptions& options = {});
double bgbb_log_likelihood(const BgbbModel& model, const BgbbObservation* data, std::size_t n);
// P(alive at opportunity n + 1 | x, t_x, n).
double bgbb_p_alive(const BgbbModel& model, double x, double t_x, double n);
// E[transactions in opportunities n+1 .. n+n_star | x, t_x, n].
double bgbb_expected(const BgbbModel& model, double n_star, double x, double t_x, double n);
// E[X(n)]: a new customer's transactions in n opportunities.
double bgbb_unconditional_expected(const BgbbModel& model, double n);
// P(X(n) = x): the share of customers with x transactions in n opportunities.
double bgbb_probability(const BgbbModel& model, double x, double n);
std::array<double, 4> bgbb_standard_errors(const BgbbModel& model, const BgbbObservation* data, std::size_t n);

// ---------------------------------------------------------------------------
// sBG (Fader & Hardie 2007): contractual retention
// ---------------------------------------------------------------------------
// At the end of each period an active customer cancels with probability
// theta ~ Beta(alpha, beta). A customer is (t, churned): cancelled in period
// t >= 1, or still active after t >= 0 periods; t an integer up to
// kSbgMaxPeriods.
inline constexpr double kSbgMaxPeriods = 1e6;

struct SbgObservation {
    double t = 0;
    bool churned = false;
    double weight = 1;
};

struct SbgModel {
    double alpha = 0, beta = 0;
    double log_likelihood = 0;
    double customers = 0;
    bool converged = false;
    int iterations = 0;
    ParameterCovariance covariance{};
};

void sbg_validate(const SbgObservation& obs);
void validate_model(const SbgModel& model);
// data_exception when nobody churned, or everybody in the first period.
SbgModel fit_sbg(const SbgObservation* data, std::size_t n, const BtydFitOptions& options = {});
double sbg_log_likelihood(const SbgModel& model, const SbgObservation* data, std::size_t n);
// S(t) = B(alpha, beta+t)/B(alpha, beta): share still active after t periods.
double sbg_survival(const SbgModel& model, double t);
// r(t) = (beta+t-1)/(alpha+beta+t-1): share of those active after t-1
// periods who renew for period t (t >= 1).
double sbg_retention(const SbgModel& model, double t);
// Discounted expected residual lifetime of a customer who has made
// `renewals` renewals, at the next renewal decision: expected future
// payments, one per period, discounted at discount_rate > 0 per period (the
// next one undiscounted) = (beta+n)/(alpha+beta+n) 2F1(1, beta+n+1;
// alpha+beta+n+1; 1/(1+d)). Multiply by the payment per period for a value.
double sbg_derl(const SbgModel& model, double renewals, double discount_rate);
std::array<double, 2> sbg_standard_errors(const SbgModel& model, const SbgObservation* data, std::size_t n);

// ---------------------------------------------------------------------------
// Time-invariant covariates for BG/NBD and Pareto/NBD (Fader & Hardie 2007,
// "Incorporating time-invariant covariates into the Pareto/NBD and BG/NBD
// models"; the parametrisation of the R package CLVTools)
// ---------------------------------------------------------------------------
// Each customer has k covariates z (channel dummies, cohort, region, ...;
// the same k for all, at most kBtydMaxCovariates, finite). The scale
// parameters become individual:
//   purchase:  alpha_i = alpha exp(-gamma_purchase' z)   (both models)
//   dropout:   beta_i  = beta  exp(-gamma_dropout' z)    (Pareto/NBD)
//              b_i     = b     exp(-gamma_dropout' z)    (BG/NBD)
// so a positive coefficient raises the mean purchase rate r / alpha_i, or
// the mean dropout rate s / beta_i (the mean dropout probability a / (a +
// b_i)), by the factor exp(gamma) per unit of its covariate. The shapes r
// and a, s stay common. z = 0 is the reference customer (centre continuous
// covariates for interpretable alpha and beta). A customer's own model is
// covariate_model(...) (the individual alpha_i, b_i or beta_i), for every
// prediction function above.
inline constexpr int kBtydMaxCovariates = 20;

struct BtydCovariateModel {
    double r = 0, alpha = 0, a_or_s = 0, b_or_beta = 0;  // BG/NBD: a, b; Pareto/NBD: s, beta
    std::vector<double> gamma_purchase, gamma_dropout;
    // Of (log r, log alpha, log a|s, log b|beta, gamma_purchase, gamma_dropout)
    // when converged, (4 + 2k)^2 row-major; else empty.
    std::vector<double> covariance;
    double log_likelihood = 0;
    double customers = 0;
    bool converged = false;
    int iterations = 0;
};

enum class BtydCovariateFamily { bgnbd, pareto_nbd };

// data[i] with covariates z[i * k .. i * k + k - 1]. Throws like the fits
// without covariates, and invalid_parameter_value for k outside [1,
// kBtydMaxCovariates] or a covariate that is not finite; data_exception
// when a covariate is the same for every customer (its coefficient is not
// identified apart from alpha or beta).
BtydCovariateModel fit_btyd_covariates(BtydCovariateFamily family, const BtydObservation* data, const double* z,
                                       std::size_t n, int k, const BtydFitOptions& options = {});
double btyd_covariates_log_likelihood(BtydCovariateFamily family, const BtydCovariateModel& model,
                                      const BtydObservation* data, const double* z, std::size_t n, int k);
// The individual models of a customer with covariates z[0 .. k-1].
BgnbdModel bgnbd_covariate_model(const BtydCovariateModel& model, const double* z, int k);
ParetoNbdModel pareto_nbd_covariate_model(const BtydCovariateModel& model, const double* z, int k);
// Standard errors of (r, alpha, a or s, b or beta, gamma_purchase...,
// gamma_dropout...), observed information at the model.
std::vector<double> btyd_covariates_standard_errors(BtydCovariateFamily family, const BtydCovariateModel& model,
                                                    const BtydObservation* data, const double* z, std::size_t n, int k);

// ---------------------------------------------------------------------------
// CLV
// ---------------------------------------------------------------------------
// Expected discounted revenue over `periods` future periods, each of
// `period_length` model time units, purchases of period k discounted at its
// end with `discount_rate` per period:
//   clv = expected_spend * sum_{k=1..periods}
//           (E[Y(k L) | h] - E[Y((k-1) L) | h]) / (1 + discount_rate)^k
// with E[Y(t) | h] the model's conditional expectation (bgnbd_expected /
// pareto_nbd_expected) and expected_spend per purchase (e.g. from
// gamma_gamma_expected_spend). Example: weekly model, monthly discount
// rate 0.01, one year: periods = 12, period_length = 52/12.
// Requires 1 <= periods <= 100000, discount_rate >= 0, period_length > 0,
// expected_spend >= 0, all finite. With discount_rate = 0 the sum is
// expected_spend * E[Y(periods L) | h] (one evaluation). Otherwise the sum
// stops once the discounted remainder is provably below 1e-16 of it: a
// period adds at most E[lambda | alive] L = (r + x) L / (alpha + T) alive
// purchases, so the rest is at most that times (1 + rate)^-k / rate. Polls
// `interrupts` every period.
double bgnbd_clv(const BgnbdModel& model, double x, double t_x, double T, double expected_spend, int periods,
                 double discount_rate, double period_length = 1.0, const Interrupts& interrupts = Interrupts{});
double pareto_nbd_clv(const ParetoNbdModel& model, double x, double t_x, double T, double expected_spend, int periods,
                      double discount_rate, double period_length = 1.0, const Interrupts& interrupts = Interrupts{});

// A prediction interval of a customer's CLV for the uncertainty of the
// fitted parameters (parametric bootstrap): `draws` log-parameter vectors
// from the normal distribution with the fit's mean and covariance
// (model.covariance, from a converged fit), the CLV at each, and their
// (1 - level)/2 and (1 + level)/2 quantiles (linear interpolation), with
// the CLV at the estimate. Deterministic for a seed: std::mt19937_64 seeded
// with it, normals by the polar method from the top 53 bits of its outputs.
// Requires 1 <= draws <= kMaxClvDraws and 0 < level < 1
// (invalid_parameter_value), a covariance (invalid_parameter_value), and
// the CLV arguments of bgnbd_clv; draws whose CLV is out of range are left
// out, and more than 1 % of them is numeric_value_out_of_range. Polls
// interrupts at every draw.
inline constexpr int kMaxClvDraws = 100000;
struct ClvInterval {
    double estimate = 0, lower = 0, upper = 0;
};
ClvInterval bgnbd_clv_interval(const BgnbdModel& model, double x, double t_x, double T, double expected_spend,
                               int periods, double discount_rate, double period_length, int draws, double level,
                               std::uint64_t seed, const Interrupts& interrupts = Interrupts{});
ClvInterval mbgnbd_clv_interval(const MbgnbdModel& model, double x, double t_x, double T, double expected_spend,
                                int periods, double discount_rate, double period_length, int draws, double level,
                                std::uint64_t seed, const Interrupts& interrupts = Interrupts{});
ClvInterval pareto_nbd_clv_interval(const ParetoNbdModel& model, double x, double t_x, double T, double expected_spend,
                                    int periods, double discount_rate, double period_length, int draws, double level,
                                    std::uint64_t seed, const Interrupts& interrupts = Interrupts{});

}  // namespace customer_analytics
