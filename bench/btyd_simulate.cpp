// bench/btyd_simulate.cpp -- synthetic BTYD customers for bench/btyd.sh.
//
// Simulates N customers from known BG/NBD parameters and, separately, N
// customers from known Pareto/NBD parameters, and writes one CSV line per
// customer to stdout:
//
//     model,x,t_x,t_cal        model = bgnbd | pareto_nbd, times in weeks
//
// Standard library only (C++17). Usage:
//
//     btyd_simulate [N] [--seed S] [--model bgnbd|pareto_nbd|both]
//                   [--bgnbd r,alpha,a,b] [--pareto r,alpha,s,beta] [--continuous]
//
// Defaults: N = 1,000,000 per model, seed 20240601, the CDNOW estimates
// (BG/NBD r 0.243, alpha 4.414, a 0.793, b 2.426; Pareto/NBD r 0.553,
// alpha 10.578, s 0.606, beta 11.669).
//
// Calendar, like CDNOW: a 39-week calibration period of 273 days (day
// 0..272); each customer's first purchase is on a day drawn uniformly from
// the first 12 weeks (day 0..83), so t_cal = (272 - first day) / 7 weeks
// (the end day is inclusive, as btyd_inputs computes it) -- between 27 and
// 38.9 weeks. The first purchase is at model time 0 and the customer is
// observed on (0, t_cal].
//
// Purchase process (time unit: week):
//   BG/NBD      lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b); repeat
//               purchases at Poisson(lambda) times; after each one the
//               customer drops out with probability p.
//   Pareto/NBD  lambda ~ Gamma(r, rate alpha), mu ~ Gamma(s, rate beta);
//               lifetime ~ Exponential(mu); repeat purchases at
//               Poisson(lambda) times within the lifetime.
// x is the number of repeat purchases in (0, t_cal] -- the model's x, so the
// likelihood is exactly the model's. t_x, the time of the last one, is
// rounded to the nearest whole day (at least 1 day when x > 0, at most
// t_cal) and written as days / 7, mimicking data kept at day resolution:
// this keeps the number of distinct (x, t_x, t_cal) triples bounded, which
// is what the fits' cost depends on. --continuous writes the unrounded t_x
// instead (almost every customer with x > 0 is then a distinct triple).
//
// Reproducibility: one std::mt19937_64 per model (seeded with S and S + 1;
// the engine's output sequence is fixed by the C++ standard), and every draw
// is derived here from the raw 64-bit outputs -- no std::*_distribution,
// whose algorithms differ between standard libraries. Uniforms use the top
// 53 bits; normals the Marsaglia polar method; gammas Marsaglia-Tsang
// (shape < 1 by the boost u^(1/shape)); beta = G1 / (G1 + G2); exponentials
// -log(u) / rate. The output is identical across standard libraries given
// the same libm results for log, exp, pow and sqrt (glibc x86-64: yes).
// Numbers are written in the shortest form that reads back to the same
// double (std::to_chars), so PostgreSQL's float8 and strtod see identical
// values.

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr int kPeriodDays = 273;      // calibration period: day 0 .. 272
constexpr int kAcquisitionDays = 84;  // first purchase within the first 12 weeks

class Draws {
public:
    explicit Draws(std::uint64_t seed) : engine_(seed) {}

    // Uniform on [0, 1): top 53 bits of one engine output.
    double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
    // Uniform on (0, 1): never 0, so log() is finite.
    double uniform_open() { return (static_cast<double>(engine_() >> 11) + 0.5) * 0x1.0p-53; }
    // Integer uniform on [0, n) by rejection (no modulo bias).
    std::uint64_t below(std::uint64_t n) {
        const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
        for (;;) {
            const std::uint64_t v = engine_();
            if (v < limit)
                return v % n;
        }
    }
    double exponential(double rate) { return -std::log(uniform_open()) / rate; }
    double normal() {  // Marsaglia polar method; the second value is discarded
        for (;;) {
            const double u = 2 * uniform() - 1, v = 2 * uniform() - 1;
            const double s = u * u + v * v;
            if (s > 0 && s < 1)
                return u * std::sqrt(-2 * std::log(s) / s);
        }
    }
    // Gamma(shape, scale 1): Marsaglia & Tsang (2000).
    double gamma(double shape) {
        if (shape < 1)
            return gamma(shape + 1) * std::pow(uniform_open(), 1 / shape);
        const double d = shape - 1.0 / 3, c = 1 / std::sqrt(9 * d);
        for (;;) {
            double z, v;
            do {
                z = normal();
                v = 1 + c * z;
            } while (v <= 0);
            v = v * v * v;
            const double u = uniform_open();
            if (u < 1 - 0.0331 * z * z * z * z)
                return d * v;
            if (std::log(u) < 0.5 * z * z + d * (1 - v + std::log(v)))
                return d * v;
        }
    }
    double beta(double a, double b) {
        const double g1 = gamma(a), g2 = gamma(b);
        return g1 / (g1 + g2);
    }

private:
    std::mt19937_64 engine_;
};

class Output {
public:
    ~Output() { flush(); }
    void row(const char* model, int x, double t_x, double t_cal) {
        if (buf_.size() > (1 << 20))
            flush();
        buf_ += model;
        buf_ += ',';
        number(x);
        buf_ += ',';
        number(t_x);
        buf_ += ',';
        number(t_cal);
        buf_ += '\n';
    }
    void flush() {
        if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), stdout) != buf_.size()) {
            std::perror("btyd_simulate: write");
            std::exit(1);
        }
        buf_.clear();
    }

private:
    template <class T>
    void number(T v) {
        char tmp[32];
        const auto res = std::to_chars(tmp, tmp + sizeof tmp, v);
        buf_.append(tmp, res.ptr);
    }
    std::string buf_;
};

struct Customer {
    int x;
    double t_x, t_cal;
};

// Observation window and rounding shared by both models. `last` is the
// continuous time of the last repeat purchase (0 when x == 0).
Customer observe(int x, double last, int t_cal_days, bool continuous) {
    const double t_cal = t_cal_days / 7.0;
    if (x == 0)
        return {0, 0.0, t_cal};
    if (continuous)
        return {x, last, t_cal};
    long days = std::lround(last * 7);
    if (days < 1)
        days = 1;
    if (days > t_cal_days)
        days = t_cal_days;
    return {x, static_cast<double>(days) / 7.0, t_cal};
}

int t_cal_days_draw(Draws& g) {
    const int first_day = static_cast<int>(g.below(kAcquisitionDays));
    return kPeriodDays - 1 - first_day;
}

Customer bgnbd_customer(Draws& g, const double (&p)[4], bool continuous) {
    const double r = p[0], alpha = p[1], a = p[2], b = p[3];
    const int t_cal_days = t_cal_days_draw(g);
    const double T = t_cal_days / 7.0;
    const double lambda = g.gamma(r) / alpha;
    const double drop = g.beta(a, b);
    int x = 0;
    double t = 0, last = 0;
    if (lambda > 0) {
        for (;;) {
            t += g.exponential(lambda);
            if (!(t <= T))
                break;
            ++x;
            last = t;
            if (g.uniform() < drop)
                break;  // drops out after this purchase
        }
    }
    return observe(x, last, t_cal_days, continuous);
}

Customer pareto_customer(Draws& g, const double (&p)[4], bool continuous) {
    const double r = p[0], alpha = p[1], s = p[2], beta = p[3];
    const int t_cal_days = t_cal_days_draw(g);
    const double T = t_cal_days / 7.0;
    const double lambda = g.gamma(r) / alpha;
    const double mu = g.gamma(s) / beta;
    const double lifetime = mu > 0 ? g.exponential(mu) : HUGE_VAL;
    const double end = lifetime < T ? lifetime : T;
    int x = 0;
    double t = 0, last = 0;
    if (lambda > 0) {
        for (;;) {
            t += g.exponential(lambda);
            if (!(t <= end))
                break;
            ++x;
            last = t;
        }
    }
    return observe(x, last, t_cal_days, continuous);
}

bool parse_params(const char* s, double (&out)[4]) {
    double v[4];
    const char* p = s;
    for (int i = 0; i < 4; ++i) {
        char* end = nullptr;
        v[i] = std::strtod(p, &end);
        if (end == p || !(v[i] > 0) || !std::isfinite(v[i]))
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
    for (int i = 0; i < 4; ++i)
        out[i] = v[i];
    return true;
}

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: btyd_simulate [N] [--seed S] [--model bgnbd|pareto_nbd|both]\n"
                 "                     [--bgnbd r,alpha,a,b] [--pareto r,alpha,s,beta] [--continuous]\n");
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    long long n = 1000000;
    std::uint64_t seed = 20240601;
    bool do_bg = true, do_pn = true, continuous = false;
    double bg[4] = {0.243, 4.414, 0.793, 2.426};
    double pn[4] = {0.553, 10.578, 0.606, 11.669};
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--seed" && has_value) {
            seed = std::strtoull(argv[++i], nullptr, 10);
        } else if (arg == "--model" && has_value) {
            const std::string m = argv[++i];
            do_bg = m == "bgnbd" || m == "both";
            do_pn = m == "pareto_nbd" || m == "both";
            if (!do_bg && !do_pn)
                usage();
        } else if (arg == "--bgnbd" && has_value) {
            if (!parse_params(argv[++i], bg))
                usage();
        } else if (arg == "--pareto" && has_value) {
            if (!parse_params(argv[++i], pn))
                usage();
        } else if (arg == "--continuous") {
            continuous = true;
        } else if (!arg.empty() && arg[0] != '-') {
            char* end = nullptr;
            n = std::strtoll(arg.c_str(), &end, 10);
            if (*end != '\0' || n < 1)
                usage();
        } else {
            usage();
        }
    }

    const auto start = std::chrono::steady_clock::now();
    Output out;
    long long repeaters_bg = 0, repeaters_pn = 0;
    if (do_bg) {
        Draws g(seed);
        for (long long i = 0; i < n; ++i) {
            const Customer c = bgnbd_customer(g, bg, continuous);
            repeaters_bg += c.x > 0;
            out.row("bgnbd", c.x, c.t_x, c.t_cal);
        }
    }
    if (do_pn) {
        Draws g(seed + 1);
        for (long long i = 0; i < n; ++i) {
            const Customer c = pareto_customer(g, pn, continuous);
            repeaters_pn += c.x > 0;
            out.row("pareto_nbd", c.x, c.t_x, c.t_cal);
        }
    }
    out.flush();
    if (std::fflush(stdout) != 0) {
        std::perror("btyd_simulate: write");
        return 1;
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "btyd_simulate: %lld customers per model, seed %llu, %.2f s", n,
                 static_cast<unsigned long long>(seed), secs);
    if (do_bg)
        std::fprintf(stderr, "; bgnbd %.1f%% with a repeat purchase", 100.0 * repeaters_bg / n);
    if (do_pn)
        std::fprintf(stderr, "; pareto_nbd %.1f%% with a repeat purchase", 100.0 * repeaters_pn / n);
    std::fprintf(stderr, "\n");
    return 0;
}
