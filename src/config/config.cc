#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

#include "config/kind_config.h"
#include "config/validator.h"
#include "core/suggest.h"
#include "core/time.h"

namespace ttla {

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  const auto best = closest_match(word, candidates);
  return best ? " (did you mean \"" + *best + "\"?)" : "";
}

void require_key(Validator& v, const KeyPresent& present, const std::string& path,
                 const std::string& kind, const std::string& key) {
  if (!present(key)) v.error(path, "missing required key \"" + key + "\" (kind " + kind + ")");
}

std::optional<std::string> read_url(Validator& v, const YAML::Node& n, const std::string& p) {
  auto s = v.non_empty_string(n, p);
  if (!s) return std::nullopt;
  if (s->rfind("http://", 0) != 0 && s->rfind("https://", 0) != 0) {
    v.error(p, "expected a URL starting with http:// or https://, got \"" + *s + "\"");
    return std::nullopt;
  }
  return s;
}

std::optional<TableSelector> read_selector(Validator& v, const YAML::Node& n, const std::string& p,
                                           const std::string& what) {
  TableSelector sel;
  if (n.IsScalar()) {
    if (n.Scalar() != "all") {
      v.error(p, "expected \"all\" or {include: [glob], exclude: [glob]}, got \"" + n.Scalar() +
                     "\"");
      return std::nullopt;
    }
    return sel;
  }
  if (!v.expect_map(n, p)) return std::nullopt;
  bool ok = true;
  v.each_key(n, p, {"include", "exclude"},
             [&](const std::string& k, const YAML::Node& list, const std::string& lp) {
               if (!list.IsSequence() || list.size() == 0) {
                 v.error(lp, "expected a non-empty list of " + what + " name globs");
                 ok = false;
                 return;
               }
               std::vector<std::string> globs;
               for (size_t i = 0; i < list.size(); ++i) {
                 if (auto g = v.non_empty_string(list[i], lp + "[" + std::to_string(i) + "]")) {
                   globs.push_back(*g);
                 } else {
                   ok = false;
                 }
               }
               (k == "include" ? sel.include : sel.exclude) = std::move(globs);
             });
  if (!ok) return std::nullopt;
  return sel;
}

TargetKey common_key(const std::string& key) {
  using Read = std::function<void(Validator&, const YAML::Node&, const std::string&, TargetConfig&)>;
  auto text = [](std::string TargetConfig::*field) -> Read {
    return [field](Validator& v, const YAML::Node& n, const std::string& p, TargetConfig& t) {
      if (auto s = v.non_empty_string(n, p)) t.*field = *s;
    };
  };
  // request_timeout, connect_timeout, max_duration: positive durations.
  auto limit = [](const std::function<void(TargetConfig&, int64_t)>& store) -> Read {
    return [store](Validator& v, const YAML::Node& n, const std::string& p, TargetConfig& t) {
      auto d = v.duration(n, p);
      if (!d) return;
      if (*d <= 0) {
        v.error(p, "expected a positive duration like 30s, got " + format_duration(*d));
        return;
      }
      store(t, *d);
    };
  };
  Read read;
  if (key == "region") {
    read = text(&TargetConfig::region);
  } else if (key == "profile") {
    read = text(&TargetConfig::profile);
  } else if (key == "external_id") {
    read = text(&TargetConfig::external_id);
  } else if (key == "endpoint_url" || key == "cloudwatch_endpoint_url") {
    auto field = key == "endpoint_url" ? &TargetConfig::endpoint_url : &TargetConfig::cloudwatch_endpoint_url;
    read = [field](Validator& v, const YAML::Node& n, const std::string& p, TargetConfig& t) {
      if (auto s = read_url(v, n, p)) t.*field = *s;
    };
  } else if (key == "role_arn") {
    read = [](Validator& v, const YAML::Node& n, const std::string& p, TargetConfig& t) {
      auto s = v.non_empty_string(n, p);
      if (!s) return;
      if (s->rfind("arn:", 0) != 0 || s->find(":role/") == std::string::npos) {
        v.error(p, "expected an IAM role ARN like arn:aws:iam::123456789012:role/name, got \"" + *s + "\"");
        return;
      }
      t.role_arn = *s;
    };
  } else if (key == "retention") {
    read = [](Validator& v, const YAML::Node& n, const std::string& p, TargetConfig& t) {
      if (auto d = v.duration(n, p)) t.retention = *d;
    };
  } else if (key == "request_timeout") {
    read = limit([](TargetConfig& t, int64_t d) { t.request_timeout = d; });
  } else if (key == "connect_timeout") {
    read = limit([](TargetConfig& t, int64_t d) { t.connect_timeout = d; });
  } else if (key == "max_duration") {
    read = limit([](TargetConfig& t, int64_t d) { t.max_duration = d; });
  } else {
    throw std::logic_error("common_key: no common key \"" + key + "\"");
  }
  return {key, std::move(read)};
}

namespace {

// ---------------------------------------------------------------------------------------------
// Key tables. The kind token is the config key, the registry key and the `kind` label; each
// kind's own keys come from its row of the kind table (sources/kinds.cc).

using Kinds = std::vector<const KindConfig*>;

// Keys every target accepts.
const std::vector<std::string> kCommonKeys = {"name", "kind", "anomalies", "top_k", "redact_keys"};

const std::vector<std::string> kTopLevelKeys = {"defaults", "targets", "anomalies", "state_dir"};
const std::vector<std::string> kAnomalyKeys = {"expired_backlog", "oldest_overdue", "ttl_hygiene",
                                               "stale_multipart", "backlog_growth", "history_runs",
                                               "dlq_depth", "orphan_files"};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::string> kind_names(const Kinds& kinds) {
  std::vector<std::string> out;
  for (const KindConfig* k : kinds) out.push_back(k->kind);
  return out;
}

const KindConfig* find_kind(const Kinds& kinds, const std::string& name) {
  for (const KindConfig* k : kinds) {
    if (k->kind == name) return k;
  }
  return nullptr;
}

const TargetKey* find_key(const KindConfig& kind, const std::string& key) {
  for (const TargetKey& k : kind.keys) {
    if (k.key == key) return &k;
  }
  return nullptr;
}

std::vector<std::string> allowed_keys_for(const KindConfig& kind) {
  std::vector<std::string> out = kCommonKeys;
  for (const TargetKey& k : kind.keys) out.push_back(k.key);
  return out;
}

// Every kind's keys, kinds in name order (so "did you mean" picks the same key whatever order
// the table lists the kinds in).
std::vector<std::string> all_target_keys(const Kinds& kinds) {
  Kinds sorted = kinds;
  std::sort(sorted.begin(), sorted.end(),
            [](const KindConfig* a, const KindConfig* b) { return a->kind < b->kind; });
  std::vector<std::string> out = kCommonKeys;
  for (const KindConfig* kind : sorted) {
    for (const TargetKey& k : kind->keys) {
      if (!contains(out, k.key)) out.push_back(k.key);
    }
  }
  return out;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// anomalies:

void parse_thresholds(Validator& v, const YAML::Node& node, const std::string& path,
                      Thresholds& t) {
  if (!v.expect_map(node, path)) return;
  auto levels = [&](const YAML::Node& n, const std::string& p, bool with_critical,
                    const std::function<void(const std::string&, const YAML::Node&,
                                             const std::string&)>& f) {
    if (!v.expect_map(n, p)) return;
    std::vector<std::string> keys = {"warning"};
    if (with_critical) keys.push_back("critical");
    v.each_key(n, p, keys, f);
  };
  v.each_key(node, path, kAnomalyKeys,
             [&](const std::string& key, const YAML::Node& n, const std::string& p) {
    if (key == "expired_backlog") {
      levels(n, p, true, [&](const std::string& k, const YAML::Node& x, const std::string& q) {
        auto d = v.number(x, q, 0, 1e18, false, ">= 0");
        if (d) (k == "warning" ? t.expired_backlog_warning : t.expired_backlog_critical) = *d;
      });
      if (n.IsMap() && t.expired_backlog_critical > 0 &&
          t.expired_backlog_warning > t.expired_backlog_critical) {
        v.error(p, "warning (" + std::to_string(static_cast<int64_t>(t.expired_backlog_warning)) +
                       ") is above critical (" +
                       std::to_string(static_cast<int64_t>(t.expired_backlog_critical)) + ")");
      }
    } else if (key == "oldest_overdue") {
      levels(n, p, true, [&](const std::string& k, const YAML::Node& x, const std::string& q) {
        auto d = v.duration(x, q);
        if (d) (k == "warning" ? t.oldest_overdue_warning : t.oldest_overdue_critical) = *d;
      });
      if (n.IsMap() && t.oldest_overdue_critical > 0 &&
          t.oldest_overdue_warning > t.oldest_overdue_critical) {
        v.error(p, "warning (" + format_duration(t.oldest_overdue_warning) +
                       ") is above critical (" + format_duration(t.oldest_overdue_critical) + ")");
      }
    } else if (key == "ttl_hygiene") {
      levels(n, p, false, [&](const std::string&, const YAML::Node& x, const std::string& q) {
        if (auto d = v.number(x, q, 0, 1e18, false, ">= 0")) t.ttl_hygiene_warning = *d;
      });
    } else if (key == "stale_multipart") {
      levels(n, p, false, [&](const std::string&, const YAML::Node& x, const std::string& q) {
        if (auto d = v.number(x, q, 0, 1e18, false, ">= 0")) t.stale_multipart_warning = *d;
      });
    } else if (key == "dlq_depth") {
      levels(n, p, true, [&](const std::string& k, const YAML::Node& x, const std::string& q) {
        auto d = v.number(x, q, 0, 1e18, false, ">= 0");
        if (d) (k == "warning" ? t.dlq_depth_warning : t.dlq_depth_critical) = *d;
      });
    } else if (key == "orphan_files") {
      levels(n, p, false, [&](const std::string&, const YAML::Node& x, const std::string& q) {
        if (auto d = v.number(x, q, 0, 1e18, false, ">= 0")) t.orphan_files_warning = *d;
      });
    } else if (key == "backlog_growth") {
      if (!v.expect_map(n, p)) return;
      v.each_key(n, p, {"runs", "sigma", "min_items"},
                 [&](const std::string& k, const YAML::Node& x, const std::string& q) {
        if (k == "runs") {
          if (auto i = v.integer(x, q, 1, 1000)) t.growth_runs = static_cast<int>(*i);
        } else if (k == "sigma") {
          if (auto d = v.number(x, q, 0, 1000, true, "> 0")) t.growth_sigma = *d;
        } else {
          if (auto d = v.number(x, q, 0, 1e18, false, ">= 0")) t.growth_min_items = *d;
        }
      });
    } else if (key == "history_runs") {
      if (auto i = v.integer(n, p, 1, 100000)) t.history_runs = static_cast<int>(*i);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Targets.

// One key of a target (or of `defaults:` applied to it). With an unknown kind, a key is read by
// the first kind in the table that has it, into a scratch target, so its value is still checked.
void apply_target_key(Validator& v, const Kinds& kinds, const KindConfig* kind,
                      const std::string& key, const YAML::Node& n, const std::string& p,
                      TargetConfig& t) {
  if (key == "anomalies") {
    parse_thresholds(v, n, p, t.thresholds);
  } else if (key == "top_k") {
    if (auto i = v.integer(n, p, 1, 1000)) t.top_k = static_cast<int>(*i);
  } else if (key == "redact_keys") {
    if (auto b = v.boolean(n, p)) t.redact_keys = *b;
  } else if (kind != nullptr) {
    if (const TargetKey* k = find_key(*kind, key)) k->read(v, n, p, t);
  } else {
    for (const KindConfig* other : kinds) {
      const TargetKey* k = find_key(*other, key);
      if (k == nullptr) continue;
      TargetConfig scratch;
      scratch.kind = other->kind;
      if (other->init) other->init(scratch);
      k->read(v, n, p, scratch);
      return;
    }
  }
}

std::optional<TargetConfig> parse_target(Validator& v, const Kinds& kinds, const YAML::Node& node,
                                         const YAML::Node& defaults, const std::string& path,
                                         const Thresholds& global) {
  if (!v.expect_map(node, path)) return std::nullopt;
  TargetConfig t;
  t.thresholds = global;

  // The kind decides which keys are allowed, so it is read first (from the target or defaults).
  // (yaml-cpp: a missing key is a "zombie" node that throws on reset/assign, so pick by copy.)
  const bool own_kind = static_cast<bool>(node["kind"]);
  const bool default_kind = !own_kind && defaults.IsMap() && defaults["kind"];
  const YAML::Node kind_node = own_kind       ? node["kind"]
                               : default_kind ? defaults["kind"]
                                              : YAML::Node();
  const std::string kind_path = own_kind || !default_kind ? path + ".kind" : "defaults.kind";
  const std::vector<std::string> known_kinds = kind_names(kinds);
  const KindConfig* kind = nullptr;
  if (!own_kind && !default_kind) {
    v.error(path, "missing required key \"kind\" (one of " + join(known_kinds, ", ") + ")");
  } else if (auto k = v.non_empty_string(kind_node, kind_path)) {
    t.kind = *k;
    kind = find_kind(kinds, t.kind);
    if (kind == nullptr) {
      v.error(kind_path, "unknown kind \"" + t.kind + "\"" + did_you_mean(t.kind, known_kinds) +
                             ": expected one of " + join(known_kinds, ", "));
    }
  }
  if (!node["name"]) v.error(path, "missing required key \"name\"");
  if (kind != nullptr && kind->init) kind->init(t);

  const std::vector<std::string> everything = all_target_keys(kinds);
  const std::vector<std::string> allowed = kind != nullptr ? allowed_keys_for(*kind) : everything;
  // A default the target's own keys replace rather than combine with (postgres: query/table).
  auto replaced = [&](const std::string& key) {
    return kind != nullptr && kind->default_replaced && kind->default_replaced(key, node);
  };

  // Defaults first, so the target's own keys override them.
  if (kind != nullptr && defaults.IsMap()) {
    for (auto it = defaults.begin(); it != defaults.end(); ++it) {
      const std::string key = it->first.Scalar();
      if (key == "kind" || key == "name" || !contains(allowed, key) || node[key] || replaced(key)) {
        continue;
      }
      apply_target_key(v, kinds, kind, key, it->second, "defaults." + key, t);
    }
  }
  v.each_key(
      node, path, allowed,
      [&](const std::string& key, const YAML::Node& n, const std::string& p) {
        if (key == "kind") return;
        if (key == "name") {
          if (auto s = v.non_empty_string(n, p)) {
            static const std::regex kName("[A-Za-z0-9_.-]+");
            if (!std::regex_match(*s, kName)) {
              v.error(p, "invalid name \"" + *s + "\" (allowed: letters, digits, _ . -)");
            } else {
              t.name = *s;
            }
          }
          return;
        }
        apply_target_key(v, kinds, kind, key, n, p, t);
      },
      [&](const std::string& key) -> std::optional<std::string> {
        if (kind != nullptr && contains(everything, key)) {
          return "key not allowed for kind " + t.kind;
        }
        return std::nullopt;
      });
  if (kind != nullptr && kind->check_required) {
    const KeyPresent present = [&](const std::string& key) {
      if (node[key]) return true;
      return defaults.IsMap() && defaults[key] && !replaced(key);
    };
    kind->check_required(v, present, path);
  }
  return t;
}

}  // namespace

namespace {

// The document, or an error (syntax, empty, not a mapping) in `errors`.
std::optional<YAML::Node> load_root(const std::string& yaml_text, std::vector<ConfigError>& errors) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    // yaml-cpp marks are 0-based; editors count from 1.
    std::ostringstream msg;
    msg << "yaml syntax error at line " << e.mark.line + 1 << ", column " << e.mark.column + 1
        << ": " << e.msg;
    errors.push_back({"", msg.str()});
    return std::nullopt;
  }
  if (root.IsNull()) {
    errors.push_back({"", "config is empty: expected a mapping with a \"targets\" list"});
    return std::nullopt;
  }
  if (!root.IsMap()) {
    errors.push_back({"", "expected a mapping at the top level, got " + Validator::describe(root)});
    return std::nullopt;
  }
  return root;
}

// The top-level keys other than `targets`: anomalies, state_dir, and `defaults` (checked here
// once, applied per target). Returns the defaults node (null when absent).
YAML::Node parse_top_level(Validator& v, const std::vector<const KindConfig*>& kinds,
                           const YAML::Node& root, Config& config) {
  YAML::Node defaults;
  v.each_key(root, "", kTopLevelKeys,
             [&](const std::string& key, const YAML::Node& n, const std::string& p) {
    if (key == "anomalies") {
      parse_thresholds(v, n, p, config.thresholds);
    } else if (key == "state_dir") {
      if (auto s = v.non_empty_string(n, p)) config.state_dir = *s;
    } else if (key == "defaults") {
      if (!v.expect_map(n, p)) return;
      defaults.reset(n);
      // Defaults are checked here once; their values are applied (and checked) per target.
      std::vector<std::string> allowed = all_target_keys(kinds);
      allowed.erase(std::remove(allowed.begin(), allowed.end(), "name"), allowed.end());
      allowed.erase(std::remove(allowed.begin(), allowed.end(), "anomalies"), allowed.end());
      v.each_key(n, p, allowed, [](const std::string&, const YAML::Node&, const std::string&) {},
                 [](const std::string& key) -> std::optional<std::string> {
                   if (key == "name") return "not allowed in defaults (names are per target)";
                   if (key == "anomalies") {
                     return "not allowed in defaults (use the top-level \"anomalies:\")";
                   }
                   return std::nullopt;
                 });
    }
  });

  return defaults;
}

// Every target, in order; duplicate names are errors.
void parse_targets(Validator& v, const std::vector<const KindConfig*>& kinds, const YAML::Node& root,
                   const YAML::Node& defaults, Config& config) {
  const YAML::Node targets = root["targets"];
  if (!targets) {
    v.error("", "missing required key \"targets\"");
  } else if (!targets.IsSequence()) {
    v.error("targets", "expected a list of targets, got " + Validator::describe(targets));
  } else if (targets.size() == 0) {
    v.error("targets", "at least one target is required");
  } else {
    std::map<std::string, size_t> names;
    for (size_t i = 0; i < targets.size(); ++i) {
      const std::string path = "targets[" + std::to_string(i) + "]";
      auto t = parse_target(v, kinds, targets[i], defaults, path, config.thresholds);
      if (!t) continue;
      if (!t->name.empty()) {
        auto [it, inserted] = names.emplace(t->name, i);
        if (!inserted) {
          v.error(path + ".name", "duplicate target name \"" + t->name + "\" (also targets[" +
                                      std::to_string(it->second) + "])");
        }
      }
      config.targets.push_back(std::move(*t));
    }
  }

}

}  // namespace

ConfigResult parse_config_for(const std::vector<const KindConfig*>& kinds, const std::string& yaml_text,
                             const std::string& source_name) {
  ConfigResult result;
  const std::optional<YAML::Node> root = load_root(yaml_text, result.errors);
  if (!root) return result;
  Validator v;
  Config config;
  config.source_path = source_name;
  const YAML::Node defaults = parse_top_level(v, kinds, *root, config);
  parse_targets(v, kinds, *root, defaults, config);
  result.errors = v.take();
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

ConfigResult load_config_for(const std::vector<const KindConfig*>& kinds, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigResult r;
    r.errors.push_back({"", "cannot read " + path + ": " + std::strerror(errno)});
    return r;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config_for(kinds, text.str(), path);
}

}  // namespace ttla
