#include "kmeans.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <random>
#include <set>

using namespace customer_analytics;
using namespace customer_analytics_test;

namespace {

// A sample through kmeans_fit's serialized state and back.
KMeansSample sample_through_state(const KMeansSample& sample) {
    const auto bytes = customer_analytics_test::bytes_of([&](StateWriter& w) {
        write_kmeans_state(w, KMeansParams{}, static_cast<uint32_t>(sample.d()), sample.data().data(),
                           static_cast<uint32_t>(sample.data().size()));
    });
    customer_analytics_test::TestArena arena;
    KMeansParams params;
    uint32_t d = 0;
    FlatArray<double> values;
    read_kmeans_state(arena, bytes.data(), bytes.size(), &params, &d, &values);
    KMeansSample out;
    for (uint32_t i = 0; d != 0 && i < values.size; i += d)
        out.add(values.data + i, d);
    return out;
}

double normal(std::mt19937_64& g) {
    const double u1 = 1.0 - unit(g), u2 = unit(g);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

struct Blobs {
    std::vector<double> data;
    std::vector<int> truth;
    std::vector<double> centers;
};

// k well-separated Gaussian blobs in d dimensions (centres on a grid 50
// apart, unit noise), features on very different scales.
Blobs make_blobs(std::size_t n, std::size_t d, int k, uint64_t seed) {
    std::mt19937_64 g(seed);
    Blobs b;
    b.centers.resize(static_cast<std::size_t>(k) * d);
    for (int c = 0; c < k; ++c)
        for (std::size_t j = 0; j < d; ++j)
            b.centers[c * d + j] = 50.0 * ((c >> (j % 3)) & 1) + (j == 0 ? 50.0 * c : 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        const int c = static_cast<int>(g() % static_cast<uint64_t>(k));
        b.truth.push_back(c);
        for (std::size_t j = 0; j < d; ++j)
            b.data.push_back((b.centers[c * d + j] + normal(g)) * std::pow(10.0, static_cast<double>(j)));
    }
    return b;
}

// True when the fitted labels are a relabelling of the true ones.
bool same_partition(const std::vector<int>& truth, const std::vector<int64_t>& fitted) {
    std::map<int, int64_t> fwd;
    std::map<int64_t, int> back;
    for (std::size_t i = 0; i < truth.size(); ++i) {
        auto f = fwd.emplace(truth[i], fitted[i]).first;
        auto b = back.emplace(fitted[i], truth[i]).first;
        if (f->second != fitted[i] || b->second != truth[i])
            return false;
    }
    return true;
}

std::vector<int64_t> labels_of(const KMeansModel& m, const std::vector<double>& data) {
    const auto d = static_cast<std::size_t>(m.d);
    std::vector<int64_t> out;
    for (std::size_t i = 0; i < data.size() / d; ++i)
        out.push_back(m.assign(data.data() + i * d, d));
    return out;
}

}  // namespace

TEST(KMeans, HandComputed) {
    // 1-D points 0, 1, 10, 11: centroids 0.5 and 10.5.
    const std::vector<double> x{10, 0, 11, 1};
    KMeansParams p;
    p.k = 2;
    auto m = kmeans_fit(x, 1, p);
    EXPECT_EQ(m.k, 2);
    EXPECT_EQ(m.d, 1);
    EXPECT_EQ(m.n, 4);
    ASSERT_EQ(m.centroids.size(), 2u);
    // equal sizes: numbered by standardized centroid, so the low cluster is 0
    EXPECT_NEAR(m.centroids[0], 0.5, 1e-12);  // standardized centroid * scale + mean
    EXPECT_NEAR(m.centroids[1], 10.5, 1e-12);
    EXPECT_EQ(m.sizes, (std::vector<int64_t>{2, 2}));
    EXPECT_DOUBLE_EQ(m.feature_means[0], 5.5);
    EXPECT_DOUBLE_EQ(m.feature_scales[0], std::sqrt(25.25));
    EXPECT_NEAR(m.wcss, 1.0 / 25.25, 1e-15);  // 4 * (0.5 / sd)^2
    EXPECT_NEAR(m.centroids_standardized[0], (0.5 - 5.5) / std::sqrt(25.25), 1e-15);
    EXPECT_TRUE(m.converged);
    EXPECT_EQ(m.assign({3.0}), 0);
    EXPECT_EQ(m.assign({7.0}), 1);
    EXPECT_EQ(m.assign({5.5}), 0);  // exact tie -> lowest index
    // silhouette by hand: points 0 and 11: (10.5-1)/10.5; points 1 and 10: (9.5-1)/9.5
    const double expect = ((10.5 - 1) / 10.5 + (9.5 - 1) / 9.5) / 2;
    EXPECT_NEAR(*silhouette(x.data(), 4, 1, m), expect, 1e-12);
}

TEST(KMeans, RecoversSeparatedClustersExactly) {
    for (int k : {2, 3, 5}) {
        for (std::size_t d : {2u, 3u}) {
            Blobs b = make_blobs(1500, d, k, 100 + k * 10 + d);
            KMeansParams p;
            p.k = k;
            auto m = kmeans_fit(b.data, d, p);
            EXPECT_TRUE(m.converged);
            EXPECT_TRUE(same_partition(b.truth, labels_of(m, b.data))) << "k=" << k << " d=" << d;
            // centroids in original units close to the generating centres
            for (int64_t c = 0; c < m.k; ++c) {
                double best = std::numeric_limits<double>::infinity();
                for (int t = 0; t < k; ++t) {
                    double s = 0;
                    for (std::size_t j = 0; j < d; ++j) {
                        const double scale = std::pow(10.0, static_cast<double>(j));
                        const double diff = (m.centroids[c * d + j] - b.centers[t * d + j] * scale) / scale;
                        s += diff * diff;
                    }
                    best = std::min(best, s);
                }
                EXPECT_LT(best, 0.25);
            }
            // sizes are sorted decreasingly and add up
            int64_t total = 0;
            for (int64_t c = 0; c < m.k; ++c) {
                total += m.sizes[c];
                if (c > 0) {
                    EXPECT_GE(m.sizes[c - 1], m.sizes[c]);
                }
            }
            EXPECT_EQ(total, 1500);
        }
    }
}

TEST(KMeans, DeterministicAndOrderInvariant) {
    Blobs b = make_blobs(800, 3, 4, 7);
    KMeansParams p;
    p.k = 4;
    const auto s1 = kmeans_fit(b.data, 3, p).serialize();
    const auto s2 = kmeans_fit(b.data, 3, p).serialize();
    EXPECT_EQ(s1, s2);
    // reversed row order gives the same model bit for bit
    std::vector<double> rev;
    for (std::size_t i = 800; i-- > 0;)
        rev.insert(rev.end(), b.data.begin() + i * 3, b.data.begin() + i * 3 + 3);
    EXPECT_EQ(kmeans_fit(rev, 3, p).serialize(), s1);
    // merged partial states give the same model as one pass
    KMeansSample all, x, y;
    std::mt19937_64 g(1);
    for (std::size_t i = 0; i < 800; ++i) {
        all.add(b.data.data() + i * 3, 3);
        (g() % 2 ? x : y).add(b.data.data() + i * 3, 3);
    }
    KMeansSample merged = sample_through_state(x);
    merged.merge(sample_through_state(y));
    EXPECT_EQ(merged.n(), 800u);
    EXPECT_EQ(merged.fit(p).serialize(), s1);
    EXPECT_EQ(all.fit(p).serialize(), s1);
}

TEST(KMeans, RestartsKeepLowestWcss) {
    // weakly clustered data: every restart is a local optimum; the kept one is the best
    std::mt19937_64 g(42);
    std::vector<double> x;
    for (int i = 0; i < 600; ++i) {
        x.push_back(unit(g));
        x.push_back(unit(g));
    }
    KMeansParams p;
    p.k = 6;
    double best_single = std::numeric_limits<double>::infinity();
    for (int r = 0; r < 5; ++r) {
        KMeansParams one = p;
        one.n_init = 1;
        one.seed = p.seed + static_cast<uint64_t>(r);  // restart r of the multi-start fit
        best_single = std::min(best_single, kmeans_fit(x, 2, one).wcss);
    }
    p.n_init = 5;
    auto m = kmeans_fit(x, 2, p);
    EXPECT_EQ(m.wcss, best_single);
    EXPECT_GE(m.best_init, 0);
    EXPECT_LT(m.best_init, 5);
    // WCSS recomputed from the assignment
    double w = 0;
    auto lab = labels_of(m, x);
    for (std::size_t i = 0; i < 600; ++i)
        for (std::size_t j = 0; j < 2; ++j) {
            const double z = (x[i * 2 + j] - m.feature_means[j]) / m.feature_scales[j];
            const double t = z - m.centroids_standardized[static_cast<std::size_t>(lab[i]) * 2 + j];
            w += t * t;
        }
    EXPECT_NEAR(m.wcss, w, 1e-9 * w);
    // centroids are the means of their points (Lloyd fixed point)
    for (int64_t c = 0; c < m.k; ++c) {
        double s0 = 0, s1 = 0;
        int64_t cnt = 0;
        for (std::size_t i = 0; i < 600; ++i)
            if (lab[i] == c) {
                s0 += x[i * 2];
                s1 += x[i * 2 + 1];
                ++cnt;
            }
        EXPECT_EQ(cnt, m.sizes[c]);
        EXPECT_NEAR(m.centroids[c * 2], s0 / cnt, 1e-9);
        EXPECT_NEAR(m.centroids[c * 2 + 1], s1 / cnt, 1e-9);
    }
}

TEST(KMeans, StandardizationAndEdgeCases) {
    // k = 1: centroid = mean, WCSS = n per non-constant feature; constant feature scale 1
    std::vector<double> x{1, 7, 2, 7, 3, 7, 4, 7};
    KMeansParams p;
    p.k = 1;
    auto m = kmeans_fit(x, 2, p);
    EXPECT_DOUBLE_EQ(m.centroids[0], 2.5);
    EXPECT_DOUBLE_EQ(m.centroids[1], 7);
    EXPECT_DOUBLE_EQ(m.feature_scales[1], 1);
    EXPECT_DOUBLE_EQ(m.feature_means[1], 7);
    EXPECT_NEAR(m.wcss, 4.0, 1e-12);
    EXPECT_EQ(m.assign({100, -100}), 0);
    // k = n: every point its own cluster
    p.k = 4;
    m = kmeans_fit(x, 2, p);
    EXPECT_EQ(m.wcss, 0);
    EXPECT_EQ(m.sizes, (std::vector<int64_t>{1, 1, 1, 1}));
    // a single point
    p.k = 1;
    m = kmeans_fit(std::vector<double>{3, 4}, 2, p);
    EXPECT_EQ(m.sizes[0], 1);
    EXPECT_DOUBLE_EQ(m.centroids[0], 3);
    EXPECT_DOUBLE_EQ(m.feature_scales[0], 1);
    // standardize = false: means 0, scales 1; distances in raw units
    std::vector<double> y{0, 0, 0, 1000, 1, 0, 1, 1000};  // (x small, y huge)
    p.k = 2;
    p.standardize = false;
    m = kmeans_fit(y, 2, p);
    EXPECT_EQ(m.feature_means, (std::vector<double>{0, 0}));
    EXPECT_EQ(m.feature_scales, (std::vector<double>{1, 1}));
    EXPECT_DOUBLE_EQ(m.centroids[1], 0);  // split on the huge feature
    EXPECT_DOUBLE_EQ(m.centroids[3], 1000);
    p.standardize = true;
    m = kmeans_fit(y, 2, p);
    EXPECT_NEAR(m.wcss, 4.0, 1e-12);  // both features equally important: either split costs 4
    // scale invariance of the standardized fit
    Blobs b = make_blobs(500, 2, 3, 9);
    std::vector<double> scaled = b.data;
    for (std::size_t i = 0; i < scaled.size(); i += 2)
        scaled[i] = scaled[i] * 1e6 + 12345;
    p.k = 3;
    auto m1 = kmeans_fit(b.data, 2, p), m2 = kmeans_fit(scaled, 2, p);
    EXPECT_EQ(labels_of(m1, b.data), labels_of(m2, scaled));
    EXPECT_NEAR(m1.wcss, m2.wcss, 1e-9);
}

TEST(KMeans, TiesGoToLowestIndex) {
    // two clusters mirrored around 0; the midpoint is equidistant
    std::vector<double> x{-2, -1, 1, 2};
    KMeansParams p;
    p.k = 2;
    auto m = kmeans_fit(x, 1, p);
    EXPECT_EQ(m.assign({0.0}), 0);
    EXPECT_EQ(kmeans_assign(std::vector<double>{0.0}.data(), 1, m.centroids_standardized, m.feature_means,
                            m.feature_scales),
              0);
    // kmeans_assign agrees with the model everywhere
    std::mt19937_64 g(3);
    for (int i = 0; i < 200; ++i) {
        const double v = unit(g) * 8 - 4;
        EXPECT_EQ(kmeans_assign(&v, 1, m.centroids_standardized, m.feature_means, m.feature_scales), m.assign(&v, 1));
    }
    // duplicated centroids in the plain-array form: first wins
    const double pt[2] = {0.3, 0.3};
    EXPECT_EQ(kmeans_assign(pt, 2, {1, 1, 1, 1, 5, 5}, {0, 0}, {1, 1}), 0);
    EXPECT_EQ(kmeans_assign(pt, 2, {5, 5, 0, 0, 0, 0}, {0, 0}, {1, 1}), 1);
    EXPECT_EQ(kmeans_assign(pt, 2, {0, 0.6, 0.6, 0}, {0, 0}, {1, 1}), 0);  // equidistant
}

TEST(KMeans, Errors) {
    const std::vector<double> x{1, 2, 3, 4, 5, 6};
    KMeansParams p;
    EXPECT_EQ(kind_of([&] { kmeans_fit(x, 2, p); }), ErrorKind::invalid_parameter_value);  // k = 0
    p.k = 4;
    EXPECT_EQ(kind_of([&] { kmeans_fit(x, 2, p); }), ErrorKind::invalid_parameter_value);  // k > n
    p.k = 1001;
    EXPECT_EQ(kind_of([&] { kmeans_fit(std::vector<double>(2000, 1.0), 1, p); }), ErrorKind::invalid_parameter_value);
    p.k = 2;
    p.max_iterations = 0;
    EXPECT_EQ(kind_of([&] { kmeans_fit(x, 2, p); }), ErrorKind::invalid_parameter_value);
    p.max_iterations = 100;
    p.n_init = 0;
    EXPECT_EQ(kind_of([&] { kmeans_fit(x, 2, p); }), ErrorKind::invalid_parameter_value);
    p.n_init = 3;
    p.tolerance = -1;
    EXPECT_EQ(kind_of([&] { kmeans_fit(x, 2, p); }), ErrorKind::invalid_parameter_value);
    p.tolerance = 0;
    EXPECT_EQ(kind_of([&] { kmeans_fit(x, 4, p); }), ErrorKind::array_subscript_error);
    EXPECT_EQ(kind_of([&] { kmeans_fit(x, 0, p); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { kmeans_fit(std::vector<double>{}, 2, p); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([&] { kmeans_fit(std::vector<double>{1, std::nan("")}, 1, p); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([&] { kmeans_fit(std::vector<double>{1, HUGE_VAL}, 1, p); }), ErrorKind::data_exception);
    // fewer distinct points than clusters
    EXPECT_EQ(kind_of([&] { kmeans_fit(std::vector<double>{5, 5, 5, 5}, 1, p); }), ErrorKind::data_exception);
    p.k = 3;
    EXPECT_EQ(kind_of([&] { kmeans_fit(std::vector<double>{5, 5, 6, 6}, 1, p); }), ErrorKind::data_exception);
    p.k = 2;
    EXPECT_EQ(kmeans_fit(std::vector<double>{5, 5, 6, 6}, 1, p).wcss, 0);
    // huge raw values without standardization
    p.standardize = false;
    EXPECT_EQ(kind_of([&] {
                  kmeans_fit(std::vector<double>{1e200, 1, 2}, 1, p);
              }),
              ErrorKind::numeric_value_out_of_range);
    // huge values with standardization are fine
    p.standardize = true;
    auto m = kmeans_fit(std::vector<double>{1e300, -1e300, 1e300, -1e300}, 1, p);
    EXPECT_TRUE(std::isfinite(m.wcss));
    EXPECT_EQ(m.sizes, (std::vector<int64_t>{2, 2}));
    // assign errors
    EXPECT_EQ(kind_of([&] { m.assign({1.0, 2.0}); }), ErrorKind::array_subscript_error);
    EXPECT_EQ(kind_of([&] { m.assign({std::nan("")}); }), ErrorKind::data_exception);
    const double pt[2] = {0, 0};
    EXPECT_EQ(kind_of([&] { kmeans_assign(pt, 2, {1, 1, 1}, {0, 0}, {1, 1}); }), ErrorKind::array_subscript_error);
    EXPECT_EQ(kind_of([&] { kmeans_assign(pt, 2, {1, 1}, {0}, {1, 1}); }), ErrorKind::array_subscript_error);
    EXPECT_EQ(kind_of([&] { kmeans_assign(pt, 2, {}, {0, 0}, {1, 1}); }), ErrorKind::array_subscript_error);
    EXPECT_EQ(kind_of([&] { kmeans_assign(pt, 2, {1, 1}, {0, 0}, {1, 0}); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] {
                  kmeans_assign(pt, 2, {1, HUGE_VAL}, {0, 0}, {1, 1});
              }),
              ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { kmeans_assign(pt, 0, {}, {}, {}); }), ErrorKind::invalid_parameter_value);
}

TEST(KMeans, HonoursInterrupts) {
    Blobs b = make_blobs(2000, 2, 3, 1);
    KMeansParams p;
    p.k = 3;
    struct Counter {
        int calls = 0;
        int limit = 0;
    } c;
    Interrupts in;
    in.context = &c;
    in.pending = [](void* ctx) {
        auto* cc = static_cast<Counter*>(ctx);
        return ++cc->calls > cc->limit;
    };
    for (int limit : {0, 3, 10}) {
        c.calls = 0;
        c.limit = limit;
        EXPECT_EQ(kind_of([&] { kmeans_fit(b.data, 2, p, in); }), ErrorKind::query_canceled);
    }
    // no interrupt pending: the fit runs and polled at least once per iteration
    c.calls = 0;
    c.limit = 1 << 30;
    auto m = kmeans_fit(b.data, 2, p, in);
    EXPECT_GE(c.calls, m.iterations);
    auto model = m;
    c.calls = 0;
    c.limit = 0;
    EXPECT_EQ(kind_of([&] { silhouette(b.data.data(), 2000, 2, model, {}, in); }), ErrorKind::query_canceled);
}

TEST(KMeans, ToleranceStopsEarly) {
    std::mt19937_64 g(8);
    std::vector<double> x;
    for (int i = 0; i < 20000; ++i) {
        x.push_back(normal(g));
        x.push_back(normal(g));
    }
    KMeansParams p;
    p.k = 5;
    p.n_init = 1;
    auto exact = kmeans_fit(x, 2, p);
    p.tolerance = 1e-3;
    auto loose = kmeans_fit(x, 2, p);
    EXPECT_TRUE(loose.converged);
    EXPECT_LE(loose.iterations, exact.iterations);
    EXPECT_NEAR(loose.wcss, exact.wcss, 0.01 * exact.wcss);
    p.tolerance = 0;
    p.max_iterations = 2;
    auto cut = kmeans_fit(x, 2, p);
    EXPECT_EQ(cut.iterations, 2);
    EXPECT_FALSE(cut.converged);
}

TEST(KMeans, SilhouettePicksTheTrueK) {
    Blobs b = make_blobs(1200, 2, 4, 77);
    double best = -2;
    int best_k = 0;
    for (int k = 2; k <= 6; ++k) {
        KMeansParams p;
        p.k = k;
        auto m = kmeans_fit(b.data, 2, p);
        const double s = *silhouette(b.data.data(), 1200, 2, m);
        EXPECT_GE(s, -1);
        EXPECT_LE(s, 1);
        if (s > best) {
            best = s;
            best_k = k;
        }
    }
    EXPECT_EQ(best_k, 4);
    EXPECT_GT(best, 0.8);
}

TEST(KMeans, SilhouetteSampled) {
    Blobs b = make_blobs(3000, 2, 3, 5);
    KMeansParams p;
    p.k = 3;
    auto m = kmeans_fit(b.data, 2, p);
    const double exact = *silhouette(b.data.data(), 3000, 2, m, SilhouetteParams{3000, 1});
    SilhouetteParams sp{600, 1};
    const double s1 = *silhouette(b.data.data(), 3000, 2, m, sp);
    EXPECT_EQ(*silhouette(b.data.data(), 3000, 2, m, sp), s1);  // deterministic
    EXPECT_NEAR(s1, exact, 0.03);
    sp.seed = 2;
    EXPECT_NEAR(*silhouette(b.data.data(), 3000, 2, m, sp), exact, 0.03);
    // errors and undefined cases
    KMeansParams one;
    one.k = 1;
    auto m1 = kmeans_fit(b.data, 2, one);
    EXPECT_EQ(kind_of([&] { silhouette(b.data.data(), 3000, 2, m1); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { silhouette(b.data.data(), 1000, 3, m); }), ErrorKind::array_subscript_error);
    EXPECT_EQ(kind_of([&] {
                  silhouette(b.data.data(), 3000, 2, m, SilhouetteParams{1, 1});
              }),
              ErrorKind::invalid_parameter_value);
    EXPECT_FALSE(silhouette(b.data.data(), 0, 2, m).has_value());
    EXPECT_FALSE(silhouette(b.data.data(), 1, 2, m).has_value());  // one point: one cluster
}

TEST(KMeans, SerializationRoundTripAndCorruption) {
    Blobs b = make_blobs(300, 3, 3, 2);
    KMeansParams p;
    p.k = 3;
    auto m = kmeans_fit(b.data, 3, p);
    const auto bytes = m.serialize();
    auto back = KMeansModel::deserialize(bytes.data(), bytes.size());
    EXPECT_EQ(back.serialize(), bytes);
    EXPECT_EQ(labels_of(back, b.data), labels_of(m, b.data));
    for (std::size_t len = 0; len < bytes.size(); len += 7)
        EXPECT_EQ(kind_of([&] { KMeansModel::deserialize(bytes.data(), len); }),
                  ErrorKind::invalid_binary_representation);
    auto extra = bytes;
    extra.push_back(1);
    EXPECT_EQ(kind_of([&] { KMeansModel::deserialize(extra.data(), extra.size()); }),
              ErrorKind::invalid_binary_representation);
    std::mt19937_64 g(4);
    for (int i = 0; i < 3000; ++i) {
        auto junk = bytes;
        junk[g() % junk.size()] ^= static_cast<uint8_t>(1u << (g() % 8));
        try {
            auto j = KMeansModel::deserialize(junk.data(), junk.size());
            j.assign(b.data.data(), 3);
        } catch (const Error& e) {
            // corrupt bytes, or a corrupt but well-formed model whose scales
            // send the point out of range
            EXPECT_TRUE(e.kind() == ErrorKind::invalid_binary_representation || e.kind() == ErrorKind::data_exception ||
                        e.kind() == ErrorKind::numeric_value_out_of_range);
        }
    }
    // sample state
    KMeansSample s;
    EXPECT_EQ(s.n(), 0u);
    s.add({1.0, 2.0});
    s.add({3.0, 4.0});
    EXPECT_EQ(sample_through_state(s).data(), s.data());
    EXPECT_EQ(sample_through_state(KMeansSample()).n(), 0u);
    EXPECT_EQ(kind_of([&] { s.add({1.0}); }), ErrorKind::array_subscript_error);
    EXPECT_EQ(kind_of([&] { s.add(std::vector<double>{}); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { s.add({1.0, std::nan("")}); }), ErrorKind::data_exception);
    EXPECT_EQ(kind_of([&] { s.add(std::vector<double>(1001, 1.0)); }), ErrorKind::invalid_parameter_value);
    KMeansSample other;
    other.add({1.0, 2.0, 3.0});
    EXPECT_EQ(kind_of([&] { s.merge(other); }), ErrorKind::array_subscript_error);
    KMeansSample self = s;
    self.merge(self);
    EXPECT_EQ(self.n(), 4u);
    KMeansSample empty;
    empty.merge(s);
    EXPECT_EQ(empty.data(), s.data());
}

// 1M points x 5 features, k = 8 (the README's performance figure). Only with
// CA_LONG_TESTS set, since the sanitized build is far slower; the default
// run fits 100k points.
TEST(KMeans, Scale) {
    const bool long_run = std::getenv("CA_LONG_TESTS") != nullptr;
    const std::size_t n = long_run ? 1000000 : 100000, d = 5;
    Blobs b = make_blobs(n, d, 8, 2024);
    KMeansParams p;
    p.k = 8;
    const auto t0 = std::chrono::steady_clock::now();
    auto m = kmeans_fit(b.data, d, p);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_TRUE(same_partition(b.truth, labels_of(m, b.data)));
    RecordProperty("fit_seconds", std::to_string(secs));
    std::printf("k-means %zu x %zu, k = 8: %.2f s, %lld iterations\n", n, d, secs,
                static_cast<long long>(m.iterations));
}

// On random data (with duplicate points), every converged fit is a Lloyd
// fixed point: each point's nearest centroid is its cluster, and each
// centroid is the mean of its cluster.
TEST(KMeans, ConvergedFitsAreLloydFixedPoints) {
    std::mt19937_64 g(31);
    for (int trial = 0; trial < 40; ++trial) {
        const std::size_t d = 1 + g() % 3, n = 20 + g() % 300;
        std::vector<double> x(n * d);
        for (auto& v : x)
            v = std::floor(unit(g) * 20);  // coarse grid: many duplicates and ties
        KMeansParams p;
        p.k = 1 + static_cast<int64_t>(g() % 6);
        p.seed = g();
        KMeansModel m;
        try {
            m = kmeans_fit(x, d, p);
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::data_exception);  // fewer distinct points than k
            continue;
        }
        if (!m.converged)
            continue;
        auto lab = labels_of(m, x);
        std::vector<int64_t> cnt(static_cast<std::size_t>(m.k), 0);
        std::vector<double> sum(static_cast<std::size_t>(m.k) * d, 0.0);
        for (std::size_t i = 0; i < n; ++i) {
            ++cnt[static_cast<std::size_t>(lab[i])];
            for (std::size_t j = 0; j < d; ++j)
                sum[static_cast<std::size_t>(lab[i]) * d + j] += x[i * d + j];
        }
        EXPECT_EQ(cnt, m.sizes) << "trial " << trial;
        for (int64_t c = 0; c < m.k; ++c)
            for (std::size_t j = 0; j < d; ++j)
                if (cnt[c] > 0) {
                    EXPECT_NEAR(m.centroids[c * d + j], sum[c * d + j] / cnt[c], 1e-9);
                }
    }
}
