#pragma once
// The AWS credentials chain, in DOMAIN-FACTS order: environment, shared files (static keys,
// credential_process, role_arn with source_profile or credential_source, chained), web identity
// (STS AssumeRoleWithWebIdentity), container credentials, IMDSv2. Cached and refreshed before
// expiry. A target's own role_arn is assumed on top of whatever the chain yields.
#include <map>
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
  // Additive: region for the regional STS endpoint (web identity, AssumeRole); empty means
  // AWS_REGION, else AWS_DEFAULT_REGION, else the global endpoint. Configured STS endpoints
  // (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's endpoint_url) win.
  std::string region;
  // Additive, per target: a role assumed with the chain's credentials (cross-account audits).
  std::string role_arn;
  std::string external_id;
  std::string session_name;  // empty: "ttl-auditor-<epoch>"
  // The target's own endpoint. When it is a loopback server and STS would go to a public AWS
  // host, AssumeRole is refused: a test must never reach AWS.
  std::string target_endpoint_url;
};

// ---- The shared config and credentials files: the one reader for the whole program.

using IniSection = std::map<std::string, std::string>;
using IniFile = std::map<std::string, IniSection>;

// The AWS dialect of INI: [section], key = value, # and ; comments, inline comments after
// whitespace. Indented lines under a key with an empty value are nested settings and are stored
// as "parent.key" (`s3 =\n  addressing_style = path` -> "s3.addressing_style").
IniFile parse_aws_ini(const std::string& text);

// The profile in effect: `configured`, else AWS_PROFILE, else "default".
std::string effective_profile(const std::string& configured);

// A profile's settings: config file `[profile NAME]` (or `[default]`), overridden by the
// credentials file's `[NAME]`. nullopt when neither file has it.
std::optional<IniSection> find_profile(const std::string& profile);
// One setting of a profile (`profile` empty: effective_profile("")); "" when absent.
std::string profile_setting(const std::string& profile, const std::string& key);
// A non-profile section of the config file ("services NAME", "sso-session NAME"); empty if none.
IniSection config_section(const std::string& section);
// "PATH1, PATH2 (missing)": the files read, for error messages.
std::string shared_files_read();

// ---- STS AssumeRole

struct AssumeRoleParams {
  std::string role_arn;
  std::string external_id;
  std::string session_name;   // empty: "ttl-auditor-<epoch>"
  int duration_seconds = 3600;
  std::string region;         // regional STS endpoint and signing region; empty: global
  std::string profile;        // whose configured endpoints (endpoint_url, services) apply
  std::string target_endpoint_url;  // loopback guard, see ChainOptions
};

// One signed STS AssumeRole call (query protocol) with `base` credentials. Throws
// ttla::Error(kAuth) naming the role and the STS endpoint on failure.
Credentials assume_role(const Credentials& base, const AssumeRoleParams& params);

// The STS endpoint for `region` (regional; global when empty), configured endpoints first.
std::string sts_endpoint(const std::string& region, const std::string& profile);

// The AssumeRole of `options.role_arn` (its external id, session name, region, profile and
// loopback guard).
AssumeRoleParams assume_role_params(const ChainOptions& options);

// Thread-safe, caching chain. Environment is read when each provider is tried.
std::shared_ptr<CredentialsProvider> make_default_chain(ChainOptions options = {});
// Assumes `params.role_arn` with `base`'s credentials; cached, refreshed before expiry.
std::shared_ptr<CredentialsProvider> make_assume_role_provider(
    std::shared_ptr<CredentialsProvider> base, AssumeRoleParams params);
// Fixed credentials (tests, demo).
std::shared_ptr<CredentialsProvider> make_static_provider(Credentials credentials);

}  // namespace ttla::aws
