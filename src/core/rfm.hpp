// RFM: the per-customer order summary (an aggregate state), quantile bins over
// customers, the 1..buckets scores, and the two named segment schemes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "arena.hpp"
#include "decimal.hpp"

namespace customer_analytics {

// ---------------------------------------------------------------- summary

// Distinct purchase days of one customer. Days are appended as they come and
// de-duplicated in batches (sort + unique) only when the unsorted tail has
// grown as large as the sorted part, so in-order input costs O(1) a row and
// any order costs O(log n) amortized. Memory stays under four times the
// number of distinct days.
struct DaySet {
    FlatArray<std::int32_t> days;
    std::uint32_t sorted_unique = 0;  // days[0, sorted_unique) is sorted and unique

    void add(const Arena& arena, std::int32_t day);
    void merge(const Arena& arena, const DaySet& other);
    void compact();
    std::uint32_t distinct_count();  // compacts first
};

enum class MoneyKind : std::uint8_t { exact_decimal = 1, binary_float = 2 };

// The state of rfm_agg. Order rows with amount >= 0 are purchases; rows with
// amount < 0 are refunds: they reduce monetary (which is always the plain sum
// of every amount) but do not count as purchases and do not move the first or
// last order date.
struct OrderSummaryState {
    std::int32_t first_day = 0;  // valid when purchases > 0
    std::int32_t last_day = 0;
    std::int64_t purchases = 0;
    std::int64_t refunds = 0;
    MoneyKind money_kind = MoneyKind::exact_decimal;
    Decimal decimal_total;
    double float_total = 0.0;         // Neumaier-compensated sum for float8 input
    double float_compensation = 0.0;
    DaySet purchase_days;

    // Registers one order row's date; `is_purchase` is amount >= 0. Counts
    // beyond bigint raise numeric_value_out_of_range.
    void add_row_date(const Arena& arena, std::int32_t day, bool is_purchase);
    // Adds an exact amount; false if the total would not fit (sum unchanged).
    bool add_decimal(const Decimal& amount);
    void add_float(double amount);
    // Merges other into this. Returns false if the decimal totals could not be
    // added; then other's decimal_total is left for the caller to add (the
    // glue keeps totals beyond 128 bits in a PostgreSQL numeric). States of
    // numeric and float8 amounts cannot be merged (invalid_parameter_value);
    // counts beyond bigint raise numeric_value_out_of_range. Nothing changes
    // when it raises.
    bool merge(const Arena& arena, const OrderSummaryState& other);
    double float_sum() const { return float_total + float_compensation; }
};

class StateWriter;

// Serialized summary (StateKind::rfm_summary, format 2): money kind,
// purchases, refunds, the distinct purchase days ascending (the first and
// last order are the first and last of them), then for exact totals the
// 128-bit mantissa, its scale and the arbitrary-precision remainder beyond
// 128 bits (overflow: the glue keeps it as a PostgreSQL numeric) as checked
// digits, or for float totals the sum and its compensation. Compacts the day
// set. A float total that is no longer finite cannot be written: it raises
// the same numeric_value_out_of_range as the summary would.
void write_summary_state(StateWriter& writer, OrderSummaryState& state, const LargeDecimal* overflow);
// What write_summary_state will write, in bytes (rfm_agg serializes once per
// group and worker, so it skips the measuring pass). Compacts the day set.
std::size_t summary_state_size(OrderSummaryState& state, const LargeDecimal* overflow);

// Reads a serialized summary: format 2, or a state written by 0.1.0 (first
// byte 1, native byte order, with the overflow total as the raw bytes of a
// PostgreSQL numeric, which is parsed as fields and never followed, detoasted
// or decompressed). Every field is checked (see the DETAIL messages) and any
// problem raises invalid_binary_representation. The day array and the
// overflow digits come from arena; *has_overflow says whether *overflow is set.
void read_summary_state(const Arena& arena, const std::uint8_t* bytes, std::size_t length, OrderSummaryState* out,
                        LargeDecimal* overflow, bool* has_overflow);

// ------------------------------------------------------------------- bins

constexpr int kMinBuckets = 2;
constexpr int kMaxBuckets = 99;  // a score must fit one byte of the packed rfm_score
void check_buckets(long buckets);

// Collects recency, frequency and monetary of every customer for exact
// quantiles. as_of and buckets must be the same on every row.
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

// Cut point j (1..buckets-1) is percentile_cont(j / buckets). Sorts the state's
// arrays in place. With no customers, returns zero customers and empty cuts.
Bins compute_bins(BinsState& state);
// The same from arrays already ascending (merged from sorted parts).
Bins bins_of_sorted(const BinsState& state);

// Validates bins built by hand (e.g. ROW(...)::rfm_bins): cut arrays of
// buckets - 1 finite ascending values.
void check_bins(int buckets, const double* recency_cuts, std::size_t recency_count,
                const double* frequency_cuts, std::size_t frequency_count,
                const double* monetary_cuts, std::size_t monetary_count);

// ----------------------------------------------------------------- scores

struct RfmScore {
    int r = 0, f = 0, m = 0;
};

// Score of one value against ascending cuts: buckets are (-inf, c1], (c1, c2],
// ..., (c_{k-1}, +inf), so a value equal to a cut point falls in the lower
// bucket; equal values always get equal scores. Recency is reversed: the most
// recent customers (fewest days) get the highest score.
int bucket_of(double value, const double* cuts, std::size_t cut_count);
RfmScore score_customer(double recency_days, double frequency, double monetary, int buckets,
                        const double* recency_cuts, const double* frequency_cuts,
                        const double* monetary_cuts);

// rfm_score packs into 24 bits: r << 16 | f << 8 | m, each 1..kMaxBuckets, so
// integer order is the lexicographic (r, f, m) order.
std::uint32_t pack_score(const RfmScore& score);
RfmScore unpack_score(std::uint32_t packed);
void check_score(const RfmScore& score);
// "545" when every score is a single digit, "10-4-5" otherwise; writes a NUL
// terminated string into buffer (kScoreTextCapacity bytes) and returns it.
constexpr std::size_t kScoreTextCapacity = 16;
const char* format_score(const RfmScore& score, char* buffer);
RfmScore parse_score(const char* text);

// --------------------------------------------------------------- segments

// A named box of scores. name is borrowed, not owned, so rules can sit in
// PostgreSQL memory (the glue caches parsed rule arrays between calls).
struct SegmentRule {
    const char* name;
    int r_min, r_max, f_min, f_max, m_min, m_max;
};

// The 11 named segments of the R package rfm, evaluated first match first
// (see the README for why this order). Scores must be 1..5.
const std::vector<SegmentRule>& standard_segment_rules();
constexpr const char* kOtherSegment = "Others";
const char* standard_segment(const RfmScore& score);

void check_segment_rule(const SegmentRule& rule, std::size_t position);
// Index of the first rule containing the score, or -1.
long first_matching_rule(const SegmentRule* rules, std::size_t count, const RfmScore& score);

// The 8-class scheme of Chinese e-commerce CRM. Each of R, F, M is high or
// low against a cut (the population mean by default): recency is high when
// the days since the last purchase are <= the cut (at least as recent as the
// average customer); frequency and monetary are high when >= the cut.
enum class RfmClass {
    important_value, important_development, important_retention, important_recall,
    general_value, general_development, general_retention, general_recall,
};
RfmClass classify(double recency_days, double frequency, double monetary,
                  double recency_cut, double frequency_cut, double monetary_cut);
enum class Language { en, zh };
Language parse_language(const char* text);
const char* class_label(RfmClass value, Language language);

}  // namespace customer_analytics
