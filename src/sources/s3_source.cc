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
#include <spdlog/spdlog.h>

#include "aws/endpoints.h"
#include "aws/error_body.h"
#include "aws/s3_xml.h"
#include "core/error.h"
#include "core/time.h"
#include "sources/aws_target.h"
#include "sources/s3_lifecycle.h"
#include "sources/target_limits.h"

namespace ttla {
namespace {

using Query = std::vector<std::pair<std::string, std::string>>;

// Thrown inside audit() to stop early; caught there and turned into a partial target.
struct StopEarly {
  std::string reason;
};

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

class S3Source final : public Source {
 public:
  explicit S3Source(S3SourceOptions options) : options_(std::move(options)) {}
  TargetReport audit(const TargetConfig& target, const RunContext& ctx) override;

 private:
  S3SourceOptions options_;
};

TargetReport S3Source::audit(const TargetConfig& target, const RunContext& ctx) {
  const auto started = std::chrono::steady_clock::now();
  if (target.bucket.empty()) throw Error(ErrorKind::kConfig, "s3 target has no bucket");

  const aws::TargetAccess access = aws_access(target, "s3");
  aws::ServiceConfig service =
      aws::target_service(access, http_options_for(target, ctx, options_.http), options_.retry);
  std::shared_ptr<aws::CredentialsProvider> credentials =
      aws::target_credentials(access, service.region, options_.credentials);
  aws::CallStats call_stats;
  // The bucket's own region signs its requests: a cached discovery first, else the configured
  // region until S3 says otherwise (301 PermanentRedirect / 400 AuthorizationHeaderMalformed /
  // HeadBucket's x-amz-bucket-region), then re-signed and remembered.
  const std::string region_key = target.endpoint_url + "|" + target.bucket;
  aws::ServiceConfig s3_service = service;
  if (auto cached = BucketRegions::instance().get(region_key)) s3_service.region = *cached;
  auto client = std::make_unique<aws::AwsClient>(s3_service, credentials, &call_stats);
  uint64_t region_redirects = 0;
  uint64_t tags_read = 0;    // GetObjectTagging requests (read_tags budget)
  uint64_t tags_unread = 0;  // objects a tag rule may expire whose tags were past the budget
  RequestCounts counts;

  TargetReport report;
  report.name = target.name;
  report.kind = "s3";
  report.scan.mode = "full";
  StatsOptions stats_options;
  stats_options.k = static_cast<size_t>(std::max(1, target.top_k));
  stats_options.top_groups = static_cast<size_t>(std::max(1, target.top_k));
  stats_options.seed = ctx.seed;
  stats_options.redact_keys = target.redact_keys;
  report.stats = TargetStats(stats_options);

  const int64_t as_of = ctx.as_of;
  const std::string& prefix = target.prefix;
  nlohmann::json extra = {{"bucket", target.bucket}, {"prefix", prefix}};

  // Every request goes through here: cancellation and the request budget are checked first.
  auto before_request = [&](const std::string& phase) {
    if (ctx.cancel != nullptr && ctx.cancel->load()) throw StopEarly{"cancelled while " + phase};
    if (target.max_requests > 0 && call_stats.requests.load() >= target.max_requests) {
      throw StopEarly{"request budget of " + std::to_string(target.max_requests) +
                      " reached while " + phase};
    }
  };
  // One S3 GET, re-signed once for the bucket's region when the answer names another one.
  auto s3_get = [&](const std::string& phase, std::string_view key, const Query& q) {
    aws::HttpResponse r = client->s3("GET", target.bucket, key, q);
    if (r.status != 301 && r.status != 307 && r.status != 400) return r;
    std::string region = s3::region_hint(r.status, r.header("x-amz-bucket-region"), r.body);
    const std::string code = error_code(r);
    if (region.empty() && (r.status != 400 || code == "AuthorizationHeaderMalformed")) {
      // The answer names no region: HeadBucket does (x-amz-bucket-region on 200, 301 and 400).
      before_request(phase);
      ++counts.head;
      aws::HttpResponse h = client->s3("HEAD", target.bucket, "", {});
      if (const std::string* v = h.header("x-amz-bucket-region")) region = *v;
    }
    if (region.empty() || region == s3_service.region) return r;
    spdlog::info("s3 bucket region target={} bucket={} signed_for={} bucket_region={} ({} {})",
                 target.name, target.bucket, s3_service.region, region, r.status,
                 code.empty() ? "-" : code);
    s3_service.region = region;
    BucketRegions::instance().put(region_key, region);
    client = std::make_unique<aws::AwsClient>(s3_service, credentials, &call_stats);
    ++region_redirects;
    before_request(phase);
    return client->s3("GET", target.bucket, key, q);
  };
  auto list = [&](const std::string& phase, std::string_view key, const Query& q) {
    before_request(phase);
    ++counts.list;
    return s3_get(phase, key, q);
  };
  auto get = [&](const std::string& phase, const Query& q) {
    before_request(phase);
    ++counts.get;
    return s3_get(phase, "", q);
  };

  std::string versioning = "unknown";
  std::string lifecycle_state = "none";
  std::string lifecycle_note;
  std::vector<s3::LifecycleRule> rules;
  s3::Lifecycle lifecycle;

  // Objects.
  uint64_t objects = 0;
  uint64_t bytes = 0;
  bool objects_complete = false;
  TopGroups top_prefixes(1024);
  const std::string group_delim = target.group_by && !target.group_by->delimiter.empty()
                                      ? target.group_by->delimiter
                                      : std::string("/");
  const int group_depth = target.group_by ? std::max(1, target.group_by->depth) : 1;
  std::optional<std::regex> orphan_re;
  if (target.orphans) {
    try {
      orphan_re.emplace(target.orphans->key_regex);
    } catch (const std::regex_error& e) {
      throw Error(ErrorKind::kConfig, "orphans.key_regex: " + std::string(e.what()));
    }
  }
  std::map<std::string, OrphanCandidate> candidates;
  uint64_t orphan_candidate_objects = 0;

  // Multipart uploads.
  std::optional<MultipartInfo> multipart;
  uint64_t uploads_total = 0;
  std::vector<std::pair<int64_t, s3::UploadEntry>> stale_uploads;  // (initiated, upload)
  std::optional<uint64_t> oldest_parts_bytes;
  uint64_t uploads_sized = 0;

  // Versions.
  std::optional<s3::NoncurrentWalker::Result> versions_result;

  // Orphans.
  std::optional<nlohmann::json> orphans_json;

  std::optional<std::string> stop_reason;
  try {
    // --- GetBucketVersioning
    {
      aws::HttpResponse r = get("reading versioning", {{"versioning", ""}});
      if (r.status == 200) {
        std::string status = s3::parse_versioning_status(r.body);
        versioning = status.empty() ? "Disabled" : status;
      } else if (r.status == 501 || error_code(r) == "NotImplemented") {
        versioning = "unknown";
      } else {
        throw_s3_error(r, "GetBucketVersioning");
      }
    }
    // --- GetBucketLifecycleConfiguration
    {
      aws::HttpResponse r = get("reading lifecycle", {{"lifecycle", ""}});
      const std::string code = r.status == 200 ? std::string() : error_code(r);
      if (r.status == 200 && s3::is_lifecycle_document(r.body)) {
        rules = s3::parse_lifecycle(r.body);
        lifecycle_state = "present";
      } else if (r.status == 200) {
        // Swift's s3api ignores the ?lifecycle subresource and lists the bucket instead.
        lifecycle_state = "not_implemented";
        lifecycle_note = "server answered ?lifecycle with a non-lifecycle document";
      } else if (r.status == 404 && code == "NoSuchLifecycleConfiguration") {
        lifecycle_state = "none";
      } else if (r.status == 501 || code == "NotImplemented") {
        lifecycle_state = "not_implemented";
        lifecycle_note = (code.empty() ? std::string("HTTP") : code) + " (HTTP " +
                         std::to_string(r.status) + ")";
      } else {
        throw_s3_error(r, "GetBucketLifecycleConfiguration");
      }
      if (lifecycle_state != "present") {
        spdlog::info("s3 lifecycle target={} bucket={} state={}", target.name, target.bucket,
                     lifecycle_state);
      }
    }
    lifecycle = s3::Lifecycle(rules, prefix, target.read_tags > 0);

    // --- ListObjectsV2
    std::string token;
    while (true) {
      Query q = {{"list-type", "2"}, {"encoding-type", "url"}, {"max-keys", "1000"}};
      if (!prefix.empty()) q.emplace_back("prefix", prefix);
      if (!token.empty()) q.emplace_back("continuation-token", token);
      aws::HttpResponse r = list("listing objects", "", q);
      if (r.status != 200) throw_s3_error(r, "ListObjectsV2");
      s3::ListObjectsPage page = s3::parse_list_objects_v2(r.body);
      for (const s3::ObjectEntry& o : page.objects) {
        ++objects;
        bytes += o.size;
        std::string_view group = group_of(o.key, prefix, group_delim, group_depth);
        top_prefixes.add(group);
        std::optional<int64_t> deadline;
        if (target.retention) {
          deadline = s3::lifecycle_deadline_seconds(o.last_modified, *target.retention);
        } else {
          std::vector<s3::LifecycleTag> tags;
          bool have_tags = false;
          if (lifecycle.needs_tags(o.key, o.size)) {
            if (tags_read < target.read_tags) {
              // GetObjectTagging: only for objects a tag-filtered rule may expire.
              before_request("reading object tags");
              ++counts.get;
              ++tags_read;
              aws::HttpResponse r = s3_get("reading object tags", o.key, {{"tagging", ""}});
              if (r.status == 200) {
                tags = s3::parse_object_tagging(r.body);
                have_tags = true;
              } else if (r.status != 404) {  // 404: deleted since it was listed
                throw_s3_error(r, "GetObjectTagging");
              }
            } else {
              ++tags_unread;
            }
          }
          deadline = lifecycle.expiration_deadline(o.key, o.size, o.last_modified,
                                                   have_tags ? &tags : nullptr);
        }
        if (deadline) {
          if (*deadline <= as_of) {
            report.stats.add_expired(o.key, static_cast<double>(*deadline),
                                     static_cast<double>(as_of - *deadline), o.size,
                                     target.group_by ? group : std::string_view());
          } else {
            report.stats.count(ItemClass::kNotYetExpired);
          }
        }
        if (orphan_re && as_of - o.last_modified >= target.orphans->min_age) {
          std::smatch m;
          if (std::regex_search(o.key, m, *orphan_re) && m.size() > 1 && m[1].matched &&
              m[1].length() > 0) {
            OrphanCandidate& c = candidates[m[1].str()];
            if (c.objects == 0) c.first_key = o.key;
            ++c.objects;
            c.bytes += o.size;
            ++orphan_candidate_objects;
          }
        }
      }
      if (ctx.progress) {
        Progress p;
        p.items_scanned = objects;
        ctx.progress(target.name, p);
      }
      if (!page.truncated) break;
      token = page.next_continuation_token;
    }
    objects_complete = true;

    // --- ListMultipartUploads
    {
      multipart = MultipartInfo{};
      std::string key_marker, upload_marker;
      while (true) {
        Query q = {{"uploads", ""}, {"encoding-type", "url"}};
        if (!prefix.empty()) q.emplace_back("prefix", prefix);
        if (!key_marker.empty()) q.emplace_back("key-marker", key_marker);
        if (!upload_marker.empty()) q.emplace_back("upload-id-marker", upload_marker);
        aws::HttpResponse r = list("listing multipart uploads", "", q);
        if (r.status != 200) throw_s3_error(r, "ListMultipartUploads");
        s3::ListUploadsPage page = s3::parse_list_multipart_uploads(r.body);
        for (s3::UploadEntry& u : page.uploads) {
          ++uploads_total;
          std::optional<int64_t> deadline;
          if (target.multipart_max_age) {
            deadline = s3::lifecycle_deadline_seconds(u.initiated, *target.multipart_max_age);
          } else {
            deadline = lifecycle.abort_deadline(u.key, u.initiated);
          }
          if (deadline && *deadline <= as_of) {
            ++multipart->stale_count;
            multipart->oldest_age_seconds = std::max(
                multipart->oldest_age_seconds, static_cast<double>(as_of - u.initiated));
            stale_uploads.emplace_back(u.initiated, std::move(u));
          }
        }
        if (!page.truncated) break;
        key_marker = page.next_key_marker;
        upload_marker = page.next_upload_id_marker;
      }
    }

    // --- ListObjectVersions
    const bool versioned = versioning == "Enabled" || versioning == "Suspended";
    if (versioned || target.noncurrent_retention) {
      s3::NoncurrentWalker walker(as_of, target.noncurrent_retention, &lifecycle);
      std::string key_marker, version_marker;
      while (true) {
        Query q = {{"versions", ""}, {"encoding-type", "url"}};
        if (!prefix.empty()) q.emplace_back("prefix", prefix);
        if (!key_marker.empty()) q.emplace_back("key-marker", key_marker);
        if (!version_marker.empty()) q.emplace_back("version-id-marker", version_marker);
        aws::HttpResponse r = list("listing object versions", "", q);
        if (r.status != 200) throw_s3_error(r, "ListObjectVersions");
        s3::ListVersionsPage page = s3::parse_list_object_versions(r.body);
        s3::order_version_page(page.entries);
        for (const s3::VersionEntry& e : page.entries) walker.add(e);
        if (!page.truncated) break;
        key_marker = page.next_key_marker;
        version_marker = page.next_version_id_marker;
      }
      walker.finish();
      versions_result = walker.result();
    }

    // --- ListParts for the oldest few stale uploads only: one request per page per upload.
    std::sort(stale_uploads.begin(), stale_uploads.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 0; i < stale_uploads.size() &&
                       i < static_cast<size_t>(std::max(0, options_.list_parts_uploads));
         ++i) {
      const s3::UploadEntry& u = stale_uploads[i].second;
      uint64_t sum = 0;
      std::string part_marker;
      for (int pages = 0; pages < options_.list_parts_pages; ++pages) {
        Query q = {{"uploadId", u.upload_id}};
        if (!part_marker.empty()) q.emplace_back("part-number-marker", part_marker);
        aws::HttpResponse r = list("listing parts of stale uploads", u.key, q);
        if (r.status == 404) break;  // completed or aborted since it was listed
        if (r.status != 200) throw_s3_error(r, "ListParts");
        s3::ListPartsPage page = s3::parse_list_parts(r.body);
        sum += page.bytes;
        if (!page.truncated || page.next_part_number_marker.empty()) break;
        part_marker = page.next_part_number_marker;
      }
      oldest_parts_bytes = oldest_parts_bytes.value_or(0) + sum;
      ++uploads_sized;
    }

    // --- Orphans: BatchGetItem the captured ids, 100 per call, projecting the key only.
    if (target.orphans) {
      const Orphans& o = *target.orphans;
      aws::ServiceConfig dynamo = service;
      dynamo.endpoint_url = !o.endpoint_url.empty()    ? o.endpoint_url
                            : !target.endpoint_url.empty() ? target.endpoint_url
                                                           : aws::resolve_endpoint("dynamodb", "", target.profile);
      dynamo.s3_path_style = false;
      aws::AwsClient ddb(dynamo, credentials, &call_stats);
      auto call = [&](const char* op, const std::string& body) {
        before_request("looking up orphan ids");
        ++counts.dynamodb;
        return ddb.dynamodb(op, body);
      };
      // The key attribute's type and that it is the whole primary key (BatchGetItem needs it).
      nlohmann::json table = nlohmann::json::parse(
          call("DescribeTable", nlohmann::json{{"TableName", o.dynamodb_table}}.dump()),
          nullptr, false);
      if (table.is_discarded() || !table.contains("Table")) {
        throw Error(ErrorKind::kParse, "DescribeTable " + o.dynamodb_table + ": unexpected answer");
      }
      std::string key_type = "S";
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
        if (d.value("AttributeName", "") == o.key_attribute) {
          key_type = d.value("AttributeType", "S");
        }
      }

      std::vector<const std::string*> ids;
      ids.reserve(candidates.size());
      for (const auto& [id, c] : candidates) ids.push_back(&id);
      std::set<std::string> found;
      for (size_t at = 0; at < ids.size(); at += 100) {
        nlohmann::json keys = nlohmann::json::array();
        for (size_t i = at; i < ids.size() && i < at + 100; ++i) {
          keys.push_back({{o.key_attribute, {{key_type, *ids[i]}}}});
        }
        nlohmann::json request = {
            {o.dynamodb_table,
             {{"Keys", keys}, {"ProjectionExpression", "#k"},
              {"ExpressionAttributeNames", {{"#k", o.key_attribute}}}}}};
        for (int attempt = 0;; ++attempt) {
          nlohmann::json answer = nlohmann::json::parse(
              call("BatchGetItem", nlohmann::json{{"RequestItems", request}}.dump()), nullptr,
              false);
          if (answer.is_discarded()) throw Error(ErrorKind::kParse, "BatchGetItem: not JSON");
          if (answer.contains("Responses") && answer["Responses"].contains(o.dynamodb_table)) {
            for (const auto& item : answer["Responses"][o.dynamodb_table]) {
              auto a = item.find(o.key_attribute);
              if (a == item.end() || !a->is_object() || a->empty()) continue;
              const auto& v = a->begin().value();
              if (v.is_string()) found.insert(v.get<std::string>());
            }
          }
          auto un = answer.find("UnprocessedKeys");
          if (un == answer.end() || !un->is_object() || un->empty()) break;
          if (attempt + 1 >= options_.batch_get_attempts) {
            throw Error(ErrorKind::kThrottled,
                        "BatchGetItem: keys still unprocessed after " +
                            std::to_string(options_.batch_get_attempts) + " attempts");
          }
          request = *un;
          std::this_thread::sleep_for(std::chrono::duration<double>(
              std::min(2.0, options_.batch_get_base_delay_seconds * double(1u << attempt))));
        }
      }
      uint64_t orphan_objects = 0, orphan_bytes = 0, orphan_ids = 0;
      nlohmann::json samples = nlohmann::json::array();
      for (const auto& [id, c] : candidates) {
        if (found.count(id)) continue;
        ++orphan_ids;
        orphan_objects += c.objects;
        orphan_bytes += c.bytes;
        if (samples.size() < static_cast<size_t>(std::max(0, options_.orphan_samples))) {
          samples.push_back(target.redact_keys ? redact_key(c.first_key, ctx.seed) : c.first_key);
        }
      }
      orphans_json = nlohmann::json{{"table", o.dynamodb_table},
                                    {"count", orphan_objects},
                                    {"bytes", orphan_bytes},
                                    {"ids", orphan_ids},
                                    {"ids_checked", candidates.size()},
                                    {"objects_checked", orphan_candidate_objects},
                                    {"samples", samples}};
    }
  } catch (const StopEarly& s) {
    stop_reason = s.reason + " after " + std::to_string(call_stats.requests.load()) +
                  " requests (" + std::to_string(objects) + " objects seen)";
  } catch (const Error& e) {
    // A request cut short because the target was told to stop (max_duration, signal): keep
    // what was listed, like any other early stop.
    if (ctx.cancel == nullptr || !ctx.cancel->load()) throw;
    stop_reason = "cancelled during a request (" + std::string(e.what()) + ") after " +
                  std::to_string(call_stats.requests.load()) + " requests (" +
                  std::to_string(objects) + " objects seen)";
  }

  // --- Report.
  report.scan.items_scanned = objects;
  report.scan.requests = call_stats.requests.load();
  report.scan.duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report.multipart = multipart;
  if (versions_result) {
    report.noncurrent =
        NoncurrentInfo{versions_result->expired_count, versions_result->expired_bytes};
  }
  if (stop_reason) {
    report.status = Status::kPartial;
    report.error = *stop_reason;
  }

  extra["objects"] = objects;
  extra["bytes"] = bytes;
  extra["objects_complete"] = objects_complete;
  extra["versioning"] = versioning;
  extra["lifecycle"] = lifecycle_state;
  if (!lifecycle_note.empty()) extra["lifecycle_note"] = lifecycle_note;
  extra["region"] = s3_service.region;
  extra["region_redirects"] = region_redirects;
  extra["lifecycle_rules_applied"] = lifecycle.applied_ids();
  extra["lifecycle_rules_disabled"] = lifecycle.disabled_ids();
  // Tags are not in listings: a rule filtering on tags is named here and not applied.
  extra["filters_not_evaluated"] = lifecycle.not_evaluated();
  // True only when every object a tag rule could expire had its tags read within `read_tags`.
  extra["tag_filters_evaluated"] = lifecycle.evaluates_tags() && tags_unread == 0;
  if (lifecycle.evaluates_tags()) {
    extra["tags_read"] = tags_read;
    extra["tags_unread"] = tags_unread;
  }
  extra["lifecycle_missing"] = !target.retention && !lifecycle.can_expire();
  extra["retention_source"] = target.retention            ? "config"
                              : lifecycle.any_expiration() ? "lifecycle"
                                                           : "none";
  if (multipart) {
    nlohmann::json mp = {{"uploads", uploads_total}, {"stale", multipart->stale_count}};
    if (oldest_parts_bytes) {
      mp["oldest_stale_bytes"] = *oldest_parts_bytes;
      mp["oldest_stale_sized"] = uploads_sized;
    }
    extra["multipart"] = mp;
  }
  if (versions_result) {
    extra["versions"] = {{"versions", versions_result->versions},
                         {"noncurrent", versions_result->noncurrent},
                         {"noncurrent_bytes", versions_result->noncurrent_bytes},
                         {"delete_markers", versions_result->delete_markers}};
    extra["delete_markers_lone"] = versions_result->delete_markers_lone;
    extra["delete_markers_lone_expired"] = versions_result->delete_markers_lone_expired;
  }
  if (orphans_json) extra["orphans"] = *orphans_json;
  extra["requests"] = {{"LIST", counts.list},
                       {"HEAD", counts.head},
                       {"GET", counts.get},
                       {"DynamoDB", counts.dynamodb},
                       {"retries", call_stats.retries.load()},
                       {"throttles", call_stats.throttles.load()}};
  nlohmann::json tops = nlohmann::json::array();
  for (const auto& [group, n] : top_prefixes.top(stats_options.top_groups)) {
    tops.push_back({{"prefix", group}, {"objects", n}});
  }
  extra["top_prefixes"] = tops;
  report.extra["s3"] = extra;

  spdlog::info(
      "s3 audit done target={} bucket={} objects={} bytes={} expired={} stale_uploads={} "
      "noncurrent_expired={} requests={} status={}",
      target.name, target.bucket, objects, bytes, report.stats.expired_count(),
      multipart ? multipart->stale_count : 0, versions_result ? versions_result->expired_count : 0,
      report.scan.requests, to_string(report.status));
  return report;
}

}  // namespace

std::unique_ptr<Source> make_s3_source(S3SourceOptions options) {
  return std::make_unique<S3Source>(std::move(options));
}

std::unique_ptr<Source> make_s3_source() { return make_s3_source(S3SourceOptions{}); }

}  // namespace ttla
