// `serve --web.config.file`: TLS and HTTP basic authentication in the exporter-toolkit format,
// exercised with real tools only: certificates made by the openssl CLI, bcrypt hashes by
// htpasswd (Apache's implementation), requests by the curl CLI verifying the server certificate.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/files.h"
#include "support/require.h"
#include "support/serve_runner.h"
#include "unit/sinks/sinks_test_report.h"

namespace ttla {
namespace {

namespace fs = std::filesystem;
using testing::ServeRunner;
using testing::wait_for;

std::string sh(const std::string& cmd, int* rc = nullptr) {
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[512];
  while (p && std::fgets(buf, sizeof buf, p)) out += buf;
  int status = p ? ::pclose(p) : -1;
  if (rc) *rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

struct Reply {
  int status = 0;  // 0: no HTTP answer (refused, TLS failure, certificate not trusted)
  std::string headers;
  std::string body;
};

class WebServe : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {"/usr/bin/curl", "/usr/bin/openssl", "/usr/bin/htpasswd"}) {
      if (::access(tool, X_OK) != 0) {
        TTLA_SKIP_OR_FAIL(std::string(tool) + " missing: scripts/install-deps.sh");
      }
    }
    dir_ = fs::temp_directory_path() / ("ttla-serve-web-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "tls");
  }
  void TearDown() override {
    if (!dir_.empty() && !std::getenv("TTLA_KEEP_TEST_DIR")) fs::remove_all(dir_);
  }

  // A self-signed certificate for 127.0.0.1 as tls/NAME.crt + tls/NAME.key.
  void make_cert(const std::string& name) {
    int rc = 0;
    std::string out = sh("cd " + (dir_ / "tls").string() +
                             " && /usr/bin/openssl req -x509 -newkey ec -pkeyopt "
                             "ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=ttl-auditor-" +
                             name + " -addext subjectAltName=IP:127.0.0.1 -keyout " + name +
                             ".key -out " + name + ".crt 2>&1",
                         &rc);
    ASSERT_EQ(rc, 0) << out;
  }
  static std::string bcrypt(const std::string& password) {
    std::string line = sh("/usr/bin/htpasswd -nbBC 6 x '" + password + "'");
    line = line.substr(line.find(':') + 1);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return line;
  }
  void write_config(const std::string& yaml) {
    // Written beside and renamed: a request never reads a half-written file.
    std::ofstream(dir_ / "web.yml.tmp") << yaml;
    fs::rename(dir_ / "web.yml.tmp", dir_ / "web.yml");
  }
  std::string config_path() const { return (dir_ / "web.yml").string(); }

  // curl, trusting only `ca` (a file under tls/); user "" sends no credentials.
  Reply curl(const std::string& url, const std::string& ca, const std::string& user = "") {
    fs::path body = dir_ / "body", head = dir_ / "head";
    fs::remove(body);
    fs::remove(head);
    std::string cmd = "/usr/bin/curl -sS --max-time 10 -o " + body.string() + " -D " + head.string() +
                      " -w '%{http_code}'";
    if (!ca.empty()) cmd += " --cacert " + (dir_ / "tls" / ca).string();
    if (!user.empty()) cmd += " -u '" + user + "'";
    cmd += " '" + url + "' 2>/dev/null";
    Reply r;
    r.status = std::atoi(sh(cmd).c_str());
    r.headers = ttla::testing::read_file(head);
    r.body = ttla::testing::read_file(body);
    return r;
  }

  fs::path dir_;
};

ServeOptions options_with(const std::string& web_config) {
  ServeOptions o;
  o.handle_signals = false;
  o.web_config_file = web_config;
  o.audit_once = [](const std::atomic<bool>&) { return testing::crafted_report(); };
  return o;
}

TEST_F(WebServe, TlsAndBasicAuthWithCurl) {
  make_cert("one");
  const std::string alice = bcrypt("correct horse");
  // Relative names: taken from the web configuration file's directory.
  write_config("tls_server_config:\n  cert_file: tls/one.crt\n  key_file: tls/one.key\n"
               "basic_auth_users:\n  alice: " + alice + "\n"
               "http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n");
  ServeRunner serve(options_with(config_path()));
  const std::string base = "https://127.0.0.1:" + std::to_string(serve.port());
  ASSERT_TRUE(wait_for([&] { return curl(base + "/healthz", "one.crt").status == 200; }));

  // The right password over verified TLS: 200 and the metrics.
  Reply ok = curl(base + "/metrics", "one.crt", "alice:correct horse");
  EXPECT_EQ(ok.status, 200) << ok.headers;
  EXPECT_NE(ok.body.find("ttl_auditor_target_success{"), std::string::npos);
  EXPECT_NE(ok.headers.find("X-Content-Type-Options: nosniff"), std::string::npos) << ok.headers;
  EXPECT_EQ(curl(base + "/report.json", "one.crt", "alice:correct horse").status, 200);

  // Wrong password, unknown user, no credentials: 401 with a Basic challenge, no data.
  for (const std::string& user : {std::string("alice:wrong"), std::string("bob:correct horse"),
                                  std::string("")}) {
    for (const char* path : {"/metrics", "/report.json", "/"}) {
      Reply r = curl(base + path, "one.crt", user);
      EXPECT_EQ(r.status, 401) << user << " " << path;
      EXPECT_NE(r.headers.find("WWW-Authenticate: Basic"), std::string::npos) << r.headers;
      EXPECT_EQ(r.body.find("ttl_auditor"), std::string::npos);
      EXPECT_EQ(r.body.find("schema_version"), std::string::npos);
    }
  }
  // /healthz: a probe without credentials gets the status only; a user gets the details.
  Reply probe = curl(base + "/healthz", "one.crt");
  EXPECT_EQ(probe.status, 200);
  EXPECT_EQ(nlohmann::json::parse(probe.body), nlohmann::json({{"status", "ok"}}));
  EXPECT_EQ(curl(base + "/healthz", "one.crt", "alice:wrong").status, 401);
  Reply detail = curl(base + "/healthz", "one.crt", "alice:correct horse");
  EXPECT_EQ(nlohmann::json::parse(detail.body)["audits"], 1);

  // Plain HTTP to the TLS port gets no HTTP answer; an untrusted certificate is refused by curl.
  EXPECT_EQ(curl("http://127.0.0.1:" + std::to_string(serve.port()) + "/metrics", "",
                 "alice:correct horse").status, 0);
  make_cert("other");
  EXPECT_EQ(curl(base + "/metrics", "other.crt", "alice:correct horse").status, 0);
}

TEST_F(WebServe, UsersAndCertificatesAreReloadedWithoutRestart) {
  make_cert("one");
  make_cert("two");
  write_config("tls_server_config: {cert_file: tls/one.crt, key_file: tls/one.key}\n"
               "basic_auth_users: {alice: " + bcrypt("a-pass") + "}\n");
  ServeRunner serve(options_with(config_path()));
  const std::string url = "https://127.0.0.1:" + std::to_string(serve.port()) + "/metrics";
  ASSERT_EQ(curl(url, "one.crt", "alice:a-pass").status, 200);

  // New users and a new certificate: the next request uses them.
  write_config("tls_server_config: {cert_file: tls/two.crt, key_file: tls/two.key}\n"
               "basic_auth_users: {bob: " + bcrypt("b-pass") + "}\n");
  EXPECT_EQ(curl(url, "one.crt", "bob:b-pass").status, 0) << "the old certificate is gone";
  EXPECT_EQ(curl(url, "two.crt", "bob:b-pass").status, 200);
  EXPECT_EQ(curl(url, "two.crt", "alice:a-pass").status, 401) << "alice was removed";

  // A broken file refuses connections (no TLS context can be made from it) rather than serving
  // without authentication.
  write_config("basic_auth_users: {bob: not-a-hash}\n");
  EXPECT_EQ(curl(url, "two.crt", "bob:b-pass").status, 0);
  auto [rc, seconds] = serve.stop();
  EXPECT_EQ(rc, 0);
  EXPECT_LT(seconds, 2.0);
}

TEST_F(WebServe, PlainHttpWithBasicAuthAndABrokenFileAtRuntime) {
  write_config("basic_auth_users:\n  alice: " + bcrypt("pw") + "\n");
  ServeRunner serve(options_with(config_path()));
  const std::string url = "http://127.0.0.1:" + std::to_string(serve.port()) + "/metrics";
  EXPECT_EQ(curl(url, "", "alice:pw").status, 200);
  EXPECT_EQ(curl(url, "", "alice:pW").status, 401);
  write_config("basic_auth_users: [oops]\n");
  EXPECT_EQ(curl(url, "", "alice:pw").status, 500) << "unreadable config: refuse, never open up";
  write_config("{}\n");
  EXPECT_EQ(curl(url, "").status, 200) << "no users left: open again";
}

TEST_F(WebServe, AnUnusableWebConfigIsAStartupErrorOfTheCli) {
  fs::path cfg = dir_ / "config.yaml";
  std::ofstream(cfg) << "targets:\n  - {name: images, kind: filesystem, path: " << dir_.string()
                     << ", retention: 7d}\n";
  auto serve_rc = [&](const std::string& web_yaml, std::string& err) {
    write_config(web_yaml);
    int rc = 0;
    err = sh(std::string(TTLA_BINARY) + " serve --config " + cfg.string() +
                 " --listen 127.0.0.1:0 --interval 1h --web.config.file " + config_path() +
                 " 2>&1 </dev/null",
             &rc);
    return rc;
  };
  std::string err;
  EXPECT_EQ(serve_rc("basic_auth_users: {alice: plaintext}\n", err), 2);
  EXPECT_NE(err.find(config_path() + ": basic_auth_users.alice: expected a bcrypt hash"),
            std::string::npos) << err;
  EXPECT_EQ(serve_rc("tls_server_config: {cert_file: tls/none.crt, key_file: tls/none.key}\n", err), 2);
  EXPECT_NE(err.find("cannot read cert_file"), std::string::npos) << err;
  make_cert("one");
  make_cert("two");
  EXPECT_EQ(serve_rc("tls_server_config: {cert_file: tls/one.crt, key_file: tls/two.key}\n", err), 2);
  EXPECT_NE(err.find("does not match"), std::string::npos) << err;
  fs::remove(dir_ / "web.yml");
  int rc = 0;
  err = sh(std::string(TTLA_BINARY) + " serve --config " + cfg.string() +
               " --listen 127.0.0.1:0 --interval 1h --web.config.file " + config_path() + " 2>&1",
           &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(err.find("cannot read the web configuration file"), std::string::npos) << err;
}

}  // namespace
}  // namespace ttla
