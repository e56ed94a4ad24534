#include "sources/dynamodb_source.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>


#include "aws/dynamodb_json.h"
#include "aws/endpoints.h"
#include "core/error.h"
#include "core/log.h"
#include "core/time.h"
#include "sources/aws_target.h"
#include "sources/deletion_rate.h"
#include "sources/dynamodb_kind.h"
#include "sources/dynamodb_latency.h"
#include "sources/dynamodb_request.h"
#include "sources/dynamodb_stream.h"
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

// Exact deletion latency from the table's stream when it has one whose view holds old images
// (sources/dynamodb_stream.h): merged into the report's deletion section. Never fails the audit.
void add_stream_latency(const TargetConfig& target, const RunContext& ctx,
                        const aws::ServiceConfig& service,
                        std::shared_ptr<aws::CredentialsProvider> credentials,
                        aws::CallStats* call_stats, RateLimiter* limiter, double budget_left,
                        std::string_view describe_table, const std::string& ttl_attribute,
                        TargetReport* report) {
  const std::optional<dynamodb::StreamSpec> spec = dynamodb::parse_table_stream(describe_table);
  if (!spec) return;
  nlohmann::json& deletion = report->extra["deletion"];
  if (!deletion.is_object()) deletion = nlohmann::json::object();
  if (!dynamodb::has_old_images(*spec)) {
    deletion["latency_stream"] = {
        {"stream_arn", spec->arn}, {"view_type", spec->view_type},
        {"note", "the stream's view holds no old images, so no TTL value to measure from"}};
    return;
  }
  aws::ServiceConfig streams = service;
  streams.endpoint_url =
      aws::resolve_endpoint("dynamodb_streams", target.endpoint_url, target.profile);
  aws::AwsClient client(streams, std::move(credentials), call_stats);
  dynamodb::StreamReadOptions o;
  o.ttl_attribute = ttl_attribute;
  o.window_end = ctx.as_of;
  o.window_start = ctx.as_of - dynamodb::kStreamWindowSeconds;
  o.limiter = limiter;
  o.budgeted = dynamodb_config(target).max_read_units > 0;
  o.budget_left = budget_left;
  o.cancel = ctx.cancel;
  const dynamodb::StreamRead read = dynamodb::read_stream(client, spec->arn, o);
  if (!read.error.empty()) {
    log::warn("dynamodb stream latency unavailable",
              Fields().add("target", target.name).add("stream", spec->arn).add("error", read.error));
  }
  dynamodb::merge_stream_latency(&deletion, *spec, read, o.window_start, o.window_end);
}

// What discovery learnt about the table.
struct TableFacts {
  std::string describe_table;  // DescribeTable's answer (the stream is read from it)
  dynamodb::TableDescription table;
  dynamodb::TtlDescription ttl;
  std::string ttl_attribute;   // the audited one: configured, else the table's (may be empty)
};

// How the scan runs: what it reads, which segments, how many workers, how large a page.
struct ScanSetup {
  dynamodb::ItemSchema schema;
  dynamodb::ScanPlan plan;
  bool sampling = false;
  uint64_t total_segments = 0;
  uint64_t planned_segments = 0;  // sample plan size (all shards)
  int shard_count = 1;
  int shard_index = 0;
  std::vector<uint64_t> segments;  // this run's, in plan order
  StatsOptions stats_options;
  int workers = 1;
  double page_units = 0;  // bound on one page's cost; 0: no Limit
  std::optional<int64_t> expected_items;
};

// Segments of a sample plan, or of a full scan of `total` segments, that fall to this shard.
std::vector<uint64_t> shard_segments(const std::vector<uint64_t>& all, int shard_count,
                                     int shard_index) {
  std::vector<uint64_t> mine;
  for (uint64_t s : all) {
    if (static_cast<int>(s % static_cast<uint64_t>(shard_count)) == shard_index) mine.push_back(s);
  }
  return mine;
}

// Bound on one page's cost: with a rate limit, each worker's share of the bucket (so all of them
// can have a page in flight at once) but at least 2 units (4 blocks of 4 KB) when the bucket
// holds that much, since every page pays for its last block whole; with a budget, a quarter of
// the budget split over the workers (so stopping overshoots it by at most one such page per
// worker). No Limit otherwise.
double page_units_for(const RateLimiter& limiter, double max_read_units, int workers) {
  double page_units = 0;
  if (limiter.rate() > 0) {
    page_units = std::max(limiter.burst() / workers, std::min(limiter.burst(), 2.0));
  }
  if (max_read_units > 0) {
    const double share = max_read_units / (4.0 * workers);
    page_units = page_units > 0 ? std::min(page_units, share) : share;
  }
  if (page_units > 0) page_units = std::min(std::max(page_units, 0.5), 128.0);
  return page_units;
}

// The scan: workers taking segments in plan order, sharing the limiter, the budget and the stop.
class ScanRun {
 public:
  ScanRun(const TargetConfig& target, const RunContext& ctx, const ScanSetup& setup,
          const aws::ServiceConfig& service, std::shared_ptr<aws::CredentialsProvider> credentials,
          aws::CallStats* call_stats, RateLimiter* limiter,
          std::vector<dynamodb::ExpiredItemObserver*> observers)
      : target_(target), ctx_(ctx), setup_(setup), service_(service),
        credentials_(std::move(credentials)), call_stats_(call_stats), limiter_(limiter),
        observers_(std::move(observers)) {
    results.resize(setup.segments.size());
    worker_stats.assign(static_cast<size_t>(setup.workers), TargetStats(setup.stats_options));
  }

  // Runs every worker to the end; a failure that concerns the whole target is in shared.error.
  void run() {
    if (setup_.workers == 1) {
      worker(0);
      return;
    }
    std::vector<std::thread> threads;
    threads.reserve(static_cast<size_t>(setup_.workers));
    for (int w = 0; w < setup_.workers; ++w) threads.emplace_back([this, w] { worker(w); });
    for (auto& t : threads) t.join();
  }

  // Progress: share of ItemCount on full scans (and shards); a sample's segments vary too much
  // in size for a share of items to mean much, so its progress counts segments.
  void report_progress(bool force) {
    if (!ctx_.progress) return;
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
    p.segments_total = setup_.segments.size();
    p.items_expected = setup_.expected_items;
    ctx_.progress(target_.name, p);
  }

  Shared shared;
  std::vector<SegmentResult> results;
  std::vector<TargetStats> worker_stats;

 private:
  // Decides, before each request, whether the run must stop.
  bool should_stop() {
    if (shared.stopping.load()) return true;
    std::lock_guard<std::mutex> lock(shared.mu);
    if (shared.stop != StopReason::kNone) return true;
    if (ctx_.cancel && ctx_.cancel->load()) {
      shared.stop = StopReason::kCancelled;
    } else if (own_.max_read_units > 0 && shared.consumed_units >= own_.max_read_units) {
      shared.stop = StopReason::kBudget;
    }
    if (shared.stop != StopReason::kNone) shared.stopping = true;
    return shared.stop != StopReason::kNone;
  }

  // A sampled run stopped by its read budget finishes the segments already started (no new one
  // starts): the kept segments are then a prefix of the plan's random order, whatever their
  // sizes. Dropping unfinished segments instead would drop the large ones (small segments
  // finish first) and bias every estimate low. Overshoot: at most one segment per worker.
  bool must_abandon() {
    if (!should_stop()) return false;
    std::lock_guard<std::mutex> lock(shared.mu);
    return !(setup_.sampling && shared.stop == StopReason::kBudget);
  }

  // One worker: segments in plan order until none is left or the run stops.
  void worker(int w) {
    try {
      aws::AwsClient client(service_, credentials_, call_stats_);
      dynamodb::ScanPageParser parser(setup_.schema);
      if (!observers_.empty()) parser.set_observer(observers_[static_cast<size_t>(w)]);
      PageSizer sizer(setup_.page_units);
      while (!should_stop()) {
        const size_t i = next_segment_.fetch_add(1);
        if (i >= setup_.segments.size()) return;
        SegmentResult& seg = results[i];
        seg.segment = setup_.segments[i];
        if (!scan_segment(client, parser, sizer, worker_stats[static_cast<size_t>(w)], seg)) return;
        if (seg.failure.empty()) seg.complete = true;
        std::lock_guard<std::mutex> lock(shared.mu);
        shared.segments_done += 1;
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(shared.mu);
      if (!shared.error) shared.error = std::current_exception();
      shared.stop = StopReason::kError;
      shared.stopping = true;
    }
  }

  // Pages of one segment until its last; false when the worker must stop (run stopping).
  // A request failure local to the segment is recorded in it (the others are still counted).
  bool scan_segment(aws::AwsClient& client, dynamodb::ScanPageParser& parser, PageSizer& sizer,
                    TargetStats& stats, SegmentResult& seg) {
    std::string start_key;
    while (true) {
      if (must_abandon()) return false;
      const double reserved = sizer.reservation();
      if (!limiter_->reserve(reserved, ctx_.cancel)) {
        should_stop();
        return false;
      }
      std::optional<std::string> body = request_page(client, seg, start_key, sizer, reserved);
      if (!body) return true;
      dynamodb::ScanPageResult page = parser.parse(dynamodb::pad_in_place(*body), ctx_.as_of, stats);
      client.recycle(std::move(*body));  // the next page reuses this buffer: flat memory
      record_page(page, reserved, sizer, stats, seg);
      report_progress(false);
      if (page.last_evaluated_key.empty()) return true;
      start_key = std::move(page.last_evaluated_key);
    }
  }

  // One Scan request; nullopt when it failed after its retries in a way local to the segment.
  std::optional<std::string> request_page(aws::AwsClient& client, SegmentResult& seg,
                                          const std::string& start_key, const PageSizer& sizer,
                                          double reserved) {
    try {
      return client.dynamodb("Scan", dynamodb::scan_request_body(setup_.plan, seg.segment,
                                                                 setup_.total_segments, start_key,
                                                                 sizer.limit()));
    } catch (const Error& e) {
      limiter_->settle(reserved, 0);
      if (!segment_failure_is_local(e)) throw;
      seg.failure = e.what();
      log::warn("dynamodb segment_failed", Fields()
                                                .add("target", target_.name)
                                                .add("segment", seg.segment)
                                                .add("items_so_far", seg.scanned)
                                                .add("error", seg.failure));
      return std::nullopt;
    } catch (...) {
      limiter_->settle(reserved, 0);
      throw;
    }
  }

  // Counts a parsed page in the segment, the limiter, the page sizer and the shared totals.
  void record_page(dynamodb::ScanPageResult& page, double reserved, PageSizer& sizer,
                   TargetStats& stats, SegmentResult& seg) {
    if (setup_.plan.server_drops_not_yet_expired) {
      const uint64_t dropped = page.scanned_count - page.count;
      page.class_counts[static_cast<size_t>(ItemClass::kNotYetExpired)] += dropped;
      stats.count(ItemClass::kNotYetExpired, dropped);
    }
    const double units = page.consumed_capacity.value_or(0);
    limiter_->settle(reserved, units);
    sizer.observe(page.scanned_count, units);
    seg.scanned += page.scanned_count;
    seg.returned += page.count;
    seg.units += units;
    for (size_t c = 0; c < seg.classes.size(); ++c) seg.classes[c] += page.class_counts[c];
    std::lock_guard<std::mutex> lock(shared.mu);
    shared.consumed_units += units;
    shared.items_scanned += page.scanned_count;
    shared.requests += 1;
  }

  const TargetConfig& target_;
  const DynamodbTargetConfig& own_ = dynamodb_config(target_);  // the target's dynamodb settings
  const RunContext& ctx_;
  const ScanSetup& setup_;
  const aws::ServiceConfig& service_;
  std::shared_ptr<aws::CredentialsProvider> credentials_;
  aws::CallStats* call_stats_;
  RateLimiter* limiter_;
  std::vector<dynamodb::ExpiredItemObserver*> observers_;
  std::atomic<size_t> next_segment_{0};
};

// One audit of one table, as its phases: discover -> plan -> scan -> evaluate -> deletion.
class DynamodbAudit {
 public:
  DynamodbAudit(const DynamodbSourceOptions& options, const TargetConfig& target,
                const RunContext& ctx)
      : options_(options), target_(target), ctx_(ctx), started_(steady_now()) {}

  TargetReport run() {
    if (own_.table.empty()) throw Error(ErrorKind::kConfig, "dynamodb target has no table");
    connect();
    aws::AwsClient main_client(service_, credentials_, &call_stats_);
    const TableFacts facts = discover(main_client);
    if (facts.ttl_attribute.empty() && own_.discovered) return ttl_less_report(facts);
    if (facts.ttl_attribute.empty()) {
      throw Error(ErrorKind::kConfig,
                  "no TTL attribute: DescribeTimeToLive reports none and ttl_attribute is not set");
    }
    TargetReport report = start_report(facts);
    RateLimiter limiter(own_.max_read_units_per_second);
    const ScanSetup setup = plan(facts, limiter);
    // Deletion latency: each worker keeps a sample of expired keys to follow between runs.
    dynamodb::LatencyTracking latency(target_, ctx_);
    ScanRun scan(target_, ctx_, setup, service_, credentials_, &call_stats_, &limiter,
                 latency.observers(setup.workers));
    scan.run();
    if (scan.shared.error) std::rethrow_exception(scan.shared.error);
    scan.report_progress(true);
    const bool complete_full = evaluate(facts, setup, scan, limiter, &report);
    add_deletion(facts, setup, scan, complete_full, main_client, limiter, latency, &report);
    log_done(report, setup);
    return report;
  }

 private:
  // Region, endpoint, HTTP/retry settings and credentials of the target.
  void connect() {
    const aws::TargetAccess access = aws_access(target_, "dynamodb");
    service_ = aws::target_service(access, http_options_for(target_, ctx_, options_.http),
                                   options_.retry);
    credentials_ = aws::target_credentials(access, service_.region, options_.credentials);
  }

  // DescribeTable and DescribeTimeToLive; the audited TTL attribute.
  TableFacts discover(aws::AwsClient& client) {
    TableFacts f;
    f.describe_table = client.dynamodb("DescribeTable", dynamodb::describe_table_body(own_.table));
    f.table = dynamodb::parse_describe_table(f.describe_table);
    f.ttl = dynamodb::parse_describe_ttl(
        client.dynamodb("DescribeTimeToLive", dynamodb::describe_ttl_body(own_.table)));
    f.ttl_attribute = own_.ttl_attribute.empty() ? f.ttl.attribute : own_.ttl_attribute;
    return f;
  }

  // A discovered table without TTL: nothing to classify by, and that is the finding
  // (ttl_disabled), not a failure of the audit.
  TargetReport ttl_less_report(const TableFacts& f) {
    TargetReport r;
    r.name = target_.name;
    r.kind = "dynamodb";
    r.table_metrics = TableMetrics{f.table.item_count, f.table.table_size_bytes,
                                   f.table.table_status, f.ttl.status, ""};
    r.scan.requests = call_stats_.requests.load();
    r.scan.duration_seconds = steady_now() - started_;
    const std::string status = f.ttl.status.empty() ? std::string("unknown") : f.ttl.status;
    r.extra["dynamodb"] = {{"region", service_.region},
                           {"scan_skipped",
                            "TTL is " + status + " and no ttl_attribute is configured"}};
    log::info("dynamodb table without ttl",
              Fields().add("target", target_.name).add("table", own_.table).add("ttl_status", f.ttl.status));
    return r;
  }

  // The report's identity and table metrics; notes a TTL attribute other than the table's.
  TargetReport start_report(const TableFacts& f) {
    TargetReport report;
    report.name = target_.name;
    report.kind = "dynamodb";
    report.has_hygiene = true;
    report.table_metrics = TableMetrics{f.table.item_count, f.table.table_size_bytes,
                                        f.table.table_status, f.ttl.status, f.ttl_attribute};
    extra_ = {{"region", service_.region}};
    if (!f.ttl.attribute.empty() && f.ttl.attribute != f.ttl_attribute) {
      // The table's TTL deletes by another attribute than the one audited: worth a loud note.
      extra_["table_ttl_attribute"] = f.ttl.attribute;
      log::warn("dynamodb ttl attribute mismatch", Fields()
                                                         .add("target", target_.name)
                                                         .add("table", own_.table)
                                                         .add("configured", f.ttl_attribute)
                                                         .add("table_ttl", f.ttl.attribute));
    }
    return report;
  }

  // What the scan projects and filters, which segments this run reads, workers and page size.
  ScanSetup plan(const TableFacts& f, const RateLimiter& limiter) {
    ScanSetup s;
    s.schema.ttl_attribute = f.ttl_attribute;
    s.schema.key_attributes.push_back(f.table.hash_key);
    if (!f.table.range_key.empty()) s.schema.key_attributes.push_back(f.table.range_key);
    if (own_.group_by && (!own_.group_by->attribute.empty() || !own_.group_by->format.empty())) {
      s.schema.group_by = own_.group_by;
    }
    s.plan = dynamodb::make_scan_plan(own_.table, s.schema, own_.filter, ctx_.as_of,
                                      options_.server_side_drop);
    s.shard_count = ctx_.shard ? std::max(1, ctx_.shard->second) : 1;
    s.shard_index = ctx_.shard ? ctx_.shard->first : 0;
    s.sampling = own_.sample && *own_.sample > 0 && *own_.sample < 1;
    std::vector<uint64_t> all;
    if (s.sampling) {
      sampling::SamplePlan sp = sampling::plan_sample(*own_.sample, ctx_.seed);
      s.total_segments = sp.total_segments;
      s.planned_segments = sp.segments.size();
      all = sp.segments;
    } else {
      s.total_segments = full_scan_total_segments(own_.segments, f.table.table_size_bytes,
                                                  options_.default_segments, s.shard_count);
      for (uint64_t i = 0; i < s.total_segments; ++i) all.push_back(i);
    }
    s.segments = shard_segments(all, s.shard_count, s.shard_index);
    s.stats_options.k = static_cast<size_t>(std::max(1, target_.top_k));
    s.stats_options.top_groups = static_cast<size_t>(std::max(1, target_.top_k));
    s.stats_options.seed = ctx_.seed;
    s.stats_options.redact_keys = target_.redact_keys;
    const int threads = ctx_.threads > 0 ? ctx_.threads : std::max(1, options_.default_workers);
    s.workers = static_cast<int>(std::min<uint64_t>(std::max<uint64_t>(1, s.segments.size()),
                                                    static_cast<uint64_t>(threads)));
    s.page_units = page_units_for(limiter, own_.max_read_units, s.workers);
    if (!s.sampling && f.table.item_count && *f.table.item_count > 0) {
      s.expected_items = static_cast<int64_t>(std::llround(
          static_cast<double>(*f.table.item_count) * static_cast<double>(s.segments.size()) /
          static_cast<double>(std::max<uint64_t>(1, s.total_segments))));
    }
    return s;
  }

  // Merged statistics, scan summary, sample estimates, failed segments and stop reasons.
  // Returns whether every segment of a full scan was read (what redacted latency needs).
  bool evaluate(const TableFacts& f, const ScanSetup& setup, const ScanRun& scan,
                const RateLimiter& limiter, TargetReport* report) {
    // Merge per-worker statistics (order-independent by the merge contract).
    TargetStats merged(setup.stats_options);
    for (const TargetStats& s : scan.worker_stats) merged.merge(s);
    report->stats = std::move(merged);
    uint64_t complete = 0;
    uint64_t returned = 0;
    for (const SegmentResult& r : scan.results) {
      if (r.complete) ++complete;
      returned += r.returned;
    }
    segments_complete_ = complete;
    summarize_scan(setup, scan, complete, report);
    extra_["retries"] = call_stats_.retries.load();
    extra_["throttles"] = call_stats_.throttles.load();
    extra_["server_side_drop"] = setup.plan.server_drops_not_yet_expired;
    if (own_.filter) {
      // Items the population filter excluded were read (and charged) but are in no class.
      extra_["population_items"] = returned;
      extra_["filtered_out_items"] = scan.shared.items_scanned - returned;
    }
    if (limiter.rate() > 0) extra_["rate_limit_wait_seconds"] = limiter.waited_seconds();
    // DynamoDB's projection carries no item sizes: expired.bytes is not measured (omitted).
    report->expired_bytes_measured = false;
    if (setup.sampling) {
      estimate_from_sample(setup, scan, report);
    } else if (complete < scan.results.size() && f.table.item_count && *f.table.item_count > 0 &&
               scan.shared.items_scanned > 0) {
      // Stopped early: what a full pass would cost at the rate seen so far (ItemCount is up to
      // six hours stale).
      report->scan.full_scan_read_units_estimate =
          scan.shared.consumed_units / static_cast<double>(scan.shared.items_scanned) *
          static_cast<double>(*f.table.item_count);
    }
    const size_t failed = mark_failed_segments(setup, scan, complete, report);
    mark_stop(scan, report);
    report->extra["dynamodb"] = extra_;
    return !setup.sampling && complete == scan.results.size() &&
           scan.shared.stop == StopReason::kNone && failed == 0;
  }

  // The report's scan section.
  void summarize_scan(const ScanSetup& setup, const ScanRun& scan, uint64_t complete,
                      TargetReport* report) {
    report->scan.mode = setup.sampling ? "sample" : "full";
    report->scan.items_scanned = scan.shared.items_scanned;
    report->scan.segments_total = setup.total_segments;
    report->scan.segments_scanned = complete;
    report->scan.consumed_read_units = scan.shared.consumed_units;
    report->scan.requests = call_stats_.requests.load();
    report->scan.duration_seconds = steady_now() - started_;
  }

  // Sample estimates from the completed segments. Budget stops finish every started segment, so
  // the complete ones are a prefix of the plan order; a cancelled run may leave holes: keep the
  // complete prefix only.
  void estimate_from_sample(const ScanSetup& setup, const ScanRun& scan, TargetReport* report) {
    SampleState st;
    st.table = own_.table;
    st.fraction = *own_.sample;
    st.seed = ctx_.seed;
    st.total_segments = setup.total_segments;
    st.planned_segments = setup.planned_segments;
    st.shard_index = setup.shard_index;
    st.shard_count = setup.shard_count;
    st.budget_stopped = scan.shared.stop == StopReason::kBudget;
    for (const SegmentResult& r : scan.results) {
      if (!r.complete) {
        if (scan.shared.stop == StopReason::kBudget) continue;
        break;
      }
      SampledSegment g;
      g.segment = r.segment;
      g.classes = r.classes;
      g.scanned = r.scanned;
      g.units = r.units;
      st.segments.push_back(g);
    }
    report->sample = std::move(st);
    report->extra["dynamodb"] = extra_;
    sampling::apply_sample_estimates(*report);
    extra_ = report->extra["dynamodb"];
  }

  // Segments that failed after their retries: what was scanned is kept (exact counts become
  // lower bounds; sample estimates come from the completed segments only). Returns how many.
  size_t mark_failed_segments(const ScanSetup& setup, const ScanRun& scan, uint64_t complete,
                              TargetReport* report) {
    std::vector<const SegmentResult*> failed;
    for (const SegmentResult& r : scan.results) {
      if (!r.failure.empty()) failed.push_back(&r);
    }
    if (failed.empty()) return 0;
    nlohmann::json list = nlohmann::json::array();
    for (const SegmentResult* r : failed) {
      list.push_back({{"segment", r->segment}, {"items_scanned", r->scanned}, {"error", r->failure}});
    }
    extra_["failed_segments"] = list;
    if (!setup.sampling) extra_["counts_are_lower_bounds"] = true;
    report->status = Status::kPartial;
    report->error = std::to_string(failed.size()) + " of " + std::to_string(scan.results.size()) +
                    " segments failed after retries (segment " +
                    std::to_string(failed.front()->segment) + ": " + failed.front()->failure +
                    "); " +
                    (setup.sampling ? "the estimate uses the " + std::to_string(complete) +
                                          " completed segments"
                                    : "counts are lower bounds from the " +
                                          std::to_string(complete) + " completed segments");
    return failed.size();
  }

  // A budget or a cancellation makes the target partial, with the reason.
  void mark_stop(const ScanRun& scan, TargetReport* report) {
    if (scan.shared.stop == StopReason::kBudget) {
      report->status = Status::kPartial;
      report->error = "read budget of " + fmt::format("{:g}", own_.max_read_units) +
                      " units reached after " + std::to_string(scan.shared.items_scanned) +
                      " items";
    } else if (scan.shared.stop == StopReason::kCancelled) {
      report->status = Status::kPartial;
      report->error = "cancelled after " + std::to_string(scan.shared.items_scanned) + " items";
    }
  }

  // Is TTL keeping up? CloudWatch's deletion rate, the snapshot latency and the stream's exact
  // latency. A shard sees part of the backlog only, so shards leave the rate and stream out.
  void add_deletion(const TableFacts& f, const ScanSetup& setup, const ScanRun& scan,
                    bool complete_full, aws::AwsClient& main_client, RateLimiter& limiter,
                    dynamodb::LatencyTracking& latency, TargetReport* report) {
    if (own_.cloudwatch && !ctx_.shard) {
      report->extra["deletion"] = query_dynamodb_deletions(
          target_, own_.table, service_, credentials_, ctx_.as_of, report->expired_count_reported());
    }
    double budget_left = own_.max_read_units - scan.shared.consumed_units;
    if (latency.enabled()) {
      dynamodb::LatencyTracking::Io io;
      io.client = &main_client;
      io.limiter = &limiter;
      io.budgeted = own_.max_read_units > 0;
      io.budget_left = budget_left;
      double units = 0;
      nlohmann::json fields =
          latency.finish(own_.table, setup.schema.key_attributes, complete_full, io, &units);
      report->scan.consumed_read_units += units;
      report->scan.requests = call_stats_.requests.load();
      nlohmann::json& deletion = report->extra["deletion"];
      if (!deletion.is_object()) deletion = nlohmann::json::object();
      deletion.update(fields);
      budget_left -= units;
    }
    if (own_.latency_stream && !ctx_.shard) {
      // The table's TTL deletes by its own attribute, whatever the audit classifies by.
      add_stream_latency(target_, ctx_, service_, credentials_, &call_stats_, &limiter, budget_left,
                         f.describe_table, f.ttl.attribute.empty() ? f.ttl_attribute : f.ttl.attribute,
                         report);
      report->scan.requests = call_stats_.requests.load();
    }
  }

  void log_done(const TargetReport& report, const ScanSetup& setup) {
    log::info("dynamodb audit done", Fields()
                                         .add("target", target_.name)
                                         .add("table", own_.table)
                                         .add("mode", report.scan.mode)
                                         .add("items_scanned", report.scan.items_scanned)
                                         .add("expired", report.stats.expired_count())
                                         .add("segments_done", segments_complete_)
                                         .add("segments_total", setup.total_segments)
                                         .add("read_units", report.scan.consumed_read_units, 1)
                                         .add("requests", report.scan.requests)
                                         .add("status", to_string(report.status)));
  }

  const DynamodbSourceOptions& options_;
  const TargetConfig& target_;
  const DynamodbTargetConfig& own_ = dynamodb_config(target_);  // the target's dynamodb settings
  const RunContext& ctx_;
  const double started_;
  aws::ServiceConfig service_;
  std::shared_ptr<aws::CredentialsProvider> credentials_;
  aws::CallStats call_stats_;
  nlohmann::json extra_;  // the report's extra.dynamodb, built along the phases
  uint64_t segments_complete_ = 0;
};

class DynamodbSource : public Source {
 public:
  explicit DynamodbSource(DynamodbSourceOptions options) : options_(std::move(options)) {}

  TargetReport audit(const TargetConfig& target, const RunContext& ctx) override {
    return DynamodbAudit(options_, target, ctx).run();
  }

 private:
  DynamodbSourceOptions options_;
};

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
