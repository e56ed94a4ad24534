// The web configuration file (exporter-toolkit format) and HTTP basic authentication. Password
// hashes come from `htpasswd -B` (Apache's own bcrypt, not libxcrypt which the auditor uses to
// check them) generated here, so the check is tested against an independent implementation.
#include "sinks/web_config.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "core/error.h"
#include "support/require.h"

namespace ttla {
namespace {

namespace fs = std::filesystem;

std::string sh(const std::string& cmd) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), ::pclose);
  std::string out;
  char buf[512];
  while (p && std::fgets(buf, sizeof buf, p.get())) out += buf;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// "$2y$..." for password, from htpasswd (apache2-utils); empty when it is missing.
std::string htpasswd_hash(const std::string& password, int cost = 5) {
  if (::access("/usr/bin/htpasswd", X_OK) != 0) return "";
  std::string line = sh("/usr/bin/htpasswd -nbBC " + std::to_string(cost) + " u '" + password + "'");
  return line.substr(line.find(':') + 1);
}

std::string basic(const std::string& user_password) {
  std::string out(4 * ((user_password.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(user_password.data()),
                          static_cast<int>(user_password.size()));
  out.resize(static_cast<size_t>(n));
  return "Basic " + out;
}

std::string problems_of(const std::string& yaml) {
  try {
    parse_web_config(yaml, "/etc/ttl-auditor");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    return e.what();
  }
  return "";
}

TEST(WebConfig, ParsesTheExporterToolkitFormat) {
  WebConfig c = parse_web_config(R"(
tls_server_config:
  cert_file: tls/server.crt
  key_file: /abs/server.key
  min_version: TLS13
basic_auth_users:
  alice: $2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze
http_server_config:
  headers:
    X-Frame-Options: deny
)",
                                 "/etc/ttl-auditor");
  EXPECT_TRUE(c.tls);
  EXPECT_EQ(c.tls_config.cert_file, "/etc/ttl-auditor/tls/server.crt") << "relative to the file";
  EXPECT_EQ(c.tls_config.key_file, "/abs/server.key");
  EXPECT_EQ(c.tls_config.min_version, "TLS13");
  EXPECT_EQ(c.tls_config.max_version, "TLS13");
  ASSERT_EQ(c.users.size(), 1u);
  EXPECT_EQ(c.users.at("alice").substr(0, 7), "$2y$10$");
  ASSERT_EQ(c.headers.size(), 1u);
  EXPECT_EQ(c.headers[0].first, "X-Frame-Options");

  WebConfig empty = parse_web_config("", "/x");
  EXPECT_FALSE(empty.tls);
  EXPECT_TRUE(empty.users.empty());
  // tls_server_config without a certificate means plain HTTP (as in the toolkit).
  EXPECT_FALSE(parse_web_config("tls_server_config: {}\n", "/x").tls);
}

TEST(WebConfig, EveryProblemIsNamedAtOnce) {
  std::string p = problems_of(R"(
tls_server_config:
  cert_file: a.crt
  cipher_suites: [TLS_AES_128_GCM_SHA256]
  min_version: SSL3
  client_auth_type: RequireAndVerifyClientCert
basic_auth_users:
  bob: plaintext-password
  "carol:x": $2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze
rate_limit: {interval: 1s, burst: 2}
tls_config: {}
)");
  EXPECT_NE(p.find("tls_server_config: missing key_file"), std::string::npos) << p;
  EXPECT_NE(p.find("tls_server_config.cipher_suites: not supported"), std::string::npos) << p;
  EXPECT_NE(p.find("tls_server_config.min_version: expected TLS10"), std::string::npos) << p;
  EXPECT_NE(p.find("tls_server_config.client_ca_file: required"), std::string::npos) << p;
  EXPECT_NE(p.find("basic_auth_users.bob: expected a bcrypt hash"), std::string::npos) << p;
  EXPECT_NE(p.find("basic_auth_users.carol:x: a user name"), std::string::npos) << p;
  EXPECT_NE(p.find("rate_limit: not supported"), std::string::npos) << p;
  EXPECT_NE(p.find("tls_config: unknown key"), std::string::npos) << p;
  EXPECT_NE(problems_of("tls_server_config: {cert: x, cert_file: y, key: z}").find("exclusive"),
            std::string::npos);
  EXPECT_NE(problems_of("- a\n- b\n").find("mapping"), std::string::npos);
  EXPECT_NE(problems_of("a: [").find("not valid YAML"), std::string::npos);
}

TEST(WebConfig, LoadNamesTheFile) {
  fs::path file = fs::temp_directory_path() / ("ttla-webcfg-" + std::to_string(::getpid()) + ".yml");
  { std::ofstream(file) << "basic_auth_users: {a: nope}\n"; }
  try {
    load_web_config(file.string());
    ADD_FAILURE() << "accepted a non-bcrypt hash";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(file.string() + ": basic_auth_users.a:", 0), 0u) << e.what();
  }
  fs::remove(file);
  EXPECT_THROW(load_web_config(file.string()), Error) << "missing file";
}

TEST(WebConfig, BcryptFromHtpasswdMatchesOnlyItsPassword) {
  std::string hash = htpasswd_hash("s3cret pass");
  if (hash.empty()) TTLA_SKIP_OR_FAIL("htpasswd missing: apt-get install apache2-utils");
  ASSERT_EQ(hash.substr(0, 4), "$2y$") << hash;
  EXPECT_TRUE(bcrypt_matches("s3cret pass", hash));
  EXPECT_FALSE(bcrypt_matches("s3cret pass ", hash));
  EXPECT_FALSE(bcrypt_matches("", hash));
  // $2b$ (OpenBSD, Python's bcrypt) and $2a$ name the same algorithm for ASCII passwords.
  EXPECT_TRUE(bcrypt_matches("s3cret pass", "$2b$" + hash.substr(4)));
  EXPECT_TRUE(bcrypt_matches("s3cret pass", "$2a$" + hash.substr(4)));
  EXPECT_FALSE(bcrypt_matches("s3cret pass", "$2x$" + hash.substr(4))) << "not a bcrypt prefix";
  // One character of the hash changed: no match.
  std::string tampered = hash;
  tampered.back() = tampered.back() == 'a' ? 'b' : 'a';
  EXPECT_FALSE(bcrypt_matches("s3cret pass", tampered));
  // Not bcrypt: a DES or MD5 crypt string never matches, whatever crypt() would say.
  EXPECT_FALSE(bcrypt_matches("x", "ga3B1/aPyo5qQ"));
  EXPECT_FALSE(bcrypt_matches("x", "$1$abcdefgh$abcdefghijklmnopqrstuv"));
}

TEST(WebConfig, BasicAuthOutcomes) {
  std::string hash = htpasswd_hash("right");
  if (hash.empty()) TTLA_SKIP_OR_FAIL("htpasswd missing: apt-get install apache2-utils");
  WebConfig c;
  BasicAuth auth;
  EXPECT_EQ(auth.check(c, ""), BasicAuth::Result::kNotRequired) << "no users: open";
  c.users["alice"] = hash;
  EXPECT_EQ(auth.check(c, ""), BasicAuth::Result::kMissing);
  EXPECT_EQ(auth.check(c, "Bearer abc"), BasicAuth::Result::kMissing);
  EXPECT_EQ(auth.check(c, basic("alice:wrong")), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.check(c, basic("mallory:right")), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.check(c, "Basic !!!!"), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.check(c, basic("alice")), BasicAuth::Result::kDenied) << "no colon";
  EXPECT_EQ(auth.check(c, basic("alice:right")), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.check(c, "basic " + basic("alice:right").substr(6)), BasicAuth::Result::kAllowed)
      << "scheme is case-insensitive";
  // Remembered successes never outlive a changed hash.
  c.users["alice"] = htpasswd_hash("other");
  EXPECT_EQ(auth.check(c, basic("alice:right")), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.check(c, basic("alice:other")), BasicAuth::Result::kAllowed);
  // Passwords may contain colons: only the first one separates the user.
  c.users["bob"] = htpasswd_hash("a:b");
  EXPECT_EQ(auth.check(c, basic("bob:a:b")), BasicAuth::Result::kAllowed);
}

TEST(WebConfig, SslContextChecksTheKeyMatchesTheCertificate) {
  if (::access("/usr/bin/openssl", X_OK) != 0) TTLA_SKIP_OR_FAIL("openssl CLI missing");
  fs::path dir = fs::temp_directory_path() / ("ttla-webtls-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const char* name : {"a", "b"}) {
    std::string cmd = "cd " + dir.string() +
                      " && /usr/bin/openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                      "-nodes -days 1 -subj /CN=" + name + " -keyout " + name + ".key -out " +
                      name + ".crt >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  WebTlsConfig t;
  t.cert_file = (dir / "a.crt").string();
  t.key_file = (dir / "a.key").string();
  EXPECT_NE(make_server_ssl_ctx(t), nullptr);
  t.key_file = (dir / "b.key").string();
  try {
    make_server_ssl_ctx(t);
    ADD_FAILURE() << "accepted a key of another certificate";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not match"), std::string::npos) << e.what();
  }
  // Inline PEM works like the files.
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  WebTlsConfig inl;
  inl.cert = slurp(dir / "b.crt");
  inl.key = slurp(dir / "b.key");
  EXPECT_NE(make_server_ssl_ctx(inl), nullptr);
  t.cert_file = (dir / "missing.crt").string();
  EXPECT_THROW(make_server_ssl_ctx(t), Error);
  fs::remove_all(dir);
}

std::string repo_file(const std::string& rel) {
  std::ifstream in(std::string(TTLA_SOURCE_DIR) + "/" + rel);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(WebConfig, DeployExamplesParseAndUseIt) {
  // systemd: the example file, with certificate names relative to its directory.
  const std::string example = std::string(TTLA_SOURCE_DIR) + "/deploy/systemd/web-config.example.yml";
  WebConfig sd = load_web_config(example);
  EXPECT_TRUE(sd.tls);
  EXPECT_EQ(sd.tls_config.cert_file, std::string(TTLA_SOURCE_DIR) + "/deploy/systemd/server.crt");
  EXPECT_EQ(sd.users.count("prometheus"), 1u);
  const std::string unit = repo_file("deploy/systemd/ttl-auditor-exporter.service");
  EXPECT_NE(unit.find("--web.config.file %d/web-config.yml"), std::string::npos);
  EXPECT_NE(unit.find("LoadCredential=server.key:"), std::string::npos);

  // Kubernetes: the Secret's web config, the Deployment's flag, mounts and HTTPS probe.
  std::vector<YAML::Node> docs = YAML::LoadAll(repo_file("deploy/kubernetes/exporter-deployment.yaml"));
  bool secret = false, deployment = false;
  for (const auto& d : docs) {
    if (!d.IsMap()) continue;
    const std::string kind = d["kind"].as<std::string>();
    if (kind == "Secret" && d["metadata"]["name"].as<std::string>() == "ttl-auditor-exporter-web") {
      WebConfig k = parse_web_config(d["stringData"]["web-config.yml"].as<std::string>(), "/");
      EXPECT_TRUE(k.tls);
      EXPECT_EQ(k.tls_config.key_file, "/etc/ttl-auditor/tls/tls.key");
      EXPECT_FALSE(k.users.empty());
      secret = true;
    }
    if (kind == "Deployment") {
      const YAML::Node pod = d["spec"]["template"]["spec"];
      const YAML::Node c = pod["containers"][0];
      std::string args;
      for (const auto& a : c["args"]) args += a.as<std::string>() + " ";
      EXPECT_NE(args.find("--web.config.file=/etc/ttl-auditor/web/web-config.yml"), std::string::npos) << args;
      EXPECT_NE(args.find("--listen=0.0.0.0:9877"), std::string::npos) << args;
      EXPECT_EQ(c["readinessProbe"]["httpGet"]["scheme"].as<std::string>(), "HTTPS");
      std::set<std::string> mounts;
      for (const auto& m : c["volumeMounts"]) mounts.insert(m["mountPath"].as<std::string>());
      EXPECT_EQ(mounts.count("/etc/ttl-auditor/web"), 1u);
      EXPECT_EQ(mounts.count("/etc/ttl-auditor/tls"), 1u);
      EXPECT_LE(pod["terminationGracePeriodSeconds"].as<int>(), 60) << "SIGTERM stops serve in seconds";
      deployment = true;
    }
  }
  EXPECT_TRUE(secret && deployment);
}

TEST(WebConfig, OnePortEverywhere) {
  // serve's default, help text, README and deploy examples all use 9877.
  for (const char* file : {"README.md", "src/app/cli.cc", "src/app/serve.h",
                           "deploy/systemd/ttl-auditor-exporter.service",
                           "deploy/kubernetes/exporter-deployment.yaml"}) {
    const std::string text = repo_file(file);
    ASSERT_FALSE(text.empty()) << file;
    static const std::regex port_re(R"((?:127\.0\.0\.1|0\.0\.0\.0|localhost|auditor-host|port:?)[: "]*(9[0-9]{3})\b)");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), port_re); it != std::sregex_iterator(); ++it) {
      const std::string port = (*it)[1];
      if (port == "9091" || port == "9090") continue;  // Pushgateway, Prometheus
      EXPECT_EQ(port, "9877") << file << ": " << it->str();
    }
    EXPECT_EQ(text.find("9782"), std::string::npos) << file;
  }
}

}  // namespace
}  // namespace ttla
