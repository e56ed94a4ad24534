// Log line rendering: logfmt text and JSON lines carry ts, level, run_id, msg and the fields.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "app/logging.h"

namespace ttla {
namespace {

TEST(Logging, TextLineSplitsMessageAndFields) {
  const std::string line = render_log_line(
      LogFormat::kText, 1700000000.123, "info", "0123456789abcdef",
      "target audited target=sessions items=5 error=\"connect: refused\"");
  EXPECT_EQ(line,
            "ts=2023-11-14T22:13:20.123Z level=info run_id=0123456789abcdef msg=\"target audited\" "
            "target=sessions items=5 error=\"connect: refused\"");
}

TEST(Logging, JsonLineHasFixedKeysAndTypedFields) {
  const std::string line =
      render_log_line(LogFormat::kJson, 1700000000.5, "warn", "feedfacefeedface",
                      "target partial target=\"a b\" items=42 rate=1.5 ok=false");
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["ts"], "2023-11-14T22:13:20.500Z");
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["run_id"], "feedfacefeedface");
  EXPECT_EQ(j["msg"], "target partial");
  EXPECT_EQ(j["target"], "a b");
  EXPECT_EQ(j["items"], 42);
  EXPECT_DOUBLE_EQ(j["rate"].get<double>(), 1.5);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(line.find('\n'), std::string::npos);  // one object per line
}

TEST(Logging, PlainMessageWithoutFields) {
  auto p = parse_log_payload("listening on 127.0.0.1");
  EXPECT_EQ(p.msg, "listening on 127.0.0.1");
  EXPECT_TRUE(p.fields.empty());
  // A payload that is already logfmt with msg= keeps its msg.
  auto q = parse_log_payload("msg=\"hello world\" a=1");
  EXPECT_EQ(q.msg, "hello world");
  ASSERT_EQ(q.fields.size(), 1u);
  EXPECT_EQ(q.fields[0].first, "a");
}

TEST(Logging, ReservedFieldNamesDoNotOverwriteFixedKeys) {
  const auto j = nlohmann::json::parse(
      render_log_line(LogFormat::kJson, 0, "info", "r1", "x run_id=evil level=debug"));
  EXPECT_EQ(j["run_id"], "r1");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["field.run_id"], "evil");
}

TEST(Logging, FieldsQuoteWhenNeeded) {
  EXPECT_EQ(Fields().add("a", "plain").add("b", "two words").add("c", "").str(),
            "a=plain b=\"two words\" c=\"\"");
  EXPECT_EQ(Fields().add("q", "say \"hi\"\n").str(), "q=\"say \\\"hi\\\"\\n\"");
  EXPECT_EQ(Fields().add("n", static_cast<uint64_t>(7)).add("d", 2.5).add("w", 3.0).add("b", true).str(),
            "n=7 d=2.5 w=3 b=true");
  // Round trip through the parser.
  auto p = parse_log_payload("m " + Fields().add("q", "say \"hi\" = x").str());
  ASSERT_EQ(p.fields.size(), 1u);
  EXPECT_EQ(p.fields[0].second, "say \"hi\" = x");
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
