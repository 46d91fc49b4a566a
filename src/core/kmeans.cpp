#include "kmeans.hpp"
#include "sort.hpp"
#include "state_format.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <string>

#include "no_postgres.hpp"

namespace customer_analytics {

namespace {

void require_param(bool ok, const char* message, const std::string& detail = {}) {
    if (!ok)
        throw Error(ErrorKind::invalid_parameter_value, message, detail);
}

uint64_t splitmix64(uint64_t x) {
    uint64_t z = x + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// Uniform double in [0, 1) from the raw 64-bit engine output; portable,
// unlike std::uniform_real_distribution.
double unit(std::mt19937_64& g) { return static_cast<double>(g() >> 11) * 0x1.0p-53; }

// Uniform integer in [0, m), m >= 1, by rejection (no modulo bias).
uint64_t below(std::mt19937_64& g, uint64_t m) {
    const uint64_t limit = std::numeric_limits<uint64_t>::max() - (std::numeric_limits<uint64_t>::max() % m + 1) % m;
    for (;;) {
        const uint64_t x = g();
        if (x <= limit)
            return x % m;
    }
}

inline double sqdist(const double* a, const double* b, std::size_t d) {
    double s = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
        const double t = a[j] - b[j];
        s += t * t;
    }
    return s;
}

constexpr std::size_t kInterruptStride = 65536;

// ---- serialization helpers ------------------------------------------------

// ---- one Lloyd run --------------------------------------------------------

struct Run {
    std::vector<double> centroids;  // k x d, standardized
    std::vector<int32_t> labels;
    long double wcss = 0;
    int64_t iterations = 0;
    bool converged = false;
};

// Lloyd's algorithm with Hamerly's bounds (an upper bound on each point's
// distance to its centroid, a lower bound on its distance to every other
// centroid). The bounds only skip work: a point is skipped when its centroid
// is certainly strictly nearer than every other one (with a relative margin
// of 1e-9 against rounding), so the assignments are those of plain Lloyd,
// ties included (lowest index), except possibly for a point whose two
// nearest centroids are equidistant to within accumulated rounding.
class Lloyd {
public:
    Lloyd(const double* z, std::size_t n, std::size_t d, std::size_t k, const Interrupts& interrupts)
        : z_(z), n_(n), d_(d), k_(k), interrupts_(interrupts), meter_(interrupts), dist2_(n), upper_(n), lower_(n),
          sums_(k * d), counts_(k), run_(d), half_gap_(k), moved_(k), lower_shift_(k) {}

    // Greedy k-means++ (Arthur & Vassilvitskii 2007, as in scikit-learn):
    // the first centre uniformly at random; each next one by drawing
    // 2 + floor(ln k) candidates with probability proportional to the
    // squared distance to the nearest centre chosen so far, and keeping the
    // candidate that lowers the total of those squared distances most (ties
    // -> the first drawn).
    std::vector<double> seed(std::mt19937_64& g) {
        std::vector<double> c(k_ * d_);
        const std::size_t first = static_cast<std::size_t>(below(g, n_));
        std::copy(z_ + first * d_, z_ + (first + 1) * d_, c.begin());
        long double total = 0;
        for (std::size_t i = 0; i < n_; ++i) {
            meter_.add(d_);
            dist2_[i] = sqdist(z_ + i * d_, c.data(), d_);
            total += dist2_[i];
        }
        const std::size_t trials = 2 + static_cast<std::size_t>(std::floor(std::log(static_cast<double>(k_))));
        std::vector<std::size_t> cand(trials);
        std::vector<long double> target(trials);
        std::vector<std::size_t> by_target(trials);
        std::vector<double> best_d2(n_), trial_d2(n_);
        for (std::size_t j = 1; j < k_; ++j) {
            interrupts_.check();
            if (!(total > 0))
                throw Error(ErrorKind::data_exception, "fewer distinct points than clusters",
                            "The fit needs at least k = " + std::to_string(k_) + " distinct points.",
                            "Use a smaller k.");
            // Draw the candidates with one scan over the cumulative sums.
            for (std::size_t t = 0; t < trials; ++t)
                target[t] = static_cast<long double>(unit(g)) * total;
            for (std::size_t t = 0; t < trials; ++t)
                by_target[t] = t;
            std::sort(by_target.begin(), by_target.end(), [&](std::size_t a, std::size_t b) {
                return target[a] < target[b] || (target[a] == target[b] && a < b);
            });
            long double cum = 0;
            std::size_t next = 0, last_positive = n_;
            for (std::size_t i = 0; i < n_ && next < trials; ++i) {
                if (dist2_[i] > 0) {
                    last_positive = i;
                    cum += dist2_[i];
                    while (next < trials && cum > target[by_target[next]])
                        cand[by_target[next++]] = i;
                }
            }
            while (next < trials)
                cand[by_target[next++]] = last_positive;  // rounding at the very end

            // Keep the candidate with the lowest resulting potential.
            long double best_total = 0;
            std::size_t best = n_;
            for (std::size_t t = 0; t < trials; ++t) {
                const double* ct = z_ + cand[t] * d_;
                long double pot = 0;
                for (std::size_t i = 0; i < n_; ++i) {
                    meter_.add(d_);
                    const double v = std::min(dist2_[i], sqdist(z_ + i * d_, ct, d_));
                    trial_d2[i] = v;
                    pot += v;
                }
                if (best == n_ || pot < best_total) {
                    best_total = pot;
                    best = cand[t];
                    best_d2.swap(trial_d2);
                }
            }
            std::copy(z_ + best * d_, z_ + (best + 1) * d_, c.begin() + static_cast<std::ptrdiff_t>(j * d_));
            dist2_.swap(best_d2);
            total = best_total;
        }
        return c;
    }

    Run run(std::vector<double> centroids, int64_t max_iterations, double tolerance) {
        Run r;
        r.centroids = std::move(centroids);
        r.labels.assign(n_, -1);
        pending_shift_ = false;
        std::vector<double> old(k_ * d_);
        bool settled = false;
        for (int64_t it = 1; it <= max_iterations; ++it) {
            interrupts_.check();
            const std::size_t changes = assign(r.centroids, r.labels, it == 1);
            r.iterations = it;
            if (changes == 0) {
                r.converged = true;
                break;
            }
            old = r.centroids;
            update(r.centroids, r.labels);
            const double shift = shift_bounds(old, r.centroids);
            if (tolerance > 0 && shift <= tolerance) {
                settled = true;
                break;
            }
        }
        if (!r.converged) {
            // Labels consistent with the final centroids.
            r.converged = assign(r.centroids, r.labels, false) == 0 || settled;
        }
        long double w = 0;
        for (std::size_t i = 0; i < n_; ++i) {
            meter_.add(d_);
            const auto l = static_cast<std::size_t>(r.labels[i]);
            w += sqdist(z_ + i * d_, r.centroids.data() + l * d_, d_);
        }
        r.wcss = w;
        return r;
    }

private:
    static constexpr double kSafe = 1.0 - 1e-9;

    // Full search for point i: nearest (ties -> lowest index) and second
    // nearest distances.
    int32_t full_search(std::size_t i, const double* c) {
        const double* zi = z_ + i * d_;
        int32_t best = 0;
        double bd = sqdist(zi, c, d_);
        double second = std::numeric_limits<double>::infinity();
        for (std::size_t j = 1; j < k_; ++j) {
            const double t = sqdist(zi, c + j * d_, d_);
            if (t < bd) {
                second = bd;
                bd = t;
                best = static_cast<int32_t>(j);
            } else if (t < second) {
                second = t;
            }
        }
        upper_[i] = std::sqrt(bd);
        lower_[i] = std::sqrt(second);
        return best;
    }

    // Nearest centroid of every point; returns the number of changed labels.
    std::size_t assign(const std::vector<double>& cv, std::vector<int32_t>& labels, bool first) {
        const double* c = cv.data();
        std::size_t changes = 0;
        const bool shift = pending_shift_;
        pending_shift_ = false;
        if (!first) {
            for (std::size_t a = 0; a < k_; ++a) {
                meter_.add(k_ * d_);
                double m = std::numeric_limits<double>::infinity();
                for (std::size_t b = 0; b < k_; ++b)
                    if (b != a)
                        m = std::min(m, sqdist(c + a * d_, c + b * d_, d_));
                half_gap_[a] = std::sqrt(m) / 2;
            }
        }
        for (std::size_t i = 0; i < n_; ++i) {
            meter_.add(d_);
            if (!first) {
                if (i + 32 < n_)
                    __builtin_prefetch(z_ + (i + 32) * d_);
                const auto a = static_cast<std::size_t>(labels[i]);
                if (shift) {
                    upper_[i] += moved_[a];
                    lower_[i] -= lower_shift_[a];
                }
                const double bound = std::max(half_gap_[a], lower_[i]) * kSafe;
                if (upper_[i] < bound)
                    continue;
                upper_[i] = std::sqrt(sqdist(z_ + i * d_, c + a * d_, d_));
                if (upper_[i] < bound)
                    continue;
            }
            meter_.add(k_ * d_);
            const int32_t best = full_search(i, c);
            if (labels[i] != best) {
                if (!first)
                    move(i, static_cast<std::size_t>(labels[i]), static_cast<std::size_t>(best));
                labels[i] = best;
                ++changes;
            }
        }
        if (first)
            recount(labels);
        return changes;
    }

    // Cluster sums and counts from scratch.
    void recount(const std::vector<int32_t>& labels) {
        std::fill(sums_.begin(), sums_.end(), 0.0);
        std::fill(counts_.begin(), counts_.end(), 0);
        // Points of one cluster tend to come in runs (the rows are sorted):
        // sum each run locally, then add it to the cluster's total.
        std::fill(run_.begin(), run_.end(), 0.0);
        std::size_t run_label = n_ == 0 ? 0 : static_cast<std::size_t>(labels[0]);
        for (std::size_t i = 0; i < n_; ++i) {
            meter_.add(d_);
            const auto l = static_cast<std::size_t>(labels[i]);
            if (l != run_label) {
                double* s = sums_.data() + run_label * d_;
                for (std::size_t j = 0; j < d_; ++j) {
                    s[j] += run_[j];
                    run_[j] = 0.0;
                }
                run_label = l;
            }
            ++counts_[l];
            const double* zi = z_ + i * d_;
            for (std::size_t j = 0; j < d_; ++j)
                run_[j] += zi[j];
        }
        if (n_ != 0) {
            double* s = sums_.data() + run_label * d_;
            for (std::size_t j = 0; j < d_; ++j)
                s[j] += run_[j];
        }
    }

    // Point i leaves cluster `from` for cluster `to`: keep sums and counts
    // current without a pass over all points.
    void move(std::size_t i, std::size_t from, std::size_t to) {
        const double* zi = z_ + i * d_;
        double* sf = sums_.data() + from * d_;
        double* st = sums_.data() + to * d_;
        if (--counts_[from] == 0) {
            std::fill(sf, sf + d_, 0.0);
        } else {
            for (std::size_t j = 0; j < d_; ++j)
                sf[j] -= zi[j];
        }
        if (counts_[to]++ == 0) {
            std::copy(zi, zi + d_, st);
        } else {
            for (std::size_t j = 0; j < d_; ++j)
                st[j] += zi[j];
        }
    }

    // Centroids = means of the current clusters (sums and counts are kept
    // current by assign()).
    void update(std::vector<double>& c, std::vector<int32_t>& labels) {
        bool any_empty = false;
        for (std::size_t l = 0; l < k_; ++l) {
            if (counts_[l] == 0) {
                any_empty = true;
                continue;
            }
            const double cnt = static_cast<double>(counts_[l]);
            for (std::size_t j = 0; j < d_; ++j)
                c[l * d_ + j] = sums_[l * d_ + j] / cnt;
        }
        if (!any_empty)
            return;
        // Re-seed each empty cluster with the point farthest from its
        // (updated) centroid, ties -> lowest index, taken from a cluster with
        // more than one point.
        for (std::size_t i = 0; i < n_; ++i) {
            meter_.add(d_);
            dist2_[i] = sqdist(z_ + i * d_, c.data() + static_cast<std::size_t>(labels[i]) * d_, d_);
        }
        for (std::size_t l = 0; l < k_; ++l) {
            if (counts_[l] != 0)
                continue;
            std::size_t pick = n_;
            double far = -1.0;
            meter_.add(n_);
            for (std::size_t i = 0; i < n_; ++i) {
                if (counts_[static_cast<std::size_t>(labels[i])] > 1 && dist2_[i] > far) {
                    far = dist2_[i];
                    pick = i;
                }
            }
            if (pick == n_)
                break;
            move(pick, static_cast<std::size_t>(labels[pick]), l);
            labels[pick] = static_cast<int32_t>(l);
            dist2_[pick] = 0.0;
            upper_[pick] = 0.0;
            lower_[pick] = 0.0;  // forces a full search next time
            std::copy(z_ + pick * d_, z_ + (pick + 1) * d_, c.begin() + static_cast<std::ptrdiff_t>(l * d_));
        }
    }

    // Centroids moved: loosen the bounds by how far they moved. Returns the
    // sum of the squared moves.
    double shift_bounds(const std::vector<double>& old, const std::vector<double>& c) {
        std::size_t top = 0;
        double shift = 0.0;
        for (std::size_t j = 0; j < k_; ++j) {
            const double s2 = sqdist(old.data() + j * d_, c.data() + j * d_, d_);
            shift += s2;
            moved_[j] = std::sqrt(s2) / kSafe;
            if (moved_[j] > moved_[top])
                top = j;
        }
        double runner_up = 0.0;
        for (std::size_t j = 0; j < k_; ++j)
            if (j != top)
                runner_up = std::max(runner_up, moved_[j]);
        // The per-point bounds are loosened lazily by the next assign().
        for (std::size_t j = 0; j < k_; ++j)
            lower_shift_[j] = (j == top) ? runner_up : moved_[top];
        pending_shift_ = true;
        return shift;
    }

    const double* z_;
    std::size_t n_, d_, k_;
    const Interrupts& interrupts_;  // polled once per iteration, and
    InterruptMeter meter_;          // within iterations by their work
    std::vector<double> dist2_;
    std::vector<double> upper_, lower_;
    std::vector<double> sums_;
    std::vector<int64_t> counts_;
    std::vector<double> run_;
    std::vector<double> half_gap_, moved_, lower_shift_;
    bool pending_shift_ = false;
};

void validate_params(const KMeansParams& p, std::size_t n) {
    require_param(p.k >= 1, "k must be at least 1");
    require_param(p.k <= kKMeansMaxClusters, "k must be at most 1000");
    require_param(static_cast<uint64_t>(p.k) <= n, "k must not exceed the number of points",
                  "There are " + std::to_string(n) + " points, fewer than k = " + std::to_string(p.k) + ".");
    require_param(p.max_iterations >= 1 && p.max_iterations <= 10000, "max_iterations must be between 1 and 10000");
    require_param(p.n_init >= 1 && p.n_init <= 100, "n_init must be between 1 and 100");
    require_param(std::isfinite(p.tolerance) && p.tolerance >= 0, "tolerance must be a finite non-negative number");
}

// Row indices in lexicographic order of the rows, so that results do not
// depend on the order in which the points arrived (identical rows are
// interchangeable, so the order among them does not matter).
std::vector<std::size_t> lexicographic_order(const double* data, std::size_t n, std::size_t d,
                                             const Interrupts& interrupts) {
    std::vector<std::size_t> idx(n);
    std::iota(idx.begin(), idx.end(), 0);
    sort_interruptible(
        idx.data(), idx.data() + n,
        [&](std::size_t a, std::size_t b) {
            const double* x = data + a * d;
            const double* y = data + b * d;
            for (std::size_t j = 0; j < d; ++j)
                if (x[j] != y[j])
                    return x[j] < y[j];
            return false;
        },
        interrupts, d);
    return idx;
}

int64_t nearest(const double* z, std::size_t d, const double* centroids, std::size_t k) {
    int64_t best = 0;
    double bd = sqdist(z, centroids, d);
    for (std::size_t j = 1; j < k; ++j) {
        const double t = sqdist(z, centroids + j * d, d);
        if (t < bd) {
            bd = t;
            best = static_cast<int64_t>(j);
        }
    }
    return best;
}

int64_t assign_standardized(const double* point, std::size_t d, const double* centroids_std, std::size_t k,
                            const double* means, const double* scales) {
    double buf[64];
    std::vector<double> heap;
    double* z = buf;
    if (d > 64) {
        heap.resize(d);
        z = heap.data();
    }
    for (std::size_t j = 0; j < d; ++j) {
        if (!std::isfinite(point[j]))
            throw Error(ErrorKind::data_exception, "point coordinates must be finite numbers");
        z[j] = (point[j] - means[j]) / scales[j];
        if (!std::isfinite(z[j]))
            throw Error(ErrorKind::numeric_value_out_of_range, "point is too far from the model's data");
    }
    return nearest(z, d, centroids_std, k);
}

}  // namespace

// ---------------------------------------------------------------------------
// Fit
// ---------------------------------------------------------------------------

KMeansModel kmeans_fit(const std::vector<double>& data, std::size_t d, const KMeansParams& params,
                       const Interrupts& interrupts) {
    if (d == 0 || d > kKMeansMaxFeatures)
        throw Error(ErrorKind::invalid_parameter_value, "number of features must be between 1 and 1000");
    if (data.size() % d != 0)
        throw Error(ErrorKind::array_subscript_error, "data length is not a multiple of the number of features");
    return kmeans_fit(data.data(), data.size() / d, d, params, interrupts);
}

KMeansModel kmeans_fit(const double* data, std::size_t n, std::size_t d, const KMeansParams& params,
                       const Interrupts& interrupts) {
    if (d == 0 || d > kKMeansMaxFeatures)
        throw Error(ErrorKind::invalid_parameter_value, "number of features must be between 1 and 1000");
    if (n == 0)
        throw Error(ErrorKind::data_exception, "k-means needs at least one point");
    if (data == nullptr)
        throw Error(ErrorKind::invalid_parameter_value, "k-means data is missing");
    validate_params(params, n);
    const std::size_t k = static_cast<std::size_t>(params.k);

    if (n > kKMeansMaxPoints || n * d > kKMeansMaxValues)
        throw Error(ErrorKind::program_limit_exceeded, "too many points for k-means",
                    "The limits are " + std::to_string(kKMeansMaxPoints) + " points and " +
                        std::to_string(kKMeansMaxValues) + " feature values.",
                    "Fit on a sample.");
    InterruptMeter meter(interrupts);
    for (std::size_t i = 0; i < n; ++i) {
        meter.add(d);
        for (std::size_t j = 0; j < d; ++j)
            if (!std::isfinite(data[i * d + j]))
                throw Error(ErrorKind::data_exception, "k-means features must be finite numbers");
    }
    const std::vector<std::size_t> order_in = lexicographic_order(data, n, d, interrupts);
    auto x = [&](std::size_t i, std::size_t j) { return data[order_in[i] * d + j]; };

    // Standardize.
    std::vector<double> means(d, 0.0), scales(d, 1.0);
    if (params.standardize) {
        for (std::size_t j = 0; j < d; ++j) {
            interrupts.check();
            long double s = 0;
            double lo = x(0, j), hi = x(0, j);
            for (std::size_t i = 0; i < n; ++i) {
                meter.add(2);
                const double v = x(i, j);
                s += v;
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
            const long double mean = s / static_cast<long double>(n);
            means[j] = static_cast<double>(mean);
            if (lo == hi) {
                means[j] = lo;
                scales[j] = 1.0;
                continue;
            }
            long double ss = 0;
            for (std::size_t i = 0; i < n; ++i) {
                meter.add(2);
                const long double t = static_cast<long double>(x(i, j)) - mean;
                ss += t * t;
            }
            const double sd = static_cast<double>(std::sqrt(ss / static_cast<long double>(n)));
            scales[j] = (std::isfinite(sd) && sd > 0.0) ? sd : 1.0;
        }
    } else {
        for (std::size_t i = 0; i < n * d; ++i)
            if (std::fabs(data[i]) > 1e100)
                throw Error(ErrorKind::numeric_value_out_of_range, "k-means feature value is too large",
                            "Without standardization every feature value must lie within +-1e100.",
                            "Standardize the features.");
    }
    std::vector<double> z(n * d);
    for (std::size_t i = 0; i < n; ++i) {
        meter.add(d);
        for (std::size_t j = 0; j < d; ++j)
            z[i * d + j] = (x(i, j) - means[j]) / scales[j];
    }

    Lloyd lloyd(z.data(), n, d, k, interrupts);
    Run best;
    int64_t best_init = -1;
    for (int64_t r = 0; r < params.n_init; ++r) {
        std::mt19937_64 g(splitmix64(params.seed + static_cast<uint64_t>(r)));
        Run run = lloyd.run(lloyd.seed(g), params.max_iterations, params.tolerance);
        if (best_init < 0 || run.wcss < best.wcss) {
            best = std::move(run);
            best_init = r;
        }
    }

    // Canonical numbering: decreasing size, ties by standardized centroid.
    std::vector<int64_t> sizes(k, 0);
    for (int32_t l : best.labels)
        ++sizes[static_cast<std::size_t>(l)];
    std::vector<std::size_t> order(k);
    std::iota(order.begin(), order.end(), 0);
    const double* bc = best.centroids.data();
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (sizes[a] != sizes[b])
            return sizes[a] > sizes[b];
        for (std::size_t j = 0; j < d; ++j)
            if (bc[a * d + j] != bc[b * d + j])
                return bc[a * d + j] < bc[b * d + j];
        return a < b;
    });

    KMeansModel m;
    m.k = params.k;
    m.d = static_cast<int64_t>(d);
    m.n = static_cast<int64_t>(n);
    m.feature_means = means;
    m.feature_scales = scales;
    m.centroids.resize(k * d);
    m.centroids_standardized.resize(k * d);
    m.sizes.resize(k);
    for (std::size_t c = 0; c < k; ++c) {
        const std::size_t from = order[c];
        m.sizes[c] = sizes[from];
        for (std::size_t j = 0; j < d; ++j) {
            const double zc = bc[from * d + j];
            m.centroids_standardized[c * d + j] = zc;
            m.centroids[c * d + j] = zc * scales[j] + means[j];
        }
    }
    m.wcss = static_cast<double>(best.wcss);
    m.iterations = best.iterations;
    m.converged = best.converged;
    m.best_init = best_init;
    return m;
}

// ---------------------------------------------------------------------------
// Assign
// ---------------------------------------------------------------------------

int64_t KMeansModel::assign(const double* point, std::size_t dims) const {
    if (k < 1 || d < 1 || centroids_standardized.size() != static_cast<std::size_t>(k * d) ||
        feature_means.size() != static_cast<std::size_t>(d) || feature_scales.size() != static_cast<std::size_t>(d))
        throw Error(ErrorKind::invalid_parameter_value, "inconsistent k-means model",
                    "The centroids, means and scales do not match k and d.");
    if (dims != static_cast<std::size_t>(d))
        throw Error(ErrorKind::array_subscript_error, "point has the wrong number of features",
                    "The model has " + std::to_string(d) + " features; the point has " + std::to_string(dims) + ".");
    return assign_standardized(point, dims, centroids_standardized.data(), static_cast<std::size_t>(k),
                               feature_means.data(), feature_scales.data());
}

int64_t kmeans_assign(const double* point, std::size_t dims, const std::vector<double>& centroids_std,
                      const std::vector<double>& means, const std::vector<double>& scales) {
    if (means.size() != dims || scales.size() != dims)
        throw Error(ErrorKind::array_subscript_error, "point, means and scales must have the same length");
    return kmeans_assign(point, dims, centroids_std.data(), centroids_std.size(), means.data(), scales.data());
}

int64_t kmeans_assign(const double* point, std::size_t dims, const double* centroids_std, std::size_t centroid_values,
                      const double* means, const double* scales) {
    if (dims == 0)
        throw Error(ErrorKind::invalid_parameter_value, "point must have at least one feature");
    if (centroid_values == 0 || centroid_values % dims != 0)
        throw Error(ErrorKind::array_subscript_error,
                    "centroid array length must be a positive multiple of the number of features");
    for (std::size_t j = 0; j < dims; ++j) {
        require_param(std::isfinite(means[j]), "feature means must be finite numbers");
        require_param(std::isfinite(scales[j]) && scales[j] > 0.0, "feature scales must be positive finite numbers");
    }
    for (std::size_t i = 0; i < centroid_values; ++i)
        require_param(std::isfinite(centroids_std[i]), "centroids must be finite numbers");
    return assign_standardized(point, dims, centroids_std, centroid_values / dims, means, scales);
}

// ---------------------------------------------------------------------------
// Silhouette
// ---------------------------------------------------------------------------

std::optional<double> silhouette(const double* data, std::size_t n, std::size_t d, const KMeansModel& model,
                                 const SilhouetteParams& p, const Interrupts& interrupts) {
    require_param(model.k >= 2, "silhouette needs at least 2 clusters");
    require_param(p.sample_size >= 2 && p.sample_size <= 100000, "sample_size must be between 2 and 100000");
    if (d != static_cast<std::size_t>(model.d))
        throw Error(ErrorKind::array_subscript_error, "data has the wrong number of features");
    if (n == 0)
        return std::nullopt;
    if (data == nullptr)
        throw Error(ErrorKind::invalid_parameter_value, "silhouette data is missing");

    // Choose the points: all, or a selection sample (Knuth's algorithm S).
    std::vector<std::size_t> idx;
    const auto m_target = static_cast<std::size_t>(p.sample_size);
    if (n <= m_target) {
        idx.resize(n);
        std::iota(idx.begin(), idx.end(), 0);
    } else {
        // Over the rows in lexicographic order, so the sample does not
        // depend on the order in which the points arrived.
        const std::vector<std::size_t> order = lexicographic_order(data, n, d, interrupts);
        std::mt19937_64 g(p.seed);
        std::size_t needed = m_target;
        idx.reserve(m_target);
        for (std::size_t i = 0; i < n && needed > 0; ++i) {
            if ((i % kInterruptStride) == 0)
                interrupts.check();
            if (unit(g) * static_cast<double>(n - i) < static_cast<double>(needed)) {
                idx.push_back(order[i]);
                --needed;
            }
        }
    }
    const std::size_t m = idx.size();
    const std::size_t k = static_cast<std::size_t>(model.k);
    std::vector<double> z(m * d);
    std::vector<std::size_t> label(m);
    std::vector<int64_t> count(k, 0);
    InterruptMeter meter(interrupts);
    for (std::size_t s = 0; s < m; ++s) {
        meter.add(k * d);
        const double* x = data + idx[s] * d;
        label[s] = static_cast<std::size_t>(model.assign(x, d));
        ++count[label[s]];
        for (std::size_t j = 0; j < d; ++j)
            z[s * d + j] = (x[j] - model.feature_means[j]) / model.feature_scales[j];
    }
    std::size_t present = 0;
    for (int64_t c : count)
        present += c > 0;
    if (present < 2)
        return std::nullopt;

    std::vector<double> sum(k);
    long double total = 0;
    for (std::size_t s = 0; s < m; ++s) {
        meter.add(m * d);
        std::fill(sum.begin(), sum.end(), 0.0);
        const double* zs = z.data() + s * d;
        for (std::size_t t = 0; t < m; ++t) {
            if (t == s)
                continue;
            sum[label[t]] += std::sqrt(sqdist(zs, z.data() + t * d, d));
        }
        const std::size_t own = label[s];
        if (count[own] <= 1)
            continue;  // s(i) = 0
        const double a = sum[own] / static_cast<double>(count[own] - 1);
        double b = std::numeric_limits<double>::infinity();
        for (std::size_t c = 0; c < k; ++c)
            if (c != own && count[c] > 0)
                b = std::min(b, sum[c] / static_cast<double>(count[c]));
        const double mx = std::max(a, b);
        if (mx > 0)
            total += (b - a) / mx;
    }
    return static_cast<double>(total / static_cast<long double>(m));
}

// ---------------------------------------------------------------------------
// Model serialization
// ---------------------------------------------------------------------------

std::vector<uint8_t> KMeansModel::serialize() const {
    auto write = [this](StateWriter& w) {
        w.header(StateKind::kmeans_model);
        w.i64(k);
        w.i64(d);
        w.i64(n);
        w.i64(iterations);
        w.i64(best_init);
        w.boolean(converged);
        w.f64(wcss);
        w.f64_array(feature_means.data(), feature_means.size());
        w.f64_array(feature_scales.data(), feature_scales.size());
        w.f64_array(centroids_standardized.data(), centroids_standardized.size());
        w.f64_array(centroids.data(), centroids.size());
        for (int64_t v : sizes)
            w.i64(v);
    };
    std::vector<uint8_t> out;
    write_state(write, [&out](std::size_t size) {
        out.resize(size);
        return out.data();
    });
    return out;
}

KMeansModel KMeansModel::deserialize(const uint8_t* data, std::size_t size) {
    StateReader r(data, size, StateKind::kmeans_model);
    KMeansModel m;
    m.k = r.i64("cluster count");
    m.d = r.i64("feature count");
    m.n = r.i64("point count");
    m.iterations = r.i64("iteration count");
    m.best_init = r.i64("best restart");
    m.converged = r.boolean("converged flag");
    m.wcss = r.finite_f64("within-cluster sum of squares");
    if (m.k < 1 || m.k > kKMeansMaxClusters || m.d < 1 || m.d > static_cast<int64_t>(kKMeansMaxFeatures) || m.n < m.k ||
        m.iterations < 0 || m.best_init < 0 || m.wcss < 0)
        r.fail("A count or the within-cluster sum of squares is out of range.");
    const auto k = static_cast<std::size_t>(m.k), d = static_cast<std::size_t>(m.d);
    if (r.remaining() < 8 * (2 * d + 2 * k * d + k))
        r.fail("The state is shorter than its cluster and feature counts need.");
    m.feature_means.resize(d);
    m.feature_scales.resize(d);
    m.centroids_standardized.resize(k * d);
    m.centroids.resize(k * d);
    m.sizes.resize(k);
    r.finite_f64_array(m.feature_means.data(), d, "feature mean");
    r.finite_f64_array(m.feature_scales.data(), d, "feature scale");
    for (double v : m.feature_scales)
        if (!(v > 0))
            r.fail("A feature scale is not positive.");
    r.finite_f64_array(m.centroids_standardized.data(), k * d, "standardized centroid");
    r.finite_f64_array(m.centroids.data(), k * d, "centroid");
    int64_t total = 0;
    for (auto& v : m.sizes) {
        v = r.i64("cluster size");
        if (v < 0 || v > m.n)
            r.fail("A cluster size is out of range.");
        total += v;
    }
    if (total != m.n)
        r.fail("The cluster sizes do not add up to the point count.");
    r.finish();
    return m;
}

// ---------------------------------------------------------------------------
// kmeans_fit's aggregate state
// ---------------------------------------------------------------------------

void write_kmeans_state(StateWriter& w, const KMeansParams& p, uint32_t d, const double* values, uint32_t value_count) {
    w.header(StateKind::kmeans_fit);
    w.i64(p.k);
    w.i64(p.max_iterations);
    w.i64(p.n_init);
    w.u64(p.seed);
    w.boolean(p.standardize);
    w.f64(p.tolerance);
    w.u32(d);
    w.u32(value_count);
    w.f64_array(values, value_count);
}

void read_kmeans_state(const Arena& arena, const uint8_t* data, std::size_t size, KMeansParams* params, uint32_t* d,
                       FlatArray<double>* values) {
    StateReader r(data, size, StateKind::kmeans_fit);
    KMeansParams p;
    p.k = r.i64("cluster count");
    p.max_iterations = r.i64("iteration limit");
    p.n_init = r.i64("restart count");
    p.seed = r.u64("seed");
    p.standardize = r.boolean("standardize flag");
    p.tolerance = r.f64("tolerance");
    const uint32_t features = r.u32("feature count");
    if (features > kKMeansMaxFeatures)
        r.fail("The feature count is above 1000.");
    const uint32_t count = r.count("value count", sizeof(double));
    if (features == 0 ? count != 0 : count % features != 0)
        r.fail("The values do not make whole rows of the feature count.");
    FlatArray<double> v;
    v.reserve(arena, count);
    r.finite_f64_array(v.data, count, "feature value");
    v.size = count;
    r.finish();
    *params = p;
    *d = features;
    *values = v;
}

// ---------------------------------------------------------------------------
// KMeansSample
// ---------------------------------------------------------------------------

void KMeansSample::add(const double* row, std::size_t dims) {
    if (dims == 0)
        throw Error(ErrorKind::invalid_parameter_value, "feature array must not be empty");
    if (dims > kKMeansMaxFeatures)
        throw Error(ErrorKind::invalid_parameter_value, "too many features", "The limit is 1000 features.");
    if (d_ != 0 && dims != d_)
        throw Error(ErrorKind::array_subscript_error, "feature arrays must all have the same length",
                    "Expected " + std::to_string(d_) + " features, got " + std::to_string(dims) + ".");
    for (std::size_t j = 0; j < dims; ++j)
        if (!std::isfinite(row[j]))
            throw Error(ErrorKind::data_exception, "k-means features must be finite numbers");
    if (n_ + 1 > kKMeansMaxPoints || (n_ + 1) * dims > kKMeansMaxValues)
        throw Error(ErrorKind::program_limit_exceeded, "too many points for k-means",
                    "The limits are " + std::to_string(kKMeansMaxPoints) + " points and " +
                        std::to_string(kKMeansMaxValues) + " feature values.",
                    "Fit on a sample.");
    d_ = dims;
    data_.insert(data_.end(), row, row + dims);
    ++n_;
}

void KMeansSample::merge(const KMeansSample& o) {
    if (o.n_ == 0)
        return;
    if (n_ == 0) {
        *this = o;
        return;
    }
    if (o.d_ != d_)
        throw Error(ErrorKind::array_subscript_error, "feature arrays must all have the same length");
    if (&o == this) {
        const std::size_t len = data_.size();
        data_.reserve(2 * len);
        for (std::size_t i = 0; i < len; ++i)
            data_.push_back(data_[i]);
        n_ *= 2;
        return;
    }
    data_.insert(data_.end(), o.data_.begin(), o.data_.end());
    n_ += o.n_;
}

}  // namespace customer_analytics
