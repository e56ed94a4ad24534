#include "sources/latency_tracker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"
#include "core/log.h"
#include "core/stats.h"

namespace ttla {
namespace {

namespace fs = std::filesystem;

bool by_hash(const TrackedItem& a, const TrackedItem& b) { return a.hash < b.hash; }

std::string hex16(uint64_t v) { return fmt::format("{:016x}", v); }

uint64_t parse_hex16(const std::string& s) {
  if (s.size() != 16 || s.find_first_not_of("0123456789abcdef") != std::string::npos) {
    throw Error(ErrorKind::kParse, "latency state: hash \"" + s + "\" is not 16 hex digits");
  }
  return std::stoull(s, nullptr, 16);
}

// Target names are [A-Za-z0-9_.-]+ plus '/' for discovered tables and buckets.
std::string file_name(const std::string& target) {
  std::string out;
  for (char c : target) out += c == '/' ? std::string("%2F") : std::string(1, c);
  return out + ".json";
}

template <typename T>
T member(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) throw Error(ErrorKind::kParse, std::string("latency state: missing ") + name);
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(ErrorKind::kParse, std::string("latency state: bad ") + name);
  }
}

// A tracked item that leaves the sample alive: right-censored at the last run that saw it.
StoredObservation censored_at_last_seen(const TrackedItem& t, int64_t as_of) {
  StoredObservation o;
  o.ages.entry = static_cast<double>(t.first_seen) - t.deadline;
  o.ages.left = static_cast<double>(t.last_seen) - t.deadline;
  o.observed_at = as_of;
  return o;
}

}  // namespace

KeySample::KeySample(size_t k, uint64_t seed, const std::unordered_set<uint64_t>* watch)
    : k_(k), seed_(seed), watch_(watch) {}

uint64_t KeySample::hash(std::string_view rendered_key) const {
  return seeded_hash(rendered_key, seed_);
}

bool KeySample::wants(uint64_t h) const {
  return k_ > 0 && (heap_.size() < k_ || h < heap_.front().hash);
}

void KeySample::add(uint64_t h, double deadline, std::string key) {
  if (!wants(h)) return;
  TrackedItem item;
  item.hash = h;
  item.deadline = deadline;
  item.key = std::move(key);
  if (heap_.size() == k_) {
    std::pop_heap(heap_.begin(), heap_.end(), by_hash);
    heap_.pop_back();
  }
  heap_.push_back(std::move(item));
  std::push_heap(heap_.begin(), heap_.end(), by_hash);
}

void KeySample::saw(uint64_t h) {
  if (watch_ != nullptr && watch_->count(h) != 0) seen_.insert(h);
}

void KeySample::merge(const KeySample& other) {
  for (const TrackedItem& item : other.heap_) {
    // The same item seen by two workers (a retried page) is kept once.
    if (std::any_of(heap_.begin(), heap_.end(), [&](const TrackedItem& t) { return t.hash == item.hash; })) {
      continue;
    }
    add(item.hash, item.deadline, item.key);
  }
  seen_.insert(other.seen_.begin(), other.seen_.end());
}

std::vector<TrackedItem> KeySample::items() const {
  std::vector<TrackedItem> out = heap_;
  std::sort(out.begin(), out.end(), by_hash);
  return out;
}

nlohmann::json latency_state_to_json(const LatencyState& s) {
  nlohmann::json tracked = nlohmann::json::array();
  for (const TrackedItem& t : s.tracked) {
    nlohmann::json e = {{"hash", hex16(t.hash)}, {"deadline", t.deadline},
                        {"first_seen", t.first_seen}, {"last_seen", t.last_seen}};
    if (!t.key.empty()) e["key"] = t.key;
    tracked.push_back(std::move(e));
  }
  nlohmann::json obs = nlohmann::json::array();
  for (const StoredObservation& o : s.observations) {
    obs.push_back({o.ages.entry, o.ages.left,
                   o.ages.right ? nlohmann::json(*o.ages.right) : nlohmann::json(nullptr),
                   o.observed_at});
  }
  nlohmann::json out = {{"version", 1},     {"target", s.target},   {"redacted", s.redacted},
                        {"as_of", s.as_of}, {"tracked", tracked},   {"observations", obs}};
  if (!s.scope.empty()) out["scope"] = s.scope;
  return out;
}

LatencyState latency_state_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw Error(ErrorKind::kParse, "latency state: not a JSON object");
  if (member<int>(j, "version") != 1) throw Error(ErrorKind::kParse, "latency state: unknown version");
  LatencyState s;
  s.target = member<std::string>(j, "target");
  if (j.contains("scope")) s.scope = member<std::string>(j, "scope");
  s.redacted = member<bool>(j, "redacted");
  s.as_of = member<int64_t>(j, "as_of");
  const auto tracked = member<nlohmann::json>(j, "tracked");
  const auto obs = member<nlohmann::json>(j, "observations");
  if (!tracked.is_array() || !obs.is_array()) {
    throw Error(ErrorKind::kParse, "latency state: tracked and observations must be lists");
  }
  for (const auto& e : tracked) {
    TrackedItem t;
    t.hash = parse_hex16(member<std::string>(e, "hash"));
    t.deadline = member<double>(e, "deadline");
    t.first_seen = member<int64_t>(e, "first_seen");
    t.last_seen = member<int64_t>(e, "last_seen");
    if (e.contains("key")) t.key = member<std::string>(e, "key");
    if (!(t.first_seen <= t.last_seen && t.deadline <= static_cast<double>(t.first_seen))) {
      throw Error(ErrorKind::kParse, "latency state: inconsistent times of a tracked item");
    }
    s.tracked.push_back(std::move(t));
  }
  for (const auto& e : obs) {
    if (!e.is_array() || e.size() != 4 || !e[0].is_number() || !e[1].is_number() ||
        !(e[2].is_number() || e[2].is_null()) || !e[3].is_number_integer()) {
      throw Error(ErrorKind::kParse, "latency state: an observation is not [entry, left, right|null, at]");
    }
    StoredObservation o;
    o.ages.entry = e[0].get<double>();
    o.ages.left = e[1].get<double>();
    if (e[2].is_number()) o.ages.right = e[2].get<double>();
    o.observed_at = e[3].get<int64_t>();
    if (!(o.ages.left >= o.ages.entry) || (o.ages.right && !(*o.ages.right > o.ages.left))) {
      throw Error(ErrorKind::kParse, "latency state: an observation's ages are out of order");
    }
    s.observations.push_back(o);
  }
  std::sort(s.tracked.begin(), s.tracked.end(), by_hash);
  return s;
}

LatencyState advance_latency_state(const LatencyState& previous, const std::vector<Presence>& present,
                                   const std::vector<TrackedItem>& sampled, size_t k,
                                   int64_t as_of) {
  LatencyState next;
  next.target = previous.target;
  next.scope = previous.scope;
  next.redacted = previous.redacted;
  next.as_of = as_of;
  for (const StoredObservation& o : previous.observations) {
    if (o.observed_at >= as_of - kLatencyWindowSeconds && o.observed_at <= as_of) {
      next.observations.push_back(o);
    }
  }
  const bool later = as_of > previous.as_of;
  std::vector<TrackedItem> candidates;
  std::unordered_set<uint64_t> kept;
  for (size_t i = 0; i < previous.tracked.size(); ++i) {
    const TrackedItem& t = previous.tracked[i];
    const Presence p = i < present.size() ? present[i] : Presence::kGone;
    if (!later) {
      // A run at or before the last one learns nothing about the tracked items.
      candidates.push_back(t);
    } else if (p == Presence::kChanged) {
      // Still there with another deadline: censored where it was last seen unchanged.
      if (t.first_seen != t.last_seen) next.observations.push_back(censored_at_last_seen(t, as_of));
      continue;
    } else if (p == Presence::kPresent) {
      TrackedItem c = t;
      c.last_seen = as_of;
      candidates.push_back(std::move(c));
    } else {
      // Gone between the run that last saw it and this one.
      StoredObservation o;
      o.ages.entry = static_cast<double>(t.first_seen) - t.deadline;
      o.ages.left = static_cast<double>(t.last_seen) - t.deadline;
      o.ages.right = static_cast<double>(as_of) - t.deadline;
      o.observed_at = as_of;
      next.observations.push_back(o);
      continue;
    }
    kept.insert(t.hash);
  }
  for (const TrackedItem& s : sampled) {
    if (kept.count(s.hash) != 0 || s.deadline > static_cast<double>(as_of)) continue;
    TrackedItem c = s;
    c.first_seen = as_of;
    c.last_seen = as_of;
    candidates.push_back(std::move(c));
    kept.insert(s.hash);
  }
  std::sort(candidates.begin(), candidates.end(), by_hash);
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (i < k) {
      next.tracked.push_back(candidates[i]);
      continue;
    }
    // Pushed out of the sample by smaller hashes (independent of its latency): censored here.
    const TrackedItem& t = candidates[i];
    if (t.first_seen == t.last_seen) continue;  // seen once: carries no information
    next.observations.push_back(censored_at_last_seen(t, as_of));
  }
  if (next.observations.size() > kMaxLatencyObservations) {
    std::stable_sort(next.observations.begin(), next.observations.end(),
                     [](const StoredObservation& a, const StoredObservation& b) {
                       return a.observed_at > b.observed_at;
                     });
    next.observations.resize(kMaxLatencyObservations);
  }
  return next;
}

ListedItems::ListedItems(const std::vector<TrackedItem>& tracked) {
  order_.reserve(tracked.size());
  for (const TrackedItem& t : tracked) {
    order_.push_back(t.hash);
    deadlines_[t.hash] = t.deadline;
  }
}

void ListedItems::saw(uint64_t h, std::optional<double> deadline) {
  auto it = deadlines_.find(h);
  if (it == deadlines_.end()) return;
  seen_[h] = deadline.has_value() && *deadline == it->second;
}

std::vector<Presence> ListedItems::presence() const {
  std::vector<Presence> out;
  out.reserve(order_.size());
  for (uint64_t h : order_) {
    auto it = seen_.find(h);
    out.push_back(it == seen_.end() ? Presence::kGone
                  : it->second      ? Presence::kPresent
                                    : Presence::kChanged);
  }
  return out;
}

nlohmann::json latency_report(const LatencyState& state, int64_t as_of) {
  std::vector<CensoredObservation> obs;
  uint64_t deletions = 0;
  double resolution = 0;
  for (const StoredObservation& o : state.observations) {
    obs.push_back(o.ages);
    if (o.ages.right) {
      ++deletions;
      resolution = std::max(resolution, *o.ages.right - o.ages.left);
    }
  }
  for (const TrackedItem& t : state.tracked) {
    const double left = static_cast<double>(as_of) - t.deadline;
    const double entry = static_cast<double>(t.first_seen) - t.deadline;
    if (left > entry) obs.push_back({entry, left, std::nullopt});
  }
  nlohmann::json out = {{"latency_source", "snapshots"},
                        {"latency_observations", deletions},
                        {"latency_censored", obs.size() - deletions},
                        {"latency_tracked", state.tracked.size()}};
  if (deletions == 0) {
    out["latency_note"] = state.observations.empty() && state.tracked.empty()
                              ? "no expired items to track"
                              : "no tracked item has been seen deleted yet: latency needs runs "
                                "after the items were first seen";
    return out;
  }
  out["latency_resolution_seconds"] = resolution;
  const NpmleEstimate est = turnbull_npmle(obs);
  nlohmann::json q = nlohmann::json::object();
  nlohmann::json brackets = nlohmann::json::object();
  for (const auto& [name, p] : {std::pair<const char*, double>{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}}) {
    auto b = npmle_quantile(est, p);
    if (!b) continue;
    q[name] = b->upper ? *b->upper : b->lower;
    brackets[name] = {b->lower, b->upper ? nlohmann::json(*b->upper) : nlohmann::json(nullptr)};
  }
  double mean = 0;  // interval midpoints (an open interval counts at its lower end)
  for (const MassInterval& iv : est.intervals) {
    mean += iv.mass * (iv.upper ? (iv.lower + *iv.upper) / 2 : iv.lower);
  }
  out["latency_mean_seconds"] = mean;
  out["latency_seconds_quantiles"] = q;
  out["latency_seconds_brackets"] = brackets;
  if (!est.converged) out["latency_note"] = "estimate stopped before converging";
  return out;
}

LatencyStore::LatencyStore(std::string state_dir, std::string target)
    : dir_(std::move(state_dir)), target_(std::move(target)) {}

std::string LatencyStore::path() const { return dir_ + "/latency/" + file_name(target_); }

std::optional<uint64_t> LatencyStore::seed(bool may_write) const {
  const std::string secret_path = dir_ + "/latency.secret";
  std::ifstream in(secret_path);
  std::string text;
  if (in && std::getline(in, text) && text.size() >= 16) {
    return seeded_hash(target_, seeded_hash(text, 0x6c6174656e6379ULL));
  }
  if (!may_write) return std::nullopt;
  std::random_device rd;
  std::string secret;
  for (int i = 0; i < 4; ++i) {
    secret += hex16((static_cast<uint64_t>(rd()) << 32) ^ static_cast<uint64_t>(rd()));
  }
  std::error_code ec;
  fs::create_directories(dir_, ec);
  // O_EXCL: two runs racing to create it agree on the first one written.
  const int fd = ::open(secret_path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd >= 0) {
    const std::string line = secret + "\n";
    const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::close(fd);
    if (!ok) throw Error(ErrorKind::kIo, "cannot write " + secret_path);
  } else if (errno != EEXIST) {
    throw Error(ErrorKind::kIo, "cannot create " + secret_path);
  }
  return seed(false);
}

std::optional<LatencyState> LatencyStore::load(std::string* warning) const {
  std::ifstream in(path());
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    const nlohmann::json j = nlohmann::json::parse(ss.str());
    LatencyState s = latency_state_from_json(j);
    if (s.target != target_) throw Error(ErrorKind::kParse, "latency state of another target");
    return s;
  } catch (const std::exception& e) {
    if (warning != nullptr) *warning = path() + " ignored (" + e.what() + "): tracking restarts";
    return std::nullopt;
  }
}

void LatencyStore::save(const LatencyState& state) const {
  const std::string p = path();
  std::error_code ec;
  fs::create_directories(fs::path(p).parent_path(), ec);
  const std::string tmp = p + "." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << latency_state_to_json(state).dump();
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw Error(ErrorKind::kIo, "cannot write " + tmp);
    }
  }
  if (std::rename(tmp.c_str(), p.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error(ErrorKind::kIo, "cannot replace " + p);
  }
}

LatencyRun::LatencyRun(const std::string& target, bool redact_keys, int track_keys,
                       std::string scope, const RunContext& ctx)
    : target_(target),
      track_keys_(static_cast<size_t>(std::max(0, track_keys))),
      as_of_(ctx.as_of),
      may_write_(ctx.may_record_state),
      store_(ctx.state_dir, target) {
  if (ctx.state_dir.empty() || ctx.shard || track_keys <= 0) return;
  try {
    seed_ = store_.seed(may_write_);
  } catch (const Error& e) {
    log::warn("latency tracking off", Fields().add("target", target).add("error", e.what()));
    return;
  }
  if (!seed_) return;
  previous_.target = target;
  previous_.scope = std::move(scope);
  previous_.redacted = redact_keys;
  if (auto s = store_.load(&load_warning_)) {
    if (s->redacted != redact_keys) {
      load_warning_ = store_.path() + " ignored: redact_keys changed since it was written";
    } else if (s->scope != previous_.scope) {
      load_warning_ = store_.path() + " ignored: it tracks " +
                      (s->scope.empty() ? std::string("another scope") : s->scope) +
                      ", this target covers " + previous_.scope;
    } else {
      previous_ = std::move(*s);
    }
  }
  if (!load_warning_.empty()) {
    log::warn("latency state unusable", Fields().add("target", target).add("warning", load_warning_));
  }
  for (const TrackedItem& t : previous_.tracked) watch_.insert(t.hash);
}

KeySample LatencyRun::sample() const { return KeySample(track_keys_, seed_.value_or(0), &watch_); }

bool LatencyRun::needs_presence() const {
  return enabled() && !previous_.tracked.empty() && as_of_ > previous_.as_of;
}

nlohmann::json LatencyRun::finish(const KeySample& sample, const std::vector<Presence>& present) {
  if (!enabled()) return nlohmann::json();
  const LatencyState next = advance_latency_state(previous_, present, sample.items(), track_keys_, as_of_);
  nlohmann::json out = {{"latency_source", "snapshots"}};
  out.update(latency_report(next, as_of_));
  if (!load_warning_.empty()) out["latency_state_warning"] = load_warning_;
  if (may_write_) {
    try {
      store_.save(next);
    } catch (const Error& e) {
      log::warn("latency state not saved", Fields().add("target", target_).add("error", e.what()));
      out["latency_state_warning"] = std::string("not saved: ") + e.what();
    }
  }
  return out;
}

nlohmann::json LatencyRun::unmeasured(const std::string& why) {
  return {{"latency_source", "snapshots"}, {"latency_error", why}};
}

}  // namespace ttla
