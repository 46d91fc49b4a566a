// segment_distribution: the population statistics of a segment build (rfm
// bins, the medians of frequency and of order value, the spend of the top 20 %
// and 5 %), kept as sorted multisets of the buying customers' values so that a
// refresh updates them by the customers that changed instead of reading every
// customer again. Each statistic is computed with the same arithmetic, over
// the same values in the same order, as its SQL definition (rfm_bins,
// percentile_cont, percentile_disc), so the results are identical bit for bit.
//
// The columns are independent multisets: a customer's values are not kept
// together, because no statistic needs them together.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "error.hpp"
#include "rfm_bins.hpp"

namespace customer_analytics {

class StateWriter;
class StateReader;

// One buying customer: last_order (a day number), frequency (> 0), monetary
// and the order value monetary / frequency as the doubles SQL compares, and
// whether the monetary double reads back as the exact numeric.
struct SegmentCustomer {
    std::int32_t last_order = 0;
    std::int64_t frequency = 0;
    double monetary = 0;
    double value = 0;
    bool exact = true;
};

struct DayCount {
    std::int32_t day;
    std::int64_t count;
};
struct FrequencyCount {
    std::int64_t frequency;
    std::int64_t count;
};

// At most this many buyers in one distribution or one side of a delta (two
// 8-byte doubles each, so a serialized value stays far below 1 GB).
constexpr std::uint32_t kMaxSegmentBuyers = 40000000;

// Sorted multisets: histograms ascending by day and by frequency with
// positive counts, monetary and order values ascending (finite, no -0).
struct SegmentValues {
    std::vector<DayCount> days;
    std::vector<FrequencyCount> frequencies;
    std::vector<double> monetary;
    std::vector<double> values;
    std::int64_t inexact = 0;  // buyers whose monetary double is not exact

    std::size_t buyers() const { return monetary.size(); }
    bool operator==(const SegmentValues& other) const;
};

// Collects customers in any order (the delta aggregate); sorted() gives
// their SegmentValues.
class SegmentCollector {
public:
    void add(const SegmentCustomer& customer);
    void merge(const SegmentCollector& other);
    // Every customer of sorted values (a serialized partial state read back).
    void add_values(const SegmentValues& values);
    std::size_t size() const { return monetary_.size(); }
    SegmentValues sorted(const Interrupts& interrupts = Interrupts{}) const;
    // Sorts the columns in place, for write_segment_delta (no copies).
    void sort(const Interrupts& interrupts = Interrupts{});

private:
    friend void write_segment_delta(class StateWriter& writer, const SegmentCollector& removed,
                                    const SegmentCollector& added);
    std::vector<std::int32_t> days_;
    std::vector<std::int64_t> frequencies_;
    std::vector<double> monetary_;
    std::vector<double> values_;
    std::int64_t inexact_ = 0;
    // Set by sort(), cleared by any change.
    bool sorted_ = false;
    std::vector<DayCount> day_histogram_;
    std::vector<FrequencyCount> frequency_histogram_;
};

// The delta of two collectors that sort() has sorted: the bytes
// write_segment_delta writes for their sorted() values.
void write_segment_delta(StateWriter& writer, const SegmentCollector& removed, const SegmentCollector& added);

// What changed: the values of the removed customers (as they were) and of
// the added ones (as they are now). An updated customer is in both.
struct SegmentDelta {
    SegmentValues removed;
    SegmentValues added;
};

// distribution - removed + added, by linear merges. A removed value that the
// distribution does not hold raises data_exception ("segment distribution
// does not hold a removed customer"): the caller rebuilds from scratch.
SegmentValues apply_segment_delta(const SegmentValues& distribution, const SegmentDelta& delta);

struct SegmentStatistics {
    std::int64_t buyers = 0;
    // All empty (no bins, no medians, no top) when there are no buyers.
    bool has_bins = false;
    Bins bins;
    std::optional<double> frequency_median;
    std::optional<double> value_median;
    bool has_top = false;
    double spend_top[2] = {0, 0};  // percentile_disc 0.8 and 0.95 of monetary
    std::optional<double> spend_above;
    bool exact_spend = true;
};

// rfm_bins(summary, as_of, buckets) and the medians and top spend of the
// buyers; buckets is checked as rfm_bins checks it.
SegmentStatistics segment_statistics(const SegmentValues& distribution, std::int32_t as_of_day, int buckets);

// The value at fraction p of the sorted values as PostgreSQL's
// percentile_disc picks it: the first value whose cumulative fraction
// reaches p.
std::size_t percentile_disc_index(std::size_t count, double fraction);

// A serialized distribution read in place: the histograms copied, the two
// columns left in the bytes (little-endian doubles, any alignment), every
// field checked as read_segment_distribution checks it. The bytes must
// outlive the view.
struct SegmentView {
    std::vector<DayCount> days;
    std::vector<FrequencyCount> frequencies;
    const std::uint8_t* monetary = nullptr;
    const std::uint8_t* values = nullptr;
    std::size_t buyers = 0;
    std::int64_t inexact = 0;
};
SegmentView view_segment_distribution(const std::uint8_t* bytes, std::size_t length);
SegmentStatistics segment_statistics(const SegmentView& distribution, std::int32_t as_of_day, int buckets);
// apply_segment_delta serialized without intermediate copies: the size of
// the result, then the result (the bytes write_segment_distribution writes
// for apply_segment_delta's values). Both raise what apply_segment_delta
// raises, except that a removed value that is not held may be found only
// while writing.
std::size_t applied_segment_size(const SegmentView& distribution, const SegmentDelta& delta);
void write_applied_segment_delta(StateWriter& writer, const SegmentView& distribution, const SegmentDelta& delta);

// Serialized (StateKind::segment_distribution): the histograms and arrays,
// each preceded by its length, then the inexact count.
void write_segment_distribution(StateWriter& writer, const SegmentValues& values);
SegmentValues read_segment_distribution(const std::uint8_t* bytes, std::size_t length);
// Serialized (StateKind::segment_delta): removed values, then added values.
void write_segment_delta(StateWriter& writer, const SegmentDelta& delta);
SegmentDelta read_segment_delta(const std::uint8_t* bytes, std::size_t length);

// The shortest decimal text that reads back as value (finite): what
// segment_spend_numeric passes to numeric_in. Returns its length.
constexpr std::size_t kShortestDoubleCapacity = 32;
std::size_t shortest_double_text(double value, char* out);

}  // namespace customer_analytics
