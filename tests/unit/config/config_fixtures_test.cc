// Config fixtures (YACE style): every tests/fixtures/config/NAME.ok.yaml must load without a
// problem; every NAME.bad.yaml must produce exactly the messages in NAME.bad.expected, one per
// line, in order. TTLA_UPDATE_GOLDEN=1 rewrites the .expected files (review the diff!).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "sources/kinds.h"

namespace fs = std::filesystem;

namespace {

const fs::path kFixtures = fs::path(TTLA_SOURCE_DIR) / "tests" / "fixtures" / "config";

// The environment the fixtures are written against.
void set_fixture_env() {
  setenv("TTLA_FIXTURE_TABLE", "UploadSessions", 1);
  unsetenv("TTLA_FIXTURE_PASSWORD");
  unsetenv("TTLA_FIXTURE_UNSET_STATE");
  unsetenv("TTLA_FIXTURE_UNSET_TABLE");
  unsetenv("TTLA_FIXTURE_UNSET_RETENTION");
}

std::vector<fs::path> fixtures(const std::string& suffix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kFixtures)) {
    const std::string name = e.path().filename().string();
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> read_lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

TEST(ConfigFixtures, EnoughBadFixtures) {
  // One per validation rule at least; a missing fixtures dir must not pass silently.
  EXPECT_GE(fixtures(".bad.yaml").size(), 12u);
  EXPECT_GE(fixtures(".ok.yaml").size(), 2u);
}

TEST(ConfigFixtures, OkFixturesLoad) {
  set_fixture_env();
  for (const auto& path : fixtures(".ok.yaml")) {
    SCOPED_TRACE(path.filename().string());
    ttla::ConfigResult r = ttla::load_config(path.string());
    std::string all;
    for (const auto& e : r.errors) all += e.str() + "\n";
    EXPECT_TRUE(r.config.has_value()) << all;
    EXPECT_TRUE(r.errors.empty()) << all;
  }
}

TEST(ConfigFixtures, BadFixturesGiveExactMessages) {
  set_fixture_env();
  const bool update = std::getenv("TTLA_UPDATE_GOLDEN") != nullptr;
  for (const auto& path : fixtures(".bad.yaml")) {
    SCOPED_TRACE(path.filename().string());
    ttla::ConfigResult r = ttla::load_config(path.string());
    EXPECT_FALSE(r.config.has_value());
    std::vector<std::string> got;
    for (const auto& e : r.errors) got.push_back(e.str());
    fs::path expected_path = path;
    expected_path.replace_extension(".expected");  // NAME.bad.yaml -> NAME.bad.expected
    if (update) {
      std::ofstream out(expected_path);
      for (const auto& line : got) out << line << '\n';
      continue;
    }
    ASSERT_TRUE(fs::exists(expected_path)) << expected_path;
    const std::vector<std::string> expected = read_lines(expected_path);
    EXPECT_FALSE(expected.empty());
    EXPECT_EQ(got, expected);
  }
}

}  // namespace
