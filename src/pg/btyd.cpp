// The SQL surface of the Buy-Till-You-Die models (btyd.hpp):
//   btyd_inputs                      rfm_summary or dates -> (x, t_x, t_cal)
//   bgnbd_fit, pareto_nbd_fit,       aggregates over (x, t_x, t_cal)
//   mbgnbd_fit
//   gamma_gamma_fit                  aggregate over (x, mean_spend)
//   bgbb_fit                         aggregate over (x, t_x, n), discrete time
//   sbg_fit                          aggregate over (t, churned), contractual
//   *_p_alive, *_expected, *_repurchase_score, gamma_gamma_expected_spend,
//   clv                              per-customer predictions from a model
//
// Fit aggregates keep the distinct observations with their counts in the
// aggregate memory context (a FlatArray, sorted and merged whenever it fills
// up), so their memory grows with the number of distinct (x, t_x, t_cal)
// triples, not with the number of customers. The fit itself runs in the
// final function, polling the interrupt flag.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <tuple>
#include <type_traits>

#include "btyd/btyd.hpp"
#include "btyd/fit_state.hpp"
#include "sort.hpp"

#include "analytics_state.hpp"
#include "barrier.hpp"
#include "convert.hpp"
#include "flat_state.hpp"
#include "rfm_types.hpp"

namespace ca = customer_analytics;
using ca::pg::arena_for;

namespace {

// printf into a std::string, for messages.
std::string printf_string(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string printf_string(const char* format, ...) {
    char buffer[512];
    va_list arguments;
    va_start(arguments, format);
    std::vsnprintf(buffer, sizeof buffer, format, arguments);
    va_end(arguments);
    return buffer;
}

// ---------------------------------------------------------------------------
// Composite fields
// ---------------------------------------------------------------------------

// Result fields of btyd_input and of the model types.
enum InputField { input_x, input_t_x, input_t_cal, input_fields };
enum ModelField { model_p1, model_p2, model_p3, model_p4 };

// A model parameter: the field must be present (not NULL); its value is
// validated by the core prediction functions.
double model_parameter(const ca::pg::CompositeReader* reader, HeapTupleHeader tuple, int field, const char* model,
                       const char* name) {
    bool is_null = false;
    const Datum value = ca::pg::composite_field(reader, tuple, field + 1, &is_null);
    if (is_null)
        throw ca::Error(ca::ErrorKind::null_value_not_allowed,
                        std::string(model) + " parameter " + name + " must not be null");
    return DatumGetFloat8(value);
}

struct ModelCache {
    void* reader;
    void* descriptor;  // of a composite result (clv_interval)
};

// The leading parameters of a model argument (fields 1..N, in order), each
// present; the field reader is cached per call site.
template <std::size_t N>
std::array<double, N> model_parameters(FunctionCallInfo fcinfo, int argument, const char* model,
                                       const char* const (&names)[N]) {
    auto* cache = ca::pg::call_cache<ModelCache>(fcinfo);
    HeapTupleHeader tuple = PG_GETARG_HEAPTUPLEHEADER(argument);
    const ca::pg::CompositeReader* reader = ca::pg::composite_reader(fcinfo, &cache->reader, tuple);
    std::array<double, N> values;
    for (std::size_t i = 0; i < N; ++i)
        values[i] = model_parameter(reader, tuple, model_p1 + static_cast<int>(i), model, names[i]);
    return values;
}

ca::BgnbdModel read_bgnbd(FunctionCallInfo fcinfo, int argument) {
    const auto p = model_parameters(fcinfo, argument, "BG/NBD", {"r", "alpha", "a", "b"});
    ca::BgnbdModel model;
    model.r = p[0];
    model.alpha = p[1];
    model.a = p[2];
    model.b = p[3];
    return model;
}

ca::ParetoNbdModel read_pareto_nbd(FunctionCallInfo fcinfo, int argument) {
    const auto p = model_parameters(fcinfo, argument, "Pareto/NBD", {"r", "alpha", "s", "beta"});
    ca::ParetoNbdModel model;
    model.r = p[0];
    model.alpha = p[1];
    model.s = p[2];
    model.beta = p[3];
    return model;
}

ca::MbgnbdModel read_mbgnbd(FunctionCallInfo fcinfo, int argument) {
    const auto p = model_parameters(fcinfo, argument, "MBG/NBD", {"r", "alpha", "a", "b"});
    ca::MbgnbdModel model;
    model.r = p[0];
    model.alpha = p[1];
    model.a = p[2];
    model.b = p[3];
    return model;
}

ca::BgbbModel read_bgbb(FunctionCallInfo fcinfo, int argument) {
    const auto p = model_parameters(fcinfo, argument, "BG/BB", {"alpha", "beta", "gamma", "delta"});
    ca::BgbbModel model;
    model.alpha = p[0];
    model.beta = p[1];
    model.gamma = p[2];
    model.delta = p[3];
    return model;
}

ca::SbgModel read_sbg(FunctionCallInfo fcinfo, int argument) {
    const auto p = model_parameters(fcinfo, argument, "sBG", {"alpha", "beta"});
    ca::SbgModel model;
    model.alpha = p[0];
    model.beta = p[1];
    return model;
}

ca::GammaGammaModel read_gamma_gamma(FunctionCallInfo fcinfo, int argument) {
    const auto p = model_parameters(fcinfo, argument, "Gamma-Gamma", {"p", "q", "gamma"});
    ca::GammaGammaModel model;
    model.p = p[0];
    model.q = p[1];
    model.gamma = p[2];
    return model;
}

// A model built from stored parameters: the parameters, the other fields
// NULL. Built in C so that, unlike a SQL function, it resolves nothing
// through the caller's search_path, and so that it validates.
// pareto_nbd_model has a boundary field more since 0.2.0; a database still
// on 0.1.0 has the type without it, so the fields after the fit summary
// are filled only where the type has them.
Datum model_from_parameters(FunctionCallInfo fcinfo, const double* parameters, int count, int extra_fields = 0) {
    TupleDesc descriptor = ca::pg::result_descriptor(fcinfo, &fcinfo->flinfo->fn_extra);
    constexpr int kMaxFields = 12;
    Datum values[kMaxFields] = {0};
    bool nulls[kMaxFields];
    for (int i = 0; i < kMaxFields; ++i)
        nulls[i] = i >= count;
    // 0.1.0 types end at iterations; 0.2.0 adds boundary (extra_fields)
    // and standard_errors, covariance.
    if (descriptor->natts != count + 4 && descriptor->natts != count + 4 + extra_fields + 2)
        throw ca::Error(ca::ErrorKind::data_exception, "model type has an unexpected number of fields");
    for (int i = 0; i < count; ++i)
        values[i] = Float8GetDatum(parameters[i]);
    return HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
}

}  // namespace

CA_FUNCTION(ca_bgnbd_model) {
    ca::BgnbdModel model;
    model.r = PG_GETARG_FLOAT8(0);
    model.alpha = PG_GETARG_FLOAT8(1);
    model.a = PG_GETARG_FLOAT8(2);
    model.b = PG_GETARG_FLOAT8(3);
    ca::validate_model(model);
    const double parameters[4] = {model.r, model.alpha, model.a, model.b};
    return model_from_parameters(fcinfo, parameters, 4);
}

CA_FUNCTION(ca_pareto_nbd_model) {
    ca::ParetoNbdModel model;
    model.r = PG_GETARG_FLOAT8(0);
    model.alpha = PG_GETARG_FLOAT8(1);
    model.s = PG_GETARG_FLOAT8(2);
    model.beta = PG_GETARG_FLOAT8(3);
    ca::validate_model(model);
    const double parameters[4] = {model.r, model.alpha, model.s, model.beta};
    return model_from_parameters(fcinfo, parameters, 4, 1);
}

CA_FUNCTION(ca_mbgnbd_model) {
    ca::MbgnbdModel model;
    model.r = PG_GETARG_FLOAT8(0);
    model.alpha = PG_GETARG_FLOAT8(1);
    model.a = PG_GETARG_FLOAT8(2);
    model.b = PG_GETARG_FLOAT8(3);
    ca::validate_model(model);
    const double parameters[4] = {model.r, model.alpha, model.a, model.b};
    return model_from_parameters(fcinfo, parameters, 4);
}

CA_FUNCTION(ca_bgbb_model) {
    ca::BgbbModel model;
    model.alpha = PG_GETARG_FLOAT8(0);
    model.beta = PG_GETARG_FLOAT8(1);
    model.gamma = PG_GETARG_FLOAT8(2);
    model.delta = PG_GETARG_FLOAT8(3);
    ca::validate_model(model);
    const double parameters[4] = {model.alpha, model.beta, model.gamma, model.delta};
    return model_from_parameters(fcinfo, parameters, 4);
}

CA_FUNCTION(ca_sbg_model) {
    ca::SbgModel model;
    model.alpha = PG_GETARG_FLOAT8(0);
    model.beta = PG_GETARG_FLOAT8(1);
    ca::validate_model(model);
    const double parameters[2] = {model.alpha, model.beta};
    return model_from_parameters(fcinfo, parameters, 2);
}

CA_FUNCTION(ca_gamma_gamma_model) {
    ca::GammaGammaModel model;
    model.p = PG_GETARG_FLOAT8(0);
    model.q = PG_GETARG_FLOAT8(1);
    model.gamma = PG_GETARG_FLOAT8(2);
    ca::validate_model(model);
    const double parameters[3] = {model.p, model.q, model.gamma};
    return model_from_parameters(fcinfo, parameters, 3);
}

namespace {

// ---------------------------------------------------------------------------
// btyd_inputs
// ---------------------------------------------------------------------------

bool unit_is(const char* text, int length, const char* singular) {
    const int n = static_cast<int>(std::strlen(singular));
    if (length == n)
        return pg_strncasecmp(text, singular, n) == 0;
    return length == n + 1 && pg_strncasecmp(text, singular, n) == 0 && (text[n] == 's' || text[n] == 'S');
}

// 'day', 'week' or 'month' (case-insensitive, plural allowed) in days.
double unit_days(text* unit) {
    const char* data = VARDATA_ANY(unit);
    const int length = static_cast<int>(VARSIZE_ANY_EXHDR(unit));
    if (unit_is(data, length, "day"))
        return ca::kBtydDay;
    if (unit_is(data, length, "week"))
        return ca::kBtydWeek;
    if (unit_is(data, length, "month"))
        return ca::kBtydMonth;
    throw ca::Error(ca::ErrorKind::invalid_parameter_value, "time unit must be 'day', 'week' or 'month'",
                    "The unit given was \"" + std::string(data, static_cast<std::size_t>(std::min(length, 32))) +
                        (length > 32 ? "...\"." : "\"."),
                    "A month is 365.25 / 12 = 30.4375 days; model parameters and horizons are in this unit.");
}

const char* date_text(std::int32_t day) { return DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(day))); }

// The core checks the same (btyd_observation); here the messages name the
// SQL arguments and show dates rather than day numbers.
void check_order_dates(std::int32_t first, std::int32_t last, std::int64_t purchase_days, std::int32_t end) {
    if (last < first) {
        const char* first_text = date_text(first);
        const char* last_text = date_text(last);
        throw ca::Error(ca::ErrorKind::invalid_parameter_value, "last_order is before first_order",
                        std::string("The first order is on ") + first_text + ", the last on " + last_text + ".");
    }
    if (last > end) {
        const char* last_text = date_text(last);
        const char* end_text = date_text(end);
        throw ca::Error(ca::ErrorKind::invalid_parameter_value, "last_order is after the end of the calibration period",
                        std::string("The last order is on ") + last_text + ", cal_end is " + end_text + ".",
                        "Summarize only the orders up to cal_end: WHERE order_date <= cal_end before rfm_agg.");
    }
    if (purchase_days < 1)
        throw ca::Error(ca::ErrorKind::invalid_parameter_value, "purchase_days must be at least 1",
                        "The value given was " + std::to_string(purchase_days) + ".");
    if ((purchase_days == 1) != (last == first) || purchase_days > std::int64_t(last) - first + 1) {
        const char* first_text = date_text(first);
        const char* last_text = date_text(last);
        throw ca::Error(ca::ErrorKind::invalid_parameter_value,
                        "purchase_days is inconsistent with first_order and last_order",
                        "There are " + std::to_string(purchase_days) + " purchase days from " + first_text + " to " +
                            last_text + ".",
                        "Count as purchase_days the distinct days with a purchase from first_order to last_order.");
    }
}

struct InputsCache {
    void* summary_reader;
    void* descriptor;
};

Datum input_datum(FunctionCallInfo fcinfo, InputsCache* cache, std::int32_t first, std::int32_t last,
                  std::int64_t purchase_days, std::int32_t end, double unit) {
    check_order_dates(first, last, purchase_days, end);
    const ca::BtydObservation o = ca::btyd_observation(first, last, purchase_days, end, unit);
    TupleDesc descriptor = ca::pg::result_descriptor(fcinfo, &cache->descriptor);
    Datum values[input_fields];
    bool nulls[input_fields] = {false};
    values[input_x] = Float8GetDatum(o.x);
    values[input_t_x] = Float8GetDatum(o.t_x);
    values[input_t_cal] = Float8GetDatum(o.T);
    return HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
}

}  // namespace

// btyd_inputs(summary rfm_summary, cal_end date, unit text): NULL for a
// customer without a purchase (first_order NULL).
CA_FUNCTION(ca_btyd_inputs_summary) {
    auto* cache = ca::pg::call_cache<InputsCache>(fcinfo);
    HeapTupleHeader summary = PG_GETARG_HEAPTUPLEHEADER(0);
    const ca::pg::CompositeReader* reader = ca::pg::composite_reader(fcinfo, &cache->summary_reader, summary);
    bool first_null = false, last_null = false, days_null = false;
    const Datum first = ca::pg::composite_field(reader, summary, ca::pg::summary_first_order + 1, &first_null);
    if (first_null)
        PG_RETURN_NULL();
    const Datum last = ca::pg::composite_field(reader, summary, ca::pg::summary_last_order + 1, &last_null);
    const Datum days = ca::pg::composite_field(reader, summary, ca::pg::summary_purchase_days + 1, &days_null);
    if (last_null || days_null)
        throw ca::Error(ca::ErrorKind::null_value_not_allowed,
                        "last_order and purchase_days must not be null when first_order is set");
    const std::int32_t end = ca::pg::finite_date(PG_GETARG_DATEADT(1), "cal_end");
    const double unit = unit_days(PG_GETARG_TEXT_PP(2));
    return input_datum(fcinfo, cache, ca::pg::finite_date(DatumGetDateADT(first), "first_order"),
                       ca::pg::finite_date(DatumGetDateADT(last), "last_order"), DatumGetInt64(days), end, unit);
}

// btyd_inputs(first_order date, last_order date, purchase_days bigint,
//             cal_end date, unit text)
CA_FUNCTION(ca_btyd_inputs_dates) {
    auto* cache = ca::pg::call_cache<InputsCache>(fcinfo);
    const std::int32_t first = ca::pg::finite_date(PG_GETARG_DATEADT(0), "first_order");
    const std::int32_t last = ca::pg::finite_date(PG_GETARG_DATEADT(1), "last_order");
    const std::int64_t purchase_days = PG_GETARG_INT64(2);
    const std::int32_t end = ca::pg::finite_date(PG_GETARG_DATEADT(3), "cal_end");
    const double unit = unit_days(PG_GETARG_TEXT_PP(4));
    return input_datum(fcinfo, cache, first, last, purchase_days, end, unit);
}

// ---------------------------------------------------------------------------
// Fit aggregates: state
// ---------------------------------------------------------------------------

namespace {

// Sort keys of the two kinds of observations; equal keys are merged by
// adding their weights (customer counts, exact in a double).
bool key_less(const ca::BtydObservation& l, const ca::BtydObservation& r) {
    return std::tie(l.x, l.t_x, l.T) < std::tie(r.x, r.t_x, r.T);
}
bool same_key(const ca::BtydObservation& l, const ca::BtydObservation& r) {
    return l.x == r.x && l.t_x == r.t_x && l.T == r.T;
}
bool key_less(const ca::BgbbObservation& l, const ca::BgbbObservation& r) {
    return std::tie(l.x, l.t_x, l.n) < std::tie(r.x, r.t_x, r.n);
}
bool same_key(const ca::BgbbObservation& l, const ca::BgbbObservation& r) {
    return l.x == r.x && l.t_x == r.t_x && l.n == r.n;
}
bool key_less(const ca::SbgObservation& l, const ca::SbgObservation& r) {
    return std::tie(l.t, l.churned) < std::tie(r.t, r.churned);
}
bool same_key(const ca::SbgObservation& l, const ca::SbgObservation& r) { return l.t == r.t && l.churned == r.churned; }
bool key_less(const ca::GammaGammaObservation& l, const ca::GammaGammaObservation& r) {
    return std::tie(l.x, l.mean_spend) < std::tie(r.x, r.mean_spend);
}
bool same_key(const ca::GammaGammaObservation& l, const ca::GammaGammaObservation& r) {
    return l.x == r.x && l.mean_spend == r.mean_spend;
}

// True in the partial aggregation of a parallel (or otherwise split) plan
// whose states are serialized for a combining step.
bool serializes_partial_state(FunctionCallInfo fcinfo) {
    return fcinfo->context != nullptr && IsA(fcinfo->context, AggState) &&
           DO_AGGSPLIT_SERIALIZE(reinterpret_cast<AggState*>(fcinfo->context)->aggsplit);
}

// Same checks and messages as the core's fit (gamma_gamma.cpp), done per
// row so that sorting never sees a NaN.
void check_spend_observation(const ca::GammaGammaObservation& o) {
    if (!(std::isfinite(o.x) && o.x >= 1 && o.x == std::floor(o.x)))
        throw ca::Error(ca::ErrorKind::invalid_parameter_value,
                        "number of transactions must be a positive integer for the Gamma-Gamma model",
                        printf_string("The value given was x = %g.", o.x),
                        "Leave customers without repeat purchases out, or pass x = 0 for them.");
    if (!(std::isfinite(o.mean_spend) && o.mean_spend > 0))
        throw ca::Error(ca::ErrorKind::invalid_parameter_value,
                        "mean spend must be positive and finite for the Gamma-Gamma model",
                        printf_string("A customer with x = %g has mean_spend = %g.", o.x, o.mean_spend),
                        "Leave out or correct customers whose refunds make the mean spend zero or negative.");
    if (!(std::isfinite(o.weight) && o.weight >= 0))
        throw ca::Error(ca::ErrorKind::invalid_parameter_value, "observation weight must be finite and non-negative");
}

double checked_penalty(double penalty) {
    if (!(std::isfinite(penalty) && penalty >= 0))
        throw ca::Error(ca::ErrorKind::invalid_parameter_value, "l2 penalty must be finite and non-negative",
                        printf_string("The value given was %g.", penalty));
    return penalty;
}

// Rows below this many are kept as they come; beyond, a full array is
// sorted and merged before it may grow.
constexpr std::uint32_t kCompactFrom = 64;

// The most distinct rows a fit keeps (32 bytes each): a full array is
// compacted before it doubles, so it never exceeds 2^23 rows (256 MB).
constexpr std::uint32_t kMaxFitRows = 4000000;

template <typename Row>
struct FitState {
    ca::FlatArray<Row> rows;
    double l2_penalty;
    bool penalty_given;  // the overload with an l2_penalty argument
    // gamma_gamma_fit: customers skipped for a zero or negative mean spend,
    // reported (with the first such value) by the final function.
    double bad_spend_rows;
    double first_bad_spend;
};

const char* limit_hint(const ca::BtydObservation*) {
    return "Round t_x and t_cal to whole days of the time unit so that customers share triples, or fit a sample.";
}
const char* limit_hint(const ca::GammaGammaObservation*) {
    return "Round mean_spend (to cents, say) so that customers share values, or fit a sample.";
}
const char* limit_hint(const ca::BgbbObservation*) { return "Fit a sample."; }
const char* limit_hint(const ca::SbgObservation*) { return "Fit a sample."; }
const char* row_kind(const ca::BgbbObservation*) { return "(x, t_x, n) patterns"; }
const char* row_kind(const ca::SbgObservation*) { return "(t, churned) pairs"; }
const char* row_kind(const ca::BtydObservation*) { return "(x, t_x, t_cal) triples"; }
const char* row_kind(const ca::GammaGammaObservation*) { return "(x, mean_spend) pairs"; }

template <typename Row>
void compact(ca::FlatArray<Row>* rows, const ca::Interrupts& interrupts = ca::Interrupts{}) {
    if (rows->size < 2)
        return;
    ca::sort_interruptible(
        rows->begin(), rows->end(), [](const Row& l, const Row& r) { return key_less(l, r); }, interrupts);
    std::uint32_t kept = 0;
    for (std::uint32_t i = 0; i < rows->size; ++i) {
        if (kept > 0 && same_key(rows->data[kept - 1], rows->data[i]))
            rows->data[kept - 1].weight += rows->data[i].weight;
        else
            rows->data[kept++] = rows->data[i];
    }
    rows->size = kept;
}

// Appends a validated row. A full array is first compacted; if that frees
// less than half of it, it doubles, so compaction costs O(log n) per row
// and memory stays within a small multiple of the distinct rows.
template <typename Row>
void add_row(const ca::Arena& arena, FitState<Row>* state, const Row& row) {
    ca::FlatArray<Row>& rows = state->rows;
    if (rows.size == rows.capacity && rows.size >= kCompactFrom) {
        compact(&rows, ca::pg::interrupts());
        if (rows.size > kMaxFitRows)
            throw ca::Error(ca::ErrorKind::program_limit_exceeded,
                            "model fits accept at most " + std::to_string(kMaxFitRows) + " distinct " +
                                row_kind(static_cast<const Row*>(nullptr)),
                            "The fit keeps each distinct value once, with its count of customers.",
                            limit_hint(static_cast<const Row*>(nullptr)));
        if (rows.size > rows.capacity / 2)
            rows.reserve(arena, std::uint64_t(rows.capacity) * 2);
    }
    rows.push_back(arena, row);
}

template <typename Row>
FitState<Row>* new_fit_state(MemoryContext context, double penalty, bool penalty_given) {
    auto* state = new (MemoryContextAllocZero(context, sizeof(FitState<Row>))) FitState<Row>();
    state->l2_penalty = penalty;
    state->penalty_given = penalty_given;
    return state;
}

// The l2 penalty of the 4-argument (2 for Gamma-Gamma + 1) overloads: the
// same value on every row.
template <typename Row>
FitState<Row>* state_for_row(FunctionCallInfo fcinfo, MemoryContext context, int penalty_argument) {
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<FitState<Row>*>(PG_GETARG_POINTER(0));
    const bool penalty_given = PG_NARGS() > penalty_argument;
    double penalty = 0;
    if (penalty_given) {
        if (PG_ARGISNULL(penalty_argument))
            throw ca::Error(ca::ErrorKind::null_value_not_allowed, "l2_penalty must not be null");
        penalty = checked_penalty(PG_GETARG_FLOAT8(penalty_argument));
    }
    if (state == nullptr)
        return new_fit_state<Row>(context, penalty, penalty_given);
    if (state->l2_penalty != penalty)
        throw ca::Error(ca::ErrorKind::invalid_parameter_value, "l2_penalty must be the same on every row", {},
                        "Pass a constant, not a column.");
    return state;
}

template <typename Row>
Datum fit_combine(FunctionCallInfo fcinfo, const char* name) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, name);
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<FitState<Row>*>(PG_GETARG_POINTER(0));
    if (PG_ARGISNULL(1)) {
        if (state == nullptr)
            PG_RETURN_NULL();
        PG_RETURN_POINTER(state);
    }
    const auto* other = reinterpret_cast<const FitState<Row>*>(PG_GETARG_POINTER(1));
    // Never alias the second state: it may live in a shorter-lived context.
    if (state == nullptr)
        state = new_fit_state<Row>(context, other->l2_penalty, other->penalty_given);
    else if (state->l2_penalty != other->l2_penalty)
        throw ca::Error(ca::ErrorKind::invalid_parameter_value, "l2_penalty must be the same on every row");
    const ca::Arena arena = arena_for(context);
    for (std::uint32_t i = 0; i < other->rows.size; ++i)
        add_row(arena, state, other->rows.data[i]);
    if (other->bad_spend_rows > 0 && state->bad_spend_rows == 0)
        state->first_bad_spend = other->first_bad_spend;
    state->bad_spend_rows += other->bad_spend_rows;
    PG_RETURN_POINTER(state);
}

// Serialized states are written and read by the core (fit_state.hpp).
void write_fit(ca::StateWriter& writer, const FitState<ca::BtydObservation>& state) {
    ca::write_btyd_fit_state(writer, state.l2_penalty, state.penalty_given, state.rows.data, state.rows.size);
}
void write_fit(ca::StateWriter& writer, const FitState<ca::GammaGammaObservation>& state) {
    ca::write_gamma_gamma_fit_state(writer, state.l2_penalty, state.penalty_given, state.rows.data, state.rows.size);
}
void write_fit(ca::StateWriter& writer, const FitState<ca::BgbbObservation>& state) {
    ca::write_bgbb_fit_state(writer, state.l2_penalty, state.penalty_given, state.rows.data, state.rows.size);
}
void write_fit(ca::StateWriter& writer, const FitState<ca::SbgObservation>& state) {
    ca::write_sbg_fit_state(writer, state.l2_penalty, state.penalty_given, state.rows.data, state.rows.size);
}
void read_fit(const ca::Arena& arena, const ca::pg::StateBytes& bytes, FitState<ca::BgbbObservation>* state) {
    ca::read_bgbb_fit_state(arena, bytes.data, bytes.size, &state->l2_penalty, &state->penalty_given, &state->rows);
}
void read_fit(const ca::Arena& arena, const ca::pg::StateBytes& bytes, FitState<ca::SbgObservation>* state) {
    ca::read_sbg_fit_state(arena, bytes.data, bytes.size, &state->l2_penalty, &state->penalty_given, &state->rows);
}
void read_fit(const ca::Arena& arena, const ca::pg::StateBytes& bytes, FitState<ca::BtydObservation>* state) {
    ca::read_btyd_fit_state(arena, bytes.data, bytes.size, &state->l2_penalty, &state->penalty_given, &state->rows);
}
void read_fit(const ca::Arena& arena, const ca::pg::StateBytes& bytes, FitState<ca::GammaGammaObservation>* state) {
    ca::read_gamma_gamma_fit_state(arena, bytes.data, bytes.size, &state->l2_penalty, &state->penalty_given,
                                   &state->rows);
}

// Serializing compacts the state first (it stands for the same multiset).
template <typename Row>
Datum fit_serialize(FunctionCallInfo fcinfo) {
    auto* state = reinterpret_cast<FitState<Row>*>(PG_GETARG_POINTER(0));
    compact(&state->rows);
    PG_RETURN_BYTEA_P(ca::pg::state_bytea([state](ca::StateWriter& writer) { write_fit(writer, *state); }));
}

template <typename Row>
Datum fit_deserialize(FunctionCallInfo fcinfo, const char* name) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, name);
    const ca::pg::StateBytes bytes = ca::pg::state_argument(fcinfo, 0);
    FitState<Row>* state = new_fit_state<Row>(context, 0, false);
    read_fit(arena_for(context), bytes, state);
    PG_RETURN_POINTER(state);
}

double as_double(FunctionCallInfo fcinfo, int argument) { return PG_GETARG_FLOAT8(argument) + 0.0; }

// The same state as analytics_state (analytics_state.hpp).
template <typename Row>
void write_fit_object(ca::StateWriter& writer, void* memory) {
    auto* state = static_cast<FitState<Row>*>(memory);
    // The format has no count of customers skipped for a non-positive mean
    // spend: a state that must leave its process (a Citus worker's partial
    // state) raises what a serialized partial state raises per row.
    if constexpr (std::is_same_v<Row, ca::GammaGammaObservation>) {
        if (state->bad_spend_rows > 0)
            throw ca::Error(ca::ErrorKind::invalid_parameter_value,
                            "mean spend must be positive and finite for the Gamma-Gamma model",
                            printf_string("A customer has mean_spend = %g.", state->first_bad_spend),
                            "Leave out or correct customers whose refunds make the mean spend zero or negative.");
    }
    compact(&state->rows);
    write_fit(writer, *state);
}

template <typename Row>
void* read_fit_object(MemoryContext context, const ca::pg::StateBytes& bytes) {
    FitState<Row>* state = new_fit_state<Row>(context, 0, false);
    read_fit(arena_for(context), bytes, state);
    return state;
}

}  // namespace

namespace customer_analytics::pg {
extern const StateFamily kBtydFitFamily{CA_STATE_METHODS,
                                        "btyd_fit",
                                        StateKind::btyd_fit,
                                        StateKind::btyd_fit,
                                        read_fit_object<BtydObservation>,
                                        write_fit_object<BtydObservation>};
extern const StateFamily kGammaGammaFitFamily{CA_STATE_METHODS,
                                              "gamma_gamma_fit",
                                              StateKind::gamma_gamma_fit,
                                              StateKind::gamma_gamma_fit,
                                              read_fit_object<GammaGammaObservation>,
                                              write_fit_object<GammaGammaObservation>};
extern const StateFamily kBgbbFitFamily{CA_STATE_METHODS,
                                        "bgbb_fit",
                                        StateKind::bgbb_fit,
                                        StateKind::bgbb_fit,
                                        read_fit_object<BgbbObservation>,
                                        write_fit_object<BgbbObservation>};
extern const StateFamily kSbgFitFamily{CA_STATE_METHODS,
                                       "sbg_fit",
                                       StateKind::sbg_fit,
                                       StateKind::sbg_fit,
                                       read_fit_object<SbgObservation>,
                                       write_fit_object<SbgObservation>};
}  // namespace customer_analytics::pg

// ---------------------------------------------------------------------------
// Fit aggregates: transition functions
// ---------------------------------------------------------------------------

// bgnbd_fit / pareto_nbd_fit (x, t_x, t_cal [, l2_penalty]): rows with a NULL
// x, t_x or t_cal are skipped; invalid triples are errors.
CA_FUNCTION(ca_btyd_fit_transfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "btyd_fit_transfn");
    auto* state = state_for_row<ca::BtydObservation>(fcinfo, context, 4);
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
        PG_RETURN_POINTER(state);
    ca::BtydObservation row;
    row.x = as_double(fcinfo, 1);  // + 0.0 turns -0 into 0: one key per value
    row.t_x = as_double(fcinfo, 2);
    row.T = as_double(fcinfo, 3);
    row.weight = 1;
    ca::btyd_validate(row);
    add_row(arena_for(context), state, row);
    PG_RETURN_POINTER(state);
}

// gamma_gamma_fit(x, mean_spend [, l2_penalty]): rows with a NULL x or
// mean_spend are skipped, and so are customers with x = 0 (no repeat
// purchase, no spend information); x must be a non-negative integer and,
// when positive, mean_spend positive and finite.
CA_FUNCTION(ca_gamma_gamma_fit_transfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "gamma_gamma_fit_transfn");
    auto* state = state_for_row<ca::GammaGammaObservation>(fcinfo, context, 3);
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
        PG_RETURN_POINTER(state);
    ca::GammaGammaObservation row;
    row.x = as_double(fcinfo, 1);
    row.mean_spend = as_double(fcinfo, 2);
    row.weight = 1;
    if (row.x == 0)
        PG_RETURN_POINTER(state);
    if (std::isfinite(row.mean_spend) && row.mean_spend <= 0 && !serializes_partial_state(fcinfo)) {
        // Counted and reported by the final function, so that the message
        // says how many customers need their refunds handled. A partial
        // state that is serialized cannot carry the count: it raises here.
        if (state->bad_spend_rows == 0)
            state->first_bad_spend = row.mean_spend;
        state->bad_spend_rows += 1;
        PG_RETURN_POINTER(state);
    }
    check_spend_observation(row);
    add_row(arena_for(context), state, row);
    PG_RETURN_POINTER(state);
}

// bgbb_fit(x, t_x, n [, l2_penalty]): rows with a NULL argument are skipped;
// invalid patterns are errors.
CA_FUNCTION(ca_bgbb_fit_transfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "bgbb_fit_transfn");
    auto* state = state_for_row<ca::BgbbObservation>(fcinfo, context, 4);
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
        PG_RETURN_POINTER(state);
    ca::BgbbObservation row;
    row.x = as_double(fcinfo, 1);
    row.t_x = as_double(fcinfo, 2);
    row.n = as_double(fcinfo, 3);
    row.weight = 1;
    ca::bgbb_validate(row);
    add_row(arena_for(context), state, row);
    PG_RETURN_POINTER(state);
}

// sbg_fit(t, churned [, l2_penalty]): rows with a NULL argument are skipped.
CA_FUNCTION(ca_sbg_fit_transfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "sbg_fit_transfn");
    auto* state = state_for_row<ca::SbgObservation>(fcinfo, context, 3);
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
        PG_RETURN_POINTER(state);
    ca::SbgObservation row;
    row.t = as_double(fcinfo, 1);
    row.churned = PG_GETARG_BOOL(2);
    row.weight = 1;
    ca::sbg_validate(row);
    add_row(arena_for(context), state, row);
    PG_RETURN_POINTER(state);
}

CA_FUNCTION(ca_bgbb_fit_combinefn) { return fit_combine<ca::BgbbObservation>(fcinfo, "bgbb_fit_combinefn"); }
CA_FUNCTION(ca_sbg_fit_combinefn) { return fit_combine<ca::SbgObservation>(fcinfo, "sbg_fit_combinefn"); }

CA_FUNCTION(ca_btyd_fit_combinefn) { return fit_combine<ca::BtydObservation>(fcinfo, "btyd_fit_combinefn"); }
CA_FUNCTION(ca_btyd_fit_serialfn) { return fit_serialize<ca::BtydObservation>(fcinfo); }
CA_FUNCTION(ca_btyd_fit_deserialfn) { return fit_deserialize<ca::BtydObservation>(fcinfo, "btyd_fit_deserialfn"); }
CA_FUNCTION(ca_gamma_gamma_fit_combinefn) {
    return fit_combine<ca::GammaGammaObservation>(fcinfo, "gamma_gamma_fit_combinefn");
}
CA_FUNCTION(ca_gamma_gamma_fit_serialfn) { return fit_serialize<ca::GammaGammaObservation>(fcinfo); }
CA_FUNCTION(ca_gamma_gamma_fit_deserialfn) {
    return fit_deserialize<ca::GammaGammaObservation>(fcinfo, "gamma_gamma_fit_deserialfn");
}

// ---------------------------------------------------------------------------
// Fit aggregates: final functions (the fit; READ_ONLY on the state)
// ---------------------------------------------------------------------------

namespace {

using TripleState = FitState<ca::BtydObservation>;
using SpendState = FitState<ca::GammaGammaObservation>;

double fit_customers(const SpendState* state) {
    double customers = 0;
    for (std::uint32_t i = 0; i < state->rows.size; ++i)
        customers += state->rows.data[i].weight;
    return customers;
}

ca::BtydFitOptions fit_options(double l2_penalty) {
    ca::BtydFitOptions options;
    options.l2_penalty = l2_penalty;
    options.interrupts = ca::pg::interrupts();
    return options;
}

// Result fields shared by the model types after their parameters:
// log_likelihood, customers, converged, iterations, then (pareto_nbd_model
// only) boundary (text, NULL when nullptr), then standard_errors and
// covariance (float8[], NULL without a covariance). A database still on
// 0.1.0 has the types without the fields after iterations, which are then
// left out.
struct FitSummary {
    double log_likelihood;
    double customers;
    bool converged;
    int iterations;
    const ca::ParameterCovariance* covariance = nullptr;
    bool has_boundary = false;
    const char* boundary = nullptr;
};

Datum model_datum(FunctionCallInfo fcinfo, const double* parameters, int parameter_count, const FitSummary& fit) {
    TupleDesc descriptor = ca::pg::result_descriptor(fcinfo, &fcinfo->flinfo->fn_extra);
    constexpr int kMaxFields = 16;
    if (descriptor->natts > kMaxFields || descriptor->natts < parameter_count + 4)
        throw ca::Error(ca::ErrorKind::data_exception, "model type has an unexpected number of fields");
    Datum values[kMaxFields];
    bool nulls[kMaxFields] = {false};
    for (int i = 0; i < parameter_count; ++i)
        values[i] = Float8GetDatum(parameters[i]);
    values[parameter_count] = Float8GetDatum(fit.log_likelihood);
    values[parameter_count + 1] = Int64GetDatum(static_cast<std::int64_t>(std::llround(fit.customers)));
    values[parameter_count + 2] = BoolGetDatum(fit.converged);
    values[parameter_count + 3] = Int32GetDatum(fit.iterations);
    for (int i = parameter_count + 4; i < descriptor->natts; ++i)
        nulls[i] = true;
    int next = parameter_count + 4;
    if (fit.has_boundary) {
        if (descriptor->natts > next && fit.boundary != nullptr) {
            values[next] = CStringGetTextDatum(fit.boundary);
            nulls[next] = false;
        }
        ++next;
    }
    const ca::ParameterCovariance* c = fit.covariance;
    if (descriptor->natts >= next + 2 && c != nullptr && c->d == parameter_count) {
        double se[4];
        for (int i = 0; i < parameter_count; ++i)
            se[i] = ca::parameter_standard_error(*c, i, parameters[i]);
        values[next] = ca::pg::float8_array_datum(se, parameter_count);
        values[next + 1] = ca::pg::float8_array_datum(c->values.data(), c->d * c->d);
        nulls[next] = nulls[next + 1] = false;
    }
    return HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
}

}  // namespace

CA_FUNCTION(ca_bgnbd_fit_finalfn) {
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    const auto* state = reinterpret_cast<const TripleState*>(PG_GETARG_POINTER(0));
    if (state->rows.size == 0)
        PG_RETURN_NULL();
    const ca::BgnbdModel m = ca::fit_bgnbd(state->rows.data, state->rows.size, fit_options(state->l2_penalty));
    const double parameters[4] = {m.r, m.alpha, m.a, m.b};
    return model_datum(fcinfo, parameters, 4,
                       FitSummary{m.log_likelihood, m.customers, m.converged, m.iterations, &m.covariance});
}

CA_FUNCTION(ca_pareto_nbd_fit_finalfn) {
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    const auto* state = reinterpret_cast<const TripleState*>(PG_GETARG_POINTER(0));
    if (state->rows.size == 0)
        PG_RETURN_NULL();
    const ca::ParetoNbdModel m = ca::fit_pareto_nbd(state->rows.data, state->rows.size, fit_options(state->l2_penalty));
    const double parameters[4] = {m.r, m.alpha, m.s, m.beta};
    return model_datum(fcinfo, parameters, 4,
                       FitSummary{m.log_likelihood, m.customers, m.converged, m.iterations, &m.covariance, true,
                                  ca::boundary_name(m.boundary)});
}

CA_FUNCTION(ca_mbgnbd_fit_finalfn) {
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    const auto* state = reinterpret_cast<const TripleState*>(PG_GETARG_POINTER(0));
    if (state->rows.size == 0)
        PG_RETURN_NULL();
    const ca::MbgnbdModel m = ca::fit_mbgnbd(state->rows.data, state->rows.size, fit_options(state->l2_penalty));
    const double parameters[4] = {m.r, m.alpha, m.a, m.b};
    return model_datum(fcinfo, parameters, 4,
                       FitSummary{m.log_likelihood, m.customers, m.converged, m.iterations, &m.covariance});
}

CA_FUNCTION(ca_bgbb_fit_finalfn) {
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    const auto* state = reinterpret_cast<const FitState<ca::BgbbObservation>*>(PG_GETARG_POINTER(0));
    if (state->rows.size == 0)
        PG_RETURN_NULL();
    const ca::BgbbModel m = ca::fit_bgbb(state->rows.data, state->rows.size, fit_options(state->l2_penalty));
    const double parameters[4] = {m.alpha, m.beta, m.gamma, m.delta};
    return model_datum(fcinfo, parameters, 4,
                       FitSummary{m.log_likelihood, m.customers, m.converged, m.iterations, &m.covariance});
}

CA_FUNCTION(ca_sbg_fit_finalfn) {
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    const auto* state = reinterpret_cast<const FitState<ca::SbgObservation>*>(PG_GETARG_POINTER(0));
    if (state->rows.size == 0)
        PG_RETURN_NULL();
    const ca::SbgModel m = ca::fit_sbg(state->rows.data, state->rows.size, fit_options(state->l2_penalty));
    const double parameters[2] = {m.alpha, m.beta};
    return model_datum(fcinfo, parameters, 2,
                       FitSummary{m.log_likelihood, m.customers, m.converged, m.iterations, &m.covariance});
}

CA_FUNCTION(ca_gamma_gamma_fit_finalfn) {
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    const auto* state = reinterpret_cast<const SpendState*>(PG_GETARG_POINTER(0));
    if (state->bad_spend_rows > 0)
        throw ca::Error(ca::ErrorKind::invalid_parameter_value,
                        "mean spend must be positive and finite for the Gamma-Gamma model",
                        printf_string("%.0f of %.0f customers with repeat purchases have a zero or "
                                      "negative mean_spend (the first: %g).",
                                      state->bad_spend_rows, state->bad_spend_rows + fit_customers(state),
                                      state->first_bad_spend),
                        "Leave out or correct customers whose refunds make the mean spend zero or negative, "
                        "e.g. with WHERE mean_spend > 0.");
    if (state->rows.size == 0)
        PG_RETURN_NULL();
    const ca::GammaGammaModel m =
        ca::fit_gamma_gamma(state->rows.data, state->rows.size, fit_options(state->l2_penalty));
    const double parameters[3] = {m.p, m.q, m.gamma};
    return model_datum(fcinfo, parameters, 3,
                       FitSummary{m.log_likelihood, m.customers, m.converged, m.iterations, &m.covariance});
}

// ---------------------------------------------------------------------------
// Per-customer predictions (STRICT; the core validates model, customer and
// horizon)
// ---------------------------------------------------------------------------

// bgnbd_p_alive(model, x, t_x, t_cal)
CA_FUNCTION(ca_bgnbd_p_alive) {
    const ca::BgnbdModel model = read_bgnbd(fcinfo, 0);
    PG_RETURN_FLOAT8(ca::bgnbd_p_alive(model, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3)));
}

// bgnbd_expected(model, t, x, t_x, t_cal)
CA_FUNCTION(ca_bgnbd_expected) {
    const ca::BgnbdModel model = read_bgnbd(fcinfo, 0);
    PG_RETURN_FLOAT8(
        ca::bgnbd_expected(model, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3), PG_GETARG_FLOAT8(4)));
}

// bgnbd_expected(model, t): a new customer's repeat purchases in (0, t]
CA_FUNCTION(ca_bgnbd_expected_new) {
    const ca::BgnbdModel model = read_bgnbd(fcinfo, 0);
    PG_RETURN_FLOAT8(ca::bgnbd_unconditional_expected(model, PG_GETARG_FLOAT8(1)));
}

// bgnbd_repurchase_score(model, t, x, t_x, t_cal)
CA_FUNCTION(ca_bgnbd_repurchase_score) {
    const ca::BgnbdModel model = read_bgnbd(fcinfo, 0);
    PG_RETURN_FLOAT8(ca::bgnbd_repurchase_score(model, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3),
                                                PG_GETARG_FLOAT8(4)));
}

CA_FUNCTION(ca_pareto_nbd_p_alive) {
    const ca::ParetoNbdModel model = read_pareto_nbd(fcinfo, 0);
    PG_RETURN_FLOAT8(ca::pareto_nbd_p_alive(model, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3)));
}

CA_FUNCTION(ca_pareto_nbd_expected) {
    const ca::ParetoNbdModel model = read_pareto_nbd(fcinfo, 0);
    PG_RETURN_FLOAT8(ca::pareto_nbd_expected(model, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3),
                                             PG_GETARG_FLOAT8(4)));
}

CA_FUNCTION(ca_pareto_nbd_expected_new) {
    const ca::ParetoNbdModel model = read_pareto_nbd(fcinfo, 0);
    PG_RETURN_FLOAT8(ca::pareto_nbd_unconditional_expected(model, PG_GETARG_FLOAT8(1)));
}

CA_FUNCTION(ca_pareto_nbd_repurchase_score) {
    const ca::ParetoNbdModel model = read_pareto_nbd(fcinfo, 0);
    PG_RETURN_FLOAT8(ca::pareto_nbd_repurchase_score(model, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2),
                                                     PG_GETARG_FLOAT8(3), PG_GETARG_FLOAT8(4)));
}

// gamma_gamma_expected_spend(model, x, mean_spend): not STRICT, because a
// customer without repeat purchases (x = 0) has no mean spend and gets the
// population mean p gamma / (q - 1). NULL model or x: NULL; NULL mean_spend
// with x > 0: NULL.
CA_FUNCTION(ca_gamma_gamma_expected_spend) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        PG_RETURN_NULL();
    const ca::GammaGammaModel model = read_gamma_gamma(fcinfo, 0);
    const double x = PG_GETARG_FLOAT8(1);
    if (PG_ARGISNULL(2) && x != 0) {
        // Validate the rest anyway: a bad model or x is an error, not NULL.
        ca::gamma_gamma_expected_spend(model, x, 1.0);
        PG_RETURN_NULL();
    }
    PG_RETURN_FLOAT8(ca::gamma_gamma_expected_spend(model, x, PG_ARGISNULL(2) ? 0.0 : PG_GETARG_FLOAT8(2)));
}

// clv(model, x, t_x, t_cal, expected_spend, periods, discount_rate, period_length)
CA_FUNCTION(ca_clv_bgnbd) {
    const ca::BgnbdModel model = read_bgnbd(fcinfo, 0);
    PG_RETURN_FLOAT8(ca::bgnbd_clv(model, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3),
                                   PG_GETARG_FLOAT8(4), PG_GETARG_INT32(5), PG_GETARG_FLOAT8(6), PG_GETARG_FLOAT8(7),
                                   ca::pg::interrupts()));
}

CA_FUNCTION(ca_clv_pareto_nbd) {
    const ca::ParetoNbdModel model = read_pareto_nbd(fcinfo, 0);
    PG_RETURN_FLOAT8(ca::pareto_nbd_clv(model, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3),
                                        PG_GETARG_FLOAT8(4), PG_GETARG_INT32(5), PG_GETARG_FLOAT8(6),
                                        PG_GETARG_FLOAT8(7), ca::pg::interrupts()));
}

namespace {

// The covariance field of a model (field_number, 1-based): none (d = 0)
// when NULL; a value that is not d x d finite numbers is refused.
ca::ParameterCovariance read_covariance(FunctionCallInfo fcinfo, int argument, int field_number, int d) {
    auto* cache = ca::pg::call_cache<ModelCache>(fcinfo);
    HeapTupleHeader tuple = PG_GETARG_HEAPTUPLEHEADER(argument);
    const ca::pg::CompositeReader* reader = ca::pg::composite_reader(fcinfo, &cache->reader, tuple);
    ca::ParameterCovariance out;
    bool is_null = false;
    const Datum value = ca::pg::composite_field(reader, tuple, field_number, &is_null);
    if (is_null)
        return out;
    int count = 0;
    const double* values =
        ca::pg::float8_array(DatumGetArrayTypeP(value), &count, "covariance", ca::pg::kMaxParameterElements);
    if (count != d * d)
        throw ca::Error(ca::ErrorKind::invalid_parameter_value,
                        printf_string("covariance of the model must have %d elements", d * d),
                        printf_string("It has %d.", count));
    for (int i = 0; i < count; ++i) {
        if (!std::isfinite(values[i]))
            throw ca::Error(ca::ErrorKind::invalid_parameter_value, "covariance of the model must be finite");
        out.values[static_cast<std::size_t>(i)] = values[i];
    }
    out.d = d;
    return out;
}

// Draws are bounded (kMaxClvDraws) and the bootstrap polls the interrupt
// flag at each, so a large request can be cancelled.
Datum clv_interval_datum(FunctionCallInfo fcinfo, const ca::ClvInterval& interval) {
    auto* cache = ca::pg::call_cache<ModelCache>(fcinfo);
    TupleDesc descriptor = ca::pg::result_descriptor(fcinfo, &cache->descriptor);
    Datum values[3] = {Float8GetDatum(interval.estimate), Float8GetDatum(interval.lower),
                       Float8GetDatum(interval.upper)};
    bool nulls[3] = {false, false, false};
    return ca::pg::tuple_datum(descriptor, values, nulls);
}

}  // namespace

// clv_interval(model, x, t_x, t_cal, expected_spend, periods, discount_rate,
//              period_length, draws, level, seed) -> (estimate, lower, upper)
CA_FUNCTION(ca_clv_interval_bgnbd) {
    ca::BgnbdModel model = read_bgnbd(fcinfo, 0);
    model.covariance = read_covariance(fcinfo, 0, 10, 4);
    const ca::ClvInterval interval =
        ca::bgnbd_clv_interval(model, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3),
                               PG_GETARG_FLOAT8(4), PG_GETARG_INT32(5), PG_GETARG_FLOAT8(6), PG_GETARG_FLOAT8(7),
                               PG_GETARG_INT32(8), PG_GETARG_FLOAT8(9), static_cast<std::uint64_t>(PG_GETARG_INT64(10)),
                               ca::pg::interrupts());
    return clv_interval_datum(fcinfo, interval);
}

CA_FUNCTION(ca_clv_interval_mbgnbd) {
    ca::MbgnbdModel model = read_mbgnbd(fcinfo, 0);
    model.covariance = read_covariance(fcinfo, 0, 10, 4);
    const ca::ClvInterval interval =
        ca::mbgnbd_clv_interval(model, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3),
                                PG_GETARG_FLOAT8(4), PG_GETARG_INT32(5), PG_GETARG_FLOAT8(6), PG_GETARG_FLOAT8(7),
                                PG_GETARG_INT32(8), PG_GETARG_FLOAT8(9),
                                static_cast<std::uint64_t>(PG_GETARG_INT64(10)), ca::pg::interrupts());
    return clv_interval_datum(fcinfo, interval);
}

CA_FUNCTION(ca_clv_interval_pareto_nbd) {
    ca::ParetoNbdModel model = read_pareto_nbd(fcinfo, 0);
    model.covariance = read_covariance(fcinfo, 0, 11, 4);
    const ca::ClvInterval interval =
        ca::pareto_nbd_clv_interval(model, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3),
                                    PG_GETARG_FLOAT8(4), PG_GETARG_INT32(5), PG_GETARG_FLOAT8(6), PG_GETARG_FLOAT8(7),
                                    PG_GETARG_INT32(8), PG_GETARG_FLOAT8(9),
                                    static_cast<std::uint64_t>(PG_GETARG_INT64(10)), ca::pg::interrupts());
    return clv_interval_datum(fcinfo, interval);
}

CA_FUNCTION(ca_clv_mbgnbd) {
    const ca::MbgnbdModel model = read_mbgnbd(fcinfo, 0);
    PG_RETURN_FLOAT8(ca::mbgnbd_clv(model, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3),
                                    PG_GETARG_FLOAT8(4), PG_GETARG_INT32(5), PG_GETARG_FLOAT8(6), PG_GETARG_FLOAT8(7),
                                    ca::pg::interrupts()));
}

CA_FUNCTION(ca_mbgnbd_p_alive) {
    const ca::MbgnbdModel model = read_mbgnbd(fcinfo, 0);
    PG_RETURN_FLOAT8(ca::mbgnbd_p_alive(model, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3)));
}

CA_FUNCTION(ca_mbgnbd_expected) {
    const ca::MbgnbdModel model = read_mbgnbd(fcinfo, 0);
    PG_RETURN_FLOAT8(
        ca::mbgnbd_expected(model, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3), PG_GETARG_FLOAT8(4)));
}

CA_FUNCTION(ca_mbgnbd_expected_new) {
    const ca::MbgnbdModel model = read_mbgnbd(fcinfo, 0);
    PG_RETURN_FLOAT8(ca::mbgnbd_unconditional_expected(model, PG_GETARG_FLOAT8(1)));
}

CA_FUNCTION(ca_mbgnbd_repurchase_score) {
    const ca::MbgnbdModel model = read_mbgnbd(fcinfo, 0);
    PG_RETURN_FLOAT8(ca::mbgnbd_repurchase_score(model, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3),
                                                 PG_GETARG_FLOAT8(4)));
}

// bgbb_p_alive(model, x, t_x, n)
CA_FUNCTION(ca_bgbb_p_alive) {
    const ca::BgbbModel model = read_bgbb(fcinfo, 0);
    PG_RETURN_FLOAT8(ca::bgbb_p_alive(model, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3)));
}

// bgbb_expected(model, n_star, x, t_x, n)
CA_FUNCTION(ca_bgbb_expected) {
    const ca::BgbbModel model = read_bgbb(fcinfo, 0);
    PG_RETURN_FLOAT8(
        ca::bgbb_expected(model, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3), PG_GETARG_FLOAT8(4)));
}

// bgbb_expected(model, n): a new customer's transactions in n opportunities
CA_FUNCTION(ca_bgbb_expected_new) {
    const ca::BgbbModel model = read_bgbb(fcinfo, 0);
    PG_RETURN_FLOAT8(ca::bgbb_unconditional_expected(model, PG_GETARG_FLOAT8(1)));
}

// bgbb_probability(model, x, n) = P(X(n) = x)
CA_FUNCTION(ca_bgbb_probability) {
    const ca::BgbbModel model = read_bgbb(fcinfo, 0);
    PG_RETURN_FLOAT8(ca::bgbb_probability(model, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2)));
}

CA_FUNCTION(ca_sbg_survival) {
    const ca::SbgModel model = read_sbg(fcinfo, 0);
    PG_RETURN_FLOAT8(ca::sbg_survival(model, PG_GETARG_FLOAT8(1)));
}

CA_FUNCTION(ca_sbg_retention) {
    const ca::SbgModel model = read_sbg(fcinfo, 0);
    PG_RETURN_FLOAT8(ca::sbg_retention(model, PG_GETARG_FLOAT8(1)));
}

// sbg_derl(model, renewals, discount_rate)
CA_FUNCTION(ca_sbg_derl) {
    const ca::SbgModel model = read_sbg(fcinfo, 0);
    PG_RETURN_FLOAT8(ca::sbg_derl(model, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2)));
}

// ---------------------------------------------------------------------------
// Covariates: bgnbd_cov_fit, pareto_nbd_cov_fit (x, t_x, t_cal, covariates
// float8[]) and the customer's own model, bgnbd_model(cov_model, covariates)
// ---------------------------------------------------------------------------

namespace {

// Rows (x, t_x, T, weight, z_1 .. z_k) in one flat array, k fixed by the
// first row.
struct CovFitState {
    ca::FlatArray<double> values;
    std::uint32_t k;
    std::uint32_t rows;
};

CovFitState* new_cov_state(MemoryContext context) {
    return new (MemoryContextAllocZero(context, sizeof(CovFitState))) CovFitState();
}

void set_covariate_count(CovFitState* state, std::uint32_t k) {
    if (state->k == 0) {
        state->k = k;
        return;
    }
    if (state->k != k)
        throw ca::Error(ca::ErrorKind::array_subscript_error, "every customer needs the same number of covariates",
                        printf_string("A customer has %u covariates, an earlier one %u.", k, state->k));
}

void add_cov_rows(const ca::Arena& arena, CovFitState* state, const double* rows, std::uint32_t count) {
    ca::pg::check_limit(std::uint64_t(state->rows) + count, kMaxFitRows,
                        "model fits with covariates accept at most "
                        "4000000 customers",
                        "Fit a sample.");
    state->values.append(arena, rows, count * (4 + state->k));
    state->rows += count;
}

enum CovField {
    cov_r,
    cov_alpha,
    cov_a,
    cov_b,
    cov_gamma_purchase,
    cov_gamma_dropout,
    cov_standard_errors = 10,
    cov_covariance,
    cov_fields
};

// The covariate model in a composite (fields as in CovField).
struct CovModelCache {
    void* reader;
    void* descriptor;
};

}  // namespace

CA_FUNCTION(ca_btyd_cov_fit_transfn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "btyd_cov_fit_transfn");
    auto* state = PG_ARGISNULL(0) ? new_cov_state(context) : reinterpret_cast<CovFitState*>(PG_GETARG_POINTER(0));
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
        PG_RETURN_POINTER(state);
    int k = 0;
    const double* z = ca::pg::float8_array(PG_GETARG_ARRAYTYPE_P(4), &k, "covariates", ca::kBtydMaxCovariates);
    if (k == 0)
        throw ca::Error(ca::ErrorKind::array_subscript_error, "covariates must not be empty");
    double row[4 + ca::kBtydMaxCovariates];
    row[0] = as_double(fcinfo, 1);
    row[1] = as_double(fcinfo, 2);
    row[2] = as_double(fcinfo, 3);
    row[3] = 1;
    ca::btyd_validate(ca::BtydObservation{row[0], row[1], row[2], 1});
    for (int j = 0; j < k; ++j) {
        if (!std::isfinite(z[j]))
            throw ca::Error(ca::ErrorKind::invalid_parameter_value, "covariates must be finite",
                            printf_string("Covariate %d of a customer is %g.", j + 1, z[j]));
        row[4 + j] = z[j] + 0.0;
    }
    set_covariate_count(state, static_cast<std::uint32_t>(k));
    add_cov_rows(arena_for(context), state, row, 1);
    PG_RETURN_POINTER(state);
}

CA_FUNCTION(ca_btyd_cov_fit_combinefn) {
    MemoryContext context = ca::pg::aggregate_context(fcinfo, "btyd_cov_fit_combinefn");
    if (PG_ARGISNULL(1)) {
        if (PG_ARGISNULL(0))
            PG_RETURN_NULL();
        PG_RETURN_POINTER(PG_GETARG_POINTER(0));
    }
    auto* state = PG_ARGISNULL(0) ? new_cov_state(context) : reinterpret_cast<CovFitState*>(PG_GETARG_POINTER(0));
    const auto* other = reinterpret_cast<const CovFitState*>(PG_GETARG_POINTER(1));
    if (other->rows == 0)
        PG_RETURN_POINTER(state);
    set_covariate_count(state, other->k);
    add_cov_rows(arena_for(context), state, other->values.data, other->rows);
    PG_RETURN_POINTER(state);
}

namespace {

// The covariate fit's state as analytics_state (analytics_state.hpp).
void write_cov_fit_object(ca::StateWriter& writer, void* memory) {
    const auto* state = static_cast<const CovFitState*>(memory);
    ca::write_btyd_cov_fit_state(writer, state->k, state->values.data, state->rows);
}

void* read_cov_fit_object(MemoryContext context, const ca::pg::StateBytes& bytes) {
    CovFitState* state = new_cov_state(context);
    ca::read_btyd_cov_fit_state(arena_for(context), bytes.data, bytes.size, &state->k, &state->values, &state->rows);
    return state;
}

}  // namespace

namespace customer_analytics::pg {
extern const StateFamily kBtydCovFitFamily{CA_STATE_METHODS,        "btyd_cov_fit",      StateKind::btyd_cov_fit,
                                           StateKind::btyd_cov_fit, read_cov_fit_object, write_cov_fit_object};
}  // namespace customer_analytics::pg

namespace {

// The fit in the final function; the result is built after the core's
// model (which holds vectors) has been copied into plain arrays.
Datum cov_fit_final(FunctionCallInfo fcinfo, ca::BtydCovariateFamily family) {
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    const auto* state = reinterpret_cast<const CovFitState*>(PG_GETARG_POINTER(0));
    if (state->rows == 0)
        PG_RETURN_NULL();
    TupleDesc descriptor = ca::pg::result_descriptor(fcinfo, &fcinfo->flinfo->fn_extra);
    if (descriptor->natts != cov_fields)
        throw ca::Error(ca::ErrorKind::data_exception, "model type has an unexpected number of fields");
    const std::uint32_t k = state->k, width = 4 + k;
    double parameters[4], gamma_purchase[ca::kBtydMaxCovariates], gamma_dropout[ca::kBtydMaxCovariates];
    double log_likelihood, customers;
    bool converged;
    int iterations;
    constexpr int kMaxDimension = 4 + 2 * ca::kBtydMaxCovariates;
    const int dimension = 4 + 2 * static_cast<int>(k);
    double standard_errors[kMaxDimension], covariance[kMaxDimension * kMaxDimension];
    bool has_covariance = false;
    {
        ca::BtydFitOptions options;
        options.interrupts = ca::pg::interrupts();
        // The rows in a fixed order (lexicographic; all finite), whatever
        // order parallel workers combined them in, so that a parallel plan
        // sums the likelihood in the serial plan's order and gives exactly
        // its result.
        const double* values = state->values.data;
        std::vector<std::uint32_t> order(state->rows);
        for (std::uint32_t i = 0; i < state->rows; ++i)
            order[i] = i;
        ca::sort_interruptible(
            order.data(), order.data() + order.size(),
            [values, width](std::uint32_t a, std::uint32_t b) {
                const double* x = values + static_cast<std::size_t>(a) * width;
                const double* y = values + static_cast<std::size_t>(b) * width;
                return std::lexicographical_compare(x, x + width, y, y + width);
            },
            options.interrupts, width);
        std::vector<ca::BtydObservation> rows(state->rows);
        std::vector<double> z(static_cast<std::size_t>(state->rows) * k);
        for (std::uint32_t i = 0; i < state->rows; ++i) {
            const double* row = values + static_cast<std::size_t>(order[i]) * width;
            rows[i] = ca::BtydObservation{row[0], row[1], row[2], row[3]};
            std::copy(row + 4, row + width, z.begin() + static_cast<std::ptrdiff_t>(i) * k);
        }
        const ca::BtydCovariateModel m =
            ca::fit_btyd_covariates(family, rows.data(), z.data(), rows.size(), static_cast<int>(k), options);
        parameters[0] = m.r;
        parameters[1] = m.alpha;
        parameters[2] = m.a_or_s;
        parameters[3] = m.b_or_beta;
        std::copy(m.gamma_purchase.begin(), m.gamma_purchase.end(), gamma_purchase);
        std::copy(m.gamma_dropout.begin(), m.gamma_dropout.end(), gamma_dropout);
        log_likelihood = m.log_likelihood;
        customers = m.customers;
        converged = m.converged;
        iterations = m.iterations;
        // Standard errors: of r, alpha, a|s, b|beta by the delta method from
        // their logarithms, of the coefficients directly.
        has_covariance = m.covariance.size() == static_cast<std::size_t>(dimension) * dimension;
        if (has_covariance) {
            std::copy(m.covariance.begin(), m.covariance.end(), covariance);
            for (int i = 0; i < dimension; ++i)
                standard_errors[i] = (i < 4 ? parameters[i] : 1.0) * std::sqrt(covariance[i * dimension + i]);
        }
    }
    Datum values[cov_fields];
    bool nulls[cov_fields] = {false};
    nulls[cov_standard_errors] = nulls[cov_covariance] = !has_covariance;
    if (has_covariance) {
        values[cov_standard_errors] = ca::pg::float8_array_datum(standard_errors, dimension);
        values[cov_covariance] = ca::pg::float8_array_datum(covariance, dimension * dimension);
    }
    for (int i = 0; i < 4; ++i)
        values[i] = Float8GetDatum(parameters[i]);
    values[cov_gamma_purchase] = ca::pg::float8_array_datum(gamma_purchase, static_cast<int>(k));
    values[cov_gamma_dropout] = ca::pg::float8_array_datum(gamma_dropout, static_cast<int>(k));
    values[6] = Float8GetDatum(log_likelihood);
    values[7] = Int64GetDatum(static_cast<std::int64_t>(std::llround(customers)));
    values[8] = BoolGetDatum(converged);
    values[9] = Int32GetDatum(iterations);
    return ca::pg::tuple_datum(descriptor, values, nulls);
}

// An individual model: the covariate model's parameters with alpha and b
// (beta) scaled by the customer's covariates.
Datum customer_model(FunctionCallInfo fcinfo, ca::BtydCovariateFamily family) {
    auto* cache = ca::pg::call_cache<CovModelCache>(fcinfo);
    HeapTupleHeader tuple = PG_GETARG_HEAPTUPLEHEADER(0);
    const ca::pg::CompositeReader* reader = ca::pg::composite_reader(fcinfo, &cache->reader, tuple);
    const char* name = family == ca::BtydCovariateFamily::bgnbd ? "BG/NBD" : "Pareto/NBD";
    static const char* const kNames[2][4] = {{"r", "alpha", "a", "b"}, {"r", "alpha", "s", "beta"}};
    double parameters[4];
    for (int i = 0; i < 4; ++i)
        parameters[i] =
            model_parameter(reader, tuple, i, name, kNames[family == ca::BtydCovariateFamily::bgnbd ? 0 : 1][i]);
    int counts[2];
    const double* gammas[2];
    for (int i = 0; i < 2; ++i) {
        const Datum field = ca::pg::required_field(reader, tuple, cov_gamma_purchase + 1 + i,
                                                   i == 0 ? "gamma_purchase" : "gamma_dropout");
        gammas[i] = ca::pg::float8_array(DatumGetArrayTypeP(field), &counts[i],
                                         i == 0 ? "gamma_purchase" : "gamma_dropout", ca::kBtydMaxCovariates);
    }
    int k = 0;
    const double* z = ca::pg::float8_array(PG_GETARG_ARRAYTYPE_P(1), &k, "covariates", ca::kBtydMaxCovariates);
    if (counts[0] != k || counts[1] != k)
        throw ca::Error(ca::ErrorKind::array_subscript_error,
                        "the customer and the model have different numbers of covariates",
                        printf_string("The model has %d and %d coefficients, the customer %d covariates.", counts[0],
                                      counts[1], k));
    double individual[4];
    {
        ca::BtydCovariateModel m;
        m.r = parameters[0];
        m.alpha = parameters[1];
        m.a_or_s = parameters[2];
        m.b_or_beta = parameters[3];
        m.gamma_purchase.assign(gammas[0], gammas[0] + k);
        m.gamma_dropout.assign(gammas[1], gammas[1] + k);
        if (family == ca::BtydCovariateFamily::bgnbd) {
            const ca::BgnbdModel b = ca::bgnbd_covariate_model(m, z, k);
            individual[0] = b.r, individual[1] = b.alpha, individual[2] = b.a, individual[3] = b.b;
        } else {
            const ca::ParetoNbdModel p = ca::pareto_nbd_covariate_model(m, z, k);
            individual[0] = p.r, individual[1] = p.alpha, individual[2] = p.s, individual[3] = p.beta;
        }
    }
    // bgnbd_model or pareto_nbd_model: the parameters, the other fields NULL.
    TupleDesc descriptor = ca::pg::result_descriptor(fcinfo, &cache->descriptor);
    constexpr int kMaxFields = 12;
    Datum values[kMaxFields] = {0};
    bool nulls[kMaxFields];
    if (descriptor->natts < 8 || descriptor->natts > kMaxFields)
        throw ca::Error(ca::ErrorKind::data_exception, "model type has an unexpected number of fields");
    for (int i = 0; i < kMaxFields; ++i)
        nulls[i] = i >= 4;
    for (int i = 0; i < 4; ++i)
        values[i] = Float8GetDatum(individual[i]);
    return ca::pg::tuple_datum(descriptor, values, nulls);
}

}  // namespace

CA_FUNCTION(ca_bgnbd_cov_fit_finalfn) { return cov_fit_final(fcinfo, ca::BtydCovariateFamily::bgnbd); }
CA_FUNCTION(ca_pareto_nbd_cov_fit_finalfn) { return cov_fit_final(fcinfo, ca::BtydCovariateFamily::pareto_nbd); }
CA_FUNCTION(ca_bgnbd_model_covariates) { return customer_model(fcinfo, ca::BtydCovariateFamily::bgnbd); }
CA_FUNCTION(ca_pareto_nbd_model_covariates) { return customer_model(fcinfo, ca::BtydCovariateFamily::pareto_nbd); }

// The analytics_state entry points (analytics_state.hpp).
using ca::pg::kBtydFitFamily;
using ca::pg::kGammaGammaFitFamily;
CA_STATE_TRANSFN(ca_btyd_fit_transfn, kBtydFitFamily)
CA_STATE_COMBINEFN(ca_btyd_fit_combinefn, kBtydFitFamily)
CA_STATE_FINALFN(ca_bgnbd_fit_finalfn, kBtydFitFamily)
CA_STATE_FINALFN(ca_pareto_nbd_fit_finalfn, kBtydFitFamily)
CA_STATE_TRANSFN(ca_gamma_gamma_fit_transfn, kGammaGammaFitFamily)
CA_STATE_COMBINEFN(ca_gamma_gamma_fit_combinefn, kGammaGammaFitFamily)
CA_STATE_FINALFN(ca_gamma_gamma_fit_finalfn, kGammaGammaFitFamily)
using ca::pg::kBgbbFitFamily;
using ca::pg::kBtydCovFitFamily;
using ca::pg::kSbgFitFamily;
CA_STATE_FINALFN(ca_mbgnbd_fit_finalfn, kBtydFitFamily)
CA_STATE_TRANSFN(ca_bgbb_fit_transfn, kBgbbFitFamily)
CA_STATE_COMBINEFN(ca_bgbb_fit_combinefn, kBgbbFitFamily)
CA_STATE_FINALFN(ca_bgbb_fit_finalfn, kBgbbFitFamily)
CA_STATE_TRANSFN(ca_sbg_fit_transfn, kSbgFitFamily)
CA_STATE_COMBINEFN(ca_sbg_fit_combinefn, kSbgFitFamily)
CA_STATE_FINALFN(ca_sbg_fit_finalfn, kSbgFitFamily)
CA_STATE_TRANSFN(ca_btyd_cov_fit_transfn, kBtydCovFitFamily)
CA_STATE_COMBINEFN(ca_btyd_cov_fit_combinefn, kBtydCovFitFamily)
CA_STATE_FINALFN(ca_bgnbd_cov_fit_finalfn, kBtydCovFitFamily)
CA_STATE_FINALFN(ca_pareto_nbd_cov_fit_finalfn, kBtydCovFitFamily)
