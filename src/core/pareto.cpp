#include "pareto.hpp"
#include "sort.hpp"
#include "state_format.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "no_postgres.hpp"

namespace customer_analytics {

namespace {

void require_param(bool ok, const char* message, const std::string& detail = {}) {
    if (!ok)
        throw Error(ErrorKind::invalid_parameter_value, message, detail);
}

int64_t checked_add(int64_t a, int64_t b) {
    int64_t out = 0;
    if (__builtin_add_overflow(a, b, &out))
        throw Error(ErrorKind::numeric_value_out_of_range, "count out of range");
    return out;
}

bool in_unit(double x) { return std::isfinite(x) && x >= 0.0 && x <= 1.0; }

}  // namespace

// ---------------------------------------------------------------------------
// SpendSample
// ---------------------------------------------------------------------------

void SpendSample::add(double spend, NegativeSpend negative) {
    if (values_.size() >= kMaxSpendCustomers)
        throw Error(ErrorKind::program_limit_exceeded, "too many customers for a Pareto diagnosis",
                    "The limit is " + std::to_string(kMaxSpendCustomers) + " customers.", "Use a sample.");
    if (!std::isfinite(spend))
        throw Error(ErrorKind::data_exception, "spend must be a finite number");
    if (spend < 0.0) {
        switch (negative) {
        case NegativeSpend::reject:
            throw Error(ErrorKind::data_exception, "spend must not be negative",
                        "The Pareto diagnosis and the Gini coefficient are defined for non-negative spends.",
                        "Clamp negative spends to zero or exclude them.");
        case NegativeSpend::clamp_to_zero:
            clamped_ = checked_add(clamped_, 1);
            spend = 0.0;
            break;
        case NegativeSpend::exclude:
            excluded_ = checked_add(excluded_, 1);
            return;
        default:
            throw Error(ErrorKind::invalid_parameter_value, "unknown negative spend policy");
        }
    }
    values_.push_back(spend == 0.0 ? 0.0 : spend);  // -0.0 -> 0.0
}

void SpendSample::merge(const SpendSample& other) {
    const int64_t c = checked_add(clamped_, other.clamped_);
    const int64_t e = checked_add(excluded_, other.excluded_);
    if (&other == this) {
        const std::size_t n = values_.size();
        values_.reserve(2 * n);
        for (std::size_t i = 0; i < n; ++i)
            values_.push_back(values_[i]);
    } else {
        values_.insert(values_.end(), other.values_.begin(), other.values_.end());
    }
    clamped_ = c;
    excluded_ = e;
}

void write_spend_state(StateWriter& w, const double* parameters, uint32_t parameter_count, const double* spends,
                       uint32_t spend_count) {
    w.header(StateKind::spend_sample);
    w.u32(parameter_count);
    w.f64_array(parameters, parameter_count);
    w.u32(spend_count);
    w.f64_array(spends, spend_count);
}

void read_spend_state(const Arena& arena, const uint8_t* data, std::size_t size, FlatArray<double>* parameters,
                      FlatArray<double>* spends) {
    StateReader r(data, size, StateKind::spend_sample);
    FlatArray<double> p;
    const uint32_t parameter_count = r.count("parameter count", sizeof(double), kMaxSpendParameters);
    p.reserve(arena, parameter_count);
    r.finite_f64_array(p.data, parameter_count, "parameter");
    p.size = parameter_count;
    for (double v : p)
        if (v < 0 || v > 100000)
            r.fail("A parameter is out of range.");
    FlatArray<double> s;
    const uint32_t spend_count = r.count("spend count", sizeof(double));
    s.reserve(arena, spend_count);
    r.finite_f64_array(s.data, spend_count, "spend");
    s.size = spend_count;
    for (double v : s)
        if (v < 0)
            r.fail("A spend is negative.");
    r.finish();
    *parameters = p;
    *spends = s;
}

// ---------------------------------------------------------------------------
// ParetoDiagnosis
// ---------------------------------------------------------------------------

ParetoDiagnosis::ParetoDiagnosis(std::vector<double> spends, const Interrupts& interrupts)
    : ascending_(std::move(spends)) {
    if (ascending_.empty())
        throw Error(ErrorKind::data_exception, "pareto diagnosis needs at least one customer");
    if (ascending_.size() > kMaxSpendCustomers)
        throw Error(ErrorKind::program_limit_exceeded, "too many customers for a Pareto diagnosis",
                    "The limit is " + std::to_string(kMaxSpendCustomers) + " customers.", "Use a sample.");
    for (double& v : ascending_) {
        if (!std::isfinite(v) || v < 0.0)
            throw Error(ErrorKind::data_exception, "spend must be a finite non-negative number");
        if (v == 0.0)
            v = 0.0;
    }
    sort_interruptible(ascending_.data(), ascending_.data() + ascending_.size(), std::less<double>(), interrupts);
    long double t = 0;
    for (double v : ascending_)
        t += v;
    total_ = t;
    if (!std::isfinite(static_cast<double>(total_)))
        throw Error(ErrorKind::numeric_value_out_of_range, "total spend is out of range");
}

int64_t ParetoDiagnosis::top_count(double f) const {
    require_param(in_unit(f), "top fraction must be between 0 and 1");
    const auto n = static_cast<long double>(ascending_.size());
    const long double t = static_cast<long double>(f) * n;
    const long double r = std::nearbyint(t);
    long double k = std::fabs(t - r) <= 1e-9L * std::max<long double>(1.0L, t) ? r : std::ceil(t);
    if (k < 0)
        k = 0;
    if (k > n)
        k = n;
    return static_cast<int64_t>(k);
}

double ParetoDiagnosis::pareto_share(double f) const {
    const int64_t k = top_count(f);
    const std::size_t n = ascending_.size();
    if (total_ == 0)
        return static_cast<double>(k) / static_cast<double>(n);
    long double top = 0;
    for (std::size_t i = n - static_cast<std::size_t>(k); i < n; ++i)
        top += ascending_[i];
    const double share = static_cast<double>(top / total_);
    return std::min(1.0, std::max(0.0, share));
}

double ParetoDiagnosis::gini() const {
    const std::size_t n = ascending_.size();
    if (total_ == 0 || n == 1)
        return 0.0;
    const long double nn = static_cast<long double>(n);
    long double acc = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const long double w = 2.0L * static_cast<long double>(i + 1) - nn - 1.0L;
        acc += w * ascending_[i];
    }
    const double g = static_cast<double>(acc / (nn * total_));
    return std::min(1.0, std::max(0.0, g));
}

std::vector<LorenzPoint> ParetoDiagnosis::lorenz(const std::vector<double>& ps) const {
    for (std::size_t i = 0; i < ps.size(); ++i) {
        require_param(in_unit(ps[i]), "customer shares must be between 0 and 1");
        require_param(i == 0 || ps[i - 1] <= ps[i], "customer shares must be in ascending order");
    }
    const std::size_t n = ascending_.size();
    const long double nn = static_cast<long double>(n);
    std::vector<LorenzPoint> out;
    out.reserve(ps.size());
    std::size_t j = 0;    // number of values summed into cum
    long double cum = 0;  // sum of the j smallest values
    for (double p : ps) {
        if (total_ == 0) {
            out.push_back({p, p});
            continue;
        }
        long double t = static_cast<long double>(p) * nn;
        const long double r = std::nearbyint(t);
        if (std::fabs(t - r) <= 1e-9L * std::max<long double>(1.0L, t))
            t = r;
        auto whole = static_cast<std::size_t>(std::floor(t));
        if (whole > n)
            whole = n;
        while (j < whole)
            cum += ascending_[j++];
        long double part = cum;
        if (whole < n)
            part += (t - static_cast<long double>(whole)) * ascending_[whole];
        double share = static_cast<double>(part / total_);
        share = std::min(1.0, std::max(0.0, share));
        if (p == 1.0)
            share = 1.0;
        out.push_back({p, share});
    }
    return out;
}

std::vector<LorenzPoint> ParetoDiagnosis::lorenz(int64_t segments) const {
    require_param(segments >= 1 && segments <= 100000, "number of lorenz segments must be between 1 and 100000");
    std::vector<double> ps(static_cast<std::size_t>(segments) + 1);
    for (int64_t i = 0; i <= segments; ++i)
        ps[static_cast<std::size_t>(i)] = static_cast<double>(i) / static_cast<double>(segments);
    return lorenz(ps);
}

double ParetoDiagnosis::top_threshold(double f) const {
    require_param(in_unit(f) && f > 0.0, "top fraction must be greater than 0 and at most 1");
    int64_t k = top_count(f);
    if (k < 1)
        k = 1;  // a positive fraction always names at least the top customer
    return ascending_[ascending_.size() - static_cast<std::size_t>(k)];
}

std::vector<double> ParetoDiagnosis::tier_thresholds(const std::vector<double>& fractions) const {
    std::vector<double> out;
    out.reserve(fractions.size());
    for (double f : fractions)
        out.push_back(top_threshold(f));
    return out;
}

std::vector<ParetoDiagnosis::TierRow> ParetoDiagnosis::tier_funnel(const std::vector<double>& thresholds) const {
    for (std::size_t i = 0; i < thresholds.size(); ++i) {
        require_param(std::isfinite(thresholds[i]), "tier thresholds must be finite numbers");
        require_param(i == 0 || thresholds[i - 1] < thresholds[i], "tier thresholds must be strictly ascending");
    }
    const std::size_t n = ascending_.size();
    std::vector<TierRow> rows;
    rows.reserve(thresholds.size() + 1);
    std::size_t from = 0;
    for (std::size_t t = 0; t <= thresholds.size(); ++t) {
        const std::size_t to =
            t < thresholds.size()
                ? static_cast<std::size_t>(std::lower_bound(ascending_.begin(), ascending_.end(), thresholds[t]) -
                                           ascending_.begin())
                : n;
        long double rev = 0;
        for (std::size_t i = from; i < to; ++i)
            rev += ascending_[i];
        const double cshare = static_cast<double>(to - from) / static_cast<double>(n);
        rows.push_back(TierRow{static_cast<int64_t>(to - from), static_cast<double>(rev), cshare,
                               total_ == 0 ? cshare : static_cast<double>(rev / total_)});
        from = to;
    }
    return rows;
}

ValueBandCuts ParetoDiagnosis::default_value_band_cuts() const {
    return ValueBandCuts{top_threshold(0.5), top_threshold(0.2)};
}

}  // namespace customer_analytics
