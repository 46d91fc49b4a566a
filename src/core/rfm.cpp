#include "rfm.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "error.hpp"
#include "sort.hpp"

namespace customer_analytics {

// ---------------------------------------------------------------- day set

namespace {

[[noreturn]] void too_many_days() {
    throw Error(ErrorKind::program_limit_exceeded,
                "a customer has more than " + std::to_string(kMaxPurchaseDays) + " distinct purchase days",
                "The summary keeps every distinct purchase day of a customer, up to this limit.",
                "Group the orders by customer, so that each rfm_agg summarizes one customer.");
}

}  // namespace

void DaySet::add(const Arena& arena, std::int32_t day, const Interrupts& interrupts) {
    if (days.size != 0) {
        const std::int32_t last = days.data[days.size - 1];
        if (day == last)
            return;
        if (day > last && sorted_unique == days.size) {
            if (days.size >= kMaxPurchaseDays)
                too_many_days();
            days.push_back(arena, day);
            sorted_unique = days.size;
            return;
        }
    }
    if (days.size == days.capacity && days.size - sorted_unique >= sorted_unique) {
        compact(interrupts);
        if (days.size < days.capacity) {
            days.data[days.size++] = day;
            return;
        }
    }
    days.push_back(arena, day);
    if (days.size == 1)
        sorted_unique = 1;
}

void DaySet::compact(const Interrupts& interrupts) {
    if (sorted_unique == days.size)
        return;
    sort_interruptible(days.begin(), days.end(), std::less<std::int32_t>(), interrupts);
    days.size = static_cast<std::uint32_t>(std::unique(days.begin(), days.end()) - days.begin());
    sorted_unique = days.size;
    if (days.size > kMaxPurchaseDays)
        too_many_days();
}

void DaySet::merge(const Arena& arena, const DaySet& other, const Interrupts& interrupts) {
    days.append(arena, other.days.data, other.days.size);
    compact(interrupts);
}

std::uint32_t DaySet::distinct_count() {
    compact();
    return days.size;
}

// ---------------------------------------------------------------- summary

void OrderSummaryState::add_row_date(const Arena& arena, std::int32_t day, bool is_purchase,
                                     const Interrupts& interrupts) {
    if (!is_purchase) {
        ++refunds;
        return;
    }
    if (purchases == 0) {
        first_day = last_day = day;
    } else {
        first_day = std::min(first_day, day);
        last_day = std::max(last_day, day);
    }
    ++purchases;
    purchase_days.add(arena, day, interrupts);
}

bool OrderSummaryState::add_decimal(const Decimal& amount) {
    return decimal_add(&decimal_total, amount);
}

void OrderSummaryState::add_float(double amount) {
    // Neumaier's compensated summation: the error of each addition is kept
    // separately, so long sums of money-like values stay accurate.
    const double total = float_total + amount;
    if (std::fabs(float_total) >= std::fabs(amount))
        float_compensation += (float_total - total) + amount;
    else
        float_compensation += (amount - total) + float_total;
    float_total = total;
}

bool OrderSummaryState::merge(const Arena& arena, const OrderSummaryState& other, const Interrupts& interrupts) {
    if (other.money_kind != money_kind)
        throw Error(ErrorKind::invalid_parameter_value, "cannot merge rfm_agg states of numeric and float8 amounts",
                    "A summary of numeric amounts keeps an exact total; one of float8 amounts does not.",
                    "Merge only states of the same amount type.");
    if (other.purchases > 0) {
        if (purchases == 0) {
            first_day = other.first_day;
            last_day = other.last_day;
        } else {
            first_day = std::min(first_day, other.first_day);
            last_day = std::max(last_day, other.last_day);
        }
        purchase_days.merge(arena, other.purchase_days, interrupts);
    }
    purchases += other.purchases;
    refunds += other.refunds;
    add_float(other.float_total);
    add_float(other.float_compensation);
    return decimal_add(&decimal_total, other.decimal_total);
}

namespace {

constexpr std::uint8_t kSummaryFormat = 1;
constexpr std::uint8_t kBinsFormat = 1;

class Writer {
public:
    explicit Writer(std::uint8_t* out) : out_(out) {}
    template <typename T>
    void put(const T& value) {
        std::memcpy(out_, &value, sizeof(T));
        out_ += sizeof(T);
    }
    void put_bytes(const void* data, std::size_t length) {
        if (length != 0)
            std::memcpy(out_, data, length);
        out_ += length;
    }

private:
    std::uint8_t* out_;
};

class Reader {
public:
    Reader(const std::uint8_t* bytes, std::size_t length, const char* what)
        : bytes_(bytes), remaining_(length), what_(what) {}
    template <typename T>
    T get() {
        T value;
        need(sizeof(T));
        std::memcpy(&value, bytes_, sizeof(T));
        bytes_ += sizeof(T);
        remaining_ -= sizeof(T);
        return value;
    }
    const std::uint8_t* take(std::size_t length) {
        need(length);
        const std::uint8_t* start = bytes_;
        bytes_ += length;
        remaining_ -= length;
        return start;
    }
    std::size_t remaining() const { return remaining_; }
    [[noreturn]] void corrupt(const char* why) const {
        throw Error(ErrorKind::data_exception, std::string("invalid serialized ") + what_ + " state",
                    std::string(why) + ".");
    }

private:
    void need(std::size_t length) const {
        if (remaining_ < length)
            corrupt("The state is truncated");
    }
    const std::uint8_t* bytes_;
    std::size_t remaining_;
    const char* what_;
};

}  // namespace

std::size_t summary_serialized_size(OrderSummaryState& state) {
    const std::size_t days = state.purchase_days.distinct_count();
    return 4 + 4 + 4 + 8 + 8 + 16 + 4 + 8 + 8 + 4 + days * sizeof(std::int32_t);
}

void summary_serialize(OrderSummaryState& state, std::uint8_t* out) {
    state.purchase_days.compact();
    Writer writer(out);
    writer.put<std::uint8_t>(kSummaryFormat);
    writer.put<std::uint8_t>(static_cast<std::uint8_t>(state.money_kind));
    writer.put<std::uint8_t>(0);
    writer.put<std::uint8_t>(0);
    writer.put(state.first_day);
    writer.put(state.last_day);
    writer.put(state.purchases);
    writer.put(state.refunds);
    writer.put(static_cast<int128>(state.decimal_total.mantissa));
    writer.put(state.decimal_total.scale);
    writer.put(state.float_total);
    writer.put(state.float_compensation);
    writer.put(state.purchase_days.days.size);
    writer.put_bytes(state.purchase_days.days.data, state.purchase_days.days.size * sizeof(std::int32_t));
}

void summary_deserialize(const Arena& arena, const std::uint8_t* bytes, std::size_t length,
                         OrderSummaryState* out, std::size_t* consumed) {
    Reader reader(bytes, length, "rfm_agg");
    OrderSummaryState state;
    if (reader.get<std::uint8_t>() != kSummaryFormat)
        reader.corrupt("The format version is unknown");
    const auto kind = reader.get<std::uint8_t>();
    if (kind != static_cast<std::uint8_t>(MoneyKind::exact_decimal) &&
        kind != static_cast<std::uint8_t>(MoneyKind::binary_float))
        reader.corrupt("The amount type is unknown");
    state.money_kind = static_cast<MoneyKind>(kind);
    reader.get<std::uint8_t>();
    reader.get<std::uint8_t>();
    state.first_day = reader.get<std::int32_t>();
    state.last_day = reader.get<std::int32_t>();
    state.purchases = reader.get<std::int64_t>();
    state.refunds = reader.get<std::int64_t>();
    state.decimal_total.mantissa = reader.get<int128>();  // Reader copies bytewise
    state.decimal_total.scale = reader.get<std::int32_t>();
    state.float_total = reader.get<double>();
    state.float_compensation = reader.get<double>();
    const auto day_count = reader.get<std::uint32_t>();
    if (state.purchases < 0 || state.refunds < 0)
        reader.corrupt("A count is negative");
    if (state.decimal_total.scale < 0 || state.decimal_total.scale > kMaxDecimalScale)
        reader.corrupt("The decimal scale is out of range");
    if (static_cast<std::uint64_t>(day_count) > static_cast<std::uint64_t>(state.purchases) ||
        (state.purchases > 0) != (day_count > 0))
        reader.corrupt("The purchase days do not match the purchase count");
    if (state.purchases > 0 && state.first_day > state.last_day)
        reader.corrupt("The first order is after the last order");
    const std::uint8_t* day_bytes = reader.take(std::size_t(day_count) * sizeof(std::int32_t));
    state.purchase_days.days.reserve(arena, day_count);
    if (day_count != 0)
        std::memcpy(state.purchase_days.days.data, day_bytes, std::size_t(day_count) * sizeof(std::int32_t));
    state.purchase_days.days.size = day_count;
    state.purchase_days.sorted_unique = day_count;
    const std::int32_t* days = state.purchase_days.days.data;
    for (std::uint32_t i = 1; i < day_count; ++i) {
        if (days[i] <= days[i - 1])
            reader.corrupt("The purchase days are not sorted");
    }
    if (day_count != 0 && (days[0] != state.first_day || days[day_count - 1] != state.last_day))
        reader.corrupt("The first and last order are not the first and last purchase days");
    *out = state;
    *consumed = length - reader.remaining();
}

// ------------------------------------------------------------------- bins

void check_buckets(long buckets) {
    if (buckets < kMinBuckets || buckets > kMaxBuckets)
        throw Error(ErrorKind::invalid_parameter_value,
                    "buckets must be between " + std::to_string(kMinBuckets) + " and " +
                        std::to_string(kMaxBuckets),
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
        throw Error(ErrorKind::invalid_parameter_value,
                    "rfm_bins needs the same as_of and buckets on every row");
    }
    check_bins_customers(std::uint64_t(recency.size) + other.recency.size);
    recency.append(arena, other.recency.data, other.recency.size);
    frequency.append(arena, other.frequency.data, other.frequency.size);
    monetary.append(arena, other.monetary.data, other.monetary.size);
}

std::size_t bins_serialized_size(const BinsState& state) {
    return 4 + 4 + 4 + 4 + std::size_t(state.recency.size) * 3 * sizeof(double);
}

void bins_serialize(const BinsState& state, std::uint8_t* out) {
    Writer writer(out);
    writer.put<std::uint32_t>(kBinsFormat);
    writer.put(state.as_of_day);
    writer.put(state.buckets);
    writer.put(state.recency.size);
    writer.put_bytes(state.recency.data, state.recency.size * sizeof(double));
    writer.put_bytes(state.frequency.data, state.frequency.size * sizeof(double));
    writer.put_bytes(state.monetary.data, state.monetary.size * sizeof(double));
}

void bins_deserialize(const Arena& arena, const std::uint8_t* bytes, std::size_t length, BinsState* out) {
    Reader reader(bytes, length, "rfm_bins");
    if (reader.get<std::uint32_t>() != kBinsFormat)
        reader.corrupt("The format version is unknown");
    BinsState state;
    state.as_of_day = reader.get<std::int32_t>();
    state.buckets = reader.get<std::int32_t>();
    const auto count = reader.get<std::uint32_t>();
    if (state.buckets != 0 && (state.buckets < kMinBuckets || state.buckets > kMaxBuckets))
        reader.corrupt("The bucket count is out of range");
    if (reader.remaining() != std::size_t(count) * 3 * sizeof(double))
        reader.corrupt("The length does not match the customer count");
    for (FlatArray<double>* column : {&state.recency, &state.frequency, &state.monetary}) {
        column->reserve(arena, count);
        const std::uint8_t* values = reader.take(std::size_t(count) * sizeof(double));
        if (count != 0)
            std::memcpy(column->data, values, std::size_t(count) * sizeof(double));
        column->size = count;
    }
    *out = state;
}

double percentile_cont_sorted(const double* sorted, std::size_t count, double fraction) {
    // Same arithmetic as PostgreSQL's percentile_cont (float8 variant), so the
    // cut points agree with it to the last bit.
    const double position = fraction * static_cast<double>(count - 1);
    const auto first = static_cast<std::size_t>(std::floor(position));
    const auto second = static_cast<std::size_t>(std::ceil(position));
    const double low = sorted[first];
    if (first == second)
        return low;
    const double high = sorted[second];
    const double fraction_between = position - static_cast<double>(first);
    const double value = low + (high - low) * fraction_between;
    if (std::isfinite(value))
        return value;
    // high - low overflowed (values of opposite sign near the limits of
    // double); the weighted form cannot.
    return low * (1 - fraction_between) + high * fraction_between;
}

namespace {

// The mean of finite values is finite; where long double has no more range
// than double, the sum of values near the limit could still overflow, so
// such a sum is redone on halved values.
double mean_of(const FlatArray<double>& values) {
    long double total = 0;
    for (double value : values)
        total += value;
    double mean = static_cast<double>(total / values.size);
    if (!std::isfinite(mean)) {
        total = 0;
        for (double value : values)
            total += value / 2;
        mean = static_cast<double>(total / values.size) * 2;
    }
    return mean;
}

void cuts_of(FlatArray<double>& values, int buckets, double* cuts, const Interrupts& interrupts) {
    sort_interruptible(values.begin(), values.end(), std::less<double>(), interrupts);
    for (int j = 1; j < buckets; ++j)
        cuts[j - 1] = percentile_cont_sorted(values.data, values.size, static_cast<double>(j) / buckets);
}

void check_cuts(const char* what, int buckets, const double* cuts, std::size_t count) {
    if (count != static_cast<std::size_t>(buckets - 1))
        throw Error(ErrorKind::array_subscript_error,
                    std::string(what) + " must have buckets - 1 elements",
                    "There are " + std::to_string(buckets) + " buckets, but " + what + " has " +
                        std::to_string(count) + " elements.");
    for (std::size_t i = 0; i < count; ++i) {
        if (!std::isfinite(cuts[i]))
            throw Error(ErrorKind::invalid_parameter_value, std::string(what) + " must be finite");
        if (i > 0 && cuts[i] < cuts[i - 1])
            throw Error(ErrorKind::invalid_parameter_value, std::string(what) + " must be in ascending order");
    }
}

}  // namespace

Bins compute_bins(BinsState& state, const Interrupts& interrupts) {
    Bins bins;
    bins.buckets = state.buckets == 0 ? 5 : state.buckets;
    bins.customers = state.recency.size;
    if (state.recency.size == 0)
        return bins;
    // Means after sorting: summing in sorted order makes them independent of
    // the order rows arrived in, so parallel and serial plans agree exactly.
    cuts_of(state.recency, bins.buckets, bins.recency_cuts, interrupts);
    cuts_of(state.frequency, bins.buckets, bins.frequency_cuts, interrupts);
    cuts_of(state.monetary, bins.buckets, bins.monetary_cuts, interrupts);
    bins.recency_mean = mean_of(state.recency);
    bins.frequency_mean = mean_of(state.frequency);
    bins.monetary_mean = mean_of(state.monetary);
    return bins;
}

void check_bins(int buckets, const double* recency_cuts, std::size_t recency_count,
                const double* frequency_cuts, std::size_t frequency_count,
                const double* monetary_cuts, std::size_t monetary_count) {
    check_buckets(buckets);
    check_cuts("recency_cuts", buckets, recency_cuts, recency_count);
    check_cuts("frequency_cuts", buckets, frequency_cuts, frequency_count);
    check_cuts("monetary_cuts", buckets, monetary_cuts, monetary_count);
}

// ----------------------------------------------------------------- scores

int bucket_of(double value, const double* cuts, std::size_t cut_count) {
    // Number of cuts strictly below the value, plus one.
    return 1 + static_cast<int>(std::lower_bound(cuts, cuts + cut_count, value) - cuts);
}

RfmScore score_customer(double recency_days, double frequency, double monetary, int buckets,
                        const double* recency_cuts, const double* frequency_cuts,
                        const double* monetary_cuts) {
    if (std::isnan(recency_days) || std::isnan(frequency) || std::isnan(monetary))
        throw Error(ErrorKind::invalid_parameter_value, "cannot score a NaN recency, frequency or monetary value");
    const std::size_t cuts = static_cast<std::size_t>(buckets - 1);
    RfmScore score;
    score.r = buckets + 1 - bucket_of(recency_days, recency_cuts, cuts);
    score.f = bucket_of(frequency, frequency_cuts, cuts);
    score.m = bucket_of(monetary, monetary_cuts, cuts);
    return score;
}

std::uint32_t pack_score(const RfmScore& score) {
    check_score(score);
    return static_cast<std::uint32_t>(score.r) << 16 | static_cast<std::uint32_t>(score.f) << 8 |
           static_cast<std::uint32_t>(score.m);
}

RfmScore unpack_score(std::uint32_t packed) {
    return RfmScore{static_cast<int>(packed >> 16 & 0xff), static_cast<int>(packed >> 8 & 0xff),
                    static_cast<int>(packed & 0xff)};
}

void check_score(const RfmScore& score) {
    for (int part : {score.r, score.f, score.m})
        if (part < 1 || part > kMaxBuckets)
            throw Error(ErrorKind::invalid_parameter_value,
                        "rfm_score components must be between 1 and " + std::to_string(kMaxBuckets),
                        "The value given was " + std::to_string(part) + ".");
}

const char* format_score(const RfmScore& score, char* buffer) {
    check_score(score);
    if (score.r <= 9 && score.f <= 9 && score.m <= 9) {
        buffer[0] = static_cast<char>('0' + score.r);
        buffer[1] = static_cast<char>('0' + score.f);
        buffer[2] = static_cast<char>('0' + score.m);
        buffer[3] = '\0';
        return buffer;
    }
    std::size_t length = 0;
    for (int part : {score.r, score.f, score.m}) {
        if (length != 0)
            buffer[length++] = '-';
        if (part >= 10)
            buffer[length++] = static_cast<char>('0' + part / 10);
        buffer[length++] = static_cast<char>('0' + part % 10);
    }
    buffer[length] = '\0';
    return buffer;
}

RfmScore parse_score(const char* text) {
    const std::string input(text);
    auto bad = [&]() {
        return Error(ErrorKind::invalid_text_representation,
                     "invalid input syntax for type rfm_score: \"" + input + "\"",
                     {}, "Write three digits such as \"545\", or three numbers joined by dashes such as \"10-4-5\".");
    };
    RfmScore score;
    if (input.find('-') == std::string::npos) {
        if (input.size() != 3 || !std::all_of(input.begin(), input.end(), [](char c) { return c >= '1' && c <= '9'; }))
            throw bad();
        score = RfmScore{input[0] - '0', input[1] - '0', input[2] - '0'};
    } else {
        int parts[3];
        std::size_t position = 0;
        for (int i = 0; i < 3; ++i) {
            std::size_t digits = 0;
            long value = 0;
            while (position < input.size() && input[position] >= '0' && input[position] <= '9' && digits < 3) {
                value = value * 10 + (input[position] - '0');
                ++position;
                ++digits;
            }
            if (digits == 0)
                throw bad();
            parts[i] = static_cast<int>(value);
            if (i < 2) {
                if (position >= input.size() || input[position] != '-')
                    throw bad();
                ++position;
            }
        }
        if (position != input.size())
            throw bad();
        score = RfmScore{parts[0], parts[1], parts[2]};
    }
    check_score(score);
    return score;
}

// --------------------------------------------------------------- segments

const std::vector<SegmentRule>& standard_segment_rules() {
    // Ranges from the R package rfm's documentation. rfm applies its table
    // first match first in an order where New Customers and Promising sit
    // inside Potential Loyalist and Can't Lose Them inside At Risk, and its
    // Hibernating and Lost boxes are both "R, F, M at most 2", so some
    // segments can never be assigned. Here the narrower rules come first and
    // Lost is the all-lowest cell (1,1,1), which makes all 11 reachable; the
    // tests pin the resulting map of all 125 cells.
    static const std::vector<SegmentRule> rules = {
        {"Champions", 4, 5, 4, 5, 4, 5},
        {"Loyal Customers", 2, 5, 3, 5, 3, 5},
        {"Can't Lose Them", 1, 1, 4, 5, 4, 5},
        {"New Customers", 4, 5, 1, 1, 1, 1},
        {"Promising", 3, 4, 1, 1, 1, 1},
        {"Need Attention", 2, 3, 2, 3, 2, 3},
        {"Potential Loyalist", 3, 5, 1, 3, 1, 3},
        {"About To Sleep", 2, 3, 1, 2, 1, 2},
        {"At Risk", 1, 2, 2, 5, 2, 5},
        {"Lost", 1, 1, 1, 1, 1, 1},
        {"Hibernating", 1, 2, 1, 2, 1, 2},
    };
    return rules;
}

const char* standard_segment(const RfmScore& score) {
    check_score(score);
    if (score.r > 5 || score.f > 5 || score.m > 5) {
        char text[kScoreTextCapacity];
        throw Error(ErrorKind::invalid_parameter_value,
                    "the standard RFM segments need scores from 1 to 5",
                    std::string("The score given was ") + format_score(score, text) + ".",
                    "Score with buckets => 5, or pass your own segment rules to rfm_segment.");
    }
    const auto& rules = standard_segment_rules();
    const long index = first_matching_rule(rules.data(), rules.size(), score);
    return index < 0 ? kOtherSegment : rules[static_cast<std::size_t>(index)].name;
}

void check_segment_rule(const SegmentRule& rule, std::size_t position) {
    if (rule.name == nullptr || rule.name[0] == '\0')
        throw Error(ErrorKind::invalid_parameter_value, "segment rule names must not be empty",
                    "Rule " + std::to_string(position + 1) + " has an empty name.");
    const int bounds[3][2] = {{rule.r_min, rule.r_max}, {rule.f_min, rule.f_max}, {rule.m_min, rule.m_max}};
    for (const auto& bound : bounds) {
        if (bound[0] < 1 || bound[1] > kMaxBuckets || bound[0] > bound[1]) {
            const std::string where = "Rule " + std::to_string(position + 1) + " (\"" + rule.name + "\")";
            throw Error(ErrorKind::invalid_parameter_value, "invalid score range in segment rule",
                        where + " has a range from " + std::to_string(bound[0]) + " to " +
                            std::to_string(bound[1]) + ".",
                        "Each range needs 1 <= min <= max <= " + std::to_string(kMaxBuckets) + ".");
        }
    }
}

long first_matching_rule(const SegmentRule* rules, std::size_t count, const RfmScore& score) {
    for (std::size_t i = 0; i < count; ++i) {
        const SegmentRule& rule = rules[i];
        if (score.r >= rule.r_min && score.r <= rule.r_max && score.f >= rule.f_min &&
            score.f <= rule.f_max && score.m >= rule.m_min && score.m <= rule.m_max)
            return static_cast<long>(i);
    }
    return -1;
}

RfmClass classify(double recency_days, double frequency, double monetary,
                  double recency_cut, double frequency_cut, double monetary_cut) {
    for (double value : {recency_days, frequency, monetary, recency_cut, frequency_cut, monetary_cut})
        if (std::isnan(value))
            throw Error(ErrorKind::invalid_parameter_value, "cannot classify NaN values");
    const bool recent = recency_days <= recency_cut;
    const bool frequent = frequency >= frequency_cut;
    const bool valuable = monetary >= monetary_cut;
    static const RfmClass table[2][2][2] = {
        // [valuable][recent][frequent]
        {{RfmClass::general_recall, RfmClass::general_retention},
         {RfmClass::general_development, RfmClass::general_value}},
        {{RfmClass::important_recall, RfmClass::important_retention},
         {RfmClass::important_development, RfmClass::important_value}},
    };
    return table[valuable][recent][frequent];
}

Language parse_language(const char* text) {
    const std::string value(text);
    if (value == "en")
        return Language::en;
    if (value == "zh")
        return Language::zh;
    throw Error(ErrorKind::invalid_parameter_value, "unknown language \"" + value + "\"",
                {}, "Use 'en' for English labels or 'zh' for Chinese labels.");
}

const char* class_label(RfmClass value, Language language) {
    static const char* const english[] = {
        "important value",   "important development", "important retention", "important recall",
        "general value",     "general development",   "general retention",   "general recall",
    };
    static const char* const chinese[] = {
        "重要价值客户", "重要发展客户", "重要保持客户", "重要挽留客户",
        "一般价值客户", "一般发展客户", "一般保持客户", "一般挽留客户",
    };
    const auto index = static_cast<std::size_t>(value);
    return language == Language::zh ? chinese[index] : english[index];
}

}  // namespace customer_analytics
