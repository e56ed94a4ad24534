// Our signer against a server that verifies SigV4: OpenStack Swift's s3api
// (scripts/servers/swift.sh). AwsClient is read-only, so the fixture bucket and objects are made
// with boto3 (Debian's /usr/bin/python3); AwsClient then lists and heads keys with spaces and
// UTF-8, and a wrong secret must fail as kAuth / 403 SignatureDoesNotMatch.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "aws/aws_client.h"
#include "core/error.h"
#include "support/require.h"

using namespace ttla::aws;

namespace {

const char* env_or_null(const char* name) {
  const char* v = std::getenv(name);
  return (v && *v) ? v : nullptr;
}

class FixedProvider : public CredentialsProvider {
 public:
  FixedProvider(std::string key, std::string secret) : key_(std::move(key)), secret_(std::move(secret)) {}
  Credentials get() override { return Credentials{key_, secret_, "", std::nullopt, "test"}; }

 private:
  std::string key_, secret_;
};

// Keys exercising the encoding rules: spaces, multi-byte UTF-8, sub-delims, '+', '~', "//".
const std::string kUnicodeKey = "dir/a b/\xE1\x88\xB4\xE6\x97\xA5\xE6\x9C\xAC \xC3\xA9.txt";
const std::string kOddKey = "dir/sp ace+plus=eq&amp;semi!(x)~'q'.txt";
const std::string kPlainKey = "dir/plain.txt";
const std::string kOtherKey = "other/x.txt";
const std::string kBody = "hello swift \xE2\x9C\x93\n";

// Fixture writer: boto3 with path-style addressing; inputs via the environment (no quoting).
constexpr const char* kBoto3Script = R"PY(
import os, sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=os.environ["TTLA_S3_ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id=os.environ["TTLA_S3_ACCESS_KEY"],
                  aws_secret_access_key=os.environ["TTLA_S3_SECRET_KEY"],
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5}))
bucket = os.environ["FIX_BUCKET"]
keys = os.environ["FIX_KEYS"].split("\n")
body = os.environ["FIX_BODY"].encode("utf-8")
if sys.argv[1] == "create":
    s3.create_bucket(Bucket=bucket)
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=body)
else:
    for k in keys:
        s3.delete_object(Bucket=bucket, Key=k)
    s3.delete_bucket(Bucket=bucket)
)PY";

class SwiftSigV4 : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = env_or_null("TTLA_S3_ENDPOINT") ? env_or_null("TTLA_S3_ENDPOINT") : "";
    if (endpoint_.empty()) {
      TTLA_SKIP_OR_FAIL("!!! TTLA_S3_ENDPOINT not set: start servers with "
                      "scripts/servers/swift.sh start DIR (Swift S3 SigV4 test NOT run) !!!");
    }
    access_ = env_or_null("TTLA_S3_ACCESS_KEY") ? env_or_null("TTLA_S3_ACCESS_KEY") : "test:tester";
    secret_ = env_or_null("TTLA_S3_SECRET_KEY") ? env_or_null("TTLA_S3_SECRET_KEY") : "testing";
    bucket_ = "ttla-sigv4-" + std::to_string(::getpid()) + "-" +
              std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000);
    script_ = std::filesystem::temp_directory_path() / ("ttla_swift_fixture_" + bucket_ + ".py");
    std::ofstream(script_) << kBoto3Script;
    ASSERT_EQ(run_fixture("create"), 0) << "could not create the fixture bucket with boto3";
    created_ = true;
  }

  void TearDown() override {
    if (created_) run_fixture("delete");
    if (!script_.empty()) std::filesystem::remove(script_);
  }

  int run_fixture(const std::string& action) {
    ::setenv("TTLA_S3_ACCESS_KEY", access_.c_str(), 1);
    ::setenv("TTLA_S3_SECRET_KEY", secret_.c_str(), 1);
    ::setenv("FIX_BUCKET", bucket_.c_str(), 1);
    std::string keys = kUnicodeKey + "\n" + kOddKey + "\n" + kPlainKey + "\n" + kOtherKey;
    ::setenv("FIX_KEYS", keys.c_str(), 1);
    ::setenv("FIX_BODY", kBody.c_str(), 1);
    std::string cmd = "/usr/bin/python3 '" + script_.string() + "' " + action;
    return std::system(cmd.c_str());
  }

  AwsClient client(const std::string& secret) {
    ServiceConfig c;
    c.region = "us-east-1";
    c.endpoint_url = endpoint_;
    c.s3_path_style = true;
    c.retry.max_attempts = 3;
    c.retry.base_delay_seconds = 0.05;
    return AwsClient(c, std::make_shared<FixedProvider>(access_, secret));
  }

  std::string endpoint_, access_, secret_, bucket_;
  std::filesystem::path script_;
  bool created_ = false;
};

size_t count_of(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_F(SwiftSigV4, ListObjectsV2WithPrefixAndHeadUnicodeKeySucceed) {
  AwsClient s3 = client(secret_);
  HttpResponse list = s3.s3("GET", bucket_, "", {{"list-type", "2"}, {"prefix", "dir/"}});
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(count_of(list.body, "<Key>"), 3u) << list.body;
  EXPECT_NE(list.body.find("<Key>" + kUnicodeKey + "</Key>"), std::string::npos) << list.body;
  EXPECT_NE(list.body.find("<Key>" + kPlainKey + "</Key>"), std::string::npos) << list.body;
  EXPECT_EQ(list.body.find(kOtherKey), std::string::npos) << list.body;

  // A prefix with a space and UTF-8 in the (signed) query string.
  HttpResponse narrow =
      s3.s3("GET", bucket_, "", {{"list-type", "2"}, {"prefix", "dir/a b/\xE1\x88\xB4"}});
  ASSERT_EQ(narrow.status, 200) << narrow.body;
  EXPECT_EQ(count_of(narrow.body, "<Key>"), 1u) << narrow.body;

  HttpResponse head = s3.s3("HEAD", bucket_, kUnicodeKey, {});
  EXPECT_EQ(head.status, 200);
  ASSERT_NE(head.header("content-length"), nullptr);
  EXPECT_EQ(*head.header("content-length"), std::to_string(kBody.size()));

  HttpResponse odd = s3.s3("GET", bucket_, kOddKey, {});
  EXPECT_EQ(odd.status, 200);
  EXPECT_EQ(odd.body, kBody);

  EXPECT_EQ(s3.s3("HEAD", bucket_, "dir/missing \xC3\xA9", {}).status, 404);
}

TEST_F(SwiftSigV4, WrongSecretFailsAsAuthSignatureDoesNotMatch) {
  AwsClient bad = client(secret_ + "-wrong");
  try {
    bad.s3("GET", bucket_, "", {{"list-type", "2"}, {"prefix", "dir/"}});
    FAIL() << "a wrong secret was accepted";
  } catch (const ttla::Error& e) {
    std::cout << "wrong secret, GET -> " << ttla::to_string(e.kind()) << ": " << e.what() << "\n";
    EXPECT_EQ(e.kind(), ttla::ErrorKind::kAuth) << e.what();
    EXPECT_NE(std::string(e.what()).find("SignatureDoesNotMatch"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("(HTTP 403)"), std::string::npos) << e.what();
  }
  try {
    bad.s3("HEAD", bucket_, kUnicodeKey, {});
    FAIL() << "a wrong secret was accepted for HEAD";
  } catch (const ttla::Error& e) {
    std::cout << "wrong secret, HEAD -> " << ttla::to_string(e.kind()) << ": " << e.what() << "\n";
    EXPECT_EQ(e.kind(), ttla::ErrorKind::kAuth) << e.what();
    EXPECT_NE(std::string(e.what()).find("(HTTP 403)"), std::string::npos) << e.what();
  }
}
