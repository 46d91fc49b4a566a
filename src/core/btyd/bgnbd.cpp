// BG/NBD model (Fader, Hardie & Lee 2005): likelihood, fit, predictions.
//
// Individual likelihood of (x, t_x, T):
//   L = B(a, b+x)/B(a, b) * Gamma(r+x) alpha^r / (Gamma(r) (alpha+T)^(r+x))
//     + [x > 0] B(a+1, b+x-1)/B(a, b) * Gamma(r+x) alpha^r / (Gamma(r) (alpha+t_x)^(r+x))
// evaluated in logs as
//   log L = c(x) + log(exp(A3) + exp(A4)),
//   c(x)  = log (r)_x + log (b)_x - log (a+b)_x        (Pochhammer symbols)
//   A3    = -r log1p(T/alpha) - x log(alpha+T),
//   A4    = log a - log(b+x-1) - r log1p(t_x/alpha) - x log(alpha+t_x)   (x > 0 only).
// (r log alpha - (r+x) log(alpha+T) regrouped, and the Pochhammer symbols
// accumulated as sums of logs: no term grows with r, a or b, so the
// likelihood stays accurate, and its finite differences meaningful, on the
// flat ridges of near-homogeneous data where those parameters run off to
// 1e6 and beyond.)
//
// Conditional expectation (FHL 2005, eq. 10):
//   E[Y(t)|x,t_x,T] = P(alive) * C/(a-1) * [1 - u^(r+x) 2F1(r+x, b+x; C; z)],
//   C = a+b+x-1, u = (alpha+T)/(alpha+T+t), z = t/(alpha+T+t) = 1 - u.
// As written it overflows for x in the hundreds (the 2F1 grows like
// u^(a-1-r-x)) and is 0/0 at a = 1. Two exact rewritings fix both:
// Euler's transformation
//   u^(r+x) 2F1(r+x, b+x; C; z) = u^(a-1) H,  H = 2F1(a+b-1-r, a-1; C; z),
// then splitting off the first term of H, whose other terms all carry the
// factor (a-1):
//   H - 1 = (a+b-1-r)(a-1) z / C * 3F2(a+b-r, a, 1; C+1, 2; z).
// Hence, with g = (1 - u^(a-1)) / (a-1) = -expm1((a-1) log u)/(a-1)
// (g = -log u at a = 1),
//   E[Y(t)|.] / P(alive) = C g - u^(a-1) (a+b-1-r) z 3F2(a+b-r, a, 1; a+b+x, 2; z).
// No division by a-1 or by C remains, the 3F2's lower parameters are
// positive, its upper ones O(1) while a+b+x grows with x (fast convergence
// for heavy buyers), and 0 <= z < 1. The 3F2 is Boost's hypergeometric_pFq
// with p = 3, q = 2.
//
// MBG/NBD (Batislam, Denizel & Filiztekin 2007) differs in one place: a
// customer may also drop out right after the first purchase, so x repeat
// purchases are x + 1 chances to drop out instead of x. Every formula above
// holds with the count of chances k = x + shift (shift 1 for MBG/NBD, 0 for
// BG/NBD) in the beta part:
//   L = B(a, b+k)/B(a, b) NBD(T) + [k > 0] B(a+1, b+k-1)/B(a, b) NBD(t_x),
// so that c(x) uses (b)_k and (a+b)_k, A4 log a - log(b+k-1) (present for
// x = 0 too), P(alive) has a/(b+k-1), and an alive customer's p ~ Beta(a,
// b+k): the expectation is BG/NBD's with b + shift for b.
#include <cmath>
#include <limits>
#include <vector>

#include "btyd.hpp"
#include "internal.hpp"

#include "no_postgres.hpp"

namespace customer_analytics {

namespace {

using btyd_detail::check_customer;
using btyd_detail::CompiledTriples;
using btyd_detail::format;

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Params {
    double r, alpha, a, b;
    int shift;  // 0 BG/NBD, 1 MBG/NBD
};

const char* model_name(int shift) { return shift == 0 ? "BG/NBD" : "MBG/NBD"; }

template <typename Model>
Params checked_params(const Model& m, int shift) {
    const char* name = model_name(shift);
    btyd_detail::check_model_parameter(m.r, name, "r");
    btyd_detail::check_model_parameter(m.alpha, name, "alpha");
    btyd_detail::check_model_parameter(m.a, name, "a");
    btyd_detail::check_model_parameter(m.b, name, "b");
    return Params{m.r, m.alpha, m.a, m.b, shift};
}

// Weighted LL over compiled triples, gradient in log-parameters.
class Likelihood {
public:
    Likelihood(const CompiledTriples& d, const Interrupts& interrupts, int shift)
        : d_(d), interrupts_(interrupts), shift_(shift) {
        const std::size_t nx = d.xs.size(), nt = d.times.size();
        ks_.resize(nx);
        for (std::size_t k = 0; k < nx; ++k)
            ks_[k] = d.xs[k] + shift;
        c_.resize(nx);
        l4_.resize(nx);
        db4_.resize(nx);
        la_.resize(nt);
        l1p_.resize(nt);
        vi_.resize(nt);
        ai_.resize(nt);
    }

    double operator()(const std::vector<double>& theta, std::vector<double>* grad) {
        const double r = std::exp(theta[0]), alpha = std::exp(theta[1]), a = std::exp(theta[2]), b = std::exp(theta[3]);
        if (!(r > 0 && alpha > 0 && a > 0 && b > 0) || !std::isfinite(r + alpha + a + b))
            return -kInf;
        const bool g = grad != nullptr;
        // c(x) = log (r)_x + log (b)_x - log (a+b)_x
        btyd_detail::log_pochhammer(r, d_.xs, pr_);
        btyd_detail::log_pochhammer(b, ks_, pb_);
        btyd_detail::log_pochhammer(a + b, ks_, pab_);
        if (g) {
            btyd_detail::digamma_difference(r, d_.xs, dr_);
            btyd_detail::digamma_difference(b, ks_, db_);
            btyd_detail::digamma_difference(a + b, ks_, dab_);
        }
        const double log_a = std::log(a);
        for (std::size_t k = 0; k < d_.xs.size(); ++k) {
            const double chances = ks_[k];
            c_[k] = pr_[k] + pb_[k] - pab_[k];
            l4_[k] = chances == 0 ? -kInf : log_a - std::log(b + chances - 1);
            db4_[k] = chances == 0 ? 0.0 : -1.0 / (b + chances - 1);
        }
        for (std::size_t j = 0; j < d_.times.size(); ++j) {
            const double v = d_.times[j];
            la_[j] = std::log(alpha + v);
            l1p_[j] = std::log1p(v / alpha);
            vi_[j] = v / (alpha + v);
            ai_[j] = alpha / (alpha + v);
        }
        btyd_detail::CompensatedSum ll;
        double gr = 0, gal = 0, ga = 0, gb = 0;
        const double inv_a = 1.0 / a;
        for (std::size_t i = 0; i < d_.rows.size(); ++i) {
            if ((i & 0xFFFF) == 0xFFFF)
                interrupts_.check();
            const auto& row = d_.rows[i];
            const std::uint32_t k = row.xi, T = row.Ti, tx = row.txi;
            const double x = d_.xs[k];
            const double A3 = -r * l1p_[T] - x * la_[T];
            if (ks_[k] == 0) {
                ll.add(row.w * (c_[k] + A3));
                if (g) {
                    gr -= row.w * l1p_[T];
                    gal += row.w * r * vi_[T];
                }
                continue;
            }
            const double A4 = l4_[k] - r * l1p_[tx] - x * la_[tx];
            // log(exp(A3) + exp(A4)) with one exp and one log1p; w4 = share of A4.
            const double e = std::exp(-std::fabs(A4 - A3));
            ll.add(row.w * (c_[k] + std::max(A3, A4) + std::log1p(e)));
            if (g) {
                const double w4 = A4 >= A3 ? 1.0 / (1.0 + e) : e / (1.0 + e);
                const double w3 = 1.0 - w4;
                gr += row.w * (dr_[k] - w3 * l1p_[T] - w4 * l1p_[tx]);
                // alpha d/dalpha of -r log1p(v/alpha) - x log(alpha+v) = (r v - x alpha) / (alpha + v)
                gal += row.w * (w3 * (r * vi_[T] - x * ai_[T]) + w4 * (r * vi_[tx] - x * ai_[tx]));
                ga += row.w * (-dab_[k] + w4 * inv_a);
                gb += row.w * (db_[k] - dab_[k] + w4 * db4_[k]);
            }
        }
        if (g) {
            grad->assign(4, 0.0);
            (*grad)[0] = gr * r;
            (*grad)[1] = gal;
            (*grad)[2] = ga * a;
            (*grad)[3] = gb * b;
        }
        const double total = ll.value();
        return std::isfinite(total) ? total : -kInf;
    }

private:
    const CompiledTriples& d_;
    const Interrupts& interrupts_;
    int shift_;
    std::vector<double> ks_;                             // per distinct x: chances to drop out, x + shift
    std::vector<double> pr_, pb_, pab_, dr_, db_, dab_;  // per distinct x: log Pochhammer, digamma differences
    std::vector<double> c_, l4_, db4_;                   // per distinct x
    std::vector<double> la_, l1p_, vi_, ai_;             // per distinct time v: log(alpha+v), log1p(v/alpha),
                                                         // v/(alpha+v), alpha/(alpha+v)
};

double log_odds_dead(const Params& p, double x, double t_x, double T) {
    // log( a/(b+k-1) * ((alpha+T)/(alpha+t_x))^(r+x) ), k = x + shift > 0
    return std::log(p.a) - std::log(p.b + x + p.shift - 1) + (p.r + x) * std::log1p((T - t_x) / (p.alpha + t_x));
}

double p_alive(const Params& p, double x, double t_x, double T) {
    if (x + p.shift == 0)
        return 1.0;
    const double lr = log_odds_dead(p, x, t_x, T);
    if (lr > 0) {
        const double e = std::exp(-lr);
        return e / (1 + e);
    }
    return 1.0 / (1.0 + std::exp(lr));
}

// E[Y(t) | x, t_x, T] / P(alive): expected purchases of a customer known to
// be alive at T (posterior lambda ~ Gamma(r+x, alpha+T), p ~ Beta(a, b+x+shift)).
double alive_expected(const Params& p_in, double x, double T, double t) {
    if (t == 0)
        return 0.0;
    Params p = p_in;
    p.b += p.shift;
    const double k = t / (p.alpha + T);
    const double z = std::isfinite(k) ? k / (1 + k) : 1.0;  // 1: refused below as out of range
    const double log_u = -std::log1p(k);
    const double am1 = p.a - 1;
    const double g = am1 == 0 ? -log_u : -std::expm1(am1 * log_u) / am1;
    const double c = p.a + p.b + x - 1;
    const double a1 = p.a + p.b - 1 - p.r;
    const double f = btyd_detail::hypergeometric({a1 + 1, p.a, 1.0}, {c + 1, 2.0}, z);
    const double v = c * g - std::exp(am1 * log_u) * a1 * z * f;
    if (!std::isfinite(v))
        throw Error(ErrorKind::numeric_value_out_of_range, "could not compute BG/NBD expected purchases",
                    format("The result is not a finite number for r = %g, alpha = %g, a = %g, b = %g, x = %g, "
                           "T = %g, t = %g.",
                           p.r, p.alpha, p.a, p.b, x, T, t),
                    "Check the model parameters; values this extreme are out of range.");
    return std::max(v, 0.0);
}

// The fit and the predictions of both models, shift 0 or 1.
template <typename Model>
Model fit_impl(const BtydObservation* data, std::size_t n, const BtydFitOptions& options, int shift) {
    const char* name = model_name(shift);
    btyd_detail::check_fit_options(options);
    const CompiledTriples d = btyd_detail::compile_triples(data, n, false, options.interrupts);
    if (!(d.weighted_x > 0))
        throw Error(ErrorKind::data_exception,
                    format("cannot fit the %s model: no customer has a repeat purchase", name),
                    format("Every customer (%g in all) has x = 0.", d.total_weight),
                    "The model needs repeat purchases to estimate purchase and dropout rates.");
    if (!(d.weighted_T > 0))
        throw Error(ErrorKind::data_exception, format("cannot fit the %s model: every customer has age 0", name));
    const double rate = d.weighted_x / d.weighted_T;  // repeat purchases per time unit

    Likelihood lik(d, options.interrupts, shift);
    btyd_detail::LogLikelihood ll = [&lik](const std::vector<double>& th, std::vector<double>* g) {
        return lik(th, g);
    };
    const std::vector<std::vector<double>> starts = {
        {0.0, std::log(1.0 / rate), 0.0, 0.0},
        {std::log(0.5), std::log(0.5 / rate), std::log(0.5), std::log(2.0)},
        {std::log(2.0), std::log(2.0 / rate), std::log(2.0), std::log(5.0)},
    };
    const auto res = btyd_detail::minimize(btyd_detail::penalized_objective(ll, d.total_weight, options.l2_penalty),
                                           starts, options, 2, d.total_weight, false);

    Model m;
    m.r = std::exp(res.theta[0]);
    m.alpha = std::exp(res.theta[1]);
    m.a = std::exp(res.theta[2]);
    m.b = std::exp(res.theta[3]);
    m.log_likelihood = lik(res.theta, nullptr);
    m.customers = d.total_weight;
    m.converged = res.converged && std::isfinite(m.log_likelihood);
    m.iterations = res.iterations;
    if (m.converged)
        m.covariance = btyd_detail::parameter_covariance(ll, res.theta);
    if (!std::isfinite(m.log_likelihood))
        throw Error(ErrorKind::numeric_value_out_of_range, format("could not fit the %s model", name),
                    "The likelihood is not finite at the estimate.");
    return m;
}

double log_likelihood_impl(const Params& p, const BtydObservation* data, std::size_t n) {
    const CompiledTriples d = btyd_detail::compile_triples(data, n, true);
    if (d.rows.empty())
        return 0.0;
    Interrupts none;
    Likelihood lik(d, none, p.shift);
    const double v = lik({std::log(p.r), std::log(p.alpha), std::log(p.a), std::log(p.b)}, nullptr);
    if (!std::isfinite(v))
        throw Error(ErrorKind::numeric_value_out_of_range,
                    format("log-likelihood of the %s model is not finite", model_name(p.shift)));
    return v;
}

double p_alive_impl(const Params& p, double x, double t_x, double T) {
    check_customer(x, t_x, T);
    return btyd_detail::finite_result(p_alive(p, x, t_x, T),
                                      p.shift == 0 ? "BG/NBD probability alive" : "MBG/NBD probability alive");
}

double expected_impl(const Params& p, double t, double x, double t_x, double T) {
    check_customer(x, t_x, T);
    btyd_detail::check_horizon(t, "horizon");
    const char* what = p.shift == 0 ? "BG/NBD expected purchases" : "MBG/NBD expected purchases";
    double v;
    try {
        v = p_alive(p, x, t_x, T) * alive_expected(p, x, T, t);
    } catch (...) {
        btyd_detail::rethrow_as_error(what);
    }
    return btyd_detail::finite_result(v, what);
}

double prob_purchase_impl(const Params& p, double t, double x, double t_x, double T) {
    check_customer(x, t_x, T);
    btyd_detail::check_horizon(t, "horizon");
    const double q = -std::expm1(-(p.r + x) * std::log1p(t / (p.alpha + T)));
    const double v =
        btyd_detail::finite_result(p_alive(p, x, t_x, T) * q,
                                   p.shift == 0 ? "BG/NBD purchase probability" : "MBG/NBD purchase probability");
    return std::min(1.0, std::max(0.0, v));
}

std::array<double, 4> standard_errors_impl(const Params& p, const BtydObservation* data, std::size_t n) {
    const CompiledTriples d = btyd_detail::compile_triples(data, n);
    Interrupts none;
    Likelihood lik(d, none, p.shift);
    btyd_detail::LogLikelihood ll = [&lik](const std::vector<double>& th, std::vector<double>* g) {
        return lik(th, g);
    };
    try {
        const auto se =
            btyd_detail::standard_errors(ll, {std::log(p.r), std::log(p.alpha), std::log(p.a), std::log(p.b)});
        return {se[0], se[1], se[2], se[3]};
    } catch (...) {
        btyd_detail::rethrow_as_error(p.shift == 0 ? "BG/NBD standard errors" : "MBG/NBD standard errors");
    }
}

double clv_impl(const Params& p, double x, double t_x, double T, double expected_spend, int periods,
                double discount_rate, double period_length, const Interrupts& interrupts) {
    check_customer(x, t_x, T);
    btyd_detail::check_clv_arguments(expected_spend, periods, discount_rate, period_length);
    double v;
    try {
        const double pa = p_alive(p, x, t_x, T);
        const double total =
            btyd_detail::clv_alive_sum([&](double t) { return alive_expected(p, x, T, t); }, periods, discount_rate,
                                       period_length, (p.r + x) / (p.alpha + T), interrupts);
        v = expected_spend * pa * total;
    } catch (...) {
        btyd_detail::rethrow_as_error(p.shift == 0 ? "BG/NBD CLV" : "MBG/NBD CLV");
    }
    return btyd_detail::finite_result(v, p.shift == 0 ? "customer lifetime value of the BG/NBD model"
                                                      : "customer lifetime value of the MBG/NBD model");
}

}  // namespace

namespace btyd_detail {
void check_clv_arguments(double expected_spend, int periods, double discount_rate, double period_length) {
    if (!(std::isfinite(expected_spend) && expected_spend >= 0))
        throw Error(ErrorKind::invalid_parameter_value, "expected spend must be finite and non-negative",
                    format("The value given was %g.", expected_spend));
    if (periods < 1 || periods > 100000)
        throw Error(ErrorKind::invalid_parameter_value, "number of CLV periods must be between 1 and 100000",
                    format("The value given was %d.", periods),
                    "Sum longer horizons in longer periods (period_length).");
    if (!(std::isfinite(discount_rate) && discount_rate >= 0))
        throw Error(ErrorKind::invalid_parameter_value, "discount rate must be finite and non-negative",
                    format("The value given was %g.", discount_rate));
    if (!(std::isfinite(period_length) && period_length > 0))
        throw Error(ErrorKind::invalid_parameter_value, "period length must be positive and finite",
                    format("The value given was %g.", period_length));
    if (!std::isfinite(period_length * periods))
        throw Error(ErrorKind::invalid_parameter_value, "customer lifetime value horizon is too long");
}
}  // namespace btyd_detail

void validate_model(const BgnbdModel& model) { checked_params(model, 0); }
void validate_model(const MbgnbdModel& model) { checked_params(model, 1); }

BgnbdModel fit_bgnbd(const BtydObservation* data, std::size_t n, const BtydFitOptions& options) {
    return fit_impl<BgnbdModel>(data, n, options, 0);
}
MbgnbdModel fit_mbgnbd(const BtydObservation* data, std::size_t n, const BtydFitOptions& options) {
    return fit_impl<MbgnbdModel>(data, n, options, 1);
}

double bgnbd_log_likelihood(const BgnbdModel& model, const BtydObservation* data, std::size_t n) {
    return log_likelihood_impl(checked_params(model, 0), data, n);
}
double mbgnbd_log_likelihood(const MbgnbdModel& model, const BtydObservation* data, std::size_t n) {
    return log_likelihood_impl(checked_params(model, 1), data, n);
}

double bgnbd_p_alive(const BgnbdModel& model, double x, double t_x, double T) {
    return p_alive_impl(checked_params(model, 0), x, t_x, T);
}
double mbgnbd_p_alive(const MbgnbdModel& model, double x, double t_x, double T) {
    return p_alive_impl(checked_params(model, 1), x, t_x, T);
}

double bgnbd_expected(const BgnbdModel& model, double t, double x, double t_x, double T) {
    return expected_impl(checked_params(model, 0), t, x, t_x, T);
}
double mbgnbd_expected(const MbgnbdModel& model, double t, double x, double t_x, double T) {
    return expected_impl(checked_params(model, 1), t, x, t_x, T);
}

// A new customer is the customer (0, 0, 0): alive for sure under BG/NBD,
// with probability b / (a + b) under MBG/NBD.
double bgnbd_unconditional_expected(const BgnbdModel& model, double t) {
    return expected_impl(checked_params(model, 0), t, 0, 0, 0);
}
double mbgnbd_unconditional_expected(const MbgnbdModel& model, double t) {
    return expected_impl(checked_params(model, 1), t, 0, 0, 0);
}

double bgnbd_prob_purchase(const BgnbdModel& model, double t, double x, double t_x, double T) {
    return prob_purchase_impl(checked_params(model, 0), t, x, t_x, T);
}
double mbgnbd_prob_purchase(const MbgnbdModel& model, double t, double x, double t_x, double T) {
    return prob_purchase_impl(checked_params(model, 1), t, x, t_x, T);
}

double bgnbd_repurchase_score(const BgnbdModel& model, double t, double x, double t_x, double T) {
    return 100.0 * bgnbd_prob_purchase(model, t, x, t_x, T);
}
double mbgnbd_repurchase_score(const MbgnbdModel& model, double t, double x, double t_x, double T) {
    return 100.0 * mbgnbd_prob_purchase(model, t, x, t_x, T);
}

std::array<double, 4> bgnbd_standard_errors(const BgnbdModel& model, const BtydObservation* data, std::size_t n) {
    return standard_errors_impl(checked_params(model, 0), data, n);
}
std::array<double, 4> mbgnbd_standard_errors(const MbgnbdModel& model, const BtydObservation* data, std::size_t n) {
    return standard_errors_impl(checked_params(model, 1), data, n);
}

double bgnbd_clv(const BgnbdModel& model, double x, double t_x, double T, double expected_spend, int periods,
                 double discount_rate, double period_length, const Interrupts& interrupts) {
    return clv_impl(checked_params(model, 0), x, t_x, T, expected_spend, periods, discount_rate, period_length,
                    interrupts);
}
double mbgnbd_clv(const MbgnbdModel& model, double x, double t_x, double T, double expected_spend, int periods,
                  double discount_rate, double period_length, const Interrupts& interrupts) {
    return clv_impl(checked_params(model, 1), x, t_x, T, expected_spend, periods, discount_rate, period_length,
                    interrupts);
}

namespace {

// shift 0: BG/NBD, 1: MBG/NBD.
template <typename Model>
ClvInterval clv_interval_impl(const Model& model, int shift, double x, double t_x, double T, double expected_spend,
                              int periods, double discount_rate, double period_length, int draws, double level,
                              std::uint64_t seed, const Interrupts& interrupts) {
    const Params p = checked_params(model, shift);
    const double estimate[4] = {p.r, p.alpha, p.a, p.b};
    check_customer(x, t_x, T);
    btyd_detail::check_clv_arguments(expected_spend, periods, discount_rate, period_length);
    return btyd_detail::clv_interval(
        estimate, model.covariance,
        [&](const double* q) {
            return clv_impl(Params{q[0], q[1], q[2], q[3], shift}, x, t_x, T, expected_spend, periods, discount_rate,
                            period_length, interrupts);
        },
        draws, level, seed, interrupts);
}

}  // namespace

ClvInterval bgnbd_clv_interval(const BgnbdModel& model, double x, double t_x, double T, double expected_spend,
                               int periods, double discount_rate, double period_length, int draws, double level,
                               std::uint64_t seed, const Interrupts& interrupts) {
    return clv_interval_impl(model, 0, x, t_x, T, expected_spend, periods, discount_rate, period_length, draws, level,
                             seed, interrupts);
}

ClvInterval mbgnbd_clv_interval(const MbgnbdModel& model, double x, double t_x, double T, double expected_spend,
                                int periods, double discount_rate, double period_length, int draws, double level,
                                std::uint64_t seed, const Interrupts& interrupts) {
    return clv_interval_impl(model, 1, x, t_x, T, expected_spend, periods, discount_rate, period_length, draws, level,
                             seed, interrupts);
}

}  // namespace customer_analytics
