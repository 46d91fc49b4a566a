#include "rfm_segment.hpp"

#include <cmath>
#include <string>

#include "error.hpp"

#include "no_postgres.hpp"

namespace customer_analytics {

const std::vector<SegmentRule>& standard_segment_rules() {
    // Ranges from the R package rfm's documentation. rfm applies its table
    // first match first in an order where New Customers and Promising sit
    // inside Potential Loyalist and Can't Lose Them inside At Risk, and its
    // Hibernating and Lost boxes are both "R, F, M at most 2", so some
    // segments can never be assigned. Here the narrower rules come first and
    // Lost is the all-lowest cell (1,1,1), which makes all 11 reachable; the
    // tests pin the resulting map of all 125 cells.
    static const std::vector<SegmentRule> rules = {
        {"Champions", 4, 5, 4, 5, 4, 5},
        {"Loyal Customers", 2, 5, 3, 5, 3, 5},
        {"Can't Lose Them", 1, 1, 4, 5, 4, 5},
        {"New Customers", 4, 5, 1, 1, 1, 1},
        {"Promising", 3, 4, 1, 1, 1, 1},
        {"Need Attention", 2, 3, 2, 3, 2, 3},
        {"Potential Loyalist", 3, 5, 1, 3, 1, 3},
        {"About To Sleep", 2, 3, 1, 2, 1, 2},
        {"At Risk", 1, 2, 2, 5, 2, 5},
        {"Lost", 1, 1, 1, 1, 1, 1},
        {"Hibernating", 1, 2, 1, 2, 1, 2},
    };
    return rules;
}

const char* standard_segment(const RfmScore& score) {
    check_score(score);
    if (score.r > 5 || score.f > 5 || score.m > 5) {
        char text[kScoreTextCapacity];
        throw Error(ErrorKind::invalid_parameter_value, "the standard RFM segments need scores from 1 to 5",
                    std::string("The score given was ") + format_score(score, text) + ".",
                    "Score with buckets => 5, or pass your own segment rules to rfm_segment.");
    }
    const auto& rules = standard_segment_rules();
    const long index = first_matching_rule(rules.data(), rules.size(), score);
    return index < 0 ? kOtherSegment : rules[static_cast<std::size_t>(index)].name;
}

void check_segment_rule(const SegmentRule& rule, std::size_t position) {
    if (rule.name == nullptr || rule.name[0] == '\0')
        throw Error(ErrorKind::invalid_parameter_value, "segment rule names must not be empty",
                    "Rule " + std::to_string(position + 1) + " has an empty name.");
    const int bounds[3][2] = {{rule.r_min, rule.r_max}, {rule.f_min, rule.f_max}, {rule.m_min, rule.m_max}};
    for (const auto& bound : bounds) {
        if (bound[0] < 1 || bound[1] > kMaxBuckets || bound[0] > bound[1]) {
            const std::string where = "Rule " + std::to_string(position + 1) + " (\"" + rule.name + "\")";
            throw Error(ErrorKind::invalid_parameter_value, "invalid score range in segment rule",
                        where + " has a range from " + std::to_string(bound[0]) + " to " + std::to_string(bound[1]) +
                            ".",
                        "Each range needs 1 <= min <= max <= " + std::to_string(kMaxBuckets) + ".");
        }
    }
}

long first_matching_rule(const SegmentRule* rules, std::size_t count, const RfmScore& score) {
    for (std::size_t i = 0; i < count; ++i) {
        const SegmentRule& rule = rules[i];
        if (score.r >= rule.r_min && score.r <= rule.r_max && score.f >= rule.f_min && score.f <= rule.f_max &&
            score.m >= rule.m_min && score.m <= rule.m_max)
            return static_cast<long>(i);
    }
    return -1;
}

RfmClass classify(double recency_days, double frequency, double monetary, double recency_cut, double frequency_cut,
                  double monetary_cut) {
    for (double value : {recency_days, frequency, monetary, recency_cut, frequency_cut, monetary_cut})
        if (std::isnan(value))
            throw Error(ErrorKind::invalid_parameter_value, "cannot classify NaN values");
    const bool recent = recency_days <= recency_cut;
    const bool frequent = frequency >= frequency_cut;
    const bool valuable = monetary >= monetary_cut;
    static const RfmClass table[2][2][2] = {
        // [valuable][recent][frequent]
        {{RfmClass::general_recall, RfmClass::general_retention},
         {RfmClass::general_development, RfmClass::general_value}},
        {{RfmClass::important_recall, RfmClass::important_retention},
         {RfmClass::important_development, RfmClass::important_value}},
    };
    return table[valuable][recent][frequent];
}

Language parse_language(const char* text) {
    const std::string value(text);
    if (value == "en")
        return Language::en;
    if (value == "zh")
        return Language::zh;
    throw Error(ErrorKind::invalid_parameter_value, "unknown language \"" + value + "\"", {},
                "Use 'en' for English labels or 'zh' for Chinese labels.");
}

const char* class_label(RfmClass value, Language language) {
    static const char* const english[] = {
        "important value", "important development", "important retention", "important recall",
        "general value",   "general development",   "general retention",   "general recall",
    };
    static const char* const chinese[] = {
        "重要价值客户", "重要发展客户", "重要保持客户", "重要挽留客户",
        "一般价值客户", "一般发展客户", "一般保持客户", "一般挽留客户",
    };
    const auto index = static_cast<std::size_t>(value);
    return language == Language::zh ? chinese[index] : english[index];
}

}  // namespace customer_analytics
