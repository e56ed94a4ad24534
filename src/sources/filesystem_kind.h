#pragma once
// kind: filesystem — the settings of a filesystem target. Its row of the kind table (keys,
// readers, help, rules) is filesystem_kind.cc; the audit is filesystem_source.cc.
#include <optional>
#include <string>

#include "config/config.h"

namespace ttla {

struct FilesystemTargetConfig {
  std::string path;
  std::string pattern;
  std::optional<Orphans> orphans;  // dsn, query, min_age, statement_timeout
};

// The settings of a filesystem target (`filesystem_config(target).field`).
inline const FilesystemTargetConfig& filesystem_config(const TargetConfig& t) { return t.kind_config<FilesystemTargetConfig>(); }
inline FilesystemTargetConfig& filesystem_config(TargetConfig& t) { return t.kind_config<FilesystemTargetConfig>(); }

}  // namespace ttla
