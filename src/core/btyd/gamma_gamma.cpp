// Gamma-Gamma spend model: likelihood, fit, conditional expected spend.
//
// With x transactions of mean value z (Fader & Hardie 2013, eq. 3):
//   log f(z | x) = lgamma(p x + q) - lgamma(p x) - lgamma(q) + q log gamma
//                  + p x log x + (p x - 1) log z - (p x + q) log(gamma + x z)
// (the density of the mean z itself, so the log-likelihood depends on the
// currency unit through the (p x - 1) log z and p x log x terms, as in the
// published figures).
// E[mean spend | x, z] = p (gamma + x z) / (p x + q - 1).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>
#include <vector>

#include "btyd.hpp"
#include "internal.hpp"
#include "sort.hpp"

#include "no_postgres.hpp"

namespace customer_analytics {

namespace {

using btyd_detail::format;
using btyd_detail::ln_gamma;
using btyd_detail::psi;

constexpr double kInf = std::numeric_limits<double>::infinity();

void check_params(const GammaGammaModel& m) {
    btyd_detail::check_model_parameter(m.p, "Gamma-Gamma", "p");
    btyd_detail::check_model_parameter(m.q, "Gamma-Gamma", "q");
    btyd_detail::check_model_parameter(m.gamma, "Gamma-Gamma", "gamma");
}

void check_observation(const GammaGammaObservation& o) {
    if (!(std::isfinite(o.x) && o.x >= 1 && o.x == std::floor(o.x)))
        throw Error(ErrorKind::invalid_parameter_value,
                    "number of transactions must be a positive integer for the Gamma-Gamma model",
                    format("The value given was x = %g.", o.x),
                    "Leave customers without repeat purchases out of the spend model.");
    if (!(std::isfinite(o.mean_spend) && o.mean_spend > 0))
        throw Error(ErrorKind::invalid_parameter_value,
                    "mean spend must be positive and finite for the Gamma-Gamma model",
                    format("The value given was %g.", o.mean_spend),
                    "Leave out or correct customers whose refunds make the mean spend zero or negative.");
    if (!(std::isfinite(o.weight) && o.weight >= 0))
        throw Error(ErrorKind::invalid_parameter_value, "observation weight must be finite and non-negative",
                    format("The value given was %g.", o.weight));
}

struct Row {
    std::uint32_t xi;
    double x, log_x, log_z, xz, w;
};

struct Compiled {
    std::vector<double> xs;
    std::vector<Row> rows;
    double total_weight = 0;
    double weighted_spend = 0;
};

Compiled compile(const GammaGammaObservation* data, std::size_t n, bool allow_empty,
                 const Interrupts& interrupts = Interrupts{}) {
    if (n > 0 && data == nullptr)
        throw Error(ErrorKind::invalid_parameter_value, "observation array is null");
    std::vector<GammaGammaObservation> obs;
    obs.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        check_observation(data[i]);
        if (data[i].weight > 0)
            obs.push_back(data[i]);
    }
    Compiled c;
    if (obs.empty()) {
        if (allow_empty)
            return c;
        throw Error(ErrorKind::data_exception, "no customers to fit", "Every observation is missing or has weight 0.");
    }
    sort_interruptible(
        obs.data(), obs.data() + obs.size(),
        [](const GammaGammaObservation& l, const GammaGammaObservation& r) {
            return std::tie(l.x, l.mean_spend) < std::tie(r.x, r.mean_spend);
        },
        interrupts);
    std::size_t m = 0;
    for (std::size_t i = 0; i < obs.size(); ++i) {
        if (m > 0 && obs[m - 1].x == obs[i].x && obs[m - 1].mean_spend == obs[i].mean_spend)
            obs[m - 1].weight += obs[i].weight;
        else
            obs[m++] = obs[i];
    }
    obs.resize(m);
    for (const auto& o : obs) {
        if (c.xs.empty() || c.xs.back() != o.x)
            c.xs.push_back(o.x);
        c.rows.push_back(Row{static_cast<std::uint32_t>(c.xs.size() - 1), o.x, std::log(o.x), std::log(o.mean_spend),
                             o.x * o.mean_spend, o.weight});
        c.total_weight += o.weight;
        c.weighted_spend += o.weight * o.mean_spend;
    }
    if (!std::isfinite(c.total_weight) || !std::isfinite(c.weighted_spend))
        throw Error(ErrorKind::numeric_value_out_of_range, "sum of observation weights or spends overflows");
    return c;
}

class Likelihood {
public:
    Likelihood(const Compiled& d, const Interrupts& interrupts)
        : d_(d), interrupts_(interrupts), lg_(d.xs.size()), dp_(d.xs.size()), dq_(d.xs.size()) {}

    double operator()(const std::vector<double>& theta, std::vector<double>* grad) {
        const double p = std::exp(theta[0]), q = std::exp(theta[1]), gamma = std::exp(theta[2]);
        const double log_gamma = theta[2];
        if (!(p > 0 && q > 0 && gamma > 0) || !std::isfinite(p + q + gamma))
            return -kInf;
        const bool g = grad != nullptr;
        const double lg_q = ln_gamma(q);
        const double ps_q = g ? psi(q) : 0;
        for (std::size_t k = 0; k < d_.xs.size(); ++k) {
            const double px = p * d_.xs[k];
            lg_[k] = ln_gamma(px + q) - ln_gamma(px);
            if (g) {
                const double ps_pxq = psi(px + q);
                dp_[k] = ps_pxq - psi(px);
                dq_[k] = ps_pxq;
            }
        }
        btyd_detail::CompensatedSum ll;
        double gp = 0, gq = 0, gg = 0;
        for (std::size_t i = 0; i < d_.rows.size(); ++i) {
            if ((i & 0xFFFF) == 0xFFFF)
                interrupts_.check();
            const Row& row = d_.rows[i];
            const double px = p * row.x;
            const double lgx = std::log(gamma + row.xz);
            ll.add(row.w *
                   (lg_[row.xi] - lg_q + q * log_gamma + px * row.log_x + (px - 1) * row.log_z - (px + q) * lgx));
            if (g) {
                gp += row.w * row.x * (dp_[row.xi] + row.log_x + row.log_z - lgx);
                gq += row.w * (dq_[row.xi] - ps_q + log_gamma - lgx);
                gg += row.w * (q / gamma - (px + q) / (gamma + row.xz));
            }
        }
        if (g) {
            grad->assign(3, 0.0);
            (*grad)[0] = gp * p;
            (*grad)[1] = gq * q;
            (*grad)[2] = gg * gamma;
        }
        const double total = ll.value();
        return std::isfinite(total) ? total : -kInf;
    }

private:
    const Compiled& d_;
    const Interrupts& interrupts_;
    std::vector<double> lg_, dp_, dq_;
};

}  // namespace

void validate_model(const GammaGammaModel& model) { check_params(model); }

GammaGammaModel fit_gamma_gamma(const GammaGammaObservation* data, std::size_t n, const BtydFitOptions& options) {
    btyd_detail::check_fit_options(options);
    const Compiled d = compile(data, n, false, options.interrupts);
    const double mean = d.weighted_spend / d.total_weight;
    Likelihood lik(d, options.interrupts);
    btyd_detail::LogLikelihood ll = [&lik](const std::vector<double>& th, std::vector<double>* g) {
        return lik(th, g);
    };
    // Starting points with population mean p gamma / (q - 1) equal to the data mean.
    const std::vector<std::vector<double>> starts = {
        {0.0, std::log(2.0), std::log(mean)},
        {std::log(5.0), std::log(3.0), std::log(0.4 * mean)},
        {std::log(0.5), std::log(5.0), std::log(8.0 * mean)},
    };
    const auto res = btyd_detail::minimize(btyd_detail::penalized_objective(ll, d.total_weight, options.l2_penalty),
                                           starts, options, 2, d.total_weight, false);
    GammaGammaModel m;
    m.p = std::exp(res.theta[0]);
    m.q = std::exp(res.theta[1]);
    m.gamma = std::exp(res.theta[2]);
    m.log_likelihood = lik(res.theta, nullptr);
    m.customers = d.total_weight;
    m.converged = res.converged;
    m.iterations = res.iterations;
    if (m.converged)
        m.covariance = btyd_detail::parameter_covariance(ll, res.theta);
    if (!std::isfinite(m.log_likelihood))
        throw Error(ErrorKind::numeric_value_out_of_range, "could not fit the Gamma-Gamma model",
                    "The likelihood is not finite at the estimate.");
    return m;
}

double gamma_gamma_log_likelihood(const GammaGammaModel& model, const GammaGammaObservation* data, std::size_t n) {
    check_params(model);
    const Compiled d = compile(data, n, true);
    if (d.rows.empty())
        return 0.0;
    Interrupts none;
    Likelihood lik(d, none);
    const double v = lik({std::log(model.p), std::log(model.q), std::log(model.gamma)}, nullptr);
    if (!std::isfinite(v))
        throw Error(ErrorKind::numeric_value_out_of_range, "log-likelihood of the Gamma-Gamma model is not finite");
    return v;
}

double gamma_gamma_expected_spend(const GammaGammaModel& model, double x, double mean_spend) {
    check_params(model);
    if (!(std::isfinite(x) && x >= 0 && x == std::floor(x)))
        throw Error(ErrorKind::invalid_parameter_value, "number of transactions must be a non-negative integer",
                    format("The value given was x = %g.", x));
    if (x > 0 && !(std::isfinite(mean_spend) && mean_spend > 0))
        throw Error(ErrorKind::invalid_parameter_value,
                    "mean spend must be positive and finite for the Gamma-Gamma model",
                    format("The value given was %g.", mean_spend),
                    "The spend model does not apply to a zero or negative mean spend (after refunds, say).");
    const double denom = model.p * x + model.q - 1;
    if (!(denom > 0))
        throw Error(ErrorKind::numeric_value_out_of_range, "expected spend is infinite under the Gamma-Gamma model",
                    format("The denominator p x + q - 1 is %g, not positive.", denom));
    const double v = model.p * (model.gamma + (x > 0 ? x * mean_spend : 0.0)) / denom;
    if (!std::isfinite(v))
        throw Error(ErrorKind::numeric_value_out_of_range, "expected spend overflows");
    return v;
}

std::array<double, 3> gamma_gamma_standard_errors(const GammaGammaModel& model, const GammaGammaObservation* data,
                                                  std::size_t n) {
    check_params(model);
    const Compiled d = compile(data, n, false);
    Interrupts none;
    Likelihood lik(d, none);
    btyd_detail::LogLikelihood ll = [&lik](const std::vector<double>& th, std::vector<double>* g) {
        return lik(th, g);
    };
    try {
        const auto se = btyd_detail::standard_errors(ll, {std::log(model.p), std::log(model.q), std::log(model.gamma)});
        return {se[0], se[1], se[2]};
    } catch (...) {
        btyd_detail::rethrow_as_error("Gamma-Gamma standard errors");
    }
}

}  // namespace customer_analytics
