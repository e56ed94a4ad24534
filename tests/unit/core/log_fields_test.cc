// Log field typing (core/log_fields.h) and typo suggestions (core/suggest.h).
#include "core/log_fields.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/suggest.h"

namespace ttla {
namespace {

TEST(LogFields, NumbersNeverInScientificNotation) {
  EXPECT_EQ(format_log_number(2678400.0), "2678400");
  EXPECT_EQ(format_log_number(3022331.0), "3022331");
  EXPECT_EQ(format_log_number(1e15), "1000000000000000");
  EXPECT_EQ(format_log_number(0.25), "0.25");
  EXPECT_EQ(format_log_number(1234567.5), "1234567.5");
  EXPECT_EQ(format_log_number(0.0000004), "0");
  EXPECT_EQ(format_log_number(-1.5), "-1.5");
  EXPECT_EQ(format_log_number(std::nan("")), "NaN");
  EXPECT_EQ(format_log_number(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(Fields().add("seconds", 2678400.0).add("rate", 12.125).str(), "seconds=2678400 rate=12.125");
}

TEST(LogFields, StringsThatLookTypedAreQuoted) {
  EXPECT_EQ(Fields().add("target", "2024").str(), "target=\"2024\"");
  EXPECT_EQ(Fields().add("v", "true").add("w", "1e5").str(), "v=\"true\" w=\"1e5\"");
  EXPECT_EQ(Fields().add("target", "images").str(), "target=images");
  EXPECT_EQ(Fields().add("n", static_cast<uint64_t>(2024)).str(), "n=2024");
  EXPECT_TRUE(logfmt_value_is_typed("-3.5"));
  EXPECT_FALSE(logfmt_value_is_typed("4/4"));
  EXPECT_FALSE(logfmt_value_is_typed("e"));
}

TEST(Suggest, ClosestWithinTypoDistance) {
  const std::vector<std::string> cmds = {"run", "check-config", "iam-policy", "serve", "merge", "version"};
  EXPECT_EQ(closest_match("runn", cmds), "run");
  EXPECT_EQ(closest_match("chek-config", cmds), "check-config");
  EXPECT_EQ(closest_match("--reprot", {"--report", "--report-dir", "--textfile"}), "--report");
  EXPECT_FALSE(closest_match("deploy", cmds));
  EXPECT_EQ(edit_distance("tabel", "table"), 1u);
}

}  // namespace
}  // namespace ttla
