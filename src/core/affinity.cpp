#include "affinity.hpp"
#include "sort.hpp"
#include "state_format.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "no_postgres.hpp"

namespace customer_analytics {

namespace {

void require_param(bool ok, const char* message, const std::string& detail = {}) {
    if (!ok)
        throw Error(ErrorKind::invalid_parameter_value, message, detail);
}

uint64_t mix64(uint64_t x) {
    uint64_t z = x + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// In-memory hash of a name (never stored or shown; any good mix will do).
uint64_t hash_name(std::string_view s) {
    uint64_t h = mix64(s.size());
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        h = mix64(h ^ w);
    }
    if (i < s.size()) {
        uint64_t w = 0;
        std::memcpy(&w, s.data() + i, s.size() - i);
        h = mix64(h ^ w ^ 0xff00000000000000ULL);
    }
    return h;
}

int64_t checked_add(int64_t a, int64_t b) {
    int64_t out = 0;
    if (__builtin_add_overflow(a, b, &out))
        throw Error(ErrorKind::numeric_value_out_of_range, "count out of range");
    return out;
}

constexpr uint32_t kNoItem = std::numeric_limits<uint32_t>::max();
constexpr uint64_t kNoPair = std::numeric_limits<uint64_t>::max();

inline uint64_t pair_key(uint32_t a, uint32_t b) {
    if (a > b)
        std::swap(a, b);
    return (static_cast<uint64_t>(a) << 32) | b;
}

void validate_limits(const AffinityLimits& l) {
    require_param(l.max_items >= 1 && l.max_items <= 100000000, "max_items must be between 1 and 100000000");
    require_param(l.max_pairs >= 1 && l.max_pairs <= (int64_t{1} << 32), "max_pairs must be between 1 and 4294967296");
    require_param(l.max_basket_items >= 1 && l.max_basket_items <= 100000,
                  "max_basket_items must be between 1 and 100000");
}

}  // namespace

// ---------------------------------------------------------------------------
// overlap
// ---------------------------------------------------------------------------

OverlapStats overlap(int64_t x, int64_t y, int64_t xy, int64_t n) {
    require_param(x >= 0 && y >= 0 && xy >= 0 && n >= 0, "set sizes must not be negative");
    require_param(xy <= x && xy <= y, "intersection cannot be larger than either set");
    const __int128 uni = static_cast<__int128>(x) + y - xy;
    require_param(uni <= n, "the two sets cannot be larger than the population",
                  "|X| + |Y| - |X and Y| must not exceed n.");
    OverlapStats o;
    o.x = x;
    o.y = y;
    o.xy = xy;
    o.n = n;
    auto ratio = [](long double num, long double den) -> std::optional<double> {
        if (den == 0)
            return std::nullopt;
        return static_cast<double>(num / den);
    };
    const long double X = x, Y = y, XY = xy, N = n;
    o.support_x = ratio(X, N);
    o.support_y = ratio(Y, N);
    o.support_xy = ratio(XY, N);
    o.share_x_in_y = ratio(XY, X);
    o.share_y_in_x = ratio(XY, Y);
    o.jaccard = ratio(XY, static_cast<long double>(uni));
    o.lift = ratio(XY * N, X * Y);
    return o;
}

// ---------------------------------------------------------------------------
// AffinityState
// ---------------------------------------------------------------------------

struct AffinityState::Impl {
    AffinityLimits limits;
    int64_t baskets = 0;

    // Items, by id.
    std::vector<std::string> names;
    std::vector<uint64_t> hashes;
    std::vector<int64_t> counts;
    std::vector<uint32_t> item_slots;  // open addressing over ids; kNoItem = empty

    // Pairs: open addressing, key (a << 32 | b) with a < b; kNoPair = empty.
    std::vector<uint64_t> pair_keys;
    std::vector<int64_t> pair_counts;
    std::size_t pair_size = 0;

    // ---- items
    uint32_t find_item(std::string_view s, uint64_t h) const {
        if (item_slots.empty())
            return kNoItem;
        const std::size_t mask = item_slots.size() - 1;
        for (std::size_t i = h & mask;; i = (i + 1) & mask) {
            const uint32_t id = item_slots[i];
            if (id == kNoItem)
                return kNoItem;
            if (hashes[id] == h && names[id] == s)
                return id;
        }
    }
    void place_item(uint32_t id) {
        const std::size_t mask = item_slots.size() - 1;
        std::size_t i = hashes[id] & mask;
        while (item_slots[i] != kNoItem)
            i = (i + 1) & mask;
        item_slots[i] = id;
    }
    uint32_t insert_item(std::string_view s, uint64_t h) {
        if ((names.size() + 1) * 2 > item_slots.size()) {
            const std::size_t cap = std::max<std::size_t>(16, item_slots.size() * 2);
            item_slots.assign(cap, kNoItem);
            for (uint32_t id = 0; id < names.size(); ++id)
                place_item(id);
        }
        const auto id = static_cast<uint32_t>(names.size());
        names.emplace_back(s);
        hashes.push_back(h);
        counts.push_back(0);
        place_item(id);
        return id;
    }

    // ---- pairs
    std::size_t pair_slot(uint64_t key) const {
        const std::size_t mask = pair_keys.size() - 1;
        std::size_t i = mix64(key) & mask;
        while (pair_keys[i] != kNoPair && pair_keys[i] != key)
            i = (i + 1) & mask;
        return i;
    }
    bool has_pair(uint64_t key) const { return !pair_keys.empty() && pair_keys[pair_slot(key)] == key; }
    void grow_pairs() {
        const std::size_t cap = std::max<std::size_t>(64, pair_keys.size() * 2);
        std::vector<uint64_t> old_keys(cap, kNoPair);
        std::vector<int64_t> old_counts(cap, 0);
        old_keys.swap(pair_keys);
        old_counts.swap(pair_counts);
        for (std::size_t i = 0; i < old_keys.size(); ++i) {
            if (old_keys[i] == kNoPair)
                continue;
            const std::size_t s = pair_slot(old_keys[i]);
            pair_keys[s] = old_keys[i];
            pair_counts[s] = old_counts[i];
        }
    }
    void add_pair(uint64_t key, int64_t count) {
        if ((pair_size + 1) * 2 > pair_keys.size())
            grow_pairs();
        const std::size_t s = pair_slot(key);
        if (pair_keys[s] == kNoPair) {
            pair_keys[s] = key;
            pair_counts[s] = count;
            ++pair_size;
        } else {
            pair_counts[s] = checked_add(pair_counts[s], count);
        }
    }
    int64_t get_pair(uint64_t key) const {
        if (pair_keys.empty())
            return 0;
        const std::size_t s = pair_slot(key);
        return pair_keys[s] == key ? pair_counts[s] : 0;
    }

    [[noreturn]] void too_many_items() const {
        throw Error(ErrorKind::program_limit_exceeded, "too many distinct items for affinity",
                    "The limit is " + std::to_string(limits.max_items) + " distinct items.",
                    "Aggregate at a coarser level: categories rather than products.");
    }
    [[noreturn]] void too_many_pairs() const {
        throw Error(ErrorKind::program_limit_exceeded, "too many distinct item pairs for affinity",
                    "The limit is " + std::to_string(limits.max_pairs) + " distinct pairs.",
                    "Aggregate at a coarser level: categories rather than products.");
    }
};

AffinityState::AffinityState() : AffinityState(AffinityLimits{}) {}

AffinityState::AffinityState(const AffinityLimits& limits) : impl_(std::make_unique<Impl>()) {
    validate_limits(limits);
    impl_->limits = limits;
}

AffinityState::AffinityState(const AffinityState& o) : impl_(std::make_unique<Impl>(*o.impl_)) {}
AffinityState::AffinityState(AffinityState&& o) noexcept = default;
AffinityState& AffinityState::operator=(const AffinityState& o) {
    if (this != &o)
        impl_ = std::make_unique<Impl>(*o.impl_);
    return *this;
}
AffinityState& AffinityState::operator=(AffinityState&& o) noexcept = default;
AffinityState::~AffinityState() = default;

void AffinityState::add_basket(const std::vector<std::string>& items) {
    std::vector<std::string_view> views(items.begin(), items.end());
    add_basket(views);
}

void AffinityState::add_basket(const std::vector<std::string_view>& items) {
    Impl& s = *impl_;
    // Look every item up first; nothing changes until all checks pass.
    std::vector<uint32_t> ids;
    std::vector<std::pair<std::string_view, uint64_t>> missing;
    ids.reserve(items.size());
    for (std::string_view it : items) {
        if (it.size() > kMaxItemBytes)
            throw Error(ErrorKind::data_exception, "affinity item name is too long",
                        "An item name may have at most " + std::to_string(kMaxItemBytes) + " bytes.");
        const uint64_t h = hash_name(it);
        const uint32_t id = s.find_item(it, h);
        if (id == kNoItem)
            missing.emplace_back(it, h);
        else
            ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::sort(missing.begin(), missing.end());
    missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
    const std::size_t m = ids.size() + missing.size();
    if (m > static_cast<std::size_t>(s.limits.max_basket_items))
        throw Error(ErrorKind::program_limit_exceeded, "too many distinct items in one basket",
                    "A basket has " + std::to_string(m) + " distinct items; the limit is " +
                        std::to_string(s.limits.max_basket_items) + ".",
                    "Use a coarser item level or a smaller basket key.");
    if (s.names.size() + missing.size() > static_cast<std::size_t>(s.limits.max_items))
        s.too_many_items();
    if (s.baskets == std::numeric_limits<int64_t>::max())
        throw Error(ErrorKind::numeric_value_out_of_range, "count out of range");
    const std::size_t max_new = m * (m - (m > 0)) / 2;
    if (s.pair_size + max_new > static_cast<std::size_t>(s.limits.max_pairs)) {
        // Count the pairs that would really be new.
        std::size_t fresh = missing.size() * ids.size() + missing.size() * (missing.size() - (!missing.empty())) / 2;
        for (std::size_t i = 0; i < ids.size(); ++i)
            for (std::size_t j = i + 1; j < ids.size(); ++j)
                fresh += !s.has_pair(pair_key(ids[i], ids[j]));
        if (s.pair_size + fresh > static_cast<std::size_t>(s.limits.max_pairs))
            s.too_many_pairs();
    }

    // Commit.
    for (const auto& mh : missing)
        ids.push_back(s.insert_item(mh.first, mh.second));
    std::sort(ids.begin(), ids.end());
    ++s.baskets;
    for (uint32_t id : ids)
        ++s.counts[id];
    for (std::size_t i = 0; i < ids.size(); ++i)
        for (std::size_t j = i + 1; j < ids.size(); ++j)
            s.add_pair(pair_key(ids[i], ids[j]), 1);
}

void AffinityState::merge(const AffinityState& other, const Interrupts& interrupts) {
    if (&other == this) {
        const AffinityState copy(other);
        merge(copy, interrupts);
        return;
    }
    InterruptMeter meter(interrupts);
    Impl& s = *impl_;
    const Impl& o = *other.impl_;
    // Map the other state's items to ours, and check the limits, before
    // changing anything.
    std::vector<uint32_t> map(o.names.size(), kNoItem);
    std::size_t new_items = 0;
    for (uint32_t id = 0; id < o.names.size(); ++id) {
        meter.add(16);
        map[id] = s.find_item(o.names[id], o.hashes[id]);
        new_items += map[id] == kNoItem;
    }
    if (s.names.size() + new_items > static_cast<std::size_t>(s.limits.max_items))
        s.too_many_items();
    std::size_t new_pairs = 0;
    for (std::size_t i = 0; i < o.pair_keys.size(); ++i) {
        meter.add(8);
        const uint64_t k = o.pair_keys[i];
        if (k == kNoPair)
            continue;
        const uint32_t a = map[k >> 32], b = map[k & 0xffffffffu];
        new_pairs += (a == kNoItem || b == kNoItem) ? 1 : !s.has_pair(pair_key(a, b));
    }
    if (s.pair_size + new_pairs > static_cast<std::size_t>(s.limits.max_pairs))
        s.too_many_pairs();
    int64_t baskets = checked_add(s.baskets, o.baskets);
    for (uint32_t id = 0; id < o.names.size(); ++id)
        if (map[id] != kNoItem)
            checked_add(s.counts[map[id]], o.counts[id]);

    for (uint32_t id = 0; id < o.names.size(); ++id) {
        if (map[id] == kNoItem)
            map[id] = s.insert_item(o.names[id], o.hashes[id]);
        s.counts[map[id]] += o.counts[id];
    }
    s.baskets = baskets;
    for (std::size_t i = 0; i < o.pair_keys.size(); ++i) {
        meter.add(8);
        const uint64_t k = o.pair_keys[i];
        if (k == kNoPair)
            continue;
        s.add_pair(pair_key(map[k >> 32], map[k & 0xffffffffu]), o.pair_counts[i]);
    }
}

int64_t AffinityState::baskets() const { return impl_->baskets; }
std::size_t AffinityState::distinct_items() const { return impl_->names.size(); }
std::size_t AffinityState::distinct_pairs() const { return impl_->pair_size; }

int64_t AffinityState::item_count(std::string_view item) const {
    const uint32_t id = impl_->find_item(item, hash_name(item));
    return id == kNoItem ? 0 : impl_->counts[id];
}

int64_t AffinityState::pair_count(std::string_view a, std::string_view b) const {
    const uint32_t ia = impl_->find_item(a, hash_name(a)), ib = impl_->find_item(b, hash_name(b));
    if (ia == kNoItem || ib == kNoItem || ia == ib)
        return 0;
    return impl_->get_pair(pair_key(ia, ib));
}

std::vector<ItemStats> AffinityState::items() const {
    const Impl& s = *impl_;
    std::vector<ItemStats> out;
    out.reserve(s.names.size());
    for (std::size_t i = 0; i < s.names.size(); ++i)
        out.push_back(
            {s.names[i], s.counts[i], static_cast<double>(static_cast<long double>(s.counts[i]) / s.baskets)});
    std::sort(out.begin(), out.end(), [](const ItemStats& a, const ItemStats& b) {
        return a.count != b.count ? a.count > b.count : a.item < b.item;
    });
    return out;
}

std::vector<PairStats> AffinityState::pairs(const AffinityQuery& q, const Interrupts& interrupts) const {
    require_param(std::isfinite(q.min_support) && q.min_support >= 0 && q.min_support <= 1,
                  "min_support must be between 0 and 1");
    require_param(q.min_count >= 1, "min_count must be at least 1");
    require_param(q.top_n >= 1 && q.top_n <= 1000000, "top_n must be between 1 and 1000000");
    require_param(q.order_by == AffinityOrder::support || q.order_by == AffinityOrder::lift, "unknown affinity order");
    const Impl& s = *impl_;
    if (s.baskets == 0)
        return {};
    const long double N = static_cast<long double>(s.baskets);

    struct Cand {
        const std::string* a;
        const std::string* b;
        int64_t ca, cb, cab;
        double metric;
    };
    std::vector<Cand> cand;
    InterruptMeter meter(interrupts);
    for (std::size_t i = 0; i < s.pair_keys.size(); ++i) {
        meter.add(4);
        const uint64_t k = s.pair_keys[i];
        if (k == kNoPair)
            continue;
        const int64_t cab = s.pair_counts[i];
        if (cab < q.min_count)
            continue;
        if (static_cast<double>(cab / N) < q.min_support)
            continue;
        auto ia = static_cast<uint32_t>(k >> 32), ib = static_cast<uint32_t>(k & 0xffffffffu);
        if (s.names[ib] < s.names[ia])
            std::swap(ia, ib);
        const int64_t ca = s.counts[ia], cb = s.counts[ib];
        const double metric =
            q.order_by == AffinityOrder::support
                ? static_cast<double>(cab / N)
                : static_cast<double>(static_cast<long double>(cab) * N / (static_cast<long double>(ca) * cb));
        cand.push_back({&s.names[ia], &s.names[ib], ca, cb, cab, metric});
    }
    auto better = [](const Cand& x, const Cand& y) {
        if (x.metric != y.metric)
            return x.metric > y.metric;
        if (x.cab != y.cab)
            return x.cab > y.cab;
        if (*x.a != *y.a)
            return *x.a < *y.a;
        return *x.b < *y.b;
    };
    const std::size_t keep =
        smallest_sorted(cand.data(), cand.size(), static_cast<std::size_t>(q.top_n), better, interrupts);
    std::vector<PairStats> out;
    out.reserve(keep);
    for (std::size_t i = 0; i < keep; ++i) {
        const Cand& c = cand[i];
        const long double ca = c.ca, cb = c.cb, cab = c.cab;
        PairStats p;
        p.item_a = *c.a;
        p.item_b = *c.b;
        p.count_a = c.ca;
        p.count_b = c.cb;
        p.count_ab = c.cab;
        p.baskets = s.baskets;
        p.support_a = static_cast<double>(ca / N);
        p.support_b = static_cast<double>(cb / N);
        p.support_ab = static_cast<double>(cab / N);
        p.confidence_ab = static_cast<double>(cab / ca);
        p.confidence_ba = static_cast<double>(cab / cb);
        p.jaccard = static_cast<double>(cab / (ca + cb - cab));
        p.lift = static_cast<double>(cab * N / (ca * cb));
        out.push_back(std::move(p));
    }
    return out;
}

void write_affinity_state(StateWriter& w, const AffinityState& state, const AffinityQuery& q) {
    const AffinityState::Impl& s = *state.impl_;
    w.header(StateKind::affinity);
    w.f64(q.min_support);
    w.i64(q.min_count);
    w.i64(q.top_n);
    w.u8(q.order_by == AffinityOrder::lift ? 1 : 0);
    w.i64(s.baskets);
    w.u32(static_cast<uint32_t>(s.names.size()));
    for (std::size_t i = 0; i < s.names.size(); ++i) {
        w.u32(static_cast<uint32_t>(s.names[i].size()));
        w.bytes(s.names[i].data(), s.names[i].size());
        w.i64(s.counts[i]);
    }
    w.u32(static_cast<uint32_t>(s.pair_size));
    for (std::size_t i = 0; i < s.pair_keys.size(); ++i) {
        if (s.pair_keys[i] == kNoPair)
            continue;
        w.u32(static_cast<uint32_t>(s.pair_keys[i] >> 32));
        w.u32(static_cast<uint32_t>(s.pair_keys[i] & 0xffffffffu));
        w.i64(s.pair_counts[i]);
    }
}

AffinityState read_affinity_state(const uint8_t* data, std::size_t size, AffinityQuery* query,
                                  const AffinityLimits& limits) {
    StateReader r(data, size, StateKind::affinity);
    AffinityQuery q;
    q.min_support = r.finite_f64("minimum support");
    q.min_count = r.i64("minimum count");
    q.top_n = r.i64("top_n");
    const uint8_t order = r.u8("order");
    if (order > 1)
        r.fail("The order of the pairs is unknown.");
    q.order_by = order == 1 ? AffinityOrder::lift : AffinityOrder::support;
    if (q.min_support < 0 || q.min_support > 1 || q.min_count < 1 || q.top_n < 1 || q.top_n > 1000000)
        r.fail("The minimum support, minimum count or top_n is out of range.");
    AffinityState st(limits);
    AffinityState::Impl& s = *st.impl_;
    const int64_t baskets = r.i64("basket count");
    if (baskets < 0)
        r.fail("The basket count is negative.");
    s.baskets = baskets;
    const uint32_t item_limit = static_cast<uint32_t>(std::min<int64_t>(limits.max_items, UINT32_MAX));
    const uint32_t n_items = r.count("item count", 12, item_limit);
    for (uint32_t i = 0; i < n_items; ++i) {
        const uint32_t length = r.count("item name length", 1, AffinityState::kMaxItemBytes);
        const std::string_view name(reinterpret_cast<const char*>(r.raw(length, "item name")), length);
        const int64_t count = r.i64("item count");
        if (count < 1 || count > baskets)
            r.fail("An item count is not between 1 and the basket count.");
        const uint64_t h = hash_name(name);
        if (s.find_item(name, h) != kNoItem)
            r.fail("An item appears twice.");
        s.counts[s.insert_item(name, h)] = count;
    }
    const uint32_t pair_limit = static_cast<uint32_t>(std::min<int64_t>(limits.max_pairs, UINT32_MAX));
    const uint32_t n_pairs = r.count("pair count", 16, pair_limit);
    for (uint32_t i = 0; i < n_pairs; ++i) {
        const uint32_t a = r.u32("pair item"), b = r.u32("pair item");
        const int64_t count = r.i64("pair count");
        if (a >= b || b >= n_items)
            r.fail("A pair's item indexes are out of range or out of order.");
        if (count < 1 || count > std::min(s.counts[a], s.counts[b]) ||
            static_cast<__int128>(s.counts[a]) + s.counts[b] - count > baskets)
            r.fail("A pair count is inconsistent with its item counts.");
        const uint64_t key = pair_key(a, b);
        if (s.has_pair(key))
            r.fail("A pair appears twice.");
        s.add_pair(key, count);
    }
    r.finish();
    *query = q;
    return st;
}

void write_overlap_state(StateWriter& w, const OverlapCounts& c) {
    w.header(StateKind::segment_overlap);
    w.i64(c.x);
    w.i64(c.y);
    w.i64(c.xy);
    w.i64(c.n);
}

OverlapCounts read_overlap_state(const uint8_t* data, std::size_t size) {
    StateReader r(data, size, StateKind::segment_overlap);
    OverlapCounts c;
    c.x = r.i64("x count");
    c.y = r.i64("y count");
    c.xy = r.i64("xy count");
    c.n = r.i64("population count");
    r.finish();
    if (c.x < 0 || c.y < 0 || c.xy < 0 || c.n < 0 || c.xy > c.x || c.xy > c.y ||
        static_cast<__int128>(c.x) + c.y - c.xy > c.n)
        r.fail("The set sizes are inconsistent with each other or with the population.");
    return c;
}

}  // namespace customer_analytics
