#include "sinks/web_config.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "core/error.h"

namespace ttla {
namespace {

namespace fs = std::filesystem;

class Problems {
 public:
  void add(const std::string& path, const std::string& message) {
    text_ += (text_.empty() ? "" : "\n") + path + ": " + message;
  }
  void throw_if_any() const {
    if (!text_.empty()) throw Error(ErrorKind::kConfig, text_);
  }

 private:
  std::string text_;
};

// A scalar string at `node`, or a problem.
bool scalar(const YAML::Node& node, const std::string& path, Problems& problems, std::string& out) {
  if (!node.IsScalar()) {
    problems.add(path, "expected a string");
    return false;
  }
  out = node.as<std::string>();
  return true;
}

// Keys of a mapping that are not in `known`, reported as problems.
void unknown_keys(const YAML::Node& map, const std::string& path,
                  const std::set<std::string>& known, const std::set<std::string>& unsupported,
                  Problems& problems) {
  for (const auto& kv : map) {
    std::string key = kv.first.as<std::string>();
    if (unsupported.count(key)) {
      problems.add(path + "." + key, "not supported by ttl-auditor (remove it)");
    } else if (!known.count(key)) {
      problems.add(path + "." + key, "unknown key");
    }
  }
}

std::string resolve(const std::string& dir, const std::string& file) {
  if (file.empty() || dir.empty() || fs::path(file).is_absolute()) return file;
  return (fs::path(dir) / file).string();
}

int tls_version(const std::string& name) {
  if (name == "TLS10") return TLS1_VERSION;
  if (name == "TLS11") return TLS1_1_VERSION;
  if (name == "TLS12") return TLS1_2_VERSION;
  if (name == "TLS13") return TLS1_3_VERSION;
  return 0;
}

const std::set<std::string> kClientAuthTypes = {"NoClientCert", "VerifyClientCertIfGiven",
                                                "RequireAndVerifyClientCert"};
const std::set<std::string> kHeaders = {"Content-Security-Policy", "X-Frame-Options",
                                        "X-Content-Type-Options", "X-XSS-Protection",
                                        "Strict-Transport-Security"};

// bcrypt as written by htpasswd -B, Go's x/crypto/bcrypt, Python's bcrypt: $2a$/$2b$/$2y$, a
// two-digit cost, 22 characters of salt and 31 of hash.
bool looks_like_bcrypt(const std::string& hash) {
  static const std::regex re(R"(^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$)");
  return std::regex_match(hash, re);
}

void parse_tls(const YAML::Node& node, const std::string& dir, WebConfig& config,
               Problems& problems) {
  const std::string path = "tls_server_config";
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    problems.add(path, "expected a mapping");
    return;
  }
  unknown_keys(node, path,
               {"cert_file", "key_file", "cert", "key", "client_auth_type", "client_ca_file",
                "client_ca", "min_version", "max_version"},
               {"cipher_suites", "prefer_server_cipher_suites", "curve_preferences",
                "client_allowed_sans"},
               problems);
  WebTlsConfig& t = config.tls_config;
  auto get = [&](const char* key, std::string& out) {
    if (node[key]) scalar(node[key], path + "." + key, problems, out);
  };
  get("cert_file", t.cert_file);
  get("key_file", t.key_file);
  get("cert", t.cert);
  get("key", t.key);
  get("client_auth_type", t.client_auth_type);
  get("client_ca_file", t.client_ca_file);
  get("client_ca", t.client_ca);
  get("min_version", t.min_version);
  get("max_version", t.max_version);
  t.cert_file = resolve(dir, t.cert_file);
  t.key_file = resolve(dir, t.key_file);
  t.client_ca_file = resolve(dir, t.client_ca_file);

  if (!t.cert.empty() && !t.cert_file.empty()) {
    problems.add(path, "cert and cert_file are exclusive");
  }
  if (!t.key.empty() && !t.key_file.empty()) problems.add(path, "key and key_file are exclusive");
  if (!t.client_ca.empty() && !t.client_ca_file.empty()) {
    problems.add(path, "client_ca and client_ca_file are exclusive");
  }
  const bool has_cert = !t.cert.empty() || !t.cert_file.empty();
  const bool has_key = !t.key.empty() || !t.key_file.empty();
  if (has_cert && !has_key) problems.add(path, "missing key_file (or key)");
  if (has_key && !has_cert) problems.add(path, "missing cert_file (or cert)");
  if (!kClientAuthTypes.count(t.client_auth_type)) {
    problems.add(path + ".client_auth_type",
                 "expected NoClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert, "
                 "got \"" + t.client_auth_type + "\"");
  } else if (t.client_auth_type != "NoClientCert" && t.client_ca.empty() &&
             t.client_ca_file.empty()) {
    problems.add(path + ".client_ca_file", "required by client_auth_type " + t.client_auth_type);
  }
  for (const auto& [key, value] : {std::pair{"min_version", t.min_version},
                                   std::pair{"max_version", t.max_version}}) {
    if (tls_version(value) == 0) {
      problems.add(path + "." + key, "expected TLS10, TLS11, TLS12 or TLS13, got \"" + value + "\"");
    }
  }
  if (tls_version(t.min_version) > tls_version(t.max_version)) {
    problems.add(path, "min_version is above max_version");
  }
  config.tls = has_cert;
}

void parse_http(const YAML::Node& node, WebConfig& config, Problems& problems) {
  const std::string path = "http_server_config";
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    problems.add(path, "expected a mapping");
    return;
  }
  unknown_keys(node, path, {"http2", "headers"}, {}, problems);
  const YAML::Node headers = node["headers"];
  if (!headers || headers.IsNull()) return;
  if (!headers.IsMap()) {
    problems.add(path + ".headers", "expected a mapping");
    return;
  }
  for (const auto& kv : headers) {
    std::string name = kv.first.as<std::string>();
    std::string value;
    if (!kHeaders.count(name)) {
      problems.add(path + ".headers." + name, "not a header the web configuration may set");
    } else if (scalar(kv.second, path + ".headers." + name, problems, value) && !value.empty()) {
      if (value.find_first_of("\r\n") != std::string::npos) {
        problems.add(path + ".headers." + name, "must be one line");
      } else {
        config.headers.emplace_back(name, value);
      }
    }
  }
}

void parse_users(const YAML::Node& node, WebConfig& config, Problems& problems) {
  const std::string path = "basic_auth_users";
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    problems.add(path, "expected a mapping of user: bcrypt-hash");
    return;
  }
  for (const auto& kv : node) {
    std::string user = kv.first.as<std::string>();
    std::string hash;
    if (!scalar(kv.second, path + "." + user, problems, hash)) continue;
    if (user.empty() || user.find(':') != std::string::npos) {
      problems.add(path + "." + user, "a user name must be non-empty and contain no colon");
    } else if (!looks_like_bcrypt(hash)) {
      problems.add(path + "." + user,
                   "expected a bcrypt hash ($2y$10$..., e.g. from `htpasswd -nBC 10 \"\" | tr -d "
                   "':\\n'`)");
    } else {
      config.users[user] = hash;
    }
  }
}

std::string openssl_reason() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

[[noreturn]] void tls_fail(const std::string& what) {
  throw Error(ErrorKind::kConfig, "tls_server_config: " + what + ": " + openssl_reason());
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr memory_bio(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) tls_fail("out of memory");
  return bio;
}

void use_inline_chain(SSL_CTX* ctx, const std::string& pem) {
  BioPtr bio = memory_bio(pem);
  X509* leaf = PEM_read_bio_X509_AUX(bio.get(), nullptr, nullptr, nullptr);
  if (leaf == nullptr) tls_fail("cannot read cert");
  int ok = SSL_CTX_use_certificate(ctx, leaf);
  X509_free(leaf);
  if (ok != 1) tls_fail("cannot use cert");
  while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add_extra_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      tls_fail("cannot add a chain certificate");
    }
  }
  ERR_clear_error();  // the end of the PEM stream is reported as an error
}

void use_inline_key(SSL_CTX* ctx, const std::string& pem) {
  BioPtr bio = memory_bio(pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) tls_fail("cannot read key");
  int ok = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (ok != 1) tls_fail("cannot use key (does it match the certificate?)");
}

void use_client_ca(SSL_CTX* ctx, const WebTlsConfig& t) {
  if (!t.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, t.client_ca_file.c_str(), nullptr) != 1) {
      tls_fail("cannot read client_ca_file " + t.client_ca_file);
    }
    return;
  }
  BioPtr bio = memory_bio(t.client_ca);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int added = 0;
  while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, ca);
    X509_free(ca);
    ++added;
  }
  ERR_clear_error();
  if (added == 0) throw Error(ErrorKind::kConfig, "tls_server_config.client_ca: no certificate");
}

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

bool base64_decode(const std::string& in, std::string& out) {
  if (in.empty() || in.size() % 4 != 0) return false;
  std::string buf(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(buf.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return false;
  size_t pad = 0;
  if (in.back() == '=') ++pad;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++pad;
  buf.resize(static_cast<size_t>(n) - pad);
  out = std::move(buf);
  return true;
}

}  // namespace

WebConfig parse_web_config(const std::string& yaml_text, const std::string& dir) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw Error(ErrorKind::kConfig, std::string("not valid YAML: ") + e.what());
  }
  WebConfig config;
  if (root.IsNull()) return config;  // an empty file: plain HTTP, no users
  if (!root.IsMap()) throw Error(ErrorKind::kConfig, "expected a mapping at the top level");
  Problems problems;
  for (const auto& kv : root) {
    std::string key = kv.first.as<std::string>();
    if (key == "tls_server_config") {
      parse_tls(kv.second, dir, config, problems);
    } else if (key == "http_server_config") {
      parse_http(kv.second, config, problems);
    } else if (key == "basic_auth_users") {
      parse_users(kv.second, config, problems);
    } else if (key == "rate_limit") {
      problems.add(key, "not supported by ttl-auditor (remove it)");
    } else {
      problems.add(key, "unknown key");
    }
  }
  problems.throw_if_any();
  return config;
}

WebConfig load_web_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorKind::kConfig, path + ": cannot read the web configuration file");
  std::stringstream text;
  text << in.rdbuf();
  try {
    return parse_web_config(text.str(), fs::path(path).parent_path().string());
  } catch (const Error& e) {
    // Every line names the file.
    std::string out, line;
    std::istringstream lines(e.what());
    while (std::getline(lines, line)) out += (out.empty() ? "" : "\n") + path + ": " + line;
    throw Error(ErrorKind::kConfig, out);
  }
}

void SslCtxDeleter::operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }

SslCtxPtr make_server_ssl_ctx(const WebTlsConfig& t) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) tls_fail("cannot create a TLS context");
  SSL_CTX_set_min_proto_version(ctx.get(), tls_version(t.min_version));
  SSL_CTX_set_max_proto_version(ctx.get(), tls_version(t.max_version));
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (!t.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), t.cert_file.c_str()) != 1) {
      tls_fail("cannot read cert_file " + t.cert_file);
    }
  } else {
    use_inline_chain(ctx.get(), t.cert);
  }
  if (!t.key_file.empty()) {
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), t.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
        tls_fail("key_file " + t.key_file + " does not match the certificate");
      }
      tls_fail("cannot read key_file " + t.key_file);
    }
  } else {
    use_inline_key(ctx.get(), t.key);
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) tls_fail("the key does not match the certificate");
  if (t.client_auth_type != "NoClientCert") {
    use_client_ca(ctx.get(), t);
    int mode = SSL_VERIFY_PEER;
    if (t.client_auth_type == "RequireAndVerifyClientCert") mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx.get(), mode, nullptr);
  }
  return ctx;
}

bool bcrypt_matches(const std::string& password, const std::string& hash) {
  if (!looks_like_bcrypt(hash) || password.find('\0') != std::string::npos) return false;
  auto data = std::make_unique<crypt_data>();  // ~32 KiB: not on a server thread's stack
  const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  if (out == nullptr || out[0] == '*') return false;
  // $2y$ and $2b$ are the same algorithm; libxcrypt echoes the prefix it was given.
  return std::strlen(out) == hash.size() && CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
}

BasicAuth::Result BasicAuth::check(const WebConfig& config, const std::string& header) {
  if (config.users.empty()) return Result::kNotRequired;
  if (header.empty()) return Result::kMissing;
  size_t sp = header.find(' ');
  if (sp == std::string::npos) return Result::kDenied;
  std::string scheme = header.substr(0, sp);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "basic") return Result::kMissing;
  std::string encoded = header.substr(header.find_first_not_of(' ', sp));
  while (!encoded.empty() && encoded.back() == ' ') encoded.pop_back();
  std::string decoded;
  if (!base64_decode(encoded, decoded)) return Result::kDenied;
  size_t colon = decoded.find(':');
  if (colon == std::string::npos) return Result::kDenied;
  std::string user = decoded.substr(0, colon), password = decoded.substr(colon + 1);

  auto it = config.users.find(user);
  // Unknown users are checked against a fixed hash anyway: same cost as a known one.
  static const std::string kDummy = "$2b$10$abcdefghijklmnopqrstuuekRTxkMQkazwiisH3HoR6Q8L.BMSyDa";
  const std::string& hash = it == config.users.end() ? kDummy : it->second;
  const std::string digest = sha256_hex(user + '\0' + hash + '\0' + password);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (it != config.users.end() && ok_.count(digest)) return Result::kAllowed;
  }
  bool ok = bcrypt_matches(password, hash) && it != config.users.end();
  if (!ok) return Result::kDenied;
  std::lock_guard<std::mutex> lock(mu_);
  if (ok_.size() >= 256) ok_.clear();
  ok_[digest] = true;
  return Result::kAllowed;
}

}  // namespace ttla
