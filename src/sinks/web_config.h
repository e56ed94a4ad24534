#pragma once
// The web configuration file of `serve --web.config.file`, in the format Prometheus exporters
// share (prometheus/exporter-toolkit docs/web-configuration.md): TLS for the listener and HTTP
// basic authentication with bcrypt password hashes. Like the exporters, the file is read again
// for every connection (TLS certificates) and every request (users), so rotating a certificate
// or a password needs no restart; whether the listener speaks TLS at all is decided at start.
//
// Supported keys (anything else is an error naming its path, so a security setting is never
// silently ignored):
//   tls_server_config: {cert_file, key_file, cert, key, client_auth_type, client_ca_file,
//                       client_ca, min_version, max_version}
//   http_server_config: {http2 (accepted; the listener speaks HTTP/1.1), headers: {...}}
//   basic_auth_users: {user: bcrypt-hash}
// Relative file names are taken from the directory of the web configuration file.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

typedef struct ssl_ctx_st SSL_CTX;

namespace ttla {

struct WebTlsConfig {
  std::string cert_file, key_file;  // PEM files
  std::string cert, key;            // inline PEM (instead of the files)
  std::string client_auth_type = "NoClientCert";
  std::string client_ca_file, client_ca;
  std::string min_version = "TLS12", max_version = "TLS13";
};

struct WebConfig {
  bool tls = false;                          // tls_server_config with a certificate
  WebTlsConfig tls_config;
  std::map<std::string, std::string> users;  // basic_auth_users: name -> bcrypt hash
  std::vector<std::pair<std::string, std::string>> headers;  // http_server_config.headers
};

// Parses the YAML text; `dir` resolves relative file names. Throws ttla::Error(kConfig) listing
// every problem (`path: message`, one per line).
WebConfig parse_web_config(const std::string& yaml_text, const std::string& dir);
// Reads and parses `path` (Error kConfig also when unreadable).
WebConfig load_web_config(const std::string& path);

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const;
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

// A server SSL_CTX from the TLS part of a config: certificate and key (checked to match),
// protocol versions, client certificate policy. Throws ttla::Error(kConfig) with OpenSSL's reason.
SslCtxPtr make_server_ssl_ctx(const WebTlsConfig& tls);

// Whether `password` matches a bcrypt hash ($2a$, $2b$, $2y$), via libxcrypt's crypt_rn.
bool bcrypt_matches(const std::string& password, const std::string& hash);

// HTTP basic authentication against a config's users. Successful checks are remembered (keyed
// by a SHA-256 of user, hash and password) so a scrape every few seconds costs one bcrypt per
// password change, as in the exporter toolkit; unknown users still cost one bcrypt, so timing
// does not tell which users exist.
class BasicAuth {
 public:
  enum class Result { kNotRequired, kMissing, kDenied, kAllowed };
  Result check(const WebConfig& config, const std::string& authorization_header);

 private:
  std::mutex mu_;
  std::map<std::string, bool> ok_;  // digest -> true
};

}  // namespace ttla
