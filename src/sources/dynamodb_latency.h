#pragma once
// DynamoDB deletion latency from snapshots (sources/latency_tracker.h): the scan's workers each
// keep a KeySample of expired items; after the scan the previously tracked items are looked up
// with BatchGetItem (100 keys a call, key attributes only, eventually consistent, within the rate
// limit and read budget) and the state advances.
//
// redact_keys: the state then holds no key, so BatchGetItem is impossible; an item's presence is
// whether this run's scan saw it among the expired items. That needs a complete full scan (a
// sample or an interrupted scan would take unseen items for deleted ones), and counts an item
// whose TTL was rewritten to the future as deleted. Without a complete full scan the latency
// section says why (`latency_error`) and the state is left as it was.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/aws_client.h"
#include "config/config.h"
#include "sources/latency_tracker.h"
#include "sources/rate_limiter.h"
#include "sources/scan_page.h"
#include "sources/source.h"

namespace ttla::dynamodb {

// Pure: BatchGetItem request for `keys` (DynamoDB JSON key objects, at most 100) projecting the
// key attributes only.
std::string batch_get_body(const std::string& table, const std::vector<std::string>& key_attributes,
                           const std::vector<std::string>& keys);

struct BatchGetResult {
  std::vector<std::string> found;        // normalized key JSON of each returned item
  std::vector<std::string> unprocessed;  // keys to ask again (throttled by the service)
  double consumed_units = 0;
};
// Pure: parses a BatchGetItem response for `table`. Throws ttla::Error(kParse).
BatchGetResult parse_batch_get(std::string_view body, const std::string& table,
                               const std::vector<std::string>& key_attributes);

// Key JSON in one canonical spelling (members sorted), so scanned and fetched keys compare equal.
std::string normalize_key_json(std::string_view key_json);

class LatencyTracking {
 public:
  // Disabled (enabled() false) without a state_dir, in shard runs, with latency_track_keys 0, or
  // when the secret does not exist and this run may not create it.
  LatencyTracking(const TargetConfig& target, const RunContext& ctx);
  ~LatencyTracking();
  bool enabled() const { return run_.enabled(); }
  // One observer per scan worker (call before the workers start).
  std::vector<ExpiredItemObserver*> observers(int workers);

  struct Io {
    aws::AwsClient* client = nullptr;
    RateLimiter* limiter = nullptr;
    double budget_left = 0;  // read units; <= 0 with a budget: none left. Ignored when !budgeted
    bool budgeted = false;
  };
  // After the scan. `complete_full_scan`: every segment of a full scan was read. Returns the
  // latency fields for the deletion section; adds the units BatchGetItem consumed to
  // *consumed_units. Never throws for an AWS failure (it becomes latency_error).
  nlohmann::json finish(const std::string& table, const std::vector<std::string>& key_attributes,
                        bool complete_full_scan, const Io& io, double* consumed_units);

 private:
  std::vector<Presence> presence_by_batch_get(const std::string& table,
                                          const std::vector<std::string>& key_attributes,
                                          const Io& io, double* consumed_units);
  struct Observer;
  TargetConfig target_;
  LatencyRun run_;  // state, seed and sample shared with the other sources
  std::vector<std::unique_ptr<Observer>> observers_;
};

}  // namespace ttla::dynamodb
