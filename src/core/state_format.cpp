#include "state_format.hpp"

#include <cmath>
#include <cstring>

#include "no_postgres.hpp"

namespace customer_analytics {

const char* state_name(StateKind kind) {
    switch (kind) {
    case StateKind::rfm_summary:
        return "rfm_agg";
    case StateKind::rfm_bins:
        return "rfm_bins";
    case StateKind::btyd_fit:
        return "bgnbd_fit, pareto_nbd_fit or mbgnbd_fit";
    case StateKind::gamma_gamma_fit:
        return "gamma_gamma_fit";
    case StateKind::activity_status:
        return "activity_status";
    case StateKind::coupon_sensitivity:
        return "coupon_sensitivity";
    case StateKind::purchase_mix:
        return "purchase_mix";
    case StateKind::channel_preference:
        return "channel_preference";
    case StateKind::spend_sample:
        return "spend sample";
    case StateKind::kmeans_fit:
        return "kmeans_fit";
    case StateKind::affinity:
        return "affinity";
    case StateKind::segment_overlap:
        return "segment_overlap";
    case StateKind::campaign_report:
        return "campaign_report";
    case StateKind::kmeans_model:
        return "k-means model";
    case StateKind::rfm_orders:
        return "rfm_agg";
    case StateKind::bgbb_fit:
        return "bgbb_fit";
    case StateKind::sbg_fit:
        return "sbg_fit";
    case StateKind::btyd_cov_fit:
        return "bgnbd_cov_fit or pareto_nbd_cov_fit";
    case StateKind::segment_distribution:
        return "segment distribution";
    case StateKind::segment_delta:
        return "segment_distribution_delta";
    }
    return "unknown";
}

void invalid_state(StateKind kind, const std::string& detail) {
    throw Error(ErrorKind::invalid_binary_representation,
                std::string("invalid serialized ") + state_name(kind) + " state", detail);
}

// ------------------------------------------------------------------ writer

void StateWriter::f64(double value) {
    std::uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    le(bits);
}

void StateWriter::put(const void* data, std::size_t size) {
    if (out_ != nullptr && size != 0) {
        reserve(size);
        std::memcpy(out_ + pos_, data, size);
    }
    pos_ += size;
}

void StateWriter::i32_array(const std::int32_t* values, std::size_t count) {
    if (out_ != nullptr && count != 0) {
        reserve(count * 4);
        std::uint8_t* out = out_ + pos_;
        if constexpr (state_bytes::kBigEndianHost) {
            for (std::size_t i = 0; i < count; ++i)
                state_bytes::store(out + 4 * i, static_cast<std::uint32_t>(values[i]));
        } else {
            std::memcpy(out, values, count * 4);  // each int32 is already little-endian
        }
    }
    pos_ += count * 4;
}

void StateWriter::f64_array(const double* values, std::size_t count) {
    if (out_ == nullptr) {
        pos_ += count * 8;
        return;
    }
    if constexpr (!state_bytes::kBigEndianHost) {
        // Each double's bits are already little-endian.
        if (count != 0) {
            reserve(count * 8);
            std::memcpy(out_ + pos_, values, count * 8);
            pos_ += count * 8;
        }
        return;
    }
    for (std::size_t i = 0; i < count; ++i)
        f64(values[i]);
}

void StateWriter::finish() const {
    if (out_ != nullptr && pos_ != capacity_)
        overflow();
}

void StateBlock::overflow() {
    throw Error(ErrorKind::internal_error, "serialized state does not match its measured size");
}

void StateWriter::overflow() const {
    throw Error(ErrorKind::internal_error, "serialized state does not match its measured size");
}

// ------------------------------------------------------------------ reader

StateReader::StateReader(const std::uint8_t* data, std::size_t size, StateKind kind)
    : data_(data), size_(data == nullptr ? 0 : size), kind_(kind) {
    if (size_ < 2 || data_[0] != 'C' || data_[1] != 'A')
        fail("The bytes do not start with the state format header.");
    if (size_ < 3 || data_[2] != kStateFormatVersion)
        fail(size_ < 3 ? std::string("The state ends inside its header.")
                       : "The state format version " + std::to_string(data_[2]) + " is not supported.");
    if (size_ < 4)
        fail("The state ends inside its header.");
    if (data_[3] != static_cast<std::uint8_t>(kind)) {
        bool known = false;
        for (StateKind other : kAllStateKinds)
            known = known || static_cast<std::uint8_t>(other) == data_[3];
        fail(known ? std::string("The bytes hold a ") + state_name(static_cast<StateKind>(data_[3])) + " state."
                   : "The state kind " + std::to_string(data_[3]) + " is unknown.");
    }
    pos_ = 4;
}

bool StateReader::boolean(const char* field) {
    const std::uint8_t value = u8(field);
    if (value > 1)
        fail(std::string("The ") + field + " is neither true nor false.");
    return value == 1;
}

double StateReader::f64(const char* field) {
    const std::uint64_t bits = le<std::uint64_t>(field);
    double value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

double StateReader::finite_f64(const char* field) {
    const double value = f64(field);
    if (!std::isfinite(value))
        fail(std::string("The ") + field + " is not a finite number.");
    return value;
}

std::uint32_t StateReader::count(const char* field, std::size_t element_size, std::uint32_t limit) {
    const std::uint32_t value = u32(field);
    if (value > limit)
        fail(std::string("The ") + field + " " + std::to_string(value) + " is above the limit of " +
             std::to_string(limit) + ".");
    if (element_size != 0 && value > remaining() / element_size)
        fail(std::string("The ") + field + " " + std::to_string(value) + " is larger than the state can hold.");
    return value;
}

void StateReader::i32_array(std::int32_t* out, std::size_t count, const char* field) {
    need(count * 4, field);
    if (count == 0)
        return;
    const std::uint8_t* in = data_ + pos_;
    if constexpr (state_bytes::kBigEndianHost) {
        for (std::size_t i = 0; i < count; ++i)
            out[i] = static_cast<std::int32_t>(state_bytes::load<std::uint32_t>(in + 4 * i));
    } else {
        std::memcpy(out, in, count * 4);  // each int32 is already little-endian
    }
    pos_ += count * 4;
}

void StateReader::finite_f64_array(double* out, std::size_t count, const char* field) {
    need(count * 8, field);
    if constexpr (!state_bytes::kBigEndianHost) {
        if (count != 0)
            std::memcpy(out, data_ + pos_, count * 8);
        bool finite = true;
        for (std::size_t i = 0; i < count; ++i)
            finite &= std::isfinite(out[i]);
        if (!finite)
            fail(std::string("The ") + field + " is not a finite number.");
        pos_ += count * 8;
        return;
    }
    for (std::size_t i = 0; i < count; ++i)
        out[i] = finite_f64(field);
}

void StateReader::finish() const {
    if (pos_ != size_)
        fail("The state has " + std::to_string(size_ - pos_) + " trailing bytes.");
}

void StateReader::truncated(const char* field) const { fail(std::string("The state ends inside the ") + field + "."); }

// -------------------------------------------------------------- text form

namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The 6-bit value of a base64 character, or -1.
int base64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

}  // namespace

std::size_t state_text_length(std::size_t bytes) { return (bytes + 2) / 3 * 4; }

void state_text_encode(const std::uint8_t* data, std::size_t size, char* out) {
    std::size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        const std::uint32_t v = (std::uint32_t(data[i]) << 16) | (std::uint32_t(data[i + 1]) << 8) | data[i + 2];
        *out++ = kBase64[v >> 18];
        *out++ = kBase64[(v >> 12) & 63];
        *out++ = kBase64[(v >> 6) & 63];
        *out++ = kBase64[v & 63];
    }
    if (size - i == 1) {
        const std::uint32_t v = std::uint32_t(data[i]) << 16;
        *out++ = kBase64[v >> 18];
        *out++ = kBase64[(v >> 12) & 63];
        *out++ = '=';
        *out++ = '=';
    } else if (size - i == 2) {
        const std::uint32_t v = (std::uint32_t(data[i]) << 16) | (std::uint32_t(data[i + 1]) << 8);
        *out++ = kBase64[v >> 18];
        *out++ = kBase64[(v >> 12) & 63];
        *out++ = kBase64[(v >> 6) & 63];
        *out++ = '=';
    }
}

std::size_t state_text_max_bytes(std::size_t length) { return length / 4 * 3; }

bool state_text_decode(const char* text, std::size_t length, std::uint8_t* out, std::size_t* size) {
    if (length % 4 != 0)
        return false;
    std::size_t n = 0;
    for (std::size_t i = 0; i < length; i += 4) {
        const bool last = i + 4 == length;
        // '=' only at the end: "xx==" (one byte) or "xxx=" (two bytes).
        const int padding = last ? (text[i + 3] == '=') + (text[i + 3] == '=' && text[i + 2] == '=') : 0;
        int v[4] = {0, 0, 0, 0};
        for (int j = 0; j < 4 - padding; ++j) {
            v[j] = base64_value(static_cast<unsigned char>(text[i + j]));
            if (v[j] < 0)
                return false;
        }
        const std::uint32_t bits = (std::uint32_t(v[0]) << 18) | (std::uint32_t(v[1]) << 12) |
                                   (std::uint32_t(v[2]) << 6) | std::uint32_t(v[3]);
        out[n++] = static_cast<std::uint8_t>(bits >> 16);
        if (padding < 2)
            out[n++] = static_cast<std::uint8_t>(bits >> 8);
        if (padding < 1)
            out[n++] = static_cast<std::uint8_t>(bits);
        // Canonical: the bits after the last byte are zero.
        if ((padding == 2 && (bits & 0xFFFF) != 0) || (padding == 1 && (bits & 0xFF) != 0))
            return false;
    }
    *size = n;
    return true;
}

}  // namespace customer_analytics
