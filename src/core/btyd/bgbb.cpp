// BG/BB model (Fader, Hardie & Shang 2010, "Customer-Base Analysis in a
// Discrete-Time Noncontractual Setting", Marketing Science 29(6)):
// likelihood, fit, predictions.
//
// n transaction opportunities (years, events); while alive a customer
// transacts at each with probability p ~ Beta(alpha, beta) and becomes
// inactive after each with probability theta ~ Beta(gamma, delta). A
// customer is (x, t_x, n): x transactions, the last at opportunity t_x (0
// when x = 0). With B the beta function (eq. 5 of the paper):
//   L = B(alpha+x, beta+n-x)/B(alpha,beta) B(gamma, delta+n)/B(gamma,delta)
//     + sum_{i=0}^{n-t_x-1} B(alpha+x, beta+t_x-x+i)/B(alpha,beta)
//                           B(gamma+1, delta+t_x+i)/B(gamma,delta)
// (alive through n, or inactive after opportunity t_x + i), summed in logs.
// P(alive at n+1) is the first term with delta+n+1 for delta+n, over L; the
// expected transactions in the next n* opportunities (eq. 13) are
//   B(alpha+x+1, beta+n-x)/B(alpha,beta)/L sum_{k=n+1}^{n+n*} B(gamma, delta+k)/B(gamma,delta),
// the sum a difference of gamma ratios (eq. 13's closed form); and
// P(X(n) = x) (eq. 8) gives the in-sample expected counts.
//
// The fit has a central-difference gradient (discrete-time data have at
// most (n+1)(n+2)/2 distinct patterns, each O(n) terms).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>
#include <vector>

#include "btyd.hpp"
#include "internal.hpp"

#include "no_postgres.hpp"

namespace customer_analytics {

namespace {

using btyd_detail::format;
using btyd_detail::ln_gamma;

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Params {
    double alpha, beta, gamma, delta;
};

Params checked_params(const BgbbModel& m) {
    btyd_detail::check_model_parameter(m.alpha, "BG/BB", "alpha");
    btyd_detail::check_model_parameter(m.beta, "BG/BB", "beta");
    btyd_detail::check_model_parameter(m.gamma, "BG/BB", "gamma");
    btyd_detail::check_model_parameter(m.delta, "BG/BB", "delta");
    return Params{m.alpha, m.beta, m.gamma, m.delta};
}

double ln_beta(double a, double b) { return ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b); }

void check_opportunities(double n) {
    if (!(std::isfinite(n) && n >= 0 && n == std::floor(n) && n <= kBgbbMaxOpportunities))
        throw Error(ErrorKind::invalid_parameter_value,
                    format("number of transaction opportunities must be an integer from 0 to %.0f",
                           kBgbbMaxOpportunities),
                    format("The value given was n = %g.", n));
}

// log L of one customer.
double log_likelihood_of(const Params& p, double x, double t_x, double n) {
    const double lbab = ln_beta(p.alpha, p.beta), lbgd = ln_beta(p.gamma, p.delta);
    double v = ln_beta(p.alpha + x, p.beta + n - x) - lbab + ln_beta(p.gamma, p.delta + n) - lbgd;
    for (double i = 0; i < n - t_x; i += 1)
        v = btyd_detail::log_add_exp(v, ln_beta(p.alpha + x, p.beta + t_x - x + i) - lbab +
                                            ln_beta(p.gamma + 1, p.delta + t_x + i) - lbgd);
    return v;
}

// sum_{k=m+1}^{m+h} B(gamma, delta+k)/B(gamma, delta): the expected number
// of opportunities m+1 .. m+h at which a customer of the prior is still
// alive. Closed form (gamma != 1):
//   delta/(gamma-1) Gamma(gamma+delta)/Gamma(1+delta)
//     [Gamma(1+delta+m)/Gamma(gamma+delta+m) - Gamma(1+delta+m+h)/Gamma(gamma+delta+m+h)];
// summed term by term near gamma = 1, where the closed form cancels.
double alive_opportunities(const Params& p, double m, double h) {
    if (h == 0)
        return 0.0;
    const double lbgd = ln_beta(p.gamma, p.delta);
    if (std::fabs(p.gamma - 1) < 1e-3 && h <= 1e5) {
        btyd_detail::CompensatedSum sum;
        for (double k = m + 1; k <= m + h; k += 1)
            sum.add(std::exp(ln_beta(p.gamma, p.delta + k) - lbgd));
        return sum.value();
    }
    auto log_g = [&](double j) { return ln_gamma(1 + p.delta + j) - ln_gamma(p.gamma + p.delta + j); };
    const double g0 = log_g(m), g1 = log_g(m + h);
    const double front = std::log(p.delta) + ln_gamma(p.gamma + p.delta) - ln_gamma(1 + p.delta);
    // [e^g0 - e^g1] / (gamma - 1): both factors change sign together.
    return std::exp(front + g0) * (-std::expm1(g1 - g0)) / (p.gamma - 1);
}

struct Pattern {
    double x, t_x, n, w;
};

std::vector<Pattern> compile(const BgbbObservation* data, std::size_t n, bool allow_empty) {
    if (n > 0 && data == nullptr)
        throw Error(ErrorKind::invalid_parameter_value, "observation array is null");
    std::map<std::tuple<double, double, double>, double> merged;
    for (std::size_t i = 0; i < n; ++i) {
        bgbb_validate(data[i]);
        if (data[i].weight > 0)
            merged[{data[i].x, data[i].t_x, data[i].n}] += data[i].weight;
    }
    if (merged.empty() && !allow_empty)
        throw Error(ErrorKind::data_exception, "no customers to fit", "Every observation is missing or has weight 0.");
    std::vector<Pattern> out;
    for (const auto& [k, w] : merged)
        out.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), w});
    return out;
}

double total_log_likelihood(const Params& p, const std::vector<Pattern>& d, const Interrupts& interrupts) {
    btyd_detail::CompensatedSum ll;
    for (std::size_t i = 0; i < d.size(); ++i) {
        if ((i & 0xFF) == 0xFF)
            interrupts.check();
        ll.add(d[i].w * log_likelihood_of(p, d[i].x, d[i].t_x, d[i].n));
    }
    const double v = ll.value();
    return std::isfinite(v) ? v : -kInf;
}

}  // namespace

void bgbb_validate(const BgbbObservation& o) {
    check_opportunities(o.n);
    if (!(std::isfinite(o.x) && o.x >= 0 && o.x == std::floor(o.x) && o.x <= o.n))
        throw Error(ErrorKind::invalid_parameter_value,
                    "number of transactions must be an integer from 0 to the number of opportunities",
                    format("The values given were x = %g and n = %g.", o.x, o.n));
    if (!(std::isfinite(o.t_x) && o.t_x == std::floor(o.t_x) && o.t_x >= o.x && o.t_x <= o.n))
        throw Error(ErrorKind::invalid_parameter_value,
                    "opportunity of the last transaction must be an integer from x to the number of opportunities",
                    format("The values given were x = %g, t_x = %g and n = %g.", o.x, o.t_x, o.n));
    if (o.x == 0 && o.t_x != 0)
        throw Error(ErrorKind::invalid_parameter_value,
                    "opportunity of the last transaction must be 0 for a customer without transactions",
                    format("The values given were x = 0 and t_x = %g.", o.t_x));
    if (!(std::isfinite(o.weight) && o.weight >= 0))
        throw Error(ErrorKind::invalid_parameter_value, "observation weight must be finite and non-negative",
                    format("The value given was %g.", o.weight));
}

void validate_model(const BgbbModel& model) { checked_params(model); }

BgbbModel fit_bgbb(const BgbbObservation* data, std::size_t n, const BtydFitOptions& options) {
    btyd_detail::check_fit_options(options);
    const std::vector<Pattern> d = compile(data, n, false);
    double total = 0, transactions = 0, opportunities = 0;
    for (const auto& o : d) {
        total += o.w;
        transactions += o.w * o.x;
        opportunities += o.w * o.n;
    }
    if (!(transactions > 0))
        throw Error(ErrorKind::data_exception, "cannot fit the BG/BB model: no customer has a transaction",
                    format("Every customer (%g in all) has x = 0.", total),
                    "The model needs transactions to estimate transaction and dropout probabilities.");
    if (!(transactions < opportunities))
        throw Error(ErrorKind::data_exception,
                    "cannot fit the BG/BB model: every customer transacted at every opportunity");
    const Interrupts& interrupts = options.interrupts;
    btyd_detail::LogLikelihood ll = btyd_detail::with_numeric_gradient([&](const std::vector<double>& th) {
        return total_log_likelihood(Params{std::exp(th[0]), std::exp(th[1]), std::exp(th[2]), std::exp(th[3])}, d,
                                    interrupts);
    });
    // Starts with the mean transaction probability of the data.
    const double q = transactions / opportunities;
    const std::vector<std::vector<double>> starts = {
        {std::log(q), std::log(1 - q), 0.0, 0.0},
        {std::log(2 * q), std::log(2 * (1 - q)), std::log(0.5), std::log(2.0)},
        {std::log(0.5 * q), std::log(0.5 * (1 - q)), std::log(2.0), std::log(5.0)},
    };
    const auto res = btyd_detail::minimize(btyd_detail::penalized_objective(ll, total, options.l2_penalty), starts,
                                           options, 2, total, true);
    BgbbModel m;
    m.alpha = std::exp(res.theta[0]);
    m.beta = std::exp(res.theta[1]);
    m.gamma = std::exp(res.theta[2]);
    m.delta = std::exp(res.theta[3]);
    m.log_likelihood = total_log_likelihood(checked_params(m), d, interrupts);
    m.customers = total;
    m.converged = res.converged;
    m.iterations = res.iterations;
    if (m.converged)
        m.covariance = btyd_detail::parameter_covariance(ll, res.theta);
    if (!std::isfinite(m.log_likelihood))
        throw Error(ErrorKind::numeric_value_out_of_range, "could not fit the BG/BB model",
                    "The likelihood is not finite at the estimate.");
    return m;
}

double bgbb_log_likelihood(const BgbbModel& model, const BgbbObservation* data, std::size_t n) {
    const Params p = checked_params(model);
    const std::vector<Pattern> d = compile(data, n, true);
    const double v = total_log_likelihood(p, d, Interrupts{});
    if (!std::isfinite(v))
        throw Error(ErrorKind::numeric_value_out_of_range, "log-likelihood of the BG/BB model is not finite");
    return v;
}

double bgbb_p_alive(const BgbbModel& model, double x, double t_x, double n) {
    const Params p = checked_params(model);
    bgbb_validate(BgbbObservation{x, t_x, n, 1});
    double v;
    try {
        const double alive = ln_beta(p.alpha + x, p.beta + n - x) - ln_beta(p.alpha, p.beta) +
                             ln_beta(p.gamma, p.delta + n + 1) - ln_beta(p.gamma, p.delta);
        v = std::exp(alive - log_likelihood_of(p, x, t_x, n));
    } catch (...) {
        btyd_detail::rethrow_as_error("BG/BB probability alive");
    }
    return btyd_detail::finite_result(std::min(1.0, v), "BG/BB probability alive");
}

double bgbb_expected(const BgbbModel& model, double n_star, double x, double t_x, double n) {
    const Params p = checked_params(model);
    bgbb_validate(BgbbObservation{x, t_x, n, 1});
    check_opportunities(n_star);
    double v;
    try {
        const double front =
            ln_beta(p.alpha + x + 1, p.beta + n - x) - ln_beta(p.alpha, p.beta) - log_likelihood_of(p, x, t_x, n);
        v = std::exp(front) * alive_opportunities(p, n, n_star);
    } catch (...) {
        btyd_detail::rethrow_as_error("BG/BB expected transactions");
    }
    return btyd_detail::finite_result(v, "BG/BB expected transactions");
}

double bgbb_unconditional_expected(const BgbbModel& model, double n) {
    const Params p = checked_params(model);
    check_opportunities(n);
    double v;
    try {
        v = p.alpha / (p.alpha + p.beta) * alive_opportunities(p, 0, n);
    } catch (...) {
        btyd_detail::rethrow_as_error("BG/BB expected transactions");
    }
    return btyd_detail::finite_result(v, "BG/BB expected transactions");
}

double bgbb_probability(const BgbbModel& model, double x, double n) {
    const Params p = checked_params(model);
    check_opportunities(n);
    if (!(std::isfinite(x) && x >= 0 && x == std::floor(x) && x <= n))
        throw Error(ErrorKind::invalid_parameter_value,
                    "number of transactions must be an integer from 0 to the number of opportunities",
                    format("The values given were x = %g and n = %g.", x, n));
    double v;
    try {
        const double lbab = ln_beta(p.alpha, p.beta), lbgd = ln_beta(p.gamma, p.delta);
        auto ln_choose = [](double a, double b) { return ln_gamma(a + 1) - ln_gamma(b + 1) - ln_gamma(a - b + 1); };
        double lv =
            ln_choose(n, x) + ln_beta(p.alpha + x, p.beta + n - x) - lbab + ln_beta(p.gamma, p.delta + n) - lbgd;
        for (double i = x; i < n; i += 1)
            lv = btyd_detail::log_add_exp(lv, ln_choose(i, x) + ln_beta(p.alpha + x, p.beta + i - x) - lbab +
                                                  ln_beta(p.gamma + 1, p.delta + i) - lbgd);
        v = std::exp(lv);
    } catch (...) {
        btyd_detail::rethrow_as_error("BG/BB probability");
    }
    return btyd_detail::finite_result(std::min(1.0, v), "BG/BB probability");
}

std::array<double, 4> bgbb_standard_errors(const BgbbModel& model, const BgbbObservation* data, std::size_t n) {
    const Params p = checked_params(model);
    const std::vector<Pattern> d = compile(data, n, false);
    btyd_detail::LogLikelihood ll = btyd_detail::with_numeric_gradient([&](const std::vector<double>& th) {
        return total_log_likelihood(Params{std::exp(th[0]), std::exp(th[1]), std::exp(th[2]), std::exp(th[3])}, d,
                                    Interrupts{});
    });
    try {
        const auto se = btyd_detail::standard_errors(ll, {std::log(p.alpha), std::log(p.beta), std::log(p.gamma),
                                                          std::log(p.delta)});
        return {se[0], se[1], se[2], se[3]};
    } catch (...) {
        btyd_detail::rethrow_as_error("BG/BB standard errors");
    }
}

}  // namespace customer_analytics
