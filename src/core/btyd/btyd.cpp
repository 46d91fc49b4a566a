// Shared machinery of the Buy-Till-You-Die models: input validation, the
// (x, t_x, T) helper, the Gauss hypergeometric function wrapper, compiled
// triples and the CLV sum (the optimizer is optimizer.cpp).
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

// Series of 2F1(1, b; b + d; z) up to this length are summed directly;
// longer ones (z near 1) go through the integral, whose cost does not grow.
constexpr double kShortSeriesTerms = 300.0;

// log of the Euler integral of 2F1(1, b; b + d; z) (see internal.hpp).
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
    if (!(width > 1e-12 && width < 1e6))
        width = 1.0;

    // The points where psi has dropped 40 below the peak (e^-40 ~ 4e-18):
    // Newton steps on the concave psi approach them from outside.
    constexpr double kDrop = 40.0;
    auto bound = [&](double direction) {
        double s = mode + direction * width, step = width;
        for (int i = 0; i < 100; ++i) {
            if (direction < 0 && s <= 0)
                return 0.0;
            const double f = psi(s) - peak + kDrop;
            const double slope = e - b * q_of(s);
            if (f <= 0 && f > -1)
                return s;
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
    double total =
        boost::math::quadrature::gauss_kronrod<double, 21>::integrate(integrand, left, upper, 12, 1e-10, &error);
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
    if (!(std::isfinite(b) && std::isfinite(d) && std::isfinite(z) && std::isfinite(y) && b > 0 && d > 0 && b + d > 1 &&
          z >= 0 && y > 0 && z < 1))
        throw Error(ErrorKind::numeric_value_out_of_range, "hypergeometric function is undefined for these arguments",
                    format("2F1(1, %g; %g; %g) is outside the model's domain.", b, b + d, z),
                    "Check the model parameters.");
    if (z == 0)
        return 0.0;
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
