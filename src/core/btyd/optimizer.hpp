// The optimizer of the Buy-Till-You-Die fits: maximum likelihood in
// log-parameter space by BFGS from several starts, Nelder-Mead when none
// converges, a check that the optimum determines every parameter, and
// standard errors from the observed information. Internal to this folder.
#pragma once

#include <functional>
#include <vector>

#include "btyd.hpp"

namespace customer_analytics {
namespace btyd_detail {

// Objective for the optimizer: returns the value to minimise at theta and,
// when grad != nullptr, its gradient. Returns +infinity (never NaN) at
// points where the model cannot be evaluated.
using Objective = std::function<double(const std::vector<double>& theta, std::vector<double>* grad)>;
// A log-likelihood evaluator: total weighted LL at theta (log-parameters)
// and optionally its gradient in theta; may return -infinity or NaN, or
// throw a non-cancel Error / Boost exception, at bad points.
using LogLikelihood = std::function<double(const std::vector<double>& theta, std::vector<double>* grad)>;

// Wraps a value-only LL into one with a central-difference gradient.
LogLikelihood with_numeric_gradient(std::function<double(const std::vector<double>& theta)> ll);

// -LL / total_weight + l2 * |theta|^2, with exceptions other than
// cancellation and bad_alloc turned into +infinity.
Objective penalized_objective(LogLikelihood ll, double total_weight, double l2);

struct OptimizeResult {
    std::vector<double> theta;
    double f = 0;
    bool converged = false;
    int iterations = 0;
};

// True at points that are, for the model, at a limit of its parameter
// space (where the likelihood can only approach its supremum): runs there
// stop as soon as progress stalls, like runs past the box of converged
// estimates.
using BoundaryTest = std::function<bool(const std::vector<double>& theta)>;

// BFGS from each start in turn, stopping early once `confirmations`
// converged runs agree on the optimum (or two runs end at a boundary with
// the same objective), then Nelder-Mead + BFGS polish if none converged and
// the best point is not at a boundary. Returns the lowest point found. A
// point counts as converged when the gradient is small, the point is inside
// the box and the objective's observed information (total_weight times its
// Hessian, taken by differences of the gradient, or of values when
// numeric_gradient) determines every log-parameter to a standard error of
// at most 5.
OptimizeResult minimize(const Objective& objective, const std::vector<std::vector<double>>& starts,
                        const BtydFitOptions& options, int confirmations, double total_weight, bool numeric_gradient,
                        const BoundaryTest& at_boundary = BoundaryTest());

// Validates options (l2_penalty finite >= 0, max_iterations >= 1).
void check_fit_options(const BtydFitOptions& options);

// Standard errors from the observed information of the LL (its gradient is
// differenced numerically): of exp(theta_i) for the first log_parameters
// coordinates (delta method), of theta_i itself for the others.
std::vector<double> standard_errors(const LogLikelihood& ll, const std::vector<double>& theta,
                                    std::size_t log_parameters = static_cast<std::size_t>(-1));

// The covariance of theta (the inverse observed information of the LL,
// its gradient differenced numerically), d x d row-major; empty when the
// information is not positive definite or cannot be evaluated.
std::vector<double> covariance(const LogLikelihood& ll, const std::vector<double>& theta);

}  // namespace btyd_detail
}  // namespace customer_analytics
