// Pareto/NBD model: likelihood, fit, predictions.
//
// Individual likelihood (Fader & Hardie 2005, "A note on deriving the
// Pareto/NBD model and related expressions", eq. 22):
//   L = Gamma(r+x) alpha^r beta^s / Gamma(r)
//       * [ (alpha+T)^-(r+x) (beta+T)^-s + s/(r+s+x) * A0 ]
//   A0 = F(t_x) - F(T),  F(v) = 2F1(m, b2; m+1; z(v)) / (rho+v)^m,  m = r+s+x,
//   alpha >= beta: rho = alpha, b2 = s+1,  z(v) = (alpha-beta)/(alpha+v)
//   alpha <  beta: rho = beta,  b2 = r+x,  z(v) = (beta-alpha)/(beta+v)
// so 0 <= z < 1 always. Each 2F1(m, b2; m+1; z) goes through Euler's
// transformation 2F1(m, b2; m+1; z) = (1-z)^(1-b2) 2F1(1, m+1-b2; m+1; z):
// the new series has positive terms (well conditioned), a moderate sum even
// for x in the thousands (where 2F1(m, r+x; m+1; z) itself overflows) and
// a lower parameter growing with x (fast convergence for heavy buyers).
// Everything is combined in logs, after moving alpha^r beta^s inside:
//   log L = log (r)_x + log( exp(L1) + s/m (exp(J(t_x)) - exp(J(T))) )
//   L1    = -r log1p(T/alpha) - s log1p(T/beta) - x log(alpha+T)
//   J(v)  = log F(v) + r log alpha + s log beta
//         = log G(v) - r log1p(v/alpha) - s log1p(v/beta) - x log(alpha+v)
//           [+ log(alpha+v) - log(beta+v) when alpha < beta]
//   G(v)  = 2F1(1, r+x; m+1; z(v)) (alpha >= beta) or 2F1(1, s+1; m+1; z(v))
// so that no term grows with r, s, alpha or beta (accurate likelihood, and
// meaningful finite differences, also far out on flat ridges).
//
// The fit caches per evaluation: Pochhammer sums per distinct x, logs per
// distinct time, and J per distinct (x, time) pair, so the number of 2F1
// evaluations is the number of distinct (x, t_x) and (x, T) pairs.
// Gradients are central differences (the 2F1 has no closed-form parameter
// derivatives).
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
constexpr std::uint32_t kNoPair = std::numeric_limits<std::uint32_t>::max();

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

// Per-time logs used by J and L1.
struct TimeLogs {
    double la;    // log(alpha + v)
    double lb;    // log(beta + v)
    double l1pa;  // log1p(v / alpha)
    double l1pb;  // log1p(v / beta)
};

TimeLogs time_logs(const Params& p, double v) {
    return TimeLogs{std::log(p.alpha + v), std::log(p.beta + v), std::log1p(v / p.alpha), std::log1p(v / p.beta)};
}

// J(v) (see the header comment).
double log_F(const Params& p, double x, double v, const TimeLogs& t) {
    if (p.alpha >= p.beta) {
        const double lg = btyd_detail::log_hyp2f1_unit(p.r + x, p.s + 1, (p.alpha - p.beta) / (p.alpha + v),
                                                       (p.beta + v) / (p.alpha + v));
        return lg - p.r * t.l1pa - p.s * t.l1pb - x * t.la;
    }
    const double lg =
        btyd_detail::log_hyp2f1_unit(p.s + 1, p.r + x, (p.beta - p.alpha) / (p.beta + v), (p.alpha + v) / (p.beta + v));
    return lg - p.r * t.l1pa - p.s * t.l1pb - x * t.la + (t.la - t.lb);
}

// L1 (see the header comment).
double log_alive_term(const Params& p, double x, const TimeLogs& t) { return -p.r * t.l1pa - p.s * t.l1pb - x * t.la; }

// log of (alpha+T)^(r+x) (beta+T)^s * s/(r+s+x) * A0, i.e. the log-odds of
// "dropped out before T" against "alive at T". -inf when t_x == T.
double log_odds_dead(const Params& p, double x, double t_x, double T) {
    if (t_x >= T)
        return -kInf;
    const TimeLogs tT = time_logs(p, T);
    const double log_a0 = btyd_detail::log_sub_exp(log_F(p, x, t_x, time_logs(p, t_x)), log_F(p, x, T, tT));
    return std::log(p.s / (p.r + p.s + x)) + log_a0 - log_alive_term(p, x, tT);
}

double p_alive(const Params& p, double x, double t_x, double T) {
    const double lr = log_odds_dead(p, x, t_x, T);
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

// log K(tau), K(tau) = int_tau^inf (1 + u/A)^-(r+x+1) (1 + u/B)^-s du,
// A = alpha+T, B = beta+T. With M = r+x+s, expanding the integrand around
// the larger of A, B gives (same 2F1(M, .; M+1; .) family as the likelihood,
// same Euler transformation):
//   alpha >= beta: -(r+x+1) log1p(tau/A) - s log1p(tau/B) + log(B+tau) - log M
//                  + log 2F1(1, r+x+1; M+1; (alpha-beta)/(A+tau))
//   alpha <  beta: -(r+x) log1p(tau/A) - s log1p(tau/B) + log A - log M
//                  + log 2F1(1, s; M+1; (beta-alpha)/(B+tau))
double log_K(const Params& p, double x, double T, double tau) {
    const double A = p.alpha + T, B = p.beta + T, M = p.r + x + p.s;
    const double l1a = std::log1p(tau / A), l1b = std::log1p(tau / B);
    if (p.alpha >= p.beta) {
        const double lg =
            btyd_detail::log_hyp2f1_unit(p.r + x + 1, p.s, (p.alpha - p.beta) / (A + tau), (B + tau) / (A + tau));
        return -(p.r + x + 1) * l1a - p.s * l1b + std::log(B + tau) - std::log(M) + lg;
    }
    const double lg =
        btyd_detail::log_hyp2f1_unit(p.s, p.r + x + 1, (p.beta - p.alpha) / (B + tau), (A + tau) / (B + tau));
    return -(p.r + x) * l1a - p.s * l1b + std::log(A) - std::log(M) + lg;
}

class Likelihood {
public:
    Likelihood(const CompiledTriples& d, const Interrupts& interrupts) : d_(d), interrupts_(interrupts) {
        const std::uint64_t nt = d.times.size();
        std::vector<std::uint64_t> keys;
        keys.reserve(2 * d.rows.size());
        for (const auto& row : d.rows) {
            if (row.txi == row.Ti)
                continue;
            keys.push_back(row.xi * nt + row.txi);
            keys.push_back(row.xi * nt + row.Ti);
        }
        sort_interruptible(keys.data(), keys.data() + keys.size(), std::less<std::uint64_t>(), interrupts);
        keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
        pair_x_.reserve(keys.size());
        pair_t_.reserve(keys.size());
        for (auto k : keys) {
            pair_x_.push_back(static_cast<std::uint32_t>(k / nt));
            pair_t_.push_back(static_cast<std::uint32_t>(k % nt));
        }
        row_tx_.reserve(d.rows.size());
        row_T_.reserve(d.rows.size());
        auto find = [&](std::uint64_t key) {
            return static_cast<std::uint32_t>(std::lower_bound(keys.begin(), keys.end(), key) - keys.begin());
        };
        for (const auto& row : d.rows) {
            if (row.txi == row.Ti) {
                row_tx_.push_back(kNoPair);
                row_T_.push_back(kNoPair);
            } else {
                row_tx_.push_back(find(row.xi * nt + row.txi));
                row_T_.push_back(find(row.xi * nt + row.Ti));
            }
        }
        c_.resize(d.xs.size());
        lq_.resize(d.xs.size());
        t_.resize(d.times.size());
        J_.resize(keys.size());
    }

    std::size_t pairs() const { return J_.size(); }

    double operator()(const std::vector<double>& theta) {
        const Params p{std::exp(theta[0]), std::exp(theta[1]), std::exp(theta[2]), std::exp(theta[3])};
        if (!(p.r > 0 && p.alpha > 0 && p.s > 0 && p.beta > 0) || !std::isfinite(p.r + p.alpha + p.s + p.beta))
            return -kInf;
        btyd_detail::log_pochhammer(p.r, d_.xs, c_);
        for (std::size_t k = 0; k < d_.xs.size(); ++k)
            lq_[k] = std::log(p.s / (p.r + p.s + d_.xs[k]));
        for (std::size_t j = 0; j < d_.times.size(); ++j)
            t_[j] = time_logs(p, d_.times[j]);
        for (std::size_t i = 0; i < J_.size(); ++i) {
            // A 2F1 takes up to a few milliseconds (near z = 1).
            if ((i & 0xF) == 0xF)
                interrupts_.check();
            const std::uint32_t j = pair_t_[i];
            J_[i] = log_F(p, d_.xs[pair_x_[i]], d_.times[j], t_[j]);
        }
        btyd_detail::CompensatedSum ll;
        for (std::size_t i = 0; i < d_.rows.size(); ++i) {
            if ((i & 0xFFFF) == 0xFFFF)
                interrupts_.check();
            const auto& row = d_.rows[i];
            const double x = d_.xs[row.xi];
            const double L1 = log_alive_term(p, x, t_[row.Ti]);
            double v = L1;
            if (row_tx_[i] != kNoPair) {
                // log(exp(L1) + exp(D) (1 - exp(J_T - J_tx))), D = log(s/m) + J_tx
                const double Jtx = J_[row_tx_[i]], JT = J_[row_T_[i]];
                if (Jtx > JT) {
                    const double D = lq_[row.xi] + Jtx;
                    const double frac = -std::expm1(JT - Jtx);
                    v = L1 >= D ? L1 + std::log1p(std::exp(D - L1) * frac) : D + std::log(std::exp(L1 - D) + frac);
                }
            }
            ll.add(row.w * (c_[row.xi] + v));
        }
        const double total = ll.value();
        return std::isfinite(total) ? total : -kInf;
    }

private:
    const CompiledTriples& d_;
    const Interrupts& interrupts_;
    std::vector<std::uint32_t> pair_x_, pair_t_;  // distinct (x, time) pairs needing F
    std::vector<std::uint32_t> row_tx_, row_T_;   // per row: pair indices, kNoPair if t_x == T
    std::vector<double> c_, lq_, J_;              // per x: log (r)_x, log(s/m); per pair: J
    std::vector<TimeLogs> t_;                     // per distinct time
};

}  // namespace

void validate_model(const ParetoNbdModel& model) { checked_params(model); }

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
    btyd_detail::LogLikelihood ll =
        btyd_detail::with_numeric_gradient([&lik](const std::vector<double>& th) { return lik(th); });
    const std::vector<std::vector<double>> starts = {
        {0.0, std::log(1.0 / rate), 0.0, std::log(mean_T)},
        {std::log(0.5), std::log(0.5 / rate), std::log(0.5), std::log(0.5 * mean_T)},
        {std::log(2.0), std::log(2.0 / rate), std::log(2.0), std::log(2.0 * mean_T)},
    };
    const auto res = btyd_detail::minimize(btyd_detail::penalized_objective(ll, d.total_weight, options.l2_penalty),
                                           starts, options, 1, d.total_weight, true);

    ParetoNbdModel m;
    m.r = std::exp(res.theta[0]);
    m.alpha = std::exp(res.theta[1]);
    m.s = std::exp(res.theta[2]);
    m.beta = std::exp(res.theta[3]);
    m.log_likelihood = lik(res.theta);
    m.customers = d.total_weight;
    m.converged = res.converged;
    m.iterations = res.iterations;
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
        v = lik({std::log(p.r), std::log(p.alpha), std::log(p.s), std::log(p.beta)});
    } catch (...) {
        btyd_detail::rethrow_as_error("Pareto/NBD log-likelihood");
    }
    if (!std::isfinite(v))
        throw Error(ErrorKind::numeric_value_out_of_range, "log-likelihood of the Pareto/NBD model is not finite");
    return v;
}

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
        // P(Y(t) > 0 | alive) = (r+x)/(alpha+T) * (K(0) - K(t))
        const double lk = btyd_detail::log_sub_exp(log_K(p, x, T, 0), log_K(p, x, T, t));
        const double lq = std::log(p.r + x) - std::log(p.alpha + T) + lk;
        const double v =
            btyd_detail::finite_result(p_alive(p, x, t_x, T) * std::exp(lq), "Pareto/NBD purchase probability");
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
    btyd_detail::LogLikelihood ll =
        btyd_detail::with_numeric_gradient([&lik](const std::vector<double>& th) { return lik(th); });
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

}  // namespace customer_analytics
