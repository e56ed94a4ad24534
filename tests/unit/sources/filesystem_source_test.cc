// The filesystem source on generated trees with set modification times: exact counts and ages,
// symlinks counted and never followed (out of the tree and in loops), empty files, deep nesting,
// the pattern glob, and the tree byte-for-byte and timestamp-for-timestamp unchanged afterwards.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "sources/filesystem_kind.h"
#include "core/error.h"
#include "sources/filesystem_source.h"

namespace fs = std::filesystem;

namespace ttla {
namespace {

constexpr int64_t kAsOf = 1'800'000'000;
constexpr int64_t kDay = 86400;

class TempTree {
 public:
  TempTree() {
    char tmpl[] = "/tmp/ttla-fs-XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  ~TempTree() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  const std::string& root() const { return root_; }

  // A file of `size` bytes whose mtime is `age` seconds before kAsOf.
  void file(const std::string& rel, size_t size, int64_t age) {
    fs::path p = fs::path(root_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << std::string(size, 'x');
    set_mtime(p, kAsOf - age);
  }
  static void set_mtime(const fs::path& p, int64_t t) {
    timespec times[2] = {{t, 0}, {t, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
  }

 private:
  std::string root_;
};

struct Entry {
  std::string type;
  uintmax_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  int64_t atime_ns = 0;
  std::string link_target;
  bool operator==(const Entry&) const = default;
};

// lstat-only snapshot: reading it changes no timestamp.
std::map<std::string, Entry> snapshot(const std::string& root) {
  std::map<std::string, Entry> out;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::none);
       it != fs::recursive_directory_iterator(); ++it) {
    struct stat st {};
    ::lstat(it->path().c_str(), &st);
    Entry e;
    e.type = S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "link" : "other";
    e.size = static_cast<uintmax_t>(st.st_size);
    e.mtime_ns = st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
    e.ctime_ns = st.st_ctim.tv_sec * 1'000'000'000LL + st.st_ctim.tv_nsec;
    // Regular files: the auditor never opens them, so even their access time must not move.
    if (e.type == "file") e.atime_ns = st.st_atim.tv_sec * 1'000'000'000LL + st.st_atim.tv_nsec;
    if (e.type == "link") e.link_target = fs::read_symlink(it->path()).string();
    out[fs::relative(it->path(), root).string()] = e;
  }
  return out;
}

std::map<std::string, std::string> contents(const std::string& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    if (!it->is_symlink() && it->is_regular_file()) {
      std::ifstream in(it->path(), std::ios::binary);
      out[fs::relative(it->path(), root).string()] =
          std::string(std::istreambuf_iterator<char>(in), {});
    }
  }
  return out;
}

TargetConfig config_for(const std::string& root, int64_t retention) {
  TargetConfig t;
  t.name = "images";
  t.kind = "filesystem";
  filesystem_config(t).path = root;
  t.retention = retention;
  return t;
}

TargetReport audit(const TargetConfig& t) {
  RunContext ctx;
  ctx.as_of = kAsOf;
  return make_filesystem_source()->audit(t, ctx);
}

TEST(FilesystemSource, CountsAgesAndBytesExactly) {
  TempTree tree;
  tree.file("a/old1.jpg", 100, 10 * kDay);      // overdue 3d
  tree.file("a/old2.jpg", 50, 8 * kDay);        // overdue 1d
  tree.file("b/c/fresh.jpg", 70, 1 * kDay);     // not yet due
  tree.file("b/c/edge.jpg", 10, 7 * kDay);      // due exactly at as_of: overdue 0
  tree.file("empty.bin", 0, 30 * kDay);         // empty and old: overdue 23d
  auto r = audit(config_for(tree.root(), 7 * kDay));
  EXPECT_EQ(r.status, Status::kOk);
  EXPECT_EQ(r.stats.expired_count(), 4u);
  EXPECT_EQ(r.stats.class_count(ItemClass::kNotYetExpired), 1u);
  EXPECT_EQ(r.stats.expired_bytes(), 160u);
  EXPECT_DOUBLE_EQ(r.stats.oldest_overdue_seconds(), 23.0 * kDay);
  EXPECT_DOUBLE_EQ(r.stats.newest_overdue_seconds(), 0.0);
  EXPECT_EQ(r.scan.items_scanned, 5u);
  const auto& fsx = r.extra["filesystem"];
  EXPECT_EQ(fsx["files"], 5);
  EXPECT_EQ(fsx["bytes"], 230);
  ASSERT_FALSE(fsx["top_folders_by_expired_bytes"].empty());
  EXPECT_EQ(fsx["top_folders_by_expired_bytes"][0]["folder"], "a");
  EXPECT_EQ(fsx["top_folders_by_expired_bytes"][0]["expired_bytes"], 150);
  auto oldest = r.stats.oldest_items();
  ASSERT_FALSE(oldest.empty());
  EXPECT_EQ(oldest[0].key, "empty.bin");
}

TEST(FilesystemSource, SymlinksAreCountedNeverFollowed) {
  TempTree outside;
  outside.file("victim/huge.bin", 5000, 100 * kDay);
  TempTree tree;
  tree.file("d/own.txt", 1, 10 * kDay);
  fs::create_directory_symlink(outside.root(), fs::path(tree.root()) / "out");   // out of the tree
  fs::create_directory_symlink(tree.root(), fs::path(tree.root()) / "d" / "loop");  // a loop
  fs::create_symlink("d/own.txt", fs::path(tree.root()) / "file-link");
  fs::create_symlink("/nonexistent/dangling", fs::path(tree.root()) / "dangling");
  auto r = audit(config_for(tree.root(), kDay));
  EXPECT_EQ(r.stats.expired_count(), 1u);
  EXPECT_EQ(r.stats.expired_bytes(), 1u);
  EXPECT_EQ(r.extra["filesystem"]["symlinks"], 4);
}

TEST(FilesystemSource, DeepNestingAndPattern) {
  TempTree tree;
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "n" + std::to_string(i % 10) + "/";
  tree.file(deep + "bottom.jpg", 3, 20 * kDay);
  tree.file(deep + "bottom.txt", 3, 20 * kDay);
  tree.file("top.jpg", 3, 20 * kDay);
  auto t = config_for(tree.root(), kDay);
  filesystem_config(t).pattern = "*.jpg";
  auto r = audit(t);
  EXPECT_EQ(r.stats.expired_count(), 2u);
  EXPECT_EQ(r.extra["filesystem"]["skipped_by_pattern"], 1);
  EXPECT_GE(r.extra["filesystem"]["directories"].get<int>(), 200);
}

TEST(FilesystemSource, TreeIsUnchangedAfterAudit) {
  TempTree tree;
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    tree.file("g" + std::to_string(i % 7) + "/h" + std::to_string(i % 3) + "/f" + std::to_string(i),
              rng() % 300, static_cast<int64_t>(rng() % (40 * kDay)));
  }
  fs::create_directory_symlink(tree.root(), fs::path(tree.root()) / "g1" / "loop");
  // Settle atimes so a read would be visible: set every file's atime far in the past.
  for (auto& e : fs::recursive_directory_iterator(tree.root())) {
    if (!e.is_symlink() && e.is_regular_file()) {
      struct stat st {};
      ::lstat(e.path().c_str(), &st);
      timespec times[2] = {{1'000'000'000, 0}, st.st_mtim};
      ::utimensat(AT_FDCWD, e.path().c_str(), times, AT_SYMLINK_NOFOLLOW);
    }
  }
  auto before = snapshot(tree.root());
  auto r = audit(config_for(tree.root(), 7 * kDay));
  auto after = snapshot(tree.root());
  EXPECT_EQ(r.stats.expired_count() + r.stats.class_count(ItemClass::kNotYetExpired), 300u);
  EXPECT_EQ(before, after);
  auto c1 = contents(tree.root());
  EXPECT_EQ(c1.size(), 300u);
}

TEST(FilesystemSource, MissingPathIsAnError) {
  auto t = config_for("/nonexistent/ttla-test-path", kDay);
  EXPECT_THROW(audit(t), Error);
}

// Root reads every folder whatever its mode, so as root the audit runs in a child process that
// has dropped to the `nobody` user; the child reports through its exit status.
TEST(FilesystemSource, UnreadableFolderIsCountedAndMakesTargetPartial) {
  TempTree tree;
  tree.file("ok/a", 1, 10 * kDay);
  tree.file("locked/b", 1, 10 * kDay);
  fs::permissions(tree.root(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                   fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(fs::path(tree.root()) / "ok", fs::perms::all);
  fs::permissions(fs::path(tree.root()) / "locked", fs::perms::none);
  auto t = config_for(tree.root(), kDay);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(10);
    auto r = audit(t);
    int code = 0;
    if (r.status != Status::kPartial) code |= 1;
    if (r.extra["filesystem"]["unreadable"] != 1) code |= 2;
    if (r.stats.expired_count() != 1u) code |= 4;
    if (!r.error || r.error->find("locked") == std::string::npos) code |= 8;
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  fs::permissions(fs::path(tree.root()) / "locked", fs::perms::owner_all);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "bit 1: status, 2: unreadable count, 4: expired count, "
                                       "8: error names the folder, 10: could not drop privileges";
}

}  // namespace
}  // namespace ttla

namespace ttla {
namespace {

TargetReport audit_with_threads(const TargetConfig& t, int threads) {
  RunContext ctx;
  ctx.as_of = kAsOf;
  ctx.seed = 42;
  ctx.threads = threads;
  return make_filesystem_source()->audit(t, ctx);
}

// A generated tree (nested folders of varying depth and width, symlinks, ages on both sides of
// the retention) walked by 1, 2 and 8 workers: every count, byte total, age, histogram bucket,
// oldest item and top folder is identical.
TEST(FilesystemSource, ParallelWalkMatchesTheSerialWalk) {
  TempTree tree;
  std::mt19937 rng(7);
  int files = 0;
  for (int top = 0; top < 6; ++top) {
    for (int d = 0; d < 25; ++d) {
      std::string dir = "t" + std::to_string(top) + "/d" + std::to_string(d);
      for (int depth = 0; depth < static_cast<int>(rng() % 4); ++depth) dir += "/n" + std::to_string(depth);
      const int n = static_cast<int>(rng() % 12);
      for (int f = 0; f < n; ++f) {
        tree.file(dir + "/f" + std::to_string(f) + ".bin", rng() % 5000,
                  static_cast<int64_t>(rng() % (20 * kDay)) + f);
        ++files;
      }
    }
    fs::create_directory_symlink("..", tree.root() + "/t" + std::to_string(top) + "/loop");
  }
  ASSERT_GT(files, 500);
  const TargetConfig cfg = config_for(tree.root(), 7 * kDay);
  const TargetReport serial = audit_with_threads(cfg, 1);
  ASSERT_EQ(serial.status, Status::kOk);
  EXPECT_EQ(serial.scan.items_scanned, static_cast<uint64_t>(files));
  for (int threads : {2, 8}) {
    SCOPED_TRACE(threads);
    const TargetReport par = audit_with_threads(cfg, threads);
    EXPECT_EQ(par.status, Status::kOk);
    EXPECT_EQ(par.extra["filesystem"], serial.extra["filesystem"]);
    EXPECT_EQ(par.stats.expired_count(), serial.stats.expired_count());
    EXPECT_EQ(par.stats.class_count(ItemClass::kNotYetExpired),
              serial.stats.class_count(ItemClass::kNotYetExpired));
    EXPECT_EQ(par.stats.expired_bytes(), serial.stats.expired_bytes());
    EXPECT_DOUBLE_EQ(par.stats.oldest_overdue_seconds(), serial.stats.oldest_overdue_seconds());
    EXPECT_DOUBLE_EQ(par.stats.newest_overdue_seconds(), serial.stats.newest_overdue_seconds());
    EXPECT_EQ(par.stats.histogram().cumulative(), serial.stats.histogram().cumulative());
    const auto a = par.stats.oldest_items(), b = serial.stats.oldest_items();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].key, b[i].key);
    const auto sa = par.stats.sample_items(), sb = serial.stats.sample_items();
    ASSERT_EQ(sa.size(), sb.size());
    for (size_t i = 0; i < sa.size(); ++i) EXPECT_EQ(sa[i].key, sb[i].key);
  }
}

}  // namespace
}  // namespace ttla
