#include "campaign.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <boost/math/distributions/normal.hpp>

#include "state_format.hpp"

#include "no_postgres.hpp"

namespace customer_analytics {

namespace {

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t absorb(uint64_t h, uint64_t w) { return mix((h ^ w) + kGolden); }

uint64_t absorb_bytes(uint64_t h, std::string_view b) {
    h = absorb(h, static_cast<uint64_t>(b.size()));
    for (std::size_t i = 0; i < b.size(); i += 8) {
        uint64_t w = 0;
        const std::size_t n = std::min<std::size_t>(8, b.size() - i);
        for (std::size_t j = 0; j < n; ++j)
            w |= static_cast<uint64_t>(static_cast<unsigned char>(b[i + j])) << (8 * j);
        h = absorb(h, w);
    }
    return h;
}

double to_unit(uint64_t h) { return static_cast<double>(h >> 11) * 0x1.0p-53; }

void check_fraction(double f) {
    if (!(std::isfinite(f) && f >= 0.0 && f <= 1.0))
        throw Error(ErrorKind::invalid_parameter_value, "holdout fraction must be between 0 and 1");
}

int64_t checked_add(int64_t a, int64_t b) {
    int64_t out = 0;
    if (__builtin_add_overflow(a, b, &out))
        throw Error(ErrorKind::numeric_value_out_of_range, "count out of range");
    return out;
}

// Neumaier compensated addition of x into (sum, comp).
void neumaier(double& sum, double& comp, double x) {
    const double t = sum + x;
    if (std::fabs(sum) >= std::fabs(x))
        comp += (sum - t) + x;
    else
        comp += (x - t) + sum;
    sum = t;
}

struct Wilson {
    double low, high;
};

// Wilson score interval for r successes out of n >= 1 trials.
Wilson wilson(int64_t r, int64_t n, double z) {
    const long double N = n, R = r, z2 = static_cast<long double>(z) * z;
    const long double center = (R + z2 / 2) / (N + z2);
    const long double half = static_cast<long double>(z) * std::sqrt(R * (N - R) / N + z2 / 4) / (N + z2);
    double lo = static_cast<double>(center - half), hi = static_cast<double>(center + half);
    // exact at the boundaries
    if (r == 0)
        lo = 0.0;
    if (r == n)
        hi = 1.0;
    return {std::max(0.0, lo), std::min(1.0, hi)};
}

}  // namespace

// ---------------------------------------------------------------------------
// Holdout
// ---------------------------------------------------------------------------

uint64_t holdout_hash(int64_t key, std::string_view salt) {
    const uint64_t h = absorb(absorb(absorb_bytes(0, salt), ~uint64_t{0}), static_cast<uint64_t>(key));
    return mix(h + kGolden);
}

uint64_t holdout_hash(std::string_view key, std::string_view salt) {
    return mix(absorb_bytes(absorb_bytes(0, salt), key) + kGolden);
}

double holdout_unit(int64_t key, std::string_view salt) { return to_unit(holdout_hash(key, salt)); }
double holdout_unit(std::string_view key, std::string_view salt) { return to_unit(holdout_hash(key, salt)); }

bool holdout(int64_t key, double fraction, std::string_view salt) {
    check_fraction(fraction);
    return holdout_unit(key, salt) < fraction;
}

bool holdout(std::string_view key, double fraction, std::string_view salt) {
    check_fraction(fraction);
    return holdout_unit(key, salt) < fraction;
}

// ---------------------------------------------------------------------------
// CampaignState
// ---------------------------------------------------------------------------

void CampaignState::add(bool in_holdout, bool responded, double revenue) {
    if (!std::isfinite(revenue))
        throw Error(ErrorKind::data_exception, "revenue must be a finite number");
    if (in_holdout) {
        const int64_t n = checked_add(holdout_, 1);
        const int64_t r = responded ? checked_add(holdout_responders_, 1) : holdout_responders_;
        holdout_ = n;
        holdout_responders_ = r;
        neumaier(holdout_revenue_, holdout_comp_, revenue);
    } else {
        const int64_t n = checked_add(treated_, 1);
        const int64_t r = responded ? checked_add(treated_responders_, 1) : treated_responders_;
        treated_ = n;
        treated_responders_ = r;
        neumaier(treated_revenue_, treated_comp_, revenue);
    }
}

void CampaignState::merge(const CampaignState& o) {
    CampaignState m = *this;
    m.treated_ = checked_add(treated_, o.treated_);
    m.treated_responders_ = checked_add(treated_responders_, o.treated_responders_);
    m.holdout_ = checked_add(holdout_, o.holdout_);
    m.holdout_responders_ = checked_add(holdout_responders_, o.holdout_responders_);
    neumaier(m.treated_revenue_, m.treated_comp_, o.treated_revenue_);
    m.treated_comp_ += o.treated_comp_;
    neumaier(m.holdout_revenue_, m.holdout_comp_, o.holdout_revenue_);
    m.holdout_comp_ += o.holdout_comp_;
    *this = m;
}

CampaignCounts CampaignState::counts() const {
    CampaignCounts c;
    c.treated = treated_;
    c.treated_responders = treated_responders_;
    c.treated_revenue = treated_revenue_ + treated_comp_;
    c.holdout = holdout_;
    c.holdout_responders = holdout_responders_;
    c.holdout_revenue = holdout_revenue_ + holdout_comp_;
    if (!std::isfinite(c.treated_revenue) || !std::isfinite(c.holdout_revenue))
        throw Error(ErrorKind::numeric_value_out_of_range, "revenue total is out of range");
    return c;
}

void write_campaign_state(StateWriter& w, const CampaignState& s, const CampaignParams& p) {
    for (double v : {s.treated_revenue_, s.treated_comp_, s.holdout_revenue_, s.holdout_comp_})
        if (!std::isfinite(v))
            throw Error(ErrorKind::numeric_value_out_of_range, "revenue total is out of range");
    w.header(StateKind::campaign_report);
    w.f64(p.confidence);
    w.f64(p.cost);
    w.i64(s.treated_);
    w.i64(s.treated_responders_);
    w.i64(s.holdout_);
    w.i64(s.holdout_responders_);
    w.f64(s.treated_revenue_);
    w.f64(s.treated_comp_);
    w.f64(s.holdout_revenue_);
    w.f64(s.holdout_comp_);
}

CampaignState read_campaign_state(const uint8_t* data, std::size_t size, CampaignParams* params) {
    StateReader r(data, size, StateKind::campaign_report);
    CampaignParams p;
    p.confidence = r.finite_f64("confidence level");
    p.cost = r.finite_f64("cost");
    CampaignState s;
    s.treated_ = r.i64("treated count");
    s.treated_responders_ = r.i64("treated responder count");
    s.holdout_ = r.i64("holdout count");
    s.holdout_responders_ = r.i64("holdout responder count");
    s.treated_revenue_ = r.finite_f64("treated revenue");
    s.treated_comp_ = r.finite_f64("treated revenue compensation");
    s.holdout_revenue_ = r.finite_f64("holdout revenue");
    s.holdout_comp_ = r.finite_f64("holdout revenue compensation");
    r.finish();
    if (!(p.confidence > 0.0 && p.confidence < 1.0))
        r.fail("The confidence level is not between 0 and 1.");
    if (p.cost < 0.0)
        r.fail("The cost is negative.");
    if (s.treated_ < 0 || s.holdout_ < 0 || s.treated_responders_ < 0 || s.holdout_responders_ < 0 ||
        s.treated_responders_ > s.treated_ || s.holdout_responders_ > s.holdout_)
        r.fail("A responder count is not between 0 and its customer count.");
    if (!std::isfinite(s.treated_revenue_ + s.treated_comp_) || !std::isfinite(s.holdout_revenue_ + s.holdout_comp_))
        r.fail("A revenue total is not a finite number.");
    *params = p;
    return s;
}

// ---------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------

CampaignReport campaign_report(const CampaignCounts& c, const CampaignParams& p) {
    if (c.treated < 0 || c.holdout < 0 || c.treated_responders < 0 || c.holdout_responders < 0)
        throw Error(ErrorKind::data_exception, "campaign counts must not be negative");
    if (c.treated_responders > c.treated || c.holdout_responders > c.holdout)
        throw Error(ErrorKind::data_exception, "responders cannot outnumber customers");
    if (!std::isfinite(c.treated_revenue) || !std::isfinite(c.holdout_revenue))
        throw Error(ErrorKind::data_exception, "revenue must be a finite number");
    if (!(std::isfinite(p.confidence) && p.confidence > 0.0 && p.confidence < 1.0))
        throw Error(ErrorKind::invalid_parameter_value, "confidence level must be between 0 and 1",
                    "The level must be greater than 0 and less than 1, e.g. 0.95.");
    if (!(std::isfinite(p.cost) && p.cost >= 0.0))
        throw Error(ErrorKind::invalid_parameter_value, "campaign cost must be a finite non-negative number");

    CampaignReport r;
    const long double nt = c.treated, nh = c.holdout;
    if (c.treated > 0) {
        r.treated_rate = static_cast<double>(c.treated_responders / nt);
        r.revenue_per_treated = static_cast<double>(c.treated_revenue / nt);
    }
    if (c.holdout > 0) {
        r.holdout_rate = static_cast<double>(c.holdout_responders / nh);
        r.revenue_per_holdout = static_cast<double>(c.holdout_revenue / nh);
    }
    if (c.treated == 0 || c.holdout == 0)
        return r;

    const long double pt = c.treated_responders / nt, ph = c.holdout_responders / nh;
    const long double diff = pt - ph;
    r.absolute_lift = static_cast<double>(diff);
    if (c.holdout_responders > 0)
        r.relative_lift = static_cast<double>(diff / ph);
    r.incremental_responders = static_cast<double>(diff * nt);

    const boost::math::normal_distribution<double> std_normal(0.0, 1.0);
    const double zq = boost::math::quantile(std_normal, 1.0 - (1.0 - p.confidence) / 2.0);
    const Wilson wt = wilson(c.treated_responders, c.treated, zq);
    const Wilson wh = wilson(c.holdout_responders, c.holdout, zq);
    const long double lo = diff - std::sqrt((pt - wt.low) * (pt - wt.low) + (wh.high - ph) * (wh.high - ph));
    const long double hi = diff + std::sqrt((wt.high - pt) * (wt.high - pt) + (ph - wh.low) * (ph - wh.low));
    r.lift_ci_low = std::max(-1.0, static_cast<double>(lo));
    r.lift_ci_high = std::min(1.0, static_cast<double>(hi));

    const long double pooled = (static_cast<long double>(c.treated_responders) + c.holdout_responders) / (nt + nh);
    const long double se = std::sqrt(pooled * (1 - pooled) * (1 / nt + 1 / nh));
    if (se > 0) {
        const double z = static_cast<double>(diff / se);
        r.z = z;
        r.p_value = std::min(1.0, 2.0 * boost::math::cdf(boost::math::complement(std_normal, std::fabs(z))));
    } else {
        r.z = 0.0;
        r.p_value = 1.0;
    }

    const long double rev_lift = static_cast<long double>(c.treated_revenue) / nt - c.holdout_revenue / nh;
    r.revenue_lift = static_cast<double>(rev_lift);
    const long double inc = rev_lift * nt;
    r.incremental_revenue = static_cast<double>(inc);
    if (p.cost > 0)
        r.roi = static_cast<double>((inc - p.cost) / p.cost);
    if ((r.incremental_revenue && !std::isfinite(*r.incremental_revenue)) || (r.roi && !std::isfinite(*r.roi)))
        throw Error(ErrorKind::numeric_value_out_of_range, "incremental revenue is out of range");
    return r;
}

}  // namespace customer_analytics
