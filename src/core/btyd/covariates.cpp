// BG/NBD and Pareto/NBD with time-invariant covariates (btyd.hpp): the
// per-customer likelihoods of bgnbd.cpp and pareto_nbd.cpp with individual
// scale parameters, fitted jointly with the coefficients.
//
// The gradient is analytic: each row's log-likelihood has a gradient in its
// own log-parameters (log r, log alpha_i, log a|s, log b_i|beta_i), and
// d log alpha_i / d gamma_purchase = -z, d log b_i (beta_i) / d gamma_dropout
// = -z. Rows are the customers as given (with continuous covariates they
// are distinct anyway), their log-gamma terms through Boost's lgamma and
// digamma.
#include <algorithm>
#include <cmath>
#include <limits>
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

const char* family_name(BtydCovariateFamily f) { return f == BtydCovariateFamily::bgnbd ? "BG/NBD" : "Pareto/NBD"; }

// log L of one BG/NBD customer and its gradient in (log r, log alpha, log a, log b).
double bgnbd_row(double r, double alpha, double a, double b, double x, double t_x, double T, double* g) {
    const double c =
        ln_gamma(r + x) - ln_gamma(r) + ln_gamma(b + x) - ln_gamma(b) - ln_gamma(a + b + x) + ln_gamma(a + b);
    const double l1T = std::log1p(T / alpha), l1t = std::log1p(t_x / alpha);
    const double A3 = -r * l1T - x * std::log(alpha + T);
    const double dab = psi(a + b + x) - psi(a + b);
    double gr = psi(r + x) - psi(r), ga = -dab, gb = psi(b + x) - psi(b) - dab;
    double v, gal;
    if (x == 0) {
        v = A3;
        gr -= l1T;
        gal = r * T / (alpha + T);
    } else {
        const double A4 = std::log(a) - std::log(b + x - 1) - r * l1t - x * std::log(alpha + t_x);
        v = btyd_detail::log_add_exp(A3, A4);
        const double w4 = std::exp(A4 - v), w3 = 1 - w4;
        gr -= w3 * l1T + w4 * l1t;
        gal = w3 * (r * T - x * alpha) / (alpha + T) + w4 * (r * t_x - x * alpha) / (alpha + t_x);
        ga += w4 / a;
        gb -= w4 / (b + x - 1);
    }
    g[0] = gr * r;
    g[1] = gal;
    g[2] = ga * a;
    g[3] = gb * b;
    return c + v;
}

// log L of one Pareto/NBD customer and its gradient in (log r, log alpha,
// log s, log beta): the row of pareto_nbd.cpp's likelihood.
double pareto_row(double r, double alpha, double s, double beta, double x, double t_x, double T, double* g) {
    const double a = r + x;
    const double l1a = std::log1p(T / alpha), l1b = std::log1p(T / beta);
    const double L1 = -a * l1a - s * l1b;
    double v = L1, w2 = 0;
    btyd_detail::PowerIntegral I;
    if (t_x < T) {
        I = btyd_detail::power_integral(a, alpha, s + 1, beta, t_x, T, true);
        const double L2 = std::log(s) - std::log(beta) + I.log_value;
        v = btyd_detail::log_add_exp(L1, L2);
        w2 = std::exp(L2 - v);
    }
    const double w1 = 1 - w2;
    g[0] = r * (psi(r + x) - psi(r) - w1 * l1a - w2 * I.mean_log_a);
    g[1] = -x + a * (w1 * T / (alpha + T) + w2 * I.mean_frac_a);
    g[2] = -w1 * s * l1b + w2 * (1 - s * I.mean_log_b);
    g[3] = w1 * s * T / (beta + T) + w2 * ((s + 1) * I.mean_frac_b - 1);
    return ln_gamma(r + x) - ln_gamma(r) - x * std::log(alpha) + v;
}

struct Data {
    const BtydObservation* rows;
    const double* z;
    std::size_t n;
    int k;
};

void check_data(const Data& d) {
    if (d.k < 1 || d.k > kBtydMaxCovariates)
        throw Error(ErrorKind::invalid_parameter_value,
                    format("number of covariates must be between 1 and %d", kBtydMaxCovariates),
                    format("The value given was %d.", d.k));
    if (d.n > 0 && (d.rows == nullptr || d.z == nullptr))
        throw Error(ErrorKind::invalid_parameter_value, "observation array is null");
    for (std::size_t i = 0; i < d.n; ++i) {
        btyd_validate(d.rows[i]);
        for (int j = 0; j < d.k; ++j)
            if (!std::isfinite(d.z[i * d.k + j]))
                throw Error(ErrorKind::invalid_parameter_value, "covariates must be finite",
                            format("Covariate %d of a customer is %g.", j + 1, d.z[i * d.k + j]));
    }
}

// theta = (log r, log alpha, log a|s, log b|beta, gamma_purchase[k], gamma_dropout[k]).
double log_likelihood(BtydCovariateFamily family, const Data& d, const std::vector<double>& theta,
                      std::vector<double>* grad, const Interrupts& interrupts) {
    const int k = d.k;
    if (grad != nullptr)
        grad->assign(theta.size(), 0.0);
    const double r = std::exp(theta[0]), p2 = std::exp(theta[2]);
    btyd_detail::CompensatedSum ll;
    double g[4];
    for (std::size_t i = 0; i < d.n; ++i) {
        if ((i & 0x3FF) == 0x3FF)
            interrupts.check();
        const BtydObservation& o = d.rows[i];
        if (!(o.weight > 0))
            continue;
        const double* z = d.z + i * k;
        double zp = 0, zd = 0;
        for (int j = 0; j < k; ++j) {
            zp += theta[4 + j] * z[j];
            zd += theta[4 + k + j] * z[j];
        }
        const double alpha = std::exp(theta[1] - zp), p4 = std::exp(theta[3] - zd);
        if (!(alpha > 0 && p4 > 0 && std::isfinite(alpha) && std::isfinite(p4)))
            return -kInf;
        const double v = family == BtydCovariateFamily::bgnbd ? bgnbd_row(r, alpha, p2, p4, o.x, o.t_x, o.T, g)
                                                              : pareto_row(r, alpha, p2, p4, o.x, o.t_x, o.T, g);
        ll.add(o.weight * v);
        if (grad != nullptr) {
            for (int j = 0; j < 4; ++j)
                (*grad)[j] += o.weight * g[j];
            for (int j = 0; j < k; ++j) {
                (*grad)[4 + j] -= o.weight * g[1] * z[j];
                (*grad)[4 + k + j] -= o.weight * g[3] * z[j];
            }
        }
    }
    const double v = ll.value();
    return std::isfinite(v) ? v : -kInf;
}

std::vector<double> theta_of(const BtydCovariateModel& m, int k) {
    if (static_cast<int>(m.gamma_purchase.size()) != k || static_cast<int>(m.gamma_dropout.size()) != k)
        throw Error(ErrorKind::invalid_parameter_value,
                    "the model and the customer have different numbers of covariates",
                    format("The model has %zu covariates, the customer %d.", m.gamma_purchase.size(), k));
    std::vector<double> theta = {std::log(m.r), std::log(m.alpha), std::log(m.a_or_s), std::log(m.b_or_beta)};
    theta.insert(theta.end(), m.gamma_purchase.begin(), m.gamma_purchase.end());
    theta.insert(theta.end(), m.gamma_dropout.begin(), m.gamma_dropout.end());
    return theta;
}

void check_model(BtydCovariateFamily family, const BtydCovariateModel& m) {
    const char* name = family_name(family);
    const bool bg = family == BtydCovariateFamily::bgnbd;
    btyd_detail::check_model_parameter(m.r, name, "r");
    btyd_detail::check_model_parameter(m.alpha, name, "alpha");
    btyd_detail::check_model_parameter(m.a_or_s, name, bg ? "a" : "s");
    btyd_detail::check_model_parameter(m.b_or_beta, name, bg ? "b" : "beta");
    for (double v : m.gamma_purchase)
        if (!std::isfinite(v))
            throw Error(ErrorKind::invalid_parameter_value, format("invalid %s coefficient", name),
                        "Every covariate coefficient must be finite.");
    for (double v : m.gamma_dropout)
        if (!std::isfinite(v))
            throw Error(ErrorKind::invalid_parameter_value, format("invalid %s coefficient", name),
                        "Every covariate coefficient must be finite.");
}

// (alpha_i, b_i or beta_i) of a customer.
std::pair<double, double> individual_scales(const BtydCovariateModel& m, const double* z, int k) {
    if (k < 1 || k > kBtydMaxCovariates)
        throw Error(ErrorKind::invalid_parameter_value,
                    format("number of covariates must be between 1 and %d", kBtydMaxCovariates),
                    format("The value given was %d.", k));
    theta_of(m, k);  // checks the count
    double zp = 0, zd = 0;
    for (int j = 0; j < k; ++j) {
        if (!std::isfinite(z[j]))
            throw Error(ErrorKind::invalid_parameter_value, "covariates must be finite",
                        format("Covariate %d is %g.", j + 1, z[j]));
        zp += m.gamma_purchase[j] * z[j];
        zd += m.gamma_dropout[j] * z[j];
    }
    const double alpha = m.alpha * std::exp(-zp), scale = m.b_or_beta * std::exp(-zd);
    if (!(std::isfinite(alpha) && alpha > 0 && std::isfinite(scale) && scale > 0))
        throw Error(ErrorKind::numeric_value_out_of_range, "the customer's model is out of range",
                    "The covariates scale alpha, b or beta beyond double precision.");
    return {alpha, scale};
}

}  // namespace

BtydCovariateModel fit_btyd_covariates(BtydCovariateFamily family, const BtydObservation* data, const double* z,
                                       std::size_t n, int k, const BtydFitOptions& options) {
    btyd_detail::check_fit_options(options);
    const Data d{data, z, n, k};
    check_data(d);
    const char* name = family_name(family);
    double total = 0, wx = 0, wT = 0;
    std::vector<double> mean(k, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        total += data[i].weight;
        wx += data[i].weight * data[i].x;
        wT += data[i].weight * data[i].T;
        for (int j = 0; j < k; ++j)
            mean[j] += data[i].weight * z[i * k + j];
    }
    if (!(total > 0))
        throw Error(ErrorKind::data_exception, "no customers to fit", "Every observation is missing or has weight 0.");
    if (!(wx > 0))
        throw Error(ErrorKind::data_exception,
                    format("cannot fit the %s model: no customer has a repeat purchase", name));
    if (!(wT > 0))
        throw Error(ErrorKind::data_exception, format("cannot fit the %s model: every customer has age 0", name));
    for (int j = 0; j < k; ++j) {
        mean[j] /= total;
        bool varies = false;
        for (std::size_t i = 0; i < n && !varies; ++i)
            varies = data[i].weight > 0 && z[i * k + j] != mean[j] &&
                     std::fabs(z[i * k + j] - mean[j]) > 1e-12 * std::fabs(mean[j]);
        if (!varies)
            throw Error(ErrorKind::data_exception, format("covariate %d is the same for every customer", j + 1),
                        "Its coefficient cannot be told apart from alpha and beta.",
                        "Leave out covariates that do not vary.");
    }
    const double rate = wx / wT, mean_T = wT / total;
    const Interrupts& interrupts = options.interrupts;
    btyd_detail::LogLikelihood ll = [&](const std::vector<double>& th, std::vector<double>* g) {
        return log_likelihood(family, d, th, g, interrupts);
    };
    // The fit without covariates starts them at 0, as the reference customer.
    std::vector<std::vector<double>> starts;
    for (double f : {1.0, 0.5, 2.0}) {
        std::vector<double> s =
            family == BtydCovariateFamily::bgnbd
                ? std::vector<double>{std::log(f), std::log(f / rate), std::log(f), std::log(f + 1)}
                : std::vector<double>{std::log(f), std::log(f / rate), std::log(f), std::log(f * mean_T)};
        s.resize(4 + 2 * k, 0.0);
        starts.push_back(s);
    }
    const auto res = btyd_detail::minimize(btyd_detail::penalized_objective(ll, total, options.l2_penalty), starts,
                                           options, family == BtydCovariateFamily::bgnbd ? 2 : 1, total, false);
    BtydCovariateModel m;
    m.r = std::exp(res.theta[0]);
    m.alpha = std::exp(res.theta[1]);
    m.a_or_s = std::exp(res.theta[2]);
    m.b_or_beta = std::exp(res.theta[3]);
    m.gamma_purchase.assign(res.theta.begin() + 4, res.theta.begin() + 4 + k);
    m.gamma_dropout.assign(res.theta.begin() + 4 + k, res.theta.end());
    m.log_likelihood = log_likelihood(family, d, res.theta, nullptr, Interrupts{});
    m.customers = total;
    m.converged = res.converged;
    m.iterations = res.iterations;
    if (m.converged)
        m.covariance = btyd_detail::covariance(ll, res.theta);
    if (!std::isfinite(m.log_likelihood))
        throw Error(ErrorKind::numeric_value_out_of_range, format("could not fit the %s model", name),
                    "The likelihood is not finite at the estimate.");
    return m;
}

double btyd_covariates_log_likelihood(BtydCovariateFamily family, const BtydCovariateModel& model,
                                      const BtydObservation* data, const double* z, std::size_t n, int k) {
    check_model(family, model);
    const Data d{data, z, n, k};
    check_data(d);
    double v;
    try {
        v = log_likelihood(family, d, theta_of(model, k), nullptr, Interrupts{});
    } catch (...) {
        btyd_detail::rethrow_as_error("log-likelihood with covariates");
    }
    if (!std::isfinite(v))
        throw Error(ErrorKind::numeric_value_out_of_range, "log-likelihood with covariates is not finite");
    return v;
}

BgnbdModel bgnbd_covariate_model(const BtydCovariateModel& model, const double* z, int k) {
    check_model(BtydCovariateFamily::bgnbd, model);
    const auto [alpha, b] = individual_scales(model, z, k);
    return BgnbdModel{model.r, alpha, model.a_or_s, b};
}

ParetoNbdModel pareto_nbd_covariate_model(const BtydCovariateModel& model, const double* z, int k) {
    check_model(BtydCovariateFamily::pareto_nbd, model);
    const auto [alpha, beta] = individual_scales(model, z, k);
    return ParetoNbdModel{model.r, alpha, model.a_or_s, beta};
}

std::vector<double> btyd_covariates_standard_errors(BtydCovariateFamily family, const BtydCovariateModel& model,
                                                    const BtydObservation* data, const double* z, std::size_t n,
                                                    int k) {
    check_model(family, model);
    const Data d{data, z, n, k};
    check_data(d);
    btyd_detail::LogLikelihood ll = [&](const std::vector<double>& th, std::vector<double>* g) {
        return log_likelihood(family, d, th, g, Interrupts{});
    };
    try {
        return btyd_detail::standard_errors(ll, theta_of(model, k), 4);
    } catch (...) {
        btyd_detail::rethrow_as_error("standard errors with covariates");
    }
}

}  // namespace customer_analytics
