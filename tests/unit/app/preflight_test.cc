// run --plan's arithmetic and output: DynamoDB read units of an eventually consistent scan
// (0.5 per started 4 KB), unknown numbers printed as "unknown", never 0, and the exit code.
#include <gtest/gtest.h>

#include <sstream>

#include "app/preflight.h"

namespace {

TEST(Plan, ReadUnitsAreHalfAUnitPerStarted4KB) {
  EXPECT_DOUBLE_EQ(ttla::scan_read_units(0, 1), 0);
  EXPECT_DOUBLE_EQ(ttla::scan_read_units(1, 1), 0.5);
  EXPECT_DOUBLE_EQ(ttla::scan_read_units(4096, 1), 0.5);
  EXPECT_DOUBLE_EQ(ttla::scan_read_units(4097, 1), 1.0);
  EXPECT_DOUBLE_EQ(ttla::scan_read_units(1024.0 * 1024 * 1024, 1), 131072);  // 1 GiB
  EXPECT_DOUBLE_EQ(ttla::scan_read_units(1024.0 * 1024 * 1024, 0.05), 6554);
}

TEST(Plan, UnknownIsPrintedAsUnknownAndErrorsFailTheExitCode) {
  ttla::PlanEntry known;
  known.target = "t";
  known.kind = "dynamodb";
  known.items = 1000;
  known.bytes = 409600;
  known.read_units = 50;
  known.seconds = 2.5;
  known.basis = "b";
  ttla::PlanEntry unknown;
  unknown.target = "fs";
  unknown.kind = "filesystem";
  unknown.basis = "walk";
  std::ostringstream out;
  EXPECT_EQ(ttla::print_plan({known, unknown}, out), 0);
  EXPECT_NE(out.str().find("t (dynamodb): items=1000 bytes=409600 read_units=50 seconds=2.5  (b)"),
            std::string::npos) << out.str();
  EXPECT_NE(out.str().find("fs (filesystem): items=unknown bytes=unknown  (walk)"), std::string::npos)
      << out.str();
  ttla::PlanEntry failed;
  failed.target = "x";
  failed.kind = "s3";
  failed.error = "auth: denied";
  std::ostringstream out2;
  EXPECT_EQ(ttla::print_plan({known, failed}, out2), 3);
  EXPECT_NE(out2.str().find("x (s3): error: auth: denied"), std::string::npos);
  EXPECT_NE(out2.str().find("1 of 2 targets planned"), std::string::npos);
}

TEST(Preflight, ReadinessExitCode) {
  std::ostringstream out;
  EXPECT_EQ(ttla::print_readiness({{"a", "s3", true, "listed"}}, out), 0);
  EXPECT_EQ(ttla::print_readiness({{"a", "s3", true, "listed"}, {"b", "postgres", false, "no"}}, out), 3);
  EXPECT_NE(out.str().find("b (postgres): error: no"), std::string::npos);
}

}  // namespace
