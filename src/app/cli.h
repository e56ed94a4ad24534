#pragma once
// The command line (CONTRACT "Command line"): run, check-config, iam-policy, serve, merge, version.
// Exit codes: 0 clean; 1 anomalies at or above --fail-on; 2 usage or config error; 3 a target
// failed or stopped early, or a sink failed. When several apply: 2 > 3 > 1 > 0.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace ttla {

inline constexpr int kExitClean = 0;
inline constexpr int kExitAnomalies = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitIncomplete = 3;

// "i/N" (0 <= i < N) or "auto/N" (i from JOB_COMPLETION_INDEX, as a Kubernetes Indexed Job sets
// it). `error` says why when nullopt is returned.
std::optional<std::pair<int, int>> parse_shard(std::string_view text, const char* job_index_env,
                                               std::string& error);

int run_cli(int argc, char** argv);

}  // namespace ttla
