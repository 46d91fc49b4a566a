// Shared machinery of the Buy-Till-You-Die models: input validation, the
// (x, t_x, T) helper, the Gauss hypergeometric function wrapper, compiled
// triples, the optimizer and standard errors.
#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <boost/math/special_functions/digamma.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <boost/math/special_functions/hypergeometric_pFq.hpp>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <limits>
#include <new>
#include <tuple>

#include "btyd.hpp"
#include "btyd_internal.hpp"
#include "sort.hpp"

namespace customer_analytics {
namespace btyd_detail {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Search box for log-parameters, and the box a converged solution must be
// inside (exp(20) ~ 4.9e8).
constexpr double kThetaBound = 25.0;
constexpr double kThetaConvergedBound = 20.0;
// Gradient max-norm (of the per-customer objective, in log-parameters):
// BFGS stops at kGtolStop; a point counts as converged at kGtolAccept.
constexpr double kGtolStop = 1e-9;
constexpr double kGtolAccept = 1e-6;
// Largest BFGS step in log-parameter space.
constexpr double kMaxStep = 2.0;
// Largest standard error of a log-parameter at a converged optimum: beyond
// it the data do not determine the parameter (a flat ridge, e.g. one
// customer or identical customers) and the fit is reported unconverged.
constexpr double kMaxLogSe = 5.0;
// Series terms allowed for one hypergeometric evaluation (~0.5 ms; Boost's
// own cap is 1e6). Real fits need a few dozen; only |z| within ~1e-3 of 1
// with near-equal upper and lower parameters (far out on flat likelihood
// ridges), or horizons beyond ~10^3 (alpha + T), need more: the fit then
// treats the point as infeasible, predictions report
// numeric_value_out_of_range.
constexpr double kMaxSeriesTerms = 50000.0;

double max_abs(const std::vector<double>& v) {
    double m = 0;
    for (double e : v) m = std::max(m, std::fabs(e));
    return m;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

bool inside_box(const std::vector<double>& theta, double bound) {
    for (double t : theta)
        if (!(std::fabs(t) <= bound)) return false;
    return true;
}

// Rough upper estimate of the number of terms a pFq series (p = q + 1)
// needs: its terms behave like k^e |z|^k with e = sum(a) - sum(b) - 1; find
// k past the peak where they have dropped by e^-40, plus sum |a| for a
// growth phase before the asymptotic regime.
double estimated_series_terms(std::initializer_list<double> a, std::initializer_list<double> b, double z) {
    const double L = -std::log(std::fabs(z));
    if (!(L > 0)) return kInf;
    double e = -1, size = 0;
    for (double v : a) e += v, size += std::fabs(v);
    for (double v : b) e -= v;
    if (e <= 0) return 40.0 / L + size;
    const double k0 = std::max(e / L, 1.0);
    double k = k0 + 40.0 / L;
    for (int i = 0; i < 8; ++i) k = k0 + (40.0 + e * std::log(k / k0)) / L;
    return k + size;
}

// log |k-th term| of the pFq series, through log-gamma Pochhammer symbols.
double log_term(std::initializer_list<double> a, std::initializer_list<double> b, double z, double k) {
    double v = k * std::log(std::fabs(z)) - ln_gamma(k + 1);
    for (double ai : a) v += ln_gamma(ai + k) - ln_gamma(ai);
    for (double bj : b) v -= ln_gamma(bj + k) - ln_gamma(bj);
    return v;
}

// Exact check, for when the rough estimate is over the limit: are the terms
// at k = limit decreasing and e^-40 below the largest term sampled on a
// geometric grid (the terms are unimodal, so the sampled maximum is a lower
// bound of the peak and the check errs on the safe side)?
bool converges_within(std::initializer_list<double> a, std::initializer_list<double> b, double z, double limit) {
    for (double ai : a)
        if (ai <= 0 && ai == std::floor(ai)) return -ai <= limit;  // terminating polynomial
    for (double bj : b)
        if (bj <= 0 && bj == std::floor(bj)) return false;  // undefined series
    try {
        double peak = 0;  // the term k = 0 is 1
        for (double k = 1; k < limit; k *= 2) peak = std::max(peak, log_term(a, b, z, k));
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
    for (double v : a) out += format("%s%g", sep, v), sep = ", ";
    sep = "; ";
    for (double v : b) out += format("%s%g", sep, v), sep = ", ";
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
    if (a == -kInf) return b;
    if (b == -kInf) return a;
    const double m = std::max(a, b);
    return m + std::log1p(std::exp(-std::fabs(a - b)));
}

double log_sub_exp(double a, double b) {
    if (!(a > b)) return -kInf;
    if (b == -kInf) return a;
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
    for (double v : a) finite = finite && std::isfinite(v);
    for (double v : b) finite = finite && std::isfinite(v);
    if (!finite || a.size() != b.size() + 1)
        throw Error(ErrorKind::numeric_value_out_of_range, "hypergeometric function is undefined for these arguments",
                    format("The series %s has an argument that is not a finite number.", describe(a, b, z).c_str()),
                    "Check the model parameters and the horizon.");
    if (!(std::fabs(z) < 1))  // e.g. t / (alpha + T + t) rounding to 1 for an astronomically long horizon
        throw Error(ErrorKind::numeric_value_out_of_range, "hypergeometric series does not converge",
                    format("The series %s does not converge.", describe(a, b, z).c_str()),
                    "Use a shorter horizon, or check the model parameters.");
    if (z == 0) return 1.0;
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

// Series of 2F1(1, b; b + d; z) up to this length are summed directly;
// longer ones (z near 1) go through the integral, whose cost does not grow.
constexpr double kShortSeriesTerms = 300.0;

// log of the Euler integral of 2F1(1, b; b + d; z) (see btyd_internal.hpp).
// With c1 = b + d - 1 > 0 and s = -log u,
//   2F1 = c1 int_0^inf exp(psi(s)) ds,  psi(s) = (1 - d) s - b log1p(y expm1(s)),
// psi concave, so the integrand is unimodal with at most exponential tails.
double log_euler_integral(double b, double d, double z, double y) {
    const double c1 = b + (d - 1);
    const double e = 1 - d;
    const double log_y = std::log(y);
    // log1p(y expm1(s)) = log(z + y e^s), written so that neither form
    // overflows nor cancels.
    auto log_base = [&](double s) {
        return s + log_y < 0 ? std::log1p(y * std::expm1(s)) : s + log_y + std::log1p(z * std::exp(-s - log_y));
    };
    auto psi = [&](double s) { return e * s - b * log_base(s); };
    // q = y e^s / (z + y e^s) in (0, 1): psi' = e - b q, psi'' = -b q (1 - q).
    auto q_of = [&](double s) { return 1.0 / (1.0 + z * std::exp(-s - log_y)); };
    const double mode = e > b * y ? std::log(e * z / (y * c1)) : 0.0;
    const double peak = psi(mode);
    // Width of the peak: the first trial step of the searches below.
    const double q_mode = q_of(mode);
    double width = 1.0 / std::sqrt(b * q_mode * (1 - q_mode));
    if (!(width > 1e-12 && width < 1e6)) width = 1.0;

    // The points where psi has dropped 40 below the peak (e^-40 ~ 4e-18):
    // Newton steps on the concave psi approach them from outside.
    constexpr double kDrop = 40.0;
    auto bound = [&](double direction) {
        double s = mode + direction * width, step = width;
        for (int i = 0; i < 100; ++i) {
            if (direction < 0 && s <= 0) return 0.0;
            const double f = psi(s) - peak + kDrop;
            const double slope = e - b * q_of(s);
            if (f <= 0 && f > -1) return s;
            if (!(direction * slope < 0)) {  // still on the flat top: walk on
                s += direction * step;
                step *= 2;
                continue;
            }
            s -= f / slope;
        }
        return s;
    };
    const double left = mode > 0 ? std::max(0.0, bound(-1.0)) : 0.0;
    const double right = bound(1.0);
    // Beyond tail_from, b w / y <= 0.1 with w = z e^-s: the integrand is
    // y^-b e^(-c1 s) (1 + w/y)^-b, integrated in closed form.
    const double tail_from = std::max(mode + width, std::log(10.0 * b * z) - log_y);
    const double upper = std::min(right, tail_from);
    double error = 0;
    auto integrand = [&](double s) { return std::exp(psi(s) - peak); };
    // Boost's error estimate is pessimistic ((200 |K - G|)^1.5): 1e-10 here
    // gives ~1e-14 in practice, while tighter requests only recurse into
    // rounding noise.
    double total = boost::math::quadrature::gauss_kronrod<double, 21>::integrate(integrand, left, upper, 12, 1e-10,
                                                                                    &error);
    if (right > tail_from) {
        // int_s1^inf = y^-b e^(-c1 s1) / c1 2F1(b, c1; c1 + 1; -w1), w1 = (z/y) e^-s1
        const double log_w1 = std::log(z) - log_y - tail_from;
        const double series = hypergeometric({b, c1}, {c1 + 1}, -std::exp(log_w1));
        const double log_tail = e * tail_from + b * (log_w1 - std::log(z)) - std::log(c1) + std::log(series);
        total += std::exp(log_tail - peak);
    }
    return std::log(c1) + peak + std::log(total);
}

}  // namespace

double log_hyp2f1_unit(double b, double d, double z, double y) {
    if (!(std::isfinite(b) && std::isfinite(d) && std::isfinite(z) && std::isfinite(y) && b > 0 && d > 0 &&
          b + d > 1 && z >= 0 && y > 0 && z < 1))
        throw Error(ErrorKind::numeric_value_out_of_range, "hypergeometric function is undefined for these arguments",
                    format("2F1(1, %g; %g; %g) is outside the model's domain.", b, b + d, z),
                    "Check the model parameters.");
    if (z == 0) return 0.0;
    // The terms (b)_k / (b + d)_k z^k decrease with ratios below z; sum
    // directly when the term at kShortSeriesTerms, and the geometric bound
    // of the rest (divided by 1 - z), is below e^-37 of the first term.
    // The bound z^n alone settles most calls without any log-gamma.
    const double n = kShortSeriesTerms;
    const double log_z = std::log1p(-y);
    const bool short_series =
        n * log_z - std::log(y) < -37 ||
        ln_gamma(b + n) - ln_gamma(b) - ln_gamma(b + d + n) + ln_gamma(b + d) + n * log_z - std::log(y) < -37;
    double v;
    if (short_series) {
        v = std::log(hypergeometric({1.0, b}, {b + d}, z));
    } else {
        try {
            v = log_euler_integral(b, d, z, y);
        } catch (const Error&) {
            throw;
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const std::exception& e) {
            throw Error(ErrorKind::numeric_value_out_of_range, "hypergeometric function evaluation failed",
                        format("Evaluating 2F1(1, %g; %g; %g) failed: %s.", b, b + d, z, e.what()));
        }
    }
    if (!std::isfinite(v))
        throw Error(ErrorKind::numeric_value_out_of_range, "hypergeometric function evaluation failed",
                    format("2F1(1, %g; %g; %g) is not a finite number.", b, b + d, z));
    return v;
}

namespace {
constexpr double kMaxCumulativeX = 100000;
}  // namespace

void log_pochhammer(double v, const std::vector<double>& xs, std::vector<double>& out) {
    out.resize(xs.size());
    if (!xs.empty() && xs.back() > kMaxCumulativeX) {
        const double lg = ln_gamma(v);
        for (std::size_t k = 0; k < xs.size(); ++k) out[k] = xs[k] == 0 ? 0.0 : ln_gamma(v + xs[k]) - lg;
        return;
    }
    CompensatedSum acc;
    double i = 0;
    for (std::size_t k = 0; k < xs.size(); ++k) {
        for (; i < xs[k]; i += 1) acc.add(std::log(v + i));
        out[k] = acc.value();
    }
}

void digamma_difference(double v, const std::vector<double>& xs, std::vector<double>& out) {
    out.resize(xs.size());
    if (!xs.empty() && xs.back() > kMaxCumulativeX) {
        const double ps = psi(v);
        for (std::size_t k = 0; k < xs.size(); ++k) out[k] = xs[k] == 0 ? 0.0 : psi(v + xs[k]) - ps;
        return;
    }
    CompensatedSum acc;
    double i = 0;
    for (std::size_t k = 0; k < xs.size(); ++k) {
        for (; i < xs[k]; i += 1) acc.add(1.0 / (v + i));
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
        if (data[i].weight > 0) obs.push_back(data[i]);
    }
    if (obs.empty() && allow_empty) return CompiledTriples{};
    if (obs.empty())
        throw Error(ErrorKind::data_exception, "no customers to fit",
                    "Every observation is missing or has weight 0.");
    sort_interruptible(obs.data(), obs.data() + obs.size(), [](const BtydObservation& l, const BtydObservation& r) {
        return std::tie(l.x, l.t_x, l.T) < std::tie(r.x, r.t_x, r.T);
    }, interrupts);
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
        if (c.xs.empty() || c.xs.back() != o.x) c.xs.push_back(o.x);
        c.times.push_back(o.t_x);
        c.times.push_back(o.T);
    }
    sort_interruptible(c.times.data(), c.times.data() + c.times.size(), std::less<double>(), interrupts);
    c.times.erase(std::unique(c.times.begin(), c.times.end()), c.times.end());
    c.times.shrink_to_fit();

    c.rows.reserve(m);
    std::uint32_t xi = 0;
    for (const auto& o : obs) {
        while (c.xs[xi] != o.x) ++xi;
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

LogLikelihood with_numeric_gradient(std::function<double(const std::vector<double>&)> ll) {
    // The optimizer asks for the value at a trial point and then, if it is
    // accepted, for value and gradient there: remember the last value.
    std::vector<double> last_theta;
    double last_f = 0;
    return [ll = std::move(ll), last_theta, last_f](const std::vector<double>& theta,
                                                    std::vector<double>* grad) mutable -> double {
        double f0;
        if (theta == last_theta) {
            f0 = last_f;
        } else {
            f0 = ll(theta);
            last_theta = theta;
            last_f = f0;
        }
        if (grad == nullptr || !std::isfinite(f0)) return f0;
        const double h = 1e-5;
        std::vector<double> t = theta;
        grad->assign(theta.size(), 0.0);
        for (std::size_t i = 0; i < theta.size(); ++i) {
            t[i] = theta[i] + h;
            const double fp = ll(t);
            t[i] = theta[i] - h;
            const double fm = ll(t);
            t[i] = theta[i];
            if (std::isfinite(fp) && std::isfinite(fm))
                (*grad)[i] = (fp - fm) / (2 * h);
            else if (std::isfinite(fp))
                (*grad)[i] = (fp - f0) / h;
            else if (std::isfinite(fm))
                (*grad)[i] = (f0 - fm) / h;
            else
                return std::numeric_limits<double>::quiet_NaN();
        }
        return f0;
    };
}

Objective penalized_objective(LogLikelihood ll, double total_weight, double l2) {
    return [ll = std::move(ll), total_weight, l2](const std::vector<double>& theta,
                                                   std::vector<double>* grad) -> double {
        double v;
        try {
            v = ll(theta, grad);
        } catch (const Error& e) {
            if (e.kind() == ErrorKind::query_canceled) throw;
            return kInf;
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const std::exception&) {
            return kInf;
        }
        if (!std::isfinite(v)) return kInf;
        double f = -v / total_weight;
        for (double t : theta) f += l2 * t * t;
        if (grad != nullptr) {
            for (std::size_t i = 0; i < theta.size(); ++i) {
                double& g = (*grad)[i];
                g = -g / total_weight + 2 * l2 * theta[i];
                if (!std::isfinite(g)) return kInf;
            }
        }
        return std::isfinite(f) ? f : kInf;
    };
}

void check_fit_options(const BtydFitOptions& options) {
    if (!(std::isfinite(options.l2_penalty) && options.l2_penalty >= 0))
        throw Error(ErrorKind::invalid_parameter_value, "l2 penalty must be finite and non-negative",
                    format("The value given was %g.", options.l2_penalty));
    if (options.max_iterations < 1)
        throw Error(ErrorKind::invalid_parameter_value, "maximum number of iterations must be positive",
                    format("The value given was %d.", options.max_iterations));
}

namespace {

struct Run {
    std::vector<double> x;
    double f = kInf;
    double gnorm = kInf;
    int iterations = 0;
    bool converged = false;
};

void finish(Run& run) {
    run.converged = std::isfinite(run.f) && run.gnorm <= kGtolAccept && inside_box(run.x, kThetaConvergedBound);
}

// BFGS on the inverse Hessian with Armijo backtracking (quadratic
// interpolation), steps capped at kMaxStep, points outside the search box
// treated as infeasible.
Run bfgs(const Objective& fn, const std::vector<double>& x0, int max_iterations, const Interrupts& interrupts) {
    const std::size_t d = x0.size();
    Run run;
    run.x = x0;
    std::vector<double> g(d), gn(d), p(d), xn(d), s(d), y(d), Hy(d);
    if (!inside_box(x0, kThetaBound)) return run;
    run.f = fn(run.x, &g);
    if (!std::isfinite(run.f)) return run;
    run.gnorm = max_abs(g);

    std::vector<double> H(d * d, 0.0);
    auto reset = [&] {
        std::fill(H.begin(), H.end(), 0.0);
        for (std::size_t i = 0; i < d; ++i) H[i * d + i] = 1.0;
    };
    reset();
    bool identity = true;
    bool scaled = false;
    std::vector<double> history;  // f at each iteration, for the progress test

    for (int it = 0; it < max_iterations; ++it) {
        interrupts.check();
        if (run.gnorm <= kGtolStop) break;
        // No real progress over the last iterations: a flat ridge running
        // off to the box, or the noise floor. Stop; past the converged box
        // (where the run cannot count as converged anyway) sooner.
        history.push_back(run.f);
        const bool outside = !inside_box(run.x, kThetaConvergedBound);
        const std::size_t window = outside ? 5 : 20;
        const double progress = outside ? 1e-8 : 1e-10;
        if (history.size() > window &&
            history[history.size() - 1 - window] - run.f <= progress * (1 + std::fabs(run.f)))
            break;
        ++run.iterations;

        for (std::size_t i = 0; i < d; ++i) {
            double v = 0;
            for (std::size_t j = 0; j < d; ++j) v -= H[i * d + j] * g[j];
            p[i] = v;
        }
        double gp = dot(g, p);
        if (!(gp < 0)) {
            reset();
            identity = true;
            for (std::size_t i = 0; i < d; ++i) p[i] = -g[i];
            gp = dot(g, p);
        }
        const double pmax = max_abs(p);
        if (pmax > kMaxStep) {
            const double k = kMaxStep / pmax;
            for (double& e : p) e *= k;
            gp *= k;
        }

        double step = 1.0;
        double fn_val = kInf;
        bool accepted = false;
        for (int ls = 0; ls < 40; ++ls) {
            for (std::size_t i = 0; i < d; ++i) xn[i] = run.x[i] + step * p[i];
            // Value only for trial points; the gradient once a point is accepted.
            fn_val = inside_box(xn, kThetaBound) ? fn(xn, nullptr) : kInf;
            if (std::isfinite(fn_val) && fn_val <= run.f + 1e-4 * step * gp) {
                const double with_grad = fn(xn, &gn);
                if (std::isfinite(with_grad)) {
                    fn_val = with_grad;
                    accepted = true;
                    break;
                }
                fn_val = kInf;
            }
            double next = 0.2 * step;
            if (std::isfinite(fn_val)) {
                const double denom = 2.0 * (fn_val - run.f - gp * step);
                if (denom > 0) next = std::min(0.5 * step, std::max(0.1 * step, -gp * step * step / denom));
            }
            step = next;
            if (step * pmax < 1e-14) break;
        }
        if (!accepted) {
            if (!identity) {
                reset();
                identity = true;
                continue;
            }
            break;  // no descent possible along the gradient: stagnation
        }

        for (std::size_t i = 0; i < d; ++i) {
            s[i] = xn[i] - run.x[i];
            y[i] = gn[i] - g[i];
        }
        const double f_old = run.f;
        run.x = xn;
        run.f = fn_val;
        g = gn;
        run.gnorm = max_abs(g);

        const double sy = dot(s, y);
        const double yy = dot(y, y);
        if (sy > 1e-12 * std::sqrt(dot(s, s) * yy)) {
            if (!scaled) {
                reset();
                for (std::size_t i = 0; i < d; ++i) H[i * d + i] = sy / yy;
                scaled = true;
            }
            // H <- (I - rho s y') H (I - rho y s') + rho s s'
            const double rho = 1.0 / sy;
            for (std::size_t i = 0; i < d; ++i) {
                double v = 0;
                for (std::size_t j = 0; j < d; ++j) v += H[i * d + j] * y[j];
                Hy[i] = v;
            }
            const double yHy = dot(y, Hy);
            for (std::size_t i = 0; i < d; ++i)
                for (std::size_t j = 0; j < d; ++j)
                    H[i * d + j] += -rho * (Hy[i] * s[j] + s[i] * Hy[j]) + (rho * rho * yHy + rho) * s[i] * s[j];
            identity = false;
        }
        // Converged to the precision of the objective.
        if (f_old - run.f <= 1e-15 * (1 + std::fabs(run.f)) && run.gnorm <= 1e-7) break;
    }
    finish(run);
    return run;
}

// Nelder-Mead with the standard coefficients; initial simplex x0 + 0.5 e_i.
Run nelder_mead(const Objective& fn, const std::vector<double>& x0, int max_iterations,
                const Interrupts& interrupts) {
    const std::size_t d = x0.size();
    auto eval = [&](const std::vector<double>& x) { return inside_box(x, kThetaBound) ? fn(x, nullptr) : kInf; };
    std::vector<std::vector<double>> pts(d + 1, x0);
    std::vector<double> fs(d + 1);
    for (std::size_t i = 0; i < d; ++i) pts[i + 1][i] += 0.5;
    for (std::size_t i = 0; i <= d; ++i) fs[i] = eval(pts[i]);
    Run run;
    std::vector<std::size_t> order(d + 1);
    std::vector<double> centroid(d), xr(d), xe(d), xc(d);
    std::vector<double> history;  // best f at each iteration
    for (int it = 0; it < max_iterations; ++it) {
        interrupts.check();
        ++run.iterations;
        for (std::size_t i = 0; i <= d; ++i) order[i] = i;
        std::sort(order.begin(), order.end(), [&](std::size_t l, std::size_t r) {
            if (fs[l] != fs[r]) return fs[l] < fs[r];
            return l < r;
        });
        const std::size_t best = order[0], worst = order[d], second = order[d - 1];
        history.push_back(fs[best]);
        constexpr std::size_t kWindow = 200;
        if (std::isfinite(fs[best]) && history.size() > kWindow &&
            history[history.size() - 1 - kWindow] - fs[best] <= 1e-10 * (1 + std::fabs(fs[best])))
            break;
        double size = 0;
        for (std::size_t i = 0; i <= d; ++i)
            for (std::size_t j = 0; j < d; ++j) size = std::max(size, std::fabs(pts[i][j] - pts[best][j]));
        if (std::isfinite(fs[worst]) && fs[worst] - fs[best] <= 1e-13 * (1 + std::fabs(fs[best])) && size < 1e-8)
            break;
        std::fill(centroid.begin(), centroid.end(), 0.0);
        for (std::size_t i = 0; i <= d; ++i)
            if (i != worst)
                for (std::size_t j = 0; j < d; ++j) centroid[j] += pts[i][j] / static_cast<double>(d);
        for (std::size_t j = 0; j < d; ++j) xr[j] = centroid[j] + (centroid[j] - pts[worst][j]);
        const double fr = eval(xr);
        if (fr < fs[best]) {
            for (std::size_t j = 0; j < d; ++j) xe[j] = centroid[j] + 2.0 * (centroid[j] - pts[worst][j]);
            const double fe = eval(xe);
            if (fe < fr) {
                pts[worst] = xe;
                fs[worst] = fe;
            } else {
                pts[worst] = xr;
                fs[worst] = fr;
            }
            continue;
        }
        if (fr < fs[second]) {
            pts[worst] = xr;
            fs[worst] = fr;
            continue;
        }
        const bool outside = fr < fs[worst];
        for (std::size_t j = 0; j < d; ++j)
            xc[j] = outside ? centroid[j] + 0.5 * (xr[j] - centroid[j]) : centroid[j] + 0.5 * (pts[worst][j] - centroid[j]);
        const double fc = eval(xc);
        if (fc < (outside ? fr : fs[worst])) {
            pts[worst] = xc;
            fs[worst] = fc;
            continue;
        }
        for (std::size_t i = 0; i <= d; ++i) {
            if (i == best) continue;
            for (std::size_t j = 0; j < d; ++j) pts[i][j] = pts[best][j] + 0.5 * (pts[i][j] - pts[best][j]);
            fs[i] = eval(pts[i]);
        }
    }
    std::size_t best = 0;
    for (std::size_t i = 1; i <= d; ++i)
        if (fs[i] < fs[best]) best = i;
    run.x = pts[best];
    run.f = fs[best];
    if (std::isfinite(run.f)) {
        std::vector<double> g(d);
        const double f = fn(run.x, &g);
        if (std::isfinite(f)) run.gnorm = max_abs(g);
    }
    finish(run);
    return run;
}

bool better(const Run& candidate, const Run& incumbent) {
    if (!std::isfinite(candidate.f)) return false;
    if (!std::isfinite(incumbent.f)) return true;
    return candidate.f < incumbent.f;
}

// sqrt(diag(H^-1)) of a symmetric d x d matrix by Cholesky; false if H is
// not (numerically) positive definite.
bool inverse_diagonal_sqrt(const std::vector<double>& H, std::size_t d, std::vector<double>& out) {
    std::vector<double> L(d * d, 0.0);
    for (std::size_t j = 0; j < d; ++j) {
        double v = H[j * d + j];
        for (std::size_t k = 0; k < j; ++k) v -= L[j * d + k] * L[j * d + k];
        if (!(v > 0) || !std::isfinite(v)) return false;
        L[j * d + j] = std::sqrt(v);
        for (std::size_t i = j + 1; i < d; ++i) {
            double w = H[i * d + j];
            for (std::size_t k = 0; k < j; ++k) w -= L[i * d + k] * L[j * d + k];
            L[i * d + j] = w / L[j * d + j];
        }
    }
    // diag(H^-1)_i = |L^-1 e_i|^2: solve L u = e_i.
    out.assign(d, 0.0);
    std::vector<double> u(d);
    for (std::size_t i = 0; i < d; ++i) {
        for (std::size_t r = 0; r < d; ++r) {
            double v = (r == i) ? 1.0 : 0.0;
            for (std::size_t k = 0; k < r; ++k) v -= L[r * d + k] * u[k];
            u[r] = v / L[r * d + r];
        }
        double var = 0;
        for (std::size_t r = 0; r < d; ++r) var += u[r] * u[r];
        out[i] = std::sqrt(var);
        if (!std::isfinite(out[i])) return false;
    }
    return true;
}

// Hessian of the objective at x by central differences: of the gradient
// when it is analytic, of the values when the gradient itself is numeric.
// Empty when the objective cannot be evaluated around x.
std::vector<double> objective_hessian(const Objective& fn, const std::vector<double>& x, bool numeric_gradient) {
    const std::size_t d = x.size();
    const double h = 1e-3;
    std::vector<double> H(d * d), t = x;
    if (!numeric_gradient) {
        std::vector<double> gp(d), gm(d);
        for (std::size_t j = 0; j < d; ++j) {
            t[j] = x[j] + h;
            const double fp = fn(t, &gp);
            t[j] = x[j] - h;
            const double fm = fn(t, &gm);
            t[j] = x[j];
            if (!std::isfinite(fp) || !std::isfinite(fm)) return {};
            for (std::size_t i = 0; i < d; ++i) H[i * d + j] = (gp[i] - gm[i]) / (2 * h);
        }
        for (std::size_t i = 0; i < d; ++i)
            for (std::size_t j = 0; j < i; ++j) H[i * d + j] = H[j * d + i] = 0.5 * (H[i * d + j] + H[j * d + i]);
        return H;
    }
    auto f = [&](std::size_t i, double di, std::size_t j, double dj) {
        t = x;
        t[i] += di;
        t[j] += dj;
        return fn(t, nullptr);
    };
    const double f0 = fn(x, nullptr);
    for (std::size_t i = 0; i < d; ++i) {
        const double fp = f(i, h, i, 0), fm = f(i, -h, i, 0);
        H[i * d + i] = (fp - 2 * f0 + fm) / (h * h);
        for (std::size_t j = 0; j < i; ++j) {
            const double v = (f(i, h, j, h) - f(i, h, j, -h) - f(i, -h, j, h) + f(i, -h, j, -h)) / (4 * h * h);
            H[i * d + j] = H[j * d + i] = v;
        }
    }
    for (double v : H)
        if (!std::isfinite(v)) return {};
    return H;
}

// A proper optimum: the observed information of the (penalised) objective,
// in total-weight units, is positive definite and pins every log-parameter
// to a standard error of at most kMaxLogSe.
bool well_determined(const Objective& fn, const std::vector<double>& x, double total_weight, bool numeric_gradient) {
    std::vector<double> H = objective_hessian(fn, x, numeric_gradient);
    if (H.empty()) return false;
    for (double& v : H) v *= total_weight;
    std::vector<double> se;
    if (!inverse_diagonal_sqrt(H, x.size(), se)) return false;
    for (double v : se)
        if (!(v <= kMaxLogSe)) return false;
    return true;
}

}  // namespace

OptimizeResult minimize(const Objective& objective, const std::vector<std::vector<double>>& starts,
                        const BtydFitOptions& options, int confirmations, double total_weight,
                        bool numeric_gradient) {
    Run best;
    int iterations = 0;
    std::vector<double> converged_f;
    for (const auto& start : starts) {
        Run run = bfgs(objective, start, options.max_iterations, options.interrupts);
        iterations += run.iterations;
        if (run.converged) converged_f.push_back(run.f);
        if (better(run, best)) best = run;
        // Enough converged runs at the same optimum: no need for more starts.
        if (best.converged) {
            int agreeing = 0;
            for (double f : converged_f)
                if (std::fabs(f - best.f) <= 1e-9 * (1 + std::fabs(best.f))) ++agreeing;
            if (agreeing >= confirmations) break;
        }
    }
    // Nelder-Mead when no BFGS run converged, unless the best point already
    // lies past the converged box: the likelihood then increases towards a
    // parameter 0 or infinity, which no local search can turn into a
    // converged estimate.
    if (!best.converged && !(std::isfinite(best.f) && !inside_box(best.x, kThetaConvergedBound))) {
        const std::vector<double> from = std::isfinite(best.f) ? best.x : starts.front();
        Run nm = nelder_mead(objective, from, 20 * options.max_iterations, options.interrupts);
        iterations += nm.iterations;
        if (better(nm, best)) best = nm;
        if (std::isfinite(nm.f)) {
            Run polish = bfgs(objective, nm.x, options.max_iterations, options.interrupts);
            iterations += polish.iterations;
            if (better(polish, best) || (polish.converged && !best.converged && polish.f <= best.f + 1e-12 * (1 + std::fabs(best.f))))
                best = polish;
        }
    }
    if (best.converged) {
        options.interrupts.check();
        best.converged = well_determined(objective, best.x, total_weight, numeric_gradient);
    }
    if (!std::isfinite(best.f))
        throw Error(ErrorKind::numeric_value_out_of_range, "model fit failed",
                    "The likelihood could not be evaluated at any starting point.");
    OptimizeResult out;
    out.theta = best.x;
    out.f = best.f;
    out.converged = best.converged;
    out.iterations = iterations;
    return out;
}

std::vector<double> standard_errors(const LogLikelihood& ll, const std::vector<double>& theta) {
    const std::size_t d = theta.size();
    const double h = 1e-4;
    std::vector<double> H(d * d), gp(d), gm(d), t = theta;
    for (std::size_t j = 0; j < d; ++j) {
        t[j] = theta[j] + h;
        const double fp = ll(t, &gp);
        t[j] = theta[j] - h;
        const double fm = ll(t, &gm);
        t[j] = theta[j];
        if (!std::isfinite(fp) || !std::isfinite(fm))
            throw Error(ErrorKind::numeric_value_out_of_range, "standard errors could not be computed",
                        "The likelihood cannot be evaluated near the estimate.");
        for (std::size_t i = 0; i < d; ++i) H[i * d + j] = -(gp[i] - gm[i]) / (2 * h);  // -d2 LL
    }
    for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < i; ++j) H[i * d + j] = H[j * d + i] = 0.5 * (H[i * d + j] + H[j * d + i]);
    std::vector<double> se;
    if (!inverse_diagonal_sqrt(H, d, se))
        throw Error(ErrorKind::numeric_value_out_of_range, "standard errors could not be computed",
                    "The observed information matrix is not positive definite.");
    for (std::size_t i = 0; i < d; ++i) se[i] *= std::exp(theta[i]);  // delta method
    return se;
}

double clv_alive_sum(const std::function<double(double)>& alive_expected, int periods, double discount_rate,
                     double period_length, double rate_bound, const Interrupts& interrupts) {
    if (discount_rate == 0) return alive_expected(periods * period_length);
    double prev = 0, total = 0, discount = 1;
    const double remainder_factor = rate_bound * period_length / discount_rate;
    for (int k = 1; k <= periods; ++k) {
        interrupts.check();
        const double cur = alive_expected(k * period_length);
        discount /= 1 + discount_rate;
        total += std::max(cur - prev, 0.0) * discount;
        prev = std::max(prev, cur);
        // What the periods after k can still add.
        if (remainder_factor * discount <= 1e-16 * total) break;
    }
    return total;
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
                    format("There are %lld purchase days from day %g to day %g.",
                           static_cast<long long>(purchase_days), first_day, last_day));
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
