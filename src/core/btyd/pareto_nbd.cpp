// Pareto/NBD model: likelihood, fit, predictions.
//
// Individual likelihood (Fader & Hardie 2005, "A note on deriving the
// Pareto/NBD model and related expressions"), written with the dropout time
// as an integral rather than through the Gauss 2F1:
//   L = (r)_x alpha^-x [ E(T) S(T) + (s/beta) I ],
//   E(t) = (1 + t/alpha)^-(r+x), S(t) = (1 + t/beta)^-s,
//   I = int_{t_x}^T E(t) (1 + t/beta)^-(s+1) dt
// (E(T) S(T): alive at T; the integral: dropped out at t in (t_x, T]).
// I is btyd_detail::power_integral, a Gauss-Legendre quadrature over a
// finite interval whose cost is bounded at any parameters: the fit and the
// predictions cost the same at the boundary of the parameter space (no
// dropout: s/beta -> 0; a point mass of dropout rates: s, beta -> infinity)
// as inside it, where the 2F1 closed form needs series of up to billions of
// terms. Everything is combined in logs and no term grows with the
// parameters or with x.
//
// The same quadrature gives the parameter derivatives of log I (as means of
// log1p(t/alpha), t/(alpha+t), log1p(t/beta), t/(beta+t) under the
// normalised integrand), so the fit has an analytic gradient: one
// evaluation per gradient instead of nine, and gradient differences for the
// observed information.
//
// Boundary: when the likelihood keeps rising towards a limit of the
// parameter space, the fit reports converged = false with the point
// reached and names the limit (ParetoNbdBoundary).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "btyd.hpp"
#include "internal.hpp"
#include "sort.hpp"

#include "no_postgres.hpp"

namespace customer_analytics {

namespace {

using btyd_detail::check_customer;
using btyd_detail::CompiledTriples;
using btyd_detail::format;

constexpr double kInf = std::numeric_limits<double>::infinity();
// A gamma shape beyond which the distribution is a point mass for any
// data: a coefficient of variation 1/sqrt(shape) below 0.1 %.
constexpr double kPointMass = 1e6;

struct Params {
    double r, alpha, s, beta;
};

Params checked_params(const ParetoNbdModel& m) {
    btyd_detail::check_model_parameter(m.r, "Pareto/NBD", "r");
    btyd_detail::check_model_parameter(m.alpha, "Pareto/NBD", "alpha");
    btyd_detail::check_model_parameter(m.s, "Pareto/NBD", "s");
    btyd_detail::check_model_parameter(m.beta, "Pareto/NBD", "beta");
    return Params{m.r, m.alpha, m.s, m.beta};
}

// log E(T) S(T), the customer alive at T.
double log_alive_term(const Params& p, double x, double T) {
    return -(p.r + x) * std::log1p(T / p.alpha) - p.s * std::log1p(T / p.beta);
}

// log (s/beta) I, the customer dropped out in (t_x, T]; -inf when t_x == T.
double log_dead_term(const Params& p, double x, double t_x, double T) {
    if (t_x >= T)
        return -kInf;
    return std::log(p.s) - std::log(p.beta) +
           btyd_detail::power_integral(p.r + x, p.alpha, p.s + 1, p.beta, t_x, T, false).log_value;
}

double p_alive(const Params& p, double x, double t_x, double T) {
    const double lr = log_dead_term(p, x, t_x, T) - log_alive_term(p, x, T);
    if (lr == -kInf)
        return 1.0;
    if (lr > 0) {
        const double e = std::exp(-lr);
        return e / (1 + e);
    }
    return 1.0 / (1.0 + std::exp(lr));
}

// E[Y(t)] / P(alive) = (r+x)(beta+T)/((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]
double alive_expected(const Params& p, double x, double T, double t) {
    const double l = std::log1p(t / (p.beta + T));
    const double g = p.s == 1 ? l : -std::expm1(-(p.s - 1) * l) / (p.s - 1);
    return (p.r + x) * (p.beta + T) / (p.alpha + T) * g;
}

// P(Y(t) > 0 | alive at T): with A = alpha+T, B = beta+T (the posterior
// scales of an alive customer),
//   int_0^t (r+x)/A (1 + u/A)^-(r+x+1) (1 + u/B)^-s du.
double alive_prob_purchase(const Params& p, double x, double T, double t) {
    const double A = p.alpha + T;
    const auto I = btyd_detail::power_integral(p.r + x + 1, A, p.s, p.beta + T, 0, t, false);
    return std::exp(std::log(p.r + x) - std::log(A) + I.log_value);
}

// Weighted LL over compiled triples with its gradient in log-parameters.
// Per row, with a = r + x, Q = E(T) S(T) + m I (m = s/beta) and the shares
// w1, w2 of its two terms:
//   d/dlog r     = r (psi(r+x) - psi(r)) - r (w1 log1p(T/alpha) + w2 <log1p(t/alpha)>)
//   d/dlog alpha = -x + a (w1 T/(alpha+T) + w2 <t/(alpha+t)>)
//   d/dlog s     = -w1 s log1p(T/beta) + w2 (1 - s <log1p(t/beta)>)
//   d/dlog beta  = w1 s T/(beta+T) + w2 ((s+1) <t/(beta+t)> - 1)
// with <.> the means of power_integral.
class Likelihood {
public:
    Likelihood(const CompiledTriples& d, const Interrupts& interrupts) : d_(d), interrupts_(interrupts) {}

    // The optimizer asks for the value at trial points and then for the
    // gradient at the one it accepts: the gradient costs a third more than
    // the value alone, so it is always computed and the last point kept.
    double operator()(const std::vector<double>& theta, std::vector<double>* grad) {
        if (theta != last_theta_) {
            last_theta_.clear();  // until evaluate returns: it may throw
            last_value_ = evaluate(theta, &last_grad_);
            last_theta_ = theta;
        }
        if (grad != nullptr)
            *grad = last_grad_;
        return last_value_;
    }

private:
    double evaluate(const std::vector<double>& theta, std::vector<double>* grad) {
        const Params p{std::exp(theta[0]), std::exp(theta[1]), std::exp(theta[2]), std::exp(theta[3])};
        grad->assign(4, 0.0);
        if (!(p.r > 0 && p.alpha > 0 && p.s > 0 && p.beta > 0) || !std::isfinite(p.r + p.alpha + p.s + p.beta))
            return -kInf;
        btyd_detail::log_pochhammer(p.r, d_.xs, c_);
        btyd_detail::digamma_difference(p.r, d_.xs, dr_);
        const double log_alpha = theta[1];
        const double log_m = theta[2] - theta[3];
        l1a_.resize(d_.times.size());
        l1b_.resize(d_.times.size());
        for (std::size_t j = 0; j < d_.times.size(); ++j) {
            l1a_[j] = std::log1p(d_.times[j] / p.alpha);
            l1b_[j] = std::log1p(d_.times[j] / p.beta);
        }
        btyd_detail::CompensatedSum ll;
        double gr = 0, gal = 0, gs = 0, gb = 0;
        for (std::size_t i = 0; i < d_.rows.size(); ++i) {
            // One integral takes about a microsecond.
            if ((i & 0x3FF) == 0x3FF)
                interrupts_.check();
            const auto& row = d_.rows[i];
            const double x = d_.xs[row.xi];
            const double a = p.r + x;
            const double T = d_.times[row.Ti];
            const double L1 = -a * l1a_[row.Ti] - p.s * l1b_[row.Ti];
            double v = L1, w2 = 0;
            btyd_detail::PowerIntegral I;
            if (row.txi != row.Ti) {
                I = btyd_detail::power_integral(a, p.alpha, p.s + 1, p.beta, d_.times[row.txi], T, true);
                const double L2 = log_m + I.log_value;
                v = btyd_detail::log_add_exp(L1, L2);
                w2 = std::exp(L2 - v);
            }
            ll.add(row.w * (c_[row.xi] - x * log_alpha + v));
            const double w1 = 1 - w2;
            gr += row.w * p.r * (dr_[row.xi] - w1 * l1a_[row.Ti] - w2 * I.mean_log_a);
            gal += row.w * (-x + a * (w1 * T / (p.alpha + T) + w2 * I.mean_frac_a));
            gs += row.w * (-w1 * p.s * l1b_[row.Ti] + w2 * (1 - p.s * I.mean_log_b));
            gb += row.w * (w1 * p.s * T / (p.beta + T) + w2 * ((p.s + 1) * I.mean_frac_b - 1));
        }
        *grad = {gr, gal, gs, gb};
        const double total = ll.value();
        return std::isfinite(total) ? total : -kInf;
    }

    const CompiledTriples& d_;
    const Interrupts& interrupts_;
    std::vector<double> last_theta_, last_grad_;
    double last_value_ = 0;
    std::vector<double> c_, dr_;     // per distinct x: log (r)_x, psi(r+x) - psi(r)
    std::vector<double> l1a_, l1b_;  // per distinct time t: log1p(t/alpha), log1p(t/beta)
};

// The limit an unconverged fit was heading to. Dropout is negligible when
// even the oldest customer's prior probability of having dropped out,
// 1 - (1 + T/beta)^-s, is below 1e-6; the dropout (purchase) rates are one
// value for all when the gamma shape s (r) is beyond kPointMass.
ParetoNbdBoundary classify_boundary(double r, double s, double beta, double oldest) {
    if (s * std::log1p(oldest / beta) < 1e-6)
        return ParetoNbdBoundary::no_dropout;
    if (s > kPointMass)
        return ParetoNbdBoundary::homogeneous_dropout;
    if (r > kPointMass)
        return ParetoNbdBoundary::homogeneous_purchase;
    return ParetoNbdBoundary::none;
}

}  // namespace

void validate_model(const ParetoNbdModel& model) { checked_params(model); }

const char* boundary_name(ParetoNbdBoundary boundary) {
    switch (boundary) {
    case ParetoNbdBoundary::no_dropout:
        return "no dropout";
    case ParetoNbdBoundary::homogeneous_dropout:
        return "homogeneous dropout";
    case ParetoNbdBoundary::homogeneous_purchase:
        return "homogeneous purchase";
    case ParetoNbdBoundary::none:
        break;
    }
    return nullptr;
}

ParetoNbdModel fit_pareto_nbd(const BtydObservation* data, std::size_t n, const BtydFitOptions& options) {
    btyd_detail::check_fit_options(options);
    const CompiledTriples d = btyd_detail::compile_triples(data, n, false, options.interrupts);
    if (!(d.weighted_x > 0))
        throw Error(ErrorKind::data_exception, "cannot fit the Pareto/NBD model: no customer has a repeat purchase",
                    format("Every customer (%g in all) has x = 0.", d.total_weight),
                    "The model needs repeat purchases to estimate purchase and dropout rates.");
    if (!(d.weighted_T > 0))
        throw Error(ErrorKind::data_exception, "cannot fit the Pareto/NBD model: every customer has age 0");
    const double rate = d.weighted_x / d.weighted_T;
    const double mean_T = d.weighted_T / d.total_weight;

    Likelihood lik(d, options.interrupts);
    btyd_detail::LogLikelihood ll = [&lik](const std::vector<double>& th, std::vector<double>* g) {
        return lik(th, g);
    };
    // The optimizer works in phi = (log r, log(r/alpha), log s, log(s/beta)):
    // the shapes and the mean rates. The limits of the parameter space are
    // then single coordinates running off (log(s/beta) -> -inf without
    // dropout, log s -> inf for a point mass of dropout rates), which BFGS
    // follows in a few steps, where in log-parameters they are diagonal
    // ridges. The penalty stays on the log-parameters.
    const auto to_theta = [](const std::vector<double>& phi) {
        return std::vector<double>{phi[0], phi[0] - phi[1], phi[2], phi[2] - phi[3]};
    };
    const btyd_detail::Objective in_theta = btyd_detail::penalized_objective(ll, d.total_weight, options.l2_penalty);
    const btyd_detail::Objective objective = [&](const std::vector<double>& phi, std::vector<double>* grad) {
        const double f = in_theta(to_theta(phi), grad);
        if (grad != nullptr && std::isfinite(f)) {
            const std::vector<double> g = *grad;  // d/dtheta; theta = A phi, so d/dphi = A' d/dtheta
            *grad = {g[0] + g[1], -g[1], g[2] + g[3], -g[3]};
        }
        return f;
    };
    const std::vector<std::vector<double>> starts = {
        {0.0, std::log(rate), 0.0, -std::log(mean_T)},
        {std::log(0.5), std::log(rate), std::log(0.5), -std::log(mean_T)},
        {std::log(2.0), std::log(rate), std::log(2.0), -std::log(mean_T)},
    };
    const double oldest = d.times.back();
    const auto at_boundary = [oldest](const std::vector<double>& phi) {
        return classify_boundary(std::exp(phi[0]), std::exp(phi[2]), std::exp(phi[2] - phi[3]), oldest) !=
               ParetoNbdBoundary::none;
    };
    auto res = btyd_detail::minimize(objective, starts, options, 1, d.total_weight, false, at_boundary);
    res.theta = to_theta(res.theta);

    ParetoNbdModel m;
    m.r = std::exp(res.theta[0]);
    m.alpha = std::exp(res.theta[1]);
    m.s = std::exp(res.theta[2]);
    m.beta = std::exp(res.theta[3]);
    m.log_likelihood = lik(res.theta, nullptr);
    m.customers = d.total_weight;
    m.converged = res.converged;
    m.iterations = res.iterations;
    if (!m.converged)
        m.boundary = classify_boundary(m.r, m.s, m.beta, oldest);
    else
        m.covariance = btyd_detail::parameter_covariance(ll, res.theta);
    if (!std::isfinite(m.log_likelihood))
        throw Error(ErrorKind::numeric_value_out_of_range, "could not fit the Pareto/NBD model",
                    "The likelihood is not finite at the estimate.");
    return m;
}

double pareto_nbd_log_likelihood(const ParetoNbdModel& model, const BtydObservation* data, std::size_t n) {
    const Params p = checked_params(model);
    const CompiledTriples d = btyd_detail::compile_triples(data, n, true);
    if (d.rows.empty())
        return 0.0;
    Interrupts none;
    Likelihood lik(d, none);
    double v;
    try {
        v = lik({std::log(p.r), std::log(p.alpha), std::log(p.s), std::log(p.beta)}, nullptr);
    } catch (...) {
        btyd_detail::rethrow_as_error("Pareto/NBD log-likelihood");
    }
    if (!std::isfinite(v))
        throw Error(ErrorKind::numeric_value_out_of_range, "log-likelihood of the Pareto/NBD model is not finite");
    return v;
}

namespace btyd_detail {
std::array<double, 4> pareto_nbd_gradient(const ParetoNbdModel& model, const BtydObservation* data, std::size_t n) {
    const Params p = checked_params(model);
    const CompiledTriples d = compile_triples(data, n);
    Interrupts none;
    Likelihood lik(d, none);
    std::vector<double> g;
    lik({std::log(p.r), std::log(p.alpha), std::log(p.s), std::log(p.beta)}, &g);
    return {g[0], g[1], g[2], g[3]};
}
}  // namespace btyd_detail

double pareto_nbd_p_alive(const ParetoNbdModel& model, double x, double t_x, double T) {
    const Params p = checked_params(model);
    check_customer(x, t_x, T);
    double v;
    try {
        v = p_alive(p, x, t_x, T);
    } catch (...) {
        btyd_detail::rethrow_as_error("Pareto/NBD probability alive");
    }
    return btyd_detail::finite_result(v, "Pareto/NBD probability alive");
}

double pareto_nbd_expected(const ParetoNbdModel& model, double t, double x, double t_x, double T) {
    const Params p = checked_params(model);
    check_customer(x, t_x, T);
    btyd_detail::check_horizon(t, "horizon");
    double v;
    try {
        v = p_alive(p, x, t_x, T) * alive_expected(p, x, T, t);
    } catch (...) {
        btyd_detail::rethrow_as_error("Pareto/NBD expected purchases");
    }
    return btyd_detail::finite_result(v, "Pareto/NBD expected purchases");
}

double pareto_nbd_unconditional_expected(const ParetoNbdModel& model, double t) {
    const Params p = checked_params(model);
    btyd_detail::check_horizon(t, "horizon");
    return btyd_detail::finite_result(alive_expected(p, 0, 0, t), "Pareto/NBD expected purchases");
}

double pareto_nbd_prob_purchase(const ParetoNbdModel& model, double t, double x, double t_x, double T) {
    const Params p = checked_params(model);
    check_customer(x, t_x, T);
    btyd_detail::check_horizon(t, "horizon");
    if (t == 0)
        return 0.0;
    try {
        const double v = btyd_detail::finite_result(p_alive(p, x, t_x, T) * alive_prob_purchase(p, x, T, t),
                                                    "Pareto/NBD purchase probability");
        return std::min(1.0, std::max(0.0, v));
    } catch (...) {
        btyd_detail::rethrow_as_error("Pareto/NBD purchase probability");
    }
}

double pareto_nbd_repurchase_score(const ParetoNbdModel& model, double t, double x, double t_x, double T) {
    return 100.0 * pareto_nbd_prob_purchase(model, t, x, t_x, T);
}

std::array<double, 4> pareto_nbd_standard_errors(const ParetoNbdModel& model, const BtydObservation* data,
                                                 std::size_t n) {
    const Params p = checked_params(model);
    const CompiledTriples d = btyd_detail::compile_triples(data, n);
    Interrupts none;
    Likelihood lik(d, none);
    btyd_detail::LogLikelihood ll = [&lik](const std::vector<double>& th, std::vector<double>* g) {
        return lik(th, g);
    };
    try {
        const auto se =
            btyd_detail::standard_errors(ll, {std::log(p.r), std::log(p.alpha), std::log(p.s), std::log(p.beta)});
        return {se[0], se[1], se[2], se[3]};
    } catch (...) {
        btyd_detail::rethrow_as_error("Pareto/NBD standard errors");
    }
}

double pareto_nbd_clv(const ParetoNbdModel& model, double x, double t_x, double T, double expected_spend, int periods,
                      double discount_rate, double period_length, const Interrupts& interrupts) {
    const Params p = checked_params(model);
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
        btyd_detail::rethrow_as_error("Pareto/NBD CLV");
    }
    return btyd_detail::finite_result(v, "customer lifetime value of the Pareto/NBD model");
}

ClvInterval pareto_nbd_clv_interval(const ParetoNbdModel& model, double x, double t_x, double T, double expected_spend,
                                    int periods, double discount_rate, double period_length, int draws, double level,
                                    std::uint64_t seed, const Interrupts& interrupts) {
    const Params p = checked_params(model);
    const double estimate[4] = {p.r, p.alpha, p.s, p.beta};
    check_customer(x, t_x, T);
    btyd_detail::check_clv_arguments(expected_spend, periods, discount_rate, period_length);
    return btyd_detail::clv_interval(
        estimate, model.covariance,
        [&](const double* q) {
            return pareto_nbd_clv(ParetoNbdModel{q[0], q[1], q[2], q[3]}, x, t_x, T, expected_spend, periods,
                                  discount_rate, period_length, interrupts);
        },
        draws, level, seed, interrupts);
}

}  // namespace customer_analytics
