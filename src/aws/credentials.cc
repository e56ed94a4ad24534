#include "aws/credentials.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>
#include "core/log.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include "aws/aws_client.h"
#include "aws/endpoints.h"
#include "aws/error_body.h"
#include "aws/http_client.h"
#include "aws/retry.h"
#include "aws/url.h"
#include "core/error.h"
#include "core/text.h"
#include "core/time.h"

extern char** environ;

namespace ttla::aws {

namespace {

// Temporary credentials are replaced this long before they expire, so a request signed just
// before the deadline is not rejected in flight.
constexpr double kRefreshWindowSeconds = 300;
constexpr int kProcessTimeoutMs = 60000;
constexpr size_t kMaxProcessOutput = 1 << 20;

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Cached credentials refreshed through `resolve` when they are within the refresh window of their
// expiry. A failed refresh must not throw away credentials that are still valid for a while: they
// are kept (with a warning) until they expire; without any, the error propagates.
template <class Resolve>
Credentials refresh_or_keep(std::optional<Credentials>& cached, Resolve&& resolve) {
  const double now = wall_now();
  if (cached && (!cached->expiration || now < *cached->expiration - kRefreshWindowSeconds)) {
    return *cached;
  }
  try {
    cached = resolve(now);
  } catch (const Error& e) {
    if (cached && cached->expiration && *cached->expiration > now) {
      log::warn("credentials refresh_failed", Fields()
              .add("source", cached->source)
              .add("seconds_left", *cached->expiration - now, 0)
              .add("error", e.what()));
      return *cached;
    }
    throw;
  }
  return *cached;
}

// A variable counts as set only when non-empty (SDKs treat "" as unset).
std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::string expand_home(const std::string& path) {
  if (path.empty() || path[0] != '~') return path;
  if (path.size() > 1 && path[1] != '/') return path;  // ~user is not expanded
  std::string home = env("HOME").value_or("");
  return home + path.substr(1);
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What one provider found: credentials, or why not. `stop` marks a provider that is configured
// but failed: falling through to the next provider would silently pick another identity (e.g.
// the node's instance role instead of the pod's web identity), so the chain stops there.
struct ProviderResult {
  std::optional<Credentials> credentials;
  std::string reason;
  bool stop = false;
};

ProviderResult not_found(std::string reason) { return {std::nullopt, std::move(reason), false}; }
ProviderResult failed(std::string reason) { return {std::nullopt, std::move(reason), true}; }
ProviderResult found(Credentials c) { return {std::move(c), {}, false}; }

// ---------------------------------------------------------------------------------------------
// Environment

ProviderResult from_environment() {
  auto key = env("AWS_ACCESS_KEY_ID");
  auto secret = env("AWS_SECRET_ACCESS_KEY");
  if (!key && !secret) return not_found("AWS_ACCESS_KEY_ID not set");
  if (!key) return failed("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  if (!secret) return failed("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  Credentials c;
  c.access_key_id = *key;
  c.secret_access_key = *secret;
  c.session_token = env("AWS_SESSION_TOKEN").value_or("");
  if (auto exp = env("AWS_CREDENTIAL_EXPIRATION")) c.expiration = parse_iso8601(*exp);
  c.source = "environment";
  return found(std::move(c));
}

// ---------------------------------------------------------------------------------------------
// Shared files

IniFile parse_ini(const std::string& text) {
  IniFile file;
  IniSection* current = nullptr;
  std::string parent;  // a key with an empty value: indented lines below it are its sub-settings
  std::istringstream in(text);
  std::string raw;
  while (std::getline(in, raw)) {
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    std::string line(trim(raw));
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      size_t close = line.find(']');
      parent.clear();
      if (close == std::string::npos) {
        current = nullptr;
        continue;
      }
      current = &file[std::string(trim(line.substr(1, close - 1)))];
      continue;
    }
    if (current == nullptr) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = to_lower(trim(line.substr(0, eq)));
    std::string value(trim(line.substr(eq + 1)));
    // Inline comments need whitespace before the marker, as in botocore.
    for (const char* marker : {" #", "\t#", " ;", "\t;"}) {
      if (size_t c = value.find(marker); c != std::string::npos) value = std::string(trim(value.substr(0, c)));
    }
    if (std::isspace(static_cast<unsigned char>(raw[0]))) {
      if (!parent.empty()) (*current)[parent + "." + key] = value;  // nested sub-setting
      continue;
    }
    parent = value.empty() ? key : std::string();
    (*current)[key] = value;
  }
  return file;
}

struct SharedFiles {
  std::string cred_path;
  std::string config_path;
  std::optional<IniFile> creds;   // nullopt: file missing
  std::optional<IniFile> config;
};

SharedFiles load_shared_files() {
  SharedFiles f;
  f.cred_path = expand_home(env("AWS_SHARED_CREDENTIALS_FILE").value_or("~/.aws/credentials"));
  f.config_path = expand_home(env("AWS_CONFIG_FILE").value_or("~/.aws/config"));
  if (auto t = read_file(f.cred_path)) f.creds = parse_ini(*t);
  if (auto t = read_file(f.config_path)) f.config = parse_ini(*t);
  return f;
}

std::string describe_files(const SharedFiles& f) {
  return f.cred_path + (f.creds ? "" : " (missing)") + ", " + f.config_path +
         (f.config ? "" : " (missing)");
}

// Config values first, credentials-file values override them (as the SDKs do). `where` is set
// to the file that defined the profile (the credentials file when both do).
std::optional<IniSection> lookup_profile(const SharedFiles& f, const std::string& profile,
                                         std::string* where = nullptr) {
  IniSection merged;
  bool in_config = false, in_credentials = false;
  if (f.config) {
    // Config sections are "[profile name]", except the default profile which may be "[default]".
    for (const std::string& name :
         profile == "default" ? std::vector<std::string>{"default", "profile default"}
                              : std::vector<std::string>{"profile " + profile}) {
      for (auto& [section, values] : *f.config) {
        // Tolerate extra whitespace between "profile" and the name.
        std::string normal = section;
        if (normal.rfind("profile", 0) == 0 && normal.size() > 7 &&
            std::isspace(static_cast<unsigned char>(normal[7]))) {
          normal = "profile " + std::string(trim(normal.substr(7)));
        }
        if (normal != name) continue;
        in_config = true;
        for (auto& [k, v] : values) merged[k] = v;
      }
    }
  }
  if (f.creds) {
    if (auto it = f.creds->find(profile); it != f.creds->end()) {
      in_credentials = true;
      for (auto& [k, v] : it->second) merged[k] = v;
    }
  }
  if (!in_config && !in_credentials) return std::nullopt;
  if (where != nullptr) *where = in_credentials ? f.cred_path : f.config_path;
  return merged;
}

// Splits a credential_process command line like a POSIX shell's word splitting (quotes and
// backslashes), so it can be run without a shell. nullopt on an unterminated quote.
std::optional<std::vector<std::string>> split_command(const std::string& command) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < command.size(); ++i) {
    char c = command[i];
    if (quote == '\'') {
      if (c == '\'') quote = 0;
      else word += c;
    } else if (quote == '"') {
      if (c == '"') {
        quote = 0;
      } else if (c == '\\' && i + 1 < command.size() &&
                 std::string_view("\"\\$`").find(command[i + 1]) != std::string_view::npos) {
        word += command[++i];
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < command.size()) {
      word += command[++i];
      in_word = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote != 0) return std::nullopt;
  if (in_word) words.push_back(std::move(word));
  return words;
}

struct ProcessOutput {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::string failure;  // spawn error or timeout; empty when the process ran to completion
};

struct FdCloser {
  int fd = -1;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

ProcessOutput run_process(const std::vector<std::string>& argv, int timeout_ms) {
  ProcessOutput result;
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    result.failure = "pipe failed";
    return result;
  }
  FdCloser out_r{out_pipe[0]}, out_w{out_pipe[1]};
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.failure = "pipe failed";
    return result;
  }
  FdCloser err_r{err_pipe[0]}, err_w{err_pipe[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_w.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_w.fd, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  out_w.close();
  err_w.close();
  if (rc != 0) {
    result.failure = "cannot run '" + argv[0] + "': " + std::strerror(rc);
    return result;
  }

  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool out_open = true, err_open = true, timed_out = false;
  while (out_open || err_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[2] = {{out_open ? out_r.fd : -1, POLLIN, 0}, {err_open ? err_r.fd : -1, POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(left));
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    char buf[4096];
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got <= 0) {
        (i == 0 ? out_open : err_open) = false;
        continue;
      }
      std::string& dst = i == 0 ? result.out : result.err;
      if (dst.size() < kMaxProcessOutput) dst.append(buf, static_cast<size_t>(got));
    }
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    result.failure = "timed out after " + std::to_string(timeout_ms / 1000) + " s";
  } else if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.failure = "killed by signal " + std::to_string(WTERMSIG(status));
  }
  return result;
}

std::string first_line(const std::string& text) {
  std::string t(trim(text));
  size_t nl = t.find('\n');
  if (nl != std::string::npos) t = t.substr(0, nl);
  if (t.size() > 200) t = t.substr(0, 200) + "...";
  return t;
}

std::string json_string(const nlohmann::json& doc, const char* name) {
  auto it = doc.find(name);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

ProviderResult from_credential_process(const std::string& command, const std::string& profile) {
  std::string where = "profile '" + profile + "' credential_process";
  auto argv = split_command(command);
  if (!argv) return failed(where + ": unterminated quote in command");
  if (argv->empty()) return failed(where + ": empty command");
  ProcessOutput run = run_process(*argv, kProcessTimeoutMs);
  if (!run.failure.empty()) return failed(where + ": " + run.failure);
  if (run.exit_code != 0) {
    std::string msg = where + ": exited with status " + std::to_string(run.exit_code);
    if (!run.err.empty()) msg += ": " + first_line(run.err);
    return failed(msg);
  }
  nlohmann::json doc = nlohmann::json::parse(run.out, nullptr, false);
  if (!doc.is_object()) return failed(where + ": output is not a JSON object");
  auto version = doc.find("Version");
  if (version == doc.end() || !version->is_number_integer() || version->get<int>() != 1) {
    return failed(where + ": output Version must be 1");
  }
  Credentials c;
  c.access_key_id = json_string(doc, "AccessKeyId");
  c.secret_access_key = json_string(doc, "SecretAccessKey");
  c.session_token = json_string(doc, "SessionToken");
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return failed(where + ": output lacks AccessKeyId or SecretAccessKey");
  }
  if (std::string exp = json_string(doc, "Expiration"); !exp.empty()) {
    c.expiration = parse_iso8601(exp);
    if (!c.expiration) return failed(where + ": Expiration '" + exp + "' is not ISO 8601");
  }
  c.source = "process:" + profile;
  return found(std::move(c));
}

ProviderResult from_container();
ProviderResult from_imds();
ProviderResult from_web_identity_with(const std::string& token_file, const std::string& role_arn,
                                      const std::string& session, const std::string& region,
                                      const std::string& profile);

std::string setting(const IniSection& s, const char* key) {
  auto it = s.find(key);
  return it == s.end() ? std::string() : it->second;
}

bool has_static_keys(const IniSection& s) {
  return !setting(s, "aws_access_key_id").empty() || !setting(s, "aws_secret_access_key").empty();
}

ProviderResult static_keys(const IniSection& s, const std::string& profile, const std::string& file) {
  std::string key = setting(s, "aws_access_key_id");
  std::string secret = setting(s, "aws_secret_access_key");
  if (key.empty() || secret.empty()) {
    return failed("profile '" + profile + "' in " + file +
                  " has only one of aws_access_key_id / aws_secret_access_key");
  }
  Credentials c;
  c.access_key_id = key;
  c.secret_access_key = secret;
  c.session_token = setting(s, "aws_session_token");
  if (c.session_token.empty()) c.session_token = setting(s, "aws_security_token");
  c.source = "profile:" + profile;
  return found(std::move(c));
}

// What every profile of one resolution shares.
struct ProfileContext {
  SharedFiles files;
  std::string region;     // the target's region (regional STS endpoint)
  std::string guard_url;  // the target's endpoint (loopback guard)
};

std::string chain_text(const std::vector<std::string>& chain, const std::string& last) {
  std::string out;
  for (const auto& p : chain) out += p + " -> ";
  return out + last;
}

// One profile being resolved: its settings, its name and the file that holds it.
struct ProfileEntry {
  const IniSection& settings;
  const std::string& name;
  const std::string& file;
};

ProviderResult resolve_profile(const ProfileContext& ctx, const std::string& profile,
                               std::vector<std::string>& chain);

// A role profile without a source: web identity when it names a token file, else an error.
ProviderResult sourceless_role(const ProfileContext& ctx, const ProfileEntry& p,
                               const std::string& role_arn, const std::string& where) {
  std::string token_file = setting(p.settings, "web_identity_token_file");
  if (token_file.empty()) {
    return failed(where + " has role_arn but neither source_profile nor credential_source");
  }
  std::string session = setting(p.settings, "role_session_name");
  if (session.empty()) session = "ttl-auditor-" + std::to_string(static_cast<int64_t>(wall_now()));
  return from_web_identity_with(token_file, role_arn, session,
                                ctx.region.empty() ? setting(p.settings, "region") : ctx.region,
                                p.name);
}

// The credentials a role's source_profile names: its own static keys, or another profile's.
ProviderResult source_profile_credentials(const ProfileContext& ctx, const ProfileEntry& p,
                                          const std::string& source_profile,
                                          const std::string& where,
                                          std::vector<std::string>& chain) {
  ProviderResult base;
  if (source_profile == p.name) {
    // A profile may name itself: its own static keys assume its role.
    if (!has_static_keys(p.settings)) {
      return failed(where + ": source_profile refers to itself and it has no static keys");
    }
    base = static_keys(p.settings, p.name, p.file);
  } else if (std::find(chain.begin(), chain.end(), source_profile) != chain.end()) {
    return failed("source_profile cycle: " + chain_text(chain, source_profile));
  } else {
    base = resolve_profile(ctx, source_profile, chain);
  }
  if (!base.credentials) return failed(base.reason);
  return base;
}

// The credentials a role's credential_source names: environment, IMDS or container.
ProviderResult credential_source_credentials(const std::string& credential_source,
                                             const std::string& where) {
  ProviderResult base;
  if (credential_source == "Environment") {
    base = from_environment();
  } else if (credential_source == "Ec2InstanceMetadata") {
    base = from_imds();
  } else if (credential_source == "EcsContainer") {
    base = from_container();
  } else {
    return failed(where + ": credential_source '" + credential_source +
                  "' is not Environment, Ec2InstanceMetadata or EcsContainer");
  }
  if (!base.credentials) {
    return failed(where + " credential_source " + credential_source + ": " + base.reason);
  }
  return base;
}

// The AssumeRole call a role profile configures; an error text when duration_seconds is invalid.
std::optional<std::string> role_params(const ProfileContext& ctx, const ProfileEntry& p,
                                       const std::string& role_arn, const std::string& where,
                                       AssumeRoleParams& params) {
  params.role_arn = role_arn;
  params.external_id = setting(p.settings, "external_id");
  params.session_name = setting(p.settings, "role_session_name");
  if (std::string d = setting(p.settings, "duration_seconds"); !d.empty()) {
    char* end = nullptr;
    long v = std::strtol(d.c_str(), &end, 10);
    if (end == d.c_str() || *end != '\0' || v < 900 || v > 43200) {
      return where + ": duration_seconds must be 900..43200, got '" + d + "'";
    }
    params.duration_seconds = static_cast<int>(v);
  }
  params.region = ctx.region.empty() ? setting(p.settings, "region") : ctx.region;
  params.profile = p.name;
  params.target_endpoint_url = ctx.guard_url;
  return std::nullopt;
}

// A profile with role_arn: check its source, get the base credentials, assume the role.
ProviderResult role_profile(const ProfileContext& ctx, const ProfileEntry& p,
                            const std::string& role_arn, std::vector<std::string>& chain) {
  const std::string where = "profile '" + p.name + "'";
  std::string source_profile = setting(p.settings, "source_profile");
  std::string credential_source = setting(p.settings, "credential_source");
  if (!source_profile.empty() && !credential_source.empty()) {
    return failed(where + " sets both source_profile and credential_source");
  }
  if (source_profile.empty() && credential_source.empty()) {
    return sourceless_role(ctx, p, role_arn, where);
  }
  if (!setting(p.settings, "mfa_serial").empty()) {
    return failed(where + " requires MFA (mfa_serial), which an unattended audit cannot answer");
  }
  ProviderResult base =
      !source_profile.empty() ? source_profile_credentials(ctx, p, source_profile, where, chain)
                              : credential_source_credentials(credential_source, where);
  if (!base.credentials) return base;
  AssumeRoleParams params;
  if (auto bad = role_params(ctx, p, role_arn, where, params)) return failed(*bad);
  try {
    Credentials c = assume_role(*base.credentials, params);
    c.source = "assume_role:" + p.name + "<-" + base.credentials->source;
    return found(std::move(c));
  } catch (const Error& e) {
    return failed(where + ": " + e.what());
  }
}

// A profile without role_arn: static keys, credential_process, or the reason it has none.
ProviderResult profile_without_role(const ProfileEntry& p, bool nested) {
  const std::string& profile = p.name;
  if (has_static_keys(p.settings)) return static_keys(p.settings, profile, p.file);
  if (std::string command = setting(p.settings, "credential_process"); !command.empty()) {
    return from_credential_process(command, profile);
  }
  if (!setting(p.settings, "sso_start_url").empty() || !setting(p.settings, "sso_session").empty()) {
    return failed("profile '" + profile + "' uses IAM Identity Center (SSO), whose token cache "
                  "ttl-auditor does not read; give the profile a credential_process such as "
                  "`aws configure export-credentials --profile " + profile + " --format process`");
  }
  if (nested) return failed("source_profile '" + profile + "' in " + p.file + " has no credentials");
  return not_found("profile '" + profile + "' in " + p.file + " has no credentials");
}

// Resolves `profile`, which exists in the files; `chain` holds the profiles that led here
// (source_profile references), for cycle detection. As in botocore: a profile reached through
// source_profile uses its static keys when it has them; the profile asked for uses its role_arn
// first.
ProviderResult resolve_profile(const ProfileContext& ctx, const std::string& profile,
                               std::vector<std::string>& chain) {
  std::string file;
  auto section = lookup_profile(ctx.files, profile, &file);
  if (!section) {
    return failed("source_profile '" + profile + "' of profile '" + chain.back() +
                  "' not found in " + describe_files(ctx.files));
  }
  const ProfileEntry p{*section, profile, file};
  const bool nested = !chain.empty();
  chain.push_back(profile);
  if (nested && has_static_keys(p.settings)) return static_keys(p.settings, profile, file);
  if (std::string role_arn = setting(p.settings, "role_arn"); !role_arn.empty()) {
    return role_profile(ctx, p, role_arn, chain);
  }
  return profile_without_role(p, nested);
}

// `explicit_profile`: the profile was named (config or AWS_PROFILE); then a missing profile is
// an error, never a fall-through to another identity.
ProviderResult from_shared_files(const std::string& profile, bool explicit_profile,
                                 const std::string& region, const std::string& guard_url) {
  ProfileContext ctx{load_shared_files(), region, guard_url};
  if (!lookup_profile(ctx.files, profile)) {
    std::string msg = "profile '" + profile + "' not found in " + describe_files(ctx.files);
    return explicit_profile ? failed(msg) : not_found(msg);
  }
  std::vector<std::string> chain;
  return resolve_profile(ctx, profile, chain);
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers shared by the remote providers

std::string form_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string describe_transport(const TransportError& e) {
  static const char* names[] = {"dns", "connect", "timeout", "tls", "reset", "too_large", "other", "aborted"};
  return std::string(names[static_cast<int>(e.kind)]) + " error: " + e.message;
}

// Performs `request`, retrying throttling/transient failures a few times with short backoff.
HttpResult fetch_with_retries(HttpClient& client, const HttpRequest& request, int max_attempts) {
  RetryOptions ro;
  ro.max_attempts = max_attempts;
  ro.base_delay_seconds = 0.1;
  ro.max_delay_seconds = 1.0;
  ro.deadline_seconds = 10;
  RetryPolicy policy(ro);
  auto start = std::chrono::steady_clock::now();
  for (int attempt = 1;; ++attempt) {
    HttpResult result = client.perform(request);
    RetryClass cls;
    bool timeout = false;
    if (auto* err = std::get_if<TransportError>(&result)) {
      cls = classify(true, 0, "");
      timeout = err->kind == TransportError::Kind::kTimeout;
    } else {
      const auto& resp = std::get<HttpResponse>(result);
      cls = classify(false, resp.status, resp.status >= 300 ? aws_error_code(resp.body) : "");
    }
    if (cls == RetryClass::kNone) return result;
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto delay = policy.next_delay(attempt, cls, elapsed, std::nullopt, timeout);
    if (!delay) return result;
    const auto* resp = std::get_if<HttpResponse>(&result);
    log::warn("credentials retry",
              Fields()
                  .add("url", request.url.substr(0, request.url.find('?')))
                  .add("attempt", attempt)
                  .add("reason", resp == nullptr                    ? (timeout ? "timeout" : "connection_error")
                                 : cls == RetryClass::kThrottling ? "throttle"
                                 : resp->status >= 500            ? "5xx"
                                                                  : "http_" + std::to_string(resp->status))
                  .add("delay_s", *delay, 2));
    std::this_thread::sleep_for(std::chrono::duration<double>(*delay));
  }
}

Credentials credentials_from_json(const nlohmann::json& doc, const char* token_field,
                                  std::string source, std::string* error) {
  Credentials c;
  c.access_key_id = json_string(doc, "AccessKeyId");
  c.secret_access_key = json_string(doc, "SecretAccessKey");
  c.session_token = json_string(doc, token_field);
  c.source = std::move(source);
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    *error = "response lacks AccessKeyId or SecretAccessKey";
    return c;
  }
  if (std::string exp = json_string(doc, "Expiration"); !exp.empty()) {
    c.expiration = parse_iso8601(exp);
    if (!c.expiration) *error = "Expiration '" + exp + "' is not ISO 8601";
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Web identity (IRSA and friends)

ProviderResult from_web_identity(const std::string& region_option) {
  auto token_file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
  auto role_arn = env("AWS_ROLE_ARN");
  if (!token_file && !role_arn) return not_found("AWS_WEB_IDENTITY_TOKEN_FILE not set");
  // Only both together configure this provider (as in the SDKs); one alone is noted and skipped.
  if (!token_file) return not_found("AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not");
  if (!role_arn) return not_found("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
  std::string session = env("AWS_ROLE_SESSION_NAME")
                            .value_or("ttl-auditor-" + std::to_string(static_cast<int64_t>(wall_now())));
  std::string region = region_option;
  if (region.empty()) region = env("AWS_REGION").value_or(env("AWS_DEFAULT_REGION").value_or(""));
  return from_web_identity_with(*token_file, *role_arn, session, region, "");
}

ProviderResult from_web_identity_with(const std::string& token_file_in, const std::string& role_arn_in,
                                      const std::string& session, const std::string& region,
                                      const std::string& profile) {
  const std::optional<std::string> token_file = token_file_in;
  const std::optional<std::string> role_arn = role_arn_in;
  // The token file is rotated by the platform: read it on every fetch.
  auto token = read_file(*token_file);
  if (!token) return failed("cannot read token file " + *token_file);
  std::string token_text(trim(*token));
  if (token_text.empty()) return failed("token file " + *token_file + " is empty");
  std::string endpoint = sts_endpoint(region, profile);
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();

  HttpRequest req;
  req.method = "POST";  // the token goes in the body, never in a URL that could be logged
  req.url = endpoint + "/";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                 {"Accept", "text/xml"}};
  req.body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + form_encode(*role_arn) +
             "&RoleSessionName=" + form_encode(session) + "&WebIdentityToken=" + form_encode(token_text);
  HttpOptions ho;
  ho.connect_timeout_ms = 3100;
  ho.total_timeout_ms = 10000;
  ho.max_response_bytes = 1 << 20;
  HttpClient client(ho);
  HttpResult result = fetch_with_retries(client, req, 3);
  std::string where = "STS AssumeRoleWithWebIdentity at " + endpoint + " for " + *role_arn;
  if (auto* err = std::get_if<TransportError>(&result)) {
    return failed(where + ": " + describe_transport(*err));
  }
  const auto& resp = std::get<HttpResponse>(result);
  if (resp.status != 200) {
    std::string code = aws_error_code(resp.body);
    std::string msg = aws_error_message(resp.body);
    return failed(where + ": HTTP " + std::to_string(resp.status) + (code.empty() ? "" : " " + code) +
                  (msg.empty() ? "" : ": " + msg));
  }
  pugi::xml_document doc;
  if (!doc.load_buffer(resp.body.data(), resp.body.size())) {
    return failed(where + ": response is not XML");
  }
  pugi::xml_node creds = doc.child("AssumeRoleWithWebIdentityResponse")
                             .child("AssumeRoleWithWebIdentityResult")
                             .child("Credentials");
  Credentials c;
  c.access_key_id = trim(creds.child_value("AccessKeyId"));
  c.secret_access_key = trim(creds.child_value("SecretAccessKey"));
  c.session_token = trim(creds.child_value("SessionToken"));
  std::string exp(trim(creds.child_value("Expiration")));
  if (c.access_key_id.empty() || c.secret_access_key.empty() || c.session_token.empty()) {
    return failed(where + ": response lacks Credentials");
  }
  c.expiration = parse_iso8601(exp);
  if (!c.expiration) return failed(where + ": Expiration '" + exp + "' is not ISO 8601");
  c.source = "web_identity:" + *role_arn;
  return found(std::move(c));
}

// ---------------------------------------------------------------------------------------------
// Container credentials (ECS task roles, EKS Pod Identity)

bool allowed_container_host(const std::string& url) {
  // Plain http is only acceptable to a link-local agent or this machine; anything else must be
  // https, or the credentials (and our authorization token) travel in the clear.
  std::optional<Url> parsed = parse_url(url);
  if (!parsed) return false;
  if (parsed->scheme == "https") return true;
  if (parsed->scheme != "http") return false;
  for (const char* agent : {"169.254.170.2", "169.254.170.23", "[fd00:ec2::23]"}) {
    if (parsed->host == agent) return true;
  }
  return is_loopback_host(parsed->host);
}

ProviderResult from_container() {
  std::string url;
  if (auto rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    url = "http://169.254.170.2" + (rel->front() == '/' ? *rel : "/" + *rel);
  } else if (auto full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    url = *full;
    if (!allowed_container_host(url)) {
      return failed("AWS_CONTAINER_CREDENTIALS_FULL_URI host is not loopback or the container "
                    "agent and the URL is not https");
    }
  } else {
    return not_found("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI not set");
  }
  std::optional<std::string> token;
  if (auto token_file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    token = read_file(*token_file);
    if (!token) return failed("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + *token_file);
    *token = std::string(trim(*token));
  } else if (auto t = env("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    token = *t;
  }
  if (token && token->find_first_of("\r\n") != std::string::npos) {
    return failed("authorization token contains a line break");
  }
  HttpRequest req;
  req.url = url;
  req.headers = {{"Accept", "application/json"}};
  if (token) req.headers.emplace_back("Authorization", *token);
  HttpOptions ho;
  ho.connect_timeout_ms = 1000;
  ho.total_timeout_ms = 2000;
  ho.max_response_bytes = 1 << 20;
  // A plain-http agent is link-local or loopback (checked above): a proxy would answer with
  // someone else's credentials or see ours. An https endpoint may go through the proxy.
  ho.bypass_proxy = url.rfind("http://", 0) == 0;
  HttpClient client(ho);
  HttpResult result = fetch_with_retries(client, req, 3);
  // The URL may carry the relative URI's secret-ish id; show only the host.
  std::optional<Url> parsed = parse_url(url);
  std::string where = "endpoint " + (parsed ? parsed->host : std::string("?"));
  if (auto* err = std::get_if<TransportError>(&result)) {
    return failed(where + ": " + describe_transport(*err));
  }
  const auto& resp = std::get<HttpResponse>(result);
  if (resp.status != 200) {
    std::string msg = aws_error_message(resp.body);
    return failed(where + ": HTTP " + std::to_string(resp.status) + (msg.empty() ? "" : ": " + msg));
  }
  nlohmann::json doc = nlohmann::json::parse(resp.body, nullptr, false);
  if (!doc.is_object()) return failed(where + ": response is not a JSON object");
  std::string error;
  Credentials c = credentials_from_json(doc, "Token", "container", &error);
  if (!error.empty()) return failed(where + ": " + error);
  return found(std::move(c));
}

// ---------------------------------------------------------------------------------------------
// EC2 instance metadata, IMDSv2 only (no fallback to the token-less v1 protocol).

ProviderResult from_imds() {
  if (auto disabled = env("AWS_EC2_METADATA_DISABLED"); disabled && to_lower(*disabled) == "true") {
    return not_found("disabled (AWS_EC2_METADATA_DISABLED=true)");
  }
  std::string endpoint = env("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or("http://169.254.169.254");
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  HttpOptions ho;
  // Off EC2 nothing answers at the link-local address: fail fast.
  ho.connect_timeout_ms = 1000;
  ho.total_timeout_ms = 1000;
  ho.max_response_bytes = 64 << 10;
  ho.bypass_proxy = true;  // the metadata service is this instance's; a proxy would reach another
  HttpClient client(ho);

  HttpRequest token_req;
  token_req.method = "PUT";  // IMDSv2 session token: a credentials fetch, not a write anywhere
  token_req.url = endpoint + "/latest/api/token";
  token_req.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
  HttpResult token_result = client.perform(token_req);
  if (auto* err = std::get_if<TransportError>(&token_result)) {
    return not_found("no answer from " + endpoint + " (" + describe_transport(*err) + ")");
  }
  const auto& token_resp = std::get<HttpResponse>(token_result);
  if (token_resp.status != 200 || trim(token_resp.body).empty()) {
    return not_found("token request to " + endpoint + " returned HTTP " +
                     std::to_string(token_resp.status));
  }
  std::string token(trim(token_resp.body));

  auto get = [&](const std::string& path) {
    HttpRequest r;
    r.url = endpoint + path;
    r.headers = {{"X-aws-ec2-metadata-token", token}};
    return client.perform(r);
  };
  const std::string base = "/latest/meta-data/iam/security-credentials/";
  HttpResult roles = get(base);
  if (auto* err = std::get_if<TransportError>(&roles)) {
    return not_found("role list: " + describe_transport(*err));
  }
  const auto& roles_resp = std::get<HttpResponse>(roles);
  if (roles_resp.status == 404) return not_found("no IAM role attached to this instance");
  if (roles_resp.status != 200) {
    return not_found("role list returned HTTP " + std::to_string(roles_resp.status));
  }
  std::string role = first_line(roles_resp.body);
  if (role.empty()) return not_found("no IAM role attached to this instance");

  HttpResult creds = get(base + role);
  if (auto* err = std::get_if<TransportError>(&creds)) {
    return failed("role '" + role + "': " + describe_transport(*err));
  }
  const auto& creds_resp = std::get<HttpResponse>(creds);
  if (creds_resp.status != 200) {
    return failed("role '" + role + "' returned HTTP " + std::to_string(creds_resp.status));
  }
  nlohmann::json doc = nlohmann::json::parse(creds_resp.body, nullptr, false);
  if (!doc.is_object()) return failed("role '" + role + "': response is not a JSON object");
  if (std::string code = json_string(doc, "Code"); !code.empty() && code != "Success") {
    return failed("role '" + role + "': Code " + code);
  }
  std::string error;
  Credentials c = credentials_from_json(doc, "Token", "imds:" + role, &error);
  if (!error.empty()) return failed("role '" + role + "': " + error);
  return found(std::move(c));
}

// ---------------------------------------------------------------------------------------------

class DefaultChain final : public CredentialsProvider {
 public:
  explicit DefaultChain(ChainOptions options) : options_(std::move(options)) {}

  Credentials get() override {
    std::lock_guard<std::mutex> lock(mu_);
    return refresh_or_keep(cached_, [this](double) { return resolve(); });
  }

 private:
  std::string profile_name() const {
    if (!options_.profile.empty()) return options_.profile;
    return env("AWS_PROFILE").value_or("default");
  }

  Credentials resolve() const {
    std::vector<std::string> tried;
    struct Step {
      const char* name;
      std::function<ProviderResult()> run;
    };
    std::string profile = profile_name();
    const bool explicit_profile = !options_.profile.empty() || env("AWS_PROFILE").has_value();
    const Step steps[] = {
        {"environment",
         [&] {
           // An explicitly named profile skips the environment, as the SDKs do for a profile
           // given to the client: the config asked for that identity.
           if (!options_.profile.empty()) {
             return not_found("skipped: profile '" + options_.profile + "' named in the config");
           }
           return from_environment();
         }},
        {"shared files",
         [&] {
           return from_shared_files(profile, explicit_profile, options_.region,
                                    options_.target_endpoint_url);
         }},
        {"web identity", [&] { return from_web_identity(options_.region); }},
        {"container", [] { return from_container(); }},
        {"imds", [] { return from_imds(); }},
    };
    for (const Step& step : steps) {
      ProviderResult r = step.run();
      if (r.credentials) {
        log::info("credentials resolved",
                  Fields()
                      .add("source", r.credentials->source)
                      .add("temporary", !r.credentials->session_token.empty())
                      .add("expires_in_s", r.credentials->expiration
                                               ? std::to_string(static_cast<int64_t>(
                                                     *r.credentials->expiration - wall_now()))
                                               : std::string("never")));
        return *r.credentials;
      }
      tried.push_back(std::string(step.name) + ": " + r.reason);
      if (r.stop) {
        throw Error(ErrorKind::kAuth, "AWS credentials: " + join(tried) +
                                          " (stopped: a configured provider failed)");
      }
    }
    throw Error(ErrorKind::kAuth, "no AWS credentials found; tried " + join(tried));
  }

  static std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
    return out;
  }

  ChainOptions options_;
  std::mutex mu_;
  std::optional<Credentials> cached_;
};

// A role assumed on top of another provider's credentials (a target's own role_arn).
class AssumeRoleProvider final : public CredentialsProvider {
 public:
  AssumeRoleProvider(std::shared_ptr<CredentialsProvider> base, AssumeRoleParams params)
      : base_(std::move(base)), params_(std::move(params)) {}

  Credentials get() override {
    std::lock_guard<std::mutex> lock(mu_);
    return refresh_or_keep(cached_, [this](double now) {
      Credentials base = base_->get();
      Credentials c = assume_role(base, params_);
      c.source = "assume_role:" + params_.role_arn + "<-" + base.source;
      log::info("credentials assumed", Fields().add("role", params_.role_arn).add("session",
                   params_.session_name).add("expires_in_s",
                   c.expiration ? std::to_string(static_cast<int64_t>(*c.expiration - now))
                                : std::string("never")));
      return c;
    });
  }

 private:
  std::shared_ptr<CredentialsProvider> base_;
  AssumeRoleParams params_;
  std::mutex mu_;
  std::optional<Credentials> cached_;
};

// Role session names allow [\w+=,.@-], 2 to 64 characters.
std::string session_name_for(const std::string& wanted) {
  std::string out;
  for (char c : wanted) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) ||
              std::string_view("_+=,.@-").find(c) != std::string_view::npos;
    out += ok ? c : '-';
  }
  if (out.size() > 64) out.resize(64);
  if (out.size() < 2) out = "ttl-auditor-" + std::to_string(static_cast<int64_t>(wall_now()));
  return out;
}

class StaticProvider final : public CredentialsProvider {
 public:
  explicit StaticProvider(Credentials c) : credentials_(std::move(c)) {
    if (credentials_.source.empty()) credentials_.source = "static";
  }
  Credentials get() override { return credentials_; }

 private:
  Credentials credentials_;
};

}  // namespace

AssumeRoleParams assume_role_params(const ChainOptions& options) {
  AssumeRoleParams params;
  params.role_arn = options.role_arn;
  params.external_id = options.external_id;
  params.session_name = options.session_name;
  params.region = options.region;
  params.profile = options.profile;
  params.target_endpoint_url = options.target_endpoint_url;
  return params;
}

std::shared_ptr<CredentialsProvider> make_default_chain(ChainOptions options) {
  if (options.role_arn.empty()) return std::make_shared<DefaultChain>(std::move(options));
  AssumeRoleParams params = assume_role_params(options);
  ChainOptions base = options;
  base.role_arn.clear();
  base.external_id.clear();
  return make_assume_role_provider(std::make_shared<DefaultChain>(std::move(base)), std::move(params));
}

std::shared_ptr<CredentialsProvider> make_assume_role_provider(
    std::shared_ptr<CredentialsProvider> base, AssumeRoleParams params) {
  return std::make_shared<AssumeRoleProvider>(std::move(base), std::move(params));
}

IniFile parse_aws_ini(const std::string& text) { return parse_ini(text); }

std::string effective_profile(const std::string& configured) {
  if (!configured.empty()) return configured;
  return env("AWS_PROFILE").value_or("default");
}

std::optional<IniSection> find_profile(const std::string& profile) {
  return lookup_profile(load_shared_files(), profile);
}

std::string profile_setting(const std::string& profile, const std::string& key) {
  auto p = find_profile(effective_profile(profile));
  if (!p) return {};
  auto it = p->find(key);
  return it == p->end() ? std::string() : it->second;
}

IniSection config_section(const std::string& section) {
  SharedFiles f = load_shared_files();
  if (!f.config) return {};
  for (auto& [name, values] : *f.config) {
    // "services  name" with extra blanks is the same section.
    std::string normal;
    bool space = false;
    for (char c : trim(name)) {
      if (std::isspace(static_cast<unsigned char>(c))) {
        space = true;
        continue;
      }
      if (space && !normal.empty()) normal += ' ';
      space = false;
      normal += c;
    }
    if (normal == section) return values;
  }
  return {};
}

std::string shared_files_read() { return describe_files(load_shared_files()); }

std::string sts_endpoint(const std::string& region, const std::string& profile) {
  std::string configured = configured_endpoint("sts", profile);
  if (!configured.empty()) return configured;
  // Regional endpoints (the SDKs' default since 2022): the global one only without a region.
  if (region.empty()) return "https://sts.amazonaws.com";
  return public_endpoint("sts", region);
}

Credentials assume_role(const Credentials& base, const AssumeRoleParams& p) {
  std::string endpoint = sts_endpoint(p.region, p.profile);
  std::string session = session_name_for(
      p.session_name.empty() ? "ttl-auditor-" + std::to_string(static_cast<int64_t>(wall_now()))
                             : p.session_name);
  const std::string where = "STS AssumeRole " + p.role_arn + " at " + endpoint;
  if (!p.target_endpoint_url.empty() && is_loopback_url(p.target_endpoint_url) &&
      !is_loopback_url(endpoint)) {
    throw Error(ErrorKind::kConfig,
                "refusing " + where + ": the target's endpoint " + p.target_endpoint_url +
                    " is a local server; point STS there too with AWS_ENDPOINT_URL_STS or "
                    "AWS_ENDPOINT_URL");
  }
  ServiceConfig sc;
  sc.region = p.region.empty() ? "us-east-1" : p.region;  // the global endpoint signs for us-east-1
  sc.endpoint_url = endpoint;
  sc.http.connect_timeout_ms = 3100;
  sc.http.total_timeout_ms = 10000;
  sc.http.max_response_bytes = 1 << 20;
  sc.retry.max_attempts = 3;
  sc.retry.deadline_seconds = 20;
  AwsClient client(sc, make_static_provider(base));
  std::vector<std::pair<std::string, std::string>> params = {
      {"RoleArn", p.role_arn},
      {"RoleSessionName", session},
      {"DurationSeconds", std::to_string(p.duration_seconds)}};
  if (!p.external_id.empty()) params.emplace_back("ExternalId", p.external_id);
  std::string body;
  try {
    body = client.sts("AssumeRole", params);
  } catch (const Error& e) {
    throw Error(e.kind() == ErrorKind::kNetwork ? ErrorKind::kNetwork : ErrorKind::kAuth,
                where + ": " + e.what());
  }
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) {
    throw Error(ErrorKind::kAuth, where + ": response is not XML");
  }
  // By member name, wherever the root element is (as the SDKs read it).
  pugi::xml_node creds = doc.select_node("//AssumeRoleResult/Credentials").node();
  if (!creds) creds = doc.select_node("//Credentials").node();
  Credentials c;
  c.access_key_id = trim(creds.child_value("AccessKeyId"));
  c.secret_access_key = trim(creds.child_value("SecretAccessKey"));
  c.session_token = trim(creds.child_value("SessionToken"));
  if (c.access_key_id.empty() || c.secret_access_key.empty() || c.session_token.empty()) {
    throw Error(ErrorKind::kAuth, where + ": response lacks Credentials");
  }
  std::string exp(trim(creds.child_value("Expiration")));
  c.expiration = parse_iso8601(exp);
  if (!c.expiration) throw Error(ErrorKind::kAuth, where + ": Expiration '" + exp + "' is not ISO 8601");
  c.source = "assume_role:" + p.role_arn;
  return c;
}

std::shared_ptr<CredentialsProvider> make_static_provider(Credentials credentials) {
  return std::make_shared<StaticProvider>(std::move(credentials));
}

}  // namespace ttla::aws
