#include "core/time.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace ttla {
namespace {

TEST(ParseDuration, AcceptsEachUnit) {
  EXPECT_EQ(parse_duration("90s"), 90);
  EXPECT_EQ(parse_duration("15m"), 900);
  EXPECT_EQ(parse_duration("48h"), 172800);
  EXPECT_EQ(parse_duration("7d"), 604800);
  EXPECT_EQ(parse_duration("1w"), 604800);
  EXPECT_EQ(parse_duration("2w"), 1209600);
  EXPECT_EQ(parse_duration("0s"), 0);
  EXPECT_EQ(parse_duration("1s"), 1);
  EXPECT_EQ(parse_duration("365d"), 365 * 86400);
}

TEST(ParseDuration, RejectsMalformed) {
  for (const char* bad : {"seven", "", "7", "d", "s", "-7d", "+7d", "7 d", " 7d", "7d ", "1.5h", "7D",
                          "7x", "7dd", "1h30m", "0x10s", "７d"}) {
    EXPECT_EQ(parse_duration(bad), std::nullopt) << '"' << bad << '"';
  }
}

TEST(ParseDuration, RejectsOverflow) {
  // 2^63 / 604800 ~= 1.52e13: the largest week count that fits, and one beyond it.
  const int64_t max_weeks = std::numeric_limits<int64_t>::max() / 604800;
  EXPECT_EQ(parse_duration(std::to_string(max_weeks) + "w"), max_weeks * 604800);
  EXPECT_EQ(parse_duration(std::to_string(max_weeks + 1) + "w"), std::nullopt);
  EXPECT_EQ(parse_duration("9223372036854775807s"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(parse_duration("9223372036854775808s"), std::nullopt);
  EXPECT_EQ(parse_duration("99999999999999999999999d"), std::nullopt);
}

TEST(FormatDuration, PicksLargestExactUnit) {
  EXPECT_EQ(format_duration(172800), "2d");
  EXPECT_EQ(format_duration(5400), "90m");
  EXPECT_EQ(format_duration(90), "90s");
  EXPECT_EQ(format_duration(3600), "1h");
  EXPECT_EQ(format_duration(604800), "7d");
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(86401), "86401s");
  EXPECT_EQ(format_duration(-3600), "-1h");
}

TEST(FormatDuration, RoundTripsThroughParse) {
  for (int64_t s : {1LL, 59LL, 60LL, 61LL, 3599LL, 3600LL, 86399LL, 86400LL, 90061LL, 31536000LL}) {
    auto back = parse_duration(format_duration(s));
    ASSERT_TRUE(back.has_value()) << s;
    EXPECT_EQ(*back, s);
  }
}

TEST(ParseTime, EpochSeconds) {
  EXPECT_EQ(parse_time("1700000000"), 1700000000);
  EXPECT_EQ(parse_time("0"), 0);
  EXPECT_EQ(parse_time("-5"), std::nullopt);
  EXPECT_EQ(parse_time("1700000000.5"), std::nullopt);
  EXPECT_EQ(parse_time("17e8"), std::nullopt);
  EXPECT_EQ(parse_time("99999999999999999999"), std::nullopt);
  EXPECT_EQ(parse_time(""), std::nullopt);
}

TEST(ParseTime, Rfc3339Utc) {
  EXPECT_EQ(parse_time("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_time("2023-11-14T22:13:20Z"), 1700000000);
  EXPECT_EQ(parse_time("2023-11-14t22:13:20z"), 1700000000);
  EXPECT_EQ(parse_time("2023-11-14 22:13:20Z"), 1700000000);
  EXPECT_EQ(parse_time("2000-02-29T00:00:00Z"), 951782400);   // leap day
  EXPECT_EQ(parse_time("2026-11-22T10:00:00Z"), 1795341600);
  EXPECT_EQ(parse_time("1969-12-31T23:59:59Z"), -1);          // before the epoch is still a time
}

TEST(ParseTime, Offsets) {
  EXPECT_EQ(parse_time("2023-11-15T00:13:20+02:00"), 1700000000);
  EXPECT_EQ(parse_time("2023-11-14T17:13:20-05:00"), 1700000000);
  EXPECT_EQ(parse_time("2023-11-14T22:13:20+00:00"), 1700000000);
  EXPECT_EQ(parse_time("2023-11-14T22:13:20-00:00"), 1700000000);
  EXPECT_EQ(parse_time("2023-11-15T03:43:20+05:30"), 1700000000);
}

TEST(ParseTime, FractionalSecondsTruncate) {
  EXPECT_EQ(parse_time("2023-11-14T22:13:20.999Z"), 1700000000);
  EXPECT_EQ(parse_time("2023-11-14T22:13:20.5+01:00"), 1700000000 - 3600);
  auto exact = parse_time_exact("2023-11-14T22:13:20.250Z");
  ASSERT_TRUE(exact);
  EXPECT_DOUBLE_EQ(*exact, 1700000000.25);
  EXPECT_DOUBLE_EQ(*parse_time_exact("1700000000.75"), 1700000000.75);
  EXPECT_EQ(parse_time_exact("abc"), std::nullopt);
}

TEST(ParseTime, LeapSecondFoldsOntoPreviousSecond) {
  EXPECT_EQ(parse_time("2016-12-31T23:59:60Z"), parse_time("2016-12-31T23:59:59Z"));
}

TEST(ParseTime, RejectsInvalid) {
  for (const char* bad : {"2023-11-14", "2023-11-14T22:13:20", "2023-13-01T00:00:00Z",
                          "2023-02-29T00:00:00Z", "2023-04-31T00:00:00Z", "2023-11-14T24:00:00Z",
                          "2023-11-14T22:60:00Z", "2023-11-14T22:13:61Z", "2023-11-14T22:13:20.Z",
                          "2023-11-14T22:13:20+0200", "2023-11-14T22:13:20+24:00",
                          "2023-11-14T22:13:20Zjunk", "23-11-14T22:13:20Z", "2023/11/14T22:13:20Z",
                          "2023-11-14X22:13:20Z", "now", "yesterday", "2023-00-10T00:00:00Z",
                          "2023-01-00T00:00:00Z"}) {
    EXPECT_EQ(parse_time(bad), std::nullopt) << bad;
  }
}

// ISO 8601 as AWS services and credential sources write it (STS Expiration, credential_process,
// container and IMDS answers, AWS_CREDENTIAL_EXPIRATION): RFC 3339 and a little more.
TEST(ParseIso8601, WithAndWithoutFractionalSeconds) {
  EXPECT_EQ(parse_iso8601("2023-11-14T22:13:20Z"), 1700000000.0);
  EXPECT_EQ(parse_iso8601("2023-11-14t22:13:20z"), 1700000000.0);
  EXPECT_EQ(parse_iso8601("2023-11-14 22:13:20Z"), 1700000000.0);
  auto frac = parse_iso8601("2023-11-14T22:13:20.125Z");
  ASSERT_TRUE(frac);
  EXPECT_DOUBLE_EQ(*frac, 1700000000.125);
  EXPECT_EQ(parse_iso8601("2023-11-14T22:13:20.Z"), std::nullopt);
}

TEST(ParseIso8601, ZonesOffsetsAndNoZone) {
  EXPECT_EQ(parse_iso8601("2023-11-15T00:13:20+02:00"), 1700000000.0);
  EXPECT_EQ(parse_iso8601("2023-11-15T00:13:20+0200"), 1700000000.0);  // basic-format offset
  EXPECT_EQ(parse_iso8601("2023-11-14T17:13:20-05:00"), 1700000000.0);
  auto local = parse_iso8601("2023-11-14T22:13:20.5");                   // no zone: UTC
  ASSERT_TRUE(local);
  EXPECT_DOUBLE_EQ(*local, 1700000000.5);
  EXPECT_EQ(parse_iso8601(" 2023-11-14T22:13:20Z\n"), 1700000000.0);    // white space around
}

TEST(ParseIso8601, RejectsWhatIsNotAnInstant) {
  for (const char* bad : {"", "1700000000", "2023-11-14", "2023-11-14T22:13Z",
                          "2023-02-30T00:00:00Z", "2023-11-14T22:13:20+2", "2023-11-14T22:13:20+02",
                          "2023-11-14T22:13:20+24:00", "2023-11-14T22:13:20Z junk", "soon"}) {
    EXPECT_EQ(parse_iso8601(bad), std::nullopt) << bad;
  }
}

TEST(FormatRfc3339, WholeSeconds) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(1700000000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(format_rfc3339(951782400), "2000-02-29T00:00:00Z");
  EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_rfc3339(4102444800), "2100-01-01T00:00:00Z");
}

TEST(FormatRfc3339, Milliseconds) {
  EXPECT_EQ(format_rfc3339_ms(1700000000.25), "2023-11-14T22:13:20.250Z");
  EXPECT_EQ(format_rfc3339_ms(1700000000.0), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(format_rfc3339_ms(1700000000.9996), "2023-11-14T22:13:21.000Z");  // rounds, carries
  EXPECT_EQ(format_rfc3339_ms(-0.5), "1969-12-31T23:59:59.500Z");
}

TEST(FormatRfc3339, RoundTripsOverManyInstants) {
  // Every ~37 hours over 130 years exercises month ends, leap years and the century rule.
  for (int64_t t = -86400LL * 365; t < 86400LL * 365 * 130; t += 133331) {
    auto back = parse_time(format_rfc3339(t));
    ASSERT_TRUE(back) << t;
    ASSERT_EQ(*back, t);
  }
  for (double t : {0.001, 1700000000.123, 1795341600.999}) {
    auto back = parse_time_exact(format_rfc3339_ms(t));
    ASSERT_TRUE(back);
    EXPECT_NEAR(*back, t, 0.0005);
  }
}

TEST(NowSeconds, IsCurrentWallClock) {
  double now = now_seconds();
  EXPECT_GT(now, 1.7e9);  // after Nov 2023
  EXPECT_LT(now, 4.1e9);  // before 2100
  EXPECT_GE(now_seconds(), now);
}

TEST(RoundUpToMidnight, ExactMidnightStays) {
  const int64_t midnight = 1700006400;  // 2023-11-15T00:00:00Z
  ASSERT_EQ(format_rfc3339(midnight), "2023-11-15T00:00:00Z");
  EXPECT_EQ(round_up_to_midnight_utc(midnight), midnight);
  EXPECT_EQ(round_up_to_midnight_utc(0), 0);
}

TEST(RoundUpToMidnight, AnyLaterSecondGoesToNextMidnight) {
  const int64_t midnight = 1700006400;
  EXPECT_EQ(round_up_to_midnight_utc(midnight + 1), midnight + 86400);
  EXPECT_EQ(round_up_to_midnight_utc(midnight + 86399), midnight + 86400);
  EXPECT_EQ(round_up_to_midnight_utc(midnight - 1), midnight);
  EXPECT_EQ(round_up_to_midnight_utc(-1), 0);
  EXPECT_EQ(round_up_to_midnight_utc(-86401), -86400);
}

TEST(RoundUpToMidnight, LifecycleExample) {
  // Uploaded 2023-11-14T22:13:20Z with a 1-day rule: due at 2023-11-16T00:00:00Z.
  int64_t due = round_up_to_midnight_utc(1700000000 + 86400);
  EXPECT_EQ(format_rfc3339(due), "2023-11-16T00:00:00Z");
}

}  // namespace
}  // namespace ttla
