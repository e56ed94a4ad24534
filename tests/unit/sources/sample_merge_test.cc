// Sharded sampling merges exactly: N shard parts (each holding the plan's segments s % N == i)
// written with state, read back and merged give the very estimates and intervals of one process
// that read the same segments; `merge` rejects a duplicate part, a mismatched as_of or plan, and
// reports missing shards as partial, naming them.
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/report.h"
#include "sources/sampling.h"

namespace ttla {
namespace {

using nlohmann::json;

constexpr int64_t kAsOf = 1'790'000'000;

// Per-segment class counts of a simulated table for the plan's segments (rare expired items,
// a few hygiene problems, most items not yet expired).
std::map<uint64_t, SampledSegment> table_segments(const sampling::SamplePlan& plan, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::poisson_distribution<uint64_t> items(40.0), rare(0.02), few(0.3);
  std::map<uint64_t, SampledSegment> out;
  for (uint64_t s : plan.segments) {
    SampledSegment g;
    g.segment = s;
    g.classes[static_cast<size_t>(ItemClass::kExpired)] = rare(gen);
    g.classes[static_cast<size_t>(ItemClass::kNotYetExpired)] = items(gen);
    g.classes[static_cast<size_t>(ItemClass::kMissingTtl)] = few(gen);
    g.classes[static_cast<size_t>(ItemClass::kNonNumericTtl)] = 0;
    g.classes[static_cast<size_t>(ItemClass::kMillisecondsTtl)] = rare(gen);
    g.classes[static_cast<size_t>(ItemClass::kBeyondFiveYears)] = few(gen);
    for (uint64_t c : g.classes) g.scanned += c;
    g.units = 0.5 * static_cast<double>(g.scanned / 8 + 1);
    out[s] = g;
  }
  return out;
}

// The report of one process (shard_count 1) or of shard i of n, as `run --shard` writes it.
Report part_report(const sampling::SamplePlan& plan, const std::map<uint64_t, SampledSegment>& table,
                   uint64_t seed, int i, int n, const std::string& run_id) {
  TargetReport t;
  t.name = "sessions";
  t.kind = "dynamodb";
  t.has_hygiene = true;
  t.expired_bytes_measured = false;
  SampleState st;
  st.table = "UploadSessions";
  st.fraction = 0.05;
  st.seed = seed;
  st.total_segments = plan.total_segments;
  st.planned_segments = plan.segments.size();
  st.shard_index = i;
  st.shard_count = n;
  for (uint64_t s : plan.segments) {  // plan order, as the source keeps them
    if (static_cast<int>(s % static_cast<uint64_t>(n)) != i) continue;
    st.segments.push_back(table.at(s));
    t.scan.items_scanned += table.at(s).scanned;
  }
  t.sample = st;
  sampling::apply_sample_estimates(t);
  Report r;
  r.run.id = run_id;
  r.run.as_of = kAsOf;
  r.run.started_at = kAsOf + 1;
  r.run.finished_at = kAsOf + 2;
  if (n > 1) r.run.shard = std::to_string(i) + "/" + std::to_string(n);
  r.targets.push_back(t);
  // Through the JSON a shard writes and `merge` reads.
  return report_from_json(report_to_json(r, true));
}

json target_json(const Report& r) { return report_to_json(r)["targets"][0]; }

TEST(ShardedSampling, MergedShardsEqualOneProcess) {
  const uint64_t seed = 20261202;
  const sampling::SamplePlan plan = sampling::plan_sample(0.05, seed);
  const auto table = table_segments(plan, 5);
  const Report one = part_report(plan, table, seed, 0, 1, "one");
  const json single = target_json(one);
  ASSERT_TRUE(single["expired"]["estimated"].get<bool>());
  ASSERT_TRUE(single.contains("hygiene_ci95"));
  EXPECT_EQ(single["scan"]["seed"].get<uint64_t>(), seed);
  EXPECT_FALSE(single["expired"].contains("bytes"));  // not measured: absent, never 0
  for (int n : {1, 3, 8}) {
    std::vector<Report> parts;
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i) {
      parts.push_back(part_report(plan, table, seed, i, n, "run-" + std::to_string(i)));
      names.push_back("part-" + std::to_string(i) + ".json");
    }
    const Report merged = merge_reports(parts, names, sampling::apply_sample_estimates);
    const json m = target_json(merged);
    SCOPED_TRACE("shards " + std::to_string(n));
    EXPECT_EQ(m["status"], "ok");
    EXPECT_EQ(m["expired"]["count"], single["expired"]["count"]);
    EXPECT_EQ(m["expired"]["ci95"], single["expired"]["ci95"]);
    EXPECT_EQ(m["hygiene"], single["hygiene"]);
    EXPECT_EQ(m["hygiene_ci95"], single["hygiene_ci95"]);
    EXPECT_EQ(m["scan"]["segments_total"], plan.total_segments);  // the plan's, never a sum
    EXPECT_EQ(m["scan"]["segments_scanned"], plan.segments.size());
    EXPECT_EQ(m["scan"]["seed"], seed);
    EXPECT_EQ(m["dynamodb"]["sampling"]["classes"], single["dynamodb"]["sampling"]["classes"]);
    // Bit-identical estimates, not merely equal after rounding.
    EXPECT_EQ(merged.targets[0].expired_estimate, one.targets[0].expired_estimate);
    EXPECT_EQ(merged.targets[0].ci95, one.targets[0].ci95);
  }
}

TEST(ShardedSampling, AShardThatSawNothingIsNotZeroPlusMinusZero) {
  // A class so rare that most shards see none of it: each shard still bounds it above, and the
  // merge does not add shard intervals but recomputes one over the union.
  const uint64_t seed = 3;
  const sampling::SamplePlan plan = sampling::plan_sample(0.05, seed);
  auto table = table_segments(plan, 9);
  for (auto& [s, g] : table) g.classes[static_cast<size_t>(ItemClass::kNonNumericTtl)] = 0;
  table.begin()->second.classes[static_cast<size_t>(ItemClass::kNonNumericTtl)] = 1;
  for (int i = 0; i < 8; ++i) {
    const Report p = part_report(plan, table, seed, i, 8, "r" + std::to_string(i));
    const json ci = target_json(p)["hygiene_ci95"]["non_numeric_ttl"];
    EXPECT_GT(ci[1].get<double>(), 0) << "shard " << i << " claims [0, 0]";
  }
}

TEST(ShardedSampling, MergeRejectsADuplicatePartNamingTheFile) {
  const sampling::SamplePlan plan = sampling::plan_sample(0.05, 1);
  const auto table = table_segments(plan, 1);
  const Report p0 = part_report(plan, table, 1, 0, 2, "a");
  const Report p1 = part_report(plan, table, 1, 1, 2, "b");
  try {
    merge_reports({p0, p1, p1}, {"p0.json", "p1.json", "p1-again.json"}, sampling::apply_sample_estimates);
    FAIL() << "a part given twice was merged";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_NE(std::string(e.what()).find("p1-again.json"), std::string::npos) << e.what();
  }
  // The same shard index from two different runs is a duplicate too.
  const Report other1 = part_report(plan, table, 1, 1, 2, "c");
  try {
    merge_reports({p0, p1, other1}, {"p0.json", "p1.json", "p1-rerun.json"}, sampling::apply_sample_estimates);
    FAIL() << "shard 1/2 given twice was merged";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("p1-rerun.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("given twice"), std::string::npos) << e.what();
  }
}

TEST(ShardedSampling, MergeRejectsAMismatchedAsOfOrPlan) {
  const sampling::SamplePlan plan = sampling::plan_sample(0.05, 1);
  const auto table = table_segments(plan, 1);
  const Report p0 = part_report(plan, table, 1, 0, 2, "a");
  Report late = part_report(plan, table, 1, 1, 2, "b");
  late.run.as_of += 3600;
  try {
    merge_reports({p0, late}, {"p0.json", "p1-late.json"}, sampling::apply_sample_estimates);
    FAIL() << "parts audited at different times were merged";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("p1-late.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("as of"), std::string::npos) << e.what();
  }
  // Another seed draws another plan.
  const sampling::SamplePlan plan2 = sampling::plan_sample(0.05, 2);
  const Report p1_other_seed = part_report(plan2, table_segments(plan2, 1), 2, 1, 2, "c");
  try {
    merge_reports({p0, p1_other_seed}, {"p0.json", "p1-seed2.json"}, sampling::apply_sample_estimates);
    FAIL() << "parts of different sample plans were merged";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("p1-seed2.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("seed"), std::string::npos) << e.what();
  }
  // Another shard count.
  const Report p1_of_3 = part_report(plan, table, 1, 1, 3, "d");
  EXPECT_THROW(merge_reports({p0, p1_of_3}, {"p0.json", "p1of3.json"}, sampling::apply_sample_estimates),
               Error);
}

TEST(ShardedSampling, MissingShardsMakeTheMergePartialNamingThem) {
  const sampling::SamplePlan plan = sampling::plan_sample(0.05, 4);
  const auto table = table_segments(plan, 4);
  std::vector<Report> parts;
  for (int i : {0, 1, 3, 4, 6, 7}) parts.push_back(part_report(plan, table, 4, i, 8, "r" + std::to_string(i)));
  const Report merged = merge_reports(parts, {}, sampling::apply_sample_estimates);
  EXPECT_EQ(merged.run.status, Status::kPartial);
  ASSERT_EQ(merged.targets.size(), 1u);
  EXPECT_EQ(merged.targets[0].status, Status::kPartial);
  ASSERT_TRUE(merged.targets[0].error.has_value());
  EXPECT_NE(merged.targets[0].error->find("shards 2, 5 of 8 missing"), std::string::npos)
      << *merged.targets[0].error;
  // What was read still estimates the whole table over the plan's segments.
  EXPECT_EQ(merged.targets[0].scan.segments_total, plan.total_segments);
  EXPECT_TRUE(merged.targets[0].estimated);
}

}  // namespace
}  // namespace ttla
