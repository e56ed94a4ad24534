#pragma once
// Crash-safe file replacement for every file output: write a temp file in the same directory,
// fsync it, rename it over the target, fsync the directory. Readers (node_exporter, dashboards,
// `cat latest.json`) see the old or the new content, never a torn one.
#include <string>

namespace ttla {

// Temp name is `<path>.<pid>` (node_exporter's textfile collector ignores it: not *.prom).
// Throws ttla::Error(kIo) naming the path on any failure; the temp file is removed.
void write_file_atomic(const std::string& path, const std::string& content);

}  // namespace ttla
