#pragma once
// kind: postgres — the settings of a postgres target. Its row of the kind table (keys, readers,
// help) is postgres_kind.cc; the audit is postgres_source.cc.
#include <cstdint>
#include <optional>
#include <string>

#include "config/config.h"

namespace ttla {

struct PostgresTargetConfig {
  std::string dsn;
  std::string table;
  std::string query;  // instead of table: returns (key, timestamp)
  std::string timestamp_column;
  std::string key_column;
  // Empty: a date/time column. seconds | milliseconds: an integer (or numeric) epoch column.
  std::string timestamp_unit;
  std::string where;
  std::optional<double> sample;
  int64_t statement_timeout = 300;  // seconds
};

// The settings of a postgres target (`postgres_config(target).field`).
inline const PostgresTargetConfig& postgres_config(const TargetConfig& t) { return t.kind_config<PostgresTargetConfig>(); }
inline PostgresTargetConfig& postgres_config(TargetConfig& t) { return t.kind_config<PostgresTargetConfig>(); }

}  // namespace ttla
