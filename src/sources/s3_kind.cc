// kind: s3 — its row of the kind table: config keys and readers, required keys, IAM statements,
// help and rules. The audit itself is in s3_source.cc.
#include <regex>

#include "core/time.h"
#include "sources/s3_kind.h"
#include "sources/kinds.h"

namespace ttla {

std::unique_ptr<Source> make_s3_source();

namespace {

using Own = S3TargetConfig;
Own& own(TargetConfig& t) { return s3_config(t); }

void parse_group_by(Validator& v, const YAML::Node& n, const std::string& path, Own& t) {
  if (!v.expect_map(n, path)) return;
  GroupBy g;
  g.delimiter = "/";
  v.each_key(n, path, {"delimiter", "depth"},
             [&](const std::string& key, const YAML::Node& x, const std::string& p) {
    if (key == "delimiter") {
      if (auto s = v.non_empty_string(x, p)) g.delimiter = *s;
    } else {
      if (auto i = v.integer(x, p, 1, 100)) g.depth = static_cast<int>(*i);
    }
  });
  t.group_by = std::move(g);
}

// `orphans: {key_regex, dynamodb_table, key_attribute, min_age, endpoint_url}`: objects whose
// captured id has no item in a table.
void parse_orphans(Validator& v, const YAML::Node& n, const std::string& path, Own& t) {
  if (!v.expect_map(n, path)) return;
  Orphans o;
  v.each_key(n, path, {"key_regex", "dynamodb_table", "key_attribute", "min_age", "endpoint_url"},
             [&](const std::string& key, const YAML::Node& x, const std::string& p) {
    if (key == "key_regex") {
      auto s = v.non_empty_string(x, p);
      if (!s) return;
      try {
        std::regex re(*s);
        if (re.mark_count() < 1) {
          v.error(p, "needs a capture group for the id, e.g. \"^uploads/([^/]+)/\"");
        }
      } catch (const std::regex_error& e) {
        v.error(p, "invalid regular expression: " + std::string(e.what()));
      }
      o.key_regex = *s;
    } else if (key == "dynamodb_table") {
      if (auto s = v.non_empty_string(x, p)) o.dynamodb_table = *s;
    } else if (key == "key_attribute") {
      if (auto s = v.non_empty_string(x, p)) o.key_attribute = *s;
    } else if (key == "endpoint_url") {
      if (auto s = v.non_empty_string(x, p)) o.endpoint_url = *s;
    } else {
      if (auto d = v.duration(x, p)) o.min_age = *d;
    }
  });
  for (const char* required : {"key_regex", "dynamodb_table", "key_attribute"}) {
    if (!n[required]) v.error(path, std::string("missing required key \"") + required + "\"");
  }
  t.orphans = std::move(o);
}

std::vector<TargetKey> keys() {
  const OwnKeys<Own> k{own};
  auto optional_duration = [&](const char* key, std::optional<int64_t> Own::*field) {
    return k.read(key, [field](Validator& v, const YAML::Node& n, const std::string& p, Own& c) {
      if (auto d = v.duration(n, p)) c.*field = *d;
    });
  };
  return {
      k.read("bucket", [](Validator& v, const YAML::Node& n, const std::string& p, Own& c) {
        auto s = v.non_empty_string(n, p);
        if (!s) return;
        static const std::regex kBucket("[A-Za-z0-9._-]{1,255}");
        if (!std::regex_match(*s, kBucket)) {
          v.error(p, "invalid bucket name \"" + *s + "\" (a bare name, no s3:// or slashes)");
          return;
        }
        c.bucket = *s;
      }),
      k.read("prefix", [](Validator& v, const YAML::Node& n, const std::string& p, Own& c) {
        if (auto s = v.string(n, p)) c.prefix = *s;
      }),
      common_key("region"),
      common_key("endpoint_url"),
      common_key("profile"),
      common_key("role_arn"),
      common_key("external_id"),
      // An AWS connection setting, kept in TargetConfig with endpoint_url.
      TargetKey{"path_style", [](Validator& v, const YAML::Node& n, const std::string& p, TargetConfig& t) {
                  if (auto b = v.boolean(n, p)) t.path_style = *b;
                }},
      common_key("retention"),
      optional_duration("multipart_max_age", &Own::multipart_max_age),
      optional_duration("noncurrent_retention", &Own::noncurrent_retention),
      k.read("group_by", parse_group_by),
      k.read("orphans", parse_orphans),
      k.read("max_requests", [](Validator& v, const YAML::Node& n, const std::string& p, Own& c) {
        if (auto i = v.integer(n, p, 1, INT64_MAX)) c.max_requests = static_cast<uint64_t>(*i);
      }),
      k.read("read_tags", [](Validator& v, const YAML::Node& n, const std::string& p, Own& c) {
        if (auto i = v.integer(n, p, 0, INT64_MAX)) c.read_tags = static_cast<uint64_t>(*i);
      }),
      common_key("request_timeout"),
      common_key("connect_timeout"),
      common_key("max_duration"),
      k.read("latency_track_keys", [](Validator& v, const YAML::Node& n, const std::string& p, Own& c) {
        if (auto i = v.integer(n, p, 0, 100000)) c.latency_track_keys = static_cast<int>(*i);
      }),
      k.read("buckets", [](Validator& v, const YAML::Node& n, const std::string& p, Own& c) {
        if (auto sel = read_selector(v, n, p, "bucket")) c.buckets = std::move(*sel);
      }),
  };
}

void check_required(Validator& v, const KeyPresent& present, const std::string& path) {
  if (present("bucket") && present("buckets")) {
    v.error(path, "\"bucket\" and \"buckets\" are mutually exclusive (kind s3)");
  } else if (!present("buckets")) {
    require_key(v, present, path, "s3", "bucket");
  }
}

// Bucket reads on each bucket (ListAllMyBuckets to discover them), ListParts on its objects
// under the prefix (authorised by s3:ListMultipartUploadParts on the object ARN), GetObjectTagging
// with read_tags, and the orphan table's lookups. No object is ever read (no s3:GetObject) and no
// CloudWatch metric either: the source sends neither request.
void iam(const TargetConfig& t, const Config&, IamGrants& g) {
  const auto& c = s3_config(t);
  const std::string region = iam_region(t);
  g.wildcard_region = g.wildcard_region || region == "*";
  const std::string s3 = "arn:" + iam_partition(region) + ":s3:::";
  std::vector<std::string> names = {c.bucket};
  if (c.buckets) {
    // Discovery, as for tables: a [class] glob widens to every bucket.
    names.clear();
    for (const auto& glob : c.buckets->include) names.push_back(glob.find('[') == std::string::npos ? glob : "*");
  }
  std::vector<std::string> object_actions = {"s3:ListMultipartUploadParts"};
  if (c.read_tags > 0) object_actions.push_back("s3:GetObjectTagging");
  for (const auto& b : names) {
    g.allow("S3AuditBuckets",
            {"s3:GetBucketVersioning", "s3:GetLifecycleConfiguration", "s3:ListBucket",
             "s3:ListBucketMultipartUploads", "s3:ListBucketVersions"},
            s3 + b);
    g.allow("S3AuditObjects", object_actions, s3 + b + "/" + c.prefix + "*");
  }
  if (c.buckets) {
    // ListBuckets is authorised by s3:ListAllMyBuckets on every bucket of the account.
    g.allow("S3DiscoverBuckets", {"s3:ListAllMyBuckets"}, "*");
    if (!c.buckets->exclude.empty()) {
      g.note("target " + t.name +
             ": exclude globs cannot narrow an IAM policy; excluded tables or buckets stay readable");
    }
  }
  if (c.orphans) {
    g.allow("DynamoDbOrphanLookups", dynamodb_actions({"DescribeTable", "BatchGetItem"}),
            dynamodb_table_arn(region, c.orphans->dynamodb_table));
  }
}

// What a target reads, for messages.
std::string scope(const TargetConfig& t) {
  const auto& c = s3_config(t);
  std::string s;
  add_scope(s, "bucket", c.bucket);
  add_scope(s, "prefix", c.prefix);
  return s;
}

}  // namespace

const Kind& s3_kind() {
  static const Kind kind = [] {
    Kind k;
    k.name = "s3";
    k.help = "S3 bucket: objects past retention or their lifecycle rules, stale multipart uploads";
    k.make = make_s3_source;
    k.config = {"s3", keys(), check_required, nullptr, [](TargetConfig& t) { t.kind_config<S3TargetConfig>(); }};
    k.iam = iam;
    k.rules = {{"stale_multipart", "warning", ""}, {"lifecycle_missing", "warning", ""}};
    k.scope = scope;
    return k;
  }();
  return kind;
}

}  // namespace ttla
