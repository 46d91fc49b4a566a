// rfm_segment and rfm_class: the named segments of a score (the standard
// 11 or the caller's rules), and the 8 classes of Chinese e-commerce CRM.
#pragma once

#include <cstddef>
#include <vector>

#include "error.hpp"
#include "rfm_score.hpp"

namespace customer_analytics {

// A named box of scores. name is borrowed, not owned, so rules can sit in
// PostgreSQL memory (the glue caches parsed rule arrays between calls).
struct SegmentRule {
    const char* name;
    int r_min, r_max, f_min, f_max, m_min, m_max;
};

// The 11 named segments of the R package rfm, evaluated first match first
// (see the README for why this order). Scores must be 1..5.
const std::vector<SegmentRule>& standard_segment_rules();
constexpr const char* kOtherSegment = "Others";
const char* standard_segment(const RfmScore& score);

void check_segment_rule(const SegmentRule& rule, std::size_t position);
// Index of the first rule containing the score, or -1.
long first_matching_rule(const SegmentRule* rules, std::size_t count, const RfmScore& score);

// The 8-class scheme of Chinese e-commerce CRM. Each of R, F, M is high or
// low against a cut (the population mean by default): recency is high when
// the days since the last purchase are <= the cut (at least as recent as the
// average customer); frequency and monetary are high when >= the cut.
enum class RfmClass {
    important_value,
    important_development,
    important_retention,
    important_recall,
    general_value,
    general_development,
    general_retention,
    general_recall,
};
RfmClass classify(double recency_days, double frequency, double monetary, double recency_cut, double frequency_cut,
                  double monetary_cut);
enum class Language { en, zh };
Language parse_language(const char* text);
const char* class_label(RfmClass value, Language language);

}  // namespace customer_analytics
