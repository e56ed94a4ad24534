// What an operator sees in the first hour, proven on the CLI binary (TTLA_BINARY) against a
// filesystem target in a temp dir (no server): outputs that never clobber what they point at,
// checked before any scanning; a run that names every fired rule and ends with a summary; typed
// JSON logs; suggestions for typos; `version`; --report-dir retention; shell completion.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/files.h"

namespace {

namespace fs = std::filesystem;

constexpr int64_t kDay = 86400;

// Single-quoted for sh.
std::string sh(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
};

class FirstHour : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ttla-first-hour-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    // Three files 31 days old, retention 1d: expired 30 days ago, oldest_overdue critical (> 7d).
    fs::create_directories(dir_ / "images");
    for (int i = 0; i < 3; ++i) aged_file(dir_ / "images" / ("f" + std::to_string(i)), 31 * kDay);
    config_ = (dir_ / "config.yaml").string();
    std::ofstream(config_) << "targets:\n  - {name: images, kind: filesystem, path: "
                           << (dir_ / "images").string() << ", retention: 1d}\n";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static void aged_file(const fs::path& p, int64_t age) {
    std::ofstream(p) << "x";
    timespec t[2];
    t[0].tv_sec = t[1].tv_sec = std::time(nullptr) - age;
    t[0].tv_nsec = t[1].tv_nsec = 0;
    ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), t, 0), 0);
  }

  // Runs `ttl-auditor ARGS` in the temp dir; `redirect_out` replaces the default stdout capture
  // (e.g. "| cat > FILE" to make stdout a pipe).
  Outcome ttla(const std::vector<std::string>& args, const std::string& redirect_out = "") {
    std::string cmd = "cd " + sh(dir_.string()) + " && timeout 60 " + sh(TTLA_BINARY);
    for (const auto& a : args) cmd += " " + sh(a);
    const fs::path out = dir_ / ".out", err = dir_ / ".err";
    cmd += " 2>" + sh(err.string()) + " </dev/null " +
           (redirect_out.empty() ? ">" + sh(out.string()) : redirect_out);
    const int status = std::system(("sh -c " + sh(cmd)).c_str());
    Outcome o;
    o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    o.out = ttla::testing::read_file(out);
    o.err = ttla::testing::read_file(err);
    fs::remove(out);
    fs::remove(err);
    return o;
  }

  std::vector<std::string> names(const fs::path& d) const {
    std::vector<std::string> n;
    for (auto& e : fs::directory_iterator(d)) n.push_back(e.path().filename().string());
    std::sort(n.begin(), n.end());
    return n;
  }

  fs::path dir_;
  std::string config_;
};

bool has_line(const std::string& text, const std::vector<std::string>& parts) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    bool all = true;
    for (const auto& p : parts) all = all && line.find(p) != std::string::npos;
    if (all) return true;
  }
  return false;
}

// --- 1. Safe outputs --------------------------------------------------------------------------

TEST_F(FirstHour, ReportDashGoesToStdoutAndNoFileNamedDash) {
  const Outcome r = ttla({"run", "--config", config_, "--report", "-", "--fail-on", "never"});
  EXPECT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);  // throws (fails) unless stdout is the report
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["targets"][0]["expired"]["count"], 3);
  EXPECT_FALSE(fs::exists(dir_ / "-"));
  EXPECT_TRUE(has_line(r.err, {"output written", "sink=report", "path=stdout"})) << r.err;
}

TEST_F(FirstHour, DevStdoutIsWrittenAsTheStreamAndSurvives) {
  ASSERT_TRUE(fs::is_symlink("/dev/stdout"));
  // stdout a pipe (the /dev/stdout link dangles to "pipe:[N]"), then a regular file.
  const fs::path piped = dir_ / "piped.json";
  Outcome r = ttla({"run", "--config", config_, "--report", "/dev/stdout", "--fail-on", "never"},
                   "| cat > " + sh(piped.string()));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(ttla::testing::read_file(piped))["schema_version"], 1);
  r = ttla({"run", "--config", config_, "--report", "/dev/stdout", "--fail-on", "never"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["schema_version"], 1);
  // A symlink of the operator's own to stdout (as to a terminal or pipe) works the same.
  fs::create_symlink("/dev/stdout", dir_ / "console");
  r = ttla({"run", "--config", config_, "--report", (dir_ / "console").string(), "--fail-on", "never"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["schema_version"], 1);
  EXPECT_TRUE(fs::is_symlink(dir_ / "console"));
  EXPECT_TRUE(fs::is_symlink("/dev/stdout")) << "/dev/stdout was replaced";
  EXPECT_FALSE(fs::exists("/dev/.ttl-auditor.lock"));
  EXPECT_FALSE(fs::exists("/proc/self/fd/.ttl-auditor.lock"));
}

TEST_F(FirstHour, SymlinkedReportIsWrittenWhereItPointsAndNoLockFileAnywhere) {
  fs::create_directories(dir_ / "published");
  fs::create_directories(dir_ / "store");
  fs::create_directories(dir_ / "prom");
  fs::create_symlink(dir_ / "store" / "report.json", dir_ / "published" / "report.json");
  const Outcome r = ttla({"run", "--config", config_, "--report",
                          (dir_ / "published" / "report.json").string(), "--report-dir",
                          (dir_ / "reports").string(), "--textfile",
                          (dir_ / "prom" / "ttl.prom").string(), "--fail-on", "never"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(dir_ / "published" / "report.json")) << "the link was replaced";
  EXPECT_EQ(nlohmann::json::parse(ttla::testing::read_file(dir_ / "store" / "report.json"))["schema_version"], 1);
  EXPECT_EQ(names(dir_ / "published"), std::vector<std::string>{"report.json"});
  EXPECT_EQ(names(dir_ / "store"), std::vector<std::string>{"report.json"});
  EXPECT_EQ(names(dir_ / "prom"), std::vector<std::string>{"ttl.prom"});
  const auto reports = names(dir_ / "reports");
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1], "ttl-auditor-" + reports[1].substr(12));  // timestamped, then latest
  EXPECT_EQ(reports[0], "latest.json");
  EXPECT_FALSE(fs::exists(dir_ / ".ttl-auditor.lock"));
}

TEST_F(FirstHour, RefusedOrUnwritableOutputsFailBeforeAnyScanning) {
  ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  std::ofstream(dir_ / "plain") << "x";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--report", (dir_ / "images").string()}, "is a directory"},
      {{"--report", (dir_ / "fifo").string()}, "FIFO"},
      {{"--textfile", "/dev/zero"}, "a device"},
      {{"--report", (dir_ / "plain" / "r.json").string()}, "not a directory"},
      {{"--report-dir", (dir_ / "plain" / "reports").string()}, "not a directory"},
  };
  for (const auto& [extra, why] : cases) {
    std::vector<std::string> args = {"run", "--config", config_};
    args.insert(args.end(), extra.begin(), extra.end());
    const Outcome r = ttla(args);
    EXPECT_EQ(r.code, 2) << extra[1] << "\n" << r.err;
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(extra[0] + " "), std::string::npos) << "names the flag: " << r.err;
    EXPECT_EQ(r.err.find("run started"), std::string::npos) << "the audit began: " << r.err;
  }
  struct stat st {};
  ASSERT_EQ(::lstat((dir_ / "fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  // merge checks its outputs before reading a single part.
  const Outcome m = ttla({"merge", (dir_ / "no-part.json").string(), "--report", (dir_ / "images").string()});
  EXPECT_EQ(m.code, 2);
  EXPECT_NE(m.err.find("--report " + (dir_ / "images").string() + " is a directory"), std::string::npos) << m.err;
}

// --- 2. A run that reports -----------------------------------------------------------------------

TEST_F(FirstHour, EveryFiredRuleIsAWarnLineEvenAtLogLevelWarn) {
  const Outcome r = ttla({"run", "--config", config_, "--log-level", "warn"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(has_line(r.err, {"level=warn", "msg=anomaly", "rule=oldest_overdue",
                               "severity=critical", "target=images", "message="}))
      << r.err;
  EXPECT_TRUE(has_line(r.err, {"level=warn", "no output configured"})) << r.err;
  EXPECT_EQ(r.err.find("level=info"), std::string::npos) << "warn level hides info";
}

TEST_F(FirstHour, ClosingLogLineCarriesTheSummaryWithoutScientificNotation) {
  const Outcome r = ttla({"run", "--config", config_, "--report", (dir_ / "r.json").string()});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_FALSE(std::regex_search(r.err, std::regex("[0-9]e[+-][0-9]"))) << r.err;
  EXPECT_TRUE(has_line(r.err, {"msg=\"run finished\"", "targets_ok=1", "expired=3",
                               "oldest_overdue=\"30d 0h\"", "anomalies_critical=1",
                               "report_path=" + (dir_ / "r.json").string(), "exit_code=1"}))
      << r.err;
  EXPECT_TRUE(std::regex_search(r.err, std::regex("oldest_overdue_seconds=259[0-9]{4}(\\.[0-9]+)?( |$)"))) << r.err;
  EXPECT_EQ(r.err.find("TARGET"), std::string::npos) << "no table when stderr is not a terminal";
}

TEST_F(FirstHour, TerminalGetsASummaryTable) {
  // `script` gives the run a pseudo-terminal for stdin, stdout and stderr.
  const std::string cmd = sh(TTLA_BINARY) + " run --config " + sh(config_) + " --report " +
                          sh((dir_ / "r.json").string()) + " --no-progress";
  const fs::path out = dir_ / "tty.txt";
  const int status = std::system(("TERM=xterm script -qec " + sh(cmd) + " /dev/null > " +
                                  sh(out.string()) + " 2>&1 </dev/null").c_str());
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 1);
  const std::string text = ttla::testing::read_file(out);
  EXPECT_TRUE(has_line(text, {"TARGET", "STATUS", "EXPIRED", "OLDEST OVERDUE", "ANOMALIES"})) << text;
  EXPECT_TRUE(has_line(text, {"images", "ok", "3", "30d 0h", "oldest_overdue (critical)"})) << text;
  EXPECT_TRUE(has_line(text, {"report written to " + (dir_ / "r.json").string()})) << text;
  EXPECT_TRUE(has_line(text, {"run ok in", "1 target", "(1 critical); exit 1 (anomalies at or above --fail-on)"})) << text;
}

// --- 3. Smaller points ---------------------------------------------------------------------------

TEST_F(FirstHour, TyposGetSuggestions) {
  Outcome r = ttla({"runn", "--config", config_});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown command \"runn\" (did you mean run?)"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("A subcommand is required"), std::string::npos) << r.err;
  r = ttla({"run", "--config", config_, "--reprot", "x.json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown option --reprot (did you mean --report?)"), std::string::npos) << r.err;
  r = ttla({"chek-config", "--config", config_});
  EXPECT_NE(r.err.find("did you mean check-config?"), std::string::npos) << r.err;
}

TEST_F(FirstHour, VersionNamesCommitBuildDateAndLibraries) {
  const Outcome r = ttla({"version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\ncommit: ([0-9a-f]{7,}(-dirty)?|unknown .*)\n"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\nbuild date: \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\n"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\nlibcurl: \\d+\\.\\d+"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\nOpenSSL: OpenSSL \\d"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\nlibpq: \\d+\\.\\d+"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("simdjson \\d+\\.\\d+"))) << r.out;
}

TEST_F(FirstHour, ReportDirKeepPrunesOnlyOurOwnOldReports) {
  const fs::path reports = dir_ / "reports";
  fs::create_directories(reports);
  const std::vector<std::string> old = {"ttl-auditor-20200101T000000Z-aaaa0001.json",
                                        "ttl-auditor-20200102T000000Z-aaaa0002.json",
                                        "ttl-auditor-20200103T000000Z-aaaa0003.json"};
  for (const auto& n : old) std::ofstream(reports / n) << "{}";
  std::ofstream(reports / "notes.json") << "{}";
  std::ofstream(reports / "ttl-auditor-manual.json") << "{}";
  Outcome r = ttla({"run", "--config", config_, "--report-dir", reports.string(), "--keep", "2",
                    "--fail-on", "never"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto n = names(reports);
  // Kept: the newest old one and this run's; latest.json and the foreign files untouched.
  EXPECT_EQ(n.size(), 5u) << r.err;
  EXPECT_TRUE(fs::exists(reports / old[2]));
  EXPECT_FALSE(fs::exists(reports / old[0]));
  EXPECT_FALSE(fs::exists(reports / old[1]));
  EXPECT_TRUE(fs::exists(reports / "notes.json"));
  EXPECT_TRUE(fs::exists(reports / "ttl-auditor-manual.json"));
  EXPECT_TRUE(has_line(r.err, {"report dir pruned", "removed=2"})) << r.err;

  r = ttla({"run", "--config", config_, "--report-dir", reports.string(), "--keep-days", "30",
            "--fail-on", "never"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(fs::exists(reports / old[2])) << "six years old";
  EXPECT_TRUE(fs::exists(reports / "notes.json"));
  EXPECT_EQ(names(reports).size(), 5u);  // two of this hour, latest and the two foreign files

  r = ttla({"run", "--config", config_, "--keep", "2"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--report-dir"), std::string::npos) << r.err;
}

TEST_F(FirstHour, JsonLogFieldsAreTyped) {
  std::ofstream(config_) << "targets:\n  - {name: \"2024\", kind: filesystem, path: "
                         << (dir_ / "images").string() << ", retention: 1d}\n";
  const Outcome r = ttla({"run", "--config", config_, "--log-format", "json", "--report", "-"});
  EXPECT_EQ(r.code, 1) << r.err;
  bool audited = false, finished = false, anomaly = false;
  std::istringstream in(r.err);
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j["msg"] == "target audited") {
      audited = true;
      EXPECT_TRUE(j["target"].is_string()) << line << ": a numeric-looking name stays a string";
      EXPECT_TRUE(j["items_scanned"].is_number_integer()) << line;
      EXPECT_TRUE(j["oldest_overdue_seconds"].is_number()) << line;
      EXPECT_TRUE(j["duration_seconds"].is_number()) << line;
    }
    if (j["msg"] == "run finished") {
      finished = true;
      EXPECT_TRUE(j["expired"].is_number()) << line;
      EXPECT_TRUE(j["exit_code"].is_number_integer()) << line;
      EXPECT_EQ(j["report_path"], "stdout") << line;
    }
    if (j["msg"] == "anomaly") {
      anomaly = true;
      EXPECT_TRUE(j["value"].is_number()) << line;
      EXPECT_TRUE(j["target"].is_string()) << line;
    }
  }
  EXPECT_TRUE(audited && finished && anomaly) << r.err;
}

TEST_F(FirstHour, ConfigErrorsAreJsonLinesUnderLogFormatJson) {
  std::ofstream(dir_ / "bad.yaml") << "targets:\n  - {name: a, kind: filesystem, path: /tmp, retention: seven}\n"
                                   << "  - {name: b, kind: filesystem, path: /tmp, retention: 1d, tabel: x}\n";
  const Outcome r = ttla({"run", "--config", (dir_ / "bad.yaml").string(), "--log-format", "json"});
  EXPECT_EQ(r.code, 2);
  std::vector<nlohmann::json> lines;
  std::istringstream in(r.err);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 3u) << r.err;
  EXPECT_EQ(lines[0]["level"], "error");
  EXPECT_EQ(lines[0]["msg"], "config error");
  EXPECT_EQ(lines[0]["path"], "targets[0].retention");
  EXPECT_EQ(lines[1]["path"], "targets[1].tabel");
  EXPECT_EQ(lines[2]["problems"], 2);
  // Text stays as check-config prints it.
  const Outcome t = ttla({"run", "--config", (dir_ / "bad.yaml").string()});
  EXPECT_NE(t.err.find("targets[0].retention: expected a duration"), std::string::npos) << t.err;
}

TEST_F(FirstHour, BashCompletionOffersCommandsFlagsAndChoices) {
  const Outcome script = ttla({"completion", "bash"});
  ASSERT_EQ(script.code, 0) << script.err;
  std::ofstream(dir_ / "c.bash") << script.out;
  // COMP_WORDS as bash fills them for "ttl-auditor <words>", cursor on the last word.
  auto complete = [&](const std::string& words) {
    const std::string prog = "source " + sh((dir_ / "c.bash").string()) +
                             "; COMP_WORDS=(ttl-auditor " + words +
                             "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _ttl_auditor;"
                             " printf '%s\\n' \"${COMPREPLY[@]}\"";
    const fs::path out = dir_ / "compl.txt";
    std::system(("bash -c " + sh(prog) + " > " + sh(out.string()) + " 2>&1").c_str());
    std::vector<std::string> got;
    std::istringstream in(ttla::testing::read_file(out));
    for (std::string l; std::getline(in, l);) {
      if (!l.empty()) got.push_back(l);
    }
    std::sort(got.begin(), got.end());
    return got;
  };
  EXPECT_EQ(complete("ru"), std::vector<std::string>{"run"});
  EXPECT_EQ(complete("c"), (std::vector<std::string>{"check-config", "completion"}));
  EXPECT_EQ(complete("run --rep"), (std::vector<std::string>{"--report", "--report-dir"}));
  EXPECT_EQ(complete("run --log-format ''"), (std::vector<std::string>{"json", "text"}));
  EXPECT_EQ(complete("run --fail-on c"), std::vector<std::string>{"critical"});
  EXPECT_EQ(complete("completion ''"), (std::vector<std::string>{"bash", "fish", "zsh"}));
  std::ofstream(dir_ / "conf-a.yaml") << "";
  EXPECT_EQ(complete("run --config " + (dir_ / "conf-").string()),
            std::vector<std::string>{(dir_ / "conf-a.yaml").string()});

  // zsh and fish are not installed here: their scripts are checked for every command, flag and
  // choice in each shell's own syntax.
  const Outcome zsh = ttla({"completion", "zsh"});
  EXPECT_EQ(zsh.code, 0);
  for (const char* word : {"'check-config:", "'iam-policy:", "'merge:", "'--report-dir[",
                           "'--keep-days[", ":log-format:(text json)'", "'1:argument:(bash zsh fish)'",
                           "'--record-history[Record history even when --as-of is not the current "
                           "time (backfills, tests)]' \\\n"}) {
    EXPECT_NE(zsh.out.find(word), std::string::npos) << "zsh lacks " << word;
  }
  const Outcome fish = ttla({"completion", "fish"});
  EXPECT_EQ(fish.code, 0);
  for (const char* word : {"-a check-config ", "-a merge ", "'__fish_seen_subcommand_from run' -l report-dir -r -F",
                           "-l keep-days -x", "-l log-format -x -a 'text json'",
                           "'__fish_seen_subcommand_from completion' -a 'bash zsh fish'",
                           "-l record-history -d "}) {
    EXPECT_NE(fish.out.find(word), std::string::npos) << "fish lacks " << word;
  }
  EXPECT_EQ(ttla({"completion", "tcsh"}).code, 2);
}

}  // namespace
