#pragma once
// What the config layer knows of one source kind: the keys its targets accept, each with its
// reader (validate the YAML value, store it), and its required keys. Each kind defines its own
// (sources/<kind>_kind.cc, a row of the kind table in sources/kinds.cc); parse_config_for reads
// them, so config validation names no kind.
#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/validator.h"

namespace ttla {

// One key of a target: `read` checks the value at `path` and stores it in the target, reporting
// problems to the validator.
struct TargetKey {
  std::string key;
  std::function<void(Validator& v, const YAML::Node& n, const std::string& path, TargetConfig& t)>
      read;
};

// Whether the target sets a key (itself or through `defaults:`).
using KeyPresent = std::function<bool(const std::string& key)>;

struct KindConfig {
  std::string kind;
  // Its keys beyond name, kind, anomalies, top_k and redact_keys, in the order "did you mean"
  // prefers on a tie.
  std::vector<TargetKey> keys;
  // Reports missing required keys and mutually exclusive ones (errors name the target's path).
  std::function<void(Validator& v, const KeyPresent& present, const std::string& path)>
      check_required;
  // True for a key of `defaults:` that the target's own keys replace rather than combine with
  // (postgres: a target's `query` drops a default `table`). May be empty.
  std::function<bool(const std::string& default_key, const YAML::Node& target)> default_replaced;
  // Prepares a target of this kind before its keys are read. May be empty.
  std::function<void(TargetConfig& t)> init;
};

// The reader of a key whose value lives in TargetConfig itself, for kinds that accept it: region,
// endpoint_url, cloudwatch_endpoint_url, profile, role_arn, external_id, retention, request_timeout, connect_timeout,
// max_duration. Throws std::logic_error for any other key.
TargetKey common_key(const std::string& key);

// Shared readers: an http(s) URL; `tables:` / `buckets:` (`all` or {include, exclude} globs of
// `what` names).
std::optional<std::string> read_url(Validator& v, const YAML::Node& n, const std::string& path);
std::optional<TableSelector> read_selector(Validator& v, const YAML::Node& n,
                                           const std::string& path, const std::string& what);

// Readers of a kind's own settings: `own(t)` returns them from a target (Own: the kind's settings
// struct). `read` gets the settings instead of the whole target.
template <class Own>
struct OwnKeys {
  Own& (*own)(TargetConfig&);

  using Read = std::function<void(Validator& v, const YAML::Node& n, const std::string& path, Own& c)>;
  TargetKey read(std::string key, Read f) const {
    return {std::move(key), [get = own, f = std::move(f)](Validator& v, const YAML::Node& n,
                                                          const std::string& p, TargetConfig& t) {
              f(v, n, p, get(t));
            }};
  }
  // A non-empty string.
  TargetKey text(std::string key, std::string Own::*field) const {
    return read(std::move(key), [field](Validator& v, const YAML::Node& n, const std::string& p, Own& c) {
      if (auto s = v.non_empty_string(n, p)) c.*field = *s;
    });
  }
  // true or false.
  TargetKey flag(std::string key, bool Own::*field) const {
    return read(std::move(key), [field](Validator& v, const YAML::Node& n, const std::string& p, Own& c) {
      if (auto b = v.boolean(n, p)) c.*field = *b;
    });
  }
};

// `missing required key "key" (kind K)` at `path` unless present.
void require_key(Validator& v, const KeyPresent& present, const std::string& path,
                 const std::string& kind, const std::string& key);

// Parse YAML text against these kinds. `${VAR}` is interpolated from the environment in every
// string value (unset variables are errors). `source_name` is used in messages only. The kind
// table's own parse_config / load_config (sources/kinds.h) pass every kind.
ConfigResult parse_config_for(const std::vector<const KindConfig*>& kinds,
                              const std::string& yaml_text, const std::string& source_name = "");
ConfigResult load_config_for(const std::vector<const KindConfig*>& kinds, const std::string& path);

}  // namespace ttla
