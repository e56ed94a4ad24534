// kind: dynamodb — its row of the kind table: config keys and readers, required keys, IAM
// statements, help and rules. The audit itself is in dynamodb_source.cc.
#include <algorithm>

#include "core/time.h"
#include "sources/dynamodb_kind.h"
#include "sources/kinds.h"

namespace ttla {

std::unique_ptr<Source> make_dynamodb_source();

namespace {

using Own = DynamodbTargetConfig;
Own& own(TargetConfig& t) { return dynamodb_config(t); }

// DynamoDB AttributeValue from YAML: scalars become strings (DynamoDB carries N as text), except
// BOOL and NULL which are JSON booleans.
nlohmann::json attribute_value(Validator& v, const YAML::Node& n, const std::string& path) {
  static const std::vector<std::string> kTypes = {"S", "N", "B", "BOOL", "NULL",
                                                  "SS", "NS", "BS", "L", "M"};
  if (!n.IsMap() || n.size() != 1) {
    v.error(path, "expected a DynamoDB attribute value like {S: text} or {N: \"5\"}, got " +
                      Validator::describe(n));
    return nullptr;
  }
  const std::string type = n.begin()->first.Scalar();
  const YAML::Node val = n.begin()->second;
  const std::string p = path + "." + type;
  if (std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end()) {
    v.error(p, "unknown attribute value type" + did_you_mean(type, kTypes) +
                   " (expected one of S, N, B, BOOL, NULL, SS, NS, BS, L, M)");
    return nullptr;
  }
  nlohmann::json out = nlohmann::json::object();
  if (type == "BOOL" || type == "NULL") {
    auto b = v.boolean(val, p);
    if (b) out[type] = *b;
  } else if (type == "SS" || type == "NS" || type == "BS") {
    if (!val.IsSequence()) {
      v.error(p, "expected a list, got " + Validator::describe(val));
      return nullptr;
    }
    nlohmann::json arr = nlohmann::json::array();
    for (size_t i = 0; i < val.size(); ++i) {
      if (auto s = v.string(val[i], p + "[" + std::to_string(i) + "]")) arr.push_back(*s);
    }
    out[type] = arr;
  } else if (type == "L") {
    if (!val.IsSequence()) {
      v.error(p, "expected a list, got " + Validator::describe(val));
      return nullptr;
    }
    nlohmann::json arr = nlohmann::json::array();
    for (size_t i = 0; i < val.size(); ++i) {
      arr.push_back(attribute_value(v, val[i], p + "[" + std::to_string(i) + "]"));
    }
    out[type] = arr;
  } else if (type == "M") {
    if (!v.expect_map(val, p)) return nullptr;
    nlohmann::json m = nlohmann::json::object();
    for (auto it = val.begin(); it != val.end(); ++it) {
      const std::string k = it->first.Scalar();
      m[k] = attribute_value(v, it->second, p + "." + k);
    }
    out[type] = m;
  } else {
    if (auto s = v.string(val, p)) out[type] = *s;
  }
  return out;
}

void parse_filter(Validator& v, const YAML::Node& n, const std::string& path, Own& t) {
  if (!v.expect_map(n, path)) return;
  DynamoFilter f;
  bool has_expression = false;
  v.each_key(n, path, {"expression", "names", "values"},
             [&](const std::string& key, const YAML::Node& x, const std::string& p) {
    if (key == "expression") {
      if (auto s = v.non_empty_string(x, p)) f.expression = *s;
      has_expression = true;
    } else if (key == "names") {
      if (!v.expect_map(x, p)) return;
      for (auto it = x.begin(); it != x.end(); ++it) {
        const std::string k = it->first.Scalar();
        const std::string q = p + "." + k;
        if (k.empty() || k[0] != '#') v.error(q, "expression attribute names start with \"#\"");
        if (auto s = v.non_empty_string(it->second, q)) f.names[k] = *s;
      }
    } else {
      if (!v.expect_map(x, p)) return;
      for (auto it = x.begin(); it != x.end(); ++it) {
        const std::string k = it->first.Scalar();
        const std::string q = p + "." + k;
        if (k.empty() || k[0] != ':') v.error(q, "expression attribute values start with \":\"");
        f.values[k] = attribute_value(v, it->second, q);
      }
    }
  });
  if (!has_expression) v.error(path, "missing required key \"expression\"");
  t.filter = std::move(f);
}

void parse_group_by(Validator& v, const YAML::Node& n, const std::string& path, Own& t) {
  if (!v.expect_map(n, path)) return;
  GroupBy g;
  v.each_key(n, path, {"attribute", "split", "part", "format"},
             [&](const std::string& key, const YAML::Node& x, const std::string& p) {
    if (key == "attribute") {
      if (auto s = v.non_empty_string(x, p)) g.attribute = *s;
    } else if (key == "split") {
      if (auto s = v.non_empty_string(x, p)) g.split = *s;
    } else if (key == "part") {
      if (auto i = v.integer(x, p, 0, 1000)) g.part = static_cast<int>(*i);
    } else {
      if (auto s = v.non_empty_string(x, p)) g.format = *s;
    }
  });
  if (!n["attribute"] && !n["format"]) {
    v.error(path, "missing required key \"attribute\" (or \"format\")");
  }
  t.group_by = std::move(g);
}

std::vector<TargetKey> keys() {
  const OwnKeys<Own> k{own};
  return {
      k.text("table", &Own::table),
      common_key("region"),
      common_key("endpoint_url"),
      common_key("profile"),
      common_key("role_arn"),
      common_key("external_id"),
      k.text("ttl_attribute", &Own::ttl_attribute),
      k.read("filter", parse_filter),
      k.read("group_by", parse_group_by),
      k.read("sample", [](Validator& v, const YAML::Node& n, const std::string& p, Own& c) {
        if (auto d = v.number(n, p, 0, 1, true, "in (0, 1]")) c.sample = *d;
      }),
      k.read("segments", [](Validator& v, const YAML::Node& n, const std::string& p, Own& c) {
        if (auto i = v.integer(n, p, 1, 1000000)) c.segments = static_cast<int>(*i);
      }),
      k.read("max_read_units_per_second",
             [](Validator& v, const YAML::Node& n, const std::string& p, Own& c) {
               if (auto d = v.number(n, p, 0, 1e15, true, "> 0")) c.max_read_units_per_second = *d;
             }),
      k.read("max_read_units", [](Validator& v, const YAML::Node& n, const std::string& p, Own& c) {
        if (auto d = v.number(n, p, 0, 1e18, true, "> 0")) c.max_read_units = *d;
      }),
      k.flag("cloudwatch", &Own::cloudwatch),
      k.read("tables", [](Validator& v, const YAML::Node& n, const std::string& p, Own& c) {
        if (auto sel = read_selector(v, n, p, "table")) c.tables = std::move(*sel);
      }),
      common_key("cloudwatch_endpoint_url"),
      k.read("deletion_window", [](Validator& v, const YAML::Node& n, const std::string& p, Own& c) {
        auto d = v.duration(n, p);
        if (!d) return;
        if (*d < 3600 || *d % 3600 != 0 || *d > 90 * 86400) {
          v.error(p, "expected whole hours between 1h and 90d (CloudWatch hourly sums), got " +
                         format_duration(*d));
          return;
        }
        c.deletion_window = *d;
      }),
      common_key("request_timeout"),
      common_key("connect_timeout"),
      common_key("max_duration"),
      k.read("latency_track_keys", [](Validator& v, const YAML::Node& n, const std::string& p, Own& c) {
        if (auto i = v.integer(n, p, 0, 100000)) c.latency_track_keys = static_cast<int>(*i);
      }),
      k.flag("latency_stream", &Own::latency_stream),
  };
}

void check_required(Validator& v, const KeyPresent& present, const std::string& path) {
  if (present("table") && present("tables")) {
    v.error(path, "\"table\" and \"tables\" are mutually exclusive (kind dynamodb)");
  } else if (!present("tables")) {
    require_key(v, present, path, "dynamodb", "table");
  }
}

// DescribeTable, DescribeTimeToLive and Scan on each table (ListTables to discover them),
// BatchGetItem on them and their streams for deletion latency, CloudWatch for the deletion rate.
void iam(const TargetConfig& t, const Config& config, IamGrants& g) {
  const auto& c = dynamodb_config(t);
  const std::string region = iam_region(t);
  g.wildcard_region = g.wildcard_region || region == "*";
  // Deletion latency looks tracked keys up (not when they are stored as hashes only).
  const bool latency_lookups = !config.state_dir.empty() && c.latency_track_keys > 0 && !t.redact_keys;
  std::vector<std::string> names = {c.table};
  if (c.tables) {
    // Discovery: IAM wildcards are * and ? only, so an include glob with a [class] widens to
    // every table; excludes cannot narrow a policy (see the notes).
    names.clear();
    for (const auto& glob : c.tables->include) names.push_back(glob.find('[') == std::string::npos ? glob : "*");
  }
  for (const auto& name : names) {
    g.allow("DynamoDbAuditTables", dynamodb_actions({"DescribeTable", "DescribeTimeToLive", "Scan"}),
            dynamodb_table_arn(region, name));
  }
  if (c.tables) {
    // ListTables has no resource-level permissions.
    g.allow("DynamoDbDiscoverTables", dynamodb_actions({"ListTables"}), "*");
    if (!c.tables->exclude.empty()) {
      g.note("target " + t.name +
             ": exclude globs cannot narrow an IAM policy; excluded tables or buckets stay readable");
    }
  }
  if (latency_lookups) {
    for (const auto& name : names) {
      g.allow("DynamoDbLatencyLookups", dynamodb_actions({"BatchGetItem"}), dynamodb_table_arn(region, name));
    }
  }
  if (c.latency_stream) {
    // Exact deletion latency from a stream with old images; off with `latency_stream: false`.
    for (const auto& name : names) {
      g.allow("DynamoDbReadStreams",
              {"dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"},
              dynamodb_table_arn(region, name) + "/stream/*");
    }
  }
  // The deletion rate (TimeToLiveDeletedItemCount); GetMetricData has no resource-level
  // permissions.
  if (c.cloudwatch) g.allow("CloudWatchReadMetrics", {"cloudwatch:GetMetricData"}, "*");
}

// What a target reads, for messages.
std::string scope(const TargetConfig& t) {
  const auto& c = dynamodb_config(t);
  std::string s;
  add_scope(s, "table", c.table);
  if (c.filter) add_scope(s, "filter", c.filter->expression);
  return s;
}

}  // namespace

const Kind& dynamodb_kind() {
  static const Kind kind = [] {
    Kind k;
    k.name = "dynamodb";
    k.help = "DynamoDB table TTL: items past their TTL attribute that DynamoDB has not deleted yet";
    k.make = make_dynamodb_source;
    k.config = {"dynamodb", keys(), check_required, nullptr, [](TargetConfig& t) { t.kind_config<DynamodbTargetConfig>(); }};
    k.shards = true;  // Scan segments split across shards
    k.iam = iam;
    k.rules = {{"ttl_disabled", "critical", ""}, {"table_not_active", "warning", ""}};
    k.scope = scope;
    return k;
  }();
  return kind;
}

}  // namespace ttla
