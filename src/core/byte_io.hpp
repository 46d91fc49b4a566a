// Little-endian byte writing and bounds-checked reading for the serialized
// states of the core's aggregates (tags, affinity, k-means, spend samples).
// Every reading error is an Error(data_exception) naming what was read.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"

namespace customer_analytics {

inline void put_u8(std::vector<std::uint8_t>& out, std::uint8_t v) { out.push_back(v); }
inline void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline void put_u64(std::vector<std::uint8_t>& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i)
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline void put_f64(std::vector<std::uint8_t>& out, double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    put_u64(out, bits);
}
inline void put_bytes(std::vector<std::uint8_t>& out, const void* data, std::size_t size) {
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    out.insert(out.end(), bytes, bytes + size);
}

class ByteReader {
public:
    // what names the value in messages: "invalid <what>".
    ByteReader(const std::uint8_t* data, std::size_t size, const char* what) : p_(data), n_(size), what_(what) {
        if (p_ == nullptr && n_ != 0)
            fail("null buffer");
    }
    [[noreturn]] void fail(const char* why) const {
        throw Error(ErrorKind::data_exception, std::string("invalid ") + what_,
                    std::string("The serialized state is corrupt: ") + why + ".");
    }
    void need(std::size_t k) const {
        if (n_ - pos_ < k)
            fail("truncated input");
    }
    std::size_t left() const { return n_ - pos_; }
    // A 4-byte tag followed by a version byte.
    void magic(const char* tag, std::uint8_t version) {
        need(5);
        if (std::memcmp(p_ + pos_, tag, 4) != 0)
            fail("bad magic");
        if (p_[pos_ + 4] != version)
            fail("unknown version");
        pos_ += 5;
    }
    std::uint8_t u8() {
        need(1);
        return p_[pos_++];
    }
    std::uint32_t u32() {
        need(4);
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i)
            v |= static_cast<std::uint32_t>(p_[pos_ + i]) << (8 * i);
        pos_ += 4;
        return v;
    }
    std::uint64_t u64() {
        need(8);
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i)
            v |= static_cast<std::uint64_t>(p_[pos_ + i]) << (8 * i);
        pos_ += 8;
        return v;
    }
    // Finite doubles only: no state holds NaN or infinities.
    double f64() {
        const std::uint64_t bits = u64();
        double v;
        std::memcpy(&v, &bits, sizeof v);
        if (!std::isfinite(v))
            fail("non-finite value");
        return v;
    }
    std::string_view bytes(std::size_t k) {
        need(k);
        std::string_view s(reinterpret_cast<const char*>(p_ + pos_), k);
        pos_ += k;
        return s;
    }
    void finish() const {
        if (pos_ != n_)
            fail("trailing bytes");
    }

private:
    const std::uint8_t* p_;
    std::size_t n_;
    std::size_t pos_ = 0;
    const char* what_;
};

}  // namespace customer_analytics
