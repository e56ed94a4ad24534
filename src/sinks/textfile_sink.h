#pragma once
// node_exporter textfile collector output: the whole metric model in one *.prom file, replaced
// atomically. A failed target keeps the success timestamp the previous file had for it.
#include <string>

#include "core/report.h"

namespace ttla {

void write_textfile(const Report& report, const std::string& path);

}  // namespace ttla
