// Campaigns: deterministic hash-based holdout assignment, and the response /
// revenue / lift report of a campaign against its holdout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "error.hpp"

namespace customer_analytics {

class StateWriter;
struct CampaignParams;

// ---------------------------------------------------------------------------
// Holdout assignment
// ---------------------------------------------------------------------------
//
// The hash, exactly (all arithmetic modulo 2^64; G = 0x9e3779b97f4a7c15):
//   mix(z)       = z ^= z >> 30; z *= 0xbf58476d1ce4e5b9;
//                  z ^= z >> 27; z *= 0x94d049bb133111eb; z ^ (z >> 31)
//                  (the SplitMix64 finalizer)
//   absorb(h, w) = mix((h XOR w) + G)
//   absorb_bytes(h, b) = h = absorb(h, len(b)); then for each 8-byte chunk
//                  w of b, read little-endian with the last chunk
//                  zero-padded: h = absorb(h, w)
//   holdout_hash(key, salt):
//                  h = absorb_bytes(0, salt bytes)
//                  int64 key: h = absorb(absorb(h, 2^64 - 1), uint64(key))
//                             (two's complement)
//                  text key:  h = absorb_bytes(h, key bytes) (as stored, UTF-8)
//                  result mix(h + G)
//   holdout_unit = (holdout_hash >> 11) * 2^-53, uniform in [0, 1)
//   holdout      = holdout_unit < fraction
// In Python:
//   M = 2**64 - 1; G = 0x9e3779b97f4a7c15
//   def mix(z):
//       z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
//       z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
//       return z ^ (z >> 31)
//   def absorb(h, w): return mix(((h ^ w) + G) & M)
//   def absorb_bytes(h, b):
//       h = absorb(h, len(b))
//       for i in range(0, len(b), 8):
//           h = absorb(h, int.from_bytes(b[i:i + 8].ljust(8, b'\0'), 'little'))
//       return h
//   def holdout_hash(key, salt):
//       h = absorb_bytes(0, salt.encode())
//       if isinstance(key, int): h = absorb(absorb(h, M), key & M)
//       else: h = absorb_bytes(h, key.encode())
//       return mix((h + G) & M)
//   def holdout(key, fraction, salt):
//       return (holdout_hash(key, salt) >> 11) * 2.0**-53 < fraction
// Properties: the same (key, salt) always gives the same answer; the units
// are uniform; different salts give independent assignments (use the
// campaign name as the salt); holdouts are nested: a key held out at
// fraction f is held out at every larger fraction with the same salt. An
// int64 key and its decimal text are different keys.
uint64_t holdout_hash(int64_t key, std::string_view salt);
uint64_t holdout_hash(std::string_view key, std::string_view salt);
double holdout_unit(int64_t key, std::string_view salt);
double holdout_unit(std::string_view key, std::string_view salt);
// fraction in [0, 1] (else invalid_parameter_value): 0 holds out nobody,
// 1 everybody.
bool holdout(int64_t key, double fraction, std::string_view salt);
bool holdout(std::string_view key, double fraction, std::string_view salt);

// ---------------------------------------------------------------------------
// Campaign report
// ---------------------------------------------------------------------------

struct CampaignCounts {
    int64_t treated = 0;             // contacted customers
    int64_t treated_responders = 0;  // of whom responded
    double treated_revenue = 0;      // their revenue (any sign; refunds allowed)
    int64_t holdout = 0;             // held-out customers
    int64_t holdout_responders = 0;
    double holdout_revenue = 0;
};

// Mergeable state over customers (in_holdout, responded, revenue).
// Trivially copyable. Revenue sums are compensated (Neumaier), so merging
// in any order agrees with one pass to within rounding of the last bit.
class CampaignState {
public:
    // revenue finite (else data_exception).
    void add(bool in_holdout, bool responded, double revenue = 0.0);
    void merge(const CampaignState& other);
    CampaignCounts counts() const;

private:
    friend void write_campaign_state(StateWriter&, const CampaignState&, const CampaignParams&);
    friend CampaignState read_campaign_state(const uint8_t*, std::size_t, CampaignParams*);
    int64_t treated_ = 0, treated_responders_ = 0, holdout_ = 0, holdout_responders_ = 0;
    double treated_revenue_ = 0, treated_comp_ = 0, holdout_revenue_ = 0, holdout_comp_ = 0;
};

// confidence: level of the interval for the difference of response rates,
// in (0, 1), default 0.95. cost: total campaign cost, finite and >= 0,
// default 0 (no ROI).
struct CampaignParams {
    double confidence = 0.95;
    double cost = 0.0;
};

// Every field is std::nullopt (SQL NULL) when undefined: the treated-side
// measures when treated = 0, the holdout-side ones when holdout = 0, every
// comparison when either is 0, relative_lift when the holdout rate is 0, roi
// when cost = 0.
struct CampaignReport {
    std::optional<double> treated_rate;         // treated_responders / treated
    std::optional<double> holdout_rate;         // holdout_responders / holdout
    std::optional<double> revenue_per_treated;  // treated_revenue / treated
    std::optional<double> revenue_per_holdout;  // holdout_revenue / holdout
    std::optional<double> absolute_lift;        // treated_rate - holdout_rate
    std::optional<double> relative_lift;        // absolute_lift / holdout_rate
    // Confidence interval for treated_rate - holdout_rate: Newcombe's hybrid
    // score interval (method 10 of Newcombe 1998, from the two Wilson score
    // intervals), z = the normal quantile at 1 - (1 - confidence) / 2. Good
    // coverage also for small counts and rates near 0 or 1.
    std::optional<double> lift_ci_low;
    std::optional<double> lift_ci_high;
    // Pooled two-proportion z test of equal rates: z and two-sided p-value.
    // When the pooled rate is 0 or 1 (nobody, or everybody, responded) z = 0
    // and p = 1.
    std::optional<double> z;
    std::optional<double> p_value;
    std::optional<double> incremental_responders;  // absolute_lift * treated
    std::optional<double> revenue_lift;            // revenue_per_treated - revenue_per_holdout
    std::optional<double> incremental_revenue;     // revenue_lift * treated
    std::optional<double> roi;                     // (incremental_revenue - cost) / cost, cost > 0
};

// Errors: negative counts, responders > customers, non-finite revenue ->
// data_exception; confidence outside (0, 1), cost negative or not finite ->
// invalid_parameter_value.
CampaignReport campaign_report(const CampaignCounts& counts, const CampaignParams& params = {});

// Serialized campaign_report state (state_format.hpp): confidence and cost,
// the four counts, then the two compensated revenue sums. A revenue sum that
// is no longer finite cannot be written (numeric_value_out_of_range, as
// counts() raises); the reader checks the parameters as campaign_report
// does, the counts against each other, and raises
// invalid_binary_representation.
void write_campaign_state(StateWriter& writer, const CampaignState& state, const CampaignParams& params);
CampaignState read_campaign_state(const uint8_t* data, std::size_t size, CampaignParams* params);

}  // namespace customer_analytics
