// Micro-benchmarks for the statistics hot path: sources call TargetStats::add_expired once per
// expired item on 200k-2M item scans, and shards merge their stats at the end.
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "core/stats.h"

namespace {

constexpr double kAsOf = 1795341600;

// Overdue ages shaped like a TTL backlog: mostly hours to days, a tail of months.
std::vector<double> overdue_values(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> dist(11, 1.8);
  std::vector<double> v(n);
  for (auto& x : v) x = std::min(dist(rng), 1.5e8);
  return v;
}

// Keys as a DynamoDB source renders them: "pk=user123#01HF...,sk=session#456".
std::vector<std::string> realistic_keys(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> keys;
  keys.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    keys.push_back("pk=user" + std::to_string(rng() % 100000) + "#01HF" + std::to_string(rng() % 1000000000) +
                   ",sk=session#" + std::to_string(i));
  }
  return keys;
}

void BM_SketchInsert(benchmark::State& state) {
  auto values = overdue_values(1 << 16, 1);
  ttla::QuantileSketch sketch;
  size_t i = 0;
  for (auto _ : state) {
    sketch.add(values[i++ & (values.size() - 1)]);
  }
  benchmark::DoNotOptimize(sketch.count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SketchInsert);

void BM_SketchMerge(benchmark::State& state) {
  ttla::QuantileSketch a, b;
  for (double v : overdue_values(100000, 2)) a.add(v);
  for (double v : overdue_values(100000, 3)) b.add(v);
  for (auto _ : state) {
    ttla::QuantileSketch m = a;
    m.merge(b);
    benchmark::DoNotOptimize(m.count());
  }
  state.counters["buckets"] = static_cast<double>(a.to_json()["counts"].size());
}
BENCHMARK(BM_SketchMerge);

void BM_SketchQuantile(benchmark::State& state) {
  ttla::QuantileSketch a;
  for (double v : overdue_values(100000, 4)) a.add(v);
  for (auto _ : state) benchmark::DoNotOptimize(a.quantile(0.99));
}
BENCHMARK(BM_SketchQuantile);

// One full scan's worth of expired items through a fresh TargetStats per iteration batch.
void BM_AddExpired(benchmark::State& state) {
  const size_t n = 1 << 17;
  auto keys = realistic_keys(n, 5);
  auto overdue = overdue_values(n, 6);
  const bool grouped = state.range(0) != 0;
  std::vector<std::string> groups;
  for (size_t i = 0; i < n; ++i) groups.push_back(grouped ? "user" + std::to_string(i % 5000) : "");
  ttla::StatsOptions options;
  options.k = 10;
  options.seed = 42;
  ttla::TargetStats stats(options);
  size_t i = 0;
  for (auto _ : state) {
    size_t j = i++ & (n - 1);
    stats.add_expired(keys[j], kAsOf - overdue[j], overdue[j], 1024, groups[j]);
  }
  benchmark::DoNotOptimize(stats.expired_count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AddExpired)->Arg(0)->Arg(1)->ArgName("grouped");

// A 2M-item scan end to end (per-item cost including heap maintenance as the scan proceeds).
void BM_AddExpiredScan2M(benchmark::State& state) {
  const size_t n = 2000000;
  auto keys = realistic_keys(1 << 16, 7);
  auto overdue = overdue_values(n, 8);
  for (auto _ : state) {
    ttla::TargetStats stats;
    for (size_t i = 0; i < n; ++i) {
      stats.add_expired(keys[i & 0xFFFF], kAsOf - overdue[i], overdue[i], 512, "");
    }
    benchmark::DoNotOptimize(stats.expired_count());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_AddExpiredScan2M)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_TargetStatsMerge(benchmark::State& state) {
  const size_t n = 100000;
  auto keys = realistic_keys(n, 9);
  auto overdue = overdue_values(n, 10);
  ttla::TargetStats a, b;
  for (size_t i = 0; i < n; ++i) {
    (i % 2 ? a : b).add_expired(keys[i], kAsOf - overdue[i], overdue[i], 256, "user" + std::to_string(i % 3000));
  }
  for (auto _ : state) {
    ttla::TargetStats m = a;
    m.merge(b);
    benchmark::DoNotOptimize(m.expired_count());
  }
}
BENCHMARK(BM_TargetStatsMerge);

void BM_TargetStatsStateRoundTrip(benchmark::State& state) {
  const size_t n = 100000;
  auto keys = realistic_keys(n, 11);
  auto overdue = overdue_values(n, 12);
  ttla::TargetStats a;
  for (size_t i = 0; i < n; ++i) a.add_expired(keys[i], kAsOf - overdue[i], overdue[i], 256, "");
  for (auto _ : state) {
    auto back = ttla::TargetStats::from_state(a.to_state());
    benchmark::DoNotOptimize(back.expired_count());
  }
}
BENCHMARK(BM_TargetStatsStateRoundTrip);

}  // namespace

BENCHMARK_MAIN();
