#include "rfm_score.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "error.hpp"

#include "no_postgres.hpp"

namespace customer_analytics {

int bucket_of(double value, const double* cuts, std::size_t cut_count) {
    // Number of cuts strictly below the value, plus one.
    return 1 + static_cast<int>(std::lower_bound(cuts, cuts + cut_count, value) - cuts);
}

RfmScore score_customer(double recency_days, double frequency, double monetary, int buckets, const double* recency_cuts,
                        const double* frequency_cuts, const double* monetary_cuts) {
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
                     "invalid input syntax for type rfm_score: \"" + input + "\"", {},
                     "Write three digits such as \"545\", or three numbers joined by dashes such as \"10-4-5\".");
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

}  // namespace customer_analytics
