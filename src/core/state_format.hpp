// The one format of every aggregate state the extension serializes.
//
// Serialized states cross the SQL boundary: parallel workers, distributed
// engines and users (rfm_agg_state results kept in tables, then read back by
// rfm_state_summary and rfm_state_merge) hand them back as plain bytea, so
// every byte is untrusted input. Every state is
//
//   'C' 'A' <format version 2> <StateKind byte> <fields>
//
// with each field written on its own, little-endian (integers in two's
// complement, doubles as their IEEE-754 bits), never as the memory image of a
// struct. The reader checks every read against the bytes that are left,
// reads counts through count(), which refuses a count whose elements could
// not fit in what is left before anything is allocated (so memory is bounded
// by the input size), and finish() refuses trailing bytes. Each state's own
// reader then checks every field against the others. Anything wrong raises
// Error(invalid_binary_representation) (SQLSTATE 22P03, what PostgreSQL
// raises for bad binary input) with the message "invalid serialized <name>
// state" and a DETAIL sentence naming the field or the problem.
//
// Writing takes two passes over a state: one StateWriter that only measures,
// then one that writes into a buffer of exactly that size (the glue's
// bytea), so nothing is copied twice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "decimal.hpp"
#include "error.hpp"

namespace customer_analytics {

// Little-endian stores and loads through memcpy: one instruction each on a
// little-endian machine, a byte swap more on a big-endian one.
namespace state_bytes {
constexpr bool kBigEndianHost = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
inline std::uint16_t swap(std::uint16_t v) { return __builtin_bswap16(v); }
inline std::uint32_t swap(std::uint32_t v) { return __builtin_bswap32(v); }
inline std::uint64_t swap(std::uint64_t v) { return __builtin_bswap64(v); }
template <typename T>
inline void store(std::uint8_t* out, T value) {
    if constexpr (kBigEndianHost && sizeof(T) > 1)
        value = swap(value);
    std::memcpy(out, &value, sizeof value);
}
template <typename T>
inline T load(const std::uint8_t* in) {
    T value;
    std::memcpy(&value, in, sizeof value);
    if constexpr (kBigEndianHost && sizeof(T) > 1)
        value = swap(value);
    return value;
}
}  // namespace state_bytes

constexpr std::uint8_t kStateFormatVersion = 2;

// Dates in states are PostgreSQL day numbers (days since 2000-01-01). These
// bound PostgreSQL's finite dates, 4714-11-24 BC to 5874897-12-31 (the range
// of IS_VALID_DATE; the glue checks them against PostgreSQL's constants).
constexpr std::int32_t kFirstValidDay = -2451545;
constexpr std::int32_t kLastValidDay = 2145031948;
inline bool valid_day(std::int64_t day) { return day >= kFirstValidDay && day <= kLastValidDay; }

// Every serialized state. The values are part of the format: never reuse one.
enum class StateKind : std::uint8_t {
    rfm_summary = 1,            // rfm_agg, rfm_agg_state, rfm_state_merge
    rfm_bins = 2,               // rfm_bins
    btyd_fit = 3,               // bgnbd_fit, pareto_nbd_fit, mbgnbd_fit
    gamma_gamma_fit = 4,        // gamma_gamma_fit
    activity_status = 5,        // activity_status
    coupon_sensitivity = 6,     // coupon_sensitivity
    purchase_mix = 7,           // purchase_mix
    channel_preference = 8,     // channel_preference
    spend_sample = 9,           // gini, pareto_share, lorenz_curve, pareto_tier_thresholds, value_band_cuts
    kmeans_fit = 10,            // kmeans_fit
    affinity = 11,              // affinity
    segment_overlap = 12,       // segment_overlap
    campaign_report = 13,       // campaign_report
    kmeans_model = 14,          // a fitted KMeansModel (the core's own copies; not an aggregate state)
    rfm_orders = 15,            // rfm_agg and rfm_agg_state with an order key, rfm_state_merge
    bgbb_fit = 16,              // bgbb_fit
    sbg_fit = 17,               // sbg_fit
    btyd_cov_fit = 18,          // bgnbd_cov_fit, pareto_nbd_cov_fit
    segment_distribution = 19,  // segment_distribution_apply (kept in a table by the segment builder)
    segment_delta = 20,         // segment_distribution_delta
};

constexpr StateKind kAllStateKinds[] = {
    StateKind::rfm_summary,
    StateKind::rfm_bins,
    StateKind::btyd_fit,
    StateKind::gamma_gamma_fit,
    StateKind::activity_status,
    StateKind::coupon_sensitivity,
    StateKind::purchase_mix,
    StateKind::channel_preference,
    StateKind::spend_sample,
    StateKind::kmeans_fit,
    StateKind::affinity,
    StateKind::segment_overlap,
    StateKind::campaign_report,
    StateKind::kmeans_model,
    StateKind::rfm_orders,
    StateKind::bgbb_fit,
    StateKind::sbg_fit,
    StateKind::btyd_cov_fit,
    StateKind::segment_distribution,
    StateKind::segment_delta,
};

// The name used in messages: "invalid serialized <name> state".
const char* state_name(StateKind kind);

// Raises the error of a corrupt state of this kind; detail is a sentence.
[[noreturn]] void invalid_state(StateKind kind, const std::string& detail);

// A run of fixed-size fields written through a local cursor (see
// StateWriter::block): the same little-endian fields, without a bounds check
// against the writer's buffer per field, for states written once per group.
class StateBlock {
public:
    StateBlock(std::uint8_t* begin, std::size_t size) : p_(begin), end_(begin + size) {}
    void u8(std::uint8_t value) { put(value); }
    void boolean(bool value) { put(static_cast<std::uint8_t>(value ? 1 : 0)); }
    void u32(std::uint32_t value) { put(value); }
    void i64(std::int64_t value) { put(static_cast<std::uint64_t>(value)); }
    void i128(int128 value) {
        const auto bits = static_cast<unsigned __int128>(value);
        put(static_cast<std::uint64_t>(bits));
        put(static_cast<std::uint64_t>(bits >> 64));
    }
    // The block must be filled exactly.
    void finish() const {
        if (p_ != end_)
            overflow();
    }

private:
    template <typename T>
    void put(T value) {
        if (static_cast<std::size_t>(end_ - p_) < sizeof(T))
            overflow();
        state_bytes::store(p_, value);
        p_ += sizeof(T);
    }
    [[noreturn]] static void overflow();

    std::uint8_t* p_;
    std::uint8_t* end_;
};

class StateWriter {
public:
    // Measures only: size() is what a writing pass will need.
    StateWriter() = default;
    // Writes into out[0, capacity); finish() checks the buffer was filled.
    StateWriter(std::uint8_t* out, std::size_t capacity) : out_(out), capacity_(capacity) {}

    void header(StateKind kind) {
        const std::uint8_t bytes[4] = {'C', 'A', kStateFormatVersion, static_cast<std::uint8_t>(kind)};
        put(bytes, 4);
    }
    void u8(std::uint8_t value) { le(value); }
    void boolean(bool value) { u8(value ? 1 : 0); }
    void u16(std::uint16_t value) { le(value); }
    void u32(std::uint32_t value) { le(value); }
    void u64(std::uint64_t value) { le(value); }
    void i32(std::int32_t value) { le(static_cast<std::uint32_t>(value)); }
    void i64(std::int64_t value) { le(static_cast<std::uint64_t>(value)); }
    void i128(int128 value) {
        const auto bits = static_cast<unsigned __int128>(value);
        le(static_cast<std::uint64_t>(bits));
        le(static_cast<std::uint64_t>(bits >> 64));
    }
    void f64(double value);
    void bytes(const void* data, std::size_t size) { put(data, size); }
    // The next `size` bytes (at most kMaxBlock) as a block of fixed fields;
    // a measuring writer hands out scratch space.
    static constexpr std::size_t kMaxBlock = 64;
    StateBlock block(std::size_t size) {
        if (size > kMaxBlock)
            overflow();
        std::uint8_t* start = scratch_;
        if (out_ != nullptr) {
            reserve(size);
            start = out_ + pos_;
        }
        pos_ += size;
        return StateBlock(start, size);
    }
    void i32_array(const std::int32_t* values, std::size_t count);
    void f64_array(const double* values, std::size_t count);

    std::size_t size() const { return pos_; }
    bool measuring() const { return out_ == nullptr; }
    // A writing pass must fill its buffer exactly; anything else is a bug.
    void finish() const;

private:
    template <typename T>
    void le(T value) {
        const std::size_t pos = pos_;
        if (out_ != nullptr) {
            reserve(sizeof(T));
            state_bytes::store(out_ + pos, value);
        }
        pos_ = pos + sizeof(T);
    }
    void put(const void* data, std::size_t size);
    void reserve(std::size_t size) const {
        if (capacity_ - pos_ < size)
            overflow();
    }
    [[noreturn]] void overflow() const;

    std::uint8_t* out_ = nullptr;
    std::size_t capacity_ = 0;
    std::size_t pos_ = 0;
    std::uint8_t scratch_[kMaxBlock];
};

class StateReader {
public:
    // Checks the header: 'C' 'A', format version 2 and this kind.
    StateReader(const std::uint8_t* data, std::size_t size, StateKind kind);

    StateKind kind() const { return kind_; }
    std::size_t remaining() const { return size_ - pos_; }

    // `field` names what is read, for the DETAIL of a truncated state
    // ("The state ends inside the purchase count.").
    std::uint8_t u8(const char* field) {
        need(1, field);
        return data_[pos_++];
    }
    bool boolean(const char* field);
    std::uint16_t u16(const char* field) { return le<std::uint16_t>(field); }
    std::uint32_t u32(const char* field) { return le<std::uint32_t>(field); }
    std::uint64_t u64(const char* field) { return le<std::uint64_t>(field); }
    std::int32_t i32(const char* field) { return static_cast<std::int32_t>(le<std::uint32_t>(field)); }
    std::int64_t i64(const char* field) { return static_cast<std::int64_t>(le<std::uint64_t>(field)); }
    int128 i128(const char* field) {
        const std::uint64_t low = le<std::uint64_t>(field);
        const std::uint64_t high = le<std::uint64_t>(field);
        return static_cast<int128>((static_cast<unsigned __int128>(high) << 64) | low);
    }
    // Any double, NaN and infinities included (parameters the aggregate
    // validates itself).
    double f64(const char* field);
    // A finite double; NaN and infinities are corrupt.
    double finite_f64(const char* field);
    // A uint32 count of elements of element_size bytes each. Refuses a count
    // above limit or one whose elements cannot fit in the bytes left, so
    // that what a reader allocates for them is bounded by the input size.
    std::uint32_t count(const char* field, std::size_t element_size, std::uint32_t limit = UINT32_MAX);
    // The next size bytes, in place.
    const std::uint8_t* raw(std::size_t size, const char* field) {
        need(size, field);
        const std::uint8_t* start = data_ + pos_;
        pos_ += size;
        return start;
    }
    void i32_array(std::int32_t* out, std::size_t count, const char* field);
    void finite_f64_array(double* out, std::size_t count, const char* field);

    // Refuses trailing bytes.
    void finish() const;
    // detail: a full sentence naming the field or the problem.
    [[noreturn]] void fail(const std::string& detail) const { invalid_state(kind_, detail); }

private:
    template <typename T>
    T le(const char* field) {
        need(sizeof(T), field);
        const T value = state_bytes::load<T>(data_ + pos_);
        pos_ += sizeof(T);
        return value;
    }
    void need(std::size_t size, const char* field) const {
        if (size_ - pos_ < size)
            truncated(field);
    }
    [[noreturn]] void truncated(const char* field) const;

    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
    StateKind kind_;
};

// Serializes with write(StateWriter&) into memory from allocate(size), which
// returns a buffer of exactly size bytes: one pass measures, one writes.
// Returns the size.
template <typename Write, typename Allocate>
std::size_t write_state(Write write, Allocate allocate) {
    StateWriter measure;
    write(measure);
    const std::size_t size = measure.size();
    StateWriter writer(allocate(size), size);
    write(writer);
    writer.finish();
    return size;
}

// The same when the size is known up front (a state's own size function, for
// hot paths): one writing pass, which must fill exactly `size` bytes.
template <typename Write, typename Allocate>
std::size_t write_state(std::size_t size, Write write, Allocate allocate) {
    StateWriter writer(allocate(size), size);
    write(writer);
    writer.finish();
    return size;
}

// The text form of a serialized state, as the SQL type analytics_state
// writes and reads it (and as Citus ships partial states between nodes):
// standard base64 (RFC 4648: A-Z a-z 0-9 + /, '=' padding, no line breaks).
// Only the canonical form is accepted (no whitespace, no other character,
// zero bits after the last byte), so each state has one text.
std::size_t state_text_length(std::size_t bytes);
// Writes state_text_length(size) characters (no terminating NUL).
void state_text_encode(const std::uint8_t* data, std::size_t size, char* out);
// The most bytes a text of this length decodes to.
std::size_t state_text_max_bytes(std::size_t length);
// Decodes text[0, length) into out (room for state_text_max_bytes(length));
// false when the text is not canonical base64.
bool state_text_decode(const char* text, std::size_t length, std::uint8_t* out, std::size_t* size);

}  // namespace customer_analytics
