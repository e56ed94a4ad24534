// kind: filesystem — its row of the kind table: config keys and readers, required keys, help and
// rules. The audit itself is in filesystem_source.cc.
#include "core/time.h"
#include "sources/filesystem_kind.h"
#include "sources/kinds.h"

namespace ttla {

std::unique_ptr<Source> make_filesystem_source();

namespace {

using Own = FilesystemTargetConfig;
Own& own(TargetConfig& t) { return filesystem_config(t); }

// `orphans: {dsn, query, min_age, statement_timeout}`: files (older than min_age) that `query` on
// `dsn` does not return.
void parse_orphans(Validator& v, const YAML::Node& n, const std::string& path, Own& t) {
  if (!v.expect_map(n, path)) return;
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

std::vector<TargetKey> keys() {
  const OwnKeys<Own> k{own};
  return {
      k.text("path", &Own::path),
      common_key("retention"),
      k.text("pattern", &Own::pattern),
      k.read("orphans", parse_orphans),
      common_key("max_duration"),
  };
}

void check_required(Validator& v, const KeyPresent& present, const std::string& path) {
  require_key(v, present, path, "filesystem", "path");
  require_key(v, present, path, "filesystem", "retention");
}

// What a target reads, for messages.
std::string scope(const TargetConfig& t) {
  const auto& c = filesystem_config(t);
  std::string s;
  add_scope(s, "path", c.path);
  add_scope(s, "pattern", c.pattern);
  return s;
}

}  // namespace

const Kind& filesystem_kind() {
  static const Kind kind = [] {
    Kind k;
    k.name = "filesystem";
    k.help = "files under a path older than retention (stat only), and files a database forgot";
    k.make = make_filesystem_source;
    k.config = {"filesystem", keys(), check_required, nullptr, [](TargetConfig& t) { t.kind_config<FilesystemTargetConfig>(); }};
    k.rules = {{"orphan_files", "warning", "orphans"}};
    k.scope = scope;
    return k;
  }();
  return kind;
}

}  // namespace ttla
