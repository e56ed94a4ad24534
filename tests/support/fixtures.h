#pragma once
// Recorded fixtures under tests/fixtures/<area>/ (TTLA_SOURCE_DIR is set for every test binary).
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "support/files.h"

namespace ttla::testing {

inline std::filesystem::path fixture_path(const std::string& area, const std::string& name) {
  return std::filesystem::path(TTLA_SOURCE_DIR) / "tests/fixtures" / area / name;
}

// The bytes of tests/fixtures/<area>/<name>; a missing or empty fixture fails the test.
inline std::string fixture(const std::string& area, const std::string& name) {
  std::string text = read_file(fixture_path(area, name));
  EXPECT_FALSE(text.empty()) << "fixture " << area << "/" << name << " missing or empty";
  return text;
}

}  // namespace ttla::testing
