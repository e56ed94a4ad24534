#include "sources/dynamodb_latency.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <unordered_map>


#include "core/error.h"
#include "core/log.h"
#include "sources/dynamodb_kind.h"

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
  Observer(KeySample sample, bool keep_keys) : sample(std::move(sample)), keep_keys(keep_keys) {}
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
    : target_(target), run_(target.name, target.redact_keys, dynamodb_config(target).latency_track_keys, "", ctx) {}

LatencyTracking::~LatencyTracking() = default;

std::vector<ExpiredItemObserver*> LatencyTracking::observers(int workers) {
  std::vector<ExpiredItemObserver*> out;
  if (!enabled()) return out;
  for (int w = 0; w < workers; ++w) {
    observers_.push_back(std::make_unique<Observer>(run_.sample(), !target_.redact_keys));
    out.push_back(observers_.back().get());
  }
  return out;
}

std::vector<Presence> LatencyTracking::presence_by_batch_get(
    const std::string& table, const std::vector<std::string>& key_attributes, const Io& io,
    double* consumed_units) {
  const std::vector<TrackedItem>& tracked = run_.previous().tracked;
  std::vector<Presence> present(tracked.size(), Presence::kGone);
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < tracked.size(); ++i) {
    if (tracked[i].key.empty()) throw Error(ErrorKind::kParse, "a tracked item has no stored key");
    index[tracked[i].key] = i;
  }
  double spent = 0;
  std::vector<std::string> pending;
  for (const TrackedItem& t : tracked) pending.push_back(t.key);
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
      if (auto it = index.find(k); it != index.end()) present[it->second] = Presence::kPresent;
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
  if (!enabled()) return nlohmann::json();
  KeySample merged = run_.sample();
  for (const auto& o : observers_) merged.merge(o->sample);

  std::vector<Presence> present;
  if (run_.needs_presence()) {
    if (target_.redact_keys) {
      if (!complete_full_scan) {
        return LatencyRun::unmeasured(
            "redact_keys: tracked items are stored as hashes, so their presence is known only "
            "from a complete full scan, and this scan was sampled or incomplete");
      }
      for (const TrackedItem& t : run_.previous().tracked) {
        present.push_back(merged.seen().count(t.hash) != 0 ? Presence::kPresent : Presence::kGone);
      }
    } else {
      try {
        present = presence_by_batch_get(table, key_attributes, io, consumed_units);
      } catch (const Error& e) {
        log::warn("latency presence check failed", Fields().add("target", target_.name).add("error", e.what()));
        return LatencyRun::unmeasured("BatchGetItem: " + std::string(to_string(e.kind())) + ": " + e.what());
      }
    }
  }
  return run_.finish(merged, present);
}

}  // namespace ttla::dynamodb
