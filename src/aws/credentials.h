#pragma once
// The AWS credentials chain, in DOMAIN-FACTS order: environment, shared files (profiles,
// credential_process, role_arn+source_profile is reported as unsupported), web identity (STS
// AssumeRoleWithWebIdentity), container credentials, IMDSv2. Cached and refreshed before expiry.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace ttla::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;       // empty when not temporary
  std::optional<double> expiration;  // epoch seconds
  std::string source;              // which provider yielded them ("environment", "profile:prod"...)
};

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Throws ttla::Error(kAuth) when no provider yields credentials; the message lists each
  // provider tried and why it did not.
  virtual Credentials get() = 0;
};

struct ChainOptions {
  std::string profile;  // config `profile`, else AWS_PROFILE, else "default"
  // Additive: region for the regional STS endpoint of the web identity provider; empty means
  // AWS_REGION, else AWS_DEFAULT_REGION, else the global endpoint. AWS_ENDPOINT_URL_STS wins.
  std::string region;
};

// Thread-safe, caching chain. Environment is read when each provider is tried.
std::shared_ptr<CredentialsProvider> make_default_chain(ChainOptions options = {});
// Fixed credentials (tests, demo).
std::shared_ptr<CredentialsProvider> make_static_provider(Credentials credentials);

}  // namespace ttla::aws
