#pragma once
// A source audits one target: it streams items into TargetStats (one per segment/shard, merged)
// and fills a TargetReport. Sources throw ttla::Error; the run pipeline turns that into a failed
// target. A source that stops early (budget, deadline) returns status partial with the reason.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/report.h"

namespace ttla {

// Terminal progress: sources call this now and then (thread-safe callers; may be empty).
struct Progress {
  uint64_t items_scanned = 0;
  std::optional<int64_t> items_expected;  // ItemCount when known (approximate), full scans only
  double consumed_read_units = 0;
  uint64_t segments_total = 0;  // segments this run reads (0: the source has no segments)
  uint64_t segments_done = 0;   // of which finished (completely read or given up)
};

struct RunContext {
  int64_t as_of = 0;                    // audit as if the clock read this (epoch seconds)
  uint64_t seed = 0;                    // --seed, for sampling and reservoirs
  std::optional<std::pair<int, int>> shard;  // (i, N) for `run --shard i/N`
  std::function<void(const std::string& target, const Progress&)> progress;
  const std::atomic<bool>* cancel = nullptr;  // set on SIGTERM/SIGINT
  int threads = 0;                      // worker threads for parallel segments; 0 = auto
  // State kept between runs by sources (tracked keys for deletion latency): the directory, and
  // whether this run may write it (runs at the current time or --record-history; never shards).
  std::string state_dir;
  bool may_record_state = false;
};

class Source {
 public:
  virtual ~Source() = default;
  // Fill name/kind/scan/stats/... of a report. Throws ttla::Error on failure.
  virtual TargetReport audit(const TargetConfig& target, const RunContext& ctx) = 0;
};

// The kind table's factory for `kind` (sources/kinds.cc); nullptr for an unknown kind.
std::unique_ptr<Source> make_source(const std::string& kind);
// The kinds of the kind table, for config validation and --help.
const std::vector<std::string>& source_kinds();
// False for kinds that audit no deadlines (sqs): their reports have no `expired` section.
bool kind_reports_expiry(const std::string& kind);

}  // namespace ttla
