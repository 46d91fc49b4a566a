// Exact decimal sums. Money totals must equal PostgreSQL's sum(numeric) to the
// last digit, so amounts are summed as 128-bit integers scaled by 10^scale,
// where scale is the largest display scale seen (the same rule numeric uses
// for the scale of a sum). A total that would not fit is reported to the
// caller, which keeps the remainder in an arbitrary-precision value instead.
#pragma once

#include <cstddef>
#include <cstdint>

namespace customer_analytics {

using int128 = __int128;
// States live in PostgreSQL memory, which is only 8-byte aligned: stored
// 128-bit values must not demand 16 (PostgreSQL's c.h does the same).
typedef __int128 stored_int128 __attribute__((aligned(8)));

struct Decimal {
    stored_int128 mantissa = 0;  // value = mantissa * 10^-scale
    std::int32_t scale = 0;
};

// The largest scale kept exactly in 128 bits; 10^38 < 2^127 < 10^39.
constexpr std::int32_t kMaxDecimalScale = 38;
// Enough for a sign, 39 digits, a point and leading zeros up to kMaxDecimalScale.
constexpr std::size_t kDecimalTextCapacity = 96;

// Converts PostgreSQL's numeric representation (base-10000 digits, the weight
// of the first digit, the display scale) without going through text. Returns
// false when the value does not fit a Decimal; the caller then takes the
// arbitrary-precision path.
bool decimal_from_base10000(bool negative, int weight, int display_scale, const std::int16_t* digits, int digit_count,
                            Decimal* out);

// The inverse: PostgreSQL's canonical numeric digits for a Decimal (no
// leading or trailing zero digits; zero has no digits and weight 0).
struct NumericDigits {
    bool negative = false;
    int weight = 0;
    int display_scale = 0;
    int digit_count = 0;
    std::int16_t digits[12] = {};
};
void decimal_to_base10000(const Decimal& value, NumericDigits* out);

// Rescales a to a larger scale; false on overflow.
bool decimal_rescale(Decimal* value, std::int32_t scale);

// sum += addend, aligning scales; false (sum unchanged) on overflow.
bool decimal_add(Decimal* sum, const Decimal& addend);

// -1, 0 or 1 as a < b, a = b or a > b, by value (1.5 equals 1.50), for any
// scales: a value that overflows when brought to the other's scale is larger
// in magnitude than anything that scale holds, so its sign decides.
int decimal_compare(const Decimal& a, const Decimal& b);

// Writes "-123.45" (exactly `scale` fractional digits) and a NUL; returns the
// length. buffer must hold kDecimalTextCapacity bytes.
std::size_t decimal_format(const Decimal& value, char* buffer);

double decimal_to_double(const Decimal& value);

// dividend / divisor (divisor > 0) as PostgreSQL's numeric division of the
// numeric with display scale dividend.scale by the numeric of a bigint
// gives it: the result scale chosen for at least 16 significant digits
// (select_div_scale), the exact quotient rounded half away from zero at that
// scale. False when the quotient does not fit a Decimal.
bool decimal_divide_like_numeric(const Decimal& dividend, std::int64_t divisor, Decimal* out);

// A decimal of any size in PostgreSQL numeric's representation: base-10000
// digits, most significant first, digit i worth 10000^(weight - i), and the
// display scale (decimal places shown). Money totals beyond 128 bits travel
// in serialized states this way. The limits are numeric's: a display scale
// of at most 16383 and a weight that fits an int16; a value whose last digit
// lies within the display scale then has a weight of at least -4096.
struct LargeDecimal {
    bool negative = false;
    std::int32_t weight = 0;
    std::int32_t display_scale = 0;
    std::uint32_t count = 0;
    const std::int16_t* digits = nullptr;
};
constexpr std::int32_t kLargeDecimalMaxScale = 16383;
constexpr std::int32_t kLargeDecimalMaxWeight = 32767;
constexpr std::int32_t kLargeDecimalMinWeight = -(kLargeDecimalMaxScale + 1) / 4;
constexpr std::uint32_t kLargeDecimalMaxDigits = kLargeDecimalMaxWeight - kLargeDecimalMinWeight + 1;

// nullptr when the value is canonical (every digit in 0..9999, no leading or
// trailing zero digit, zero as no digits with weight 0 and no sign, nothing
// beyond the display scale) and within the limits; otherwise a sentence
// saying what is wrong, for an error's DETAIL.
const char* large_decimal_problem(const LargeDecimal& value);

// Decimal text ("-123.4500", exactly display_scale fractional digits) of a
// value large_decimal_problem accepts. The capacity includes the NUL.
std::size_t large_decimal_text_capacity(const LargeDecimal& value);
std::size_t large_decimal_format(const LargeDecimal& value, char* buffer);

}  // namespace customer_analytics
