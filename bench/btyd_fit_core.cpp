// bench/btyd_fit_core.cpp -- fits the CSV of bench/btyd_simulate.cpp with the
// C++ core directly (no PostgreSQL): timing of the pure fit, estimates,
// standard errors and z-scores against the true parameters.
//
//   g++ -O2 -std=c++17 -Isrc/core src/core/*.cpp src/core/btyd/*.cpp bench/btyd_fit_core.cpp -o btyd_fit_core
//   btyd_fit_core [--bgnbd r,alpha,a,b] [--pareto r,alpha,s,beta]
//                 [--sql-bgnbd r,alpha,a,b] [--sql-pareto r,alpha,s,beta] [FILE]
//
// Reads `model,x,t_x,t_cal` lines from FILE (default stdin). --bgnbd and
// --pareto give the true parameters (default: the simulator's defaults);
// --sql-* the estimates returned by the SQL aggregates, shown next to the
// core's (they should be identical: same data, deterministic optimizer).
//
// For each model it prints: customers, distinct triples, the wall time of
// fit_bgnbd / fit_pareto_nbd on the customers one by one (weight 1 each;
// the core merges duplicates itself, as the SQL final function receives
// them already merged this includes a little more work than SQL's final
// step), the time of the standard errors, and a table
//     parameter | true | estimate | SE | |estimate - true| / SE [| SQL estimate]
// with SE from bgnbd_standard_errors / pareto_nbd_standard_errors (observed
// information at the estimate, delta method).

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <tuple>
#include <vector>

#include "btyd/btyd.hpp"

namespace ca = customer_analytics;

namespace {

using Params = std::array<double, 4>;

bool parse_params(const char* s, Params& out) {
    Params v{};
    const char* p = s;
    for (int i = 0; i < 4; ++i) {
        char* end = nullptr;
        v[i] = std::strtod(p, &end);
        if (end == p || !std::isfinite(v[i]))
            return false;
        p = end;
        if (i < 3) {
            if (*p != ',')
                return false;
            ++p;
        }
    }
    if (*p != '\0')
        return false;
    out = v;
    return true;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::size_t distinct_triples(std::vector<ca::BtydObservation> obs) {
    std::sort(obs.begin(), obs.end(), [](const ca::BtydObservation& l, const ca::BtydObservation& r) {
        return std::tie(l.x, l.t_x, l.T) < std::tie(r.x, r.t_x, r.T);
    });
    std::size_t m = 0;
    for (std::size_t i = 0; i < obs.size(); ++i)
        if (i == 0 || obs[i].x != obs[i - 1].x || obs[i].t_x != obs[i - 1].t_x || obs[i].T != obs[i - 1].T)
            ++m;
    return m;
}

void print_table(const char* title, const char* const (&names)[4], const Params& truth, const Params& est,
                 const std::array<double, 4>& se, const Params* sql) {
    std::printf("%s\n", title);
    std::printf("  %-9s %10s %12s %12s %13s", "parameter", "true", "estimate", "SE", "|est-true|/SE");
    if (sql)
        std::printf(" %14s", "SQL estimate");
    std::printf("\n");
    for (int i = 0; i < 4; ++i) {
        std::printf("  %-9s %10.4f %12.6f %12.6f %13.2f", names[i], truth[i], est[i], se[i],
                    std::fabs(est[i] - truth[i]) / se[i]);
        if (sql)
            std::printf(" %14.6f", (*sql)[i]);
        std::printf("\n");
    }
    if (sql) {
        double worst = 0;
        for (int i = 0; i < 4; ++i)
            worst = std::max(worst, std::fabs((*sql)[i] - est[i]) / std::fabs(est[i]));
        std::printf("  SQL vs core: max relative difference %.2g\n", worst);
    }
}

struct Rows {
    std::vector<ca::BtydObservation> bgnbd, pareto;
};

Rows read_csv(std::istream& in) {
    Rows rows;
    std::string line;
    std::size_t lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        if (line.empty())
            continue;
        const char* p = line.c_str();
        const char* comma = std::strchr(p, ',');
        if (!comma) {
            std::fprintf(stderr, "btyd_fit_core: line %zu: no model field\n", lineno);
            std::exit(1);
        }
        const std::string model(p, comma);
        ca::BtydObservation o;
        char* end = nullptr;
        o.x = std::strtod(comma + 1, &end);
        if (*end != ',')
            goto bad;
        o.t_x = std::strtod(end + 1, &end);
        if (*end != ',')
            goto bad;
        o.T = std::strtod(end + 1, &end);
        if (*end != '\0' && *end != '\r')
            goto bad;
        o.weight = 1;
        if (model == "bgnbd")
            rows.bgnbd.push_back(o);
        else if (model == "pareto_nbd")
            rows.pareto.push_back(o);
        else
            goto bad;
        continue;
    bad:
        std::fprintf(stderr, "btyd_fit_core: line %zu: expected model,x,t_x,t_cal: %s\n", lineno, line.c_str());
        std::exit(1);
    }
    return rows;
}

}  // namespace

int main(int argc, char** argv) {
    Params bg_true = {0.243, 4.414, 0.793, 2.426};
    Params pn_true = {0.553, 10.578, 0.606, 11.669};
    Params bg_sql{}, pn_sql{};
    bool have_bg_sql = false, have_pn_sql = false;
    const char* file = nullptr;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        bool ok = true;
        if (arg == "--bgnbd" && has_value)
            ok = parse_params(argv[++i], bg_true);
        else if (arg == "--pareto" && has_value)
            ok = parse_params(argv[++i], pn_true);
        else if (arg == "--sql-bgnbd" && has_value)
            ok = have_bg_sql = parse_params(argv[++i], bg_sql);
        else if (arg == "--sql-pareto" && has_value)
            ok = have_pn_sql = parse_params(argv[++i], pn_sql);
        else if (!arg.empty() && arg[0] != '-' && !file)
            file = argv[i];
        else
            ok = false;
        if (!ok) {
            std::fprintf(stderr,
                         "usage: btyd_fit_core [--bgnbd r,alpha,a,b] [--pareto r,alpha,s,beta]\n"
                         "                     [--sql-bgnbd r,alpha,a,b] [--sql-pareto r,alpha,s,beta] [FILE]\n");
            return 2;
        }
    }

    auto t0 = std::chrono::steady_clock::now();
    Rows rows;
    if (file) {
        std::ifstream in(file);
        if (!in) {
            std::perror(file);
            return 1;
        }
        rows = read_csv(in);
    } else {
        std::ios::sync_with_stdio(false);
        rows = read_csv(std::cin);
    }
    std::printf("core: read %zu + %zu rows in %.2f s\n", rows.bgnbd.size(), rows.pareto.size(), seconds_since(t0));

    try {
        if (!rows.bgnbd.empty()) {
            const auto& obs = rows.bgnbd;
            const std::size_t distinct = distinct_triples(obs);
            t0 = std::chrono::steady_clock::now();
            const ca::BgnbdModel m = ca::fit_bgnbd(obs.data(), obs.size());
            const double fit_s = seconds_since(t0);
            t0 = std::chrono::steady_clock::now();
            const auto se = ca::bgnbd_standard_errors(m, obs.data(), obs.size());
            const double se_s = seconds_since(t0);
            std::printf(
                "\nBG/NBD (core): %zu customers, %zu distinct triples, fit %.2f s, standard errors %.2f s, "
                "converged %s, %d iterations, log-likelihood %.2f\n",
                obs.size(), distinct, fit_s, se_s, m.converged ? "yes" : "NO", m.iterations, m.log_likelihood);
            std::printf("RESULT bgnbd customers=%zu distinct=%zu fit_s=%.3f se_s=%.3f converged=%d\n", obs.size(),
                        distinct, fit_s, se_s, m.converged ? 1 : 0);
            static const char* const names[4] = {"r", "alpha", "a", "b"};
            print_table("BG/NBD parameter recovery", names, bg_true, {m.r, m.alpha, m.a, m.b}, se,
                        have_bg_sql ? &bg_sql : nullptr);
        }
        if (!rows.pareto.empty()) {
            const auto& obs = rows.pareto;
            const std::size_t distinct = distinct_triples(obs);
            t0 = std::chrono::steady_clock::now();
            const ca::ParetoNbdModel m = ca::fit_pareto_nbd(obs.data(), obs.size());
            const double fit_s = seconds_since(t0);
            t0 = std::chrono::steady_clock::now();
            const auto se = ca::pareto_nbd_standard_errors(m, obs.data(), obs.size());
            const double se_s = seconds_since(t0);
            std::printf(
                "\nPareto/NBD (core): %zu customers, %zu distinct triples, fit %.2f s, standard errors "
                "%.2f s, converged %s, %d iterations, log-likelihood %.2f\n",
                obs.size(), distinct, fit_s, se_s, m.converged ? "yes" : "NO", m.iterations, m.log_likelihood);
            std::printf("RESULT pareto_nbd customers=%zu distinct=%zu fit_s=%.3f se_s=%.3f converged=%d\n", obs.size(),
                        distinct, fit_s, se_s, m.converged ? 1 : 0);
            static const char* const names[4] = {"r", "alpha", "s", "beta"};
            print_table("Pareto/NBD parameter recovery", names, pn_true, {m.r, m.alpha, m.s, m.beta}, se,
                        have_pn_sql ? &pn_sql : nullptr);
        }
    } catch (const ca::Error& e) {
        std::fprintf(stderr, "btyd_fit_core: %s %s\n", e.what(), e.detail().c_str());
        return 1;
    }
    return 0;
}
