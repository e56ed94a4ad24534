#include "sources/s3_source.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/endpoints.h"
#include "aws/error_body.h"
#include "aws/s3_xml.h"
#include "core/error.h"
#include "core/log.h"
#include "core/time.h"
#include "sources/aws_target.h"
#include "sources/latency_tracker.h"
#include "sources/s3_kind.h"
#include "sources/s3_lifecycle.h"
#include "sources/target_limits.h"

namespace ttla {
namespace {

using Query = std::vector<std::pair<std::string, std::string>>;

struct RequestCounts {
  uint64_t list = 0;
  uint64_t head = 0;
  uint64_t get = 0;
  uint64_t dynamodb = 0;
};

[[noreturn]] void throw_s3_error(const aws::HttpResponse& r, const std::string& operation) {
  throw Error(ErrorKind::kHttp, operation + " failed: " + aws::describe_error(r.status, r.body));
}

std::string error_code(const aws::HttpResponse& r) { return aws::aws_error_code(r.body); }

// Bucket regions discovered in this process, per endpoint and bucket, so every later request
// (and every other target on the same bucket) is signed for the right region at once.
class BucketRegions {
 public:
  static BucketRegions& instance() {
    static BucketRegions r;
    return r;
  }
  std::optional<std::string> get(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = regions_.find(key);
    if (it == regions_.end()) return std::nullopt;
    return it->second;
  }
  void put(const std::string& key, const std::string& region) {
    std::lock_guard<std::mutex> lock(mu_);
    regions_[key] = region;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> regions_;
};

// The key prefix an object is grouped under: the target prefix plus `depth` more components.
std::string_view group_of(std::string_view key, std::string_view prefix, const std::string& delim,
                          int depth) {
  size_t pos = key.size() >= prefix.size() ? prefix.size() : 0;
  size_t end = pos;
  for (int d = 0; d < depth; ++d) {
    size_t at = key.find(delim, pos);
    if (at == std::string_view::npos) break;
    pos = at + delim.size();
    end = pos;
  }
  if (end == 0) return "(top)";
  return key.substr(0, end);
}

struct OrphanCandidate {
  uint64_t objects = 0;
  uint64_t bytes = 0;
  std::string first_key;
};

// How a phase ended: done (carry on with the next one), or stopped early by the request budget or
// a cancellation, with the reason (the target then becomes partial with what was gathered).
struct [[nodiscard]] Step {
  std::optional<std::string> stop_reason;
  bool stopped() const { return stop_reason.has_value(); }
};

// One audit of one target: the phases below share what they learn through its members.
class S3Audit {
 public:
  S3Audit(const S3SourceOptions& options, const TargetConfig& target, const RunContext& ctx);
  TargetReport run();

 private:
  // The phases, in order.
  Step read_versioning();
  Step read_lifecycle();
  Step list_objects();
  Step list_uploads();
  Step list_versions();
  Step size_stale_uploads();
  Step find_orphans();
  std::optional<std::string> run_phases();
  void fill_report(const std::optional<std::string>& stop_reason);

  // Requests: every one is admitted first (cancellation, budget), then counted.
  Step admit(const std::string& phase);
  Step fetch(const std::string& phase, std::string_view key, const Query& q, aws::HttpResponse* out);
  Step request(uint64_t& counter, const std::string& phase, std::string_view key, const Query& q,
               aws::HttpResponse* out);
  Step call_dynamodb(aws::AwsClient& ddb, const char* op, const std::string& body, std::string* out);

  // Per listed object and upload.
  Step evaluate_object(const s3::ObjectEntry& o);
  Step object_deadline(const s3::ObjectEntry& o, std::optional<int64_t>* deadline);
  void note_orphan_candidate(const s3::ObjectEntry& o);
  void track_for_latency(const s3::ObjectEntry& o, std::optional<int64_t> deadline);
  void evaluate_upload(s3::UploadEntry& u);

  // Orphans: ids captured from keys looked up in a DynamoDB table.
  aws::ServiceConfig orphan_table_service() const;
  Step orphan_key_type(aws::AwsClient& ddb, std::string* key_type);
  Step look_up_ids(aws::AwsClient& ddb, const std::string& key_type, std::set<std::string>* found);
  Step look_up_batch(aws::AwsClient& ddb, nlohmann::json request, std::set<std::string>* found);
  nlohmann::json orphans_section(const std::set<std::string>& found) const;

  // The report's `deletion` (latency) and `s3` sections.
  nlohmann::json latency_fields(const std::optional<std::string>& stop_reason);
  void add_lifecycle_fields(nlohmann::json& extra) const;
  void add_listing_fields(nlohmann::json& extra) const;

  const S3SourceOptions& options_;
  const TargetConfig& target_;
  const S3TargetConfig& own_ = s3_config(target_);  // the target's s3 settings
  const RunContext& ctx_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();

  aws::ServiceConfig service_;     // the configured region and endpoint
  aws::ServiceConfig s3_service_;  // signed for the bucket's own region once known
  std::shared_ptr<aws::CredentialsProvider> credentials_;
  aws::CallStats call_stats_;
  std::string region_key_;
  std::unique_ptr<aws::AwsClient> client_;
  uint64_t region_redirects_ = 0;
  RequestCounts counts_;

  TargetReport report_;
  StatsOptions stats_options_;
  std::string group_delim_;
  int group_depth_ = 1;
  std::optional<std::regex> orphan_re_;

  std::string versioning_ = "unknown";
  std::string lifecycle_state_ = "none";
  std::string lifecycle_note_;
  s3::Lifecycle lifecycle_;
  uint64_t tags_read_ = 0;    // GetObjectTagging requests (read_tags budget)
  uint64_t tags_unread_ = 0;  // objects a tag rule may expire whose tags were past the budget

  uint64_t objects_ = 0;
  uint64_t bytes_ = 0;
  bool objects_complete_ = false;
  TopGroups top_prefixes_{1024};
  std::map<std::string, OrphanCandidate> candidates_;
  uint64_t orphan_candidate_objects_ = 0;

  std::optional<MultipartInfo> multipart_;
  uint64_t uploads_total_ = 0;
  std::vector<std::pair<int64_t, s3::UploadEntry>> stale_uploads_;  // (initiated, upload)
  std::optional<uint64_t> oldest_parts_bytes_;
  uint64_t uploads_sized_ = 0;

  std::optional<s3::NoncurrentWalker::Result> versions_result_;
  std::optional<nlohmann::json> orphans_json_;

  // Deletion latency: the expired objects tracked between runs, and what the listing saw of the
  // ones tracked before.
  LatencyRun latency_;
  KeySample latency_sample_;
  ListedItems listed_;
  std::string hash_key_;  // "bucket/key" of the object being hashed
};

// Setup, before any request: endpoint, credentials, the client signed for the bucket's cached
// region, the report's statistics and the orphan key pattern.
S3Audit::S3Audit(const S3SourceOptions& options, const TargetConfig& target, const RunContext& ctx)
    : options_(options),
      target_(target),
      ctx_(ctx),
      latency_(target.name, target.redact_keys, s3_config(target).latency_track_keys,
               "s3://" + s3_config(target).bucket + "/" + s3_config(target).prefix, ctx),
      latency_sample_(latency_.sample()),
      listed_(latency_.previous().tracked) {
  const aws::TargetAccess access = aws_access(target, "s3");
  service_ = aws::target_service(access, http_options_for(target, ctx, options.http), options.retry);
  credentials_ = aws::target_credentials(access, service_.region, options.credentials);
  // The bucket's own region signs its requests: a cached discovery first, else the configured
  // region until S3 says otherwise (see fetch), then re-signed and remembered.
  region_key_ = target.endpoint_url + "|" + s3_config(target).bucket;
  s3_service_ = service_;
  if (auto cached = BucketRegions::instance().get(region_key_)) s3_service_.region = *cached;
  client_ = std::make_unique<aws::AwsClient>(s3_service_, credentials_, &call_stats_);

  report_.name = target.name;
  report_.kind = "s3";
  report_.scan.mode = "full";
  stats_options_.k = static_cast<size_t>(std::max(1, target.top_k));
  stats_options_.top_groups = static_cast<size_t>(std::max(1, target.top_k));
  stats_options_.seed = ctx.seed;
  stats_options_.redact_keys = target.redact_keys;
  report_.stats = TargetStats(stats_options_);

  group_delim_ = s3_config(target).group_by && !s3_config(target).group_by->delimiter.empty() ? s3_config(target).group_by->delimiter
                                                                         : std::string("/");
  group_depth_ = s3_config(target).group_by ? std::max(1, s3_config(target).group_by->depth) : 1;
  if (s3_config(target).orphans) {
    try {
      orphan_re_.emplace(s3_config(target).orphans->key_regex);
    } catch (const std::regex_error& e) {
      throw Error(ErrorKind::kConfig, "orphans.key_regex: " + std::string(e.what()));
    }
  }
}

// discover (versioning, lifecycle) -> list (objects, uploads, versions, parts) -> evaluate
// (orphans) -> report. A phase that stops early ends the run with what was gathered; a request cut
// short because the target was told to stop (max_duration, signal) is such a stop too.
TargetReport S3Audit::run() {
  std::optional<std::string> stop_reason;
  try {
    stop_reason = run_phases();
    if (stop_reason) {
      *stop_reason += " after " + std::to_string(call_stats_.requests.load()) + " requests (" +
                      std::to_string(objects_) + " objects seen)";
    }
  } catch (const Error& e) {
    if (ctx_.cancel == nullptr || !ctx_.cancel->load()) throw;
    stop_reason = "cancelled during a request (" + std::string(e.what()) + ") after " +
                  std::to_string(call_stats_.requests.load()) + " requests (" +
                  std::to_string(objects_) + " objects seen)";
  }
  fill_report(stop_reason);
  return std::move(report_);
}

// Runs the phases in order; the reason of the first that stops early, else none.
std::optional<std::string> S3Audit::run_phases() {
  for (Step (S3Audit::*phase)() :
       {&S3Audit::read_versioning, &S3Audit::read_lifecycle, &S3Audit::list_objects,
        &S3Audit::list_uploads, &S3Audit::list_versions, &S3Audit::size_stale_uploads,
        &S3Audit::find_orphans}) {
    Step step = (this->*phase)();
    if (step.stopped()) return step.stop_reason;
  }
  return std::nullopt;
}

// Cancellation and the request budget, checked before every request.
Step S3Audit::admit(const std::string& phase) {
  if (ctx_.cancel != nullptr && ctx_.cancel->load()) return {"cancelled while " + phase};
  if (own_.max_requests > 0 && call_stats_.requests.load() >= own_.max_requests) {
    return {"request budget of " + std::to_string(own_.max_requests) + " reached while " + phase};
  }
  return {};
}

// One S3 GET, re-signed once for the bucket's region when the answer names another one (301
// PermanentRedirect / 400 AuthorizationHeaderMalformed; HeadBucket's x-amz-bucket-region when
// the answer names none).
Step S3Audit::fetch(const std::string& phase, std::string_view key, const Query& q,
                    aws::HttpResponse* out) {
  *out = client_->s3("GET", own_.bucket, key, q);
  const aws::HttpResponse& r = *out;
  if (r.status != 301 && r.status != 307 && r.status != 400) return {};
  std::string region = s3::region_hint(r.status, r.header("x-amz-bucket-region"), r.body);
  const std::string code = error_code(r);
  if (region.empty() && (r.status != 400 || code == "AuthorizationHeaderMalformed")) {
    if (Step s = admit(phase); s.stopped()) return s;
    ++counts_.head;
    aws::HttpResponse h = client_->s3("HEAD", own_.bucket, "", {});
    if (const std::string* v = h.header("x-amz-bucket-region")) region = *v;
  }
  if (region.empty() || region == s3_service_.region) return {};
  log::info("s3 bucket region", Fields()
                                     .add("target", target_.name)
                                     .add("bucket", own_.bucket)
                                     .add("signed_for", s3_service_.region)
                                     .add("bucket_region", region)
                                     .add("status", r.status)
                                     .add("code", code.empty() ? "-" : code));
  s3_service_.region = region;
  BucketRegions::instance().put(region_key_, region);
  client_ = std::make_unique<aws::AwsClient>(s3_service_, credentials_, &call_stats_);
  ++region_redirects_;
  if (Step s = admit(phase); s.stopped()) return s;
  *out = client_->s3("GET", own_.bucket, key, q);
  return {};
}

// An admitted, counted S3 GET.
Step S3Audit::request(uint64_t& counter, const std::string& phase, std::string_view key,
                      const Query& q, aws::HttpResponse* out) {
  if (Step s = admit(phase); s.stopped()) return s;
  ++counter;
  return fetch(phase, key, q, out);
}

// An admitted, counted DynamoDB call (orphan lookups).
Step S3Audit::call_dynamodb(aws::AwsClient& ddb, const char* op, const std::string& body,
                            std::string* out) {
  if (Step s = admit("looking up orphan ids"); s.stopped()) return s;
  ++counts_.dynamodb;
  *out = ddb.dynamodb(op, body);
  return {};
}

// GetBucketVersioning: whether noncurrent versions can exist.
Step S3Audit::read_versioning() {
  aws::HttpResponse r;
  if (Step s = request(counts_.get, "reading versioning", "", {{"versioning", ""}}, &r); s.stopped()) {
    return s;
  }
  if (r.status == 200) {
    std::string status = s3::parse_versioning_status(r.body);
    versioning_ = status.empty() ? "Disabled" : status;
  } else if (r.status == 501 || error_code(r) == "NotImplemented") {
    versioning_ = "unknown";
  } else {
    throw_s3_error(r, "GetBucketVersioning");
  }
  return {};
}

// GetBucketLifecycleConfiguration: the rules that judge every object, upload and version.
Step S3Audit::read_lifecycle() {
  aws::HttpResponse r;
  if (Step s = request(counts_.get, "reading lifecycle", "", {{"lifecycle", ""}}, &r); s.stopped()) {
    return s;
  }
  const std::string code = r.status == 200 ? std::string() : error_code(r);
  std::vector<s3::LifecycleRule> rules;
  if (r.status == 200 && s3::is_lifecycle_document(r.body)) {
    rules = s3::parse_lifecycle(r.body);
    lifecycle_state_ = "present";
  } else if (r.status == 200) {
    // Swift's s3api ignores the ?lifecycle subresource and lists the bucket instead.
    lifecycle_state_ = "not_implemented";
    lifecycle_note_ = "server answered ?lifecycle with a non-lifecycle document";
  } else if (r.status == 404 && code == "NoSuchLifecycleConfiguration") {
    lifecycle_state_ = "none";
  } else if (r.status == 501 || code == "NotImplemented") {
    lifecycle_state_ = "not_implemented";
    lifecycle_note_ = (code.empty() ? std::string("HTTP") : code) + " (HTTP " +
                      std::to_string(r.status) + ")";
  } else {
    throw_s3_error(r, "GetBucketLifecycleConfiguration");
  }
  if (lifecycle_state_ != "present") {
    log::info("s3 lifecycle",
              Fields().add("target", target_.name).add("bucket", own_.bucket).add("state", lifecycle_state_));
  }
  lifecycle_ = s3::Lifecycle(rules, own_.prefix, own_.read_tags > 0);
  return {};
}

// ListObjectsV2 over the prefix, every page: each current object judged on its deadline.
Step S3Audit::list_objects() {
  std::string token;
  while (true) {
    Query q = {{"list-type", "2"}, {"encoding-type", "url"}, {"max-keys", "1000"}};
    if (!own_.prefix.empty()) q.emplace_back("prefix", own_.prefix);
    if (!token.empty()) q.emplace_back("continuation-token", token);
    aws::HttpResponse r;
    if (Step s = request(counts_.list, "listing objects", "", q, &r); s.stopped()) return s;
    if (r.status != 200) throw_s3_error(r, "ListObjectsV2");
    s3::ListObjectsPage page = s3::parse_list_objects_v2(r.body);
    for (const s3::ObjectEntry& o : page.objects) {
      if (Step s = evaluate_object(o); s.stopped()) return s;
    }
    if (ctx_.progress) {
      Progress p;
      p.items_scanned = objects_;
      ctx_.progress(target_.name, p);
    }
    if (!page.truncated) break;
    token = page.next_continuation_token;
  }
  objects_complete_ = true;
  return {};
}

// One listed object: counted, grouped, expired or not, and maybe an orphan candidate.
Step S3Audit::evaluate_object(const s3::ObjectEntry& o) {
  ++objects_;
  bytes_ += o.size;
  std::string_view group = group_of(o.key, own_.prefix, group_delim_, group_depth_);
  top_prefixes_.add(group);
  std::optional<int64_t> deadline;
  if (Step s = object_deadline(o, &deadline); s.stopped()) return s;
  if (deadline) {
    if (*deadline <= ctx_.as_of) {
      report_.stats.add_expired(o.key, static_cast<double>(*deadline),
                                static_cast<double>(ctx_.as_of - *deadline), o.size,
                                own_.group_by ? group : std::string_view());
    } else {
      report_.stats.count(ItemClass::kNotYetExpired);
    }
  }
  note_orphan_candidate(o);
  track_for_latency(o, deadline);
  return {};
}

// The object's expiry: the configured retention, else its lifecycle rules, reading its tags
// (GetObjectTagging, within `read_tags`) only when a tag-filtered rule may expire it.
Step S3Audit::object_deadline(const s3::ObjectEntry& o, std::optional<int64_t>* deadline) {
  if (target_.retention) {
    *deadline = s3::lifecycle_deadline_seconds(o.last_modified, *target_.retention);
    return {};
  }
  std::vector<s3::LifecycleTag> tags;
  bool have_tags = false;
  if (lifecycle_.needs_tags(o.key, o.size)) {
    if (tags_read_ < own_.read_tags) {
      if (Step s = admit("reading object tags"); s.stopped()) return s;
      ++counts_.get;
      ++tags_read_;
      aws::HttpResponse r;
      if (Step s = fetch("reading object tags", o.key, {{"tagging", ""}}, &r); s.stopped()) return s;
      if (r.status == 200) {
        tags = s3::parse_object_tagging(r.body);
        have_tags = true;
      } else if (r.status != 404) {  // 404: deleted since it was listed
        throw_s3_error(r, "GetObjectTagging");
      }
    } else {
      ++tags_unread_;
    }
  }
  *deadline = lifecycle_.expiration_deadline(o.key, o.size, o.last_modified, have_tags ? &tags : nullptr);
  return {};
}

// With `orphans`: an object old enough whose key captures an id is grouped under that id.
void S3Audit::note_orphan_candidate(const s3::ObjectEntry& o) {
  if (!orphan_re_ || ctx_.as_of - o.last_modified < own_.orphans->min_age) return;
  std::smatch m;
  if (std::regex_search(o.key, m, *orphan_re_) && m.size() > 1 && m[1].matched && m[1].length() > 0) {
    OrphanCandidate& c = candidates_[m[1].str()];
    if (c.objects == 0) c.first_key = o.key;
    ++c.objects;
    c.bytes += o.size;
    ++orphan_candidate_objects_;
  }
}

// Deletion latency: every listed object tells whether a tracked one is still there (with the same
// deadline); expired ones compete for this run's sample by the keyed hash of "bucket/key".
void S3Audit::track_for_latency(const s3::ObjectEntry& o, std::optional<int64_t> deadline) {
  if (!latency_.enabled()) return;
  hash_key_.assign(own_.bucket).append("/").append(o.key);
  const uint64_t h = latency_sample_.hash(hash_key_);
  std::optional<double> d;
  if (deadline) d = static_cast<double>(*deadline);
  listed_.saw(h, d);
  if (deadline && *deadline <= ctx_.as_of && latency_sample_.wants(h)) {
    latency_sample_.add(h, *d, target_.redact_keys ? std::string() : o.key);
  }
}

// ListMultipartUploads over the prefix: uploads past their abort deadline are stale.
Step S3Audit::list_uploads() {
  multipart_ = MultipartInfo{};
  std::string key_marker, upload_marker;
  while (true) {
    Query q = {{"uploads", ""}, {"encoding-type", "url"}};
    if (!own_.prefix.empty()) q.emplace_back("prefix", own_.prefix);
    if (!key_marker.empty()) q.emplace_back("key-marker", key_marker);
    if (!upload_marker.empty()) q.emplace_back("upload-id-marker", upload_marker);
    aws::HttpResponse r;
    if (Step s = request(counts_.list, "listing multipart uploads", "", q, &r); s.stopped()) return s;
    if (r.status != 200) throw_s3_error(r, "ListMultipartUploads");
    s3::ListUploadsPage page = s3::parse_list_multipart_uploads(r.body);
    for (s3::UploadEntry& u : page.uploads) evaluate_upload(u);
    if (!page.truncated) break;
    key_marker = page.next_key_marker;
    upload_marker = page.next_upload_id_marker;
  }
  return {};
}

// One upload: stale when its abort deadline (multipart_max_age, else the lifecycle) has passed.
void S3Audit::evaluate_upload(s3::UploadEntry& u) {
  ++uploads_total_;
  std::optional<int64_t> deadline;
  if (own_.multipart_max_age) {
    deadline = s3::lifecycle_deadline_seconds(u.initiated, *own_.multipart_max_age);
  } else {
    deadline = lifecycle_.abort_deadline(u.key, u.initiated);
  }
  if (deadline && *deadline <= ctx_.as_of) {
    ++multipart_->stale_count;
    multipart_->oldest_age_seconds =
        std::max(multipart_->oldest_age_seconds, static_cast<double>(ctx_.as_of - u.initiated));
    stale_uploads_.emplace_back(u.initiated, std::move(u));
  }
}

// ListObjectVersions, on versioned buckets or with noncurrent_retention: noncurrent versions past
// retention and lone delete markers.
Step S3Audit::list_versions() {
  const bool versioned = versioning_ == "Enabled" || versioning_ == "Suspended";
  if (!versioned && !own_.noncurrent_retention) return {};
  s3::NoncurrentWalker walker(ctx_.as_of, own_.noncurrent_retention, &lifecycle_);
  std::string key_marker, version_marker;
  while (true) {
    Query q = {{"versions", ""}, {"encoding-type", "url"}};
    if (!own_.prefix.empty()) q.emplace_back("prefix", own_.prefix);
    if (!key_marker.empty()) q.emplace_back("key-marker", key_marker);
    if (!version_marker.empty()) q.emplace_back("version-id-marker", version_marker);
    aws::HttpResponse r;
    if (Step s = request(counts_.list, "listing object versions", "", q, &r); s.stopped()) return s;
    if (r.status != 200) throw_s3_error(r, "ListObjectVersions");
    s3::ListVersionsPage page = s3::parse_list_object_versions(r.body);
    s3::order_version_page(page.entries);
    for (const s3::VersionEntry& e : page.entries) walker.add(e);
    if (!page.truncated) break;
    key_marker = page.next_key_marker;
    version_marker = page.next_version_id_marker;
  }
  walker.finish();
  versions_result_ = walker.result();
  return {};
}

// ListParts for the oldest few stale uploads only: one request per page per upload.
Step S3Audit::size_stale_uploads() {
  std::sort(stale_uploads_.begin(), stale_uploads_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  const size_t limit = static_cast<size_t>(std::max(0, options_.list_parts_uploads));
  for (size_t i = 0; i < stale_uploads_.size() && i < limit; ++i) {
    const s3::UploadEntry& u = stale_uploads_[i].second;
    uint64_t sum = 0;
    std::string part_marker;
    for (int pages = 0; pages < options_.list_parts_pages; ++pages) {
      Query q = {{"uploadId", u.upload_id}};
      if (!part_marker.empty()) q.emplace_back("part-number-marker", part_marker);
      aws::HttpResponse r;
      if (Step s = request(counts_.list, "listing parts of stale uploads", u.key, q, &r); s.stopped()) {
        return s;
      }
      if (r.status == 404) break;  // completed or aborted since it was listed
      if (r.status != 200) throw_s3_error(r, "ListParts");
      s3::ListPartsPage page = s3::parse_list_parts(r.body);
      sum += page.bytes;
      if (!page.truncated || page.next_part_number_marker.empty()) break;
      part_marker = page.next_part_number_marker;
    }
    oldest_parts_bytes_ = oldest_parts_bytes_.value_or(0) + sum;
    ++uploads_sized_;
  }
  return {};
}

// With `orphans`: BatchGetItem the captured ids, 100 per call, projecting the key only.
Step S3Audit::find_orphans() {
  if (!own_.orphans) return {};
  aws::AwsClient ddb(orphan_table_service(), credentials_, &call_stats_);
  std::string key_type;
  if (Step s = orphan_key_type(ddb, &key_type); s.stopped()) return s;
  std::set<std::string> found;
  if (Step s = look_up_ids(ddb, key_type, &found); s.stopped()) return s;
  orphans_json_ = orphans_section(found);
  return {};
}

// The orphan table's endpoint: its own, else the target's, else the resolved DynamoDB one.
aws::ServiceConfig S3Audit::orphan_table_service() const {
  const Orphans& o = *own_.orphans;
  aws::ServiceConfig dynamo = service_;
  dynamo.endpoint_url = !o.endpoint_url.empty()        ? o.endpoint_url
                        : !target_.endpoint_url.empty() ? target_.endpoint_url
                                                        : aws::resolve_endpoint("dynamodb", "", target_.profile);
  dynamo.s3_path_style = false;
  return dynamo;
}

// DescribeTable: the key attribute's type, and that it is the whole primary key (BatchGetItem
// needs it).
Step S3Audit::orphan_key_type(aws::AwsClient& ddb, std::string* key_type) {
  const Orphans& o = *own_.orphans;
  std::string body;
  if (Step s = call_dynamodb(ddb, "DescribeTable", nlohmann::json{{"TableName", o.dynamodb_table}}.dump(), &body);
      s.stopped()) {
    return s;
  }
  nlohmann::json table = nlohmann::json::parse(body, nullptr, false);
  if (table.is_discarded() || !table.contains("Table")) {
    throw Error(ErrorKind::kParse, "DescribeTable " + o.dynamodb_table + ": unexpected answer");
  }
  *key_type = "S";
  for (const auto& k : table["Table"].value("KeySchema", nlohmann::json::array())) {
    if (k.value("KeyType", "") == "RANGE") {
      throw Error(ErrorKind::kConfig, "orphans.dynamodb_table " + o.dynamodb_table +
                                          " has a sort key: ids cannot be looked up alone");
    }
    if (k.value("KeyType", "") == "HASH" && k.value("AttributeName", "") != o.key_attribute) {
      throw Error(ErrorKind::kConfig, "orphans.key_attribute " + o.key_attribute +
                                          " is not the partition key of " + o.dynamodb_table +
                                          " (" + k.value("AttributeName", "") + ")");
    }
  }
  for (const auto& d : table["Table"].value("AttributeDefinitions", nlohmann::json::array())) {
    if (d.value("AttributeName", "") == o.key_attribute) *key_type = d.value("AttributeType", "S");
  }
  return {};
}

// Every candidate id, 100 per BatchGetItem; the ids the table holds go into `found`.
Step S3Audit::look_up_ids(aws::AwsClient& ddb, const std::string& key_type,
                          std::set<std::string>* found) {
  const Orphans& o = *own_.orphans;
  std::vector<const std::string*> ids;
  ids.reserve(candidates_.size());
  for (const auto& [id, c] : candidates_) ids.push_back(&id);
  for (size_t at = 0; at < ids.size(); at += 100) {
    nlohmann::json keys = nlohmann::json::array();
    for (size_t i = at; i < ids.size() && i < at + 100; ++i) {
      keys.push_back({{o.key_attribute, {{key_type, *ids[i]}}}});
    }
    nlohmann::json request = {
        {o.dynamodb_table,
         {{"Keys", keys}, {"ProjectionExpression", "#k"},
          {"ExpressionAttributeNames", {{"#k", o.key_attribute}}}}}};
    if (Step s = look_up_batch(ddb, std::move(request), found); s.stopped()) return s;
  }
  return {};
}

// One BatchGetItem, asked again for its UnprocessedKeys with exponential backoff.
Step S3Audit::look_up_batch(aws::AwsClient& ddb, nlohmann::json request, std::set<std::string>* found) {
  const Orphans& o = *own_.orphans;
  for (int attempt = 0;; ++attempt) {
    std::string body;
    if (Step s = call_dynamodb(ddb, "BatchGetItem", nlohmann::json{{"RequestItems", request}}.dump(), &body);
        s.stopped()) {
      return s;
    }
    nlohmann::json answer = nlohmann::json::parse(body, nullptr, false);
    if (answer.is_discarded()) throw Error(ErrorKind::kParse, "BatchGetItem: not JSON");
    if (answer.contains("Responses") && answer["Responses"].contains(o.dynamodb_table)) {
      for (const auto& item : answer["Responses"][o.dynamodb_table]) {
        auto a = item.find(o.key_attribute);
        if (a == item.end() || !a->is_object() || a->empty()) continue;
        const auto& v = a->begin().value();
        if (v.is_string()) found->insert(v.get<std::string>());
      }
    }
    auto un = answer.find("UnprocessedKeys");
    if (un == answer.end() || !un->is_object() || un->empty()) return {};
    if (attempt + 1 >= options_.batch_get_attempts) {
      throw Error(ErrorKind::kThrottled, "BatchGetItem: keys still unprocessed after " +
                                             std::to_string(options_.batch_get_attempts) + " attempts");
    }
    request = *un;
    std::this_thread::sleep_for(std::chrono::duration<double>(
        std::min(2.0, options_.batch_get_base_delay_seconds * double(1u << attempt))));
  }
}

// The `orphans` section: candidates whose id the table does not hold.
nlohmann::json S3Audit::orphans_section(const std::set<std::string>& found) const {
  uint64_t orphan_objects = 0, orphan_bytes = 0, orphan_ids = 0;
  nlohmann::json samples = nlohmann::json::array();
  for (const auto& [id, c] : candidates_) {
    if (found.count(id)) continue;
    ++orphan_ids;
    orphan_objects += c.objects;
    orphan_bytes += c.bytes;
    if (samples.size() < static_cast<size_t>(std::max(0, options_.orphan_samples))) {
      samples.push_back(target_.redact_keys ? redact_key(c.first_key, ctx_.seed) : c.first_key);
    }
  }
  return nlohmann::json{{"table", own_.orphans->dynamodb_table},
                        {"count", orphan_objects},
                        {"bytes", orphan_bytes},
                        {"ids", orphan_ids},
                        {"ids_checked", candidates_.size()},
                        {"objects_checked", orphan_candidate_objects_},
                        {"samples", samples}};
}

// The report: scan figures, findings, status and the `s3` section.
void S3Audit::fill_report(const std::optional<std::string>& stop_reason) {
  report_.scan.items_scanned = objects_;
  report_.scan.requests = call_stats_.requests.load();
  report_.scan.duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  report_.multipart = multipart_;
  if (versions_result_) {
    report_.noncurrent = NoncurrentInfo{versions_result_->expired_count, versions_result_->expired_bytes};
  }
  if (stop_reason) {
    report_.status = Status::kPartial;
    report_.error = *stop_reason;
  }
  nlohmann::json extra = {{"bucket", own_.bucket}, {"prefix", own_.prefix}};
  extra["objects"] = objects_;
  extra["bytes"] = bytes_;
  extra["objects_complete"] = objects_complete_;
  extra["versioning"] = versioning_;
  extra["lifecycle"] = lifecycle_state_;
  if (!lifecycle_note_.empty()) extra["lifecycle_note"] = lifecycle_note_;
  extra["region"] = s3_service_.region;
  extra["region_redirects"] = region_redirects_;
  add_lifecycle_fields(extra);
  add_listing_fields(extra);
  report_.extra["s3"] = extra;
  if (latency_.enabled()) report_.extra["deletion"] = latency_fields(stop_reason);

  log::info("s3 audit done",
            Fields()
                .add("target", target_.name)
                .add("bucket", own_.bucket)
                .add("objects", objects_)
                .add("bytes", bytes_)
                .add("expired", report_.stats.expired_count())
                .add("stale_uploads", multipart_ ? multipart_->stale_count : 0)
                .add("noncurrent_expired", versions_result_ ? versions_result_->expired_count : 0)
                .add("requests", report_.scan.requests)
                .add("status", to_string(report_.status)));
}

// The latency fields of the `deletion` section. Presence comes from this run's listing, so only a
// complete one may advance the state: an object it did not reach is not a deleted object.
nlohmann::json S3Audit::latency_fields(const std::optional<std::string>& stop_reason) {
  if (!objects_complete_) {
    return LatencyRun::unmeasured(
        "the object listing was incomplete (" + stop_reason.value_or("stopped") +
        "): tracked objects it did not reach cannot be told from deleted ones, so the state is "
        "kept for the next complete listing");
  }
  return latency_.finish(latency_sample_, latency_.needs_presence() ? listed_.presence()
                                                                   : std::vector<Presence>{});
}

// Which rules applied, which could not be, and where retention came from.
void S3Audit::add_lifecycle_fields(nlohmann::json& extra) const {
  extra["lifecycle_rules_applied"] = lifecycle_.applied_ids();
  extra["lifecycle_rules_disabled"] = lifecycle_.disabled_ids();
  // Tags are not in listings: a rule filtering on tags is named here and not applied.
  extra["filters_not_evaluated"] = lifecycle_.not_evaluated();
  // True only when every object a tag rule could expire had its tags read within `read_tags`.
  extra["tag_filters_evaluated"] = lifecycle_.evaluates_tags() && tags_unread_ == 0;
  if (lifecycle_.evaluates_tags()) {
    extra["tags_read"] = tags_read_;
    extra["tags_unread"] = tags_unread_;
  }
  extra["lifecycle_missing"] = !target_.retention && !lifecycle_.can_expire();
  extra["retention_source"] = target_.retention            ? "config"
                              : lifecycle_.any_expiration() ? "lifecycle"
                                                            : "none";
}

// Uploads, versions, orphans, request counts and the busiest prefixes.
void S3Audit::add_listing_fields(nlohmann::json& extra) const {
  if (multipart_) {
    nlohmann::json mp = {{"uploads", uploads_total_}, {"stale", multipart_->stale_count}};
    if (oldest_parts_bytes_) {
      mp["oldest_stale_bytes"] = *oldest_parts_bytes_;
      mp["oldest_stale_sized"] = uploads_sized_;
    }
    extra["multipart"] = mp;
  }
  if (versions_result_) {
    extra["versions"] = {{"versions", versions_result_->versions},
                         {"noncurrent", versions_result_->noncurrent},
                         {"noncurrent_bytes", versions_result_->noncurrent_bytes},
                         {"delete_markers", versions_result_->delete_markers}};
    extra["delete_markers_lone"] = versions_result_->delete_markers_lone;
    extra["delete_markers_lone_expired"] = versions_result_->delete_markers_lone_expired;
  }
  if (orphans_json_) extra["orphans"] = *orphans_json_;
  extra["requests"] = {{"LIST", counts_.list},
                       {"HEAD", counts_.head},
                       {"GET", counts_.get},
                       {"DynamoDB", counts_.dynamodb},
                       {"retries", call_stats_.retries.load()},
                       {"throttles", call_stats_.throttles.load()}};
  nlohmann::json tops = nlohmann::json::array();
  for (const auto& [group, n] : top_prefixes_.top(stats_options_.top_groups)) {
    tops.push_back({{"prefix", group}, {"objects", n}});
  }
  extra["top_prefixes"] = tops;
}

class S3Source final : public Source {
 public:
  explicit S3Source(S3SourceOptions options) : options_(std::move(options)) {}
  TargetReport audit(const TargetConfig& target, const RunContext& ctx) override {
    if (s3_config(target).bucket.empty()) throw Error(ErrorKind::kConfig, "s3 target has no bucket");
    return S3Audit(options_, target, ctx).run();
  }

 private:
  S3SourceOptions options_;
};

}  // namespace

std::unique_ptr<Source> make_s3_source(S3SourceOptions options) {
  return std::make_unique<S3Source>(std::move(options));
}

std::unique_ptr<Source> make_s3_source() { return make_s3_source(S3SourceOptions{}); }

}  // namespace ttla
