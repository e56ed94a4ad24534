#pragma once
// Validate a report against tests/schema/report.schema.json from any gtest:
//
//   EXPECT_TRUE(ValidatesAgainstReportSchema(report_json));
//
// Writes the JSON to a temporary file and runs tests/tools/validate_report.py with
// /usr/bin/python3 (Debian's, which has jsonschema); the failure message carries the script's
// output (each violation with its JSON path). Needs TTLA_SOURCE_DIR (set for every test target).
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/wait.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

// Global namespace on purpose: a `ttla::testing` namespace would shadow gtest's `testing` inside
// `namespace ttla` test files.
inline ::testing::AssertionResult ValidatesAgainstReportSchema(const nlohmann::json& report) {
  std::string path = "/tmp/ttla-report-XXXXXX.json";
  int fd = ::mkstemps(path.data(), 5);
  if (fd < 0) return ::testing::AssertionFailure() << "cannot create a temporary file";
  ::close(fd);
  {
    std::ofstream out(path);
    out << report.dump(2);
    if (!out) {
      std::remove(path.c_str());
      return ::testing::AssertionFailure() << "cannot write " << path;
    }
  }
  const std::string command = std::string("/usr/bin/python3 '") + TTLA_SOURCE_DIR +
                              "/tests/tools/validate_report.py' '" + path + "' 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    std::remove(path.c_str());
    return ::testing::AssertionFailure() << "cannot run: " << command;
  }
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) output.append(buf.data(), n);
  int status = ::pclose(pipe);
  std::remove(path.c_str());
  if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return ::testing::AssertionSuccess() << output;
  }
  return ::testing::AssertionFailure() << "report does not validate against tests/schema/report.schema.json"
                                       << " (exit " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1)
                                       << "):\n" << output;
}
