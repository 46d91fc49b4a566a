// rfm_score: the 1..buckets scores of a customer against rfm_bins, and the
// packed rfm_score type with its text form.
#pragma once

#include <cstddef>
#include <cstdint>

#include "error.hpp"
#include "rfm_bins.hpp"

namespace customer_analytics {

struct RfmScore {
    int r = 0, f = 0, m = 0;
};

// Score of one value against ascending cuts: buckets are (-inf, c1], (c1, c2],
// ..., (c_{k-1}, +inf), so a value equal to a cut point falls in the lower
// bucket; equal values always get equal scores. Recency is reversed: the most
// recent customers (fewest days) get the highest score.
int bucket_of(double value, const double* cuts, std::size_t cut_count);
RfmScore score_customer(double recency_days, double frequency, double monetary, int buckets, const double* recency_cuts,
                        const double* frequency_cuts, const double* monetary_cuts);

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

}  // namespace customer_analytics
