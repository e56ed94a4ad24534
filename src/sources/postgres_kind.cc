// kind: postgres — its row of the kind table: config keys and readers, required keys, help. The
// audit itself is in postgres_source.cc.
#include "core/time.h"
#include "sources/postgres_kind.h"
#include "sources/kinds.h"

namespace ttla {

std::unique_ptr<Source> make_postgres_source();

namespace {

using Own = PostgresTargetConfig;
Own& own(TargetConfig& t) { return postgres_config(t); }

std::vector<TargetKey> keys() {
  const OwnKeys<Own> k{own};
  return {
      k.text("dsn", &Own::dsn),
      k.text("table", &Own::table),
      k.text("query", &Own::query),
      k.text("timestamp_column", &Own::timestamp_column),
      k.text("key_column", &Own::key_column),
      common_key("retention"),
      k.text("where", &Own::where),
      k.read("sample", [](Validator& v, const YAML::Node& n, const std::string& p, Own& c) {
        if (auto d = v.number(n, p, 0, 1, true, "in (0, 1]")) c.sample = *d;
      }),
      k.read("statement_timeout", [](Validator& v, const YAML::Node& n, const std::string& p, Own& c) {
        if (auto d = v.duration(n, p)) c.statement_timeout = *d;
      }),
      k.read("timestamp_unit", [](Validator& v, const YAML::Node& n, const std::string& p, Own& c) {
        auto s = v.string(n, p);
        if (!s) return;
        if (*s != "seconds" && *s != "milliseconds") {
          v.error(p, "expected seconds or milliseconds (integer epoch columns), got \"" + *s + "\"");
          return;
        }
        c.timestamp_unit = *s;
      }),
      common_key("connect_timeout"),
  };
}

void check_required(Validator& v, const KeyPresent& present, const std::string& path) {
  require_key(v, present, path, "postgres", "dsn");
  const bool has_query = present("query");
  const bool has_table = present("table");
  if (has_query && has_table) {
    v.error(path, "\"query\" and \"table\" are mutually exclusive (kind postgres)");
  } else if (has_table) {
    require_key(v, present, path, "postgres", "timestamp_column");
  } else if (!has_query) {
    v.error(path, "kind postgres needs \"table\" and \"timestamp_column\", or \"query\"");
  }
}

// A target's own query (or table) replaces, not combines with, the other one from defaults.
bool default_replaced(const std::string& key, const YAML::Node& target) {
  return (key == "table" && target["query"]) || (key == "query" && target["table"]);
}

// What a target reads, for messages.
std::string scope(const TargetConfig& t) {
  const auto& c = postgres_config(t);
  std::string s;
  add_scope(s, "table", c.table);
  add_scope(s, "query", c.query);
  add_scope(s, "where", c.where);
  return s;
}

}  // namespace

const Kind& postgres_kind() {
  static const Kind kind = [] {
    Kind k;
    k.name = "postgres";
    k.help = "PostgreSQL table or query: rows past retention by a timestamp column (read only)";
    k.make = make_postgres_source;
    k.config = {"postgres", keys(), check_required, default_replaced, [](TargetConfig& t) { t.kind_config<PostgresTargetConfig>(); }};
    k.scope = scope;
    return k;
  }();
  return kind;
}

}  // namespace ttla
