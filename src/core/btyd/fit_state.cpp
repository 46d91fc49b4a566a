#include "fit_state.hpp"

#include <cmath>

#include "state_format.hpp"

#include "no_postgres.hpp"

namespace customer_analytics {

namespace {

void write_penalty(StateWriter& w, StateKind kind, double l2_penalty, bool penalty_given, std::uint32_t count) {
    w.header(kind);
    w.boolean(penalty_given);
    w.f64(l2_penalty);
    w.u32(count);
}

std::uint32_t read_penalty(StateReader& r, std::size_t row_size, double* l2_penalty, bool* penalty_given) {
    *penalty_given = r.boolean("penalty flag");
    *l2_penalty = r.finite_f64("l2 penalty");
    if (*l2_penalty < 0)
        r.fail("The l2 penalty is negative.");
    return r.count("row count", row_size);
}

}  // namespace

void write_btyd_fit_state(StateWriter& w, double l2_penalty, bool penalty_given, const BtydObservation* rows,
                          std::uint32_t count) {
    write_penalty(w, StateKind::btyd_fit, l2_penalty, penalty_given, count);
    for (std::uint32_t i = 0; i < count; ++i) {
        w.f64(rows[i].x);
        w.f64(rows[i].t_x);
        w.f64(rows[i].T);
        w.f64(rows[i].weight);
    }
}

void read_btyd_fit_state(const Arena& arena, const std::uint8_t* data, std::size_t size, double* l2_penalty,
                         bool* penalty_given, FlatArray<BtydObservation>* rows) {
    StateReader r(data, size, StateKind::btyd_fit);
    const std::uint32_t count = read_penalty(r, 4 * sizeof(double), l2_penalty, penalty_given);
    FlatArray<BtydObservation> out;
    out.reserve(arena, count);
    for (std::uint32_t i = 0; i < count; ++i) {
        BtydObservation row;
        row.x = r.f64("row");
        row.t_x = r.f64("row");
        row.T = r.f64("row");
        row.weight = r.f64("row");
        try {
            btyd_validate(row);
        } catch (const Error&) {
            r.fail("A row is not a valid (x, t_x, T) observation with a weight.");
        }
        out.data[out.size++] = row;
    }
    r.finish();
    *rows = out;
}

void write_gamma_gamma_fit_state(StateWriter& w, double l2_penalty, bool penalty_given,
                                 const GammaGammaObservation* rows, std::uint32_t count) {
    write_penalty(w, StateKind::gamma_gamma_fit, l2_penalty, penalty_given, count);
    for (std::uint32_t i = 0; i < count; ++i) {
        w.f64(rows[i].x);
        w.f64(rows[i].mean_spend);
        w.f64(rows[i].weight);
    }
}

void read_gamma_gamma_fit_state(const Arena& arena, const std::uint8_t* data, std::size_t size, double* l2_penalty,
                                bool* penalty_given, FlatArray<GammaGammaObservation>* rows) {
    StateReader r(data, size, StateKind::gamma_gamma_fit);
    const std::uint32_t count = read_penalty(r, 3 * sizeof(double), l2_penalty, penalty_given);
    FlatArray<GammaGammaObservation> out;
    out.reserve(arena, count);
    for (std::uint32_t i = 0; i < count; ++i) {
        GammaGammaObservation row;
        row.x = r.finite_f64("row");
        row.mean_spend = r.finite_f64("row");
        row.weight = r.finite_f64("row");
        // What gamma_gamma_fit's transition function admits.
        if (!(row.x >= 1 && row.x == std::floor(row.x) && row.mean_spend > 0 && row.weight >= 0))
            r.fail("A row is not a valid (x, mean_spend) observation with a weight.");
        out.data[out.size++] = row;
    }
    r.finish();
    *rows = out;
}

void write_bgbb_fit_state(StateWriter& w, double l2_penalty, bool penalty_given, const BgbbObservation* rows,
                          std::uint32_t count) {
    write_penalty(w, StateKind::bgbb_fit, l2_penalty, penalty_given, count);
    for (std::uint32_t i = 0; i < count; ++i) {
        w.f64(rows[i].x);
        w.f64(rows[i].t_x);
        w.f64(rows[i].n);
        w.f64(rows[i].weight);
    }
}

void read_bgbb_fit_state(const Arena& arena, const std::uint8_t* data, std::size_t size, double* l2_penalty,
                         bool* penalty_given, FlatArray<BgbbObservation>* rows) {
    StateReader r(data, size, StateKind::bgbb_fit);
    const std::uint32_t count = read_penalty(r, 4 * sizeof(double), l2_penalty, penalty_given);
    FlatArray<BgbbObservation> out;
    out.reserve(arena, count);
    for (std::uint32_t i = 0; i < count; ++i) {
        BgbbObservation row;
        row.x = r.f64("row");
        row.t_x = r.f64("row");
        row.n = r.f64("row");
        row.weight = r.f64("row");
        try {
            bgbb_validate(row);
        } catch (const Error&) {
            r.fail("A row is not a valid (x, t_x, n) observation with a weight.");
        }
        out.data[out.size++] = row;
    }
    r.finish();
    *rows = out;
}

void write_sbg_fit_state(StateWriter& w, double l2_penalty, bool penalty_given, const SbgObservation* rows,
                         std::uint32_t count) {
    write_penalty(w, StateKind::sbg_fit, l2_penalty, penalty_given, count);
    for (std::uint32_t i = 0; i < count; ++i) {
        w.f64(rows[i].t);
        w.boolean(rows[i].churned);
        w.f64(rows[i].weight);
    }
}

void read_sbg_fit_state(const Arena& arena, const std::uint8_t* data, std::size_t size, double* l2_penalty,
                        bool* penalty_given, FlatArray<SbgObservation>* rows) {
    StateReader r(data, size, StateKind::sbg_fit);
    const std::uint32_t count = read_penalty(r, 2 * sizeof(double) + 1, l2_penalty, penalty_given);
    FlatArray<SbgObservation> out;
    out.reserve(arena, count);
    for (std::uint32_t i = 0; i < count; ++i) {
        SbgObservation row;
        row.t = r.f64("row");
        row.churned = r.boolean("row");
        row.weight = r.f64("row");
        try {
            sbg_validate(row);
        } catch (const Error&) {
            r.fail("A row is not a valid (t, churned) observation with a weight.");
        }
        out.data[out.size++] = row;
    }
    r.finish();
    *rows = out;
}

void write_btyd_cov_fit_state(StateWriter& w, std::uint32_t k, const double* values, std::uint32_t rows) {
    w.header(StateKind::btyd_cov_fit);
    w.u32(k);
    w.u32(rows);
    w.f64_array(values, static_cast<std::size_t>(rows) * (4 + k));
}

void read_btyd_cov_fit_state(const Arena& arena, const std::uint8_t* data, std::size_t size, std::uint32_t* k,
                             FlatArray<double>* values, std::uint32_t* rows) {
    StateReader r(data, size, StateKind::btyd_cov_fit);
    const std::uint32_t covariates = r.u32("covariate count");
    if (covariates > static_cast<std::uint32_t>(kBtydMaxCovariates))
        r.fail("The covariate count is out of range.");
    const std::uint32_t count = r.count("row count", (4 + covariates) * sizeof(double));
    if (count > 0 && covariates == 0)
        r.fail("Rows without covariates.");
    const std::size_t width = 4 + covariates;
    FlatArray<double> out;
    out.reserve(arena, static_cast<std::uint64_t>(count) * width);
    r.finite_f64_array(out.data, static_cast<std::size_t>(count) * width, "row");
    out.size = count * static_cast<std::uint32_t>(width);
    for (std::uint32_t i = 0; i < count; ++i) {
        const double* row = out.data + i * width;
        try {
            btyd_validate(BtydObservation{row[0], row[1], row[2], row[3]});
        } catch (const Error&) {
            r.fail("A row is not a valid (x, t_x, T) observation with a weight.");
        }
    }
    r.finish();
    *k = covariates;
    *values = out;
    *rows = count;
}

}  // namespace customer_analytics
