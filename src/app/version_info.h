#pragma once
// What `ttl-auditor version` prints: the version, the commit and date of the build, and the
// versions of the libraries linked (run-time versions where the library reports one).
#include <string>
#include <utility>
#include <vector>

namespace ttla {

struct VersionInfo {
  std::string version;     // 0.1.0
  std::string commit;      // git commit at configure time, "unknown (...)" outside a checkout
  std::string build_date;  // RFC 3339, UTC
  std::string build_type;  // Release, Debug...
  std::string compiler;
  // (library, version): libcurl, OpenSSL, libpq as loaded at run time; the rest as built.
  std::vector<std::pair<std::string, std::string>> libraries;
};

VersionInfo version_info();

// The text `version` prints, one `key: value` line each.
std::string version_text(const VersionInfo& info);

}  // namespace ttla
