#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "core/suggest.h"
#include "core/time.h"

namespace ttla {
namespace {

// ---------------------------------------------------------------------------------------------
// Key tables. The kind token is the config key, the registry key and the `kind` label.

const std::vector<std::string>& known_kinds() {
  static const std::vector<std::string> kinds = {"dynamodb", "s3", "postgres", "filesystem", "sqs"};
  return kinds;
}

// Keys every target accepts.
const std::vector<std::string> kCommonKeys = {"name", "kind", "anomalies", "top_k", "redact_keys"};

const std::map<std::string, std::vector<std::string>>& kind_keys() {
  static const std::map<std::string, std::vector<std::string>> keys = {
      {"dynamodb",
       {"table", "region", "endpoint_url", "profile", "role_arn", "external_id", "ttl_attribute", "filter", "group_by", "sample",
        "segments", "max_read_units_per_second", "max_read_units", "cloudwatch", "tables",
        "cloudwatch_endpoint_url", "deletion_window", "request_timeout", "connect_timeout",
        "max_duration", "latency_track_keys", "latency_stream"}},
      {"s3",
       {"bucket", "prefix", "region", "endpoint_url", "profile", "role_arn", "external_id", "path_style", "retention",
        "multipart_max_age", "noncurrent_retention", "group_by", "orphans", "max_requests",
        "read_tags", "request_timeout", "connect_timeout", "max_duration", "latency_track_keys", "buckets"}},
      {"postgres",
       {"dsn", "table", "query", "timestamp_column", "key_column", "retention", "where", "sample",
        "statement_timeout", "timestamp_unit", "connect_timeout"}},
      {"filesystem", {"path", "retention", "pattern", "orphans", "max_duration"}},
      {"sqs",
       {"queue_url", "queue", "account", "region", "endpoint_url", "profile", "role_arn",
        "external_id", "cloudwatch", "cloudwatch_endpoint_url", "request_timeout", "connect_timeout"}},
  };
  return keys;
}

const std::vector<std::string> kTopLevelKeys = {"defaults", "targets", "anomalies", "state_dir"};
const std::vector<std::string> kAnomalyKeys = {"expired_backlog", "oldest_overdue", "ttl_hygiene",
                                               "stale_multipart", "backlog_growth", "history_runs",
                                               "dlq_depth", "orphan_files"};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::string> allowed_keys_for(const std::string& kind) {
  std::vector<std::string> out = kCommonKeys;
  auto it = kind_keys().find(kind);
  if (it != kind_keys().end()) out.insert(out.end(), it->second.begin(), it->second.end());
  return out;
}

std::vector<std::string> all_target_keys() {
  std::vector<std::string> out = kCommonKeys;
  for (const auto& [kind, keys] : kind_keys()) {
    for (const auto& k : keys) {
      if (!contains(out, k)) out.push_back(k);
    }
  }
  return out;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  const auto best = closest_match(word, candidates);
  return best ? " (did you mean \"" + *best + "\"?)" : "";
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
// Error collection and typed scalar readers. Every reader reports its own problem and returns
// nullopt, so one bad value never stops validation of the rest.

class Validator {
 public:
  void error(const std::string& path, const std::string& message) {
    ConfigError e{path, message};
    const std::string key = e.str();
    // Defaults are applied to every target; their problems are reported once.
    if (seen_.insert(key).second) errors_.push_back(std::move(e));
  }
  std::vector<ConfigError> take() { return std::move(errors_); }
  bool empty() const { return errors_.empty(); }

  static std::string describe(const YAML::Node& n) {
    switch (n.Type()) {
      case YAML::NodeType::Null:
        return "null";
      case YAML::NodeType::Scalar:
        return "\"" + n.Scalar() + "\"";
      case YAML::NodeType::Sequence:
        return "a list";
      case YAML::NodeType::Map:
        return "a mapping";
      default:
        return "nothing";
    }
  }

  // `${VAR}` from the environment; `${VAR:-default}` when unset or empty; `$${` is a literal `${`.
  std::optional<std::string> interpolate(const std::string& text, const std::string& path) {
    std::string out;
    out.reserve(text.size());
    bool ok = true;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text.compare(i, 3, "$${") == 0) {
        out += "${";
        i += 2;
        continue;
      }
      if (text.compare(i, 2, "${") != 0) {
        out += text[i];
        continue;
      }
      const size_t close = text.find('}', i + 2);
      if (close == std::string::npos) {
        error(path, "unterminated \"${\" (write \"$${\" for a literal \"${\")");
        return std::nullopt;
      }
      std::string inner = text.substr(i + 2, close - i - 2);
      std::optional<std::string> fallback;
      if (const size_t dash = inner.find(":-"); dash != std::string::npos) {
        fallback = inner.substr(dash + 2);
        inner = inner.substr(0, dash);
      }
      static const std::regex kVarName("[A-Za-z_][A-Za-z0-9_]*");
      if (!std::regex_match(inner, kVarName)) {
        error(path, "invalid environment variable name \"" + inner + "\" in \"${...}\"");
        ok = false;
      } else {
        const char* value = std::getenv(inner.c_str());
        if (value != nullptr && (*value != '\0' || !fallback)) {
          out += value;
        } else if (fallback) {
          out += *fallback;
        } else {
          error(path, "environment variable " + inner + " is not set");
          ok = false;
        }
      }
      i = close;
    }
    if (!ok) return std::nullopt;
    return out;
  }

  bool expect_map(const YAML::Node& n, const std::string& path) {
    if (n.IsMap()) return true;
    error(path, "expected a mapping, got " + describe(n));
    return false;
  }

  std::optional<std::string> string(const YAML::Node& n, const std::string& path) {
    if (!n.IsScalar()) {
      error(path, "expected a string, got " + describe(n));
      return std::nullopt;
    }
    return interpolate(n.Scalar(), path);
  }

  std::optional<std::string> non_empty_string(const YAML::Node& n, const std::string& path) {
    auto s = string(n, path);
    if (s && s->empty()) {
      error(path, "must not be empty");
      return std::nullopt;
    }
    return s;
  }

  std::optional<int64_t> duration(const YAML::Node& n, const std::string& path) {
    if (!n.IsScalar()) {
      error(path, "expected a duration like 7d, got " + describe(n));
      return std::nullopt;
    }
    auto text = interpolate(n.Scalar(), path);
    if (!text) return std::nullopt;
    auto d = parse_duration(*text);
    if (!d) {
      error(path, "expected a duration like 7d, got \"" + *text + "\"");
      return std::nullopt;
    }
    return d;
  }

  // A number in [lo, hi] (or (lo, hi] when lo_open). `range` is how the range reads in messages.
  std::optional<double> number(const YAML::Node& n, const std::string& path, double lo, double hi,
                               bool lo_open, const std::string& range) {
    if (!n.IsScalar()) {
      error(path, "expected a number " + range + ", got " + describe(n));
      return std::nullopt;
    }
    auto text = interpolate(n.Scalar(), path);
    if (!text) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    const double v = text->empty() ? 0 : std::strtod(text->c_str(), &end);
    if (text->empty() || end != text->c_str() + text->size() || errno == ERANGE ||
        !std::isfinite(v) || (lo_open ? v <= lo : v < lo) || v > hi) {
      error(path, "expected a number " + range + ", got \"" + *text + "\"");
      return std::nullopt;
    }
    return v;
  }

  std::optional<int64_t> integer(const YAML::Node& n, const std::string& path, int64_t lo,
                                 int64_t hi) {
    const std::string range = hi == INT64_MAX ? ">= " + std::to_string(lo)
                                              : std::to_string(lo) + ".." + std::to_string(hi);
    if (!n.IsScalar()) {
      error(path, "expected an integer " + range + ", got " + describe(n));
      return std::nullopt;
    }
    auto text = interpolate(n.Scalar(), path);
    if (!text) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    const long long v = text->empty() ? 0 : std::strtoll(text->c_str(), &end, 10);
    if (text->empty() || end != text->c_str() + text->size() || errno == ERANGE || v < lo ||
        v > hi) {
      error(path, "expected an integer " + range + ", got \"" + *text + "\"");
      return std::nullopt;
    }
    return v;
  }

  std::optional<bool> boolean(const YAML::Node& n, const std::string& path) {
    if (n.IsScalar()) {
      auto text = interpolate(n.Scalar(), path);
      if (!text) return std::nullopt;
      if (*text == "true") return true;
      if (*text == "false") return false;
      error(path, "expected true or false, got \"" + *text + "\"");
      return std::nullopt;
    }
    error(path, "expected true or false, got " + describe(n));
    return std::nullopt;
  }

  // Iterates a mapping in document order, rejecting duplicate and unknown keys. `f` receives
  // each known key. `not_here` lists keys that exist elsewhere but not in this context.
  void each_key(const YAML::Node& map, const std::string& path,
                const std::vector<std::string>& allowed,
                const std::function<void(const std::string&, const YAML::Node&,
                                         const std::string&)>& f,
                const std::function<std::optional<std::string>(const std::string&)>& not_here =
                    nullptr) {
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string("?");
      const std::string child = path.empty() ? key : path + "." + key;
      if (!seen.insert(key).second) {
        error(child, "duplicate key");
        continue;
      }
      if (!contains(allowed, key)) {
        std::optional<std::string> why = not_here ? not_here(key) : std::nullopt;
        if (why) {
          error(child, *why);
        } else {
          error(child, "unknown key" + did_you_mean(key, allowed));
        }
        continue;
      }
      f(key, it->second, child);
    }
  }

 private:
  std::vector<ConfigError> errors_;
  std::set<std::string> seen_;
};

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
// Nested target sections.

// DynamoDB AttributeValue from YAML: scalars become strings (DynamoDB carries N as text), except
// BOOL and NULL which are JSON booleans.
nlohmann::json attribute_value(Validator& v, const YAML::Node& n, const std::string& path) {
  static const std::vector<std::string> kTypes = {"S", "N", "B", "BOOL", "NULL",
                                                  "SS", "NS", "BS", "L", "M"};
  if (!n.IsMap() || n.size() != 1) {
    v.error(path, "expected a DynamoDB attribute value like {S: text} or {N: \"5\"}, got " +
                      Validator::describe(n));
    return nullptr;
  }
  const std::string type = n.begin()->first.Scalar();
  const YAML::Node val = n.begin()->second;
  const std::string p = path + "." + type;
  if (!contains(kTypes, type)) {
    v.error(p, "unknown attribute value type" + did_you_mean(type, kTypes) +
                   " (expected one of " + join(kTypes, ", ") + ")");
    return nullptr;
  }
  nlohmann::json out = nlohmann::json::object();
  if (type == "BOOL" || type == "NULL") {
    auto b = v.boolean(val, p);
    if (b) out[type] = *b;
  } else if (type == "SS" || type == "NS" || type == "BS") {
    if (!val.IsSequence()) {
      v.error(p, "expected a list, got " + Validator::describe(val));
      return nullptr;
    }
    nlohmann::json arr = nlohmann::json::array();
    for (size_t i = 0; i < val.size(); ++i) {
      if (auto s = v.string(val[i], p + "[" + std::to_string(i) + "]")) arr.push_back(*s);
    }
    out[type] = arr;
  } else if (type == "L") {
    if (!val.IsSequence()) {
      v.error(p, "expected a list, got " + Validator::describe(val));
      return nullptr;
    }
    nlohmann::json arr = nlohmann::json::array();
    for (size_t i = 0; i < val.size(); ++i) {
      arr.push_back(attribute_value(v, val[i], p + "[" + std::to_string(i) + "]"));
    }
    out[type] = arr;
  } else if (type == "M") {
    if (!v.expect_map(val, p)) return nullptr;
    nlohmann::json m = nlohmann::json::object();
    for (auto it = val.begin(); it != val.end(); ++it) {
      const std::string k = it->first.Scalar();
      m[k] = attribute_value(v, it->second, p + "." + k);
    }
    out[type] = m;
  } else {
    if (auto s = v.string(val, p)) out[type] = *s;
  }
  return out;
}

void parse_filter(Validator& v, const YAML::Node& n, const std::string& path, TargetConfig& t) {
  if (!v.expect_map(n, path)) return;
  DynamoFilter f;
  bool has_expression = false;
  v.each_key(n, path, {"expression", "names", "values"},
             [&](const std::string& key, const YAML::Node& x, const std::string& p) {
    if (key == "expression") {
      if (auto s = v.non_empty_string(x, p)) f.expression = *s;
      has_expression = true;
    } else if (key == "names") {
      if (!v.expect_map(x, p)) return;
      for (auto it = x.begin(); it != x.end(); ++it) {
        const std::string k = it->first.Scalar();
        const std::string q = p + "." + k;
        if (k.empty() || k[0] != '#') v.error(q, "expression attribute names start with \"#\"");
        if (auto s = v.non_empty_string(it->second, q)) f.names[k] = *s;
      }
    } else {
      if (!v.expect_map(x, p)) return;
      for (auto it = x.begin(); it != x.end(); ++it) {
        const std::string k = it->first.Scalar();
        const std::string q = p + "." + k;
        if (k.empty() || k[0] != ':') v.error(q, "expression attribute values start with \":\"");
        f.values[k] = attribute_value(v, it->second, q);
      }
    }
  });
  if (!has_expression) v.error(path, "missing required key \"expression\"");
  t.filter = std::move(f);
}

void parse_group_by(Validator& v, const YAML::Node& n, const std::string& path, TargetConfig& t) {
  if (!v.expect_map(n, path)) return;
  GroupBy g;
  if (t.kind == "s3") {
    g.delimiter = "/";
    v.each_key(n, path, {"delimiter", "depth"},
               [&](const std::string& key, const YAML::Node& x, const std::string& p) {
      if (key == "delimiter") {
        if (auto s = v.non_empty_string(x, p)) g.delimiter = *s;
      } else {
        if (auto i = v.integer(x, p, 1, 100)) g.depth = static_cast<int>(*i);
      }
    });
  } else {
    v.each_key(n, path, {"attribute", "split", "part", "format"},
               [&](const std::string& key, const YAML::Node& x, const std::string& p) {
      if (key == "attribute") {
        if (auto s = v.non_empty_string(x, p)) g.attribute = *s;
      } else if (key == "split") {
        if (auto s = v.non_empty_string(x, p)) g.split = *s;
      } else if (key == "part") {
        if (auto i = v.integer(x, p, 0, 1000)) g.part = static_cast<int>(*i);
      } else {
        if (auto s = v.non_empty_string(x, p)) g.format = *s;
      }
    });
    if (!n["attribute"] && !n["format"]) {
      v.error(path, "missing required key \"attribute\" (or \"format\")");
    }
  }
  t.group_by = std::move(g);
}

// filesystem `orphans: {dsn, query, min_age, statement_timeout}`.
void parse_file_orphans(Validator& v, const YAML::Node& n, const std::string& path, TargetConfig& t) {
  Orphans o;
  v.each_key(n, path, {"dsn", "query", "min_age", "statement_timeout"},
             [&](const std::string& key, const YAML::Node& x, const std::string& p) {
    if (key == "dsn" || key == "query") {
      if (auto s = v.non_empty_string(x, p)) (key == "dsn" ? o.dsn : o.query) = *s;
    } else if (auto d = v.duration(x, p)) {
      (key == "min_age" ? o.min_age : o.statement_timeout) = *d;
    }
  });
  for (const char* required : {"dsn", "query"}) {
    if (!n[required]) v.error(path, std::string("missing required key \"") + required + "\"");
  }
  t.orphans = std::move(o);
}

void parse_orphans(Validator& v, const YAML::Node& n, const std::string& path, TargetConfig& t) {
  if (!v.expect_map(n, path)) return;
  if (t.kind == "filesystem") return parse_file_orphans(v, n, path, t);
  Orphans o;
  v.each_key(n, path, {"key_regex", "dynamodb_table", "key_attribute", "min_age", "endpoint_url"},
             [&](const std::string& key, const YAML::Node& x, const std::string& p) {
    if (key == "key_regex") {
      auto s = v.non_empty_string(x, p);
      if (!s) return;
      try {
        std::regex re(*s);
        if (re.mark_count() < 1) {
          v.error(p, "needs a capture group for the id, e.g. \"^uploads/([^/]+)/\"");
        }
      } catch (const std::regex_error& e) {
        v.error(p, "invalid regular expression: " + std::string(e.what()));
      }
      o.key_regex = *s;
    } else if (key == "dynamodb_table") {
      if (auto s = v.non_empty_string(x, p)) o.dynamodb_table = *s;
    } else if (key == "key_attribute") {
      if (auto s = v.non_empty_string(x, p)) o.key_attribute = *s;
    } else if (key == "endpoint_url") {
      if (auto s = v.non_empty_string(x, p)) o.endpoint_url = *s;
    } else {
      if (auto d = v.duration(x, p)) o.min_age = *d;
    }
  });
  for (const char* required : {"key_regex", "dynamodb_table", "key_attribute"}) {
    if (!n[required]) v.error(path, std::string("missing required key \"") + required + "\"");
  }
  t.orphans = std::move(o);
}

// One key of a target (or of `defaults:` applied to it).
void apply_target_key(Validator& v, const std::string& key, const YAML::Node& n,
                      const std::string& p, TargetConfig& t) {
  auto str = [&](std::string& field) {
    if (auto s = v.non_empty_string(n, p)) field = *s;
  };
  auto dur = [&](std::optional<int64_t>& field) {
    if (auto d = v.duration(n, p)) field = *d;
  };
  if (key == "anomalies") {
    parse_thresholds(v, n, p, t.thresholds);
  } else if (key == "top_k") {
    if (auto i = v.integer(n, p, 1, 1000)) t.top_k = static_cast<int>(*i);
  } else if (key == "redact_keys") {
    if (auto b = v.boolean(n, p)) t.redact_keys = *b;
  } else if (key == "latency_track_keys") {
    if (auto i = v.integer(n, p, 0, 100000)) t.latency_track_keys = static_cast<int>(*i);
  } else if (key == "region") {
    str(t.region);
  } else if (key == "endpoint_url" || key == "cloudwatch_endpoint_url") {
    auto s = v.non_empty_string(n, p);
    if (!s) return;
    if (s->rfind("http://", 0) != 0 && s->rfind("https://", 0) != 0) {
      v.error(p, "expected a URL starting with http:// or https://, got \"" + *s + "\"");
      return;
    }
    (key == "endpoint_url" ? t.endpoint_url : t.cloudwatch_endpoint_url) = *s;
  } else if (key == "tables" || key == "buckets") {
    const std::string what = key == "tables" ? "table" : "bucket";
    TableSelector sel;
    if (n.IsScalar()) {
      if (n.Scalar() != "all") {
        v.error(p, "expected \"all\" or {include: [glob], exclude: [glob]}, got \"" + n.Scalar() +
                       "\"");
        return;
      }
      (key == "tables" ? t.tables : t.buckets) = sel;
      return;
    }
    if (!v.expect_map(n, p)) return;
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
    if (ok) (key == "tables" ? t.tables : t.buckets) = sel;
  } else if (key == "cloudwatch") {
    if (auto b = v.boolean(n, p)) t.cloudwatch = *b;
  } else if (key == "latency_stream") {
    if (auto b = v.boolean(n, p)) t.latency_stream = *b;
  } else if (key == "deletion_window") {
    auto d = v.duration(n, p);
    if (!d) return;
    if (*d < 3600 || *d % 3600 != 0 || *d > 90 * 86400) {
      v.error(p, "expected whole hours between 1h and 90d (CloudWatch hourly sums), got " +
                     format_duration(*d));
      return;
    }
    t.deletion_window = *d;
  } else if (key == "profile") {
    str(t.profile);
  } else if (key == "role_arn") {
    auto s = v.non_empty_string(n, p);
    if (!s) return;
    if (s->rfind("arn:", 0) != 0 || s->find(":role/") == std::string::npos) {
      v.error(p, "expected an IAM role ARN like arn:aws:iam::123456789012:role/name, got \"" + *s + "\"");
      return;
    }
    t.role_arn = *s;
  } else if (key == "external_id") {
    str(t.external_id);
  } else if (key == "path_style") {
    if (auto b = v.boolean(n, p)) t.path_style = *b;
  } else if (key == "table") {
    str(t.table);
  } else if (key == "ttl_attribute") {
    str(t.ttl_attribute);
  } else if (key == "filter") {
    parse_filter(v, n, p, t);
  } else if (key == "group_by") {
    parse_group_by(v, n, p, t);
  } else if (key == "sample") {
    if (auto d = v.number(n, p, 0, 1, true, "in (0, 1]")) t.sample = *d;
  } else if (key == "segments") {
    if (auto i = v.integer(n, p, 1, 1000000)) t.segments = static_cast<int>(*i);
  } else if (key == "max_read_units_per_second") {
    if (auto d = v.number(n, p, 0, 1e15, true, "> 0")) t.max_read_units_per_second = *d;
  } else if (key == "max_read_units") {
    if (auto d = v.number(n, p, 0, 1e18, true, "> 0")) t.max_read_units = *d;
  } else if (key == "bucket") {
    auto s = v.non_empty_string(n, p);
    if (!s) return;
    static const std::regex kBucket("[A-Za-z0-9._-]{1,255}");
    if (!std::regex_match(*s, kBucket)) {
      v.error(p, "invalid bucket name \"" + *s + "\" (a bare name, no s3:// or slashes)");
      return;
    }
    t.bucket = *s;
  } else if (key == "prefix") {
    if (auto s = v.string(n, p)) t.prefix = *s;
  } else if (key == "retention") {
    dur(t.retention);
  } else if (key == "multipart_max_age") {
    dur(t.multipart_max_age);
  } else if (key == "noncurrent_retention") {
    dur(t.noncurrent_retention);
  } else if (key == "orphans") {
    parse_orphans(v, n, p, t);
  } else if (key == "max_requests") {
    if (auto i = v.integer(n, p, 1, INT64_MAX)) t.max_requests = static_cast<uint64_t>(*i);
  } else if (key == "read_tags") {
    if (auto i = v.integer(n, p, 0, INT64_MAX)) t.read_tags = static_cast<uint64_t>(*i);
  } else if (key == "dsn") {
    str(t.dsn);
  } else if (key == "query") {
    str(t.query);
  } else if (key == "timestamp_column") {
    str(t.timestamp_column);
  } else if (key == "key_column") {
    str(t.key_column);
  } else if (key == "timestamp_unit") {
    auto s = v.string(n, p);
    if (!s) return;
    if (*s != "seconds" && *s != "milliseconds") {
      v.error(p, "expected seconds or milliseconds (integer epoch columns), got \"" + *s + "\"");
      return;
    }
    t.timestamp_unit = *s;
  } else if (key == "where") {
    str(t.where);
  } else if (key == "statement_timeout") {
    if (auto d = v.duration(n, p)) t.statement_timeout = *d;
  } else if (key == "queue_url") {
    auto s = v.non_empty_string(n, p);
    if (!s) return;
    static const std::regex kQueueUrl(R"(https?://[^/\s]+/[0-9A-Za-z]+/[A-Za-z0-9_-]{1,80}(\.fifo)?/?)");
    if (!std::regex_match(*s, kQueueUrl)) {
      v.error(p, "expected a queue URL like https://sqs.us-east-1.amazonaws.com/123456789012/name, got \"" +
                     *s + "\"");
      return;
    }
    t.queue_url = *s;
  } else if (key == "queue") {
    auto s = v.non_empty_string(n, p);
    if (!s) return;
    static const std::regex kQueueName("[A-Za-z0-9_-]{1,80}(\\.fifo)?");
    if (!std::regex_match(*s, kQueueName)) {
      v.error(p, "invalid queue name \"" + *s + "\" (1-80 letters, digits, - and _, optional .fifo)");
      return;
    }
    t.queue = *s;
  } else if (key == "account") {
    auto s = v.non_empty_string(n, p);
    if (!s) return;
    static const std::regex kAccount("[0-9]{12}");
    if (!std::regex_match(*s, kAccount)) {
      v.error(p, "expected a 12-digit AWS account id, got \"" + *s + "\"");
      return;
    }
    t.queue_account = *s;
  } else if (key == "request_timeout" || key == "connect_timeout" || key == "max_duration") {
    auto d = v.duration(n, p);
    if (!d) return;
    if (*d <= 0) {
      v.error(p, "expected a positive duration like 30s, got " + format_duration(*d));
      return;
    }
    if (key == "request_timeout") t.request_timeout = *d;
    else if (key == "connect_timeout") t.connect_timeout = *d;
    else t.max_duration = *d;
  } else if (key == "path") {
    str(t.path);
  } else if (key == "pattern") {
    str(t.pattern);
  }
}

void check_required(Validator& v, const YAML::Node& target, const YAML::Node& defaults,
                    const std::string& path, const TargetConfig& t) {
  auto present = [&](const char* key) {
    if (target[key]) return true;
    if (!defaults.IsMap() || !defaults[key]) return false;
    const std::string k = key;
    if (t.kind == "postgres" && ((k == "table" && target["query"]) || (k == "query" && target["table"]))) {
      return false;  // skipped when merging, see parse_target
    }
    return true;
  };
  auto require = [&](const char* key) {
    if (!present(key)) {
      v.error(path, std::string("missing required key \"") + key + "\" (kind " + t.kind + ")");
    }
  };
  if (t.kind == "dynamodb") {
    if (present("table") && present("tables")) {
      v.error(path, "\"table\" and \"tables\" are mutually exclusive (kind dynamodb)");
    } else if (!present("tables")) {
      require("table");
    }
  } else if (t.kind == "s3") {
    if (present("bucket") && present("buckets")) {
      v.error(path, "\"bucket\" and \"buckets\" are mutually exclusive (kind s3)");
    } else if (!present("buckets")) {
      require("bucket");
    }
  } else if (t.kind == "filesystem") {
    require("path");
    require("retention");
  } else if (t.kind == "sqs") {
    const bool has_url = present("queue_url");
    if (has_url && present("queue")) {
      v.error(path, "\"queue_url\" and \"queue\" are mutually exclusive (kind sqs)");
    } else if (!has_url && !present("queue")) {
      v.error(path, "kind sqs needs \"queue_url\", or \"queue\" (a name resolved with GetQueueUrl)");
    } else if (has_url && present("account")) {
      v.error(path, "\"account\" goes with \"queue\"; a queue_url already names its account");
    }
  } else if (t.kind == "postgres") {
    require("dsn");
    const bool has_query = present("query");
    const bool has_table = present("table");
    if (has_query && has_table) {
      v.error(path, "\"query\" and \"table\" are mutually exclusive (kind postgres)");
    } else if (has_table) {
      require("timestamp_column");
    } else if (!has_query) {
      v.error(path,
              "kind postgres needs \"table\" and \"timestamp_column\", or \"query\"");
    }
  }
}

std::optional<TargetConfig> parse_target(Validator& v, const YAML::Node& node,
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
  bool kind_known = false;
  if (!own_kind && !default_kind) {
    v.error(path, "missing required key \"kind\" (one of " + join(known_kinds(), ", ") + ")");
  } else if (auto k = v.non_empty_string(kind_node, kind_path)) {
    t.kind = *k;
    kind_known = contains(known_kinds(), t.kind);
    if (!kind_known) {
      v.error(kind_path, "unknown kind \"" + t.kind + "\"" + did_you_mean(t.kind, known_kinds()) +
                             ": expected one of " + join(known_kinds(), ", "));
    }
  }
  if (!node["name"]) v.error(path, "missing required key \"name\"");

  const std::vector<std::string> allowed = kind_known ? allowed_keys_for(t.kind) : all_target_keys();
  const std::vector<std::string> everything = all_target_keys();

  // Defaults first, so the target's own keys override them.
  if (kind_known && defaults.IsMap()) {
    for (auto it = defaults.begin(); it != defaults.end(); ++it) {
      const std::string key = it->first.Scalar();
      if (key == "kind" || key == "name" || !contains(allowed, key) || node[key]) continue;
      // postgres: a target's own query (or table) replaces, not combines with, the other default.
      if (t.kind == "postgres" && ((key == "table" && node["query"]) || (key == "query" && node["table"]))) {
        continue;
      }
      apply_target_key(v, key, it->second, "defaults." + key, t);
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
        apply_target_key(v, key, n, p, t);
      },
      [&](const std::string& key) -> std::optional<std::string> {
        if (kind_known && contains(everything, key)) {
          return "key not allowed for kind " + t.kind;
        }
        return std::nullopt;
      });
  if (kind_known) check_required(v, node, defaults, path, t);
  return t;
}

}  // namespace

ConfigResult parse_config(const std::string& yaml_text, const std::string& source_name) {
  ConfigResult result;
  Validator v;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    // yaml-cpp marks are 0-based; editors count from 1.
    std::ostringstream msg;
    msg << "yaml syntax error at line " << e.mark.line + 1 << ", column " << e.mark.column + 1
        << ": " << e.msg;
    result.errors.push_back({"", msg.str()});
    return result;
  }

  Config config;
  config.source_path = source_name;
  if (root.IsNull()) {
    result.errors.push_back({"", "config is empty: expected a mapping with a \"targets\" list"});
    return result;
  }
  if (!root.IsMap()) {
    result.errors.push_back({"", "expected a mapping at the top level, got " +
                                     Validator::describe(root)});
    return result;
  }

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
      std::vector<std::string> allowed = all_target_keys();
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
      auto t = parse_target(v, targets[i], defaults, path, config.thresholds);
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

  result.errors = v.take();
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

ConfigResult load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigResult r;
    r.errors.push_back({"", "cannot read " + path + ": " + std::strerror(errno)});
    return r;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

}  // namespace ttla
