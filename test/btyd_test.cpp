// Tests of the Buy-Till-You-Die core (btyd.hpp): published CDNOW figures,
// reference values computed independently, properties, robustness,
// synthetic parameter recovery.
#include "btyd/btyd.hpp"
#include "btyd/internal.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#ifndef CA_SHARED_DATA_DIR
#define CA_SHARED_DATA_DIR "../shared/data"
#endif

using namespace customer_analytics;
using namespace customer_analytics_test;

namespace {

// ---------------------------------------------------------------------------
// CDNOW sample: calibration 1997-01-01..1997-09-30, weeks.
// ---------------------------------------------------------------------------

// Days since 1970-01-01 of a proleptic Gregorian date.
long days_from_civil(long y, long m, long d) {
    y -= m <= 2;
    const long era = (y >= 0 ? y : y - 399) / 400;
    const long yoe = y - era * 400;
    const long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

long day_of(long yyyymmdd) { return days_from_civil(yyyymmdd / 10000, (yyyymmdd / 100) % 100, yyyymmdd % 100); }

struct Cdnow {
    std::vector<BtydObservation> customers;    // one row per customer, weight 1
    std::vector<GammaGammaObservation> spend;  // customers with x > 0
    std::vector<int> ids;                      // sample id of each row of customers
};

// x = distinct purchase days after the first within calibration; spend =
// mean of the per-day dollar sums of those repeat days (the JMR paper's
// "average value of repeat transactions" in the calibration period).
bool load_cdnow(Cdnow& out) {
    std::ifstream in(CA_SHARED_DATA_DIR "/cdnow/CDNOW_sample.txt");
    if (!in)
        return false;
    const long end = day_of(19970930);
    std::map<int, std::map<long, double>> by_customer;  // sample id -> day -> dollars
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream is(line);
        long master = 0, sample = 0, date = 0, cds = 0;
        double dollars = 0;
        if (!(is >> master >> sample >> date >> cds >> dollars))
            continue;
        const long day = day_of(date);
        auto& days = by_customer[static_cast<int>(sample)];
        if (day <= end)
            days[day] += dollars;  // later transactions are outside calibration
    }
    for (const auto& [id, days] : by_customer) {
        if (days.empty())
            continue;
        const long first = days.begin()->first, last = days.rbegin()->first;
        out.customers.push_back(btyd_observation(static_cast<double>(first), static_cast<double>(last),
                                                 static_cast<std::int64_t>(days.size()), static_cast<double>(end),
                                                 kBtydWeek));
        out.ids.push_back(id);
        if (days.size() > 1) {
            double sum = 0;
            for (auto it = std::next(days.begin()); it != days.end(); ++it)
                sum += it->second;
            const double x = static_cast<double>(days.size() - 1);
            out.spend.push_back(GammaGammaObservation{x, sum / x, 1.0});
        }
    }
    return true;
}

#define LOAD_CDNOW_OR_SKIP(var) \
    Cdnow var;                  \
    if (!load_cdnow(var))       \
    GTEST_SKIP() << "CDNOW sample not found under " CA_SHARED_DATA_DIR

}  // namespace

TEST(BtydCdnow, CalibrationSummary) {
    LOAD_CDNOW_OR_SKIP(data);
    ASSERT_EQ(data.customers.size(), 2357u);
    EXPECT_EQ(data.spend.size(), 946u);
    // Customer 1: purchases 1997-01-01, 01-18, 08-02 in calibration (and 12-12 after).
    ASSERT_EQ(data.ids[0], 1);
    EXPECT_EQ(data.customers[0].x, 2);
    EXPECT_NEAR(data.customers[0].t_x, 30.428571, 1e-6);
    EXPECT_NEAR(data.customers[0].T, 38.857143, 1e-6);
    EXPECT_NEAR(data.spend[0].mean_spend, (29.73 + 14.96) / 2, 1e-9);
}

TEST(BtydCdnow, BgnbdReproducesPublishedEstimates) {
    LOAD_CDNOW_OR_SKIP(data);
    const BgnbdModel m = fit_bgnbd(data.customers.data(), data.customers.size());
    // Fader, Hardie & Lee (2005), Marketing Science 24(2).
    EXPECT_TRUE(m.converged);
    EXPECT_NEAR(m.r, 0.243, 0.0005);
    EXPECT_NEAR(m.alpha, 4.414, 0.0005);
    EXPECT_NEAR(m.a, 0.793, 0.0005);
    EXPECT_NEAR(m.b, 2.426, 0.0005);
    EXPECT_NEAR(m.log_likelihood, -9582.4, 0.05);
    EXPECT_EQ(m.customers, 2357);
    EXPECT_GT(m.iterations, 0);
    EXPECT_DOUBLE_EQ(bgnbd_log_likelihood(m, data.customers.data(), data.customers.size()), m.log_likelihood);

    const auto se = bgnbd_standard_errors(m, data.customers.data(), data.customers.size());
    for (double v : se) {
        EXPECT_TRUE(std::isfinite(v));
        EXPECT_GT(v, 0);
    }
    EXPECT_LT(se[0], 0.05);  // r is well identified on 2357 customers
}

TEST(BtydCdnow, BgnbdPublishedConditionalExpectation) {
    // FHL (2005) and Hardie's BG/NBD spreadsheet note: a customer with
    // x = 2, t_x = 30.43, T = 38.86 is expected to make 1.226 purchases in
    // the next 39 weeks.
    const BgnbdModel m{0.243, 4.414, 0.793, 2.426};
    EXPECT_NEAR(bgnbd_expected(m, 39, 2, 30.43, 38.86), 1.226, 0.0005);
}

TEST(BtydCdnow, ParetoNbdReproducesPublishedEstimates) {
    LOAD_CDNOW_OR_SKIP(data);
    const ParetoNbdModel m = fit_pareto_nbd(data.customers.data(), data.customers.size());
    EXPECT_TRUE(m.converged);
    EXPECT_NEAR(m.r, 0.553, 0.0005);
    EXPECT_NEAR(m.alpha, 10.578, 0.0005);
    EXPECT_NEAR(m.s, 0.606, 0.0005);
    EXPECT_NEAR(m.beta, 11.669, 0.0005);
    EXPECT_NEAR(m.log_likelihood, -9595.0, 0.05);
    EXPECT_EQ(m.customers, 2357);
    EXPECT_NEAR(pareto_nbd_log_likelihood(m, data.customers.data(), data.customers.size()), m.log_likelihood, 1e-9);
    const auto se = pareto_nbd_standard_errors(m, data.customers.data(), data.customers.size());
    for (double v : se) {
        EXPECT_TRUE(std::isfinite(v));
        EXPECT_GT(v, 0);
    }
}

TEST(BtydCdnow, GammaGammaReproducesPublishedEstimates) {
    LOAD_CDNOW_OR_SKIP(data);
    const GammaGammaModel m = fit_gamma_gamma(data.spend.data(), data.spend.size());
    // Fader, Hardie & Lee (2005), JMR 42(4): 946 customers with x > 0, spend =
    // mean value of the repeat purchase days in the calibration period.
    EXPECT_TRUE(m.converged);
    EXPECT_NEAR(m.p, 6.25, 0.005);
    EXPECT_NEAR(m.q, 3.74, 0.005);
    EXPECT_NEAR(m.gamma, 15.44, 0.005);
    EXPECT_NEAR(m.log_likelihood, -4055.9, 0.05);
    EXPECT_EQ(m.customers, 946);
    // Population mean spend p gamma / (q - 1); the lifetimes package's CDNOW
    // example prints 35.170981 for its fit of the same data.
    EXPECT_NEAR(gamma_gamma_expected_spend(m, 0, 0), 35.171, 0.001);
    const auto se = gamma_gamma_standard_errors(m, data.spend.data(), data.spend.size());
    for (double v : se) {
        EXPECT_TRUE(std::isfinite(v));
        EXPECT_GT(v, 0);
    }
}

TEST(BtydCdnow, AggregatedTriplesGiveTheSameFit) {
    LOAD_CDNOW_OR_SKIP(data);
    std::map<std::tuple<double, double, double>, double> counts;
    for (const auto& o : data.customers)
        counts[{o.x, o.t_x, o.T}] += 1;
    std::vector<BtydObservation> agg;
    for (const auto& [k, w] : counts)
        agg.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), w});
    ASSERT_LT(agg.size(), data.customers.size());
    const BgnbdModel a = fit_bgnbd(data.customers.data(), data.customers.size());
    const BgnbdModel b = fit_bgnbd(agg.data(), agg.size());
    EXPECT_DOUBLE_EQ(a.r, b.r);
    EXPECT_DOUBLE_EQ(a.alpha, b.alpha);
    EXPECT_DOUBLE_EQ(a.a, b.a);
    EXPECT_DOUBLE_EQ(a.b, b.b);
    EXPECT_DOUBLE_EQ(a.log_likelihood, b.log_likelihood);
    EXPECT_EQ(b.customers, 2357);

    // Doubling every weight leaves the estimates and doubles the LL.
    for (auto& o : agg)
        o.weight *= 2;
    const BgnbdModel c = fit_bgnbd(agg.data(), agg.size());
    EXPECT_NEAR(c.r, a.r, 1e-6);
    EXPECT_NEAR(c.alpha, a.alpha, 1e-4);
    EXPECT_NEAR(c.a, a.a, 1e-5);
    EXPECT_NEAR(c.b, a.b, 1e-4);
    EXPECT_NEAR(c.log_likelihood, 2 * a.log_likelihood, 1e-6);
}

TEST(BtydCdnow, L2PenaltyShrinksLogParameters) {
    LOAD_CDNOW_OR_SKIP(data);
    auto norm = [](const BgnbdModel& m) {
        return std::pow(std::log(m.r), 2) + std::pow(std::log(m.alpha), 2) + std::pow(std::log(m.a), 2) +
               std::pow(std::log(m.b), 2);
    };
    const BgnbdModel plain = fit_bgnbd(data.customers.data(), data.customers.size());
    BtydFitOptions opt;
    opt.l2_penalty = 0.01;
    const BgnbdModel mild = fit_bgnbd(data.customers.data(), data.customers.size(), opt);
    opt.l2_penalty = 100;
    const BgnbdModel strong = fit_bgnbd(data.customers.data(), data.customers.size(), opt);
    EXPECT_TRUE(mild.converged);
    EXPECT_TRUE(strong.converged);
    EXPECT_LT(norm(mild), norm(plain));
    EXPECT_LT(norm(strong), norm(mild));
    EXPECT_LT(norm(strong), 0.01);
    EXPECT_LT(mild.log_likelihood, plain.log_likelihood);  // the unpenalised LL is reported
}

// ---------------------------------------------------------------------------
// Reference values computed with mpmath at 40 digits from integral
// representations that do not use the hypergeometric function:
//   BG/NBD  E[Y(t)|.] = P(alive) * int_0^1 (1 - (1 + p t/(alpha+T))^-(r+x)) / p  Beta(p; a, b+x) dp
//   Pareto  L = Gamma(r+x) alpha^r beta^s / Gamma(r) [ (alpha+T)^-(r+x) (beta+T)^-s
//                 + s int_{t_x}^T (alpha+u)^-(r+x) (beta+u)^-(s+1) du ]
//           (LL and P(alive) taken from mpmath's own 40-digit hyp2f1 in the
//           untransformed Fader-Hardie closed form, which agrees with this
//           integral to 5e-12; the quadrature of the steep x = 1000 integrand
//           is the less accurate of the two)
//           E[Y(t)|.] = P(alive) (r+x)/(alpha+T) int_0^t ((beta+T)/(beta+T+u))^s du
//           P(Y(t)>0|.) = P(alive) int_0^t (r+x)/A (A/(A+u))^(r+x+1) (B/(B+u))^s du
// ---------------------------------------------------------------------------

namespace {

struct BgRef {
    double r, alpha, a, b, x, t_x, T;
    double ll, p_alive, e1, e39, e200, prob39;
};

const BgRef kBgRefs[] = {
    {0.243, 4.414, 0.793, 2.426, 0, 0, 30, -0.49904476257063036, 1.0, 0.00702995180137902, 0.23938163233959615,
     0.89394659745841402, 0.16815507215595972},
    {0.243, 4.414, 0.793, 2.426, 2, 30.43, 38.86, -9.4586063070662712, 0.72657857008067291, 0.037447969741732263,
     1.2260281747671444, 4.1859270659576872, 0.55462713791700443},
    {0.243, 4.414, 0.793, 2.426, 1, 5, 5, -3.8409440209606298, 0.753650201926064, 0.097365498287308127,
     2.3885143869080128, 6.2878923395475772, 0.65521459295440502},
    {0.243, 4.414, 0.793, 2.426, 10, 12, 40, -20.254940052801891, 0.0005373815724685346, 0.00012300362262080245,
     0.0038292178616370603, 0.012086006188789256, 0.00053653711371092695},
    {0.243, 4.414, 0.793, 2.426, 3, 0, 10, -7.1054365460280376, 0.10732141498889627, 0.023706197485435751,
     0.60143405009699991, 1.5847337030212727, 0.10578736650794342},
    {0.243, 4.414, 0.793, 2.426, 0, 0, 0, 0.0, 1.0, 0.05326789117165828, 1.1967231933208168, 3.1438555091115286,
     0.42621364790399059},
    {0.243, 4.414, 0.793, 2.426, 1000, 300, 310, 174.2131272950092, 1.1499544399559129e-11, 3.653746155710771e-11,
     1.3614929745261289e-9, 5.9634007004499878e-9, 1.1499544399559129e-11},
    {1.5, 20, 2.5, 0.7, 0, 0, 30, -1.3744360978112326, 1.0, 0.029425238136236574, 0.66308489356410696,
     1.2090245852837429, 0.57891478146299919},
    {1.5, 20, 2.5, 0.7, 2, 30.43, 38.86, -9.611801330785433, 0.28359941511323531, 0.01655914492071132,
     0.37915609396561664, 0.68213057598730123, 0.23574103518913907},
    {1.5, 20, 2.5, 0.7, 1, 5, 5, -3.148126043731351, 0.21875, 0.020998937315689259, 0.3183973401894279,
     0.43849038418444826, 0.19788837432861328},
    {1.5, 20, 2.5, 0.7, 10, 12, 40, -25.768862926033212, 0.0028060585468751298, 0.00052741002962394665,
     0.011663986468454708, 0.02009975611196091, 0.0027972067514234538},
    {1.5, 20, 2.5, 0.7, 3, 0, 10, -9.4087528457324814, 0.14834612793129706, 0.021457353447080917, 0.34559575172037191,
     0.48358619466228635, 0.14485069516548466},
    {1.5, 20, 2.5, 0.7, 0, 0, 0, 0.0, 1.0, 0.071507647320371825, 1.0016055441454307, 1.3637268356956181,
     0.80263643737641289},
    {1.5, 20, 2.5, 0.7, 1000, 300, 310, 120.58369741516996, 1.6516658262151498e-11, 4.9936486302640862e-11,
     1.7013947416646073e-9, 5.6113979855361104e-9, 1.6516658262151498e-11},
    // a + b < 1: the 2F1 has a negative c for x = 0
    {0.8, 3, 0.3, 0.5, 0, 0, 30, -1.9183162182386964, 1.0, 0.023999437965353549, 0.72762259060481531,
     2.5351951443012577, 0.46427100174440374},
    {0.8, 3, 0.3, 0.5, 2, 30.43, 38.86, -9.5461788674052602, 0.72706501101874326, 0.048399643270630406,
     1.6505446622974674, 6.5652499444955092, 0.61199646937913548},
    {0.8, 3, 0.3, 0.5, 1, 5, 5, -3.0872484954034267, 0.625, 0.13680004717588124, 3.5439953751218826, 12.15305340344588,
     0.59919725861070234},
    {0.8, 3, 0.3, 0.5, 10, 12, 40, -18.454692878366712, 0.00036372289282082487, 9.1009226447752651e-5,
     0.0031806177015019306, 0.013029813486174799, 0.00036338166820691034},
    {0.8, 3, 0.3, 0.5, 3, 0, 10, -4.7562954502863884, 0.030714709027606748, 0.0088523023940856351, 0.26216002851021042,
     0.95134801425876263, 0.030556395349719972},
    {0.8, 3, 0.3, 0.5, 0, 0, 0, 0.0, 1.0, 0.24203263073131237, 4.3633093861054529, 13.65335162385135,
     0.87891298549482604},
    {0.8, 3, 0.3, 0.5, 1000, 300, 310, 182.56568102466993, 2.5684500982317959e-11, 8.2085414115768985e-11,
     3.1459677130522744e-9, 1.5172013134989155e-8, 2.5684500982317959e-11},
    // a == 1: removable singularity of the published closed form
    {0.5, 8, 1.0, 3, 0, 0, 30, -0.77907230902327492, 1.0, 0.013093533951940245, 0.4381227050823089, 1.5541791120067956,
     0.29749982668579113},
    {0.5, 8, 1.0, 3, 2, 30.43, 38.86, -9.0327828412136102, 0.70898907126515946, 0.037591554220921331,
     1.2074591111446886, 3.8982332582178101, 0.55297346571459441},
    {0.5, 8, 1.0, 3, 1, 5, 5, -3.5008504459123324, 0.75, 0.08492227244354785, 2.1179758338341715, 5.306037373059902,
     0.65625},
    {0.5, 8, 1.0, 3, 10, 12, 40, -20.997230593084934, 0.001220205437618851, 0.00026466211687044062,
     0.0079817525874789447, 0.023290819695000335, 0.0012178367172426013},
    {0.5, 8, 1.0, 3, 3, 0, 10, -7.6556157215943568, 0.22638839759462328, 0.043253328127467058, 1.0867198904478848,
     2.6724589507781671, 0.22238207479570775},
    {0.5, 8, 1.0, 3, 0, 0, 0, 0.0, 1.0, 0.06109305385528896, 1.4757809975028989, 3.7757265836644866,
     0.58743150149648264},
    {0.5, 8, 1.0, 3, 1000, 300, 310, 163.45480703060592, 1.3107686201093886e-11, 4.1175202599437504e-11,
     1.5173233527083356e-9, 6.4020787672852528e-9, 1.3107686201093886e-11},
};

struct PnRef {
    double r, alpha, s, beta, x, t_x, T;
    double ll, p_alive, e39, prob39;
};

const PnRef kPnRefs[] = {
    // beta > alpha
    {0.553, 10.578, 0.606, 11.669, 0, 0, 30, -0.48549884728141636, 0.35725274810969348, 0.15307451495345342,
     0.092721111862205747},
    {0.553, 10.578, 0.606, 11.669, 2, 30.43, 38.86, -9.5542832451504058, 0.86916755915301119, 1.4551231932576024,
     0.59193727639353622},
    {0.553, 10.578, 0.606, 11.669, 1, 5, 5, -3.768422661453814, 1.0, 2.5651783282975309, 0.67897096439827547},
    {0.553, 10.578, 0.606, 11.669, 10, 12, 40, -21.381555531593029, 0.0023992209480735813, 0.016282765367541861,
     0.0022674467387221908},
    {0.553, 10.578, 0.606, 11.669, 3, 0, 10, -7.943539967559281, 0.3371791719164331, 1.601757901816188,
     0.28623525047500921},
    {0.553, 10.578, 0.606, 11.669, 0, 0, 0, 0.0, 1.0, 1.2130028442810157, 0.40637496839761613},
    {0.553, 10.578, 0.606, 11.669, 1000, 300, 310, 158.85741407971363, 2.7580499045501417e-11, 3.241260698687188e-9,
     2.7563861143759835e-11},
    // alpha > beta
    {1.2, 15, 0.5, 3, 0, 0, 30, -0.55278714201626775, 0.14022664944876397, 0.11774723632223381, 0.062375500638946731},
    {1.2, 15, 0.5, 3, 2, 30.43, 38.86, -9.7059665675076275, 0.86252135771644633, 1.6725451072494447,
     0.63227769954151226},
    {1.2, 15, 0.5, 3, 1, 5, 5, -3.6490438302080366, 1.0, 2.5059582745263695, 0.66871929020249279},
    {1.2, 15, 0.5, 3, 10, 12, 40, -21.455088162699638, 0.0028895669581231893, 0.019276823527369524,
     0.0027316540826493082},
    {1.2, 15, 0.5, 3, 3, 0, 10, -7.0847761576832701, 0.16795135872947865, 0.73361153493036273, 0.13846815574456677},
    {1.2, 15, 0.5, 3, 0, 0, 0, 0.0, 1.0, 1.3159955456514919, 0.43961526186273095},
    {1.2, 15, 0.5, 3, 1000, 300, 310, 147.49777717194579, 4.884049536522089e-11, 5.6956782481576486e-9,
     4.88151833625502e-11},
    // alpha == beta, s == 1
    {0.7, 5, 1.0, 5, 0, 0, 30, -0.50533944044890062, 0.060645623086678671, 0.031784487632764956, 0.01797861758336367},
    {0.7, 5, 1.0, 5, 2, 30.43, 38.86, -10.798232957164329, 0.75466643626007472, 1.2962182200533012, 0.4983792788539918},
    {0.7, 5, 1.0, 5, 1, 5, 5, -3.8376102438846851, 1.0, 2.7016998486981876, 0.62100866742408434},
    {0.7, 5, 1.0, 5, 10, 12, 40, -18.729676100004392, 0.00013237295146496195, 0.00088404628425875915,
     0.00012097745671830561},
    {0.7, 5, 1.0, 5, 3, 0, 10, -5.18772161352706, 0.026334779462815131, 0.12481250820878697, 0.020681283467522935},
    {0.7, 5, 1.0, 5, 0, 0, 0, 0.0, 1.0, 1.5223262050389126, 0.40155463925901057},
    {0.7, 5, 1.0, 5, 1000, 300, 310, 175.58516365282599, 9.2513479713956742e-12, 1.0806127781480893e-9,
     9.2421123240248089e-12},
};

void expect_rel(double actual, double expected, double rel, const std::string& what) {
    EXPECT_NEAR(actual, expected, rel * std::fabs(expected) + 1e-300) << what;
}

}  // namespace

TEST(BtydReference, BgnbdAgainstIndependentComputation) {
    for (const auto& c : kBgRefs) {
        const BgnbdModel m{c.r, c.alpha, c.a, c.b};
        const std::string what = ::testing::PrintToString(std::vector<double>{c.r, c.alpha, c.a, c.b, c.x, c.t_x, c.T});
        const BtydObservation o{c.x, c.t_x, c.T, 1};
        EXPECT_NEAR(bgnbd_log_likelihood(m, &o, 1), c.ll, 1e-10 * (1 + std::fabs(c.ll))) << what;
        expect_rel(bgnbd_p_alive(m, c.x, c.t_x, c.T), c.p_alive, 1e-10, what);
        expect_rel(bgnbd_expected(m, 1, c.x, c.t_x, c.T), c.e1, 1e-10, what);
        expect_rel(bgnbd_expected(m, 39, c.x, c.t_x, c.T), c.e39, 1e-10, what);
        expect_rel(bgnbd_expected(m, 200, c.x, c.t_x, c.T), c.e200, 1e-10, what);
        expect_rel(bgnbd_prob_purchase(m, 39, c.x, c.t_x, c.T), c.prob39, 1e-10, what);
        EXPECT_NEAR(bgnbd_repurchase_score(m, 39, c.x, c.t_x, c.T), 100 * c.prob39, 1e-9) << what;
        if (c.x == 0 && c.T == 0)
            expect_rel(bgnbd_unconditional_expected(m, 39), c.e39, 1e-10, what);
    }
}

TEST(BtydReference, ParetoNbdAgainstIndependentComputation) {
    for (const auto& c : kPnRefs) {
        const ParetoNbdModel m{c.r, c.alpha, c.s, c.beta};
        const std::string what =
            ::testing::PrintToString(std::vector<double>{c.r, c.alpha, c.s, c.beta, c.x, c.t_x, c.T});
        const BtydObservation o{c.x, c.t_x, c.T, 1};
        EXPECT_NEAR(pareto_nbd_log_likelihood(m, &o, 1), c.ll, 1e-10 * (1 + std::fabs(c.ll))) << what;
        expect_rel(pareto_nbd_p_alive(m, c.x, c.t_x, c.T), c.p_alive, 1e-10, what);
        expect_rel(pareto_nbd_expected(m, 39, c.x, c.t_x, c.T), c.e39, 1e-10, what);
        expect_rel(pareto_nbd_prob_purchase(m, 39, c.x, c.t_x, c.T), c.prob39, 1e-10, what);
        EXPECT_NEAR(pareto_nbd_repurchase_score(m, 39, c.x, c.t_x, c.T), 100 * c.prob39, 1e-7) << what;
        if (c.x == 0 && c.T == 0)
            expect_rel(pareto_nbd_unconditional_expected(m, 39), c.e39, 1e-12, what);
    }
}

TEST(BtydReference, LikelihoodSumsOverCustomersWithWeights) {
    const BgnbdModel bg{0.243, 4.414, 0.793, 2.426};
    const ParetoNbdModel pn{0.553, 10.578, 0.606, 11.669};
    std::vector<BtydObservation> obs;
    double bg_sum = 0, pn_sum = 0;
    for (int i = 0; i < 7; ++i) {
        const auto& b = kBgRefs[i];
        const auto& p = kPnRefs[i];
        const double w = 1 + i;
        obs.push_back({b.x, b.t_x, b.T, w});
        bg_sum += w * b.ll;
        pn_sum += w * p.ll;
    }
    EXPECT_NEAR(bgnbd_log_likelihood(bg, obs.data(), obs.size()), bg_sum, 1e-8);
    EXPECT_NEAR(pareto_nbd_log_likelihood(pn, obs.data(), obs.size()), pn_sum, 1e-8);
    EXPECT_EQ(bgnbd_log_likelihood(bg, nullptr, 0), 0.0);
}

TEST(BtydReference, GammaGamma) {
    const GammaGammaModel m{6.25, 3.74, 15.44};
    // mpmath, 40 digits
    const GammaGammaObservation obs[] = {{1, 20, 1}, {5, 35.5, 1}, {30, 12, 1}};
    const double ll[] = {-3.5941964929491959, -4.0644026548446051, -4.1672562718166103};
    for (int i = 0; i < 3; ++i)
        EXPECT_NEAR(gamma_gamma_log_likelihood(m, &obs[i], 1), ll[i], 1e-12);
    // Conditional mean: weighted average of population mean and observed mean,
    // weight p x / (p x + q - 1) on the observed mean.
    const double pop = 6.25 * 15.44 / 2.74;
    EXPECT_NEAR(gamma_gamma_expected_spend(m, 0, 123), pop, 1e-12);
    for (double x : {1.0, 2.0, 10.0, 1000.0}) {
        const double w = 6.25 * x / (6.25 * x + 2.74);
        EXPECT_NEAR(gamma_gamma_expected_spend(m, x, 50), (1 - w) * pop + w * 50, 1e-10);
    }
    EXPECT_EQ(kind_of([&] { gamma_gamma_expected_spend(m, 2, 0); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { gamma_gamma_expected_spend(m, 2, -5); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { gamma_gamma_expected_spend(m, 1.5, 5); }), ErrorKind::invalid_parameter_value);
    const GammaGammaModel heavy{0.2, 0.5, 10};  // p x + q - 1 <= 0 for x = 1
    EXPECT_EQ(kind_of([&] { gamma_gamma_expected_spend(heavy, 1, 5); }), ErrorKind::numeric_value_out_of_range);
    EXPECT_EQ(kind_of([&] { gamma_gamma_expected_spend(heavy, 0, 5); }), ErrorKind::numeric_value_out_of_range);
}

// ---------------------------------------------------------------------------
// Properties over random models and customers
// ---------------------------------------------------------------------------

TEST(BtydProperties, RandomModelsAndCustomers) {
    std::mt19937_64 rng(20240601);
    auto log_uniform = [&](double lo, double hi) {
        return std::exp(std::uniform_real_distribution<double>(std::log(lo), std::log(hi))(rng));
    };
    std::uniform_real_distribution<double> unit(0, 1);
    const double horizons[] = {0, 0.5, 1, 5, 20, 52, 104};
    for (int k = 0; k < 150; ++k) {
        const BgnbdModel bg{log_uniform(0.05, 5), log_uniform(0.5, 50), log_uniform(0.05, 5), log_uniform(0.05, 10)};
        const ParetoNbdModel pn{log_uniform(0.05, 5), log_uniform(0.5, 50), log_uniform(0.05, 5), log_uniform(0.5, 50)};
        for (int c = 0; c < 4; ++c) {
            const double T = (c == 0) ? 0 : 100 * unit(rng);
            const double x = (c == 1) ? 0 : std::floor(60 * unit(rng) * unit(rng));
            const double t_x = (x == 0) ? 0 : (c == 2 ? T : T * unit(rng));
            const std::string what = ::testing::PrintToString(
                std::vector<double>{bg.r, bg.alpha, bg.a, bg.b, pn.r, pn.alpha, pn.s, pn.beta, x, t_x, T});

            const double pa = bgnbd_p_alive(bg, x, t_x, T);
            ASSERT_TRUE(pa >= 0 && pa <= 1) << what;
            if (x == 0) {
                EXPECT_EQ(pa, 1.0) << what;
            }
            const double qa = pareto_nbd_p_alive(pn, x, t_x, T);
            ASSERT_TRUE(qa >= 0 && qa <= 1) << what;
            if (t_x == T) {
                EXPECT_EQ(qa, 1.0) << what;
            }

            double prev_e = -1, prev_p = -1, prev_pe = -1, prev_pp = -1;
            for (double t : horizons) {
                const double e = bgnbd_expected(bg, t, x, t_x, T);
                const double p = bgnbd_prob_purchase(bg, t, x, t_x, T);
                const double pe = pareto_nbd_expected(pn, t, x, t_x, T);
                const double pp = pareto_nbd_prob_purchase(pn, t, x, t_x, T);
                ASSERT_TRUE(std::isfinite(e) && std::isfinite(pe)) << what << " t=" << t;
                EXPECT_GE(e, prev_e * (1 - 1e-12)) << what << " t=" << t;
                EXPECT_GE(pe, prev_pe * (1 - 1e-12)) << what << " t=" << t;
                EXPECT_GE(p, prev_p) << what << " t=" << t;
                EXPECT_GE(pp, prev_pp * (1 - 1e-12)) << what << " t=" << t;
                EXPECT_TRUE(p >= 0 && p <= pa * (1 + 1e-12)) << what << " t=" << t;
                EXPECT_TRUE(pp >= 0 && pp <= qa * (1 + 1e-12)) << what << " t=" << t;
                // Markov: P(Y >= 1) <= E[Y] for a count.
                EXPECT_LE(p, e * (1 + 1e-9) + 1e-300) << what << " t=" << t;
                EXPECT_LE(pp, pe * (1 + 1e-9) + 1e-300) << what << " t=" << t;
                if (t == 0) {
                    EXPECT_EQ(e, 0.0);
                    EXPECT_EQ(p, 0.0);
                    EXPECT_EQ(pe, 0.0);
                    EXPECT_EQ(pp, 0.0);
                }
                const double score = bgnbd_repurchase_score(bg, t, x, t_x, T);
                EXPECT_TRUE(score >= 0 && score <= 100) << what;
                prev_e = e;
                prev_p = p;
                prev_pe = pe;
                prev_pp = pp;
            }
            const BtydObservation o{x, t_x, T, 1};
            EXPECT_TRUE(std::isfinite(bgnbd_log_likelihood(bg, &o, 1))) << what;
            EXPECT_TRUE(std::isfinite(pareto_nbd_log_likelihood(pn, &o, 1))) << what;
            if (x == 0) {
                // P(X(T) = 0) is a probability; for x > 0 the likelihood is a density in t_x.
                EXPECT_LE(bgnbd_log_likelihood(bg, &o, 1), 1e-12) << what;
                EXPECT_LE(pareto_nbd_log_likelihood(pn, &o, 1), 1e-12) << what;
            }
        }
    }
}

TEST(BtydProperties, ExpectationIsContinuousAcrossTheRemovableSingularityAtAEqualsOne) {
    for (double x : {0.0, 1.0, 7.0}) {
        const double t_x = x == 0 ? 0 : 20;
        auto e = [&](double a) { return bgnbd_expected(BgnbdModel{0.7, 6, a, 2.5}, 30, x, t_x, 40); };
        const double at = e(1.0);
        for (double d : {1e-7, 1e-6, 1e-5, 3e-5, 1e-4, 1e-3}) {
            // |dE/da| is O(1) here: the change must be O(d), not a jump.
            EXPECT_NEAR(e(1 + d), at, 5 * d + 1e-9) << "x=" << x << " d=" << d;
            EXPECT_NEAR(e(1 - d), at, 5 * d + 1e-9) << "x=" << x << " d=" << d;
        }
    }
    // Pareto/NBD at s == 1 against s = 1 +- 1e-9.
    auto pe = [](double s) { return pareto_nbd_expected(ParetoNbdModel{0.7, 6, s, 8}, 30, 3, 20, 40); };
    EXPECT_NEAR(pe(1.0), pe(1 + 1e-9), 1e-8);
    EXPECT_NEAR(pe(1.0), pe(1 - 1e-9), 1e-8);
}

TEST(BtydProperties, UnconditionalExpectationMatchesNewCustomer) {
    const BgnbdModel bg{0.243, 4.414, 0.793, 2.426};
    const ParetoNbdModel pn{0.553, 10.578, 0.606, 11.669};
    for (double t : {0.0, 1.0, 13.0, 52.0, 260.0}) {
        EXPECT_NEAR(bgnbd_unconditional_expected(bg, t), bgnbd_expected(bg, t, 0, 0, 0), 1e-14);
        EXPECT_NEAR(pareto_nbd_unconditional_expected(pn, t), pareto_nbd_expected(pn, t, 0, 0, 0), 1e-14);
    }
    // Pareto/NBD closed form r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)].
    const double t = 52;
    const double closed = 0.553 * 11.669 / (10.578 * (0.606 - 1)) * (1 - std::pow(11.669 / (11.669 + t), 0.606 - 1));
    EXPECT_NEAR(pareto_nbd_unconditional_expected(pn, t), closed, 1e-12);
}

// ---------------------------------------------------------------------------
// CLV
// ---------------------------------------------------------------------------

TEST(BtydClv, DiscountedSumOfPeriodIncrements) {
    const BgnbdModel bg{0.243, 4.414, 0.793, 2.426};
    const ParetoNbdModel pn{0.553, 10.578, 0.606, 11.669};
    const double x = 2, t_x = 30.43, T = 38.86, spend = 35;
    // Without discounting the sum telescopes to spend * E[Y(periods * L)].
    EXPECT_NEAR(bgnbd_clv(bg, x, t_x, T, spend, 12, 0.0, 52.0 / 12), spend * bgnbd_expected(bg, 52, x, t_x, T), 1e-9);
    EXPECT_NEAR(pareto_nbd_clv(pn, x, t_x, T, spend, 12, 0.0, 52.0 / 12),
                spend * pareto_nbd_expected(pn, 52, x, t_x, T), 1e-9);
    // With discounting: explicit sum.
    const double d = 0.01;
    double manual = 0;
    for (int k = 1; k <= 24; ++k)
        manual += spend * (bgnbd_expected(bg, k * 4.0, x, t_x, T) - bgnbd_expected(bg, (k - 1) * 4.0, x, t_x, T)) /
                  std::pow(1 + d, k);
    EXPECT_NEAR(bgnbd_clv(bg, x, t_x, T, spend, 24, d, 4.0), manual, 1e-9);
    // Monotone: more periods add value, discounting removes value.
    EXPECT_GT(bgnbd_clv(bg, x, t_x, T, spend, 24, d, 4.0), bgnbd_clv(bg, x, t_x, T, spend, 12, d, 4.0));
    EXPECT_LT(bgnbd_clv(bg, x, t_x, T, spend, 24, 0.05, 4.0), bgnbd_clv(bg, x, t_x, T, spend, 24, d, 4.0));
    EXPECT_LT(pareto_nbd_clv(pn, x, t_x, T, spend, 24, 0.05, 4.0), pareto_nbd_clv(pn, x, t_x, T, spend, 24, d, 4.0));
    EXPECT_EQ(bgnbd_clv(bg, x, t_x, T, 0.0, 24, d, 4.0), 0.0);
    // A customer likely gone is worth less than an active one with the same x.
    EXPECT_LT(bgnbd_clv(bg, x, 5, T, spend, 12, d, 4.0), bgnbd_clv(bg, x, t_x, T, spend, 12, d, 4.0));

    EXPECT_EQ(kind_of([&] { bgnbd_clv(bg, x, t_x, T, spend, 0, d); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { bgnbd_clv(bg, x, t_x, T, spend, 12, -0.1); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { bgnbd_clv(bg, x, t_x, T, -1, 12, d); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { pareto_nbd_clv(pn, x, t_x, T, spend, 12, d, 0); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { pareto_nbd_clv(pn, x, t_x, T, NAN, 12, d); }), ErrorKind::invalid_parameter_value);
}

// ---------------------------------------------------------------------------
// Inputs, robustness and errors
// ---------------------------------------------------------------------------

TEST(BtydInputs, ObservationFromDays) {
    // First purchase day 100, last day 135, 4 distinct days, calibration ends on day 200.
    BtydObservation o = btyd_observation(100, 135, 4, 200, kBtydWeek);
    EXPECT_EQ(o.x, 3);
    EXPECT_DOUBLE_EQ(o.t_x, 5);
    EXPECT_DOUBLE_EQ(o.T, 100.0 / 7);
    EXPECT_EQ(o.weight, 1);
    o = btyd_observation(100, 100, 1, 100, kBtydDay);
    EXPECT_EQ(o.x, 0);
    EXPECT_EQ(o.t_x, 0);
    EXPECT_EQ(o.T, 0);
    o = btyd_observation(0, 30.4375, 2, 365.25, kBtydMonth);
    EXPECT_DOUBLE_EQ(o.t_x, 1);
    EXPECT_DOUBLE_EQ(o.T, 12);

    EXPECT_EQ(kind_of([] { btyd_observation(100, 90, 2, 200, 7); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([] { btyd_observation(100, 210, 2, 200, 7); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([] { btyd_observation(100, 120, 0, 200, 7); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([] { btyd_observation(100, 120, 1, 200, 7); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([] { btyd_observation(100, 100, 3, 200, 7); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([] { btyd_observation(100, 120, 2, 200, 0); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([] { btyd_observation(NAN, 120, 2, 200, 7); }), ErrorKind::invalid_parameter_value);
}

TEST(BtydInputs, InvalidObservationsAndParameters) {
    const BgnbdModel bg{0.243, 4.414, 0.793, 2.426};
    const ParetoNbdModel pn{0.553, 10.578, 0.606, 11.669};
    const double bad[][3] = {{-1, 0, 5},  {1.5, 1, 5},      {2, 6, 5},   {2, -1, 5}, {0, 2, 5},
                             {2, 1, NAN}, {INFINITY, 1, 5}, {2, NAN, 5}, {2, 1, -1}};
    for (const auto& b : bad) {
        const std::string what = ::testing::PrintToString(std::vector<double>{b[0], b[1], b[2]});
        EXPECT_EQ(kind_of([&] { bgnbd_p_alive(bg, b[0], b[1], b[2]); }), ErrorKind::invalid_parameter_value) << what;
        EXPECT_EQ(kind_of([&] { bgnbd_expected(bg, 10, b[0], b[1], b[2]); }), ErrorKind::invalid_parameter_value)
            << what;
        EXPECT_EQ(kind_of([&] { pareto_nbd_p_alive(pn, b[0], b[1], b[2]); }), ErrorKind::invalid_parameter_value)
            << what;
        const BtydObservation o{b[0], b[1], b[2], 1};
        EXPECT_EQ(kind_of([&] { fit_bgnbd(&o, 1); }), ErrorKind::invalid_parameter_value) << what;
    }
    const BtydObservation ok{2, 10, 20, 1};
    const BtydObservation negative_weight{2, 10, 20, -1};
    EXPECT_EQ(kind_of([&] { fit_bgnbd(&negative_weight, 1); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { fit_bgnbd(nullptr, 3); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { fit_bgnbd(nullptr, 0); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([&] { bgnbd_expected(bg, -1, 2, 10, 20); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { bgnbd_expected(bg, NAN, 2, 10, 20); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { pareto_nbd_expected(pn, INFINITY, 2, 10, 20); }), ErrorKind::invalid_parameter_value);
    for (const BgnbdModel& m :
         {BgnbdModel{0, 1, 1, 1}, BgnbdModel{1, -1, 1, 1}, BgnbdModel{1, 1, NAN, 1}, BgnbdModel{1, 1, 1, INFINITY}})
        EXPECT_EQ(kind_of([&] { bgnbd_p_alive(m, 2, 10, 20); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { bgnbd_log_likelihood(BgnbdModel{}, &ok, 1); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] {
                  pareto_nbd_p_alive(ParetoNbdModel{1, 1, 0, 1}, 2, 10, 20);
              }),
              ErrorKind::invalid_parameter_value);
    BtydFitOptions opt;
    opt.l2_penalty = -1;
    EXPECT_EQ(kind_of([&] { fit_bgnbd(&ok, 1, opt); }), ErrorKind::invalid_parameter_value);
    opt.l2_penalty = 0;
    opt.max_iterations = 0;
    EXPECT_EQ(kind_of([&] { fit_pareto_nbd(&ok, 1, opt); }), ErrorKind::invalid_parameter_value);

    const GammaGammaObservation gg_bad[] = {{0, 10, 1}, {2, 0, 1}, {2, -3, 1}, {2, NAN, 1}, {2.5, 10, 1}, {2, 10, -1}};
    for (const auto& g : gg_bad)
        EXPECT_EQ(kind_of([&] { fit_gamma_gamma(&g, 1); }), ErrorKind::invalid_parameter_value);
}

TEST(BtydRobustness, ExtremeCustomers) {
    const BgnbdModel bg{0.243, 4.414, 0.793, 2.426};
    const ParetoNbdModel pn{0.553, 10.578, 0.606, 11.669};
    // Heavy buyers, last purchase at T, first purchase at the end (T = 0),
    // repeat purchases at t_x = 0 (fractional time units), very long horizons.
    const double cases[][3] = {{1000, 38, 39}, {1000, 39, 39},  {5000, 300, 310},    {0, 0, 0},
                               {3, 0, 10},     {1, 1e-9, 1e-9}, {20000, 1000, 1000}, {2, 30, 1e5}};
    for (const auto& c : cases) {
        const std::string what = ::testing::PrintToString(std::vector<double>{c[0], c[1], c[2]});
        for (double t : {0.0, 1.0, 52.0, 520.0}) {
            const double values[] = {bgnbd_p_alive(bg, c[0], c[1], c[2]),
                                     bgnbd_expected(bg, t, c[0], c[1], c[2]),
                                     bgnbd_prob_purchase(bg, t, c[0], c[1], c[2]),
                                     pareto_nbd_p_alive(pn, c[0], c[1], c[2]),
                                     pareto_nbd_expected(pn, t, c[0], c[1], c[2]),
                                     pareto_nbd_prob_purchase(pn, t, c[0], c[1], c[2])};
            for (double v : values) {
                EXPECT_TRUE(std::isfinite(v)) << what << " t=" << t;
                EXPECT_GE(v, 0) << what << " t=" << t;
            }
        }
        const BtydObservation o{c[0], c[1], c[2], 1};
        EXPECT_TRUE(std::isfinite(bgnbd_log_likelihood(bg, &o, 1))) << what;
        EXPECT_TRUE(std::isfinite(pareto_nbd_log_likelihood(pn, &o, 1))) << what;
    }
    // A heavy buyer whose last purchase is at T is almost surely alive and buys at
    // about his posterior rate (r + x) / (alpha + T), less dropouts (BG/NBD: p ~
    // Beta(a, b + x), mean 8e-4 per purchase, ~1% over the week's 23 purchases).
    EXPECT_NEAR(bgnbd_p_alive(bg, 1000, 39, 39), 1.0, 1e-3);
    EXPECT_NEAR(bgnbd_expected(bg, 1, 1000, 39, 39) / (1000.243 / 43.414), 1.0, 0.02);
    EXPECT_NEAR(pareto_nbd_expected(pn, 1, 1000, 39, 39) / (1000.6 / 49.6), 1.0, 0.01);
    // Horizons so long that the BG/NBD series would need more than its term
    // budget are refused, never truncated; the Pareto/NBD closed forms have no
    // such limit.
    EXPECT_EQ(kind_of([&] { bgnbd_expected(bg, 1e7, 2, 30, 39); }), ErrorKind::numeric_value_out_of_range);
    EXPECT_EQ(kind_of([&] { bgnbd_expected(bg, 1e300, 2, 30, 39); }), ErrorKind::numeric_value_out_of_range);
    EXPECT_EQ(kind_of([&] { bgnbd_unconditional_expected(bg, 1e300); }), ErrorKind::numeric_value_out_of_range);
    EXPECT_TRUE(std::isfinite(bgnbd_expected(bg, 5000, 2, 30, 39)));
    EXPECT_TRUE(std::isfinite(pareto_nbd_expected(pn, 1e300, 2, 30, 39)));
    EXPECT_LE(pareto_nbd_prob_purchase(pn, 1e300, 2, 30, 39), pareto_nbd_p_alive(pn, 2, 30, 39));
    EXPECT_LE(bgnbd_prob_purchase(bg, 1e300, 2, 30, 39), bgnbd_p_alive(bg, 2, 30, 39));
    // ... and one who stopped long ago is almost surely gone.
    EXPECT_LT(bgnbd_p_alive(bg, 1000, 20, 39), 1e-100);
    EXPECT_LT(pareto_nbd_p_alive(pn, 1000, 20, 39), 1e-100);
}

TEST(BtydRobustness, DegenerateFits) {
    // No repeat purchases at all: a clear error.
    std::vector<BtydObservation> none = {{0, 0, 10, 5}, {0, 0, 20, 3}};
    EXPECT_EQ(kind_of([&] { fit_bgnbd(none.data(), none.size()); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([&] { fit_pareto_nbd(none.data(), none.size()); }), ErrorKind::data_exception);
    const BtydObservation zero_weight{2, 5, 10, 0};
    EXPECT_EQ(kind_of([&] { fit_bgnbd(&zero_weight, 1); }), ErrorKind::data_exception);
    const BtydObservation age_zero{1, 0, 0, 1};
    EXPECT_EQ(kind_of([&] { fit_bgnbd(&age_zero, 1); }), ErrorKind::data_exception);

    // One customer, all customers identical, t_x == T for everybody: whatever
    // the optimizer reaches, it is finite, positive, and at least as likely as
    // the first starting point; never NaN.
    const std::vector<std::vector<BtydObservation>> sets = {
        {{3, 20, 30, 1}},
        {{2, 10, 30, 1000}},
        {{2, 30, 30, 50}, {5, 40, 40, 20}, {0, 0, 25, 10}},
        {{1, 0, 10, 10}, {4, 0, 20, 10}, {0, 0, 15, 10}},
    };
    for (const auto& s : sets) {
        for (int model = 0; model < 2; ++model) {
            double params[4];
            double ll, start_ll;
            if (model == 0) {
                BgnbdModel m;
                ASSERT_NO_THROW(m = fit_bgnbd(s.data(), s.size()));
                params[0] = m.r, params[1] = m.alpha, params[2] = m.a, params[3] = m.b;
                ll = m.log_likelihood;
                double wx = 0, wT = 0;
                for (const auto& o : s)
                    wx += o.weight * o.x, wT += o.weight * o.T;
                start_ll = bgnbd_log_likelihood(BgnbdModel{1, wT / wx, 1, 1}, s.data(), s.size());
            } else {
                ParetoNbdModel m;
                ASSERT_NO_THROW(m = fit_pareto_nbd(s.data(), s.size()));
                params[0] = m.r, params[1] = m.alpha, params[2] = m.s, params[3] = m.beta;
                ll = m.log_likelihood;
                double wx = 0, wT = 0, w = 0;
                for (const auto& o : s)
                    wx += o.weight * o.x, wT += o.weight * o.T, w += o.weight;
                start_ll = pareto_nbd_log_likelihood(ParetoNbdModel{1, wT / wx, 1, wT / w}, s.data(), s.size());
            }
            for (double p : params) {
                EXPECT_TRUE(std::isfinite(p) && p > 0) << "model " << model;
            }
            EXPECT_TRUE(std::isfinite(ll));
            EXPECT_GE(ll, start_ll - 1e-9) << "model " << model;
        }
    }
}

TEST(BtydRobustness, FitsHonourInterrupts) {
    std::vector<BtydObservation> obs;
    for (int i = 0; i < 200; ++i)
        obs.push_back({double(i % 7), i % 7 ? 10.0 + i % 13 : 0.0, 30.0 + i % 11, 1});
    struct Counter {
        int calls = 0;
        int cancel_after = 0;
    } counter;
    BtydFitOptions opt;
    opt.interrupts.context = &counter;
    opt.interrupts.pending = [](void* ctx) {
        auto* c = static_cast<Counter*>(ctx);
        return ++c->calls > c->cancel_after;
    };
    for (int after : {0, 3}) {
        counter.calls = 0;
        counter.cancel_after = after;
        EXPECT_EQ(kind_of([&] { fit_bgnbd(obs.data(), obs.size(), opt); }), ErrorKind::query_canceled);
        counter.calls = 0;
        EXPECT_EQ(kind_of([&] { fit_pareto_nbd(obs.data(), obs.size(), opt); }), ErrorKind::query_canceled);
        counter.calls = 0;
        const GammaGammaObservation g[] = {{1, 10, 3}, {2, 20, 2}, {5, 15, 1}};
        EXPECT_EQ(kind_of([&] { fit_gamma_gamma(g, 3, opt); }), ErrorKind::query_canceled);
    }
    // Never pending: the fit completes and polled at least once per iteration.
    counter.calls = 0;
    counter.cancel_after = 1 << 30;
    const BgnbdModel m = fit_bgnbd(obs.data(), obs.size(), opt);
    EXPECT_GE(counter.calls, m.iterations);
}

// ---------------------------------------------------------------------------
// Synthetic recovery
// ---------------------------------------------------------------------------

namespace {

double beta_draw(std::mt19937_64& rng, double a, double b) {
    const double g1 = std::gamma_distribution<double>(a, 1.0)(rng);
    const double g2 = std::gamma_distribution<double>(b, 1.0)(rng);
    return g1 / (g1 + g2);
}

}  // namespace

TEST(BtydRecovery, BgnbdRecoversSimulatedParameters) {
    const double r = 0.6, alpha = 4.0, a = 0.7, b = 2.5;
    std::mt19937_64 rng(12345);
    std::gamma_distribution<double> lambda_draw(r, 1.0 / alpha);
    std::uniform_real_distribution<double> unit(0, 1);
    std::vector<BtydObservation> obs;
    for (int i = 0; i < 50000; ++i) {
        const double lambda = lambda_draw(rng);
        const double p = beta_draw(rng, a, b);
        const double T = 10 + 42 * unit(rng);  // customers acquired over 42 weeks, observed >= 10 weeks
        double t = 0, t_x = 0, x = 0;
        std::exponential_distribution<double> gap(lambda);
        for (;;) {
            t += gap(rng);
            if (t > T)
                break;
            x += 1;
            t_x = t;
            if (unit(rng) < p)
                break;  // drops out after this purchase
        }
        obs.push_back({x, t_x, T, 1});
    }
    const BgnbdModel m = fit_bgnbd(obs.data(), obs.size());
    ASSERT_TRUE(m.converged);
    const auto se = bgnbd_standard_errors(m, obs.data(), obs.size());
    const double truth[] = {r, alpha, a, b};
    const double est[] = {m.r, m.alpha, m.a, m.b};
    for (int i = 0; i < 4; ++i) {
        EXPECT_LT(se[i], 0.15 * truth[i]) << i;  // informative sample
        EXPECT_NEAR(est[i], truth[i], 4 * se[i]) << "parameter " << i << " se " << se[i];
    }
}

TEST(BtydRecovery, ParetoNbdRecoversSimulatedParameters) {
    // Day-resolution times in weeks, as real data: distinct triples and (x, time)
    // pairs stay bounded, which is what keeps the fit fast.
    const double r = 0.8, alpha = 6.0, s = 0.7, beta = 12.0;
    std::mt19937_64 rng(777);
    std::gamma_distribution<double> lambda_draw(r, 1.0 / alpha), mu_draw(s, 1.0 / beta);
    std::uniform_int_distribution<int> age_days(70, 364);
    std::map<std::tuple<int, int, int>, double> counts;
    for (int i = 0; i < 30000; ++i) {
        const double lambda = lambda_draw(rng), mu = mu_draw(rng);
        const int T_days = age_days(rng);
        const double T = T_days / 7.0;
        const double death = std::exponential_distribution<double>(mu)(rng);
        const double end = std::min(T, death);
        std::exponential_distribution<double> gap(lambda);
        double t = 0, t_x = 0;
        int x = 0;
        for (;;) {
            t += gap(rng);
            if (t > end)
                break;
            ++x;
            t_x = t;
        }
        const int tx_days = x == 0 ? 0 : std::min(T_days, static_cast<int>(std::ceil(t_x * 7)));
        counts[{x, tx_days, T_days}] += 1;
    }
    std::vector<BtydObservation> obs;
    for (const auto& [k, w] : counts)
        obs.push_back({double(std::get<0>(k)), std::get<1>(k) / 7.0, std::get<2>(k) / 7.0, w});
    const ParetoNbdModel m = fit_pareto_nbd(obs.data(), obs.size());
    ASSERT_TRUE(m.converged);
    EXPECT_EQ(m.customers, 30000);
    const auto se = pareto_nbd_standard_errors(m, obs.data(), obs.size());
    const double truth[] = {r, alpha, s, beta};
    const double est[] = {m.r, m.alpha, m.s, m.beta};
    for (int i = 0; i < 4; ++i)
        EXPECT_NEAR(est[i], truth[i], 4 * se[i]) << "parameter " << i << " se " << se[i];
}

TEST(BtydRecovery, GammaGammaRecoversSimulatedParameters) {
    const double p = 5.0, q = 4.0, gamma = 20.0;
    std::mt19937_64 rng(4242);
    std::gamma_distribution<double> nu_draw(q, 1.0 / gamma);
    std::poisson_distribution<int> extra(3.0);
    std::vector<GammaGammaObservation> obs;
    for (int i = 0; i < 5000; ++i) {
        const double nu = nu_draw(rng);
        const int x = 1 + extra(rng);
        std::gamma_distribution<double> value(p, 1.0 / nu);
        double sum = 0;
        for (int j = 0; j < x; ++j)
            sum += value(rng);
        obs.push_back({double(x), sum / x, 1});
    }
    const GammaGammaModel m = fit_gamma_gamma(obs.data(), obs.size());
    ASSERT_TRUE(m.converged);
    const auto se = gamma_gamma_standard_errors(m, obs.data(), obs.size());
    const double truth[] = {p, q, gamma};
    const double est[] = {m.p, m.q, m.gamma};
    for (int i = 0; i < 3; ++i)
        EXPECT_NEAR(est[i], truth[i], 4 * se[i]) << "parameter " << i << " se " << se[i];
}

// ---------------------------------------------------------------------------
// The Gauss 2F1 of the Pareto/NBD model in every region, bounded cost
// ---------------------------------------------------------------------------

// The dropout integral of the Pareto/NBD model against mpmath (40 digits,
// adaptive quadrature on a geometric grid): log I and the four means of the
// gradient, from the published CDNOW model to the boundary regions (beta in
// the millions, s = 1e9, steep integrands with x = 1000 or alpha = 0.01),
// each in well under a millisecond.
TEST(BtydPowerIntegral, AgreesWithMpmathInEveryRegion) {
    struct Case {
        double a, alpha, b, beta, t0, t1;
        double log_value, mean_log_a, mean_frac_a, mean_log_b, mean_frac_b;
    };
    const Case cases[] = {
        {2.553, 10.578, 1.606, 11.669, 30.43, 38.86, -3.7605485728355128916, 1.4394283085708911288,
         0.76259840318740410967, 1.3654584264520131279, 0.74438913818081911203},
        {1000.553, 10.578, 1.606, 11.669, 300.0, 310.0, -3387.9738486911126582, 3.3806575528513262479,
         0.96597490894523729301, 3.286001329340108259, 0.96259686798305565792},
        {0.553, 10.578, 1.606, 11.669, 0.0, 30.0, 2.030308490060205436, 0.51629991672180266428, 0.36436837770172304903,
         0.48142759313459210534, 0.34620288045761535369},
        {3.2, 15.0, 1.5, 3.0, 0.0, 10.0, 0.63705583504545028512, 0.13042109636444603355, 0.11636926478789302784,
         0.48002473291448365346, 0.34218858149178439876},
        {0.93, 41.6, 1.00000005, 70000000.0, 0.0, 372.0, 4.6410796402881202578, 1.1791578850450534217,
         0.6194406699770091188, 1.7854859401068271719e-6, 1.7854832375088376368e-6},
        {50.93, 41.6, 1.00000005, 70000000.0, 12.0, 300.0, -12.837225661743308506, 0.27347693974466781231,
         0.23911954048320429737, 1.870777316730440989e-7, 1.8707771404644857238e-7},
        {7.4, 22.9, 1000000000.0, 5300000000.0, 2.0, 14.0, -0.23364531740637635437, 0.16471798053652933497,
         0.14960681120605637176, 7.8822644091082957246e-10, 7.8822644052016987186e-10},
        {0.3, 0.01, 0.2, 0.001, 0.0, 500.0, 1.033972569025386176, 8.8603988889448501529, 0.99506174402849568726,
         11.157135801896670256, 0.99896779757956347998},
        {120.0, 0.05, 3.0, 2000.0, 1.0, 365.0, -370.07453882152631071, 3.0529256860126208557, 0.95277777248391510475,
         0.00050432189044694576432, 0.00050419473148686431787},
    };
    for (const Case& c : cases) {
        const auto start = std::chrono::steady_clock::now();
        const auto I = btyd_detail::power_integral(c.a, c.alpha, c.b, c.beta, c.t0, c.t1, true);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const std::string what = ::testing::PrintToString(std::vector<double>{c.a, c.alpha, c.b, c.beta, c.t0, c.t1});
        EXPECT_NEAR(I.log_value, c.log_value, 1e-13 * std::max(1.0, std::fabs(c.log_value))) << what;
        EXPECT_NEAR(I.mean_log_a, c.mean_log_a, 1e-12 * c.mean_log_a) << what;
        EXPECT_NEAR(I.mean_frac_a, c.mean_frac_a, 1e-12 * c.mean_frac_a) << what;
        EXPECT_NEAR(I.mean_log_b, c.mean_log_b, 1e-12 * c.mean_log_b) << what;
        EXPECT_NEAR(I.mean_frac_b, c.mean_frac_b, 1e-12 * c.mean_frac_b) << what;
        EXPECT_LT(seconds, 0.001) << what;
    }
    EXPECT_EQ(btyd_detail::power_integral(2, 3, 1, 4, 5, 5, false).log_value, -kInf);
    EXPECT_EQ(kind_of([] { btyd_detail::power_integral(2, 0, 1, 4, 0, 5, false); }),
              ErrorKind::numeric_value_out_of_range);
    EXPECT_EQ(kind_of([] { btyd_detail::power_integral(kNaN, 3, 1, 4, 0, 5, false); }),
              ErrorKind::numeric_value_out_of_range);
    EXPECT_EQ(kind_of([] { btyd_detail::power_integral(2, 3, 1, 4, 0, kInf, false); }),
              ErrorKind::numeric_value_out_of_range);
}

// The analytic gradient of the Pareto/NBD fit against central differences
// of the log-likelihood, inside the parameter space and near its limits.
TEST(BtydPowerIntegral, ParetoNbdGradientMatchesDifferences) {
    std::vector<BtydObservation> data;
    for (const auto& c : kPnRefs)
        data.push_back({c.x, c.t_x, c.T, 1});
    data.push_back({40, 20, 300, 3});
    data.push_back({0, 0, 300, 7});
    const ParetoNbdModel models[] = {{0.553, 10.578, 0.606, 11.669},
                                     {1.2, 15, 0.5, 3},
                                     {0.93, 41.6, 4.6e-8, 7e7},
                                     {7.4, 22.9, 1e9, 5.3e9}};
    for (const auto& m : models) {
        const double p[] = {m.r, m.alpha, m.s, m.beta};
        const auto ll = [&](int i, double factor) {
            double q[4] = {p[0], p[1], p[2], p[3]};
            q[i] *= factor;
            return pareto_nbd_log_likelihood(ParetoNbdModel{q[0], q[1], q[2], q[3]}, data.data(), data.size());
        };
        const auto grad = btyd_detail::pareto_nbd_gradient(m, data.data(), data.size());
        for (int i = 0; i < 4; ++i) {
            const double h = 1e-5;
            const double numeric = (ll(i, std::exp(h)) - ll(i, std::exp(-h))) / (2 * h);
            EXPECT_NEAR(grad[i], numeric, 1e-6 * (1 + std::fabs(numeric))) << "parameter " << i << " of " << m.r;
        }
    }
}

// Customers who never drop out and buy regularly (gaps Erlang-2 with mean
// 1/lambda days, lambda ~ Gamma(0.9, 40); 4,338 customers acquired over 330
// days and observed to day 373, purchase days counted once, as the real
// retail set whose Pareto/NBD fit took minutes): the likelihood rises
// towards s/beta -> 0. The fit stops there within a second, reports the
// boundary, and its r and alpha are those of the limiting model (NBD
// purchases without dropout): its log-likelihood at them is the fit's, and
// it is maximal there.
namespace {

std::vector<BtydObservation> no_dropout_customers(int n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::gamma_distribution<double> lambda_draw(0.9, 1.0 / 40);
    std::vector<BtydObservation> out;
    for (int i = 0; i < n; ++i) {
        const double lambda = lambda_draw(rng);
        const int first = static_cast<int>(330 * unit(rng));
        int x = 0, last = first;
        for (double t = first;;) {
            t += (-std::log1p(-unit(rng)) - std::log1p(-unit(rng))) / (2 * lambda);
            const double day = std::ceil(t);
            if (day > 373)
                break;
            if (day > last)
                ++x, last = static_cast<int>(day);
        }
        out.push_back({double(x), double(last - first), double(373 - first), 1});
    }
    return out;
}

double nbd_log_likelihood(double r, double alpha, const std::vector<BtydObservation>& data) {
    double ll = 0;
    for (const auto& o : data)
        ll += o.weight *
              (std::lgamma(r + o.x) - std::lgamma(r) + r * std::log(alpha) - (r + o.x) * std::log(alpha + o.T));
    return ll;
}

}  // namespace

TEST(BtydRobustness, ParetoNbdNoDropoutBoundaryIsFastAndReported) {
    const auto data = no_dropout_customers(4338, 2024);
    const auto start = std::chrono::steady_clock::now();
    const ParetoNbdModel m = fit_pareto_nbd(data.data(), data.size());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(seconds, 1.0);  // about 0.2 s (it took 3 s with the 2F1 and numeric gradients)
    EXPECT_FALSE(m.converged);
    EXPECT_EQ(m.boundary, ParetoNbdBoundary::no_dropout);
    EXPECT_STREQ(boundary_name(m.boundary), "no dropout");
    const double nbd = nbd_log_likelihood(m.r, m.alpha, data);
    EXPECT_NEAR(m.log_likelihood, nbd, 1e-6 * data.size());
    for (double f : {0.999, 1.001}) {
        EXPECT_LT(nbd_log_likelihood(m.r * f, m.alpha, data), nbd);
        EXPECT_LT(nbd_log_likelihood(m.r, m.alpha * f, data), nbd);
    }
    EXPECT_NEAR(m.r, 0.9, 0.1);
    EXPECT_NEAR(m.alpha, 40, 6);
    // Predictions at the boundary model are the limiting model's, and quick.
    const auto pstart = std::chrono::steady_clock::now();
    double max_gap = 0;
    for (const auto& o : data) {
        max_gap = std::max(max_gap, 1 - pareto_nbd_p_alive(m, o.x, o.t_x, o.T));
        const double e = pareto_nbd_expected(m, 30, o.x, o.t_x, o.T);
        EXPECT_NEAR(e, (m.r + o.x) * 30 / (m.alpha + o.T), 1e-5 * e);
    }
    const double per_customer =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - pstart).count() / data.size();
    EXPECT_LT(max_gap, 1e-5);
    EXPECT_LT(per_customer, 20e-6);  // a few microseconds
}

// 20 customers whose likelihood rises towards s, beta -> infinity with
// s / beta fixed (a homogeneous dropout rate): the fit used to spend two
// minutes summing 2F1 series near z = 1. It stops on the ridge, reports
// converged = false, and reaches the supremum: the log-likelihood of the
// limiting model (purchases NBD, lifetime Exponential(mu)), computed by
// mpmath from its integral, -81.5922185011290.
TEST(BtydRobustness, ParetoNbdRidgeFitIsFastAndHonest) {
    std::vector<BtydObservation> data;
    for (int g = 1; g <= 20; ++g) {
        BtydObservation o;
        o.x = g % 4;
        o.t_x = (g == 3 || g % 4 == 0) ? 0 : (g % 7) + 1;
        o.T = g % 5 + 10;
        data.push_back(o);
    }
    const auto start = std::chrono::steady_clock::now();
    const ParetoNbdModel m = fit_pareto_nbd(data.data(), data.size());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(seconds, 2.0);  // about 0.1 s; generous so that a loaded machine cannot fail it
    EXPECT_FALSE(m.converged);
    EXPECT_NEAR(m.log_likelihood, -81.5922185011290, 1e-6);
    EXPECT_GT(m.s, 1e6);
    EXPECT_GT(m.beta, 1e6);
    EXPECT_NEAR(m.s / m.beta, 0.18854, 1e-4);
    EXPECT_NEAR(m.r, 7.3668, 1e-3);
    EXPECT_NEAR(m.alpha, 22.920, 1e-2);
    EXPECT_EQ(m.boundary, ParetoNbdBoundary::homogeneous_dropout);
    // Further along the ridge the likelihood does not rise by more than that.
    const ParetoNbdModel further{m.r, m.alpha, m.s * 1e4, m.beta * 1e4};
    EXPECT_LT(pareto_nbd_log_likelihood(further, data.data(), data.size()) - m.log_likelihood, 1e-6);
}

// ---------------------------------------------------------------------------
// CLV: bounded work and cancellation
// ---------------------------------------------------------------------------

TEST(BtydClv, StopsWhenTheDiscountedRestCannotMatter) {
    const BgnbdModel bg{0.243, 4.414, 0.793, 2.426};
    const ParetoNbdModel pn{0.553, 10.578, 0.606, 11.669};
    // The published example horizon: 100,000 monthly periods at 1%. After
    // about 4000 periods the rest is below 1e-16 of the sum.
    const auto start = std::chrono::steady_clock::now();
    const double long_bg = bgnbd_clv(bg, 2, 30.43, 39.86, 24.65, 100000, 0.01, 4.33);
    const double long_pn = pareto_nbd_clv(pn, 2, 30.43, 39.86, 24.65, 100000, 0.01, 4.33);
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0);
    EXPECT_NEAR(long_bg, bgnbd_clv(bg, 2, 30.43, 39.86, 24.65, 6000, 0.01, 4.33), 1e-12 * long_bg);
    EXPECT_NEAR(long_pn, pareto_nbd_clv(pn, 2, 30.43, 39.86, 24.65, 6000, 0.01, 4.33), 1e-12 * long_pn);
    // The bound: period k adds at most (r + x) / (alpha + T) L alive purchases.
    const double per_period = 24.65 * (0.243 + 2) / (4.414 + 39.86) * 4.33;
    EXPECT_LT(long_bg - bgnbd_clv(bg, 2, 30.43, 39.86, 24.65, 100, 0.01, 4.33),
              per_period * std::pow(1.01, -100) / 0.01);
    // Without discounting the sum telescopes to one expectation.
    EXPECT_NEAR(bgnbd_clv(bg, 2, 30.43, 38.86, 10, 5000, 0, 2), 10 * bgnbd_expected(bg, 10000, 2, 30.43, 38.86), 1e-12);
}

TEST(BtydClv, HonoursInterrupts) {
    // A negligible discount rate: all 100,000 periods, each a long 3F2
    // series (about 90 s in all).
    const BgnbdModel bg{0.243, 4.414, 0.793, 2.426};
    struct Counter {
        int calls = 0;
    } counter;
    Interrupts in;
    in.context = &counter;
    in.pending = [](void* context) { return ++static_cast<Counter*>(context)->calls >= 50; };
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(kind_of([&] { bgnbd_clv(bg, 2, 30.43, 39.86, 24.65, 100000, 1e-12, 4.33, in); }),
              ErrorKind::query_canceled);
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.0);
    EXPECT_EQ(counter.calls, 50);
}

// ---------------------------------------------------------------------------
// No NaN or Infinity out, no internal error: a grid of extreme parameters
// ---------------------------------------------------------------------------

TEST(BtydRobustness, ExtremeParametersGiveNumbersOrRangeErrors) {
    const double values[] = {1e-300, 1e-12, 0.5, 1, 2, 1e9, 1e300, 1.7e308};
    const double customers[][3] = {{0, 0, 0}, {2, 30.43, 38.86}, {1e9, 38, 38.86}, {1000, 0, 1e300}};
    int numbers = 0, errors = 0;
    auto check = [&](const std::function<double()>& f, const std::string& what) {
        try {
            const double v = f();
            EXPECT_TRUE(std::isfinite(v)) << what << " = " << v;
            ++numbers;
        } catch (const Error& e) {
            EXPECT_TRUE(e.kind() == ErrorKind::numeric_value_out_of_range ||
                        e.kind() == ErrorKind::invalid_parameter_value)
                << what << ": " << e.what();
            ++errors;
        }
    };
    for (double p : values)
        for (double q : values) {
            const BgnbdModel bg{p, q, p, q};
            const ParetoNbdModel pn{p, q, q, p};
            for (const auto& c : customers)
                for (double t : {0.0, 39.0, 1e300}) {
                    const std::string what = ::testing::PrintToString(std::vector<double>{p, q, c[0], c[1], c[2], t});
                    check([&] { return bgnbd_p_alive(bg, c[0], c[1], c[2]); }, "bgnbd_p_alive " + what);
                    check([&] { return bgnbd_expected(bg, t, c[0], c[1], c[2]); }, "bgnbd_expected " + what);
                    check([&] { return bgnbd_unconditional_expected(bg, t); }, "bgnbd_unconditional " + what);
                    check([&] { return bgnbd_prob_purchase(bg, t, c[0], c[1], c[2]); }, "bgnbd_prob " + what);
                    check([&] { return pareto_nbd_p_alive(pn, c[0], c[1], c[2]); }, "pareto_p_alive " + what);
                    check([&] { return pareto_nbd_expected(pn, t, c[0], c[1], c[2]); }, "pareto_expected " + what);
                    check([&] { return pareto_nbd_unconditional_expected(pn, t); }, "pareto_unconditional " + what);
                    check([&] { return pareto_nbd_prob_purchase(pn, t, c[0], c[1], c[2]); }, "pareto_prob " + what);
                }
            check([&] { return bgnbd_clv(bg, 2, 30.43, 38.86, 10, 12, 0.01); }, "bgnbd_clv");
            check([&] { return pareto_nbd_clv(pn, 2, 30.43, 38.86, 10, 12, 0.01); }, "pareto_clv");
            check([&] { return gamma_gamma_expected_spend(GammaGammaModel{p, q, p}, 3, 25); }, "spend");
        }
    EXPECT_GT(numbers, 1000);  // mostly numbers: the grid is not all out of range
    EXPECT_GT(errors, 0);
}

TEST(BtydRobustness, ModelsAndCustomersAreValidated) {
    EXPECT_NO_THROW(validate_model(BgnbdModel{0.243, 4.414, 0.793, 2.426}));
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    for (double bad : {0.0, -1.0, nan, inf, -inf}) {
        EXPECT_EQ(kind_of([&] {
                      validate_model(BgnbdModel{0.243, bad, 0.793, 2.426});
                  }),
                  ErrorKind::invalid_parameter_value);
        EXPECT_EQ(kind_of([&] {
                      validate_model(ParetoNbdModel{0.553, 10.578, bad, 11.669});
                  }),
                  ErrorKind::invalid_parameter_value);
        EXPECT_EQ(kind_of([&] {
                      validate_model(GammaGammaModel{6.25, 3.74, bad});
                  }),
                  ErrorKind::invalid_parameter_value);
    }
    // x up to 1e9 is a customer; beyond, the sums r + x lose r.
    const ParetoNbdModel pn{0.553, 10.578, 0.606, 11.669};
    EXPECT_EQ(pareto_nbd_p_alive(pn, kBtydMaxRepeatPurchases, 38.86, 38.86), 1.0);
    EXPECT_LT(pareto_nbd_p_alive(pn, kBtydMaxRepeatPurchases, 38, 38.86), 1e-6);
    EXPECT_EQ(kind_of([&] { pareto_nbd_p_alive(pn, 1e308, 30.43, 38.86); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] {
                  bgnbd_unconditional_expected(BgnbdModel{1e308, 1e-308, 1e308, 1e-308}, 39);
              }),
              ErrorKind::numeric_value_out_of_range);
}

// ---------------------------------------------------------------------------
// MBG/NBD, BG/BB and sBG: published figures, identities, validation
// ---------------------------------------------------------------------------

// Batislam, Denizel & Filiztekin (2007) MBG/NBD on the CDNOW sample, weeks:
// r 0.525, alpha 6.183, a 0.891, b 1.614 (the BTYDplus figures).
TEST(BtydMbgnbd, ReproducesPublishedEstimatesOnCdnow) {
    LOAD_CDNOW_OR_SKIP(data);
    const MbgnbdModel m = fit_mbgnbd(data.customers.data(), data.customers.size());
    EXPECT_TRUE(m.converged);
    EXPECT_NEAR(m.r, 0.525, 0.0005);
    EXPECT_NEAR(m.alpha, 6.183, 0.0005);
    EXPECT_NEAR(m.a, 0.891, 0.0005);
    EXPECT_NEAR(m.b, 1.614, 0.0005);
    EXPECT_NEAR(mbgnbd_log_likelihood(m, data.customers.data(), data.customers.size()), m.log_likelihood, 1e-9);
    // A customer without repeat purchases may have dropped out at once.
    EXPECT_NEAR(mbgnbd_p_alive(m, 0, 0, 30), 1 / (1 + m.a / m.b * std::pow((m.alpha + 30) / m.alpha, m.r)), 1e-14);
    EXPECT_NEAR(mbgnbd_p_alive(m, 2, 30.43, 38.86),
                1 / (1 + m.a / (m.b + 2) * std::pow((m.alpha + 38.86) / (m.alpha + 30.43), m.r + 2)), 1e-14);
    // E[Y(t)] of an alive customer is BG/NBD's with b + 1; a new customer
    // is alive with probability b / (a + b).
    const BgnbdModel shifted{m.r, m.alpha, m.a, m.b + 1};
    const double alive_bg = bgnbd_expected(shifted, 39, 2, 38.86, 38.86) / bgnbd_p_alive(shifted, 2, 38.86, 38.86);
    EXPECT_NEAR(mbgnbd_expected(m, 39, 2, 30.43, 38.86), mbgnbd_p_alive(m, 2, 30.43, 38.86) * alive_bg, 1e-12);
    EXPECT_NEAR(mbgnbd_unconditional_expected(m, 39), m.b / (m.a + m.b) * bgnbd_unconditional_expected(shifted, 39),
                1e-12);
    EXPECT_NEAR(mbgnbd_repurchase_score(m, 39, 2, 30.43, 38.86),
                100 * mbgnbd_p_alive(m, 2, 30.43, 38.86) *
                    (1 - std::pow((m.alpha + 38.86) / (m.alpha + 38.86 + 39), m.r + 2)),
                1e-10);
    for (double v : mbgnbd_standard_errors(m, data.customers.data(), data.customers.size()))
        EXPECT_GT(v, 0);
}

namespace {

bool load_donations(std::vector<BgbbObservation>& out) {
    std::ifstream in(CA_SHARED_DATA_DIR "/donations/donations.csv");
    std::string line;
    if (!in || !std::getline(in, line))
        return false;
    while (std::getline(in, line)) {
        double f, r, n, w;
        char c;
        std::istringstream is(line);
        if (is >> f >> c >> r >> c >> n >> c >> w)
            out.push_back({f, r, n, w});
    }
    return true;
}

}  // namespace

// Fader, Hardie & Shang (2010) on the 11,104 donors of 1995 over the six
// opportunities 1996-2001: alpha 1.204, beta 0.750, gamma 0.657, delta 2.783;
// expected donors with 0 and 6 repeat donations 3,454.9 and 1,253.1.
TEST(BtydBgbb, ReproducesPublishedDonationsFit) {
    std::vector<BgbbObservation> d;
    if (!load_donations(d))
        GTEST_SKIP() << "donations.csv not found under " CA_SHARED_DATA_DIR;
    const BgbbModel m = fit_bgbb(d.data(), d.size());
    EXPECT_TRUE(m.converged);
    EXPECT_EQ(m.customers, 11104);
    EXPECT_NEAR(m.alpha, 1.204, 0.0005);
    EXPECT_NEAR(m.beta, 0.750, 0.0005);
    EXPECT_NEAR(m.gamma, 0.657, 0.0005);
    EXPECT_NEAR(m.delta, 2.783, 0.0005);
    EXPECT_NEAR(m.log_likelihood, -33225.6, 0.05);
    EXPECT_NEAR(11104 * bgbb_probability(m, 0, 6), 3454.9, 0.05);
    EXPECT_NEAR(11104 * bgbb_probability(m, 6, 6), 1253.1, 0.05);
    // P(X(n) = x) is a distribution whose mean is E[X(n)].
    double total = 0, mean = 0;
    for (int x = 0; x <= 6; ++x) {
        total += bgbb_probability(m, x, 6);
        mean += x * bgbb_probability(m, x, 6);
    }
    EXPECT_NEAR(total, 1, 1e-12);
    EXPECT_NEAR(mean, bgbb_unconditional_expected(m, 6), 1e-12);
    EXPECT_NEAR(bgbb_log_likelihood(m, d.data(), d.size()), m.log_likelihood, 1e-9);
    for (double v : bgbb_standard_errors(m, d.data(), d.size()))
        EXPECT_GT(v, 0);
}

// BG/BB predictions against their definitions: the expected transactions
// are E[p | .] times the expected opportunities alive, summed term by term
// (the closed form cancels near gamma = 1, where the sum takes over).
TEST(BtydBgbb, PredictionsMatchTheirDefinitions) {
    const BgbbModel m{1.2, 0.75, 0.66, 2.8};
    // E[X(n, n+n*) | .] = P(alive at n+1 | .) * E[p | .] * sum_k P(alive at n+k | alive at n+1):
    // with gamma near 1 the closed form switches to the sum; both agree.
    for (double g : {0.66, 1.0 - 1e-4, 1.0, 1.0 + 1e-4, 2.5}) {
        const BgbbModel q{1.2, 0.75, g, 2.8};
        double direct = 0;
        for (int k = 1; k <= 5; ++k)
            direct += std::exp(std::lgamma(g) + std::lgamma(2.8 + 6 + k) - std::lgamma(g + 2.8 + 6 + k) -
                               (std::lgamma(g) + std::lgamma(2.8) - std::lgamma(g + 2.8)));
        const double front = std::exp(std::lgamma(1.2 + 4 + 1) + std::lgamma(0.75 + 2) - std::lgamma(1.2 + 0.75 + 7) -
                                      (std::lgamma(1.2) + std::lgamma(0.75) - std::lgamma(1.95)));
        const double L = std::exp(bgbb_log_likelihood(q, std::vector<BgbbObservation>{{4, 5, 6, 1}}.data(), 1));
        EXPECT_NEAR(bgbb_expected(q, 5, 4, 5, 6), front * direct / L, 1e-12) << g;
    }
    // A customer who transacted at the last opportunity is alive at n + 1
    // unless theta struck after it: P = E[(1 - theta)] under the posterior.
    EXPECT_NEAR(bgbb_p_alive(m, 6, 6, 6), (2.8 + 6) / (0.66 + 2.8 + 6), 1e-12);
    EXPECT_EQ(bgbb_expected(m, 0, 3, 4, 6), 0.0);
    EXPECT_EQ(kind_of([&] { bgbb_p_alive(m, 3, 2, 6); }), ErrorKind::invalid_parameter_value);    // t_x < x
    EXPECT_EQ(kind_of([&] { bgbb_p_alive(m, 0, 1, 6); }), ErrorKind::invalid_parameter_value);    // t_x without x
    EXPECT_EQ(kind_of([&] { bgbb_p_alive(m, 2, 7, 6); }), ErrorKind::invalid_parameter_value);    // t_x > n
    EXPECT_EQ(kind_of([&] { bgbb_p_alive(m, 1.5, 2, 6); }), ErrorKind::invalid_parameter_value);  // not an integer
    EXPECT_EQ(kind_of([&] { bgbb_probability(m, 7, 6); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] {
                  bgbb_expected(BgbbModel{1, kNaN, 1, 1}, 1, 0, 0, 1);
              }),
              ErrorKind::invalid_parameter_value);
    const BgbbObservation none[] = {{0, 0, 6, 10}};
    EXPECT_EQ(kind_of([&] { fit_bgbb(none, 1); }), ErrorKind::data_exception);
}

// Fader & Hardie (2007), customers of 1,000 active at the start of each
// year; fitted on years 0-7: regular alpha 0.704, beta 1.182; high end
// alpha 0.668, beta 3.806.
TEST(BtydSbg, ReproducesPublishedRetentionFits) {
    const double regular[] = {1000, 631, 468, 382, 326, 289, 262, 241};
    const double high_end[] = {1000, 869, 743, 653, 593, 551, 517, 491};
    const double published[2][2] = {{0.704, 1.182}, {0.668, 3.806}};
    int segment = 0;
    for (const double* S : {regular, high_end}) {
        std::vector<SbgObservation> d;
        for (int t = 1; t <= 7; ++t)
            d.push_back({double(t), true, S[t - 1] - S[t]});
        d.push_back({7, false, S[7]});
        const SbgModel m = fit_sbg(d.data(), d.size());
        EXPECT_TRUE(m.converged);
        EXPECT_EQ(m.customers, 1000);
        EXPECT_NEAR(m.alpha, published[segment][0], 0.0005);
        EXPECT_NEAR(m.beta, published[segment][1], 0.0005);
        EXPECT_NEAR(sbg_log_likelihood(m, d.data(), d.size()), m.log_likelihood, 1e-9);
        // Survival is the product of the retention rates.
        double product = 1;
        for (int t = 1; t <= 12; ++t) {
            product *= sbg_retention(m, t);
            EXPECT_NEAR(sbg_survival(m, t), product, 1e-13);
        }
        // DERL is the discounted sum of the survival ratios.
        for (double n : {0.0, 7.0}) {
            double direct = 0;
            for (int k = 1; k < 20000; ++k)
                direct += sbg_survival(m, n + k) / sbg_survival(m, n) * std::pow(1.1, -(k - 1));
            EXPECT_NEAR(sbg_derl(m, n, 0.1), direct, 1e-9 * direct);
        }
        for (double v : sbg_standard_errors(m, d.data(), d.size()))
            EXPECT_GT(v, 0);
        ++segment;
    }
    const SbgModel m{0.7, 1.2};
    EXPECT_EQ(sbg_survival(m, 0), 1.0);
    EXPECT_EQ(kind_of([&] { sbg_retention(m, 0); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { sbg_derl(m, 2, 0); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { sbg_survival(m, 1.5); }), ErrorKind::invalid_parameter_value);
    const SbgObservation early[] = {{0, true, 1}};
    EXPECT_EQ(kind_of([&] { fit_sbg(early, 1); }), ErrorKind::invalid_parameter_value);
    const SbgObservation loyal[] = {{5, false, 10}};
    EXPECT_EQ(kind_of([&] { fit_sbg(loyal, 1); }), ErrorKind::data_exception);
}

// ---------------------------------------------------------------------------
// Covariates: parameter recovery, the reference customer, validation
// ---------------------------------------------------------------------------

namespace {

// 10,000 customers with a channel dummy and a standard normal covariate;
// purchase coefficients (0.5, -0.3), dropout coefficients (-0.4, 0.2).
struct CovariateData {
    std::vector<BtydObservation> rows;
    std::vector<double> z;
};

CovariateData simulate_covariates(BtydCovariateFamily family, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> uniform(0, 1);
    std::normal_distribution<double> normal(0, 1);
    const double gp[2] = {0.5, -0.3}, gd[2] = {-0.4, 0.2};
    CovariateData out;
    for (int i = 0; i < 10000; ++i) {
        const double z1 = uniform(rng) < 0.5 ? 1 : 0, z2 = normal(rng);
        const double zp = gp[0] * z1 + gp[1] * z2, zd = gd[0] * z1 + gd[1] * z2;
        const double T = 10 + 42 * uniform(rng);
        double x = 0, t_x = 0, t = 0;
        if (family == BtydCovariateFamily::pareto_nbd) {  // r 0.8, alpha 6, s 0.7, beta 12
            const double lambda = std::gamma_distribution<double>(0.8, 1 / (6 * std::exp(-zp)))(rng);
            const double mu = std::gamma_distribution<double>(0.7, 1 / (12 * std::exp(-zd)))(rng);
            const double end = std::min(T, std::exponential_distribution<double>(mu)(rng));
            for (;;) {
                t += std::exponential_distribution<double>(lambda)(rng);
                if (t > end)
                    break;
                x += 1, t_x = t;
            }
        } else {  // r 0.6, alpha 4, a 0.7, b 2.5
            const double lambda = std::gamma_distribution<double>(0.6, 1 / (4 * std::exp(-zp)))(rng);
            const double p = beta_draw(rng, 0.7, 2.5 * std::exp(-zd));
            for (;;) {
                t += std::exponential_distribution<double>(lambda)(rng);
                if (t > T)
                    break;
                x += 1, t_x = t;
                if (uniform(rng) < p)
                    break;
            }
        }
        out.rows.push_back({x, t_x, T, 1});
        out.z.push_back(z1);
        out.z.push_back(z2);
    }
    return out;
}

}  // namespace

TEST(BtydCovariates, RecoverKnownEffects) {
    for (const auto family : {BtydCovariateFamily::bgnbd, BtydCovariateFamily::pareto_nbd}) {
        const bool bg = family == BtydCovariateFamily::bgnbd;
        const CovariateData d = simulate_covariates(family, bg ? 99 : 100);
        const BtydCovariateModel m = fit_btyd_covariates(family, d.rows.data(), d.z.data(), d.rows.size(), 2);
        ASSERT_TRUE(m.converged);
        const auto se = btyd_covariates_standard_errors(family, m, d.rows.data(), d.z.data(), d.rows.size(), 2);
        const double truth[] = {bg ? 0.6 : 0.8, bg ? 4.0 : 6.0, 0.7, bg ? 2.5 : 12.0, 0.5, -0.3, -0.4, 0.2};
        const double est[] = {m.r,
                              m.alpha,
                              m.a_or_s,
                              m.b_or_beta,
                              m.gamma_purchase[0],
                              m.gamma_purchase[1],
                              m.gamma_dropout[0],
                              m.gamma_dropout[1]};
        for (int i = 0; i < 8; ++i) {
            EXPECT_GT(se[i], 0) << i;
            EXPECT_NEAR(est[i], truth[i], 3.5 * se[i]) << (bg ? "BG/NBD" : "Pareto/NBD") << " parameter " << i;
        }
        // The signs of every effect are found and pinned down.
        EXPECT_GT(m.gamma_purchase[0] / se[4], 5);
        EXPECT_LT(m.gamma_purchase[1] / se[5], -5);
        EXPECT_LT(m.gamma_dropout[0] / se[6], -3);
        EXPECT_GT(m.gamma_dropout[1] / se[7], 3);
        // The likelihood is the sum of the customers' own models'.
        double sum = 0;
        for (std::size_t i = 0; i < 50; ++i) {
            const BtydObservation& o = d.rows[i];
            sum += bg ? bgnbd_log_likelihood(bgnbd_covariate_model(m, &d.z[2 * i], 2), &o, 1)
                      : pareto_nbd_log_likelihood(pareto_nbd_covariate_model(m, &d.z[2 * i], 2), &o, 1);
        }
        EXPECT_NEAR(btyd_covariates_log_likelihood(family, m, d.rows.data(), d.z.data(), 50, 2), sum, 1e-8);
    }
}

TEST(BtydCovariates, ReferenceCustomerAndValidation) {
    BtydCovariateModel m;
    m.r = 0.5, m.alpha = 6, m.a_or_s = 0.7, m.b_or_beta = 12;
    m.gamma_purchase = {0.5, 0};
    m.gamma_dropout = {0, std::log(2.0)};
    const double zero[] = {0, 0}, one[] = {1, 1};
    const ParetoNbdModel ref = pareto_nbd_covariate_model(m, zero, 2);
    EXPECT_EQ(ref.alpha, 6);
    EXPECT_EQ(ref.beta, 12);
    const ParetoNbdModel other = pareto_nbd_covariate_model(m, one, 2);
    EXPECT_NEAR(other.alpha, 6 * std::exp(-0.5), 1e-12);  // purchase rate up by e^0.5
    EXPECT_NEAR(other.beta, 6, 1e-12);                    // dropout rate doubled
    EXPECT_NEAR(bgnbd_covariate_model(m, one, 2).b, 6, 1e-12);
    EXPECT_EQ(kind_of([&] { pareto_nbd_covariate_model(m, one, 1); }), ErrorKind::invalid_parameter_value);
    const double bad[] = {kNaN, 0};
    EXPECT_EQ(kind_of([&] { pareto_nbd_covariate_model(m, bad, 2); }), ErrorKind::invalid_parameter_value);
    const BtydObservation rows[] = {{2, 5, 10, 1}, {0, 0, 8, 1}, {1, 3, 9, 1}};
    const double constant[] = {1, 1, 1};
    EXPECT_EQ(kind_of([&] { fit_btyd_covariates(BtydCovariateFamily::bgnbd, rows, constant, 3, 1); }),
              ErrorKind::data_exception);
    EXPECT_EQ(kind_of([&] { fit_btyd_covariates(BtydCovariateFamily::bgnbd, rows, constant, 3, 0); }),
              ErrorKind::invalid_parameter_value);
}

// ---------------------------------------------------------------------------
// Uncertainty: standard errors from the fits, CLV intervals
// ---------------------------------------------------------------------------

// The fits carry the covariance of their log-parameters. On CDNOW the
// Pareto/NBD standard errors agree with those of the R package CLVTools
// (its correctness tests: r 0.0476264, alpha 0.8427222, s 0.1872594, beta
// 6.2105448, at its own estimate r 0.55315, alpha 10.57633, s 0.60625, beta
// 11.67150) to 0.02 %.
TEST(BtydUncertainty, StandardErrorsFromTheFits) {
    LOAD_CDNOW_OR_SKIP(data);
    const ParetoNbdModel pn = fit_pareto_nbd(data.customers.data(), data.customers.size());
    ASSERT_EQ(pn.covariance.d, 4);
    const double clvtools[] = {0.0476264, 0.8427222, 0.1872594, 6.2105448};
    const double p[] = {pn.r, pn.alpha, pn.s, pn.beta};
    const auto se = pareto_nbd_standard_errors(pn, data.customers.data(), data.customers.size());
    for (int i = 0; i < 4; ++i) {
        EXPECT_NEAR(parameter_standard_error(pn.covariance, i, p[i]), clvtools[i], 2e-4 * clvtools[i]) << i;
        EXPECT_NEAR(parameter_standard_error(pn.covariance, i, p[i]), se[i], 1e-6 * se[i]) << i;
    }
    // The covariance is symmetric with correlations in [-1, 1].
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) {
            EXPECT_EQ(pn.covariance.values[i * 4 + j], pn.covariance.values[j * 4 + i]);
            EXPECT_LE(std::fabs(pn.covariance.values[i * 4 + j]),
                      std::sqrt(pn.covariance.values[i * 5] * pn.covariance.values[j * 5]) * (1 + 1e-12));
        }
    const BgnbdModel bg = fit_bgnbd(data.customers.data(), data.customers.size());
    const auto bse = bgnbd_standard_errors(bg, data.customers.data(), data.customers.size());
    const double bp[] = {bg.r, bg.alpha, bg.a, bg.b};
    for (int i = 0; i < 4; ++i)
        EXPECT_NEAR(parameter_standard_error(bg.covariance, i, bp[i]), bse[i], 1e-6 * bse[i]) << i;
    // A model from stored parameters has none.
    EXPECT_EQ(BgnbdModel{}.covariance.d, 0);
}

TEST(BtydUncertainty, ClvIntervalsNarrowWithData) {
    LOAD_CDNOW_OR_SKIP(data);
    std::vector<BtydObservation> many;
    for (const auto& o : data.customers)
        many.push_back({o.x, o.t_x, o.T, 16});
    const BgnbdModel one = fit_bgnbd(data.customers.data(), data.customers.size());
    const BgnbdModel sixteen = fit_bgnbd(many.data(), many.size());
    const auto a = bgnbd_clv_interval(one, 2, 30.43, 38.86, 24.65, 12, 0.01, 52.0 / 12, 2000, 0.9, 7);
    const auto b = bgnbd_clv_interval(sixteen, 2, 30.43, 38.86, 24.65, 12, 0.01, 52.0 / 12, 2000, 0.9, 7);
    EXPECT_NEAR(a.estimate, bgnbd_clv(one, 2, 30.43, 38.86, 24.65, 12, 0.01, 52.0 / 12), 1e-12);
    EXPECT_LT(a.lower, a.estimate);
    EXPECT_GT(a.upper, a.estimate);
    // 16 times the customers: a quarter of the width (same draws, scaled).
    EXPECT_NEAR((b.upper - b.lower) / (a.upper - a.lower), 0.25, 0.02);
    // Seeded: the same seed gives the same interval, another seed another.
    const auto again = bgnbd_clv_interval(one, 2, 30.43, 38.86, 24.65, 12, 0.01, 52.0 / 12, 2000, 0.9, 7);
    EXPECT_EQ(again.lower, a.lower);
    EXPECT_EQ(again.upper, a.upper);
    const auto other = bgnbd_clv_interval(one, 2, 30.43, 38.86, 24.65, 12, 0.01, 52.0 / 12, 2000, 0.9, 8);
    EXPECT_NE(other.lower, a.lower);
    EXPECT_NEAR(other.lower, a.lower, 0.05 * (a.upper - a.lower));
    const ParetoNbdModel pn = fit_pareto_nbd(data.customers.data(), data.customers.size());
    const auto p = pareto_nbd_clv_interval(pn, 2, 30.43, 38.86, 24.65, 12, 0.01, 52.0 / 12, 1000, 0.8, 1);
    EXPECT_LT(p.lower, p.estimate);
    EXPECT_GT(p.upper, p.estimate);
    EXPECT_EQ(kind_of([&] {
                  bgnbd_clv_interval(BgnbdModel{0.2, 4, 0.8, 2.4}, 2, 30, 38, 20, 12, 0.01, 1, 100, 0.9, 1);
              }),
              ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { bgnbd_clv_interval(one, 2, 30, 38, 20, 12, 0.01, 1, 0, 0.9, 1); }),
              ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { bgnbd_clv_interval(one, 2, 30, 38, 20, 12, 0.01, 1, 100, 1.0, 1); }),
              ErrorKind::invalid_parameter_value);
}

// An independent check of the standard errors: the Hessian of the public
// log-likelihood in the log-parameters by second differences of its values
// (not of the analytic gradient the fits use), inverted by Gauss-Jordan;
// the square roots of its diagonal, times the parameters, are the
// standard errors (they agree to about 1e-7).
namespace {
std::array<double, 4> standard_errors_by_values(const std::function<double(const std::array<double, 4>&)>& ll,
                                                const std::array<double, 4>& p) {
    const double h = 1e-3;
    auto f = [&](int i, double di, int j, double dj) {
        std::array<double, 4> q = p;
        q[i] *= std::exp(di);
        q[j] *= std::exp(dj);
        return ll(q);
    };
    double a[4][8] = {};
    for (int i = 0; i < 4; ++i) {
        for (int j = 0; j < 4; ++j) {
            const double second =
                i == j ? (f(i, h, i, h) - 2 * f(i, h, i, -h) + f(i, -h, i, -h)) / (4 * h * h)
                       : (f(i, h, j, h) - f(i, h, j, -h) - f(i, -h, j, h) + f(i, -h, j, -h)) / (4 * h * h);
            a[i][j] = -second;
        }
        a[i][4 + i] = 1;
    }
    for (int c = 0; c < 4; ++c) {
        const double pivot = a[c][c];
        for (int k = 0; k < 8; ++k)
            a[c][k] /= pivot;
        for (int r = 0; r < 4; ++r)
            if (r != c) {
                const double m = a[r][c];
                for (int k = 0; k < 8; ++k)
                    a[r][k] -= m * a[c][k];
            }
    }
    std::array<double, 4> se{};
    for (int i = 0; i < 4; ++i)
        se[i] = p[i] * std::sqrt(a[i][4 + i]);
    return se;
}
}  // namespace

TEST(BtydUncertainty, StandardErrorsMatchAHessianOfLikelihoodValues) {
    LOAD_CDNOW_OR_SKIP(data);
    const auto* rows = data.customers.data();
    const std::size_t n = data.customers.size();
    const BgnbdModel bg = fit_bgnbd(rows, n);
    const auto bg_se = standard_errors_by_values(
        [&](const std::array<double, 4>& q) {
            return bgnbd_log_likelihood(BgnbdModel{q[0], q[1], q[2], q[3]}, rows, n);
        },
        {bg.r, bg.alpha, bg.a, bg.b});
    const double bp[] = {bg.r, bg.alpha, bg.a, bg.b};
    for (int i = 0; i < 4; ++i)
        EXPECT_NEAR(parameter_standard_error(bg.covariance, i, bp[i]), bg_se[i], 1e-5 * bg_se[i]) << i;
    const ParetoNbdModel pn = fit_pareto_nbd(rows, n);
    const auto pn_se = standard_errors_by_values(
        [&](const std::array<double, 4>& q) {
            return pareto_nbd_log_likelihood(ParetoNbdModel{q[0], q[1], q[2], q[3]}, rows, n);
        },
        {pn.r, pn.alpha, pn.s, pn.beta});
    const double pp[] = {pn.r, pn.alpha, pn.s, pn.beta};
    for (int i = 0; i < 4; ++i)
        EXPECT_NEAR(parameter_standard_error(pn.covariance, i, pp[i]), pn_se[i], 1e-5 * pn_se[i]) << i;
}
