#pragma once
// A fresh temp directory per sink test (removed afterwards), with helpers to read a file and list
// a directory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ttla::testing {

class SinkTestDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ttla-sinks-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Sorted file names in `d` (default: the test's directory).
  std::vector<std::string> names(const std::filesystem::path& d = {}) const {
    std::vector<std::string> n;
    for (auto& e : std::filesystem::directory_iterator(d.empty() ? dir_ : d)) {
      n.push_back(e.path().filename().string());
    }
    std::sort(n.begin(), n.end());
    return n;
  }
  std::filesystem::path dir_;
};

}  // namespace ttla::testing
