// Shared machinery of the Buy-Till-You-Die models: input validation, the
// (x, t_x, T) helper, the Gauss hypergeometric function wrapper, compiled
// triples and the CLV sum (the optimizer is optimizer.cpp).
#include <boost/math/quadrature/gauss.hpp>
#include <boost/math/special_functions/digamma.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <boost/math/special_functions/hypergeometric_pFq.hpp>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <limits>
#include <new>
#include <random>
#include <tuple>

#include "btyd.hpp"
#include "internal.hpp"
#include "sort.hpp"

#include "no_postgres.hpp"

namespace customer_analytics {
namespace btyd_detail {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Series terms allowed for one hypergeometric evaluation (~0.5 ms; Boost's
// own cap is 1e6). Real fits need a few dozen; only |z| within ~1e-3 of 1
// with near-equal upper and lower parameters (far out on flat likelihood
// ridges), or horizons beyond ~10^3 (alpha + T), need more: the fit then
// treats the point as infeasible, predictions report
// numeric_value_out_of_range.
constexpr double kMaxSeriesTerms = 50000.0;

// Rough upper estimate of the number of terms a pFq series (p = q + 1)
// needs: its terms behave like k^e |z|^k with e = sum(a) - sum(b) - 1; find
// k past the peak where they have dropped by e^-40, plus sum |a| for a
// growth phase before the asymptotic regime.
double estimated_series_terms(std::initializer_list<double> a, std::initializer_list<double> b, double z) {
    const double L = -std::log(std::fabs(z));
    if (!(L > 0))
        return kInf;
    double e = -1, size = 0;
    for (double v : a)
        e += v, size += std::fabs(v);
    for (double v : b)
        e -= v;
    if (e <= 0)
        return 40.0 / L + size;
    const double k0 = std::max(e / L, 1.0);
    double k = k0 + 40.0 / L;
    for (int i = 0; i < 8; ++i)
        k = k0 + (40.0 + e * std::log(k / k0)) / L;
    return k + size;
}

// log |k-th term| of the pFq series, through log-gamma Pochhammer symbols.
double log_term(std::initializer_list<double> a, std::initializer_list<double> b, double z, double k) {
    double v = k * std::log(std::fabs(z)) - ln_gamma(k + 1);
    for (double ai : a)
        v += ln_gamma(ai + k) - ln_gamma(ai);
    for (double bj : b)
        v -= ln_gamma(bj + k) - ln_gamma(bj);
    return v;
}

// Exact check, for when the rough estimate is over the limit: are the terms
// at k = limit decreasing and e^-40 below the largest term sampled on a
// geometric grid (the terms are unimodal, so the sampled maximum is a lower
// bound of the peak and the check errs on the safe side)?
bool converges_within(std::initializer_list<double> a, std::initializer_list<double> b, double z, double limit) {
    for (double ai : a)
        if (ai <= 0 && ai == std::floor(ai))
            return -ai <= limit;  // terminating polynomial
    for (double bj : b)
        if (bj <= 0 && bj == std::floor(bj))
            return false;  // undefined series
    try {
        double peak = 0;  // the term k = 0 is 1
        for (double k = 1; k < limit; k *= 2)
            peak = std::max(peak, log_term(a, b, z, k));
        const double at = log_term(a, b, z, limit);
        return at < peak - 40 && log_term(a, b, z, limit + 1) < at;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception&) {
        return false;
    }
}

std::string describe(std::initializer_list<double> a, std::initializer_list<double> b, double z) {
    std::string out = format("%zuF%zu(", a.size(), b.size());
    const char* sep = "";
    for (double v : a)
        out += format("%s%g", sep, v), sep = ", ";
    sep = "; ";
    for (double v : b)
        out += format("%s%g", sep, v), sep = ", ";
    return out + format("; %g)", z);
}

}  // namespace

std::string format(const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return std::string(buf);
}

double ln_gamma(double v) { return boost::math::lgamma(v, BoostPolicy()); }

double psi(double v) { return boost::math::digamma(v, BoostPolicy()); }

double log_add_exp(double a, double b) {
    if (a == -kInf)
        return b;
    if (b == -kInf)
        return a;
    const double m = std::max(a, b);
    return m + std::log1p(std::exp(-std::fabs(a - b)));
}

double log_sub_exp(double a, double b) {
    if (!(a > b))
        return -kInf;
    if (b == -kInf)
        return a;
    return a + std::log(-std::expm1(b - a));
}

void check_model_parameter(double v, const char* model, const char* name) {
    if (!(std::isfinite(v) && v > 0))
        throw Error(ErrorKind::invalid_parameter_value, format("invalid %s parameter %s", model, name),
                    format("The parameter %s must be positive and finite; the value given was %g.", name, v));
}

void check_horizon(double t, const char* name) {
    if (!(std::isfinite(t) && t >= 0))
        throw Error(ErrorKind::invalid_parameter_value, format("%s must be finite and non-negative", name),
                    format("The value given was %g.", t));
}

void check_customer(double x, double t_x, double T) {
    BtydObservation o;
    o.x = x;
    o.t_x = t_x;
    o.T = T;
    btyd_validate(o);
}

double hypergeometric(std::initializer_list<double> a, std::initializer_list<double> b, double z) {
    bool finite = std::isfinite(z);
    for (double v : a)
        finite = finite && std::isfinite(v);
    for (double v : b)
        finite = finite && std::isfinite(v);
    if (!finite || a.size() != b.size() + 1)
        throw Error(ErrorKind::numeric_value_out_of_range, "hypergeometric function is undefined for these arguments",
                    format("The series %s has an argument that is not a finite number.", describe(a, b, z).c_str()),
                    "Check the model parameters and the horizon.");
    if (!(std::fabs(z) < 1))  // e.g. t / (alpha + T + t) rounding to 1 for an astronomically long horizon
        throw Error(ErrorKind::numeric_value_out_of_range, "hypergeometric series does not converge",
                    format("The series %s does not converge.", describe(a, b, z).c_str()),
                    "Use a shorter horizon, or check the model parameters.");
    if (z == 0)
        return 1.0;
    if (estimated_series_terms(a, b, z) > kMaxSeriesTerms && !converges_within(a, b, z, kMaxSeriesTerms))
        throw Error(ErrorKind::numeric_value_out_of_range, "hypergeometric series converges too slowly",
                    format("The series %s needs more than %.0f terms.", describe(a, b, z).c_str(), kMaxSeriesTerms),
                    "Use a shorter horizon, or check the model parameters.");
    double err = 0;
    double v;
    try {
        v = boost::math::hypergeometric_pFq(a, b, z, &err, BoostPolicy());
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(ErrorKind::numeric_value_out_of_range, "hypergeometric function evaluation failed",
                    format("The series %s failed: %s.", describe(a, b, z).c_str(), e.what()));
    }
    if (!std::isfinite(v) || !(err <= 1e-8 * std::fabs(v)))
        throw Error(ErrorKind::numeric_value_out_of_range, "hypergeometric function evaluation failed",
                    format("The series %s gave %g with an error estimate of %g.", describe(a, b, z).c_str(), v, err));
    return v;
}

double hyp2f1(double a, double b, double c, double z) { return hypergeometric({a, b}, {c}, z); }

namespace {

// Panels of power_integral: each spans at most this drop of the log
// integrand (its slope times its width) and at most 2 in u, well inside the
// strip |Im u| < pi where the integrand is analytic; the integrand is cut
// where it has fallen e^-40 (~4e-18) below its peak. With 10-point
// Gauss-Legendre per panel this gives ~1e-14 relative accuracy.
constexpr double kPanelDrop = 8.0;
constexpr double kPanelWidth = 2.0;
constexpr double kIntegrandDrop = 40.0;
constexpr int kMaxPanels = 256;
using PanelRule = boost::math::quadrature::gauss<double, 10>;

}  // namespace

PowerIntegral power_integral(double a, double alpha, double b, double beta, double t0, double t1, bool moments) {
    if (!(std::isfinite(a) && std::isfinite(b) && a >= 0 && b >= 0 && alpha > 0 && beta > 0 && std::isfinite(alpha) &&
          std::isfinite(beta) && t0 >= 0 && std::isfinite(t1) && t1 >= t0))
        throw Error(ErrorKind::numeric_value_out_of_range, "dropout integral is undefined for these arguments",
                    format("The integral of (1 + t/%g)^-%g (1 + t/%g)^-%g from %g to %g is outside the model's domain.",
                           alpha, a, beta, b, t0, t1),
                    "Check the model parameters.");
    PowerIntegral out;
    if (t1 == t0)
        return out;
    // The factor with the smaller scale becomes an exact exponential in u.
    const bool swapped = alpha > beta;
    if (swapped) {
        std::swap(a, b);
        std::swap(alpha, beta);
    }
    const double c0 = alpha + t0, d0 = beta + t0;
    const double l0 = std::log1p(t0 / alpha), m0 = std::log1p(t0 / beta);
    const double width = std::log1p((t1 - t0) / c0);
    auto tau = [&](double u) { return t0 + c0 * std::expm1(u); };
    // log1p(tau/beta) - log1p(t0/beta), without cancellation.
    auto lb = [&](double u) { return std::log1p(c0 * std::expm1(u) / d0); };
    // phi(u) = log of the integrand times the Jacobian alpha + tau, relative to
    // its value at u = 0 (no cancellation even when a or b is huge).
    auto phi = [&](double u) { return (1 - a) * u - b * lb(u); };
    auto slope = [&](double u) {
        const double t = tau(u);
        return 1 - a - b * ((alpha + t) / (beta + t));
    };
    // phi is concave: its peak is an end or where (alpha + tau) / (beta + tau) = (1 - a) / b.
    double mode;
    if (slope(0) <= 0) {
        mode = 0;
    } else if (slope(width) >= 0) {
        mode = width;
    } else {
        const double q = (1 - a) / b;
        mode = std::min(width, std::max(0.0, std::log((alpha + (q * beta - alpha) / (1 - q)) / c0)));
    }
    const double peak = phi(mode);
    const double target = peak - kIntegrandDrop;
    // The crossing of target between the mode and an end where phi is below
    // it. phi is concave, so a Newton step from the mode side lands beyond
    // the crossing, and steps from beyond stay beyond and approach it; stop
    // within 1 of it. When the mode is an end with a nonzero slope the first
    // step is from the mode (exact for the huge, nearly constant slopes of
    // extreme parameters, where a step from the far end would lose the
    // crossing to rounding); otherwise from the end.
    auto cut = [&](double end) {
        // Signs compared, not multiplied: the distances may be 1e-299.
        const bool rightwards = end > mode;
        const double from_mode = slope(mode);
        double u = from_mode != 0 && (from_mode < 0) == rightwards ? mode : end;
        for (int i = 0; i < 100; ++i) {
            const double f = phi(u) - target;
            if (f <= 0 && f >= -1)
                break;
            double next = u - f / slope(u);
            if (!std::isfinite(next))
                break;
            if (rightwards ? next <= mode : next >= mode)
                next = mode;
            if (rightwards ? next > end : next < end)
                next = end;
            if (next == u)
                break;
            u = next;
        }
        return u;
    };
    const double left = mode > 0 && phi(0) < target ? cut(0) : 0.0;
    const double right = mode < width && phi(width) < target ? cut(width) : width;
    const double span = right - left;
    const double steepest = std::max(std::fabs(slope(left)), std::fabs(slope(right)));
    const int panels = static_cast<int>(
        std::min<double>(kMaxPanels,
                         std::max(1.0, std::ceil(std::max(steepest * span / kPanelDrop, span / kPanelWidth)))));
    const double h = span / panels;
    const auto& nodes = PanelRule::abscissa();
    const auto& weights = PanelRule::weights();
    double sum = 0, s_la = 0, s_fa = 0, s_lb = 0, s_fb = 0;
    for (int k = 0; k < panels; ++k) {
        const double mid = left + (k + 0.5) * h;
        for (std::size_t j = 0; j < nodes.size(); ++j) {
            for (int side = -1; side <= 1; side += 2) {
                const double u = mid + side * nodes[j] * (h / 2);
                const double lbu = lb(u);
                const double e = weights[j] * std::exp((1 - a) * u - b * lbu - peak);
                sum += e;
                if (moments) {
                    const double t = tau(u);
                    s_la += e * (u + l0);
                    s_fa += e * (t / (alpha + t));
                    s_lb += e * (lbu + m0);
                    s_fb += e * (t / (beta + t));
                }
            }
        }
    }
    out.log_value = std::log(c0) - a * l0 - b * m0 + peak + std::log(sum * (h / 2));
    if (moments) {
        out.mean_log_a = s_la / sum;
        out.mean_frac_a = s_fa / sum;
        out.mean_log_b = s_lb / sum;
        out.mean_frac_b = s_fb / sum;
        if (swapped) {
            std::swap(out.mean_log_a, out.mean_log_b);
            std::swap(out.mean_frac_a, out.mean_frac_b);
        }
    }
    if (!std::isfinite(out.log_value))
        throw Error(ErrorKind::numeric_value_out_of_range, "dropout integral is out of range",
                    format("The integral of (1 + t/%g)^-%g (1 + t/%g)^-%g from %g to %g is not a finite number.",
                           swapped ? beta : alpha, swapped ? b : a, swapped ? alpha : beta, swapped ? a : b, t0, t1));
    return out;
}

namespace {
constexpr double kMaxCumulativeX = 100000;
}  // namespace

void log_pochhammer(double v, const std::vector<double>& xs, std::vector<double>& out) {
    out.resize(xs.size());
    if (!xs.empty() && xs.back() > kMaxCumulativeX) {
        const double lg = ln_gamma(v);
        for (std::size_t k = 0; k < xs.size(); ++k)
            out[k] = xs[k] == 0 ? 0.0 : ln_gamma(v + xs[k]) - lg;
        return;
    }
    CompensatedSum acc;
    double i = 0;
    for (std::size_t k = 0; k < xs.size(); ++k) {
        for (; i < xs[k]; i += 1)
            acc.add(std::log(v + i));
        out[k] = acc.value();
    }
}

void digamma_difference(double v, const std::vector<double>& xs, std::vector<double>& out) {
    out.resize(xs.size());
    if (!xs.empty() && xs.back() > kMaxCumulativeX) {
        const double ps = psi(v);
        for (std::size_t k = 0; k < xs.size(); ++k)
            out[k] = xs[k] == 0 ? 0.0 : psi(v + xs[k]) - ps;
        return;
    }
    CompensatedSum acc;
    double i = 0;
    for (std::size_t k = 0; k < xs.size(); ++k) {
        for (; i < xs[k]; i += 1)
            acc.add(1.0 / (v + i));
        out[k] = acc.value();
    }
}

CompiledTriples compile_triples(const BtydObservation* data, std::size_t n, bool allow_empty,
                                const Interrupts& interrupts) {
    if (n > 0 && data == nullptr)
        throw Error(ErrorKind::invalid_parameter_value, "observation array is null");
    std::vector<BtydObservation> obs;
    obs.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        btyd_validate(data[i]);
        if (data[i].weight > 0)
            obs.push_back(data[i]);
    }
    if (obs.empty() && allow_empty)
        return CompiledTriples{};
    if (obs.empty())
        throw Error(ErrorKind::data_exception, "no customers to fit", "Every observation is missing or has weight 0.");
    sort_interruptible(
        obs.data(), obs.data() + obs.size(),
        [](const BtydObservation& l, const BtydObservation& r) {
            return std::tie(l.x, l.t_x, l.T) < std::tie(r.x, r.t_x, r.T);
        },
        interrupts);
    // Merge duplicates in place.
    std::size_t m = 0;
    for (std::size_t i = 0; i < obs.size(); ++i) {
        if (m > 0 && obs[m - 1].x == obs[i].x && obs[m - 1].t_x == obs[i].t_x && obs[m - 1].T == obs[i].T)
            obs[m - 1].weight += obs[i].weight;
        else
            obs[m++] = obs[i];
    }
    obs.resize(m);
    if (m > std::numeric_limits<std::uint32_t>::max() / 2)
        throw Error(ErrorKind::program_limit_exceeded, "too many distinct observations",
                    format("There are %zu distinct (x, t_x, T) triples.", m));

    CompiledTriples c;
    c.times.reserve(2 * m);
    for (const auto& o : obs) {
        if (c.xs.empty() || c.xs.back() != o.x)
            c.xs.push_back(o.x);
        c.times.push_back(o.t_x);
        c.times.push_back(o.T);
    }
    sort_interruptible(c.times.data(), c.times.data() + c.times.size(), std::less<double>(), interrupts);
    c.times.erase(std::unique(c.times.begin(), c.times.end()), c.times.end());
    c.times.shrink_to_fit();

    c.rows.reserve(m);
    std::uint32_t xi = 0;
    for (const auto& o : obs) {
        while (c.xs[xi] != o.x)
            ++xi;
        const auto txi = std::lower_bound(c.times.begin(), c.times.end(), o.t_x) - c.times.begin();
        const auto Ti = std::lower_bound(c.times.begin(), c.times.end(), o.T) - c.times.begin();
        c.rows.push_back(TripleRow{xi, static_cast<std::uint32_t>(txi), static_cast<std::uint32_t>(Ti), o.weight});
        c.total_weight += o.weight;
        c.weighted_x += o.weight * o.x;
        c.weighted_T += o.weight * o.T;
    }
    if (!std::isfinite(c.total_weight) || !std::isfinite(c.weighted_x) || !std::isfinite(c.weighted_T))
        throw Error(ErrorKind::numeric_value_out_of_range, "sum of observation weights overflows");
    return c;
}

double clv_alive_sum(const std::function<double(double)>& alive_expected, int periods, double discount_rate,
                     double period_length, double rate_bound, const Interrupts& interrupts) {
    if (discount_rate == 0)
        return alive_expected(periods * period_length);
    double prev = 0, total = 0, discount = 1;
    const double remainder_factor = rate_bound * period_length / discount_rate;
    for (int k = 1; k <= periods; ++k) {
        interrupts.check();
        const double cur = alive_expected(k * period_length);
        discount /= 1 + discount_rate;
        total += std::max(cur - prev, 0.0) * discount;
        prev = std::max(prev, cur);
        // What the periods after k can still add.
        if (remainder_factor * discount <= 1e-16 * total)
            break;
    }
    return total;
}

ParameterCovariance parameter_covariance(const LogLikelihood& ll, const std::vector<double>& theta) {
    ParameterCovariance out;
    const std::size_t d = theta.size();
    if (d * d > out.values.size())
        return out;
    const std::vector<double> cov = covariance(ll, theta);
    if (cov.size() != d * d)
        return out;
    std::copy(cov.begin(), cov.end(), out.values.begin());
    out.d = static_cast<int>(d);
    return out;
}

ClvInterval clv_interval(const double* estimate, const ParameterCovariance& covariance,
                         const std::function<double(const double*)>& clv, int draws, double level, std::uint64_t seed,
                         const Interrupts& interrupts) {
    if (draws < 1 || draws > kMaxClvDraws)
        throw Error(ErrorKind::invalid_parameter_value,
                    format("number of draws must be between 1 and %d", kMaxClvDraws),
                    format("The value given was %d.", draws));
    if (!(level > 0 && level < 1))
        throw Error(ErrorKind::invalid_parameter_value, "level must be between 0 and 1",
                    format("The value given was %g.", level));
    const int d = covariance.d;
    if (d == 0)
        throw Error(ErrorKind::invalid_parameter_value, "the model has no parameter covariance",
                    "Only a fit that converged has one; a model built from stored parameters has none.",
                    "Pass the model returned by the fit, with its covariance field.");
    // Cholesky factor of the covariance (positive definite by construction;
    // a stored covariance that is not is refused).
    std::array<double, 16> L{};
    for (int j = 0; j < d; ++j) {
        double v = covariance.values[j * d + j];
        for (int k = 0; k < j; ++k)
            v -= L[j * d + k] * L[j * d + k];
        if (!(v > 0) || !std::isfinite(v))
            throw Error(ErrorKind::invalid_parameter_value, "the parameter covariance is not positive definite");
        L[j * d + j] = std::sqrt(v);
        for (int i = j + 1; i < d; ++i) {
            double w = covariance.values[i * d + j];
            for (int k = 0; k < j; ++k)
                w -= L[i * d + k] * L[j * d + k];
            L[i * d + j] = w / L[j * d + j];
        }
    }
    ClvInterval out;
    out.estimate = clv(estimate);
    std::mt19937_64 engine(seed);
    auto uniform = [&engine] { return static_cast<double>(engine() >> 11) * 0x1.0p-53; };
    bool have_spare = false;
    double spare = 0;
    auto normal = [&] {
        if (have_spare) {
            have_spare = false;
            return spare;
        }
        for (;;) {
            const double u = 2 * uniform() - 1, v = 2 * uniform() - 1, s = u * u + v * v;
            if (s > 0 && s < 1) {
                const double f = std::sqrt(-2 * std::log(s) / s);
                spare = v * f;
                have_spare = true;
                return u * f;
            }
        }
    };
    std::vector<double> values;
    values.reserve(static_cast<std::size_t>(draws));
    int failed = 0;
    double z[4], p[4];
    for (int i = 0; i < draws; ++i) {
        interrupts.check();
        for (int k = 0; k < d; ++k)
            z[k] = normal();
        for (int r = 0; r < d; ++r) {
            double v = std::log(estimate[r]);
            for (int k = 0; k <= r; ++k)
                v += L[r * d + k] * z[k];
            p[r] = std::exp(v);
        }
        try {
            values.push_back(clv(p));
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::numeric_value_out_of_range)
                throw;
            ++failed;
        }
    }
    if (failed > draws / 100)
        throw Error(ErrorKind::numeric_value_out_of_range, "the CLV is out of range at too many parameter draws",
                    format("%d of %d draws gave no finite CLV.", failed, draws));
    sort_interruptible(values.data(), values.data() + values.size(), std::less<double>(), interrupts);
    auto quantile = [&values](double q) {
        const double h = q * (static_cast<double>(values.size()) - 1);
        const std::size_t lo = static_cast<std::size_t>(std::floor(h));
        const std::size_t hi = std::min(values.size() - 1, lo + 1);
        return values[lo] + (h - static_cast<double>(lo)) * (values[hi] - values[lo]);
    };
    out.lower = quantile((1 - level) / 2);
    out.upper = quantile((1 + level) / 2);
    return out;
}

double finite_result(double v, const char* what) {
    if (!std::isfinite(v))
        throw Error(ErrorKind::numeric_value_out_of_range, format("%s is out of range", what),
                    "The result is not a finite number.",
                    "Check the model parameters and the customer; values this extreme are out of range.");
    return v;
}

void rethrow_as_error(const char* what) {
    try {
        throw;
    } catch (const Error&) {
        throw;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(ErrorKind::numeric_value_out_of_range, format("could not compute %s", what),
                    format("A special function failed: %s.", e.what()),
                    "Check the model parameters; values this extreme are out of range.");
    }
}

}  // namespace btyd_detail

using btyd_detail::format;

double parameter_standard_error(const ParameterCovariance& cov, int i, double p) {
    if (i < 0 || i >= cov.d)
        return std::numeric_limits<double>::quiet_NaN();
    return p * std::sqrt(cov.values[i * cov.d + i]);
}

void btyd_validate(const BtydObservation& o) {
    if (!(std::isfinite(o.x) && o.x >= 0 && o.x == std::floor(o.x)))
        throw Error(ErrorKind::invalid_parameter_value, "number of repeat purchases must be a non-negative integer",
                    format("The value given was x = %g.", o.x));
    if (o.x > kBtydMaxRepeatPurchases)
        throw Error(ErrorKind::invalid_parameter_value,
                    format("number of repeat purchases must be at most %.0f", kBtydMaxRepeatPurchases),
                    format("The value given was x = %g.", o.x));
    if (!(std::isfinite(o.T) && o.T >= 0))
        throw Error(ErrorKind::invalid_parameter_value, "customer age must be finite and non-negative",
                    format("The value given was T = %g.", o.T));
    if (!(std::isfinite(o.t_x) && o.t_x >= 0 && o.t_x <= o.T))
        throw Error(ErrorKind::invalid_parameter_value, "time of last purchase must be between 0 and the customer age",
                    format("The values given were t_x = %g and T = %g.", o.t_x, o.T));
    if (o.x == 0 && o.t_x != 0)
        throw Error(ErrorKind::invalid_parameter_value,
                    "time of last purchase must be 0 for a customer without repeat purchases",
                    format("The values given were x = 0 and t_x = %g.", o.t_x));
    if (!(std::isfinite(o.weight) && o.weight >= 0))
        throw Error(ErrorKind::invalid_parameter_value, "observation weight must be finite and non-negative",
                    format("The value given was %g.", o.weight));
}

BtydObservation btyd_observation(double first_day, double last_day, std::int64_t purchase_days, double end_day,
                                 double unit_days) {
    if (!(std::isfinite(unit_days) && unit_days > 0))
        throw Error(ErrorKind::invalid_parameter_value, "time unit must be a positive number of days",
                    format("The value given was %g days.", unit_days));
    if (!std::isfinite(first_day) || !std::isfinite(last_day) || !std::isfinite(end_day))
        throw Error(ErrorKind::invalid_parameter_value, "purchase and end days must be finite");
    if (purchase_days < 1)
        throw Error(ErrorKind::invalid_parameter_value, "number of purchase days must be at least 1",
                    format("The value given was %lld.", static_cast<long long>(purchase_days)));
    if (last_day < first_day)
        throw Error(ErrorKind::invalid_parameter_value, "last purchase day is before the first purchase day",
                    format("The first day is %g, the last %g.", first_day, last_day));
    if (end_day < last_day)
        throw Error(ErrorKind::invalid_parameter_value, "last purchase day is after the end of the calibration period",
                    format("The last day is %g, the end %g.", last_day, end_day),
                    "Count only purchases up to the end of the calibration period.");
    if ((purchase_days == 1) != (last_day == first_day))
        throw Error(ErrorKind::invalid_parameter_value,
                    "number of purchase days is inconsistent with the first and last purchase days",
                    format("There are %lld purchase days from day %g to day %g.", static_cast<long long>(purchase_days),
                           first_day, last_day));
    BtydObservation o;
    o.x = static_cast<double>(purchase_days - 1);
    o.t_x = (last_day - first_day) / unit_days;
    o.T = (end_day - first_day) / unit_days;
    o.weight = 1;
    if (!std::isfinite(o.t_x) || !std::isfinite(o.T))
        throw Error(ErrorKind::numeric_value_out_of_range, "customer times overflow");
    return o;
}

}  // namespace customer_analytics
