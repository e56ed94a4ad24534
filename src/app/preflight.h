#pragma once
// Before a first run: `check-config --online` (is every target reachable and readable, without
// scanning?) and `run --plan` (what a run would read and what it would cost). Both only send the
// cheap calls: DescribeTable/DescribeTimeToLive, one ListObjectsV2 page, a connection and a
// LIMIT 0 query or pg_class, stat/opendir.
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "config/config.h"

namespace ttla {

// One target's readiness: ok, or the reason it would fail.
struct Readiness {
  std::string target;
  std::string kind;
  bool ok = false;
  std::string detail;  // what was checked (ok) or why not
};

// One target's plan. Unknown quantities are nullopt (printed "unknown", never 0).
struct PlanEntry {
  std::string target;
  std::string kind;
  std::optional<std::string> error;   // the plan could not be made
  std::optional<double> items;        // what a run would read
  std::optional<double> bytes;
  std::optional<double> read_units;   // DynamoDB: eventually consistent Scan, 0.5 unit per 4 KB
  std::optional<double> requests;     // S3: list requests at least
  std::optional<double> seconds;      // at the configured rate limit
  std::string basis;                  // where the numbers come from, and their caveats
};

// DynamoDB read units of an eventually consistent scan of `bytes` (0.5 per started 4 KB), times
// the sampled fraction.
double scan_read_units(double bytes, double fraction);

// Each target of `config` (`tables:` targets expanded), checked online.
std::vector<Readiness> check_online(const Config& config);
// Each target's plan; `only` restricts to these names (like run --target).
std::vector<PlanEntry> plan_run(const Config& config, const std::vector<std::string>& only);

// Text output, one line per target plus a summary; the return is the exit code (0 all ready /
// planned, 3 otherwise).
int print_readiness(const std::vector<Readiness>& rows, std::ostream& out);
int print_plan(const std::vector<PlanEntry>& rows, std::ostream& out);

}  // namespace ttla
