// k-means: kmeans_fit, an aggregate over feature vectors returning
// a kmeans_model, and kmeans_assign, the nearest centroid of a point.
//
// The aggregate keeps every point in a FlatArray<double> in the aggregate
// memory context (n * d doubles, counted against work_mem and freed with the
// context) together with the parameters, which must be the same on every
// row. The final function fits with the core (k-means++ from a fixed seed,
// standardized features, Lloyd iterations that honour query cancellation);
// the core orders the points first, so a parallel plan gives the same model
// as a serial one.
#include <optional>
#include <vector>

#include "kmeans.hpp"

#include "analytics_state.hpp"
#include "barrier.hpp"
#include "convert.hpp"
#include "flat_state.hpp"

namespace ca = customer_analytics;
using ca::pg::arena_for;

namespace {

// The parameters, all 8-byte fields so they compare bytewise.
struct FitParams {
    std::int64_t k;
    std::int64_t max_iterations;
    std::int64_t n_init;
    std::int64_t seed;
    std::int64_t standardize;
    double tolerance;
};

struct KMeansAggState {
    FitParams params;
    std::int64_t d;  // 0 until the first point
    ca::FlatArray<double> data;
};

ca::KMeansParams core_params(const FitParams& p) {
    ca::KMeansParams out;
    out.k = p.k;
    out.max_iterations = p.max_iterations;
    out.n_init = p.n_init;
    out.seed = static_cast<std::uint64_t>(p.seed);
    out.standardize = p.standardize != 0;
    out.tolerance = p.tolerance;
    return out;
}

FitParams fit_params(const ca::KMeansParams& p) {
    return FitParams{p.k,        p.max_iterations, p.n_init, static_cast<std::int64_t>(p.seed), p.standardize ? 1 : 0,
                     p.tolerance};
}

// Elements of a float8 array of any shape without NULLs, in storage order.
const double* float8_elements(ArrayType* array, int* count, const char* what) {
    if (ARR_HASNULL(array) && array_contains_nulls(array))
        throw ca::Error(ca::ErrorKind::null_value_not_allowed, std::string(what) + " must not contain NULL elements");
    *count = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
    return reinterpret_cast<const double*>(ARR_DATA_PTR(array));
}

const double* features_argument(ArrayType* array, int* count) {
    if (ARR_NDIM(array) > 1)
        throw ca::Error(ca::ErrorKind::array_subscript_error, "features must be a one-dimensional array");
    return float8_elements(array, count, "features");
}

KMeansAggState* new_kmeans_state(MemoryContext context, const FitParams& params, std::int64_t d) {
    auto* state = new (MemoryContextAllocZero(context, sizeof(KMeansAggState))) KMeansAggState();
    state->params = params;
    state->d = d;
    return state;
}

void require_same_params(const FitParams& stored, const FitParams& now) {
    if (std::memcmp(&stored, &now, sizeof(FitParams)) != 0)
        throw ca::Error(ca::ErrorKind::invalid_parameter_value, "kmeans_fit needs the same parameters on every row", {},
                        "Pass constants (or one value per group) as k and the other parameters.");
}

// The documented limits (kmeans.hpp), checked before the state grows.
static_assert(ca::kKMeansMaxPoints == 10000000 && ca::kKMeansMaxValues == 50000000, "messages below");
void check_size(std::uint64_t values, std::int64_t d) {
    if (d <= 0)
        return;
    ca::pg::check_limit(values / static_cast<std::uint64_t>(d), ca::kKMeansMaxPoints,
                        "kmeans_fit accepts at most 10000000 points",
                        "Fit on a sample of the customers, e.g. with TABLESAMPLE, and assign the rest with "
                        "kmeans_assign.");
    ca::pg::check_limit(values, ca::kKMeansMaxValues,
                        "kmeans_fit accepts at most 50000000 feature values (points times features)",
                        "Fit on a sample of the customers, e.g. with TABLESAMPLE, or on fewer features.");
}

void require_same_d(std::int64_t d, std::int64_t other) {
    if (d != other)
        throw ca::Error(ca::ErrorKind::array_subscript_error, "features must have the same length on every row",
                        "Expected " + std::to_string(d) + " features, got " + std::to_string(other) + ".");
}

// A k x d float8[][] of the values (row-major), through pg_call.
Datum matrix_datum(const double* values, int rows, int columns) {
    return ca::pg::pg_call([values, rows, columns] {
        Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * (rows * columns + 1)));
        for (int i = 0; i < rows * columns; ++i)
            elements[i] = Float8GetDatum(values[i]);
        int dims[2] = {rows, columns};
        int lower_bounds[2] = {1, 1};
        return PointerGetDatum(construct_md_array(elements, nullptr, 2, dims, lower_bounds, FLOAT8OID, 8,
                                                  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
    });
}

// A bigint[] of the values, through pg_call.
Datum int8_array_datum(const std::int64_t* values, int count) {
    return ca::pg::pg_call([values, count] {
        Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * (count + 1)));
        for (int i = 0; i < count; ++i)
            elements[i] = Int64GetDatum(values[i]);
        return PointerGetDatum(construct_array(elements, count, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
    });
}

// Fields of kmeans_model, 1-based.
enum ModelField {
    model_k = 1,
    model_d,
    model_n,
    model_means,
    model_scales,
    model_centroids,
    model_standardized,
    model_sizes,
    model_wcss,
    model_silhouette,
    model_iterations,
    model_converged,
    model_fields = model_converged
};

}  // namespace

// kmeans_fit(features, k [, max_iterations, n_init, seed, standardize,
// tolerance]).
CA_FUNCTION(ca_kmeans_fit_transfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "kmeans_fit");
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<KMeansAggState*>(PG_GETARG_POINTER(0));
    FitParams params{0, 100, 3, 42, 1, 0.0};
    static const char* const names[] = {"k", "max_iterations", "n_init", "seed", "standardize", "tolerance"};
    for (int i = 2; i < PG_NARGS(); ++i)
        if (PG_ARGISNULL(i))
            throw ca::Error(ca::ErrorKind::null_value_not_allowed, std::string(names[i - 2]) + " must not be null");
    params.k = PG_GETARG_INT32(2);
    if (PG_NARGS() > 3) {
        params.max_iterations = PG_GETARG_INT32(3);
        params.n_init = PG_GETARG_INT32(4);
        params.seed = PG_GETARG_INT64(5);
        params.standardize = PG_GETARG_BOOL(6) ? 1 : 0;
        params.tolerance = PG_GETARG_FLOAT8(7);
        if (params.tolerance == 0.0)
            params.tolerance = 0.0;  // -0 and 0 are the same parameter
    }
    if (state == nullptr)
        state = new_kmeans_state(context, params, 0);
    else
        require_same_params(state->params, params);
    if (PG_ARGISNULL(1))
        PG_RETURN_POINTER(state);
    int count = 0;
    const double* row = features_argument(PG_GETARG_ARRAYTYPE_P(1), &count);
    if (count < 1 || static_cast<std::size_t>(count) > ca::kKMeansMaxFeatures)
        throw ca::Error(ca::ErrorKind::invalid_parameter_value, "features must have between 1 and 1000 elements");
    if (state->d == 0)
        state->d = count;
    else
        require_same_d(state->d, count);
    for (int j = 0; j < count; ++j)
        if (!std::isfinite(row[j]))
            throw ca::Error(ca::ErrorKind::data_exception, "features must be finite numbers");
    check_size(std::uint64_t(state->data.size) + static_cast<std::uint64_t>(count), state->d);
    state->data.append(arena_for(context), row, static_cast<std::uint32_t>(count));
    PG_RETURN_POINTER(state);
}

CA_FUNCTION(ca_kmeans_fit_combinefn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "kmeans_fit_combine");
    if (PG_ARGISNULL(1))
        return ca::pg::keep_first_state(fcinfo);
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<KMeansAggState*>(PG_GETARG_POINTER(0));
    const auto* other = reinterpret_cast<const KMeansAggState*>(PG_GETARG_POINTER(1));
    if (state == nullptr) {
        state = new_kmeans_state(context, other->params, other->d);
    } else {
        require_same_params(state->params, other->params);
        if (state->d == 0)
            state->d = other->d;
        else if (other->d != 0)
            require_same_d(state->d, other->d);
    }
    check_size(std::uint64_t(state->data.size) + other->data.size, state->d);
    state->data.append(arena_for(context), other->data.data, other->data.size);
    PG_RETURN_POINTER(state);
}

namespace {

// The serialized form of the state, for analytics_state and for 0.1.0's
// serialize and deserialize functions.
void write_KMeans_state_object(ca::StateWriter& writer, void* memory) {
    const auto* state = static_cast<const KMeansAggState*>(memory);
    ca::write_kmeans_state(writer, core_params(state->params), static_cast<std::uint32_t>(state->d), state->data.data,
                           state->data.size);
}

void* read_KMeans_state_object(MemoryContext context, const ca::pg::StateBytes& bytes) {
    KMeansAggState* state = new_kmeans_state(context, FitParams{}, 0);
    ca::KMeansParams params;
    std::uint32_t d = 0;
    ca::read_kmeans_state(arena_for(context), bytes.data, bytes.size, &params, &d, &state->data);
    state->params = fit_params(params);
    state->d = d;
    return state;
}

}  // namespace

namespace customer_analytics::pg {
extern const StateFamily kKMeansFamily{CA_STATE_METHODS,         "kmeans_fit",
                                       StateKind::kmeans_fit,    StateKind::kmeans_fit,
                                       read_KMeans_state_object, write_KMeans_state_object};
}  // namespace customer_analytics::pg

CA_FUNCTION(ca_kmeans_fit_serialfn) {
    PG_RETURN_BYTEA_P(ca::pg::state_bytea(
        [fcinfo](ca::StateWriter& writer) { write_KMeans_state_object(writer, PG_GETARG_POINTER(0)); }));
}

CA_FUNCTION(ca_kmeans_fit_deserialfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "kmeans_fit_deserialize");
    PG_RETURN_POINTER(read_KMeans_state_object(context, ca::pg::state_argument(fcinfo, 0)));
}

// The model (C++ vectors) is alive while the kmeans_model value is built,
// through pg_call.
CA_FUNCTION(ca_kmeans_fit_finalfn) {
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    const auto* state = reinterpret_cast<const KMeansAggState*>(PG_GETARG_POINTER(0));
    if (state->d == 0 || state->data.size == 0)
        PG_RETURN_NULL();  // no point
    const int d = static_cast<int>(state->d);
    const std::size_t n = state->data.size / static_cast<std::size_t>(d);
    const ca::Interrupts interrupts = ca::pg::interrupts();
    const ca::KMeansModel model =
        ca::kmeans_fit(state->data.data, n, static_cast<std::size_t>(d), core_params(state->params), interrupts);
    std::optional<double> silhouette;
    if (model.k >= 2)
        silhouette = ca::silhouette(state->data.data, n, static_cast<std::size_t>(d), model, {}, interrupts);

    const int k = static_cast<int>(model.k);
    TupleDesc descriptor = ca::pg::pg_call(ca::pg::result_descriptor, fcinfo, &fcinfo->flinfo->fn_extra);
    Datum values[model_fields];
    bool nulls[model_fields] = {false};
    values[model_k - 1] = Int32GetDatum(k);
    values[model_d - 1] = Int32GetDatum(d);
    values[model_n - 1] = Int64GetDatum(model.n);
    values[model_means - 1] = ca::pg::float8_array_datum(model.feature_means.data(), d);
    values[model_scales - 1] = ca::pg::float8_array_datum(model.feature_scales.data(), d);
    values[model_centroids - 1] = matrix_datum(model.centroids.data(), k, d);
    values[model_standardized - 1] = matrix_datum(model.centroids_standardized.data(), k, d);
    values[model_sizes - 1] = int8_array_datum(model.sizes.data(), k);
    values[model_wcss - 1] = Float8GetDatum(model.wcss);
    values[model_silhouette - 1] = Float8GetDatum(silhouette.value_or(0.0));
    nulls[model_silhouette - 1] = !silhouette.has_value();
    values[model_iterations - 1] = Int32GetDatum(static_cast<std::int32_t>(model.iterations));
    values[model_converged - 1] = BoolGetDatum(model.converged);
    PG_RETURN_DATUM(ca::pg::tuple_datum(descriptor, values, nulls));
}

// ----------------------------------------------------------- kmeans_assign

namespace {

// The parts of a model that assignment needs, copied into the call site's
// ArgumentCache (replaced whenever another model comes in).
struct AssignModel {
    double* standardized;  // k x d
    double* means;         // d
    double* scales;        // d
    std::size_t values;    // k x d
    std::size_t d;
};

struct AssignCache {
    void* reader;
    void* arguments;  // ArgumentCache of AssignModel
};

Datum required_model_field(const ca::pg::CompositeReader* reader, HeapTupleHeader tuple, int field, const char* name) {
    bool is_null = false;
    const Datum value = ca::pg::composite_field(reader, tuple, field, &is_null);
    if (is_null)
        throw ca::Error(ca::ErrorKind::null_value_not_allowed,
                        std::string("model field ") + name + " must not be null");
    return value;
}

const AssignModel* load_model(FunctionCallInfo fcinfo, AssignCache* call, Datum model_datum) {
    ca::pg::ArgumentCache* cache = ca::pg::argument_cache(fcinfo, &call->arguments);
    if (void* hit = ca::pg::argument_cache_lookup(cache, &model_datum, 1))
        return static_cast<const AssignModel*>(hit);
    MemoryContext context = ca::pg::argument_cache_reset(cache);
    HeapTupleHeader tuple = DatumGetHeapTupleHeader(model_datum);
    const ca::pg::CompositeReader* reader = ca::pg::composite_reader(fcinfo, &call->reader, tuple);
    const std::int64_t k = DatumGetInt32(required_model_field(reader, tuple, model_k, "k"));
    const std::int64_t d = DatumGetInt32(required_model_field(reader, tuple, model_d, "d"));
    int means_count = 0, scales_count = 0, centroid_count = 0;
    const double* means =
        float8_elements(DatumGetArrayTypeP(required_model_field(reader, tuple, model_means, "feature_means")),
                        &means_count, "feature_means");
    const double* scales =
        float8_elements(DatumGetArrayTypeP(required_model_field(reader, tuple, model_scales, "feature_scales")),
                        &scales_count, "feature_scales");
    const double* standardized =
        float8_elements(DatumGetArrayTypeP(
                            required_model_field(reader, tuple, model_standardized, "centroids_standardized")),
                        &centroid_count, "centroids_standardized");
    if (k < 1 || d < 1 || means_count != d || scales_count != d || centroid_count != k * d)
        throw ca::Error(ca::ErrorKind::array_subscript_error, "kmeans_model arrays do not match k and d",
                        "The arrays feature_means and feature_scales need d elements, centroids_standardized k x d.");
    auto* model = static_cast<AssignModel*>(MemoryContextAlloc(context, sizeof(AssignModel)));
    model->values = static_cast<std::size_t>(centroid_count);
    model->d = static_cast<std::size_t>(d);
    model->standardized = static_cast<double*>(MemoryContextAlloc(context, sizeof(double) * model->values));
    model->means = static_cast<double*>(MemoryContextAlloc(context, sizeof(double) * d));
    model->scales = static_cast<double*>(MemoryContextAlloc(context, sizeof(double) * d));
    std::memcpy(model->standardized, standardized, sizeof(double) * model->values);
    std::memcpy(model->means, means, sizeof(double) * d);
    std::memcpy(model->scales, scales, sizeof(double) * d);
    ca::pg::argument_cache_store(cache, &model_datum, 1, model);
    return model;
}

}  // namespace

// kmeans_assign(features, model) → cluster number 1..k (1 = largest cluster).
CA_FUNCTION(ca_kmeans_assign) {
    int count = 0;
    const double* point = features_argument(PG_GETARG_ARRAYTYPE_P(0), &count);
    const AssignModel* model = load_model(fcinfo, ca::pg::call_cache<AssignCache>(fcinfo), PG_GETARG_DATUM(1));
    if (static_cast<std::size_t>(count) != model->d)
        throw ca::Error(ca::ErrorKind::array_subscript_error, "point, means and scales must have the same length");
    PG_RETURN_INT32(
        static_cast<std::int32_t>(ca::kmeans_assign(point, static_cast<std::size_t>(count), model->standardized,
                                                    model->values, model->means, model->scales) +
                                  1));
}

// The analytics_state entry points (analytics_state.hpp).
using ca::pg::kKMeansFamily;
CA_STATE_TRANSFN(ca_kmeans_fit_transfn, kKMeansFamily)
CA_STATE_COMBINEFN(ca_kmeans_fit_combinefn, kKMeansFamily)
CA_STATE_FINALFN(ca_kmeans_fit_finalfn, kKMeansFamily)
