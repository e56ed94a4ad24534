#include "sources/dynamodb_latency.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <unordered_map>

#include "core/log.h"

#include "core/error.h"

namespace ttla::dynamodb {
namespace {

constexpr size_t kBatchKeys = 100;  // BatchGetItem maximum
// UnprocessedKeys are asked again this many times (with a growing pause) before giving up.
constexpr int kUnprocessedRounds = 6;

nlohmann::json key_names(const std::vector<std::string>& key_attributes, std::string* projection) {
  nlohmann::json names = nlohmann::json::object();
  for (size_t i = 0; i < key_attributes.size(); ++i) {
    const std::string alias = "#k" + std::to_string(i);
    names[alias] = key_attributes[i];
    if (i) *projection += ", ";
    *projection += alias;
  }
  return names;
}

}  // namespace

std::string normalize_key_json(std::string_view key_json) {
  const nlohmann::json j = nlohmann::json::parse(key_json, nullptr, false);
  if (!j.is_object()) throw Error(ErrorKind::kParse, "key is not a JSON object");
  return j.dump();
}

std::string batch_get_body(const std::string& table, const std::vector<std::string>& key_attributes,
                           const std::vector<std::string>& keys) {
  if (keys.empty() || keys.size() > kBatchKeys) {
    throw Error(ErrorKind::kInternal, "BatchGetItem takes 1 to 100 keys");
  }
  std::string projection;
  nlohmann::json names = key_names(key_attributes, &projection);
  nlohmann::json list = nlohmann::json::array();
  for (const std::string& k : keys) list.push_back(nlohmann::json::parse(k));
  nlohmann::json body = {
      {"RequestItems",
       {{table, {{"Keys", list}, {"ProjectionExpression", projection},
                 {"ExpressionAttributeNames", names}, {"ConsistentRead", false}}}}},
      {"ReturnConsumedCapacity", "TOTAL"}};
  return body.dump();
}

BatchGetResult parse_batch_get(std::string_view body, const std::string& table,
                               const std::vector<std::string>& key_attributes) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) throw Error(ErrorKind::kParse, "BatchGetItem: response is not a JSON object");
  BatchGetResult r;
  auto responses = j.find("Responses");
  if (responses == j.end() || !responses->is_object()) {
    throw Error(ErrorKind::kParse, "BatchGetItem: no Responses object");
  }
  if (auto items = responses->find(table); items != responses->end()) {
    if (!items->is_array()) throw Error(ErrorKind::kParse, "BatchGetItem: Responses." + table + " is not a list");
    for (const auto& item : *items) {
      if (!item.is_object()) throw Error(ErrorKind::kParse, "BatchGetItem: an item is not an object");
      nlohmann::json key = nlohmann::json::object();
      for (const std::string& a : key_attributes) {
        auto v = item.find(a);
        if (v == item.end()) throw Error(ErrorKind::kParse, "BatchGetItem: an item lacks key attribute " + a);
        key[a] = *v;
      }
      r.found.push_back(key.dump());
    }
  }
  if (auto un = j.find("UnprocessedKeys"); un != j.end() && un->is_object()) {
    if (auto t = un->find(table); t != un->end()) {
      auto keys = t->find("Keys");
      if (keys == t->end() || !keys->is_array()) {
        throw Error(ErrorKind::kParse, "BatchGetItem: UnprocessedKeys without Keys");
      }
      for (const auto& k : *keys) r.unprocessed.push_back(k.dump());
    }
  }
  if (auto cc = j.find("ConsumedCapacity"); cc != j.end() && cc->is_array()) {
    for (const auto& c : *cc) {
      if (c.is_object() && c.contains("CapacityUnits") && c["CapacityUnits"].is_number()) {
        r.consumed_units += c["CapacityUnits"].get<double>();
      }
    }
  }
  return r;
}

struct LatencyTracking::Observer : ExpiredItemObserver {
  Observer(size_t k, uint64_t seed, const std::unordered_set<uint64_t>* watch, bool keep_keys)
      : sample(k, seed, watch), keep_keys(keep_keys) {}
  void expired(std::string_view rendered_key, double deadline, const ScanPageParser& parser) override {
    const uint64_t h = sample.hash(rendered_key);
    sample.saw(h);
    if (!sample.wants(h)) return;
    sample.add(h, deadline, keep_keys ? normalize_key_json(parser.key_json()) : std::string());
  }
  KeySample sample;
  bool keep_keys;
};

LatencyTracking::LatencyTracking(const TargetConfig& target, const RunContext& ctx)
    : target_(target),
      as_of_(ctx.as_of),
      may_write_(ctx.may_record_state),
      store_(ctx.state_dir, target.name) {
  if (ctx.state_dir.empty() || ctx.shard || target.latency_track_keys <= 0) return;
  try {
    seed_ = store_.seed(may_write_);
  } catch (const Error& e) {
    log::warn("latency tracking off", Fields().add("target", target.name).add("error", e.what()));
    return;
  }
  if (!seed_) return;
  previous_.target = target.name;
  previous_.redacted = target.redact_keys;
  if (auto s = store_.load(&load_warning_)) {
    if (s->redacted != target.redact_keys) {
      load_warning_ = store_.path() + " ignored: redact_keys changed since it was written";
    } else {
      previous_ = std::move(*s);
    }
  }
  if (!load_warning_.empty()) {
    log::warn("latency state unusable", Fields()
            .add("target", target.name)
            .add("warning", load_warning_));
  }
  for (const TrackedItem& t : previous_.tracked) watch_.insert(t.hash);
}

LatencyTracking::~LatencyTracking() = default;

std::vector<ExpiredItemObserver*> LatencyTracking::observers(int workers) {
  std::vector<ExpiredItemObserver*> out;
  if (!enabled()) return out;
  for (int w = 0; w < workers; ++w) {
    observers_.push_back(std::make_unique<Observer>(static_cast<size_t>(target_.latency_track_keys),
                                                    *seed_, &watch_, !target_.redact_keys));
    out.push_back(observers_.back().get());
  }
  return out;
}

std::vector<bool> LatencyTracking::presence_by_batch_get(
    const std::string& table, const std::vector<std::string>& key_attributes, const Io& io,
    double* consumed_units) {
  std::vector<bool> present(previous_.tracked.size(), false);
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < previous_.tracked.size(); ++i) {
    if (previous_.tracked[i].key.empty()) {
      throw Error(ErrorKind::kParse, "a tracked item has no stored key");
    }
    index[previous_.tracked[i].key] = i;
  }
  double spent = 0;
  std::vector<std::string> pending;
  for (const TrackedItem& t : previous_.tracked) pending.push_back(t.key);
  size_t next = 0;
  std::vector<std::string> retry;
  int rounds_without_progress = 0;
  while (next < pending.size() || !retry.empty()) {
    if (io.budgeted && spent >= io.budget_left) {
      throw Error(ErrorKind::kBudget, "read budget reached during the presence check");
    }
    std::vector<std::string> batch;
    while (!retry.empty() && batch.size() < kBatchKeys) {
      batch.push_back(std::move(retry.back()));
      retry.pop_back();
    }
    while (next < pending.size() && batch.size() < kBatchKeys) batch.push_back(pending[next++]);
    // An eventually consistent read of a key-only item costs half a unit.
    const double reserved = 0.5 * static_cast<double>(batch.size());
    io.limiter->reserve(reserved);
    std::string body;
    try {
      body = io.client->dynamodb("BatchGetItem", batch_get_body(table, key_attributes, batch));
    } catch (...) {
      io.limiter->settle(reserved, 0);
      throw;
    }
    BatchGetResult r = parse_batch_get(body, table, key_attributes);
    io.limiter->settle(reserved, r.consumed_units);
    spent += r.consumed_units;
    *consumed_units += r.consumed_units;
    for (const std::string& k : r.found) {
      if (auto it = index.find(k); it != index.end()) present[it->second] = true;
    }
    if (r.unprocessed.size() == batch.size()) {
      if (++rounds_without_progress > kUnprocessedRounds) {
        throw Error(ErrorKind::kThrottled, "BatchGetItem left " + std::to_string(r.unprocessed.size()) +
                                               " keys unprocessed after " +
                                               std::to_string(kUnprocessedRounds) + " retries");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50 << rounds_without_progress));
    } else {
      rounds_without_progress = 0;
    }
    for (std::string& k : r.unprocessed) retry.push_back(normalize_key_json(k));
  }
  return present;
}

nlohmann::json LatencyTracking::finish(const std::string& table,
                                       const std::vector<std::string>& key_attributes,
                                       bool complete_full_scan, const Io& io,
                                       double* consumed_units) {
  nlohmann::json out = {{"latency_source", "snapshots"}};
  if (!enabled()) return nlohmann::json();
  KeySample merged(static_cast<size_t>(target_.latency_track_keys), *seed_, &watch_);
  for (const auto& o : observers_) merged.merge(o->sample);

  std::vector<bool> present;
  if (!previous_.tracked.empty() && as_of_ > previous_.as_of) {
    if (target_.redact_keys) {
      if (!complete_full_scan) {
        out["latency_error"] =
            "redact_keys: tracked items are stored as hashes, so their presence is known only "
            "from a complete full scan, and this scan was sampled or incomplete";
        return out;
      }
      for (const TrackedItem& t : previous_.tracked) present.push_back(merged.seen().count(t.hash) != 0);
    } else {
      try {
        present = presence_by_batch_get(table, key_attributes, io, consumed_units);
      } catch (const Error& e) {
        out["latency_error"] = "BatchGetItem: " + std::string(to_string(e.kind())) + ": " + e.what();
        log::warn("latency presence check failed", Fields()
                .add("target", target_.name)
                .add("error", e.what()));
        return out;
      }
    }
  }
  const LatencyState next = advance_latency_state(
      previous_, present, merged.items(), static_cast<size_t>(target_.latency_track_keys), as_of_);
  out.update(latency_report(next, as_of_));
  if (!load_warning_.empty()) out["latency_state_warning"] = load_warning_;
  if (may_write_) {
    try {
      store_.save(next);
    } catch (const Error& e) {
      log::warn("latency state not saved", Fields()
              .add("target", target_.name)
              .add("error", e.what()));
      out["latency_state_warning"] = std::string("not saved: ") + e.what();
    }
  }
  return out;
}

}  // namespace ttla::dynamodb
