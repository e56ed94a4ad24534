// The credentials chain against real files in a temp dir and real loopback servers.
// All values are fake; assertions compare them without printing anything real.
#include "aws/credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "core/error.h"
#include "support/test_http_server.h"

extern char** environ;

namespace ttla::aws {
namespace {

using ttla::testing::CannedResponse;
using ttla::testing::ReceivedRequest;
using ttla::testing::TestHttpServer;
namespace fs = std::filesystem;

std::string iso_utc(double epoch) {
  time_t t = static_cast<time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

double now_epoch() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Each test starts with no AWS_* or proxy variables, HOME in a fresh temp dir, and IMDS
// disabled (so nothing ever tries 169.254.169.254); everything is restored afterwards.
class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry(*e);
      std::string name = entry.substr(0, entry.find('='));
      if (name.rfind("AWS_", 0) == 0) names_to_clear_.push_back(name);
    }
    for (const auto& n : names_to_clear_) unset(n);
    for (const char* n : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                          "ALL_PROXY", "no_proxy", "NO_PROXY"}) {
      unset(n);
    }
    char tmpl[] = "/tmp/ttla-creds-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    set("HOME", dir_.string());
    set("AWS_EC2_METADATA_DISABLED", "true");
  }
  void TearDown() override {
    for (auto& [name, old] : saved_) {
      if (old) ::setenv(name.c_str(), old->c_str(), 1);
      else ::unsetenv(name.c_str());
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void set(const std::string& name, const std::string& value) {
    remember(name);
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  void unset(const std::string& name) {
    remember(name);
    ::unsetenv(name.c_str());
  }
  std::string write(const std::string& rel, const std::string& content, bool executable = false) {
    fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    if (executable) ::chmod(p.c_str(), 0755);
    return p.string();
  }
  std::string read(const std::string& rel) {
    std::ifstream in(dir_ / rel);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Runs the chain expecting failure; returns the ttla::Error message.
  std::string expect_auth_error(ChainOptions options = {}) {
    try {
      make_default_chain(options)->get();
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kAuth);
      return e.what();
    }
    ADD_FAILURE() << "expected ttla::Error(kAuth)";
    return {};
  }

  fs::path dir_;

 private:
  void remember(const std::string& name) {
    if (saved_.count(name)) return;
    const char* v = std::getenv(name.c_str());
    saved_[name] = v ? std::optional<std::string>(v) : std::nullopt;
  }
  std::vector<std::string> names_to_clear_;
  std::map<std::string, std::optional<std::string>> saved_;
};

std::string sts_success(const std::string& key, double expiration) {
  return "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
         "<AssumeRoleWithWebIdentityResult><SubjectFromWebIdentityToken>sub</SubjectFromWebIdentityToken>"
         "<Credentials><SessionToken>STS-SESSION</SessionToken><SecretAccessKey>STS-SECRET</SecretAccessKey>"
         "<Expiration>" + iso_utc(expiration) + "</Expiration><AccessKeyId>" + key + "</AccessKeyId>"
         "</Credentials></AssumeRoleWithWebIdentityResult>"
         "<ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>";
}

ChainOptions named(const std::string& profile, const std::string& region = "") {
  ChainOptions o;
  o.profile = profile;
  o.region = region;
  return o;
}

std::string json_credentials(const std::string& key, double expiration) {
  return R"({"AccessKeyId":")" + key + R"(","SecretAccessKey":"JSON-SECRET","Token":"JSON-TOKEN",)" +
         R"("Expiration":")" + iso_utc(expiration) + R"("})";
}

// ----------------------------------------------------------------------------- environment

TEST_F(CredentialsTest, EnvironmentProvider) {
  set("AWS_ACCESS_KEY_ID", "AKIDENV");
  set("AWS_SECRET_ACCESS_KEY", "ENV-SECRET");
  set("AWS_SESSION_TOKEN", "ENV-TOKEN");
  Credentials c = make_default_chain()->get();
  EXPECT_EQ(c.source, "environment");
  EXPECT_EQ(c.access_key_id, "AKIDENV");
  EXPECT_TRUE(c.secret_access_key == "ENV-SECRET");
  EXPECT_TRUE(c.session_token == "ENV-TOKEN");
  EXPECT_FALSE(c.expiration.has_value());
}

TEST_F(CredentialsTest, PartialEnvironmentStopsTheChain) {
  set("AWS_ACCESS_KEY_ID", "AKIDENV");
  write(".aws/credentials", "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = S\n");
  std::string msg = expect_auth_error();
  EXPECT_NE(msg.find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("shared files"), std::string::npos) << msg;  // did not fall through
}

// ----------------------------------------------------------------------------- shared files

TEST_F(CredentialsTest, DefaultProfileFromHomeCredentialsFile) {
  write(".aws/credentials",
        "# comment\n[other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = O\n\n"
        "[default]\naws_access_key_id = AKIDDEFAULT\r\naws_secret_access_key=DEFAULT-SECRET\n"
        "aws_session_token = DEFAULT-TOKEN ; trailing comment\n");
  Credentials c = make_default_chain()->get();
  EXPECT_EQ(c.source, "profile:default");
  EXPECT_EQ(c.access_key_id, "AKIDDEFAULT");
  EXPECT_TRUE(c.secret_access_key == "DEFAULT-SECRET");
  EXPECT_TRUE(c.session_token == "DEFAULT-TOKEN");
}

TEST_F(CredentialsTest, NamedProfileFromConfigFileViaAwsProfile) {
  std::string config = write("cfg/config",
                             "[default]\nregion = eu-west-1\n"
                             "[profile prod]\nregion = us-east-1\ns3 =\n  addressing_style = path\n"
                             "aws_access_key_id = AKIDPROD\naws_secret_access_key = PROD-SECRET\n");
  set("AWS_CONFIG_FILE", config);
  set("AWS_SHARED_CREDENTIALS_FILE", (dir_ / "nope").string());
  set("AWS_PROFILE", "prod");
  Credentials c = make_default_chain()->get();
  EXPECT_EQ(c.source, "profile:prod");
  EXPECT_EQ(c.access_key_id, "AKIDPROD");
  EXPECT_TRUE(c.session_token.empty());
}

TEST_F(CredentialsTest, OptionsProfileBeatsAwsProfileAndCredentialsFileBeatsConfig) {
  std::string config = write("c/config",
                             "[profile a]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = X\n"
                             "[profile b]\naws_access_key_id = AKIDB\naws_secret_access_key = X\n");
  std::string creds = write("c/credentials", "[a]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = Y\n");
  set("AWS_CONFIG_FILE", config);
  set("AWS_SHARED_CREDENTIALS_FILE", creds);
  set("AWS_PROFILE", "b");
  ChainOptions options;
  options.profile = "a";
  Credentials c = make_default_chain(options)->get();
  EXPECT_EQ(c.source, "profile:a");
  EXPECT_EQ(c.access_key_id, "AKIDCREDS");
  EXPECT_EQ(make_default_chain()->get().access_key_id, "AKIDB");
}

TEST_F(CredentialsTest, ConfiguredProfileNotFoundIsAnErrorNamingTheFilesRead) {
  write(".aws/credentials", "[default]\naws_access_key_id = A\naws_secret_access_key = B\n");
  // A web identity that would answer if the chain went on: it must not be asked.
  std::atomic<int> sts_hits{0};
  TestHttpServer sts([&](const ReceivedRequest&) {
    ++sts_hits;
    CannedResponse r;
    r.body = sts_success("ASIAWRONG", now_epoch() + 3600);
    return r;
  });
  set("AWS_WEB_IDENTITY_TOKEN_FILE", write("token", "jwt"));
  set("AWS_ROLE_ARN", "arn:aws:iam::1:role/other");
  set("AWS_ENDPOINT_URL_STS", sts.url("/"));
  std::string msg = expect_auth_error(named("missing"));
  EXPECT_NE(msg.find("shared files: profile 'missing' not found in " + (dir_ / ".aws/credentials").string()),
            std::string::npos) << msg;
  EXPECT_NE(msg.find((dir_ / ".aws/config").string() + " (missing)"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("web identity:"), std::string::npos) << msg;  // stopped there
  EXPECT_EQ(sts_hits.load(), 0);
  // The same through AWS_PROFILE.
  set("AWS_PROFILE", "missing");
  msg = expect_auth_error();
  EXPECT_NE(msg.find("profile 'missing' not found"), std::string::npos) << msg;
  EXPECT_EQ(sts_hits.load(), 0);
}

TEST_F(CredentialsTest, UnnamedDefaultProfileMissingFallsThrough) {
  // No profile named anywhere: "default" being absent is not an error, the chain goes on.
  std::string msg = expect_auth_error();
  EXPECT_NE(msg.find("profile 'default' not found"), std::string::npos) << msg;
  EXPECT_NE(msg.find("imds: disabled"), std::string::npos) << msg;
}

// ----------------------------------------------------------------------------- role_arn

// An STS stand-in for the unit tests (the integration tests use moto): answers AssumeRole with
// credentials named after the role, and records who signed each call.
struct FakeSts {
  std::mutex mu;
  std::vector<ReceivedRequest> calls;
  std::atomic<int> lifetime_seconds{3600};  // of the credentials handed out
  TestHttpServer server{[this](const ReceivedRequest& req) {
    std::lock_guard<std::mutex> lock(mu);
    calls.push_back(req);
    std::string body = req.body;
    size_t at = body.find("RoleArn=");
    std::string arn = body.substr(at + 8, body.find('&', at) - at - 8);
    std::string role = arn.substr(arn.rfind("%2F") + 3);
    CannedResponse r;
    r.headers = {{"Content-Type", "text/xml"}};
    r.body = "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"
             "<Credentials><AccessKeyId>ASIA" + role + "</AccessKeyId><SecretAccessKey>S-" + role +
             "</SecretAccessKey><SessionToken>T-" + role + "</SessionToken><Expiration>" +
             iso_utc(now_epoch() + lifetime_seconds.load()) + "</Expiration></Credentials><AssumedRoleUser><Arn>x</Arn>"
             "</AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>";
    return r;
  }};
  // "Credential=AKID/..." of the n-th call.
  std::string signer(size_t n) {
    std::lock_guard<std::mutex> lock(mu);
    const std::string& auth = calls.at(n).headers.at("authorization");
    size_t c = auth.find("Credential=") + 11;
    return auth.substr(c, auth.find('/', c) - c);
  }
  std::string body(size_t n) {
    std::lock_guard<std::mutex> lock(mu);
    return calls.at(n).body;
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return calls.size();
  }
};

TEST_F(CredentialsTest, RoleArnWithSourceProfileAssumesTheRoleSigned) {
  FakeSts sts;
  set("AWS_ENDPOINT_URL_STS", sts.server.url("/"));
  write(".aws/credentials", "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = SB\n");
  write(".aws/config",
        "[profile audit]\nrole_arn = arn:aws:iam::123456789012:role/Reader\nsource_profile = base\n"
        "external_id = ext-42\nrole_session_name = nightly\nduration_seconds = 1800\n");
  Credentials c = make_default_chain(named("audit", "eu-west-1"))->get();
  EXPECT_EQ(c.access_key_id, "ASIAReader");
  EXPECT_EQ(c.session_token, "T-Reader");
  ASSERT_TRUE(c.expiration);
  EXPECT_NE(c.source.find("assume_role:audit"), std::string::npos) << c.source;
  ASSERT_EQ(sts.count(), 1u);
  EXPECT_EQ(sts.signer(0), "AKIDBASE");
  std::string body = sts.body(0);
  for (const char* part : {"Action=AssumeRole", "Version=2011-06-15",
                           "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FReader",
                           "RoleSessionName=nightly", "DurationSeconds=1800", "ExternalId=ext-42"}) {
    EXPECT_NE(body.find(part), std::string::npos) << part << " in " << body;
  }
}

TEST_F(CredentialsTest, ChainedProfilesAssumeEachRoleInTurn) {
  FakeSts sts;
  set("AWS_ENDPOINT_URL_STS", sts.server.url("/"));
  write(".aws/config",
        "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = SB\n"
        "[profile hop]\nrole_arn = arn:aws:iam::1:role/Hop\nsource_profile = base\n"
        "[profile audit]\nrole_arn = arn:aws:iam::2:role/Final\nsource_profile = hop\n");
  Credentials c = make_default_chain(named("audit"))->get();
  EXPECT_EQ(c.access_key_id, "ASIAFinal");
  ASSERT_EQ(sts.count(), 2u);
  EXPECT_EQ(sts.signer(0), "AKIDBASE");  // base -> Hop
  EXPECT_EQ(sts.signer(1), "ASIAHop");   // Hop -> Final
}

TEST_F(CredentialsTest, SourceProfileWithStaticKeysUsesThemEvenWithItsOwnRole) {
  FakeSts sts;
  set("AWS_ENDPOINT_URL_STS", sts.server.url("/"));
  // As in botocore: a source profile's static keys win over its role_arn; a profile naming
  // itself assumes its role with its own keys.
  write(".aws/config",
        "[profile self]\naws_access_key_id = AKIDSELF\naws_secret_access_key = S\n"
        "role_arn = arn:aws:iam::1:role/Self\nsource_profile = self\n"
        "[profile top]\nrole_arn = arn:aws:iam::1:role/Top\nsource_profile = self\n");
  EXPECT_EQ(make_default_chain(named("self"))->get().access_key_id, "ASIASelf");
  EXPECT_EQ(sts.signer(0), "AKIDSELF");
  EXPECT_EQ(make_default_chain(named("top"))->get().access_key_id, "ASIATop");
  ASSERT_EQ(sts.count(), 2u);
  EXPECT_EQ(sts.signer(1), "AKIDSELF");
}

TEST_F(CredentialsTest, SourceProfileCycleIsAnError) {
  FakeSts sts;
  set("AWS_ENDPOINT_URL_STS", sts.server.url("/"));
  write(".aws/config",
        "[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = b\n"
        "[profile b]\nrole_arn = arn:aws:iam::1:role/B\nsource_profile = c\n"
        "[profile c]\nrole_arn = arn:aws:iam::1:role/C\nsource_profile = a\n");
  std::string msg = expect_auth_error(named("a"));
  EXPECT_NE(msg.find("source_profile cycle: a -> b -> c -> a"), std::string::npos) << msg;
  EXPECT_EQ(sts.count(), 0u);
}

TEST_F(CredentialsTest, MissingSourceProfileNamesFiles) {
  write(".aws/config", "[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = nowhere\n");
  std::string msg = expect_auth_error(named("a"));
  EXPECT_NE(msg.find("source_profile 'nowhere' of profile 'a' not found in " +
                     (dir_ / ".aws/credentials").string() + " (missing), " +
                     (dir_ / ".aws/config").string()),
            std::string::npos) << msg;
}

TEST_F(CredentialsTest, CredentialSourceEnvironment) {
  FakeSts sts;
  set("AWS_ENDPOINT_URL_STS", sts.server.url("/"));
  write(".aws/config", "[profile r]\nrole_arn = arn:aws:iam::1:role/FromEnv\ncredential_source = Environment\n"
                       "[profile bad]\nrole_arn = arn:aws:iam::1:role/X\ncredential_source = Somewhere\n");
  std::string msg = expect_auth_error(named("r"));
  EXPECT_NE(msg.find("credential_source Environment: AWS_ACCESS_KEY_ID not set"), std::string::npos) << msg;
  msg = expect_auth_error(named("bad"));
  EXPECT_NE(msg.find("credential_source 'Somewhere' is not Environment, Ec2InstanceMetadata or EcsContainer"),
            std::string::npos) << msg;
  EXPECT_EQ(sts.count(), 0u);
  // A profile named in the config skips the environment provider (as the SDKs do for an
  // explicit profile); its credential_source takes the keys from there.
  set("AWS_ACCESS_KEY_ID", "AKIDENV");
  set("AWS_SECRET_ACCESS_KEY", "SE");
  Credentials c = make_default_chain(named("r"))->get();
  EXPECT_EQ(c.access_key_id, "ASIAFromEnv");
  ASSERT_EQ(sts.count(), 1u);
  EXPECT_EQ(sts.signer(0), "AKIDENV");
}

TEST_F(CredentialsTest, CredentialSourceEc2InstanceMetadataWhenDisabledFailsClearly) {
  write(".aws/config", "[profile r]\nrole_arn = arn:aws:iam::1:role/R\ncredential_source = Ec2InstanceMetadata\n");
  std::string msg = expect_auth_error(named("r"));
  EXPECT_NE(msg.find("credential_source Ec2InstanceMetadata: disabled"), std::string::npos) << msg;
}

TEST_F(CredentialsTest, TargetRoleIsAssumedOnTopOfTheChain) {
  FakeSts sts;
  set("AWS_ENDPOINT_URL_STS", sts.server.url("/"));
  set("AWS_ACCESS_KEY_ID", "AKIDENV");
  set("AWS_SECRET_ACCESS_KEY", "SE");
  ChainOptions o;
  o.role_arn = "arn:aws:iam::210987654321:role/WorkloadReader";
  o.external_id = "x-1";
  o.session_name = "ttl-auditor-sessions table";  // the space is not allowed in a session name
  auto provider = make_default_chain(o);
  Credentials c = provider->get();
  EXPECT_EQ(c.access_key_id, "ASIAWorkloadReader");
  EXPECT_EQ(provider->get().access_key_id, "ASIAWorkloadReader");  // cached
  ASSERT_EQ(sts.count(), 1u);
  EXPECT_EQ(sts.signer(0), "AKIDENV");
  EXPECT_NE(sts.body(0).find("RoleSessionName=ttl-auditor-sessions-table"), std::string::npos)
      << sts.body(0);
  EXPECT_NE(sts.body(0).find("ExternalId=x-1"), std::string::npos);
}

TEST_F(CredentialsTest, AssumedRoleIsRefreshedBeforeItExpires) {
  FakeSts sts;
  sts.lifetime_seconds = 200;  // inside the 5-minute refresh window from the start
  set("AWS_ENDPOINT_URL_STS", sts.server.url("/"));
  set("AWS_ACCESS_KEY_ID", "AKIDENV");
  set("AWS_SECRET_ACCESS_KEY", "SE");
  ChainOptions o;
  o.role_arn = "arn:aws:iam::1:role/Short";
  auto provider = make_default_chain(o);
  EXPECT_EQ(provider->get().access_key_id, "ASIAShort");
  EXPECT_EQ(provider->get().access_key_id, "ASIAShort");
  EXPECT_EQ(sts.count(), 2u);  // due for refresh: assumed again
  sts.lifetime_seconds = 3600;
  provider->get();
  provider->get();
  EXPECT_EQ(sts.count(), 3u);  // fresh for an hour: cached
  // Profiles' roles too (the chain caches and refreshes what the profile yields).
  sts.lifetime_seconds = 200;
  write(".aws/config", "[profile r]\nrole_arn = arn:aws:iam::1:role/P\ncredential_source = Environment\n");
  auto chain = make_default_chain(named("r"));
  chain->get();
  chain->get();
  EXPECT_EQ(sts.count(), 5u);
}

TEST_F(CredentialsTest, TargetRoleRefusesPublicStsForALocalTarget) {
  set("AWS_ACCESS_KEY_ID", "AKIDENV");
  set("AWS_SECRET_ACCESS_KEY", "SE");
  ChainOptions o;
  o.region = "us-east-1";
  o.role_arn = "arn:aws:iam::1:role/R";
  o.target_endpoint_url = "http://127.0.0.1:4566";
  try {
    make_default_chain(o)->get();
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("https://sts.us-east-1.amazonaws.com"), std::string::npos) << msg;
    EXPECT_NE(msg.find("AWS_ENDPOINT_URL_STS"), std::string::npos) << msg;
  }
}

TEST_F(CredentialsTest, SsoProfileFailsWithAClearMessage) {
  write(".aws/config", "[profile sso]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n"
                       "[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\nsso_region = eu-west-1\n");
  std::string msg = expect_auth_error(named("sso"));
  EXPECT_NE(msg.find("IAM Identity Center (SSO)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("aws configure export-credentials --profile sso --format process"),
            std::string::npos) << msg;
}

TEST_F(CredentialsTest, IniNestedSettingsAndProfileSettings) {
  IniFile f = parse_aws_ini(
      "[profile p]\nregion = eu-west-1 # comment\ns3 =\n  addressing_style = path\n"
      "services = local\n[services local]\ndynamodb =\n  endpoint_url = http://127.0.0.1:1\n"
      "sts =\n endpoint_url=http://127.0.0.1:2\n");
  EXPECT_EQ(f["profile p"]["region"], "eu-west-1");
  EXPECT_EQ(f["profile p"]["s3.addressing_style"], "path");
  EXPECT_EQ(f["profile p"]["services"], "local");
  EXPECT_EQ(f["services local"]["dynamodb.endpoint_url"], "http://127.0.0.1:1");
  EXPECT_EQ(f["services local"]["sts.endpoint_url"], "http://127.0.0.1:2");
  write(".aws/config", "[default]\nregion = ap-south-1\n[profile p]\nregion = eu-west-1\n");
  write(".aws/credentials", "[p]\nregion = eu-north-1\n");
  EXPECT_EQ(profile_setting("", "region"), "ap-south-1");
  EXPECT_EQ(profile_setting("p", "region"), "eu-north-1");  // the credentials file wins
  set("AWS_PROFILE", "p");
  EXPECT_EQ(profile_setting("", "region"), "eu-north-1");
  EXPECT_EQ(profile_setting("nope", "region"), "");
}

// The one reader of both shared files: the edge cases of the AWS dialect of INI.
TEST_F(CredentialsTest, IniDialectEdgeCases) {
  IniFile f = parse_aws_ini(
      "# comment\r\n; another\r\n[default]\r\nRegion = eu-west-1\r\n"  // CRLF, key case
      "output=json;not-a-comment\n"          // a marker needs white space before it
      "endpoint_url = http://h/?a=b # note\n"  // '=' in the value, inline comment
      "[profile   spaced]\nregion = ap-east-1\n"
      "[broken\nregion = lost\n"               // unterminated header: its keys are dropped
      "[profile tabs]\ns3 =\n\taddressing_style = virtual\n"
      "not a setting\n"
      "output = text\n"
      "  orphan = indented under a key that has a value\n");
  EXPECT_EQ(f["default"]["region"], "eu-west-1");
  EXPECT_EQ(f["default"]["output"], "json;not-a-comment");
  EXPECT_EQ(f["default"]["endpoint_url"], "http://h/?a=b");
  EXPECT_EQ(f["profile   spaced"]["region"], "ap-east-1");
  EXPECT_EQ(f.count("broken"), 0u);
  EXPECT_EQ(f["profile tabs"]["s3.addressing_style"], "virtual");
  EXPECT_EQ(f["profile tabs"]["output"], "text");
  EXPECT_EQ(f["profile tabs"].count("orphan"), 0u);
  EXPECT_EQ(f["profile tabs"].count("output.orphan"), 0u);
  EXPECT_EQ(f["profile tabs"].count("not a setting"), 0u);

  // Profiles are found however the config file spells the section.
  write(".aws/config", "[profile   spaced]\nregion = ap-east-1\n[profile default]\nregion = eu-south-1\n");
  EXPECT_EQ(profile_setting("spaced", "region"), "ap-east-1");
  EXPECT_EQ(profile_setting("", "region"), "eu-south-1");  // [profile default] is the default
  write(".aws/config", "[default]\nregion = eu-west-3\n[profile default]\nregion = eu-south-1\n");
  EXPECT_EQ(profile_setting("default", "region"), "eu-south-1");  // as in botocore
}

// ----------------------------------------------------------------------------- credential_process

TEST_F(CredentialsTest, CredentialProcessRunsWithoutShellAndParsesExpiration) {
  // A path with a space and a quoted argument: only correct word splitting runs this.
  std::string script = write("bin dir/creds.sh",
                             "#!/bin/sh\n"
                             "printf '{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"P-SECRET\", "
                             "\"SessionToken\": \"P-TOKEN\", \"Expiration\": \"2031-01-02T03:04:05Z\"}' \"$1\"\n",
                             true);
  write(".aws/config", "[profile proc]\ncredential_process = \"" + script + "\" 'AKID PROC'\n");
  Credentials c = make_default_chain(named("proc"))->get();
  EXPECT_EQ(c.source, "process:proc");
  EXPECT_EQ(c.access_key_id, "AKID PROC");
  EXPECT_TRUE(c.secret_access_key == "P-SECRET");
  EXPECT_TRUE(c.session_token == "P-TOKEN");
  ASSERT_TRUE(c.expiration.has_value());
  EXPECT_DOUBLE_EQ(*c.expiration, 1925089445.0);  // date -u -d 2031-01-02T03:04:05Z +%s
}

TEST_F(CredentialsTest, CredentialProcessFailureStopsWithItsStderr) {
  std::string script = write("fail.sh", "#!/bin/sh\necho 'sso session expired' >&2\nexit 3\n", true);
  write(".aws/config", "[default]\ncredential_process = " + script + "\n");
  std::string msg = expect_auth_error();
  EXPECT_NE(msg.find("exited with status 3: sso session expired"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("imds"), std::string::npos) << msg;
}

TEST_F(CredentialsTest, CredentialProcessBadOutputs) {
  struct Case {
    std::string output;
    std::string expect;
  } cases[] = {
      {"not json", "not a JSON object"},
      {R"({"Version":2,"AccessKeyId":"A","SecretAccessKey":"B"})", "Version must be 1"},
      {R"({"Version":1,"AccessKeyId":"A"})", "lacks AccessKeyId or SecretAccessKey"},
      {R"({"Version":1,"AccessKeyId":"A","SecretAccessKey":"B","Expiration":"tomorrow"})",
       "not ISO 8601"},
  };
  int i = 0;
  for (const auto& c : cases) {
    std::string out = write("out" + std::to_string(i) + ".json", c.output);
    std::string script = write("p" + std::to_string(i) + ".sh", "#!/bin/sh\ncat '" + out + "'\n", true);
    write(".aws/config", "[default]\ncredential_process = " + script + "\n");
    std::string msg = expect_auth_error();
    EXPECT_NE(msg.find(c.expect), std::string::npos) << msg;
    ++i;
  }
  write(".aws/config", "[default]\ncredential_process = " + (dir_ / "does-not-exist").string() + "\n");
  EXPECT_NE(expect_auth_error().find("cannot run"), std::string::npos);
}

// ----------------------------------------------------------------------------- web identity

TEST_F(CredentialsTest, WebIdentityCallsStsUnsignedAndParsesXml) {
  double exp = now_epoch() + 3600;
  TestHttpServer sts([&](const ReceivedRequest&) {
    CannedResponse r;
    r.headers = {{"Content-Type", "text/xml"}};
    r.body = sts_success("ASIAWEB", exp);
    return r;
  });
  set("AWS_WEB_IDENTITY_TOKEN_FILE", write("token", "eyJ.fake+token/=\n"));
  set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/auditor");
  set("AWS_ROLE_SESSION_NAME", "sess-1");
  set("AWS_ENDPOINT_URL_STS", sts.url("/"));
  Credentials c = make_default_chain()->get();
  EXPECT_EQ(c.source, "web_identity:arn:aws:iam::123456789012:role/auditor");
  EXPECT_EQ(c.access_key_id, "ASIAWEB");
  EXPECT_TRUE(c.secret_access_key == "STS-SECRET");
  EXPECT_TRUE(c.session_token == "STS-SESSION");
  ASSERT_TRUE(c.expiration.has_value());
  EXPECT_NEAR(*c.expiration, exp, 1.0);

  auto got = sts.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].target, "/");
  EXPECT_EQ(got[0].headers.count("authorization"), 0u);  // unsigned
  EXPECT_NE(got[0].headers["content-type"].find("application/x-www-form-urlencoded"), std::string::npos);
  const std::string& body = got[0].body;
  EXPECT_NE(body.find("Action=AssumeRoleWithWebIdentity"), std::string::npos);
  EXPECT_NE(body.find("Version=2011-06-15"), std::string::npos);
  EXPECT_NE(body.find("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fauditor"), std::string::npos);
  EXPECT_NE(body.find("RoleSessionName=sess-1"), std::string::npos);
  EXPECT_NE(body.find("WebIdentityToken=eyJ.fake%2Btoken%2F%3D"), std::string::npos);  // trimmed, encoded
}

TEST_F(CredentialsTest, WebIdentityStsErrorStopsWithCodeAndNoToken) {
  TestHttpServer sts([](const ReceivedRequest&) {
    CannedResponse r;
    r.status = 400;
    r.body = "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
             "<Message>Incorrect token audience</Message></Error><RequestId>x</RequestId></ErrorResponse>";
    return r;
  });
  set("AWS_WEB_IDENTITY_TOKEN_FILE", write("token", "SECRET-JWT"));
  set("AWS_ROLE_ARN", "arn:aws:iam::1:role/r");
  set("AWS_ENDPOINT_URL_STS", sts.url(""));
  std::string msg = expect_auth_error();
  EXPECT_NE(msg.find("InvalidIdentityToken: Incorrect token audience"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("SECRET-JWT"), std::string::npos);
  EXPECT_EQ(msg.find("container"), std::string::npos) << msg;  // stopped
  EXPECT_EQ(sts.request_count(), 1u);  // a fatal STS error is not retried
}

TEST_F(CredentialsTest, WebIdentityRetriesTransientStsErrors) {
  std::atomic<int> n{0};
  TestHttpServer sts([&](const ReceivedRequest&) {
    CannedResponse r;
    if (++n == 1) {
      r.status = 503;
      return r;
    }
    r.body = sts_success("ASIARETRY", now_epoch() + 3600);
    return r;
  });
  set("AWS_WEB_IDENTITY_TOKEN_FILE", write("token", "t"));
  set("AWS_ROLE_ARN", "arn:aws:iam::1:role/r");
  set("AWS_ENDPOINT_URL_STS", sts.url(""));
  EXPECT_EQ(make_default_chain()->get().access_key_id, "ASIARETRY");
  EXPECT_EQ(sts.request_count(), 2u);
}

// ----------------------------------------------------------------------------- container

TEST_F(CredentialsTest, ContainerFullUriWithTokenFile) {
  double exp = now_epoch() + 7200;
  TestHttpServer agent([&](const ReceivedRequest& r) {
    CannedResponse c;
    if (r.headers.count("authorization") == 0 || r.headers.at("authorization") != "CONTAINER-TOKEN") {
      c.status = 401;
      c.body = R"({"message":"bad token"})";
      return c;
    }
    c.body = json_credentials("ASIACONTAINER", exp);
    return c;
  });
  set("AWS_CONTAINER_CREDENTIALS_FULL_URI", agent.url("/v2/credentials/abc"));
  set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "IGNORED-WHEN-FILE-IS-SET");
  set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", write("ctoken", "CONTAINER-TOKEN\n"));
  Credentials c = make_default_chain()->get();
  EXPECT_EQ(c.source, "container");
  EXPECT_EQ(c.access_key_id, "ASIACONTAINER");
  EXPECT_TRUE(c.session_token == "JSON-TOKEN");
  ASSERT_TRUE(c.expiration.has_value());
  EXPECT_NEAR(*c.expiration, exp, 1.0);
  auto got = agent.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "GET");
  EXPECT_EQ(got[0].target, "/v2/credentials/abc");
}

TEST_F(CredentialsTest, ContainerTokenFromEnvAndHttpErrorStops) {
  TestHttpServer agent([&](const ReceivedRequest& r) {
    CannedResponse c;
    c.status = r.headers.count("authorization") && r.headers.at("authorization") == "ENV-CTOKEN" ? 403 : 401;
    return c;
  });
  set("AWS_CONTAINER_CREDENTIALS_FULL_URI", agent.url("/creds"));
  set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ENV-CTOKEN");
  std::string msg = expect_auth_error();
  EXPECT_NE(msg.find("container: endpoint 127.0.0.1: HTTP 403"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("ENV-CTOKEN"), std::string::npos);
}

TEST_F(CredentialsTest, ContainerFullUriMustBeLoopbackOrHttps) {
  set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://203.0.113.7/creds");
  std::string msg = expect_auth_error();
  EXPECT_NE(msg.find("not loopback"), std::string::npos) << msg;
}

// ----------------------------------------------------------------------------- IMDSv2

TEST_F(CredentialsTest, ImdsV2TokenFirstThenRoleThenCredentials) {
  double exp = now_epoch() + 6 * 3600;
  TestHttpServer imds([&](const ReceivedRequest& r) {
    CannedResponse c;
    if (r.method == "PUT" && r.target == "/latest/api/token") {
      if (r.headers.count("x-aws-ec2-metadata-token-ttl-seconds") == 0) c.status = 400;
      else c.body = "IMDS-SESSION-TOKEN";
      return c;
    }
    if (r.headers.count("x-aws-ec2-metadata-token") == 0 ||
        r.headers.at("x-aws-ec2-metadata-token") != "IMDS-SESSION-TOKEN") {
      c.status = 401;
      return c;
    }
    if (r.target == "/latest/meta-data/iam/security-credentials/") {
      c.body = "auditor-role\n";
    } else if (r.target == "/latest/meta-data/iam/security-credentials/auditor-role") {
      c.body = R"({"Code":"Success","LastUpdated":"2026-11-22T00:00:00Z","Type":"AWS-HMAC",)"
               R"("AccessKeyId":"ASIAIMDS","SecretAccessKey":"IMDS-SECRET","Token":"IMDS-TOKEN",)"
               R"("Expiration":")" + iso_utc(exp) + R"("})";
    } else {
      c.status = 404;
    }
    return c;
  });
  unset("AWS_EC2_METADATA_DISABLED");
  set("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url("/"));
  Credentials c = make_default_chain()->get();
  EXPECT_EQ(c.source, "imds:auditor-role");
  EXPECT_EQ(c.access_key_id, "ASIAIMDS");
  EXPECT_TRUE(c.secret_access_key == "IMDS-SECRET");
  EXPECT_TRUE(c.session_token == "IMDS-TOKEN");
  ASSERT_TRUE(c.expiration.has_value());
  EXPECT_NEAR(*c.expiration, exp, 1.0);

  auto got = imds.requests();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].method, "PUT");
  EXPECT_EQ(got[0].target, "/latest/api/token");
  EXPECT_EQ(got[0].headers["x-aws-ec2-metadata-token-ttl-seconds"], "21600");
  EXPECT_EQ(got[1].method, "GET");
  EXPECT_EQ(got[1].target, "/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(got[1].headers["x-aws-ec2-metadata-token"], "IMDS-SESSION-TOKEN");
  EXPECT_EQ(got[2].target, "/latest/meta-data/iam/security-credentials/auditor-role");
  EXPECT_EQ(got[2].headers["x-aws-ec2-metadata-token"], "IMDS-SESSION-TOKEN");
}

TEST_F(CredentialsTest, ImdsAndContainerNeverGoThroughAProxy) {
  std::atomic<int> proxy_hits{0};
  TestHttpServer proxy([&](const ReceivedRequest&) {
    ++proxy_hits;
    CannedResponse c;
    c.status = 502;
    return c;
  });
  TestHttpServer imds([](const ReceivedRequest& r) {
    CannedResponse c;
    if (r.method == "PUT") c.body = "tok";
    else if (r.target.back() == '/') c.body = "role";
    else c.body = R"({"Code":"Success","AccessKeyId":"ASIAIMDS","SecretAccessKey":"s","Token":"t"})";
    return c;
  });
  TestHttpServer agent([](const ReceivedRequest&) {
    CannedResponse c;
    c.body = json_credentials("ASIACONTAINER", now_epoch() + 3600);
    return c;
  });
  set("http_proxy", proxy.url(""));
  set("HTTPS_PROXY", proxy.url(""));
  unset("AWS_EC2_METADATA_DISABLED");
  set("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url(""));
  EXPECT_EQ(make_default_chain()->get().access_key_id, "ASIAIMDS");
  set("AWS_CONTAINER_CREDENTIALS_FULL_URI", agent.url("/c"));
  EXPECT_EQ(make_default_chain()->get().access_key_id, "ASIACONTAINER");
  EXPECT_EQ(proxy_hits.load(), 0);
}

TEST_F(CredentialsTest, ImdsUnreachableIsReportedQuickly) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  unset("AWS_EC2_METADATA_DISABLED");
  set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)));
  auto start = std::chrono::steady_clock::now();
  std::string msg = expect_auth_error();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_NE(msg.find("imds: no answer from http://127.0.0.1:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("connect"), std::string::npos) << msg;
}

TEST_F(CredentialsTest, ImdsStallIsCutByShortTimeout) {
  TestHttpServer imds([](const ReceivedRequest&) {
    CannedResponse c;
    c.stall_ms = 2500;
    return c;
  });
  unset("AWS_EC2_METADATA_DISABLED");
  set("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url(""));
  auto start = std::chrono::steady_clock::now();
  std::string msg = expect_auth_error();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2000));
  EXPECT_NE(msg.find("timeout"), std::string::npos) << msg;
}

// ----------------------------------------------------------------------------- order and errors

TEST_F(CredentialsTest, ProviderOrderPrecedence) {
  std::atomic<int> sts_hits{0}, container_hits{0}, imds_hits{0};
  TestHttpServer sts([&](const ReceivedRequest&) {
    ++sts_hits;
    CannedResponse r;
    r.body = sts_success("ASIAWEB", now_epoch() + 3600);
    return r;
  });
  TestHttpServer container([&](const ReceivedRequest&) {
    ++container_hits;
    CannedResponse r;
    r.body = json_credentials("ASIACONTAINER", now_epoch() + 3600);
    return r;
  });
  TestHttpServer imds([&](const ReceivedRequest& req) {
    ++imds_hits;
    CannedResponse r;
    if (req.method == "PUT") r.body = "tok";
    else if (req.target.back() == '/') r.body = "role";
    else r.body = R"({"Code":"Success","AccessKeyId":"ASIAIMDS","SecretAccessKey":"s","Token":"t",)"
                  R"("Expiration":")" + iso_utc(now_epoch() + 3600) + R"("})";
    return r;
  });
  unset("AWS_EC2_METADATA_DISABLED");
  set("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url(""));
  set("AWS_CONTAINER_CREDENTIALS_FULL_URI", container.url("/c"));
  set("AWS_WEB_IDENTITY_TOKEN_FILE", write("token", "jwt"));
  set("AWS_ROLE_ARN", "arn:aws:iam::1:role/r");
  set("AWS_ENDPOINT_URL_STS", sts.url(""));
  write(".aws/credentials", "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = F\n");
  set("AWS_ACCESS_KEY_ID", "AKIDENV");
  set("AWS_SECRET_ACCESS_KEY", "E");

  EXPECT_EQ(make_default_chain()->get().access_key_id, "AKIDENV");
  unset("AWS_ACCESS_KEY_ID");
  unset("AWS_SECRET_ACCESS_KEY");
  EXPECT_EQ(make_default_chain()->get().access_key_id, "AKIDFILE");
  fs::remove(dir_ / ".aws/credentials");
  EXPECT_EQ(sts_hits + container_hits + imds_hits, 0);
  EXPECT_EQ(make_default_chain()->get().access_key_id, "ASIAWEB");
  EXPECT_EQ(container_hits + imds_hits, 0);
  unset("AWS_WEB_IDENTITY_TOKEN_FILE");
  unset("AWS_ROLE_ARN");
  EXPECT_EQ(make_default_chain()->get().access_key_id, "ASIACONTAINER");
  EXPECT_EQ(imds_hits, 0);
  unset("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  EXPECT_EQ(make_default_chain()->get().access_key_id, "ASIAIMDS");
  EXPECT_EQ(sts_hits, 1);
  EXPECT_EQ(container_hits, 1);
  EXPECT_EQ(imds_hits, 3);
}

TEST_F(CredentialsTest, ErrorListsEveryProviderTried) {
  std::string msg = expect_auth_error();
  std::string cred_path = (dir_ / ".aws/credentials").string();
  for (const std::string& part :
       {std::string("environment: AWS_ACCESS_KEY_ID not set"),
        "shared files: profile 'default' not found in " + cred_path + " (missing)",
        std::string("web identity: AWS_WEB_IDENTITY_TOKEN_FILE not set"),
        std::string("container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI not set"),
        std::string("imds: disabled")}) {
    EXPECT_NE(msg.find(part), std::string::npos) << "missing '" << part << "' in: " << msg;
  }
  // In chain order.
  EXPECT_LT(msg.find("environment:"), msg.find("shared files:"));
  EXPECT_LT(msg.find("shared files:"), msg.find("web identity:"));
  EXPECT_LT(msg.find("web identity:"), msg.find("container:"));
  EXPECT_LT(msg.find("container:"), msg.find("imds:"));
}

// ----------------------------------------------------------------------------- cache and refresh

// A credential_process that counts its runs and returns a key naming the run, expiring in
// `ttl` seconds.
std::string counting_process(CredentialsTest* t, const std::string& dir, int ttl) {
  (void)t;
  return "#!/bin/sh\n"
         "n=$(cat '" + dir + "/count' 2>/dev/null || echo 0)\n"
         "n=$((n+1))\n"
         "echo $n > '" + dir + "/count'\n"
         "exp=$(date -u -d \"@$(( $(date +%s) + " + std::to_string(ttl) + " ))\" +%Y-%m-%dT%H:%M:%SZ)\n"
         "printf '{\"Version\":1,\"AccessKeyId\":\"AKID%s\",\"SecretAccessKey\":\"S\",\"SessionToken\":\"T\","
         "\"Expiration\":\"%s\"}' $n $exp\n";
}

TEST_F(CredentialsTest, ExpiringCredentialsAreRefetched) {
  // 60 s left is inside the 5-minute refresh window: every get() fetches again.
  std::string script = write("p.sh", counting_process(this, dir_.string(), 60), true);
  write(".aws/config", "[default]\ncredential_process = " + script + "\n");
  auto chain = make_default_chain();
  EXPECT_EQ(chain->get().access_key_id, "AKID1");
  EXPECT_EQ(chain->get().access_key_id, "AKID2");
  EXPECT_EQ(read(("count")), "2\n");
}

TEST_F(CredentialsTest, FreshCredentialsAreCachedAcrossThreads) {
  std::string script = write("p.sh", counting_process(this, dir_.string(), 3600), true);
  write(".aws/config", "[default]\ncredential_process = " + script + "\n");
  auto chain = make_default_chain();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 20; ++j) {
        if (chain->get().access_key_id == "AKID1") ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 160);
  EXPECT_EQ(read("count"), "1\n");
}

TEST_F(CredentialsTest, FailedRefreshKeepsStillValidCredentials) {
  // First run: credentials with 120 s left (refresh wanted). Later runs fail. The chain keeps
  // serving the old ones until they really expire.
  std::string script = write("p.sh",
                             "#!/bin/sh\n"
                             "if [ -f '" + dir_.string() + "/ran' ]; then echo broken >&2; exit 1; fi\n"
                             "touch '" + dir_.string() + "/ran'\n"
                             "exp=$(date -u -d \"@$(( $(date +%s) + 120 ))\" +%Y-%m-%dT%H:%M:%SZ)\n"
                             "printf '{\"Version\":1,\"AccessKeyId\":\"AKIDOLD\",\"SecretAccessKey\":\"S\",\"Expiration\":\"%s\"}' $exp\n",
                             true);
  write(".aws/config", "[default]\ncredential_process = " + script + "\n");
  auto chain = make_default_chain();
  EXPECT_EQ(chain->get().access_key_id, "AKIDOLD");
  EXPECT_EQ(chain->get().access_key_id, "AKIDOLD");
}

TEST_F(CredentialsTest, StaticProvider) {
  Credentials in;
  in.access_key_id = "AKIDSTATIC";
  in.secret_access_key = "S";
  auto p = make_static_provider(in);
  EXPECT_EQ(p->get().access_key_id, "AKIDSTATIC");
  EXPECT_EQ(p->get().source, "static");
}

}  // namespace
}  // namespace ttla::aws
