// The serialized states of the model-fit aggregates (state_format.hpp):
// bgnbd_fit, pareto_nbd_fit and mbgnbd_fit share StateKind::btyd_fit, rows
// (x, t_x, T, weight); gamma_gamma_fit has StateKind::gamma_gamma_fit, rows
// (x, mean_spend, weight); bgbb_fit StateKind::bgbb_fit, rows (x, t_x, n,
// weight); sbg_fit StateKind::sbg_fit, rows (t, churned, weight);
// bgnbd_cov_fit and pareto_nbd_cov_fit StateKind::btyd_cov_fit: the number
// of covariates k (1 to kBtydMaxCovariates, 0 before the first row) and
// rows (x, t_x, T, weight, z_1 .. z_k), kept as given (no merging: with
// covariates customers rarely share a row). Both hold whether the l2_penalty overload was used,
// the penalty and the distinct rows with their weights. The readers check
// the penalty and every row as the transition functions do, fill *rows from
// arena and raise invalid_binary_representation for anything else.
#pragma once

#include <cstddef>
#include <cstdint>

#include "arena.hpp"
#include "btyd.hpp"

namespace customer_analytics {

class StateWriter;

void write_btyd_fit_state(StateWriter& writer, double l2_penalty, bool penalty_given, const BtydObservation* rows,
                          std::uint32_t count);
void read_btyd_fit_state(const Arena& arena, const std::uint8_t* data, std::size_t size, double* l2_penalty,
                         bool* penalty_given, FlatArray<BtydObservation>* rows);

void write_gamma_gamma_fit_state(StateWriter& writer, double l2_penalty, bool penalty_given,
                                 const GammaGammaObservation* rows, std::uint32_t count);
void read_gamma_gamma_fit_state(const Arena& arena, const std::uint8_t* data, std::size_t size, double* l2_penalty,
                                bool* penalty_given, FlatArray<GammaGammaObservation>* rows);

void write_bgbb_fit_state(StateWriter& writer, double l2_penalty, bool penalty_given, const BgbbObservation* rows,
                          std::uint32_t count);
void read_bgbb_fit_state(const Arena& arena, const std::uint8_t* data, std::size_t size, double* l2_penalty,
                         bool* penalty_given, FlatArray<BgbbObservation>* rows);

void write_sbg_fit_state(StateWriter& writer, double l2_penalty, bool penalty_given, const SbgObservation* rows,
                         std::uint32_t count);
void read_sbg_fit_state(const Arena& arena, const std::uint8_t* data, std::size_t size, double* l2_penalty,
                        bool* penalty_given, FlatArray<SbgObservation>* rows);

// values holds rows * (4 + k) doubles.
void write_btyd_cov_fit_state(StateWriter& writer, std::uint32_t k, const double* values, std::uint32_t rows);
void read_btyd_cov_fit_state(const Arena& arena, const std::uint8_t* data, std::size_t size, std::uint32_t* k,
                             FlatArray<double>* values, std::uint32_t* rows);

}  // namespace customer_analytics
