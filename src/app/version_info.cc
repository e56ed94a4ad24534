#include "app/version_info.h"

#include <curl/curl.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "ttla_build_info.h"
#include "ttla_version.h"

namespace ttla {
namespace {

// PQlibVersion(): major * 10000 + minor for PostgreSQL 10 and later.
std::string libpq_version(int v) {
  if (v >= 100000) return std::to_string(v / 10000) + "." + std::to_string(v % 10000);
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

}  // namespace

VersionInfo version_info() {
  VersionInfo info;
  info.version = TTLA_VERSION;
  info.commit = TTLA_GIT_COMMIT;
  info.build_date = TTLA_BUILD_DATE;
  info.build_type = TTLA_BUILD_TYPE;
  info.compiler = TTLA_COMPILER;
  const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
  std::string curl_text = curl != nullptr && curl->version != nullptr ? curl->version : "?";
  if (curl != nullptr && curl->ssl_version != nullptr) curl_text += std::string(" (") + curl->ssl_version + ")";
  info.libraries.emplace_back("libcurl", curl_text);
  info.libraries.emplace_back("OpenSSL", OpenSSL_version(OPENSSL_VERSION));
  info.libraries.emplace_back("libpq", libpq_version(PQlibVersion()));
  info.libraries.emplace_back("built with", TTLA_BUILT_WITH);
  return info;
}

std::string version_text(const VersionInfo& info) {
  std::string out = "ttl-auditor " + info.version + "\n";
  out += "commit: " + info.commit + "\n";
  out += "build date: " + info.build_date + "\n";
  out += "build: " + info.build_type + ", " + info.compiler + "\n";
  for (const auto& [name, v] : info.libraries) out += name + ": " + v + "\n";
  return out;
}

}  // namespace ttla
