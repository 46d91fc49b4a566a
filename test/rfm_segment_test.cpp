// Unit tests for src/core/rfm_segment: the standard segment map, rules of
// the caller's, and the 8-class scheme.
#include "rfm_segment.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "error.hpp"
#include "test_util.hpp"

using namespace customer_analytics;
using namespace customer_analytics_test;

// ============================================================== segments

TEST(StandardSegments, EveryCellCounted) {
    // Cells per segment over r, f, m in 1..5, worked out by hand from the
    // rule table (first match wins, in the listed order):
    //   Champions          r4-5 f4-5 m4-5                               8
    //   Loyal Customers    r2-5 f3-5 m3-5 = 36, minus Champions 8      28
    //   Can't Lose Them    r1 f4-5 m4-5                                 4
    //   New Customers      r4-5 f1 m1                                   2
    //   Promising          r3-4 f1 m1, minus 411                        1
    //   Need Attention     r2-3 f2-3 m2-3 = 8, minus 233, 333           6
    //   Potential Loyalist r3-5 f1-3 m1-3 = 27, minus 333 433 533,
    //                      411 511, 311, 322 323 332                   18
    //   About To Sleep     r2-3 f1-2 m1-2 = 8: r3 all taken, 222 taken  3
    //   At Risk            r1: 16 minus 4 Can't Lose; r2: 16 minus 9
    //                      Loyal minus 222 223 232                     16
    //   Lost               111                                          1
    //   Hibernating        r1-2 f1-2 m1-2: only 112 and 121 left        2
    //   Others             125 - 89                                    36
    const std::map<std::string, int> expected = {
        {"Champions", 8},
        {"Loyal Customers", 28},
        {"Can't Lose Them", 4},
        {"New Customers", 2},
        {"Promising", 1},
        {"Need Attention", 6},
        {"Potential Loyalist", 18},
        {"About To Sleep", 3},
        {"At Risk", 16},
        {"Lost", 1},
        {"Hibernating", 2},
        {"Others", 36},
    };
    std::map<std::string, int> counts;
    for (int r = 1; r <= 5; ++r)
        for (int f = 1; f <= 5; ++f)
            for (int m = 1; m <= 5; ++m)
                ++counts[standard_segment(score_of(r, f, m))];
    EXPECT_EQ(counts, expected);
    EXPECT_EQ(standard_segment_rules().size(), 11u);
    for (std::size_t i = 0; i < standard_segment_rules().size(); ++i) {
        EXPECT_NO_THROW(check_segment_rule(standard_segment_rules()[i], i));
        EXPECT_GT(counts[standard_segment_rules()[i].name], 0) << standard_segment_rules()[i].name;
    }
}

TEST(StandardSegments, SpotChecks) {
    const std::pair<const char*, const char*> cases[] = {
        {"555", "Champions"},
        {"444", "Champions"},
        {"545", "Champions"},
        {"155", "Can't Lose Them"},
        {"144", "Can't Lose Them"},
        {"154", "Can't Lose Them"},
        {"111", "Lost"},
        {"211", "About To Sleep"},
        {"212", "About To Sleep"},
        {"221", "About To Sleep"},
        {"511", "New Customers"},
        {"411", "New Customers"},
        {"311", "Promising"},
        {"222", "Need Attention"},
        {"322", "Need Attention"},
        {"233", "Loyal Customers"},
        {"333", "Loyal Customers"},
        {"543", "Loyal Customers"},
        {"453", "Loyal Customers"},
        {"312", "Potential Loyalist"},
        {"521", "Potential Loyalist"},
        {"533", "Loyal Customers"},
        {"532", "Potential Loyalist"},
        {"122", "At Risk"},
        {"135", "At Risk"},
        {"225", "At Risk"},
        {"112", "Hibernating"},
        {"121", "Hibernating"},
        {"113", "Others"},
        {"151", "Others"},
        {"551", "Others"},
        {"315", "Others"},
        {"241", "Others"},
    };
    for (const auto& c : cases)
        EXPECT_STREQ(standard_segment(parse_score(c.first)), c.second) << c.first;
    EXPECT_STREQ(kOtherSegment, "Others");
}

TEST(StandardSegments, RejectsScoresAboveFive) {
    for (const RfmScore& s : {score_of(6, 1, 1), score_of(1, 6, 1), score_of(1, 1, 6), score_of(99, 99, 99)})
        EXPECT_EQ(kind_of([&] { standard_segment(s); }), ErrorKind::invalid_parameter_value) << score_text(s);
    EXPECT_EQ(kind_of([] { standard_segment(score_of(0, 1, 1)); }), ErrorKind::invalid_parameter_value);
}

TEST(SegmentRules, FirstMatchWins) {
    const SegmentRule rules[] = {
        {"top", 5, 5, 5, 5, 5, 5},
        {"recent", 4, 9, 1, 9, 1, 9},
        {"everyone", 1, 9, 1, 9, 1, 9},
        {"never", 1, 9, 1, 9, 1, 9},
    };
    EXPECT_EQ(first_matching_rule(rules, 4, score_of(5, 5, 5)), 0);
    EXPECT_EQ(first_matching_rule(rules, 4, score_of(5, 5, 4)), 1);
    EXPECT_EQ(first_matching_rule(rules, 4, score_of(4, 1, 1)), 1);
    EXPECT_EQ(first_matching_rule(rules, 4, score_of(3, 9, 9)), 2);
    EXPECT_EQ(first_matching_rule(rules, 4, score_of(10, 1, 1)), -1);  // outside every box
    EXPECT_EQ(first_matching_rule(rules + 1, 3, score_of(5, 5, 5)), 0);
    EXPECT_EQ(first_matching_rule(rules, 0, score_of(5, 5, 5)), -1);
    // Box edges are inclusive on every side.
    const SegmentRule box[] = {{"box", 2, 3, 4, 5, 6, 7}};
    EXPECT_EQ(first_matching_rule(box, 1, score_of(2, 4, 6)), 0);
    EXPECT_EQ(first_matching_rule(box, 1, score_of(3, 5, 7)), 0);
    EXPECT_EQ(first_matching_rule(box, 1, score_of(1, 4, 6)), -1);
    EXPECT_EQ(first_matching_rule(box, 1, score_of(4, 4, 6)), -1);
    EXPECT_EQ(first_matching_rule(box, 1, score_of(2, 3, 6)), -1);
    EXPECT_EQ(first_matching_rule(box, 1, score_of(2, 6, 6)), -1);
    EXPECT_EQ(first_matching_rule(box, 1, score_of(2, 4, 5)), -1);
    EXPECT_EQ(first_matching_rule(box, 1, score_of(2, 4, 8)), -1);
}

TEST(SegmentRules, CheckRejectsBadRules) {
    EXPECT_NO_THROW(check_segment_rule({"ok", 1, 99, 1, 99, 1, 99}, 0));
    EXPECT_NO_THROW(check_segment_rule({"point", 3, 3, 3, 3, 3, 3}, 0));
    const SegmentRule bad[] = {
        {"r min > max", 3, 2, 1, 5, 1, 5}, {"f min > max", 1, 5, 5, 4, 1, 5},
        {"m min > max", 1, 5, 1, 5, 2, 1}, {"r min 0", 0, 5, 1, 5, 1, 5},
        {"f min 0", 1, 5, 0, 5, 1, 5},     {"m min 0", 1, 5, 1, 5, 0, 0},
        {"r max 100", 1, 100, 1, 5, 1, 5}, {"m max 100", 1, 5, 1, 5, 1, 100},
        {"negative", -1, 5, 1, 5, 1, 5},   {"", 1, 5, 1, 5, 1, 5},
        {nullptr, 1, 5, 1, 5, 1, 5},
    };
    for (const SegmentRule& rule : bad)
        EXPECT_EQ(kind_of([&] { check_segment_rule(rule, 6); }), ErrorKind::invalid_parameter_value)
            << (rule.name == nullptr ? "(null)" : rule.name);
    // The detail names the rule by its 1-based position.
    try {
        check_segment_rule({"late", 4, 2, 1, 5, 1, 5}, 2);
        FAIL() << "expected an Error";
    } catch (const Error& e) {
        EXPECT_NE(e.detail().find("Rule 3"), std::string::npos) << e.detail();
        EXPECT_NE(e.detail().find("late"), std::string::npos) << e.detail();
    }
}

// ============================================================= 8 classes

TEST(Classify, AllEightCombinations) {
    // Cuts: recency 30 days, frequency 4, monetary 100.
    struct Case {
        double recency, frequency, monetary;
        RfmClass expected;
    };
    const Case cases[] = {
        {10, 5, 200, RfmClass::important_value},        // recent, frequent, valuable
        {10, 1, 200, RfmClass::important_development},  // recent, rare, valuable
        {90, 5, 200, RfmClass::important_retention},    // lapsed, frequent, valuable
        {90, 1, 200, RfmClass::important_recall},       // lapsed, rare, valuable
        {10, 5, 50, RfmClass::general_value},          {10, 1, 50, RfmClass::general_development},
        {90, 5, 50, RfmClass::general_retention},      {90, 1, 50, RfmClass::general_recall},
    };
    for (const Case& c : cases)
        EXPECT_EQ(classify(c.recency, c.frequency, c.monetary, 30, 4, 100), c.expected)
            << c.recency << " " << c.frequency << " " << c.monetary;
}

TEST(Classify, TiesAtTheCutsCountAsHigh) {
    // Exactly at every cut: recent (<=), frequent (>=), valuable (>=).
    EXPECT_EQ(classify(30, 4, 100, 30, 4, 100), RfmClass::important_value);
    // Just beyond each cut, one at a time.
    EXPECT_EQ(classify(std::nextafter(30.0, 31.0), 4, 100, 30, 4, 100), RfmClass::important_retention);
    EXPECT_EQ(classify(30, std::nextafter(4.0, 3.0), 100, 30, 4, 100), RfmClass::important_development);
    EXPECT_EQ(classify(30, 4, std::nextafter(100.0, 99.0), 30, 4, 100), RfmClass::general_value);
    // Infinite values are ordinary comparisons.
    EXPECT_EQ(classify(kInf, 0, 0, 30, 4, 100), RfmClass::general_recall);
    EXPECT_EQ(classify(-kInf, kInf, kInf, 30, 4, 100), RfmClass::important_value);
}

TEST(Classify, RejectsNaN) {
    for (int position = 0; position < 6; ++position) {
        double args[6] = {10, 5, 200, 30, 4, 100};
        args[position] = kNaN;
        EXPECT_EQ(kind_of([&] { classify(args[0], args[1], args[2], args[3], args[4], args[5]); }),
                  ErrorKind::invalid_parameter_value)
            << "argument " << position;
    }
}

TEST(ClassLabel, EnglishAndChinese) {
    const std::tuple<RfmClass, const char*, const char*> labels[] = {
        {RfmClass::important_value, "important value", "重要价值客户"},
        {RfmClass::important_development, "important development", "重要发展客户"},
        {RfmClass::important_retention, "important retention", "重要保持客户"},
        {RfmClass::important_recall, "important recall", "重要挽留客户"},
        {RfmClass::general_value, "general value", "一般价值客户"},
        {RfmClass::general_development, "general development", "一般发展客户"},
        {RfmClass::general_retention, "general retention", "一般保持客户"},
        {RfmClass::general_recall, "general recall", "一般挽留客户"},
    };
    for (const auto& label : labels) {
        EXPECT_STREQ(class_label(std::get<0>(label), Language::en), std::get<1>(label));
        EXPECT_STREQ(class_label(std::get<0>(label), Language::zh), std::get<2>(label));
    }
}

TEST(ParseLanguage, KnownAndUnknown) {
    EXPECT_EQ(parse_language("en"), Language::en);
    EXPECT_EQ(parse_language("zh"), Language::zh);
    for (const char* text : {"fr", "", "EN", "zh-CN", "en "})
        EXPECT_EQ(kind_of([&] { parse_language(text); }), ErrorKind::invalid_parameter_value) << text;
}
