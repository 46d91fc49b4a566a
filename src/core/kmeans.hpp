// k-means clustering of customers on a few numeric features.
//
// Fit: n points x d features (row-major doubles), k clusters. Features are
// standardized (z-scores) by default; seeding is greedy k-means++ (each new
// centre is the best of 2 + floor(ln k) candidates drawn with probability
// proportional to the squared distance to the nearest centre so far, as in
// scikit-learn) from a fixed seed; Lloyd iterations (exact, accelerated
// with Hamerly's distance bounds) run until no assignment changes (or
// max_iterations); n_init deterministic restarts keep the lowest
// within-cluster sum of squares. Uniform draws come from the raw
// mt19937_64 output, never from std distributions, so the same inputs and
// parameters give the same model on every platform (bit for bit on one
// platform; long double sums may round differently elsewhere). The model
// does not depend on the order of the points (they are put in
// lexicographic order first), so a parallel or merged aggregate gives the
// same model as a serial one.
//
// KMeansSample is the mergeable aggregate state (it keeps every point);
// kmeans_fit() fits a KMeansModel; KMeansModel::assign() / kmeans_assign()
// give a point's nearest centroid; silhouette() helps choose k.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "arena.hpp"
#include "error.hpp"

namespace customer_analytics {

class StateWriter;

// Limits: d in 1..kMaxFeatures, k in 1..kMaxClusters and k <= n; at most
// kKMeansMaxPoints points and kKMeansMaxValues feature values (n x d), so
// that a fit needs at most about 16 n d + 60 n bytes (1.4 GB) besides its
// input (program_limit_exceeded beyond).
constexpr std::size_t kKMeansMaxFeatures = 1000;
constexpr int64_t kKMeansMaxClusters = 1000;
constexpr std::size_t kKMeansMaxPoints = 10000000;
constexpr std::size_t kKMeansMaxValues = 50000000;

struct KMeansParams {
    int64_t k = 0;                 // number of clusters, required: 1 <= k <= min(n, 1000)
    int64_t max_iterations = 100;  // Lloyd iterations per restart, 1..10000
    int64_t n_init = 3;            // restarts, 1..100; the lowest WCSS wins, ties -> earliest restart
    uint64_t seed = 42;            // restart r uses mt19937_64(splitmix64(seed + r)), splitmix64(x) =
                                   // the SplitMix64 finalizer of x + 0x9e3779b97f4a7c15
    bool standardize = true;       // z-score the features; false -> means 0, scales 1
    // 0 (default): a restart stops when an iteration changes no assignment
    // (or at max_iterations). > 0: it also stops, as converged, when the
    // centroids moved by at most this much in an iteration (sum over the
    // centroids of the squared move, in standardized units); 1e-4 is a
    // common choice that saves many slow final iterations on large,
    // weakly clustered data.
    double tolerance = 0.0;
};

// Standardization: mean = arithmetic mean of the feature; scale = its
// population standard deviation (divide by n). A constant feature (min ==
// max) gets scale 1, so its standardized value is 0 for every point and it
// plays no part in the distances. Distances are squared Euclidean in
// standardized units.
//
// Clusters are numbered by decreasing size, ties by the lexicographic order
// of their standardized centroids, so the numbering does not depend on the
// random seeding.
struct KMeansModel {
    int64_t k = 0;
    int64_t d = 0;
    int64_t n = 0;                               // points fitted
    std::vector<double> feature_means;           // d
    std::vector<double> feature_scales;          // d, all > 0
    std::vector<double> centroids;               // k x d, original units (= standardized * scale + mean)
    std::vector<double> centroids_standardized;  // k x d
    std::vector<int64_t> sizes;                  // k, points per cluster
    double wcss = 0.0;                           // within-cluster sum of squares, standardized units
    int64_t iterations = 0;                      // Lloyd iterations (assignment passes) of the kept
                                                 // restart, including the final pass that changed nothing
    bool converged = false;                      // the kept restart ended with no assignment change
                                                 // (or within tolerance)
    int64_t best_init = 0;                       // 0-based index of the kept restart

    // Nearest centroid of a point given in original units: the point is
    // standardized with the model's means and scales and compared with the
    // standardized centroids. Ties -> lowest cluster index. d must match
    // (array_subscript_error); values must be finite (data_exception).
    int64_t assign(const double* point, std::size_t dims) const;
    int64_t assign(const std::vector<double>& point) const { return assign(point.data(), point.size()); }

    // In the state format (state_format.hpp, StateKind::kmeans_model): int64
    // k, d, n, iterations, best_init, converged, wcss, then means (d), scales
    // (d), standardized centroids (k*d), centroids (k*d) and sizes (k).
    // deserialize() validates everything and raises
    // invalid_binary_representation on truncated or corrupt input.
    std::vector<uint8_t> serialize() const;
    static KMeansModel deserialize(const uint8_t* data, std::size_t size);
};

// Nearest centroid from plain arrays (the SQL form): centroids_standardized
// is k x d row-major, means and scales have d entries each (scales > 0).
// Same rule as KMeansModel::assign. Mismatched lengths raise
// array_subscript_error; non-finite values or non-positive scales raise
// invalid_parameter_value (data_exception for the point).
int64_t kmeans_assign(const double* point, std::size_t dims, const std::vector<double>& centroids_standardized,
                      const std::vector<double>& feature_means, const std::vector<double>& feature_scales);
// The same from arrays: centroids_standardized holds centroid_values
// doubles (k x dims), means and scales `dims` each.
int64_t kmeans_assign(const double* point, std::size_t dims, const double* centroids_standardized,
                      std::size_t centroid_values, const double* feature_means, const double* feature_scales);

// Fit. data has n * d finite values (data_exception otherwise), n >= 1,
// 1 <= d <= 1000. Errors: k < 1, k > n, k > 1000 or other out-of-range
// parameters -> invalid_parameter_value; fewer than k distinct points
// (k-means++ finds every remaining point on a chosen centre) ->
// data_exception. With standardize = false every |value| must be <= 1e100
// (numeric_value_out_of_range), so that no sum of squares overflows.
// Empty clusters during Lloyd iterations are re-seeded with the point
// farthest from its centroid (ties -> lowest point index), taken from a
// cluster with more than one point. Calls interrupts.check() every
// iteration and every 65536 points.
KMeansModel kmeans_fit(const double* data, std::size_t n, std::size_t d, const KMeansParams& params,
                       const Interrupts& interrupts = {});
KMeansModel kmeans_fit(const std::vector<double>& data, std::size_t d, const KMeansParams& params,
                       const Interrupts& interrupts = {});

// Mean silhouette width of the model's clustering of `data` (Euclidean
// distances in standardized units, points assigned by model.assign).
// s(i) = (b - a) / max(a, b), where a is the mean distance from i to the
// other points of its cluster and b the smallest mean distance to another
// cluster's points; s(i) = 0 when i is alone in its cluster or a = b = 0.
// n <= sample_size: exact over all points (O(n^2 d)). Otherwise a
// deterministic simple random sample of sample_size points (selection
// sampling driven by mt19937_64(seed)) is scored among itself.
// std::nullopt when the (sampled) points fall in fewer than two clusters.
// Requires model.k >= 2 and 2 <= sample_size <= 100000
// (invalid_parameter_value).
struct SilhouetteParams {
    int64_t sample_size = 4000;
    uint64_t seed = 42;
};
std::optional<double> silhouette(const double* data, std::size_t n, std::size_t d, const KMeansModel& model,
                                 const SilhouetteParams& params = {}, const Interrupts& interrupts = {});

// Mergeable aggregate state: the points, row by row. The first row fixes d;
// a row of another length raises array_subscript_error, a non-finite value
// data_exception, an empty row or d > 1000 invalid_parameter_value.
class KMeansSample {
public:
    void add(const double* row, std::size_t dims);
    void add(const std::vector<double>& row) { add(row.data(), row.size()); }
    // Both states must have the same d (array_subscript_error) unless one is empty.
    void merge(const KMeansSample& other);

    std::size_t n() const { return n_; }
    std::size_t d() const { return d_; }
    const std::vector<double>& data() const { return data_; }

    KMeansModel fit(const KMeansParams& params, const Interrupts& interrupts = {}) const {
        return kmeans_fit(data_.data(), n_, d_, params, interrupts);
    }

private:
    std::size_t d_ = 0;
    std::size_t n_ = 0;
    std::vector<double> data_;
};

// The serialized kmeans_fit state (state_format.hpp): the parameters as
// given (kmeans_fit checks them), d (0 before the first point) and the
// points' values, row by row. The reader checks d, that the values are
// finite and make whole rows, fills *values from arena and raises
// invalid_binary_representation for anything else.
void write_kmeans_state(StateWriter& writer, const KMeansParams& params, uint32_t d, const double* values,
                        uint32_t value_count);
void read_kmeans_state(const Arena& arena, const uint8_t* data, std::size_t size, KMeansParams* params, uint32_t* d,
                       FlatArray<double>* values);

}  // namespace customer_analytics
