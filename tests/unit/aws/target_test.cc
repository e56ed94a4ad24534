// aws/target: a target's settings -> region, endpoint, client configuration and credentials,
// against real shared config files in a temp dir (no request is sent).
#include "aws/target.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace ttla::aws {
namespace {

// Clears the variables that steer resolution for one test and restores them afterwards.
class TargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* n : kVars) {
      const char* v = std::getenv(n);
      saved_.emplace_back(v ? std::optional<std::string>(v) : std::nullopt);
      ::unsetenv(n);
    }
    config_ = ::testing::TempDir() + "/ttla_target_test_config";
    ::setenv("AWS_CONFIG_FILE", config_.c_str(), 1);
    ::setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/ttla-credentials", 1);
    write_config("");
  }
  void TearDown() override {
    for (size_t i = 0; i < std::size(kVars); ++i) {
      if (saved_[i]) {
        ::setenv(kVars[i], saved_[i]->c_str(), 1);
      } else {
        ::unsetenv(kVars[i]);
      }
    }
    std::remove(config_.c_str());
  }
  void write_config(const std::string& text) { std::ofstream(config_) << text; }

  static constexpr const char* kVars[] = {
      "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
      "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_DYNAMODB",
      "AWS_ENDPOINT_URL_STS",
      "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"};
  std::vector<std::optional<std::string>> saved_;
  std::string config_;
};

TargetAccess target(const std::string& service_id) {
  TargetAccess t;
  t.name = "t";
  t.service_id = service_id;
  return t;
}

TEST_F(TargetTest, RegionConfigThenEnvThenProfileThenLocalEndpoint) {
  TargetAccess t = target("dynamodb");
  EXPECT_THROW(resolve_region(t), Error);
  t.endpoint_url = "http://127.0.0.1:1";
  EXPECT_EQ(resolve_region(t), "us-east-1");
  write_config("[default]\nregion = eu-west-1\n[profile prod]\nregion=ap-south-1\n");
  EXPECT_EQ(resolve_region(t), "eu-west-1");
  t.profile = "prod";
  EXPECT_EQ(resolve_region(t), "ap-south-1");
  ::setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
  EXPECT_EQ(resolve_region(t), "us-west-1");
  ::setenv("AWS_REGION", "us-west-2", 1);
  EXPECT_EQ(resolve_region(t), "us-west-2");
  t.region = "sa-east-1";
  EXPECT_EQ(resolve_region(t), "sa-east-1");
}

TEST_F(TargetTest, AnEndpointConfiguredForTheServiceAlsoDefaultsTheRegion) {
  ::setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000", 1);
  EXPECT_EQ(resolve_region(target("s3")), "us-east-1");
  // ... only for that service: DynamoDB still has no region.
  EXPECT_THROW(resolve_region(target("dynamodb")), Error);
  // A [default] profile named "profile default" is the default profile too.
  write_config("[profile default]\nregion = eu-south-1\n");
  EXPECT_EQ(resolve_region(target("dynamodb")), "eu-south-1");
}

TEST_F(TargetTest, ServiceConfigEndpointAndS3Addressing) {
  TargetAccess s3 = target("s3");
  s3.region = "eu-west-1";
  RetryOptions retry;
  retry.max_attempts = 2;
  HttpOptions http;
  http.total_timeout_ms = 1234;
  ServiceConfig aws = target_service(s3, http, retry);
  EXPECT_EQ(aws.region, "eu-west-1");
  EXPECT_EQ(aws.endpoint_url, "");
  ASSERT_TRUE(aws.s3_path_style);
  EXPECT_FALSE(*aws.s3_path_style);  // virtual-hosted on AWS
  EXPECT_EQ(aws.retry.max_attempts, 2);
  EXPECT_EQ(aws.http.total_timeout_ms, 1234);

  ::setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566", 1);
  ServiceConfig local = target_service(s3, {}, {});
  EXPECT_EQ(local.endpoint_url, "http://127.0.0.1:4566");
  EXPECT_TRUE(local.s3_path_style.value_or(false));  // path style on a custom endpoint
  s3.s3_path_style = false;
  EXPECT_FALSE(target_service(s3, {}, {}).s3_path_style.value_or(true));
  s3.endpoint_url = "http://[::1]:9000";  // the target's own endpoint wins
  EXPECT_EQ(target_service(s3, {}, {}).endpoint_url, "http://[::1]:9000");

  TargetAccess ddb = target("dynamodb");
  ddb.region = "eu-west-1";
  EXPECT_FALSE(target_service(ddb, {}, {}).s3_path_style);
}

TEST_F(TargetTest, GivenCredentialsAreUsedAsTheyAreWithoutARole) {
  Credentials fixed;
  fixed.access_key_id = "AKIDEXAMPLE";
  fixed.secret_access_key = "secret";
  auto given = make_static_provider(fixed);
  TargetAccess t = target("dynamodb");
  EXPECT_EQ(target_credentials(t, "eu-west-1", given), given);
  // With a role the given provider is only the base of an AssumeRole session (not called here).
  t.role_arn = "arn:aws:iam::123456789012:role/audit";
  auto assumed = target_credentials(t, "eu-west-1", given);
  EXPECT_NE(assumed, given);
  ASSERT_NE(assumed, nullptr);
}

TEST_F(TargetTest, ALocalTargetNeverAssumesItsRoleAtAws) {
  // The role would be assumed at the public STS endpoint while the target is a loopback server:
  // refused before any request.
  Credentials fixed;
  fixed.access_key_id = "AKIDEXAMPLE";
  fixed.secret_access_key = "secret";
  TargetAccess t = target("dynamodb");
  t.endpoint_url = "http://127.0.0.1:1";
  t.role_arn = "arn:aws:iam::123456789012:role/audit";
  auto provider = target_credentials(t, "eu-west-1", make_static_provider(fixed));
  try {
    provider->get();
    ADD_FAILURE() << "expected a refusal";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("local server"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ttla::aws
