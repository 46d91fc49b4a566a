// Shifted-beta-geometric model (Fader & Hardie 2007, "How to Project
// Customer Retention", Journal of Interactive Marketing 21(1)): contractual
// retention.
//
// At the end of each period an active customer cancels with probability
// theta ~ Beta(alpha, beta). With B the beta function:
//   P(T = t) = B(alpha+1, beta+t-1)/B(alpha, beta)   (cancels in period t >= 1)
//   S(t)     = B(alpha, beta+t)/B(alpha, beta)       (still active after t periods)
//   r(t)     = S(t)/S(t-1) = (beta+t-1)/(alpha+beta+t-1)   (retention rate of period t)
// A customer is (t, churned): churned in period t, or active after t periods
// (censored). Discounted expected residual lifetime (Fader & Hardie 2010,
// "Customer-Base Valuation in a Contractual Setting", Marketing Science
// 29(1)) of a customer who has made n renewals, at the moment of the next
// renewal decision, the payments of future periods discounted at d per
// period (the next one undiscounted):
//   DERL = sum_{k>=1} S(n+k)/S(n) (1+d)^-(k-1)
//        = (beta+n)/(alpha+beta+n) 2F1(1, beta+n+1; alpha+beta+n+1; 1/(1+d)).
#include <cmath>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "btyd.hpp"
#include "internal.hpp"

#include "no_postgres.hpp"

namespace customer_analytics {

namespace {

using btyd_detail::format;
using btyd_detail::ln_gamma;
using btyd_detail::psi;

constexpr double kInf = std::numeric_limits<double>::infinity();

void check_params(const SbgModel& m) {
    btyd_detail::check_model_parameter(m.alpha, "sBG", "alpha");
    btyd_detail::check_model_parameter(m.beta, "sBG", "beta");
}

void check_periods(double t, const char* name) {
    if (!(std::isfinite(t) && t >= 0 && t == std::floor(t) && t <= kSbgMaxPeriods))
        throw Error(ErrorKind::invalid_parameter_value,
                    format("%s must be an integer from 0 to %.0f", name, kSbgMaxPeriods),
                    format("The value given was %g.", t));
}

struct Row {
    double t;
    bool churned;
    double w;
};

std::vector<Row> compile(const SbgObservation* data, std::size_t n) {
    if (n > 0 && data == nullptr)
        throw Error(ErrorKind::invalid_parameter_value, "observation array is null");
    std::map<std::pair<double, bool>, double> merged;
    for (std::size_t i = 0; i < n; ++i) {
        sbg_validate(data[i]);
        if (data[i].weight > 0)
            merged[{data[i].t, data[i].churned}] += data[i].weight;
    }
    std::vector<Row> out;
    for (const auto& [k, w] : merged)
        out.push_back({k.first, k.second, w});
    return out;
}

// Weighted LL and its gradient in (log alpha, log beta).
double log_likelihood(const std::vector<Row>& d, double alpha, double beta, std::vector<double>* grad) {
    const double lb0 = ln_gamma(alpha) + ln_gamma(beta) - ln_gamma(alpha + beta);
    const double pb = psi(beta), pab = psi(alpha + beta);
    btyd_detail::CompensatedSum ll;
    double ga = 0, gb = 0;
    for (const Row& r : d) {
        if (r.churned) {
            ll.add(r.w * (ln_gamma(alpha + 1) + ln_gamma(beta + r.t - 1) - ln_gamma(alpha + beta + r.t) - lb0));
            const double pt = psi(alpha + beta + r.t);
            ga += r.w * (1 / alpha - pt + pab);  // psi(alpha+1) - psi(alpha) = 1/alpha
            gb += r.w * (psi(beta + r.t - 1) - pt - pb + pab);
        } else if (r.t > 0) {
            ll.add(r.w *
                   (ln_gamma(beta + r.t) - ln_gamma(alpha + beta + r.t) - ln_gamma(beta) + ln_gamma(alpha + beta)));
            const double pt = psi(alpha + beta + r.t);
            ga += r.w * (pab - pt);
            gb += r.w * (psi(beta + r.t) - pt - pb + pab);
        }
    }
    if (grad != nullptr)
        *grad = {ga * alpha, gb * beta};
    const double v = ll.value();
    return std::isfinite(v) ? v : -kInf;
}

}  // namespace

void sbg_validate(const SbgObservation& o) {
    check_periods(o.t, "number of periods");
    if (o.churned && o.t < 1)
        throw Error(ErrorKind::invalid_parameter_value, "a customer who churned did so in period 1 or later",
                    "The value given was period 0.");
    if (!(std::isfinite(o.weight) && o.weight >= 0))
        throw Error(ErrorKind::invalid_parameter_value, "observation weight must be finite and non-negative",
                    format("The value given was %g.", o.weight));
}

void validate_model(const SbgModel& model) { check_params(model); }

SbgModel fit_sbg(const SbgObservation* data, std::size_t n, const BtydFitOptions& options) {
    btyd_detail::check_fit_options(options);
    const std::vector<Row> d = compile(data, n);
    double total = 0, churned = 0, exposure = 0;
    for (const Row& r : d) {
        total += r.w;
        churned += r.churned ? r.w : 0;
        exposure += r.w * r.t;
    }
    if (!(total > 0))
        throw Error(ErrorKind::data_exception, "no customers to fit", "Every observation is missing or has weight 0.");
    if (!(churned > 0))
        throw Error(ErrorKind::data_exception, "cannot fit the sBG model: no customer churned",
                    "The model needs cancellations to estimate the churn probabilities.");
    if (!(exposure > churned))
        throw Error(ErrorKind::data_exception, "cannot fit the sBG model: every customer churned in the first period");
    btyd_detail::LogLikelihood ll = [&](const std::vector<double>& th, std::vector<double>* g) {
        options.interrupts.check();
        return log_likelihood(d, std::exp(th[0]), std::exp(th[1]), g);
    };
    // Starts with the mean churn rate of the data, churned / periods exposed.
    const double q = churned / exposure;
    const std::vector<std::vector<double>> starts = {{std::log(q), std::log(1 - q)},
                                                     {std::log(5 * q), std::log(5 * (1 - q))},
                                                     {std::log(0.2 * q), std::log(0.2 * (1 - q))}};
    const auto res = btyd_detail::minimize(btyd_detail::penalized_objective(ll, total, options.l2_penalty), starts,
                                           options, 2, total, false);
    SbgModel m;
    m.alpha = std::exp(res.theta[0]);
    m.beta = std::exp(res.theta[1]);
    m.log_likelihood = log_likelihood(d, m.alpha, m.beta, nullptr);
    m.customers = total;
    m.converged = res.converged;
    m.iterations = res.iterations;
    if (m.converged)
        m.covariance = btyd_detail::parameter_covariance(ll, res.theta);
    if (!std::isfinite(m.log_likelihood))
        throw Error(ErrorKind::numeric_value_out_of_range, "could not fit the sBG model",
                    "The likelihood is not finite at the estimate.");
    return m;
}

double sbg_log_likelihood(const SbgModel& model, const SbgObservation* data, std::size_t n) {
    check_params(model);
    const double v = log_likelihood(compile(data, n), model.alpha, model.beta, nullptr);
    if (!std::isfinite(v))
        throw Error(ErrorKind::numeric_value_out_of_range, "log-likelihood of the sBG model is not finite");
    return v;
}

double sbg_survival(const SbgModel& model, double t) {
    check_params(model);
    check_periods(t, "number of periods");
    const double v = std::exp(ln_gamma(model.beta + t) - ln_gamma(model.alpha + model.beta + t) - ln_gamma(model.beta) +
                              ln_gamma(model.alpha + model.beta));
    return btyd_detail::finite_result(std::min(1.0, v), "sBG survival");
}

double sbg_retention(const SbgModel& model, double t) {
    check_params(model);
    check_periods(t, "period");
    if (t < 1)
        throw Error(ErrorKind::invalid_parameter_value, "period must be at least 1",
                    "The retention rate of period t is the share of the customers active after t - 1 periods that "
                    "renew for period t.");
    return btyd_detail::finite_result((model.beta + t - 1) / (model.alpha + model.beta + t - 1), "sBG retention");
}

double sbg_derl(const SbgModel& model, double renewals, double discount_rate) {
    check_params(model);
    check_periods(renewals, "number of renewals");
    if (!(std::isfinite(discount_rate) && discount_rate > 0))
        throw Error(ErrorKind::invalid_parameter_value, "discount rate must be positive and finite",
                    format("The value given was %g.", discount_rate),
                    "Without discounting the expected residual lifetime is infinite when alpha <= 1.");
    const double b = model.beta + renewals, c = model.alpha + model.beta + renewals;
    double v;
    try {
        v = b / c * btyd_detail::hypergeometric({1.0, b + 1}, {c + 1}, 1 / (1 + discount_rate));
    } catch (...) {
        btyd_detail::rethrow_as_error("sBG discounted expected residual lifetime");
    }
    return btyd_detail::finite_result(v, "sBG discounted expected residual lifetime");
}

std::array<double, 2> sbg_standard_errors(const SbgModel& model, const SbgObservation* data, std::size_t n) {
    check_params(model);
    const std::vector<Row> d = compile(data, n);
    btyd_detail::LogLikelihood ll = [&](const std::vector<double>& th, std::vector<double>* g) {
        return log_likelihood(d, std::exp(th[0]), std::exp(th[1]), g);
    };
    try {
        const auto se = btyd_detail::standard_errors(ll, {std::log(model.alpha), std::log(model.beta)});
        return {se[0], se[1]};
    } catch (...) {
        btyd_detail::rethrow_as_error("sBG standard errors");
    }
}

}  // namespace customer_analytics
