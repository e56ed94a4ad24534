#pragma once
// Error collection and typed scalar readers for the YAML config, shared by the config layer and
// each kind's key readers (sources/<kind>_kind.cc). Every reader reports its own problem with the
// value's path and returns nullopt, so one bad value never stops validation of the rest.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/time.h"

namespace ttla {

// " (did you mean \"x\"?)" when a candidate is close to `word`, else "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

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
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
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

}  // namespace ttla
