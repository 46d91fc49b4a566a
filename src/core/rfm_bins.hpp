// rfm_bins: quantile cut points and means of recency, frequency and
// monetary over customers, the aggregate state that collects them, and the
// check of bins built by hand.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "arena.hpp"
#include "error.hpp"

namespace customer_analytics {

class StateWriter;

constexpr int kMinBuckets = 2;
constexpr int kMaxBuckets = 99;  // a score must fit one byte of the packed rfm_score
void check_buckets(long buckets);

// Collects recency, frequency and monetary of every customer for exact
// quantiles. as_of and buckets must be the same on every row. At most
// kMaxBinsCustomers customers (24 bytes each; program_limit_exceeded
// beyond), so that a partial state still serializes within 1 GB.
constexpr std::uint32_t kMaxBinsCustomers = 40000000;
struct BinsState {
    std::int32_t as_of_day = 0;
    std::int32_t buckets = 0;
    FlatArray<double> recency;
    FlatArray<double> frequency;
    FlatArray<double> monetary;

    void start(std::int32_t as_of_day, std::int32_t buckets);
    void add(const Arena& arena, double recency_days, double frequency_value, double monetary_value);
    void merge(const Arena& arena, const BinsState& other);
};

// Serialized bins (StateKind::rfm_bins): as_of, buckets, the customer count,
// then the recency, frequency and monetary values (finite doubles).
void write_bins_state(StateWriter& writer, const BinsState& state);
void read_bins_state(const Arena& arena, const std::uint8_t* bytes, std::size_t length, BinsState* out);

// Plain data (no heap members) so the glue can hold it across PostgreSQL calls.
struct Bins {
    std::int32_t buckets = 5;
    std::int64_t customers = 0;
    double recency_cuts[kMaxBuckets - 1] = {};  // buckets - 1 ascending cut points
    double frequency_cuts[kMaxBuckets - 1] = {};
    double monetary_cuts[kMaxBuckets - 1] = {};
    double recency_mean = 0, frequency_mean = 0, monetary_mean = 0;
};

// The value at fraction p of the sorted values, interpolating linearly between
// neighbours exactly as PostgreSQL's percentile_cont does.
double percentile_cont_sorted(const double* sorted, std::size_t count, double fraction);

// The same over count ascending values given by at(index) (a histogram read
// in place), with the one arithmetic of percentile_cont_sorted.
template <typename At>
double percentile_cont_at(At at, std::size_t count, double fraction) {
    // Same arithmetic as PostgreSQL's percentile_cont (float8 variant), so the
    // cut points agree with it to the last bit.
    const double position = fraction * static_cast<double>(count - 1);
    const auto first = static_cast<std::size_t>(std::floor(position));
    const auto second = static_cast<std::size_t>(std::ceil(position));
    const double low = at(first);
    if (first == second)
        return low;
    const double high = at(second);
    const double fraction_between = position - static_cast<double>(first);
    const double value = low + (high - low) * fraction_between;
    if (std::isfinite(value))
        return value;
    // high - low overflowed (values of opposite sign near the limits of
    // double); the weighted form cannot.
    return low * (1 - fraction_between) + high * fraction_between;
}

// The mean of count values that visit(add) passes to add in ascending order:
// summed in that order in long double, so that it does not depend on the
// order rows arrived in. The mean of finite values is finite; where long
// double has no more range than double, the sum of values near the limit
// could still overflow, so such a sum is redone on halved values.
template <typename Visit>
double mean_in_order(std::size_t count, Visit visit) {
    long double total = 0;
    visit([&total](double value) { total += value; });
    double mean = static_cast<double>(total / count);
    if (!std::isfinite(mean)) {
        total = 0;
        visit([&total](double value) { total += value / 2; });
        mean = static_cast<double>(total / count) * 2;
    }
    return mean;
}

// Cut point j (1..buckets-1) is percentile_cont(j / buckets). Sorts the state's
// arrays in place (polling interrupts). With no customers, returns zero
// customers and empty cuts. Cuts and means are always finite: where
// percentile_cont's interpolation low + (high - low) * f would overflow
// (values near the limits of double), the same point is computed as
// low * (1 - f) + high * f.
Bins compute_bins(BinsState& state, const Interrupts& interrupts = Interrupts{});
// The same from arrays already ascending (merged from sorted parts).
Bins bins_of_sorted(const BinsState& state);

// Validates bins built by hand (e.g. ROW(...)::rfm_bins): cut arrays of
// buckets - 1 finite ascending values.
void check_bins(int buckets, const double* recency_cuts, std::size_t recency_count, const double* frequency_cuts,
                std::size_t frequency_count, const double* monetary_cuts, std::size_t monetary_count);

}  // namespace customer_analytics
