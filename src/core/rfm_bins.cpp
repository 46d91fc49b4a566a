#include "rfm_bins.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "error.hpp"
#include "sort.hpp"
#include "state_format.hpp"

#include "no_postgres.hpp"

namespace customer_analytics {

void check_buckets(long buckets) {
    if (buckets < kMinBuckets || buckets > kMaxBuckets)
        throw Error(ErrorKind::invalid_parameter_value,
                    "buckets must be between " + std::to_string(kMinBuckets) + " and " + std::to_string(kMaxBuckets),
                    "The value given was " + std::to_string(buckets) + ".");
}

void BinsState::start(std::int32_t day, std::int32_t bucket_count) {
    check_buckets(bucket_count);
    as_of_day = day;
    buckets = bucket_count;
}

namespace {

void check_bins_customers(std::uint64_t customers) {
    if (customers > kMaxBinsCustomers)
        throw Error(ErrorKind::program_limit_exceeded,
                    "rfm_bins accepts at most " + std::to_string(kMaxBinsCustomers) + " customers",
                    "It keeps recency, frequency and monetary of every customer to compute exact quantiles.",
                    "Compute the bins on a sample of the customers, e.g. with TABLESAMPLE.");
}

}  // namespace

void BinsState::add(const Arena& arena, double recency_days, double frequency_value, double monetary_value) {
    check_bins_customers(std::uint64_t(recency.size) + 1);
    recency.push_back(arena, recency_days);
    frequency.push_back(arena, frequency_value);
    monetary.push_back(arena, monetary_value);
}

void BinsState::merge(const Arena& arena, const BinsState& other) {
    if (buckets == 0) {
        as_of_day = other.as_of_day;
        buckets = other.buckets;
    } else if (other.buckets != 0 && (other.buckets != buckets || other.as_of_day != as_of_day)) {
        throw Error(ErrorKind::invalid_parameter_value, "rfm_bins needs the same as_of and buckets on every row");
    }
    check_bins_customers(std::uint64_t(recency.size) + other.recency.size);
    recency.append(arena, other.recency.data, other.recency.size);
    frequency.append(arena, other.frequency.data, other.frequency.size);
    monetary.append(arena, other.monetary.data, other.monetary.size);
}

void write_bins_state(StateWriter& writer, const BinsState& state) {
    writer.header(StateKind::rfm_bins);
    writer.i32(state.as_of_day);
    writer.u8(static_cast<std::uint8_t>(state.buckets));
    writer.u32(state.recency.size);
    writer.f64_array(state.recency.data, state.recency.size);
    writer.f64_array(state.frequency.data, state.frequency.size);
    writer.f64_array(state.monetary.data, state.monetary.size);
}

void read_bins_state(const Arena& arena, const std::uint8_t* bytes, std::size_t length, BinsState* out) {
    StateReader reader(bytes, length, StateKind::rfm_bins);
    BinsState state;
    state.as_of_day = reader.i32("as_of date");
    state.buckets = reader.u8("bucket count");
    const std::uint32_t count = reader.count("customer count", 3 * sizeof(double));
    if (state.buckets == 0) {
        // Only an empty state, never started by a row, has no buckets.
        if (count != 0 || state.as_of_day != 0)
            reader.fail("A state without buckets has customers or an as_of date.");
    } else {
        if (state.buckets < kMinBuckets || state.buckets > kMaxBuckets)
            reader.fail("The bucket count is out of range.");
        if (!valid_day(state.as_of_day))
            reader.fail("The as_of date is outside the range of PostgreSQL dates.");
    }
    const char* names[] = {"recency value", "frequency value", "monetary value"};
    FlatArray<double>* columns[] = {&state.recency, &state.frequency, &state.monetary};
    for (int c = 0; c < 3; ++c) {
        columns[c]->reserve(arena, count);
        reader.finite_f64_array(columns[c]->data, count, names[c]);
        columns[c]->size = count;
    }
    reader.finish();
    *out = state;
}

double percentile_cont_sorted(const double* sorted, std::size_t count, double fraction) {
    return percentile_cont_at([sorted](std::size_t index) { return sorted[index]; }, count, fraction);
}

namespace {

double mean_of(const FlatArray<double>& values) {
    return mean_in_order(values.size, [&values](auto add) {
        for (double value : values)
            add(value);
    });
}

void cuts_of(const FlatArray<double>& values, int buckets, double* cuts) {
    for (int j = 1; j < buckets; ++j)
        cuts[j - 1] = percentile_cont_sorted(values.data, values.size, static_cast<double>(j) / buckets);
}

void check_cuts(const char* what, int buckets, const double* cuts, std::size_t count) {
    if (count != static_cast<std::size_t>(buckets - 1))
        throw Error(ErrorKind::array_subscript_error, std::string(what) + " must have buckets - 1 elements",
                    "There are " + std::to_string(buckets) + " buckets, but " + what + " has " + std::to_string(count) +
                        " elements.");
    for (std::size_t i = 0; i < count; ++i) {
        if (!std::isfinite(cuts[i]))
            throw Error(ErrorKind::invalid_parameter_value, std::string(what) + " must be finite");
        if (i > 0 && cuts[i] < cuts[i - 1])
            throw Error(ErrorKind::invalid_parameter_value, std::string(what) + " must be in ascending order");
    }
}

}  // namespace

Bins compute_bins(BinsState& state, const Interrupts& interrupts) {
    for (FlatArray<double>* values : {&state.recency, &state.frequency, &state.monetary})
        sort_interruptible(values->begin(), values->end(), std::less<double>(), interrupts);
    return bins_of_sorted(state);
}

Bins bins_of_sorted(const BinsState& state) {
    Bins bins;
    bins.buckets = state.buckets == 0 ? 5 : state.buckets;
    bins.customers = state.recency.size;
    if (state.recency.size == 0)
        return bins;
    // Means after sorting: summing in sorted order makes them independent of
    // the order rows arrived in, so parallel and serial plans agree exactly.
    cuts_of(state.recency, bins.buckets, bins.recency_cuts);
    cuts_of(state.frequency, bins.buckets, bins.frequency_cuts);
    cuts_of(state.monetary, bins.buckets, bins.monetary_cuts);
    bins.recency_mean = mean_of(state.recency);
    bins.frequency_mean = mean_of(state.frequency);
    bins.monetary_mean = mean_of(state.monetary);
    return bins;
}

void check_bins(int buckets, const double* recency_cuts, std::size_t recency_count, const double* frequency_cuts,
                std::size_t frequency_count, const double* monetary_cuts, std::size_t monetary_count) {
    check_buckets(buckets);
    check_cuts("recency_cuts", buckets, recency_cuts, recency_count);
    check_cuts("frequency_cuts", buckets, frequency_cuts, frequency_count);
    check_cuts("monetary_cuts", buckets, monetary_cuts, monetary_count);
}

}  // namespace customer_analytics
