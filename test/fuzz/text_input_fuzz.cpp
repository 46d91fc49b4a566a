// libFuzzer target: rfm_score's text input, numeric digit conversion and the
// base64 text of analytics_state take arbitrary user input and must reject
// what they cannot read with an Error (or false), never misread it.
#include <cstring>
#include <string>

#include "decimal.hpp"
#include "error.hpp"
#include "rfm_score.hpp"
#include "state_format.hpp"

namespace ca = customer_analytics;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const ca::RfmScore score = ca::parse_score(text.c_str());
        char formatted[ca::kScoreTextCapacity];
        ca::format_score(score, formatted);
        // Text form round-trips.
        const ca::RfmScore again = ca::parse_score(formatted);
        if (again.r != score.r || again.f != score.f || again.m != score.m)
            __builtin_trap();
    } catch (const ca::Error&) {
    }
    if (size >= 4) {
        std::int16_t digits[16] = {};
        const int count = static_cast<int>(std::min<std::size_t>((size - 4) / 2, 16));
        std::memcpy(digits, data + 4, count * sizeof(std::int16_t));
        ca::Decimal value;
        if (ca::decimal_from_base10000(data[0] & 1, static_cast<std::int8_t>(data[1]), data[2] % 64, digits, count,
                                       &value)) {
            char buffer[ca::kDecimalTextCapacity];
            ca::decimal_format(value, buffer);
            ca::Decimal sum = value;
            ca::decimal_add(&sum, value);
        }
    }
    // analytics_state's text: only canonical base64 decodes (into at most
    // state_text_max_bytes), and what decodes encodes back to the same text.
    {
        std::string decoded(ca::state_text_max_bytes(size), '\0');
        std::size_t decoded_size = 0;
        if (ca::state_text_decode(text.data(), size, reinterpret_cast<std::uint8_t*>(decoded.data()), &decoded_size)) {
            if (decoded_size > decoded.size() || ca::state_text_length(decoded_size) != size)
                __builtin_trap();
            std::string encoded(size, '\0');
            ca::state_text_encode(reinterpret_cast<const std::uint8_t*>(decoded.data()), decoded_size, encoded.data());
            if (encoded != text)
                __builtin_trap();
        }
    }
    return 0;
}
