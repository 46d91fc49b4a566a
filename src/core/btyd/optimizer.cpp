#include "optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <new>
#include <vector>

#include "internal.hpp"

#include "no_postgres.hpp"

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

double max_abs(const std::vector<double>& v) {
    double m = 0;
    for (double e : v)
        m = std::max(m, std::fabs(e));
    return m;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        s += a[i] * b[i];
    return s;
}

bool inside_box(const std::vector<double>& theta, double bound) {
    for (double t : theta)
        if (!(std::fabs(t) <= bound))
            return false;
    return true;
}

}  // namespace

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
        if (grad == nullptr || !std::isfinite(f0))
            return f0;
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
    return
        [ll = std::move(ll), total_weight, l2](const std::vector<double>& theta, std::vector<double>* grad) -> double {
            double v;
            try {
                v = ll(theta, grad);
            } catch (const Error& e) {
                if (e.kind() == ErrorKind::query_canceled)
                    throw;
                return kInf;
            } catch (const std::bad_alloc&) {
                throw;
            } catch (const std::exception&) {
                return kInf;
            }
            if (!std::isfinite(v))
                return kInf;
            double f = -v / total_weight;
            for (double t : theta)
                f += l2 * t * t;
            if (grad != nullptr) {
                for (std::size_t i = 0; i < theta.size(); ++i) {
                    double& g = (*grad)[i];
                    g = -g / total_weight + 2 * l2 * theta[i];
                    if (!std::isfinite(g))
                        return kInf;
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
Run bfgs(const Objective& fn, const std::vector<double>& x0, int max_iterations, const Interrupts& interrupts,
         const BoundaryTest& at_boundary) {
    const std::size_t d = x0.size();
    Run run;
    run.x = x0;
    std::vector<double> g(d), gn(d), p(d), xn(d), s(d), y(d), Hy(d);
    if (!inside_box(x0, kThetaBound))
        return run;
    run.f = fn(run.x, &g);
    if (!std::isfinite(run.f))
        return run;
    run.gnorm = max_abs(g);

    std::vector<double> H(d * d, 0.0);
    auto reset = [&] {
        std::fill(H.begin(), H.end(), 0.0);
        for (std::size_t i = 0; i < d; ++i)
            H[i * d + i] = 1.0;
    };
    reset();
    bool identity = true;
    bool scaled = false;
    std::vector<double> history;  // f at each iteration, for the progress test

    for (int it = 0; it < max_iterations; ++it) {
        interrupts.check();
        if (run.gnorm <= kGtolStop)
            break;
        // No real progress over the last iterations: a flat ridge running
        // off to the box, or the noise floor. Stop; past the converged box
        // (where the run cannot count as converged anyway) sooner.
        history.push_back(run.f);
        const bool outside = !inside_box(run.x, kThetaConvergedBound) || (at_boundary && at_boundary(run.x));
        const std::size_t window = outside ? 5 : 20;
        const double progress = outside ? 1e-8 : 1e-10;
        if (history.size() > window &&
            history[history.size() - 1 - window] - run.f <= progress * (1 + std::fabs(run.f)))
            break;
        ++run.iterations;

        for (std::size_t i = 0; i < d; ++i) {
            double v = 0;
            for (std::size_t j = 0; j < d; ++j)
                v -= H[i * d + j] * g[j];
            p[i] = v;
        }
        double gp = dot(g, p);
        if (!(gp < 0)) {
            reset();
            identity = true;
            for (std::size_t i = 0; i < d; ++i)
                p[i] = -g[i];
            gp = dot(g, p);
        }
        const double pmax = max_abs(p);
        if (pmax > kMaxStep) {
            const double k = kMaxStep / pmax;
            for (double& e : p)
                e *= k;
            gp *= k;
        }

        double step = 1.0;
        double fn_val = kInf;
        bool accepted = false;
        for (int ls = 0; ls < 40; ++ls) {
            for (std::size_t i = 0; i < d; ++i)
                xn[i] = run.x[i] + step * p[i];
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
                if (denom > 0)
                    next = std::min(0.5 * step, std::max(0.1 * step, -gp * step * step / denom));
            }
            step = next;
            if (step * pmax < 1e-14)
                break;
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
                for (std::size_t i = 0; i < d; ++i)
                    H[i * d + i] = sy / yy;
                scaled = true;
            }
            // H <- (I - rho s y') H (I - rho y s') + rho s s'
            const double rho = 1.0 / sy;
            for (std::size_t i = 0; i < d; ++i) {
                double v = 0;
                for (std::size_t j = 0; j < d; ++j)
                    v += H[i * d + j] * y[j];
                Hy[i] = v;
            }
            const double yHy = dot(y, Hy);
            for (std::size_t i = 0; i < d; ++i)
                for (std::size_t j = 0; j < d; ++j)
                    H[i * d + j] += -rho * (Hy[i] * s[j] + s[i] * Hy[j]) + (rho * rho * yHy + rho) * s[i] * s[j];
            identity = false;
        }
        // Converged to the precision of the objective.
        if (f_old - run.f <= 1e-15 * (1 + std::fabs(run.f)) && run.gnorm <= 1e-7)
            break;
    }
    finish(run);
    return run;
}

// Nelder-Mead with the standard coefficients; initial simplex x0 + 0.5 e_i.
Run nelder_mead(const Objective& fn, const std::vector<double>& x0, int max_iterations, const Interrupts& interrupts) {
    const std::size_t d = x0.size();
    auto eval = [&](const std::vector<double>& x) { return inside_box(x, kThetaBound) ? fn(x, nullptr) : kInf; };
    std::vector<std::vector<double>> pts(d + 1, x0);
    std::vector<double> fs(d + 1);
    for (std::size_t i = 0; i < d; ++i)
        pts[i + 1][i] += 0.5;
    for (std::size_t i = 0; i <= d; ++i)
        fs[i] = eval(pts[i]);
    Run run;
    std::vector<std::size_t> order(d + 1);
    std::vector<double> centroid(d), xr(d), xe(d), xc(d);
    std::vector<double> history;  // best f at each iteration
    for (int it = 0; it < max_iterations; ++it) {
        interrupts.check();
        ++run.iterations;
        for (std::size_t i = 0; i <= d; ++i)
            order[i] = i;
        std::sort(order.begin(), order.end(), [&](std::size_t l, std::size_t r) {
            if (fs[l] != fs[r])
                return fs[l] < fs[r];
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
            for (std::size_t j = 0; j < d; ++j)
                size = std::max(size, std::fabs(pts[i][j] - pts[best][j]));
        if (std::isfinite(fs[worst]) && fs[worst] - fs[best] <= 1e-13 * (1 + std::fabs(fs[best])) && size < 1e-8)
            break;
        std::fill(centroid.begin(), centroid.end(), 0.0);
        for (std::size_t i = 0; i <= d; ++i)
            if (i != worst)
                for (std::size_t j = 0; j < d; ++j)
                    centroid[j] += pts[i][j] / static_cast<double>(d);
        for (std::size_t j = 0; j < d; ++j)
            xr[j] = centroid[j] + (centroid[j] - pts[worst][j]);
        const double fr = eval(xr);
        if (fr < fs[best]) {
            for (std::size_t j = 0; j < d; ++j)
                xe[j] = centroid[j] + 2.0 * (centroid[j] - pts[worst][j]);
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
            xc[j] =
                outside ? centroid[j] + 0.5 * (xr[j] - centroid[j]) : centroid[j] + 0.5 * (pts[worst][j] - centroid[j]);
        const double fc = eval(xc);
        if (fc < (outside ? fr : fs[worst])) {
            pts[worst] = xc;
            fs[worst] = fc;
            continue;
        }
        for (std::size_t i = 0; i <= d; ++i) {
            if (i == best)
                continue;
            for (std::size_t j = 0; j < d; ++j)
                pts[i][j] = pts[best][j] + 0.5 * (pts[i][j] - pts[best][j]);
            fs[i] = eval(pts[i]);
        }
    }
    std::size_t best = 0;
    for (std::size_t i = 1; i <= d; ++i)
        if (fs[i] < fs[best])
            best = i;
    run.x = pts[best];
    run.f = fs[best];
    if (std::isfinite(run.f)) {
        std::vector<double> g(d);
        const double f = fn(run.x, &g);
        if (std::isfinite(f))
            run.gnorm = max_abs(g);
    }
    finish(run);
    return run;
}

bool better(const Run& candidate, const Run& incumbent) {
    if (!std::isfinite(candidate.f))
        return false;
    if (!std::isfinite(incumbent.f))
        return true;
    return candidate.f < incumbent.f;
}

// sqrt(diag(H^-1)) of a symmetric d x d matrix by Cholesky; false if H is
// not (numerically) positive definite.
bool inverse_diagonal_sqrt(const std::vector<double>& H, std::size_t d, std::vector<double>& out) {
    std::vector<double> L(d * d, 0.0);
    for (std::size_t j = 0; j < d; ++j) {
        double v = H[j * d + j];
        for (std::size_t k = 0; k < j; ++k)
            v -= L[j * d + k] * L[j * d + k];
        if (!(v > 0) || !std::isfinite(v))
            return false;
        L[j * d + j] = std::sqrt(v);
        for (std::size_t i = j + 1; i < d; ++i) {
            double w = H[i * d + j];
            for (std::size_t k = 0; k < j; ++k)
                w -= L[i * d + k] * L[j * d + k];
            L[i * d + j] = w / L[j * d + j];
        }
    }
    // diag(H^-1)_i = |L^-1 e_i|^2: solve L u = e_i.
    out.assign(d, 0.0);
    std::vector<double> u(d);
    for (std::size_t i = 0; i < d; ++i) {
        for (std::size_t r = 0; r < d; ++r) {
            double v = (r == i) ? 1.0 : 0.0;
            for (std::size_t k = 0; k < r; ++k)
                v -= L[r * d + k] * u[k];
            u[r] = v / L[r * d + r];
        }
        double var = 0;
        for (std::size_t r = 0; r < d; ++r)
            var += u[r] * u[r];
        out[i] = std::sqrt(var);
        if (!std::isfinite(out[i]))
            return false;
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
            if (!std::isfinite(fp) || !std::isfinite(fm))
                return {};
            for (std::size_t i = 0; i < d; ++i)
                H[i * d + j] = (gp[i] - gm[i]) / (2 * h);
        }
        for (std::size_t i = 0; i < d; ++i)
            for (std::size_t j = 0; j < i; ++j)
                H[i * d + j] = H[j * d + i] = 0.5 * (H[i * d + j] + H[j * d + i]);
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
        if (!std::isfinite(v))
            return {};
    return H;
}

// A proper optimum: the observed information of the (penalised) objective,
// in total-weight units, is positive definite and pins every log-parameter
// to a standard error of at most kMaxLogSe.
bool well_determined(const Objective& fn, const std::vector<double>& x, double total_weight, bool numeric_gradient) {
    std::vector<double> H = objective_hessian(fn, x, numeric_gradient);
    if (H.empty())
        return false;
    for (double& v : H)
        v *= total_weight;
    std::vector<double> se;
    if (!inverse_diagonal_sqrt(H, x.size(), se))
        return false;
    for (double v : se)
        if (!(v <= kMaxLogSe))
            return false;
    return true;
}

}  // namespace

OptimizeResult minimize(const Objective& objective, const std::vector<std::vector<double>>& starts,
                        const BtydFitOptions& options, int confirmations, double total_weight, bool numeric_gradient,
                        const BoundaryTest& at_boundary) {
    Run best;
    int iterations = 0;
    std::vector<double> converged_f, boundary_f;
    auto boundary = [&](const Run& run) {
        return std::isfinite(run.f) &&
               (!inside_box(run.x, kThetaConvergedBound) || (at_boundary && at_boundary(run.x)));
    };
    for (const auto& start : starts) {
        Run run = bfgs(objective, start, options.max_iterations, options.interrupts, at_boundary);
        iterations += run.iterations;
        if (run.converged)
            converged_f.push_back(run.f);
        else if (boundary(run))
            boundary_f.push_back(run.f);
        if (better(run, best))
            best = run;
        // Two runs that end at a boundary at the same objective: the
        // likelihood rises towards it from different starts.
        if (!best.converged && boundary(best)) {
            int agreeing = 0;
            for (double f : boundary_f)
                if (std::fabs(f - best.f) <= 1e-8 * (1 + std::fabs(best.f)))
                    ++agreeing;
            if (agreeing >= 2)
                break;
        }
        // Enough converged runs at the same optimum: no need for more starts.
        if (best.converged) {
            int agreeing = 0;
            for (double f : converged_f)
                if (std::fabs(f - best.f) <= 1e-9 * (1 + std::fabs(best.f)))
                    ++agreeing;
            if (agreeing >= confirmations)
                break;
        }
    }
    // Nelder-Mead when no BFGS run converged, unless the best point already
    // lies past the converged box: the likelihood then increases towards a
    // parameter 0 or infinity, which no local search can turn into a
    // converged estimate.
    if (!best.converged && !boundary(best)) {
        const std::vector<double> from = std::isfinite(best.f) ? best.x : starts.front();
        Run nm = nelder_mead(objective, from, 20 * options.max_iterations, options.interrupts);
        iterations += nm.iterations;
        if (better(nm, best))
            best = nm;
        if (std::isfinite(nm.f)) {
            Run polish = bfgs(objective, nm.x, options.max_iterations, options.interrupts, at_boundary);
            iterations += polish.iterations;
            if (better(polish, best) ||
                (polish.converged && !best.converged && polish.f <= best.f + 1e-12 * (1 + std::fabs(best.f))))
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

std::vector<double> covariance(const LogLikelihood& ll, const std::vector<double>& theta) {
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
            return {};
        for (std::size_t i = 0; i < d; ++i)
            H[i * d + j] = -(gp[i] - gm[i]) / (2 * h);
    }
    for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < i; ++j)
            H[i * d + j] = H[j * d + i] = 0.5 * (H[i * d + j] + H[j * d + i]);
    // Cholesky H = L L', then H^-1 = L'^-1 L^-1 column by column.
    std::vector<double> L(d * d, 0.0);
    for (std::size_t j = 0; j < d; ++j) {
        double v = H[j * d + j];
        for (std::size_t k = 0; k < j; ++k)
            v -= L[j * d + k] * L[j * d + k];
        if (!(v > 0) || !std::isfinite(v))
            return {};
        L[j * d + j] = std::sqrt(v);
        for (std::size_t i = j + 1; i < d; ++i) {
            double w = H[i * d + j];
            for (std::size_t k = 0; k < j; ++k)
                w -= L[i * d + k] * L[j * d + k];
            L[i * d + j] = w / L[j * d + j];
        }
    }
    std::vector<double> out(d * d), u(d), x(d);
    for (std::size_t c = 0; c < d; ++c) {
        for (std::size_t r = 0; r < d; ++r) {  // L u = e_c
            double v = r == c ? 1.0 : 0.0;
            for (std::size_t k = 0; k < r; ++k)
                v -= L[r * d + k] * u[k];
            u[r] = v / L[r * d + r];
        }
        for (std::size_t r = d; r-- > 0;) {  // L' x = u
            double v = u[r];
            for (std::size_t k = r + 1; k < d; ++k)
                v -= L[k * d + r] * x[k];
            x[r] = v / L[r * d + r];
        }
        for (std::size_t r = 0; r < d; ++r)
            out[r * d + c] = x[r];
    }
    for (std::size_t i = 0; i < d; ++i)  // exactly symmetric
        for (std::size_t j = 0; j < i; ++j)
            out[i * d + j] = out[j * d + i] = 0.5 * (out[i * d + j] + out[j * d + i]);
    for (double v : out)
        if (!std::isfinite(v))
            return {};
    return out;
}

std::vector<double> standard_errors(const LogLikelihood& ll, const std::vector<double>& theta,
                                    std::size_t log_parameters) {
    const std::size_t d = theta.size();
    const std::vector<double> cov = covariance(ll, theta);
    if (cov.size() != d * d)
        throw Error(ErrorKind::numeric_value_out_of_range, "standard errors could not be computed",
                    "The observed information at the estimate is not positive definite or cannot be evaluated.");
    std::vector<double> se(d);
    for (std::size_t i = 0; i < d; ++i)
        se[i] = std::sqrt(cov[i * d + i]) * (i < log_parameters ? std::exp(theta[i]) : 1.0);  // delta method
    return se;
}

}  // namespace btyd_detail
}  // namespace customer_analytics
