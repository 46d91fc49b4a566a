// Unit tests for src/core/decimal: conversion from PostgreSQL's base-10000
// numeric digits, exact addition with scale alignment and overflow
// detection, text output and conversion to double.
#include "decimal.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace customer_analytics;
using namespace customer_analytics_test;

namespace {

// PostgreSQL's numeric representation of a decimal literal, built here from
// the text independently of the code under test: the digits are grouped in
// fours around the decimal point, leading and trailing zero groups are
// stripped (numeric stores them that way), weight is the power of 10000 of
// the first group and dscale the number of digits after the point.
struct Base10000 {
    bool negative = false;
    int weight = 0;
    int dscale = 0;
    std::vector<std::int16_t> digits;
};

Base10000 to_base10000(const std::string& text) {
    Base10000 out;
    std::size_t position = 0;
    if (!text.empty() && text[0] == '-') {
        out.negative = true;
        position = 1;
    }
    std::string integer_part, fraction_part;
    const std::size_t point = text.find('.', position);
    if (point == std::string::npos) {
        integer_part = text.substr(position);
    } else {
        integer_part = text.substr(position, point - position);
        fraction_part = text.substr(point + 1);
    }
    out.dscale = static_cast<int>(fraction_part.size());
    while (integer_part.size() % 4 != 0)
        integer_part.insert(0, "0");
    while (fraction_part.size() % 4 != 0)
        fraction_part.push_back('0');
    std::vector<std::int16_t> groups;
    for (std::size_t i = 0; i < integer_part.size(); i += 4)
        groups.push_back(static_cast<std::int16_t>(std::stoi(integer_part.substr(i, 4))));
    for (std::size_t i = 0; i < fraction_part.size(); i += 4)
        groups.push_back(static_cast<std::int16_t>(std::stoi(fraction_part.substr(i, 4))));
    int weight = static_cast<int>(integer_part.size() / 4) - 1;
    std::size_t first = 0;
    while (first < groups.size() && groups[first] == 0) {
        ++first;
        --weight;
    }
    std::size_t last = groups.size();
    while (last > first && groups[last - 1] == 0)
        --last;
    if (first == last) {
        out.weight = 0;  // zero has no digits
        return out;
    }
    out.weight = weight;
    out.digits.assign(groups.begin() + static_cast<long>(first), groups.begin() + static_cast<long>(last));
    return out;
}

bool convert(const Base10000& value, Decimal* out) {
    return decimal_from_base10000(value.negative, value.weight, value.dscale, value.digits.data(),
                                  static_cast<int>(value.digits.size()), out);
}

bool convert_text(const std::string& text, Decimal* out) { return convert(to_base10000(text), out); }

std::string format(const Decimal& value) {
    char buffer[kDecimalTextCapacity];
    const std::size_t length = decimal_format(value, buffer);
    EXPECT_EQ(length, std::strlen(buffer));
    EXPECT_LT(length, kDecimalTextCapacity);
    return std::string(buffer, length);
}

Decimal make(int128 mantissa, std::int32_t scale) {
    Decimal value;
    value.mantissa = mantissa;
    value.scale = scale;
    return value;
}

int128 pow10(int exponent) {
    int128 value = 1;
    for (int i = 0; i < exponent; ++i)
        value *= 10;
    return value;
}

// Decimal digits of an int128, written without the code under test.
std::string int128_text(int128 value) {
    const bool negative = value < 0;
    unsigned __int128 magnitude =
        negative ? -static_cast<unsigned __int128>(value) : static_cast<unsigned __int128>(value);
    std::string digits;
    do {
        digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
        magnitude /= 10;
    } while (magnitude != 0);
    return negative ? "-" + digits : digits;
}

// 2^127 - 1 and -2^127, the int128 limits, in decimal.
const char* const kInt128Max = "170141183460469231731687303715884105727";
const char* const kInt128MinText = "-170141183460469231731687303715884105728";

int128 int128_max() { return static_cast<int128>((static_cast<unsigned __int128>(1) << 127) - 1); }
int128 int128_min() { return -int128_max() - 1; }

}  // namespace

// ------------------------------------------------------- the test helper

TEST(DecimalHelper, Base10000MatchesPostgresLayout) {
    // The layouts the lead's comments and PostgreSQL's numeric.c give.
    Base10000 a = to_base10000("12345.67");
    EXPECT_FALSE(a.negative);
    EXPECT_EQ(a.weight, 1);
    EXPECT_EQ(a.dscale, 2);
    EXPECT_EQ(a.digits, (std::vector<std::int16_t>{1, 2345, 6700}));
    Base10000 b = to_base10000("0.05");
    EXPECT_EQ(b.weight, -1);
    EXPECT_EQ(b.dscale, 2);
    EXPECT_EQ(b.digits, (std::vector<std::int16_t>{500}));
    Base10000 c = to_base10000("120000000");
    EXPECT_EQ(c.weight, 2);
    EXPECT_EQ(c.dscale, 0);
    EXPECT_EQ(c.digits, (std::vector<std::int16_t>{1, 2000}));
    Base10000 zero = to_base10000("0.00");
    EXPECT_TRUE(zero.digits.empty());
    EXPECT_EQ(zero.dscale, 2);
}

// ------------------------------------------------------ decimal_from_base10000

TEST(DecimalFromBase10000, HandBuiltDigits) {
    Decimal value;
    const std::int16_t d1[] = {1, 2345, 6700};
    ASSERT_TRUE(decimal_from_base10000(false, 1, 2, d1, 3, &value));
    EXPECT_TRUE(value.mantissa == 1234567);
    EXPECT_EQ(value.scale, 2);

    const std::int16_t d2[] = {500};
    ASSERT_TRUE(decimal_from_base10000(false, -1, 2, d2, 1, &value));
    EXPECT_TRUE(value.mantissa == 5);
    EXPECT_EQ(value.scale, 2);

    // -12345.67
    ASSERT_TRUE(decimal_from_base10000(true, 1, 2, d1, 3, &value));
    EXPECT_TRUE(value.mantissa == -1234567);
    EXPECT_EQ(value.scale, 2);

    // 0.0001 at display scale 6: 0.000100
    const std::int16_t d3[] = {1};
    ASSERT_TRUE(decimal_from_base10000(false, -1, 6, d3, 1, &value));
    EXPECT_TRUE(value.mantissa == 100);
    EXPECT_EQ(value.scale, 6);
}

TEST(DecimalFromBase10000, TrailingZeroGroupsAreImplied) {
    // numeric strips trailing zero groups: 10000 is one digit {1} at weight 1,
    // 1e12 is {1} at weight 3, and 5e8 with dscale 2 is 500000000.00.
    Decimal value;
    const std::int16_t one[] = {1};
    ASSERT_TRUE(decimal_from_base10000(false, 1, 0, one, 1, &value));
    EXPECT_TRUE(value.mantissa == 10000);
    ASSERT_TRUE(decimal_from_base10000(false, 3, 0, one, 1, &value));
    EXPECT_TRUE(value.mantissa == pow10(12));
    const std::int16_t five[] = {5};
    ASSERT_TRUE(decimal_from_base10000(false, 2, 2, five, 1, &value));
    EXPECT_TRUE(value.mantissa == 5 * pow10(10));
    EXPECT_EQ(value.scale, 2);
    EXPECT_EQ(format(value), "500000000.00");
    // An embedded zero group: 12000000.5 is {1200, 0, 5000}.
    const std::int16_t embedded[] = {1200, 0, 5000};
    ASSERT_TRUE(decimal_from_base10000(false, 1, 1, embedded, 3, &value));
    EXPECT_TRUE(value.mantissa == 120000005);
    EXPECT_EQ(value.scale, 1);
}

TEST(DecimalFromBase10000, ZeroHasNoDigits) {
    Decimal value = make(77, 9);
    ASSERT_TRUE(decimal_from_base10000(false, 0, 2, nullptr, 0, &value));
    EXPECT_TRUE(value.mantissa == 0);
    EXPECT_EQ(value.scale, 2);
    EXPECT_EQ(format(value), "0.00");
    // A negative zero is plain zero.
    ASSERT_TRUE(decimal_from_base10000(true, 0, 0, nullptr, 0, &value));
    EXPECT_TRUE(value.mantissa == 0);
    EXPECT_EQ(format(value), "0");
}

TEST(DecimalFromBase10000, TextRoundTrips) {
    const std::string cases[] = {
        "0",
        "1",
        "-1",
        "0.05",
        "-0.50",
        "12345.67",
        "-12345.67",
        "10000",
        "99999999.9999",
        "0.00000001",
        "123456789012345678901234567890.12345678",
        "-0.0001",
        "1.000000",
        "1" + std::string(38, '0'),         // 10^38
        std::string(38, '9'),               // 38 nines
        "0." + std::string(37, '0') + "1",  // 10^-38, the largest scale
        kInt128Max,
        "-170141183460469231731687303715884105727",
    };
    for (const std::string& text : cases) {
        Decimal value;
        ASSERT_TRUE(convert_text(text, &value)) << text;
        EXPECT_EQ(format(value), text);
    }
}

TEST(DecimalFromBase10000, ValuesBeyond128BitsReturnFalse) {
    const std::string cases[] = {
        "170141183460469231731687303715884105728",  // 2^127
        "-170141183460469231731687303715884105729",
        "1" + std::string(39, '0'),                  // 10^39
        "1" + std::string(45, '0'),                  // far beyond
        "17014118346046923173168730371588410572.8",  // 2^127 at scale 1
        "1." + std::string(39, '0'),                 // display scale 39
        "1" + std::string(36, '0') + ".000",         // 10^36 at scale 3 = 10^39
    };
    for (const std::string& text : cases) {
        Decimal value = make(42, 3);
        EXPECT_FALSE(convert_text(text, &value)) << text;
    }
    // 10^35 at scale 3 is 10^38 hundredths: fits.
    Decimal value;
    ASSERT_TRUE(convert_text("1" + std::string(35, '0') + ".000", &value));
    EXPECT_TRUE(value.mantissa == pow10(38));
    EXPECT_EQ(value.scale, 3);
}

TEST(DecimalFromBase10000, RejectsMalformedDigits) {
    Decimal value;
    const std::int16_t too_big[] = {1, 10000};
    EXPECT_FALSE(decimal_from_base10000(false, 1, 0, too_big, 2, &value));
    const std::int16_t max_digit[] = {1, 9999};
    EXPECT_TRUE(decimal_from_base10000(false, 1, 0, max_digit, 2, &value));
    EXPECT_TRUE(value.mantissa == 19999);
    const std::int16_t negative_digit[] = {-1};
    EXPECT_FALSE(decimal_from_base10000(false, 0, 0, negative_digit, 1, &value));
    // Display scale outside 0..38.
    const std::int16_t one[] = {1};
    EXPECT_FALSE(decimal_from_base10000(false, 0, -1, one, 1, &value));
    EXPECT_FALSE(decimal_from_base10000(false, 0, 39, one, 1, &value));
    EXPECT_TRUE(decimal_from_base10000(false, 0, 38, one, 1, &value));
    // Nonzero digits beyond the display scale cannot be kept exactly: 0.05
    // with display scale 1, and 1.0001 with display scale 0.
    const std::int16_t five_hundred[] = {500};
    EXPECT_FALSE(decimal_from_base10000(false, -1, 1, five_hundred, 1, &value));
    const std::int16_t tail[] = {1, 1};
    EXPECT_FALSE(decimal_from_base10000(false, 0, 0, tail, 2, &value));
}

// ---------------------------------------------------------------- rescale

TEST(DecimalRescale, UpOnlyAndOverflow) {
    Decimal value = make(15, 1);
    ASSERT_TRUE(decimal_rescale(&value, 3));
    EXPECT_TRUE(value.mantissa == 1500);
    EXPECT_EQ(value.scale, 3);
    EXPECT_FALSE(decimal_rescale(&value, 2));  // never down
    EXPECT_TRUE(value.mantissa == 1500);
    EXPECT_EQ(value.scale, 3);
    Decimal big = make(pow10(37), 0);
    EXPECT_FALSE(decimal_rescale(&big, 2));  // 10^39 does not fit
    EXPECT_TRUE(big.mantissa == pow10(37));
    EXPECT_EQ(big.scale, 0);
}

// Latent bug: decimal_rescale lets a zero (or small) value reach a scale
// above kMaxDecimalScale, which decimal_format's 48-byte digit buffer does
// not allow for (a zero at scale 48 writes 49 digits: a stack overflow).
TEST(DecimalRescale, NeverExceedsMaxScale) {
    Decimal zero = make(0, 10);
    EXPECT_FALSE(decimal_rescale(&zero, 48));
    Decimal one = make(1, 1);
    EXPECT_FALSE(decimal_rescale(&one, kMaxDecimalScale + 1));
}

// ------------------------------------------------------------------- add

TEST(DecimalAdd, AlignsScales) {
    Decimal sum = make(15, 1);                     // 1.5
    ASSERT_TRUE(decimal_add(&sum, make(225, 2)));  // + 2.25
    EXPECT_TRUE(sum.mantissa == 375);
    EXPECT_EQ(sum.scale, 2);
    EXPECT_EQ(format(sum), "3.75");

    // The smaller scale on the right: 3.75 + 1 = 4.75 keeps scale 2.
    ASSERT_TRUE(decimal_add(&sum, make(1, 0)));
    EXPECT_EQ(format(sum), "4.75");
    // The sum's scale is the largest seen, even if the digits are zero.
    ASSERT_TRUE(decimal_add(&sum, make(0, 4)));
    EXPECT_EQ(format(sum), "4.7500");
    ASSERT_TRUE(decimal_add(&sum, make(-47500, 4)));
    EXPECT_EQ(format(sum), "0.0000");
    ASSERT_TRUE(decimal_add(&sum, make(-5, 2)));
    EXPECT_EQ(format(sum), "-0.0500");
}

TEST(DecimalAdd, OverflowLeavesSumUnchanged) {
    // int128 holds up to 2^127 - 1 (about 1.7 * 10^38).
    Decimal sum = make(15 * pow10(37), 0);                   // 1.5e38
    ASSERT_TRUE(decimal_add(&sum, make(2 * pow10(36), 0)));  // 1.52e38 still fits
    const Decimal before = sum;
    EXPECT_FALSE(decimal_add(&sum, make(2 * pow10(37), 0)));  // 1.72e38 does not
    EXPECT_TRUE(sum.mantissa == before.mantissa);
    EXPECT_EQ(sum.scale, before.scale);

    // Exactly at the limit.
    Decimal top = make(int128_max() - 1, 0);
    ASSERT_TRUE(decimal_add(&top, make(1, 0)));
    EXPECT_EQ(format(top), kInt128Max);
    EXPECT_FALSE(decimal_add(&top, make(1, 0)));
    EXPECT_EQ(format(top), kInt128Max);

    // The negative side reaches -2^127, one further than the positive side.
    Decimal bottom = make(-int128_max(), 0);
    ASSERT_TRUE(decimal_add(&bottom, make(-1, 0)));
    EXPECT_EQ(format(bottom), kInt128MinText);
    EXPECT_FALSE(decimal_add(&bottom, make(-1, 0)));
    EXPECT_EQ(format(bottom), kInt128MinText);
    // Adding a positive value to the most negative one is fine.
    ASSERT_TRUE(decimal_add(&bottom, make(1, 0)));
    EXPECT_EQ(format(bottom), "-170141183460469231731687303715884105727");
}

TEST(DecimalAdd, RescaleOverflowLeavesSumUnchanged) {
    // 10^37 at scale 0 plus 0.01 would need 10^39 at scale 2.
    Decimal sum = make(pow10(37), 0);
    EXPECT_FALSE(decimal_add(&sum, make(1, 2)));
    EXPECT_TRUE(sum.mantissa == pow10(37));
    EXPECT_EQ(sum.scale, 0);
    // The other way round: a small sum at scale 0 plus an addend at scale 0
    // that cannot be raised to the sum's scale.
    Decimal small = make(1, 5);
    EXPECT_FALSE(decimal_add(&small, make(pow10(37), 0)));
    EXPECT_TRUE(small.mantissa == 1);
    EXPECT_EQ(small.scale, 5);
    // 10^36 + 0.01 = 10^38 + 1 hundredths fits.
    Decimal fits = make(pow10(36), 0);
    ASSERT_TRUE(decimal_add(&fits, make(1, 2)));
    EXPECT_TRUE(fits.mantissa == pow10(38) + 1);
    EXPECT_EQ(fits.scale, 2);
}

// Property: random amounts with random scales 0..4, converted from their
// numeric digits and summed with decimal_add, equal an int128 reference kept
// at the fixed scale 4; the text equals the reference at the largest scale.
TEST(DecimalAdd, RandomSumsMatchFixedScaleReference) {
    std::mt19937_64 random(20240611);
    for (int trial = 0; trial < 200; ++trial) {
        Decimal sum;
        int128 reference = 0;  // at scale 4
        int max_scale = 0;
        const int count = 1 + static_cast<int>(random() % 300);
        for (int i = 0; i < count; ++i) {
            const int scale = static_cast<int>(random() % 5);
            // Magnitudes from cents to about 10^15, with both signs.
            const std::int64_t magnitude = static_cast<std::int64_t>(random() >> (14 + random() % 48));
            const std::int64_t mantissa = (random() & 1) != 0 ? -magnitude : magnitude;
            // Text of mantissa * 10^-scale, then through the digits.
            std::string digits = int128_text(mantissa < 0 ? -mantissa : mantissa);
            while (digits.size() <= static_cast<std::size_t>(scale))
                digits.insert(0, "0");
            std::string text = digits;
            if (scale > 0)
                text.insert(text.size() - static_cast<std::size_t>(scale), ".");
            if (mantissa < 0)
                text.insert(0, "-");
            Decimal amount;
            ASSERT_TRUE(convert_text(text, &amount)) << text;
            ASSERT_TRUE(amount.mantissa == mantissa) << text;
            ASSERT_EQ(amount.scale, scale) << text;
            ASSERT_TRUE(decimal_add(&sum, amount));
            reference += static_cast<int128>(mantissa) * pow10(4 - scale);
            max_scale = std::max(max_scale, scale);
        }
        ASSERT_EQ(sum.scale, max_scale);
        ASSERT_TRUE(sum.mantissa * pow10(4 - sum.scale) == reference);
        // Reference text at max_scale, built from the scale-4 integer.
        const int128 at_scale = reference / pow10(4 - max_scale);
        ASSERT_TRUE(at_scale * pow10(4 - max_scale) == reference);
        std::string digits = int128_text(at_scale < 0 ? -at_scale : at_scale);
        while (digits.size() <= static_cast<std::size_t>(max_scale))
            digits.insert(0, "0");
        if (max_scale > 0)
            digits.insert(digits.size() - static_cast<std::size_t>(max_scale), ".");
        if (at_scale < 0)
            digits.insert(0, "-");
        EXPECT_EQ(format(sum), digits);
    }
}

// ----------------------------------------------------------------- format

TEST(DecimalFormat, Shapes) {
    EXPECT_EQ(format(make(0, 0)), "0");
    EXPECT_EQ(format(make(42, 0)), "42");
    EXPECT_EQ(format(make(-42, 0)), "-42");
    EXPECT_EQ(format(make(5, 2)), "0.05");
    EXPECT_EQ(format(make(-50, 2)), "-0.50");
    EXPECT_EQ(format(make(-5, 1)), "-0.5");
    EXPECT_EQ(format(make(1234567, 2)), "12345.67");
    EXPECT_EQ(format(make(-1234567, 2)), "-12345.67");
    EXPECT_EQ(format(make(100, 2)), "1.00");
    EXPECT_EQ(format(make(0, 3)), "0.000");
    EXPECT_EQ(format(make(1, 38)), "0.00000000000000000000000000000000000001");
    EXPECT_EQ(format(make(-1, 38)), "-0.00000000000000000000000000000000000001");
}

TEST(DecimalFormat, ExtremeValues) {
    EXPECT_EQ(format(make(int128_max(), 0)), kInt128Max);
    EXPECT_EQ(format(make(int128_min(), 0)), kInt128MinText);
    EXPECT_EQ(format(make(int128_max(), 38)), "1.70141183460469231731687303715884105727");
    EXPECT_EQ(format(make(int128_min(), 38)), "-1.70141183460469231731687303715884105728");
    EXPECT_EQ(format(make(int128_min(), 2)), "-1701411834604692317316873037158841057.28");
    // The longest output fits the documented capacity.
    char buffer[kDecimalTextCapacity];
    EXPECT_LT(decimal_format(make(int128_min(), 38), buffer), kDecimalTextCapacity);
}

// --------------------------------------------------------------- to double

TEST(DecimalToDouble, Values) {
    EXPECT_EQ(decimal_to_double(make(0, 0)), 0.0);
    EXPECT_EQ(decimal_to_double(make(0, 5)), 0.0);
    EXPECT_EQ(decimal_to_double(make(42, 0)), 42.0);
    EXPECT_EQ(decimal_to_double(make(375, 2)), 3.75);
    EXPECT_EQ(decimal_to_double(make(-50, 2)), -0.5);
    EXPECT_EQ(decimal_to_double(make(1234567, 2)), 12345.67);
    EXPECT_EQ(decimal_to_double(make(5, 2)), 0.05);
    EXPECT_EQ(decimal_to_double(make(-1234567, 2)), -12345.67);
    EXPECT_DOUBLE_EQ(decimal_to_double(make(int128_max(), 0)), 1.7014118346046923e38);
    EXPECT_DOUBLE_EQ(decimal_to_double(make(int128_min(), 38)), -1.7014118346046923);
    EXPECT_DOUBLE_EQ(decimal_to_double(make(1, 38)), 1e-38);
}

// Money-like values (scales 0..4, up to 10^14) convert exactly as strtod
// converts their text, i.e. as PostgreSQL's numeric::float8 does.
TEST(DecimalToDouble, MatchesStrtodForMoneyLikeValues) {
    std::mt19937_64 random(99);
    for (int i = 0; i < 200000; ++i) {
        const Decimal value =
            make(static_cast<std::int64_t>(random() % 100000000000000ULL) * ((random() & 1) != 0 ? -1 : 1),
                 static_cast<std::int32_t>(random() % 5));
        const std::string text = format(value);
        ASSERT_EQ(decimal_to_double(value), std::strtod(text.c_str(), nullptr)) << text;
    }
}

// Bug: decimal_to_double divides in long double and then rounds again to
// double, so some values are one ulp away from the correctly rounded double
// that PostgreSQL's numeric::float8 (strtod) gives. The glue's
// numeric_to_double uses it for every numeric of scale <= 18 (rfm monetary).
TEST(DecimalToDouble, CorrectlyRounded) {
    const Decimal cases[] = {make(96668764949639, 6), make(90981622054366, 6), make(291, 13)};
    for (const Decimal& value : cases) {
        const std::string text = format(value);
        const double got = decimal_to_double(value);
        const double want = std::strtod(text.c_str(), nullptr);
        char message[96];
        std::snprintf(message, sizeof message, "%s: got %.17g, strtod gives %.17g", text.c_str(), got, want);
        EXPECT_EQ(got, want) << message;
    }
}

// ------------------------------------------------- back to numeric digits

TEST(DecimalToBase10000, HandCheckedDigits) {
    NumericDigits out;
    decimal_to_base10000(Decimal{1234567, 2}, &out);  // 12345.67
    EXPECT_FALSE(out.negative);
    EXPECT_EQ(out.weight, 1);
    EXPECT_EQ(out.display_scale, 2);
    ASSERT_EQ(out.digit_count, 3);
    EXPECT_EQ(out.digits[0], 1);
    EXPECT_EQ(out.digits[1], 2345);
    EXPECT_EQ(out.digits[2], 6700);

    decimal_to_base10000(Decimal{-5, 2}, &out);  // -0.05: weight -1, digit 500
    EXPECT_TRUE(out.negative);
    EXPECT_EQ(out.weight, -1);
    ASSERT_EQ(out.digit_count, 1);
    EXPECT_EQ(out.digits[0], 500);

    decimal_to_base10000(Decimal{0, 3}, &out);  // zero keeps its scale, has no digits
    EXPECT_FALSE(out.negative);
    EXPECT_EQ(out.weight, 0);
    EXPECT_EQ(out.display_scale, 3);
    EXPECT_EQ(out.digit_count, 0);

    decimal_to_base10000(Decimal{100000000, 0}, &out);  // 10^8: one digit of weight 2, no trailing zeros
    EXPECT_EQ(out.weight, 2);
    ASSERT_EQ(out.digit_count, 1);
    EXPECT_EQ(out.digits[0], 1);
}

TEST(DecimalToBase10000, RoundTripsThroughTheReader) {
    std::mt19937_64 generator(20241123);
    for (int trial = 0; trial < 200000; ++trial) {
        unsigned __int128 magnitude = generator();
        if (trial % 2 == 0)
            magnitude = (magnitude << 64) | generator();
        magnitude >>= 1 + generator() % 126;
        Decimal value;
        value.mantissa = (generator() & 1) ? -static_cast<int128>(magnitude) : static_cast<int128>(magnitude);
        value.scale = static_cast<std::int32_t>(generator() % (kMaxDecimalScale + 1));
        NumericDigits digits;
        decimal_to_base10000(value, &digits);
        if (digits.digit_count > 0) {
            ASSERT_NE(digits.digits[0], 0);
            ASSERT_NE(digits.digits[digits.digit_count - 1], 0);
        }
        Decimal back;
        ASSERT_TRUE(decimal_from_base10000(digits.negative, digits.weight, digits.display_scale, digits.digits,
                                           digits.digit_count, &back));
        ASSERT_TRUE(back.mantissa == value.mantissa && back.scale == value.scale) << "trial " << trial;
    }
}

TEST(Decimal, DivideLikeNumeric) {
    // The quotients PostgreSQL 15 prints for numeric / bigint.
    struct Case {
        Decimal dividend;
        std::int64_t divisor;
        const char* expected;
    };
    const Case cases[] = {
        {dec(10, 0), 3, "3.3333333333333333"},
        {dec(1, 0), 3, "0.33333333333333333333"},
        {dec(2, 0), 3, "0.66666666666666666667"},  // rounded up
        {dec(10000, 2), 7, "14.2857142857142857"},
        {dec(-12345678, 3), 99999, "-0.12345801458014580146"},
        {dec(1, 4), 3, "0.000033333333333333333333"},
        {dec(99990000, 0), 10000001, "9.9989990001001000"},
        {dec(5, 0), 2, "2.5000000000000000"},
        {dec(0, 2), 7, "0.00000000000000000000"},
        {dec(1234567890125, 1), 1, "123456789012.50000000"},
        {dec(5, 1), 10001, "0.000049995000499950005000"},
    };
    for (const Case& c : cases) {
        Decimal quotient;
        ASSERT_TRUE(decimal_divide_like_numeric(c.dividend, c.divisor, &quotient)) << c.expected;
        char text[kDecimalTextCapacity];
        decimal_format(quotient, text);
        EXPECT_STREQ(text, c.expected);
    }
    Decimal quotient;
    EXPECT_FALSE(decimal_divide_like_numeric(dec(1, 0), 0, &quotient));
    // A tiny quotient needs a scale beyond 38 digits.
    EXPECT_FALSE(decimal_divide_like_numeric(dec(1, 30), 1000, &quotient));
}

TEST(Decimal, ToDoubleRoundsCorrectly) {
    // Every path of decimal_to_double agrees with strtod of the exact text,
    // halfway cases between two doubles included (2^53 + 1 and + 3 round to
    // even, a digit more decides).
    for (const Decimal& value :
         {dec(9007199254740993, 0), dec(9007199254740995, 0), dec(90071992547409930, 1), dec(90071992547409931, 1),
          dec(-9007199254740993, 0), dec(18014398509481987, 0), dec(int128(9007199254740993) * 1000000, 22)}) {
        char text[kDecimalTextCapacity];
        decimal_format(value, text);
        const double expected = std::strtod(text, nullptr);
        const double got = decimal_to_double(value);
        EXPECT_EQ(std::memcmp(&expected, &got, sizeof got), 0) << text;
    }
    std::mt19937_64 g(17);
    for (int i = 0; i < 200000; ++i) {
        const int digits = 1 + static_cast<int>(g() % 38);
        int128 mantissa = 0;
        for (int d = 0; d < digits; ++d)
            mantissa = mantissa * 10 + static_cast<int>(g() % 10);
        if (g() % 2)
            mantissa = -mantissa;
        const Decimal value = dec(mantissa, static_cast<std::int32_t>(g() % 39));
        char text[kDecimalTextCapacity];
        decimal_format(value, text);
        const double expected = std::strtod(text, nullptr);
        const double got = decimal_to_double(value);
        ASSERT_EQ(std::memcmp(&expected, &got, sizeof got), 0) << text;
    }
}
