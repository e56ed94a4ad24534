#include "core/text.h"

#include <gtest/gtest.h>

namespace ttla {
namespace {

TEST(Trim, BothEndsEveryAsciiSpace) {
  EXPECT_EQ(trim("  a b \t"), "a b");
  EXPECT_EQ(trim("\r\n\v\fvalue\r\n"), "value");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim(" \t\r\n"), "");
  EXPECT_EQ(trim("x"), "x");
  // Only ASCII white space: a non-breaking space (UTF-8 C2 A0) is content.
  EXPECT_EQ(trim("\xC2\xA0x"), "\xC2\xA0x");
}

TEST(Trim, ViewsTheInput) {
  const std::string s = "  abc  ";
  std::string_view t = trim(s);
  EXPECT_EQ(t.data(), s.data() + 2);
  EXPECT_EQ(t.size(), 3u);
}

TEST(Case, AsciiOnly) {
  EXPECT_EQ(to_lower("AbC-1_Z"), "abc-1_z");
  EXPECT_EQ(to_upper("dynamodb_streams"), "DYNAMODB_STREAMS");
  EXPECT_EQ(to_lower("\xC3\x89"), "\xC3\x89");  // É left alone
}

}  // namespace
}  // namespace ttla
