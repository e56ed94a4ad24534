#include "sources/dynamodb_kind.h"
#include "sources/dynamodb_discovery.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace ttla {
namespace {

TEST(DynamodbDiscovery, IncludeThenExcludeGlobs) {
  TableSelector all;
  EXPECT_TRUE(table_selected(all, "Anything"));
  TableSelector s;
  s.include = {"prod-*", "audit"};
  s.exclude = {"*-tmp", "prod-?"};
  EXPECT_TRUE(table_selected(s, "prod-sessions"));
  EXPECT_TRUE(table_selected(s, "audit"));
  EXPECT_FALSE(table_selected(s, "audit2"));
  EXPECT_FALSE(table_selected(s, "prod-sessions-tmp"));
  EXPECT_FALSE(table_selected(s, "prod-x"));
  EXPECT_FALSE(table_selected(s, "staging-sessions"));
  s.include = {"[ab]*"};
  s.exclude = {};
  EXPECT_TRUE(table_selected(s, "beta"));
  EXPECT_FALSE(table_selected(s, "gamma"));
}

TEST(DynamodbDiscovery, DiscoveredTargetsAreNamedAndSampledWithABudgetByDefault) {
  TargetConfig parent;
  parent.name = "fleet";
  parent.kind = "dynamodb";
  dynamodb_config(parent).tables = TableSelector{};
  TargetConfig t = discovered_target(parent, "Sessions");
  EXPECT_EQ(t.name, "fleet/Sessions");
  EXPECT_EQ(dynamodb_config(t).table, "Sessions");
  EXPECT_FALSE(dynamodb_config(t).tables);
  EXPECT_TRUE(dynamodb_config(t).discovered);
  ASSERT_TRUE(dynamodb_config(t).sample);
  EXPECT_DOUBLE_EQ(*dynamodb_config(t).sample, kDiscoveredSample);
  EXPECT_DOUBLE_EQ(dynamodb_config(t).max_read_units, kDiscoveredReadBudget);
  dynamodb_config(parent).sample = 1;
  dynamodb_config(parent).max_read_units = 50;
  TargetConfig own = discovered_target(parent, "Sessions");
  EXPECT_DOUBLE_EQ(*dynamodb_config(own).sample, 1);
  EXPECT_DOUBLE_EQ(dynamodb_config(own).max_read_units, 50);
}

}  // namespace
}  // namespace ttla
