// Partitions and the SDKs' endpoint precedence, against real config files in a temp HOME.
#include "aws/endpoints.h"

#include "aws/credentials.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

extern char** environ;

namespace ttla::aws {
namespace {

namespace fs = std::filesystem;

class EndpointsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> names;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry(*e);
      std::string name = entry.substr(0, entry.find('='));
      if (name.rfind("AWS_", 0) == 0) names.push_back(name);
    }
    for (const auto& n : names) unset(n);
    char tmpl[] = "/tmp/ttla-endpoints-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    set("HOME", dir_.string());
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
  void config(const std::string& text) {
    fs::create_directories(dir_ / ".aws");
    std::ofstream(dir_ / ".aws/config") << text;
  }
  fs::path dir_;

 private:
  void remember(const std::string& name) {
    if (saved_.count(name)) return;
    const char* v = std::getenv(name.c_str());
    saved_[name] = v ? std::optional<std::string>(v) : std::nullopt;
  }
  std::map<std::string, std::optional<std::string>> saved_;
};

TEST_F(EndpointsTest, Partitions) {
  EXPECT_EQ(partition_of("us-east-1").name, "aws");
  EXPECT_EQ(partition_of("eu-west-3").dns_suffix, "amazonaws.com");
  EXPECT_EQ(partition_of("cn-north-1").name, "aws-cn");
  EXPECT_EQ(partition_of("cn-northwest-1").dns_suffix, "amazonaws.com.cn");
  EXPECT_EQ(partition_of("us-gov-west-1").name, "aws-us-gov");
  EXPECT_EQ(partition_of("us-gov-east-1").dns_suffix, "amazonaws.com");
  EXPECT_EQ(partition_of("us-iso-east-1").name, "aws-iso");
  EXPECT_EQ(partition_of("us-isob-east-1").name, "aws-iso-b");
  EXPECT_EQ(public_endpoint("sts", "cn-north-1"), "https://sts.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(public_endpoint("sts", "us-gov-west-1"), "https://sts.us-gov-west-1.amazonaws.com");
  EXPECT_EQ(public_endpoint("cloudwatch", "eu-west-1"), "https://monitoring.eu-west-1.amazonaws.com");
  EXPECT_EQ(public_endpoint("dynamodb_streams", "eu-west-1"),
            "https://streams.dynamodb.eu-west-1.amazonaws.com");
}

TEST_F(EndpointsTest, NothingConfiguredMeansThePublicEndpoint) {
  EXPECT_EQ(resolve_endpoint("dynamodb", "", ""), "");
  EXPECT_EQ(resolve_endpoint("sts", "", "missing-profile"), "");
}

TEST_F(EndpointsTest, PrecedenceFromTargetDownToProfile) {
  config("[default]\nendpoint_url = http://127.0.0.1:5\nservices = local\n"
         "[services local]\ndynamodb =\n  endpoint_url = http://127.0.0.1:3\n");
  // 5: the profile's endpoint_url
  EXPECT_EQ(resolve_endpoint("s3", "", ""), "http://127.0.0.1:5");
  // 4: AWS_ENDPOINT_URL above the profile's endpoint_url
  set("AWS_ENDPOINT_URL", "http://127.0.0.1:4");
  EXPECT_EQ(resolve_endpoint("s3", "", ""), "http://127.0.0.1:4");
  // 3: the services section above AWS_ENDPOINT_URL, for its service only
  EXPECT_EQ(resolve_endpoint("dynamodb", "", ""), "http://127.0.0.1:3");
  EXPECT_EQ(resolve_endpoint("sts", "", ""), "http://127.0.0.1:4");
  // 2: the service's own variable above everything configured
  set("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2");
  set("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:22");
  set("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "http://127.0.0.1:23");
  set("AWS_ENDPOINT_URL_CLOUDWATCH", "http://127.0.0.1:24");
  set("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:25");
  set("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:26");
  EXPECT_EQ(resolve_endpoint("dynamodb", "", ""), "http://127.0.0.1:2");
  EXPECT_EQ(resolve_endpoint("sts", "", ""), "http://127.0.0.1:22");
  EXPECT_EQ(resolve_endpoint("dynamodb_streams", "", ""), "http://127.0.0.1:23");
  EXPECT_EQ(resolve_endpoint("cloudwatch", "", ""), "http://127.0.0.1:24");
  EXPECT_EQ(resolve_endpoint("sqs", "", ""), "http://127.0.0.1:25");
  EXPECT_EQ(resolve_endpoint("s3", "", ""), "http://127.0.0.1:26");
  // 1: the target's own endpoint_url wins over all of them
  EXPECT_EQ(resolve_endpoint("dynamodb", "http://127.0.0.1:1", ""), "http://127.0.0.1:1");
  // AWS_IGNORE_CONFIGURED_ENDPOINT_URLS drops 2-5, never the target's own.
  set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
  EXPECT_EQ(resolve_endpoint("dynamodb", "", ""), "");
  EXPECT_EQ(resolve_endpoint("dynamodb", "http://127.0.0.1:1", ""), "http://127.0.0.1:1");
}

TEST_F(EndpointsTest, TheTargetsProfileIsTheOneConsulted) {
  config("[default]\nendpoint_url = http://127.0.0.1:7\n"
         "[profile other]\nendpoint_url = http://127.0.0.1:8\n"
         "[profile quiet]\nendpoint_url = http://127.0.0.1:9\nignore_configured_endpoint_urls = true\n");
  EXPECT_EQ(resolve_endpoint("dynamodb", "", "other"), "http://127.0.0.1:8");
  EXPECT_EQ(resolve_endpoint("dynamodb", "", ""), "http://127.0.0.1:7");
  set("AWS_PROFILE", "other");
  EXPECT_EQ(resolve_endpoint("dynamodb", "", ""), "http://127.0.0.1:8");
  EXPECT_EQ(resolve_endpoint("dynamodb", "", "quiet"), "");
}

TEST_F(EndpointsTest, StsRegionalEndpointsPerPartition) {
  EXPECT_EQ(sts_endpoint("eu-west-1", ""), "https://sts.eu-west-1.amazonaws.com");
  EXPECT_EQ(sts_endpoint("cn-north-1", ""), "https://sts.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(sts_endpoint("us-gov-west-1", ""), "https://sts.us-gov-west-1.amazonaws.com");
  EXPECT_EQ(sts_endpoint("", ""), "https://sts.amazonaws.com");  // no region: the global one
  config("[profile local]\nendpoint_url = http://127.0.0.1:9\n");
  EXPECT_EQ(sts_endpoint("cn-north-1", "local"), "http://127.0.0.1:9");
  set("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:10");
  EXPECT_EQ(sts_endpoint("cn-north-1", "local"), "http://127.0.0.1:10");
}

TEST_F(EndpointsTest, Loopback) {
  EXPECT_TRUE(is_loopback_url("http://127.0.0.1:8000"));
  EXPECT_TRUE(is_loopback_url("http://localhost/"));
  EXPECT_TRUE(is_loopback_url("http://[::1]:9000/x"));
  EXPECT_FALSE(is_loopback_url("https://sts.amazonaws.com"));
  EXPECT_FALSE(is_loopback_url("https://127.0.0.1.example.com"));
  EXPECT_FALSE(is_loopback_url("http://10.0.0.1"));
}

}  // namespace
}  // namespace ttla::aws
