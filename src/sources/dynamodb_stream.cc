#include "sources/dynamodb_stream.h"

#include <algorithm>
#include <cmath>

#include <spdlog/spdlog.h>

#include "core/classify.h"
#include "core/error.h"
#include "core/time.h"

namespace ttla::dynamodb {
namespace {

constexpr int kMaxEmptyPagesOfClosedShard = 3;

[[noreturn]] void fail(const std::string& what) { throw Error(ErrorKind::kParse, what); }

nlohmann::json parse_object(std::string_view text, const char* operation) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) fail(std::string(operation) + ": response is not a JSON object");
  return j;
}

std::string string_member(const nlohmann::json& o, const char* name) {
  auto it = o.find(name);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A member spelled `upper` on the wire (the API model) or `lower` (Lambda events).
std::string either_member(const nlohmann::json& o, const char* upper, const char* lower) {
  std::string v = string_member(o, upper);
  return v.empty() ? string_member(o, lower) : v;
}

bool is_ttl_service(const nlohmann::json& record) {
  auto id = record.find("userIdentity");
  if (id == record.end() || !id->is_object()) return false;
  return either_member(*id, "Type", "type") == "Service" &&
         either_member(*id, "PrincipalId", "principalId") == "dynamodb.amazonaws.com";
}

// ApproximateCreationDateTime: epoch seconds as a JSON number (the wire) or a numeric string
// (AWS's documentation examples).
double creation_time(const nlohmann::json& stream_record) {
  auto t = stream_record.find("ApproximateCreationDateTime");
  if (t != stream_record.end() && t->is_number()) return t->get<double>();
  if (t != stream_record.end() && t->is_string()) {
    if (auto v = parse_dynamodb_number(t->get<std::string>())) return *v;
  }
  fail("GetRecords: a record has no ApproximateCreationDateTime");
}

// The old image's TTL when it is a Number of seconds (what TTL deletes by); else nullopt.
std::optional<double> old_ttl_seconds(const nlohmann::json& stream_record, const std::string& attr) {
  auto image = stream_record.find("OldImage");
  if (image == stream_record.end() || !image->is_object()) return std::nullopt;
  auto value = image->find(attr);
  if (value == image->end() || !value->is_object()) return std::nullopt;
  const std::string n = string_member(*value, "N");
  std::optional<double> v = n.empty() ? std::nullopt : parse_dynamodb_number(n);
  if (!v || *v <= 0 || *v >= kMillisecondsThreshold) return std::nullopt;
  return v;
}

// One record: counted in `tally` when created inside the window. Returns its creation time.
double tally_record(const nlohmann::json& record, const std::string& ttl_attribute,
                    int64_t window_start, int64_t window_end, StreamTally* tally) {
  if (!record.is_object()) fail("GetRecords: a record is not an object");
  auto body = record.find("dynamodb");
  if (body == record.end() || !body->is_object()) fail("GetRecords: a record has no dynamodb member");
  const double created = creation_time(*body);
  if (created < static_cast<double>(window_start) || created > static_cast<double>(window_end)) {
    return created;
  }
  ++tally->records;
  if (string_member(record, "eventName") != "REMOVE") return created;
  if (!is_ttl_service(record)) {
    ++tally->user_deletions;
    return created;
  }
  const std::optional<double> ttl = old_ttl_seconds(*body, ttl_attribute);
  if (!ttl) {
    ++tally->ttl_not_seconds;
    return created;
  }
  ++tally->ttl_deletions;
  tally->latencies.push_back(std::max(0.0, created - *ttl));
  return created;
}

// One read of the stream: every call charged one unit to the limiter and the budget.
class StreamReader {
 public:
  StreamReader(aws::AwsClient& client, std::string arn, const StreamReadOptions& options)
      : client_(client), arn_(std::move(arn)), options_(options) {}

  void run(StreamRead* out) {
    std::vector<StreamShard> shards = list_shards();
    out->shards = shards.size();
    for (const StreamShard& shard : shards) read_shard(shard, &out->tally);
  }
  uint64_t requests() const { return requests_; }
  const std::string& operation() const { return operation_; }

 private:
  std::string call(const char* operation, const std::string& body) {
    operation_ = operation;
    if (options_.cancel && options_.cancel->load()) throw Error(ErrorKind::kInternal, "the run was cancelled");
    if (requests_ >= options_.max_requests) {
      throw Error(ErrorKind::kBudget, "more than " + std::to_string(options_.max_requests) +
                                          " stream requests in one run");
    }
    if (options_.budgeted && static_cast<double>(requests_) + 1 > options_.budget_left) {
      throw Error(ErrorKind::kBudget, "read budget reached while reading the stream");
    }
    if (options_.limiter && !options_.limiter->reserve(1, options_.cancel)) {
      throw Error(ErrorKind::kInternal, "the run was cancelled");
    }
    ++requests_;
    std::string response;
    try {
      response = client_.dynamodb_streams(operation, body);
    } catch (...) {
      if (options_.limiter) options_.limiter->settle(1, 0);
      throw;
    }
    if (options_.limiter) options_.limiter->settle(1, 1);
    return response;
  }

  std::vector<StreamShard> list_shards() {
    std::vector<StreamShard> shards;
    std::string start;
    do {
      DescribeStreamPage page = parse_describe_stream(call("DescribeStream", describe_stream_body(arn_, start)));
      shards.insert(shards.end(), page.shards.begin(), page.shards.end());
      if (!page.last_evaluated_shard_id.empty() && page.last_evaluated_shard_id == start) {
        fail("DescribeStream: LastEvaluatedShardId repeats " + start);
      }
      start = page.last_evaluated_shard_id;
    } while (!start.empty());
    return shards;
  }

  // TRIM_HORIZON to the end: a closed shard until it has no next iterator, an open one until a
  // page comes back empty (caught up), either until a record is past the window.
  void read_shard(const StreamShard& shard, StreamTally* tally) {
    std::string iterator =
        parse_shard_iterator(call("GetShardIterator", get_shard_iterator_body(arn_, shard.id)));
    int empty_pages = 0;
    while (!iterator.empty()) {
      RecordsPage page = parse_get_records(call("GetRecords", get_records_body(iterator)),
                                           options_.ttl_attribute, options_.window_start,
                                           options_.window_end, tally);
      if (page.past_window) return;
      empty_pages = page.records == 0 ? empty_pages + 1 : 0;
      if (empty_pages > 0 && (!shard.closed || empty_pages >= kMaxEmptyPagesOfClosedShard)) return;
      iterator = std::move(page.next_iterator);
    }
  }

  aws::AwsClient& client_;
  std::string arn_;
  const StreamReadOptions& options_;
  uint64_t requests_ = 0;
  std::string operation_;
};

void move_snapshot_fields(nlohmann::json* deletion) {
  nlohmann::json snapshots = nlohmann::json::object();
  for (auto it = deletion->begin(); it != deletion->end();) {
    const std::string& key = it.key();
    if (key.rfind("latency_", 0) == 0 && key.rfind("latency_stream", 0) != 0) {
      snapshots[key.substr(8)] = it.value();
      it = deletion->erase(it);
    } else {
      ++it;
    }
  }
  if (!snapshots.empty()) (*deletion)["latency_snapshots"] = snapshots;
}

nlohmann::json exact_latency_fields(std::vector<double> latencies) {
  std::sort(latencies.begin(), latencies.end());
  double sum = 0;
  for (double v : latencies) sum += v;
  return {{"latency_source", "stream"},
          {"latency_observations", latencies.size()},
          {"latency_resolution_seconds", 1},
          {"latency_mean_seconds", sum / static_cast<double>(latencies.size())},
          {"latency_seconds_quantiles",
           {{"p50", nearest_rank_quantile(latencies, 0.5)},
            {"p90", nearest_rank_quantile(latencies, 0.9)},
            {"p99", nearest_rank_quantile(latencies, 0.99)}}}};
}

}  // namespace

std::optional<StreamSpec> parse_table_stream(std::string_view describe_table_json) {
  const nlohmann::json j = parse_object(describe_table_json, "DescribeTable");
  auto t = j.find("Table");
  if (t == j.end() || !t->is_object()) fail("DescribeTable: no Table object");
  StreamSpec spec;
  spec.arn = string_member(*t, "LatestStreamArn");
  if (auto s = t->find("StreamSpecification"); s != t->end() && s->is_object()) {
    spec.view_type = string_member(*s, "StreamViewType");
    auto enabled = s->find("StreamEnabled");
    spec.enabled = enabled != s->end() && enabled->is_boolean() && enabled->get<bool>();
  }
  if (spec.arn.empty() || !spec.enabled) return std::nullopt;
  return spec;
}

bool has_old_images(const StreamSpec& spec) {
  return spec.view_type == "OLD_IMAGE" || spec.view_type == "NEW_AND_OLD_IMAGES";
}

std::string describe_stream_body(const std::string& arn, const std::string& exclusive_start_shard_id) {
  nlohmann::json j = {{"StreamArn", arn}, {"Limit", 100}};
  if (!exclusive_start_shard_id.empty()) j["ExclusiveStartShardId"] = exclusive_start_shard_id;
  return j.dump();
}

std::string get_shard_iterator_body(const std::string& arn, const std::string& shard_id) {
  return nlohmann::json{{"StreamArn", arn}, {"ShardId", shard_id}, {"ShardIteratorType", "TRIM_HORIZON"}}
      .dump();
}

std::string get_records_body(const std::string& iterator) {
  return nlohmann::json{{"ShardIterator", iterator}, {"Limit", 1000}}.dump();
}

DescribeStreamPage parse_describe_stream(std::string_view json) {
  const nlohmann::json j = parse_object(json, "DescribeStream");
  auto d = j.find("StreamDescription");
  if (d == j.end() || !d->is_object()) fail("DescribeStream: no StreamDescription");
  DescribeStreamPage page;
  page.last_evaluated_shard_id = string_member(*d, "LastEvaluatedShardId");
  auto shards = d->find("Shards");
  if (shards == d->end()) return page;
  if (!shards->is_array()) fail("DescribeStream: Shards is not a list");
  for (const auto& s : *shards) {
    if (!s.is_object() || string_member(s, "ShardId").empty()) fail("DescribeStream: a shard has no ShardId");
    StreamShard shard;
    shard.id = string_member(s, "ShardId");
    if (auto range = s.find("SequenceNumberRange"); range != s.end() && range->is_object()) {
      shard.closed = !string_member(*range, "EndingSequenceNumber").empty();
    }
    page.shards.push_back(std::move(shard));
  }
  return page;
}

std::string parse_shard_iterator(std::string_view json) {
  const nlohmann::json j = parse_object(json, "GetShardIterator");
  std::string it = string_member(j, "ShardIterator");
  if (it.empty()) fail("GetShardIterator: no ShardIterator");
  return it;
}

RecordsPage parse_get_records(std::string_view json, const std::string& ttl_attribute,
                              int64_t window_start, int64_t window_end, StreamTally* tally) {
  const nlohmann::json j = parse_object(json, "GetRecords");
  RecordsPage page;
  page.next_iterator = string_member(j, "NextShardIterator");
  auto records = j.find("Records");
  if (records == j.end() || records->is_null()) return page;
  if (!records->is_array()) fail("GetRecords: Records is not a list");
  for (const auto& r : *records) {
    ++page.records;
    const double created = tally_record(r, ttl_attribute, window_start, window_end, tally);
    if (created > static_cast<double>(window_end)) page.past_window = true;
  }
  return page;
}

StreamRead read_stream(aws::AwsClient& client, const std::string& stream_arn,
                       const StreamReadOptions& options) {
  StreamRead out;
  StreamReader reader(client, stream_arn, options);
  try {
    reader.run(&out);
  } catch (const Error& e) {
    out.error = reader.operation() + ": " + std::string(to_string(e.kind())) + ": " + e.what();
  } catch (const std::exception& e) {
    out.error = reader.operation() + ": " + e.what();
  }
  out.requests = reader.requests();
  return out;
}

double nearest_rank_quantile(const std::vector<double>& sorted, double p) {
  const double n = static_cast<double>(sorted.size());
  const size_t rank = static_cast<size_t>(std::max(1.0, std::ceil(p * n - 1e-9)));
  return sorted[std::min(sorted.size(), rank) - 1];
}

void merge_stream_latency(nlohmann::json* deletion, const StreamSpec& spec, const StreamRead& read,
                          int64_t window_start, int64_t window_end) {
  if (!deletion->is_object()) *deletion = nlohmann::json::object();
  nlohmann::json info = {{"stream_arn", spec.arn},       {"view_type", spec.view_type},
                         {"window_start", format_rfc3339(window_start)},
                         {"window_end", format_rfc3339(window_end)},
                         {"shards", read.shards},        {"requests", read.requests}};
  if (!read.error.empty()) {
    info["error"] = read.error;
    (*deletion)["latency_stream"] = info;
    (*deletion)["latency_stream_error"] = read.error;
    if (!deletion->contains("latency_source")) {
      (*deletion)["latency_source"] = "stream";
      (*deletion)["latency_error"] = "stream: " + read.error;
    }
    return;
  }
  info["records"] = read.tally.records;
  info["ttl_deletions"] = read.tally.ttl_deletions;
  info["user_deletions"] = read.tally.user_deletions;
  info["ttl_not_seconds"] = read.tally.ttl_not_seconds;
  if (read.tally.ttl_deletions > 0) {
    move_snapshot_fields(deletion);
    deletion->update(exact_latency_fields(read.tally.latencies));
  } else if (!deletion->contains("latency_source")) {
    (*deletion)["latency_source"] = "stream";
    (*deletion)["latency_observations"] = 0;
    (*deletion)["latency_note"] = "no TTL deletion in the stream's window";
  }
  (*deletion)["latency_stream"] = info;
}

}  // namespace ttla::dynamodb
