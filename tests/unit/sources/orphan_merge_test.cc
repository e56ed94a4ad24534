// The filesystem-orphans merge and sorted walk, without a database: the walk yields byte order
// (a directory sorting as "name/"), and the merge against a sorted tracked stream finds exactly
// the untracked files at least min_age old.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sources/fs_orphans.h"

namespace ttla {
namespace {

namespace fs = std::filesystem;

std::function<bool(std::string&)> stream_of(std::vector<std::string> v, int* pulls) {
  auto data = std::make_shared<std::vector<std::string>>(std::move(v));
  auto i = std::make_shared<size_t>(0);
  return [data, i, pulls](std::string& out) {
    if (*i >= data->size()) return false;
    ++*pulls;
    out = (*data)[(*i)++];
    return true;
  };
}

TEST(OrphanMerge, UntrackedOldFilesOnlyOldestFirstBounded) {
  int pulls = 0;
  OrphanMerge m(1000.0, 100, 2, stream_of({"a", "a/x", "c", "c", "d/y", "zz"}, &pulls));
  m.add({"a/x", 5, 800});    // tracked
  m.add({"a/y", 7, 500});    // orphan, age 500
  m.add({"b", 11, 950});     // untracked but 50 s old: young
  m.add({"c", 13, 100});     // tracked (duplicate rows are fine)
  m.add({"d/x", 17, 0});     // orphan, age 1000 (oldest)
  m.add({"e", 19, 700});     // orphan, age 300: third, not kept in a list of 2
  const OrphanReport& r = m.result();
  EXPECT_EQ(r.count, 3u);
  EXPECT_EQ(r.bytes, 7u + 17u + 19u);
  EXPECT_EQ(r.oldest_seconds, 1000);
  ASSERT_EQ(r.oldest.size(), 2u);
  EXPECT_EQ(r.oldest[0].first, "d/x");
  EXPECT_EQ(r.oldest[1].first, "a/y");
  EXPECT_EQ(r.young_files, 1u);
  EXPECT_EQ(r.files_checked, 5u);
  EXPECT_EQ(r.tracked_rows, 6u);  // "zz" was pulled by "e"
}

TEST(OrphanMerge, EverythingIsAnOrphanWhenNothingIsTracked) {
  int pulls = 0;
  OrphanMerge m(10.0, 0, 10, stream_of({}, &pulls));
  m.add({"a", 1, 10});  // age 0 >= min_age 0
  m.add({"b", 2, 9});
  EXPECT_EQ(m.result().count, 2u);
  EXPECT_EQ(pulls, 0);
}

TEST(SortedWalk, YieldsByteOrderOfRelativePathsAndHonoursThePattern) {
  const fs::path root = fs::temp_directory_path() /
                        ("ttla-sorted-walk-" + std::to_string(getpid()) + "-" +
                         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  const std::vector<std::string> files = {"a-b.jpg", "a/1.jpg", "a/b/2.jpg", "a0.jpg", "B.jpg",
                                          "\xc3\xa9.jpg", "z.txt", "a/.hidden.jpg"};
  for (const auto& f : files) {
    fs::create_directories((root / f).parent_path());
    std::ofstream(root / f) << "x";
  }
  fs::create_symlink(root / "a0.jpg", root / "link.jpg");  // never followed, never a file
  std::vector<std::string> seen;
  std::string err;
  const uint64_t unreadable = walk_sorted(
      root.string(), "*.jpg", [&](const WalkedFile& f) { seen.emplace_back(f.path); }, {}, &err);
  fs::remove_all(root);
  EXPECT_EQ(unreadable, 0u) << err;
  std::vector<std::string> expected = {"a-b.jpg", "a/1.jpg", "a/b/2.jpg", "a/.hidden.jpg",
                                       "a0.jpg",  "B.jpg",   "\xc3\xa9.jpg"};
  std::sort(expected.begin(), expected.end());  // std::string compares bytes as unsigned
  EXPECT_EQ(seen, expected);
}

}  // namespace
}  // namespace ttla
