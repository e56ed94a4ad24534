#include "sources/dynamodb_source.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "aws/dynamodb_json.h"
#include "core/error.h"
#include "core/time.h"
#include "sources/aws_target.h"
#include "sources/deletion_rate.h"
#include "sources/dynamodb_latency.h"
#include "sources/dynamodb_request.h"
#include "sources/rate_limiter.h"
#include "sources/sampling.h"
#include "sources/scan_page.h"
#include "sources/target_limits.h"

namespace ttla {

namespace {

double steady_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// What one segment contributed (sampling estimates are built from these).
struct SegmentResult {
  uint64_t segment = 0;
  bool complete = false;
  uint64_t scanned = 0;  // ScannedCount
  uint64_t returned = 0;  // Count
  double units = 0;
  std::array<uint64_t, kItemClassCount> classes{};
  std::string failure;  // set when a request of this segment failed after its retries
};

// A segment's request that outlasted its retries (throttling, 5xx, a connection that keeps
// failing) costs only that segment: the others are still counted. Credentials, permissions,
// DNS and TLS failures concern every segment alike and fail the target.
bool segment_failure_is_local(const Error& e) {
  std::string_view what = e.what();
  if (what.rfind("transport dns", 0) == 0 || what.rfind("transport tls", 0) == 0) return false;
  return e.kind() == ErrorKind::kNetwork || e.kind() == ErrorKind::kThrottled ||
         e.kind() == ErrorKind::kHttp;
}

enum class StopReason { kNone, kBudget, kCancelled, kError };

// State shared by the workers of one target.
struct Shared {
  std::mutex mu;
  double consumed_units = 0;
  uint64_t items_scanned = 0;
  uint64_t requests = 0;
  uint64_t segments_done = 0;
  StopReason stop = StopReason::kNone;
  std::exception_ptr error;
  double last_progress = 0;
  std::atomic<bool> stopping{false};
};

class DynamodbSource : public Source {
 public:
  explicit DynamodbSource(DynamodbSourceOptions options) : options_(std::move(options)) {}

  TargetReport audit(const TargetConfig& target, const RunContext& ctx) override;

 private:
  DynamodbSourceOptions options_;
};

TargetReport DynamodbSource::audit(const TargetConfig& target, const RunContext& ctx) {
  const double started = steady_now();
  if (target.table.empty()) throw Error(ErrorKind::kConfig, "dynamodb target has no table");

  const aws::TargetAccess access = aws_access(target, "dynamodb");
  aws::ServiceConfig service =
      aws::target_service(access, http_options_for(target, ctx, options_.http), options_.retry);
  std::shared_ptr<aws::CredentialsProvider> credentials =
      aws::target_credentials(access, service.region, options_.credentials);
  aws::CallStats call_stats;

  // Discovery.
  aws::AwsClient main_client(service, credentials, &call_stats);
  const dynamodb::TableDescription table = dynamodb::parse_describe_table(
      main_client.dynamodb("DescribeTable", dynamodb::describe_table_body(target.table)));
  const dynamodb::TtlDescription ttl = dynamodb::parse_describe_ttl(
      main_client.dynamodb("DescribeTimeToLive", dynamodb::describe_ttl_body(target.table)));

  std::string ttl_attribute = target.ttl_attribute;
  if (ttl_attribute.empty()) ttl_attribute = ttl.attribute;
  if (ttl_attribute.empty() && target.discovered) {
    // A discovered table without TTL: nothing to classify by, and that is the finding
    // (ttl_disabled), not a failure of the audit.
    TargetReport r;
    r.name = target.name;
    r.kind = "dynamodb";
    r.table_metrics = TableMetrics{table.item_count, table.table_size_bytes, table.table_status,
                                   ttl.status, ""};
    r.scan.requests = call_stats.requests.load();
    r.scan.duration_seconds = steady_now() - started;
    r.extra["dynamodb"] = {{"region", service.region},
                           {"scan_skipped", "TTL is " + (ttl.status.empty() ? std::string("unknown")
                                                                            : ttl.status) +
                                                " and no ttl_attribute is configured"}};
    spdlog::info("dynamodb table without ttl target={} table={} ttl_status={}", target.name,
                 target.table, ttl.status);
    return r;
  }
  if (ttl_attribute.empty()) {
    throw Error(ErrorKind::kConfig,
                "no TTL attribute: DescribeTimeToLive reports none and ttl_attribute is not set");
  }

  TargetReport report;
  report.name = target.name;
  report.kind = "dynamodb";
  report.has_hygiene = true;
  TableMetrics metrics;
  metrics.item_count = table.item_count;
  metrics.table_size_bytes = table.table_size_bytes;
  metrics.table_status = table.table_status;
  metrics.ttl_status = ttl.status;
  metrics.ttl_attribute = ttl_attribute;
  report.table_metrics = metrics;
  nlohmann::json extra_dynamodb = {{"region", service.region}};
  if (!ttl.attribute.empty() && ttl.attribute != ttl_attribute) {
    // The table's TTL deletes by another attribute than the one audited: worth a loud note.
    extra_dynamodb["table_ttl_attribute"] = ttl.attribute;
    spdlog::warn("dynamodb ttl attribute mismatch target={} table={} configured={} table_ttl={}",
                 target.name, target.table, ttl_attribute, ttl.attribute);
  }

  dynamodb::ItemSchema schema;
  schema.ttl_attribute = ttl_attribute;
  schema.key_attributes.push_back(table.hash_key);
  if (!table.range_key.empty()) schema.key_attributes.push_back(table.range_key);
  if (target.group_by && (!target.group_by->attribute.empty() || !target.group_by->format.empty())) {
    schema.group_by = target.group_by;
  }
  const dynamodb::ScanPlan plan = dynamodb::make_scan_plan(
      target.table, schema, target.filter, ctx.as_of, options_.server_side_drop);

  // Which segments this run reads.
  const int shard_count = ctx.shard ? std::max(1, ctx.shard->second) : 1;
  const int shard_index = ctx.shard ? ctx.shard->first : 0;
  const bool sampling = target.sample && *target.sample > 0 && *target.sample < 1;
  uint64_t total_segments;
  uint64_t planned_segments = 0;
  std::vector<uint64_t> segments;
  if (sampling) {
    sampling::SamplePlan sp = sampling::plan_sample(*target.sample, ctx.seed);
    total_segments = sp.total_segments;
    planned_segments = sp.segments.size();
    for (uint64_t s : sp.segments) {
      if (static_cast<int>(s % static_cast<uint64_t>(shard_count)) == shard_index) {
        segments.push_back(s);
      }
    }
  } else {
    total_segments = full_scan_total_segments(target.segments, table.table_size_bytes,
                                              options_.default_segments, shard_count);
    for (uint64_t s = 0; s < total_segments; ++s) {
      if (static_cast<int>(s % static_cast<uint64_t>(shard_count)) == shard_index) {
        segments.push_back(s);
      }
    }
  }

  StatsOptions stats_options;
  stats_options.k = static_cast<size_t>(std::max(1, target.top_k));
  stats_options.top_groups = static_cast<size_t>(std::max(1, target.top_k));
  stats_options.seed = ctx.seed;
  stats_options.redact_keys = target.redact_keys;

  const int workers = static_cast<int>(std::min<uint64_t>(
      std::max<uint64_t>(1, segments.size()),
      static_cast<uint64_t>(ctx.threads > 0 ? ctx.threads : std::max(1, options_.default_workers))));
  RateLimiter limiter(target.max_read_units_per_second);
  // Bound on one page's cost: with a rate limit, each worker's share of the bucket (so all of them
  // can have a page in flight at once) but at least 2 units (4 blocks of 4 KB) when the bucket
  // holds that much, since every page pays for its last block whole; with a budget, a quarter of
  // the budget split over the workers (so stopping overshoots it by at most one such page per
  // worker). No Limit otherwise.
  double page_units = 0;
  if (limiter.rate() > 0) {
    page_units = std::max(limiter.burst() / workers, std::min(limiter.burst(), 2.0));
  }
  if (target.max_read_units > 0) {
    const double share = target.max_read_units / (4.0 * workers);
    page_units = page_units > 0 ? std::min(page_units, share) : share;
  }
  if (page_units > 0) page_units = std::min(std::max(page_units, 0.5), 128.0);
  // Deletion latency: each worker keeps a sample of expired keys to follow between runs.
  dynamodb::LatencyTracking latency(target, ctx);
  const std::vector<dynamodb::ExpiredItemObserver*> observers = latency.observers(workers);
  Shared shared;
  std::atomic<size_t> next_segment{0};
  std::vector<SegmentResult> results(segments.size());
  std::vector<TargetStats> worker_stats(static_cast<size_t>(workers), TargetStats(stats_options));
  // Progress: share of ItemCount on full scans (and shards); a sample's segments vary too much in
  // size for a share of items to mean much, so its progress counts segments.
  std::optional<int64_t> expected_items;
  if (!sampling && table.item_count && *table.item_count > 0) {
    expected_items = static_cast<int64_t>(std::llround(
        static_cast<double>(*table.item_count) * static_cast<double>(segments.size()) /
        static_cast<double>(std::max<uint64_t>(1, total_segments))));
  }

  auto report_progress = [&](bool force) {
    if (!ctx.progress) return;
    Progress p;
    {
      std::lock_guard<std::mutex> lock(shared.mu);
      double now = steady_now();
      if (!force && now - shared.last_progress < 0.25) return;
      shared.last_progress = now;
      p.items_scanned = shared.items_scanned;
      p.consumed_read_units = shared.consumed_units;
      p.segments_done = shared.segments_done;
    }
    p.segments_total = segments.size();
    p.items_expected = expected_items;
    ctx.progress(target.name, p);
  };

  // Decide, before each request, whether the run must stop.
  auto should_stop = [&]() -> bool {
    if (shared.stopping.load()) return true;
    std::lock_guard<std::mutex> lock(shared.mu);
    if (shared.stop != StopReason::kNone) return true;
    if (ctx.cancel && ctx.cancel->load()) {
      shared.stop = StopReason::kCancelled;
    } else if (target.max_read_units > 0 && shared.consumed_units >= target.max_read_units) {
      shared.stop = StopReason::kBudget;
    }
    if (shared.stop != StopReason::kNone) shared.stopping = true;
    return shared.stop != StopReason::kNone;
  };
  // A sampled run stopped by its read budget finishes the segments already started (no new one
  // starts): the kept segments are then a prefix of the plan's random order, whatever their
  // sizes. Dropping unfinished segments instead would drop the large ones (small segments
  // finish first) and bias every estimate low. Overshoot: at most one segment per worker.
  auto must_abandon = [&]() -> bool {
    if (!should_stop()) return false;
    std::lock_guard<std::mutex> lock(shared.mu);
    return !(sampling && shared.stop == StopReason::kBudget);
  };

  auto worker = [&](int w) {
    try {
      aws::AwsClient client(service, credentials, &call_stats);
      dynamodb::ScanPageParser parser(schema);
      if (!observers.empty()) parser.set_observer(observers[static_cast<size_t>(w)]);
      TargetStats& stats = worker_stats[static_cast<size_t>(w)];
      PageSizer sizer(page_units);
      while (true) {
        if (should_stop()) return;
        const size_t i = next_segment.fetch_add(1);
        if (i >= segments.size()) return;
        SegmentResult& seg = results[i];
        seg.segment = segments[i];
        std::string start_key;
        while (true) {
          if (must_abandon()) return;
          const double reserved = sizer.reservation();
          if (!limiter.reserve(reserved, ctx.cancel)) {
            should_stop();
            return;
          }
          std::string body;
          try {
            body = client.dynamodb("Scan", dynamodb::scan_request_body(
                                               plan, seg.segment, total_segments, start_key,
                                               sizer.limit()));
          } catch (const Error& e) {
            limiter.settle(reserved, 0);
            if (!segment_failure_is_local(e)) throw;
            seg.failure = e.what();
            spdlog::warn("dynamodb segment_failed target={} segment={} items_so_far={} error=\"{}\"",
                         target.name, seg.segment, seg.scanned, seg.failure);
            break;
          } catch (...) {
            limiter.settle(reserved, 0);
            throw;
          }
          dynamodb::ScanPageResult page =
              parser.parse(dynamodb::pad_in_place(body), ctx.as_of, stats);
          if (plan.server_drops_not_yet_expired) {
            const uint64_t dropped = page.scanned_count - page.count;
            page.class_counts[static_cast<size_t>(ItemClass::kNotYetExpired)] += dropped;
            stats.count(ItemClass::kNotYetExpired, dropped);
          }
          const double units = page.consumed_capacity.value_or(0);
          limiter.settle(reserved, units);
          sizer.observe(page.scanned_count, units);
          seg.scanned += page.scanned_count;
          seg.returned += page.count;
          seg.units += units;
          for (size_t c = 0; c < seg.classes.size(); ++c) seg.classes[c] += page.class_counts[c];
          {
            std::lock_guard<std::mutex> lock(shared.mu);
            shared.consumed_units += units;
            shared.items_scanned += page.scanned_count;
            shared.requests += 1;
          }
          report_progress(false);
          if (page.last_evaluated_key.empty()) break;
          start_key = std::move(page.last_evaluated_key);
        }
        if (seg.failure.empty()) seg.complete = true;
        {
          std::lock_guard<std::mutex> lock(shared.mu);
          shared.segments_done += 1;
        }
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(shared.mu);
      if (!shared.error) shared.error = std::current_exception();
      shared.stop = StopReason::kError;
      shared.stopping = true;
    }
  };

  if (workers == 1) {
    worker(0);
  } else {
    std::vector<std::thread> threads;
    threads.reserve(static_cast<size_t>(workers));
    for (int w = 0; w < workers; ++w) threads.emplace_back(worker, w);
    for (auto& t : threads) t.join();
  }
  if (shared.error) std::rethrow_exception(shared.error);
  report_progress(true);

  // Merge per-worker statistics (order-independent by the merge contract).
  TargetStats merged(stats_options);
  for (const TargetStats& s : worker_stats) merged.merge(s);
  report.stats = std::move(merged);

  uint64_t complete = 0;
  uint64_t returned = 0;
  for (const SegmentResult& r : results) {
    if (r.complete) ++complete;
    returned += r.returned;
  }
  report.scan.mode = sampling ? "sample" : "full";
  report.scan.items_scanned = shared.items_scanned;
  report.scan.segments_total = total_segments;
  report.scan.segments_scanned = complete;
  report.scan.consumed_read_units = shared.consumed_units;
  report.scan.requests = call_stats.requests.load();
  report.scan.duration_seconds = steady_now() - started;
  extra_dynamodb["retries"] = call_stats.retries.load();
  extra_dynamodb["throttles"] = call_stats.throttles.load();
  extra_dynamodb["server_side_drop"] = plan.server_drops_not_yet_expired;
  if (target.filter) {
    // Items the population filter excluded were read (and charged) but are in no class.
    extra_dynamodb["population_items"] = returned;
    extra_dynamodb["filtered_out_items"] = shared.items_scanned - returned;
  }
  if (limiter.rate() > 0) extra_dynamodb["rate_limit_wait_seconds"] = limiter.waited_seconds();

  // DynamoDB's projection carries no item sizes: expired.bytes is not measured (omitted).
  report.expired_bytes_measured = false;
  if (sampling) {
    SampleState st;
    st.table = target.table;
    st.fraction = *target.sample;
    st.seed = ctx.seed;
    st.total_segments = total_segments;
    st.planned_segments = planned_segments;
    st.shard_index = shard_index;
    st.shard_count = shard_count;
    st.budget_stopped = shared.stop == StopReason::kBudget;
    // Budget stops finish every started segment, so the complete ones are a prefix of the plan
    // order. A cancelled run may leave holes: keep the complete prefix only.
    for (const SegmentResult& r : results) {
      if (!r.complete) {
        if (shared.stop == StopReason::kBudget) continue;
        break;
      }
      SampledSegment g;
      g.segment = r.segment;
      g.classes = r.classes;
      g.scanned = r.scanned;
      g.units = r.units;
      st.segments.push_back(g);
    }
    report.sample = std::move(st);
    report.extra["dynamodb"] = extra_dynamodb;
    sampling::apply_sample_estimates(report);
    extra_dynamodb = report.extra["dynamodb"];
  } else if (complete < results.size() && table.item_count && *table.item_count > 0 &&
             shared.items_scanned > 0) {
    // Stopped early: what a full pass would cost at the rate seen so far (ItemCount is up to
    // six hours stale).
    report.scan.full_scan_read_units_estimate =
        shared.consumed_units / static_cast<double>(shared.items_scanned) *
        static_cast<double>(*table.item_count);
  }

  std::vector<const SegmentResult*> failed_segments;
  for (const SegmentResult& r : results) {
    if (!r.failure.empty()) failed_segments.push_back(&r);
  }
  if (!failed_segments.empty()) {
    // What was scanned is kept: exact counts become lower bounds (sample estimates come from
    // the completed segments only).
    nlohmann::json failed = nlohmann::json::array();
    for (const SegmentResult* r : failed_segments) {
      failed.push_back({{"segment", r->segment}, {"items_scanned", r->scanned}, {"error", r->failure}});
    }
    extra_dynamodb["failed_segments"] = failed;
    if (!sampling) extra_dynamodb["counts_are_lower_bounds"] = true;
    report.status = Status::kPartial;
    report.error = std::to_string(failed_segments.size()) + " of " +
                   std::to_string(results.size()) + " segments failed after retries (segment " +
                   std::to_string(failed_segments.front()->segment) + ": " +
                   failed_segments.front()->failure + "); " +
                   (sampling ? "the estimate uses the " + std::to_string(complete) +
                                   " completed segments"
                             : "counts are lower bounds from the " + std::to_string(complete) +
                                   " completed segments");
  }
  if (shared.stop == StopReason::kBudget) {
    report.status = Status::kPartial;
    report.error = "read budget of " + fmt::format("{:g}", target.max_read_units) +
                   " units reached after " + std::to_string(shared.items_scanned) + " items";
  } else if (shared.stop == StopReason::kCancelled) {
    report.status = Status::kPartial;
    report.error = "cancelled after " + std::to_string(shared.items_scanned) + " items";
  }
  report.extra["dynamodb"] = extra_dynamodb;
  // Is TTL keeping up? A shard sees part of the backlog only, so shards leave it out.
  if (target.cloudwatch && !ctx.shard) {
    report.extra["deletion"] = query_dynamodb_deletions(target, target.table, service, credentials,
                                                        ctx.as_of, report.expired_count_reported());
  }
  if (latency.enabled()) {
    const bool complete_full = !sampling && complete == results.size() &&
                               shared.stop == StopReason::kNone && failed_segments.empty();
    dynamodb::LatencyTracking::Io io;
    io.client = &main_client;
    io.limiter = &limiter;
    io.budgeted = target.max_read_units > 0;
    io.budget_left = target.max_read_units - shared.consumed_units;
    double units = 0;
    nlohmann::json fields =
        latency.finish(target.table, schema.key_attributes, complete_full, io, &units);
    report.scan.consumed_read_units += units;
    report.scan.requests = call_stats.requests.load();
    nlohmann::json& deletion = report.extra["deletion"];
    if (!deletion.is_object()) deletion = nlohmann::json::object();
    deletion.update(fields);
  }
  spdlog::info(
      "dynamodb audit done target={} table={} mode={} items_scanned={} expired={} "
      "segments_done={} segments_total={} read_units={:.1f} requests={} status={}",
      target.name, target.table, report.scan.mode, report.scan.items_scanned,
      report.stats.expired_count(), complete, total_segments, report.scan.consumed_read_units,
      report.scan.requests, to_string(report.status));
  return report;
}

}  // namespace

uint64_t full_scan_total_segments(int configured, std::optional<int64_t> table_size_bytes,
                                  int default_segments, int shard_count) {
  uint64_t total;
  if (configured > 0) {
    total = static_cast<uint64_t>(configured);
  } else {
    total = static_cast<uint64_t>(std::max(1, default_segments));
    if (table_size_bytes && *table_size_bytes > 0) {
      const uint64_t per_gib =
          static_cast<uint64_t>((*table_size_bytes + (int64_t{1} << 30) - 1) >> 30);
      total = std::max(total, std::min<uint64_t>(per_gib, 1000));
    }
  }
  const uint64_t n = static_cast<uint64_t>(std::max(1, shard_count));
  total = std::max(total, n);
  total = (total + n - 1) / n * n;
  return std::min<uint64_t>(total, sampling::kMaxTotalSegments);
}

std::unique_ptr<Source> make_dynamodb_source(DynamodbSourceOptions options) {
  return std::make_unique<DynamodbSource>(std::move(options));
}

std::unique_ptr<Source> make_dynamodb_source() {
  return make_dynamodb_source(DynamodbSourceOptions{});
}

}  // namespace ttla
