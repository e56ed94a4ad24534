// Log line rendering: logfmt text and JSON lines carry ts, level, run_id, msg and the fields.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "app/logging.h"

namespace ttla {
namespace {

TEST(Logging, TextLineHasMessageAndFields) {
  const std::string line = render_log_line(
      LogFormat::kText, 1700000000.123, "info", "0123456789abcdef", "target audited",
      Fields().add("target", "sessions").add("items", 5).add("error", "connect: refused"));
  EXPECT_EQ(line,
            "ts=2023-11-14T22:13:20.123Z level=info run_id=0123456789abcdef msg=\"target audited\" "
            "target=sessions items=5 error=\"connect: refused\"");
}

TEST(Logging, JsonLineHasFixedKeysAndTypedFields) {
  const std::string line = render_log_line(
      LogFormat::kJson, 1700000000.5, "warn", "feedfacefeedface", "target partial",
      Fields().add("target", "a b").add("items", 42).add("rate", 1.5).add("ok", false).add("name", "2024"));
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["ts"], "2023-11-14T22:13:20.500Z");
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["run_id"], "feedfacefeedface");
  EXPECT_EQ(j["msg"], "target partial");
  EXPECT_EQ(j["target"], "a b");
  EXPECT_EQ(j["items"], 42);
  EXPECT_DOUBLE_EQ(j["rate"].get<double>(), 1.5);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["name"], "2024");  // a string that reads as a number stays a string
  EXPECT_EQ(line.find('\n'), std::string::npos);  // one object per line
  // Keys in the order they were added, after the fixed ones.
  EXPECT_LT(line.find("\"msg\""), line.find("\"target\""));
  EXPECT_LT(line.find("\"target\""), line.find("\"items\""));
}

TEST(Logging, PlainMessageWithoutFields) {
  // A message is never read as fields, whatever it contains.
  EXPECT_EQ(render_log_line(LogFormat::kText, 0, "info", "r1", "listening on 127.0.0.1"),
            "ts=1970-01-01T00:00:00.000Z level=info run_id=r1 msg=\"listening on 127.0.0.1\"");
  const auto j = nlohmann::json::parse(render_log_line(LogFormat::kJson, 0, "info", "r1", "a=1 b=\"2\""));
  EXPECT_EQ(j["msg"], "a=1 b=\"2\"");
  EXPECT_EQ(j.size(), 4u);
}

TEST(Logging, ReservedFieldNamesDoNotOverwriteFixedKeys) {
  const auto j = nlohmann::json::parse(render_log_line(
      LogFormat::kJson, 0, "info", "r1", "x", Fields().add("run_id", "evil").add("level", "debug")));
  EXPECT_EQ(j["run_id"], "r1");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["field.run_id"], "evil");
  EXPECT_EQ(j["field.level"], "debug");
}

TEST(Logging, FieldsQuoteWhenNeeded) {
  EXPECT_EQ(Fields().add("a", "plain").add("b", "two words").add("c", "").str(),
            "a=plain b=\"two words\" c=\"\"");
  EXPECT_EQ(Fields().add("q", "say \"hi\"\n").str(), "q=\"say \\\"hi\\\"\\n\"");
  EXPECT_EQ(Fields().add("n", static_cast<uint64_t>(7)).add("d", 2.5).add("w", 3.0).add("b", true).str(),
            "n=7 d=2.5 w=3 b=true");
}

// An error text with a quote, '=' and a newline (what e.what() may carry) stays one field, in
// both formats: escaped once by the formatter, never pasted into the message.
TEST(Logging, ErrorWithQuoteAndNewlineStaysOneField) {
  const std::string error = "HTTP 400: {\"message\":\"bad key=\\\"x\\\"\"}\nsecond line";
  const Fields f = Fields().add("target", "sessions").add("error", error).add("attempt", 2);

  const std::string text = render_log_line(LogFormat::kText, 0, "warn", "r1", "aws retry", f);
  EXPECT_EQ(text.find('\n'), std::string::npos) << text;
  EXPECT_EQ(text,
            "ts=1970-01-01T00:00:00.000Z level=warn run_id=r1 msg=\"aws retry\" target=sessions "
            "error=\"HTTP 400: {\\\"message\\\":\\\"bad key=\\\\\\\"x\\\\\\\"\\\"}\\nsecond line\" attempt=2");

  const std::string json = render_log_line(LogFormat::kJson, 0, "warn", "r1", "aws retry", f);
  EXPECT_EQ(json.find('\n'), std::string::npos) << json;
  const auto j = nlohmann::json::parse(json);
  EXPECT_EQ(j["error"], error);
  EXPECT_EQ(j["attempt"], 2);
  EXPECT_EQ(j["target"], "sessions");
  EXPECT_EQ(j.size(), 7u);  // ts level run_id msg target error attempt
}

// log::warn goes through the installed logger and its formatter: the same line as rendered.
TEST(Logging, LogCallsRenderThroughTheFormatter) {
  for (LogFormat format : {LogFormat::kText, LogFormat::kJson}) {
    ::testing::internal::CaptureStderr();
    setup_logging(format, spdlog::level::info, "r2");
    log::debug("hidden", Fields().add("a", 1));
    log::warn("history not recorded", Fields().add("target", "t").add("error", "disk \"full\"\n"));
    log::flush();
    const std::string err = ::testing::internal::GetCapturedStderr();
    ASSERT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    if (format == LogFormat::kText) {
      EXPECT_NE(err.find(" level=warn run_id=r2 msg=\"history not recorded\" target=t "
                         "error=\"disk \\\"full\\\"\\n\"\n"),
                std::string::npos)
          << err;
    } else {
      const auto j = nlohmann::json::parse(err);
      EXPECT_EQ(j["msg"], "history not recorded");
      EXPECT_EQ(j["error"], "disk \"full\"\n");
      EXPECT_EQ(j["level"], "warn");
    }
  }
  setup_logging(LogFormat::kText, spdlog::level::off, "");
}

TEST(Logging, ParsesFormatsAndLevels) {
  EXPECT_EQ(parse_log_format("json"), LogFormat::kJson);
  EXPECT_EQ(parse_log_format("text"), LogFormat::kText);
  EXPECT_FALSE(parse_log_format("xml"));
  EXPECT_EQ(parse_log_level("warning"), spdlog::level::warn);
  EXPECT_EQ(parse_log_level("debug"), spdlog::level::debug);
  EXPECT_FALSE(parse_log_level("loud"));
}

}  // namespace
}  // namespace ttla
