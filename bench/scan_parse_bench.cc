// Classification parse of one realistic ~1 MB DynamoDB Scan page (parse_scan_page on simdjson
// On-Demand): the per-page CPU cost of the auditor. Items carry pk/sk/ttl/user_id as a projected
// scan returns them; 10% expired, so key rendering and the expired statistics are exercised too.
#include <cstdio>
#include <string>

#include <benchmark/benchmark.h>

#include "core/stats.h"
#include "sources/scan_page.h"

namespace {

constexpr int64_t kAsOf = 1763800000;

// `extra_attributes`: also the unprojected payload a scan without ProjectionExpression returns.
std::string make_page(int items, bool extra_attributes) {
  std::string page =
      "{\"ConsumedCapacity\":{\"TableName\":\"UploadSessions\",\"CapacityUnits\":128.0},"
      "\"Count\":" + std::to_string(items) + ",\"Items\":[";
  char buf[640];
  for (int i = 0; i < items; ++i) {
    if (i) page += ',';
    const long ttl = (i % 10 == 0) ? kAsOf - 37L * i : kAsOf + 86400 + i;
    int n = std::snprintf(
        buf, sizeof buf,
        "{\"pk\":{\"S\":\"user%04d#session-%08d-7c1e-4a2b-9f3d-%012d\"},\"sk\":{\"S\":\"upload#part#%06d\"},"
        "\"ttl\":{\"N\":\"%ld\"},\"user_id\":{\"S\":\"user%04d\"}",
        i % 500, i, i * 7919, i % 97, ttl, i % 500);
    page.append(buf, static_cast<size_t>(n));
    if (extra_attributes) {
      n = std::snprintf(buf, sizeof buf,
                        ",\"status\":{\"S\":\"open\"},\"bytes\":{\"N\":\"%d\"},\"tags\":{\"L\":[{\"S\":"
                        "\"a\"},{\"S\":\"b\"}]},\"meta\":{\"M\":{\"client\":{\"S\":\"ios\"},\"v\":{\"N\":\"3\"}}}",
                        i * 13);
      page.append(buf, static_cast<size_t>(n));
    }
    page += '}';
  }
  page += "],\"LastEvaluatedKey\":{\"pk\":{\"S\":\"user0001#x\"},\"sk\":{\"S\":\"y\"}},\"ScannedCount\":" +
          std::to_string(items) + "}";
  return page;
}

ttla::dynamodb::ItemSchema schema(bool group) {
  ttla::dynamodb::ItemSchema s;
  s.ttl_attribute = "ttl";
  s.key_attributes = {"pk", "sk"};
  if (group) {
    ttla::GroupBy g;
    g.attribute = "user_id";
    s.group_by = g;
  }
  return s;
}

void run(benchmark::State& state, int items, bool extra, bool group) {
  std::string page = make_page(items, extra);
  auto padded = ttla::dynamodb::pad_in_place(page);
  ttla::dynamodb::ScanPageParser parser(schema(group));
  ttla::TargetStats stats;
  for (auto _ : state) {
    auto r = parser.parse(padded, kAsOf, stats);
    benchmark::DoNotOptimize(r.count);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(page.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * items);
  state.counters["page_bytes"] = static_cast<double>(page.size());
}

// ~1 MB projected page of 7,000 items (keys + TTL + group attribute), grouped by user_id.
void BM_ScanPageProjected(benchmark::State& state) { run(state, 7000, false, true); }
// The same items without grouping.
void BM_ScanPageProjectedNoGroup(benchmark::State& state) { run(state, 7000, false, false); }
// An unprojected page: every item also carries attributes the parser skips (~1.6 MB).
void BM_ScanPageUnprojected(benchmark::State& state) { run(state, 7000, true, true); }

BENCHMARK(BM_ScanPageProjected)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ScanPageProjectedNoGroup)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ScanPageUnprojected)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
