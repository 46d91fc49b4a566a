#include "decimal.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "no_postgres.hpp"

namespace customer_analytics {

namespace {

bool power_of_ten(std::int32_t exponent, int128* out) {
    if (exponent < 0 || exponent > kMaxDecimalScale)
        return false;
    int128 value = 1;
    for (std::int32_t i = 0; i < exponent; ++i)
        value *= 10;
    *out = value;
    return true;
}

}  // namespace

bool decimal_from_base10000(bool negative, int weight, int display_scale, const std::int16_t* digits, int digit_count,
                            Decimal* out) {
    if (display_scale < 0 || display_scale > kMaxDecimalScale)
        return false;
    // Digit i is worth 10000^(weight - i); scaled by 10^display_scale it is worth
    // 10^(4 * (weight - i) + display_scale). Digits beyond the display scale are
    // zero in a valid numeric, so a negative exponent divides exactly.
    int128 mantissa = 0;
    for (int i = 0; i < digit_count; ++i) {
        const int digit = digits[i];
        if (digit < 0 || digit >= 10000)
            return false;
        if (digit == 0)
            continue;
        const long exponent = 4L * (weight - i) + display_scale;
        int128 term = 0;
        if (exponent >= 0) {
            int128 factor = 0;
            if (!power_of_ten(static_cast<std::int32_t>(exponent), &factor))
                return false;
            if (__builtin_mul_overflow(static_cast<int128>(digit), factor, &term))
                return false;
        } else {
            if (exponent < -4)
                return false;
            int128 divisor = 0;
            power_of_ten(static_cast<std::int32_t>(-exponent), &divisor);
            if (digit % divisor != 0)
                return false;
            term = digit / divisor;
        }
        if (__builtin_add_overflow(mantissa, term, &mantissa))
            return false;
    }
    out->mantissa = negative ? -mantissa : mantissa;
    out->scale = display_scale;
    return true;
}

void decimal_to_base10000(const Decimal& value, NumericDigits* out) {
    *out = NumericDigits();
    out->display_scale = value.scale;
    out->negative = value.mantissa < 0;
    unsigned __int128 magnitude = out->negative ? -static_cast<unsigned __int128>(value.mantissa)
                                                : static_cast<unsigned __int128>(value.mantissa);
    if (magnitude == 0) {
        out->negative = false;
        return;
    }
    // Pad the fraction to whole base-10000 digits, then split from the right;
    // the padding can overflow 128 bits, so it is applied to the lowest group.
    const int pad = (4 - value.scale % 4) % 4;
    int pad_factor = 1;
    for (int i = 0; i < pad; ++i)
        pad_factor *= 10;
    std::int16_t reversed[12];
    int count = 0;
    // Lowest group: (magnitude mod 10^(4-pad)) * 10^pad.
    const int first_modulus = 10000 / pad_factor;
    reversed[count++] = static_cast<std::int16_t>((magnitude % first_modulus) * pad_factor);
    magnitude /= first_modulus;
    while (magnitude != 0) {
        reversed[count++] = static_cast<std::int16_t>(magnitude % 10000);
        magnitude /= 10000;
    }
    const int fraction_groups = (value.scale + pad) / 4;
    // Digit i (from the left) has weight count - 1 - fraction_groups - i.
    int first = count - 1;
    while (first > 0 && reversed[first] == 0)
        --first;
    int last = 0;
    while (last < first && reversed[last] == 0)
        ++last;
    out->weight = first - fraction_groups;
    for (int i = first; i >= last; --i)
        out->digits[out->digit_count++] = reversed[i];
}

bool decimal_rescale(Decimal* value, std::int32_t scale) {
    if (scale < value->scale || scale > kMaxDecimalScale)
        return false;
    int128 factor = 0;
    if (!power_of_ten(scale - value->scale, &factor))
        return false;
    int128 rescaled = 0;
    if (__builtin_mul_overflow(value->mantissa, factor, &rescaled))
        return false;
    value->mantissa = rescaled;
    value->scale = scale;
    return true;
}

bool decimal_add(Decimal* sum, const Decimal& addend) {
    Decimal left = *sum;
    Decimal right = addend;
    if (left.scale < right.scale) {
        if (!decimal_rescale(&left, right.scale))
            return false;
    } else if (right.scale < left.scale) {
        if (!decimal_rescale(&right, left.scale))
            return false;
    }
    int128 total = 0;
    if (__builtin_add_overflow(left.mantissa, right.mantissa, &total))
        return false;
    sum->mantissa = total;
    sum->scale = left.scale;
    return true;
}

int decimal_compare(const Decimal& a, const Decimal& b) {
    Decimal left = a;
    Decimal right = b;
    if (left.scale < right.scale) {
        if (!decimal_rescale(&left, right.scale))
            return left.mantissa < 0 ? -1 : 1;
    } else if (right.scale < left.scale) {
        if (!decimal_rescale(&right, left.scale))
            return right.mantissa < 0 ? 1 : -1;
    }
    const int128 l = left.mantissa, r = right.mantissa;
    return l < r ? -1 : (l > r ? 1 : 0);
}

std::size_t decimal_format(const Decimal& value, char* buffer) {
    // Digits of |mantissa|, least significant first; the most negative int128
    // cannot be negated, so work on the unsigned magnitude.
    const bool negative = value.mantissa < 0;
    unsigned __int128 magnitude =
        negative ? -static_cast<unsigned __int128>(value.mantissa) : static_cast<unsigned __int128>(value.mantissa);
    char reversed[48];
    int count = 0;
    do {
        reversed[count++] = static_cast<char>('0' + static_cast<int>(magnitude % 10));
        magnitude /= 10;
    } while (magnitude != 0);
    while (count <= value.scale)
        reversed[count++] = '0';  // at least one digit before the point

    std::size_t length = 0;
    if (negative)
        buffer[length++] = '-';
    for (int i = count - 1; i >= 0; --i) {
        buffer[length++] = reversed[i];
        if (i == value.scale && value.scale > 0)
            buffer[length++] = '.';
    }
    buffer[length] = '\0';
    return length;
}

double decimal_to_double(const Decimal& value) {
    // Correctly rounded, as PostgreSQL's numeric -> float8 (strtod) is: when
    // both the mantissa and 10^scale are exact doubles a single division
    // rounds correctly; otherwise let strtod read the exact decimal text.
    constexpr int128 kExactLimit = int128(1) << 53;
    if (value.scale <= 22 && value.mantissa > -kExactLimit && value.mantissa < kExactLimit) {
        static const double powers[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
        return static_cast<double>(static_cast<std::int64_t>(value.mantissa)) / powers[value.scale];
    }
    const bool negative = value.mantissa < 0;
    const unsigned __int128 magnitude =
        negative ? -static_cast<unsigned __int128>(value.mantissa) : static_cast<unsigned __int128>(value.mantissa);
    if constexpr (LDBL_MANT_DIG == 64 && DBL_MANT_DIG == 53) {
        // x87 extended precision: a 64-bit mantissa and 10^scale (5^27 <
        // 2^64) are exact, so one division rounds correctly to 64 bits. The
        // second rounding, to double, is then correct unless the 64-bit
        // result lies exactly halfway between two doubles (its 11 extra
        // bits 10000000000): no other point where rounding to double
        // changes lies between the exact quotient and its nearest 64-bit
        // value.
        static const long double powers[] = {1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
                                             1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
                                             1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};
        if (magnitude <= UINT64_MAX && value.scale >= 0 && value.scale <= 27) {
            const long double quotient =
                static_cast<long double>(static_cast<std::uint64_t>(magnitude)) / powers[value.scale];
            // The x87 format keeps the 64-bit mantissa in its first 8 bytes.
            std::uint64_t bits;
            std::memcpy(&bits, &quotient, sizeof bits);
            if ((bits & 0x7ff) != 0x400 || quotient == 0) {
                const auto result = static_cast<double>(quotient);
                return negative ? -result : result;
            }
        }
    }
    // Digits and exponent for std::from_chars, which rounds correctly as
    // strtod does, without strtod's locale handling.
    if (magnitude <= UINT64_MAX && value.scale >= 0) {
        char text[48];
        char* end = text;
        if (negative)
            *end++ = '-';
        end = std::to_chars(end, text + 24, static_cast<std::uint64_t>(magnitude)).ptr;
        *end++ = 'e';
        *end++ = '-';
        end = std::to_chars(end, text + sizeof text, value.scale).ptr;
        double result = 0;
        std::from_chars(text, end, result);
        return result;
    }
    char text[kDecimalTextCapacity];
    decimal_format(value, text);
    return std::strtod(text, nullptr);
}

namespace {

constexpr std::array<int128, kMaxDecimalScale + 1> kPowersOfTen = [] {
    std::array<int128, kMaxDecimalScale + 1> powers{};
    powers[0] = 1;
    for (int i = 1; i <= kMaxDecimalScale; ++i)
        powers[i] = powers[i - 1] * 10;
    return powers;
}();

// The base-10000 weight and first digit of a positive value m * 10^-scale,
// as numeric stores it: value = first * 10000^weight + (lower digits).
void base10000_lead(int128 m, std::int32_t scale, int* weight, int128* first) {
    int digits = 1;
    while (digits <= kMaxDecimalScale && m >= kPowersOfTen[digits])
        ++digits;
    const int exponent = digits - 1 - scale;  // of the leading decimal digit
    *weight = exponent >= 0 ? exponent / 4 : -((-exponent + 3) / 4);
    const int shift = -scale - 4 * *weight;  // first = floor(m * 10^shift)
    *first = shift >= 0 ? m * kPowersOfTen[shift] : m / kPowersOfTen[-shift];
}

}  // namespace

bool decimal_divide_like_numeric(const Decimal& dividend, std::int64_t divisor, Decimal* out) {
    if (divisor <= 0 || dividend.scale < 0 || dividend.scale > kMaxDecimalScale)
        return false;
    const bool negative = dividend.mantissa < 0;
    const unsigned __int128 unsigned_magnitude = negative ? -static_cast<unsigned __int128>(dividend.mantissa)
                                                          : static_cast<unsigned __int128>(dividend.mantissa);
    if (unsigned_magnitude > static_cast<unsigned __int128>(~static_cast<unsigned __int128>(0) >> 1))
        return false;  // 2^127 has no positive int128
    const auto magnitude = static_cast<int128>(unsigned_magnitude);
    // select_div_scale: the quotient's weight estimated from the first
    // base-10000 digits (zero counts as weight 0, digit 0), one less when the
    // dividend's first digit is not larger.
    int weight1 = 0, weight2 = 0;
    int128 first1 = 0, first2 = 0;
    if (magnitude != 0)
        base10000_lead(magnitude, dividend.scale, &weight1, &first1);
    base10000_lead(divisor, 0, &weight2, &first2);
    int quotient_weight = weight1 - weight2;
    if (first1 <= first2)
        --quotient_weight;
    int scale = 16 - quotient_weight * 4;
    scale = std::max(scale, static_cast<int>(dividend.scale));
    scale = std::max(scale, 0);
    if (scale > kMaxDecimalScale)
        return false;
    int128 scaled;
    if (__builtin_mul_overflow(magnitude, kPowersOfTen[scale - dividend.scale], &scaled))
        return false;
    int128 quotient = scaled / divisor;
    const int128 remainder = scaled % divisor;
    if (remainder >= divisor - remainder)  // half away from zero
        ++quotient;
    out->mantissa = negative ? -quotient : quotient;
    out->scale = scale;
    return true;
}

const char* large_decimal_problem(const LargeDecimal& value) {
    if (value.display_scale < 0 || value.display_scale > kLargeDecimalMaxScale)
        return "The display scale of the overflow total is out of range.";
    if (value.count == 0) {
        if (value.weight != 0 || value.negative)
            return "The overflow total is a zero that is not in canonical form.";
        return nullptr;
    }
    if (value.count > kLargeDecimalMaxDigits)
        return "The overflow total has too many digits.";
    if (value.weight < kLargeDecimalMinWeight || value.weight > kLargeDecimalMaxWeight)
        return "The weight of the overflow total is out of range.";
    for (std::uint32_t i = 0; i < value.count; ++i)
        if (value.digits[i] < 0 || value.digits[i] >= 10000)
            return "A digit of the overflow total is not between 0 and 9999.";
    if (value.digits[0] == 0)
        return "The overflow total has a leading zero digit.";
    if (value.digits[value.count - 1] == 0)
        return "The overflow total has a trailing zero digit.";
    // The last digit covers the decimal places down to -4 * its position;
    // those past the display scale must be zero.
    const std::int64_t last_position = std::int64_t(value.weight) - value.count + 1;
    if (last_position < kLargeDecimalMinWeight)
        return "The overflow total has digits beyond its display scale.";
    const std::int64_t excess = -4 * last_position - value.display_scale;
    if (excess > 0) {
        int divisor = 1;
        for (std::int64_t i = 0; i < excess && i < 4; ++i)
            divisor *= 10;
        if (excess >= 4 || value.digits[value.count - 1] % divisor != 0)
            return "The overflow total has digits beyond its display scale.";
    }
    return nullptr;
}

std::size_t large_decimal_text_capacity(const LargeDecimal& value) {
    const std::size_t integer_digits = value.weight >= 0 ? 4 * (std::size_t(value.weight) + 1) : 1;
    return 1 + integer_digits + 1 + std::size_t(value.display_scale) + 4 + 1;
}

std::size_t large_decimal_format(const LargeDecimal& value, char* buffer) {
    // Digit at position p (10000^p) is digits[weight - p], or 0 outside them.
    auto digit_at = [&value](std::int64_t position) -> int {
        const std::int64_t index = std::int64_t(value.weight) - position;
        return index >= 0 && index < std::int64_t(value.count) ? value.digits[index] : 0;
    };
    std::size_t length = 0;
    if (value.negative)
        buffer[length++] = '-';
    if (value.weight < 0 || value.count == 0) {
        buffer[length++] = '0';
    } else {
        for (std::int64_t position = value.weight; position >= 0; --position) {
            const int digit = digit_at(position);
            char group[4] = {char('0' + digit / 1000), char('0' + digit / 100 % 10), char('0' + digit / 10 % 10),
                             char('0' + digit % 10)};
            int first = 0;
            if (position == value.weight)
                while (first < 3 && group[first] == '0')
                    ++first;
            for (int i = first; i < 4; ++i)
                buffer[length++] = group[i];
        }
    }
    if (value.display_scale > 0) {
        buffer[length++] = '.';
        std::int32_t written = 0;
        for (std::int64_t position = -1; written < value.display_scale; --position) {
            const int digit = digit_at(position);
            const char group[4] = {char('0' + digit / 1000), char('0' + digit / 100 % 10), char('0' + digit / 10 % 10),
                                   char('0' + digit % 10)};
            for (int i = 0; i < 4 && written < value.display_scale; ++i, ++written)
                buffer[length++] = group[i];
        }
    }
    buffer[length] = '\0';
    return length;
}

}  // namespace customer_analytics
