#include "app/preflight.h"

#include <dirent.h>
#include <fnmatch.h>
#include <libpq-fe.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>

#include <fmt/format.h>

#include "app/cli.h"
#include "aws/aws_client.h"
#include "aws/dynamodb_json.h"
#include "aws/error_body.h"
#include "aws/s3_xml.h"
#include "core/error.h"
#include "core/time.h"
#include "sources/aws_target.h"
#include "sources/dynamodb_discovery.h"
#include "sources/dynamodb_kind.h"
#include "sources/dynamodb_request.h"
#include "sources/filesystem_kind.h"
#include "sources/pg_session.h"
#include "sources/postgres_kind.h"
#include "sources/postgres_source.h"
#include "sources/s3_kind.h"
#include "sources/scan_page.h"
#include "sources/sqs_kind.h"
#include "sources/target_limits.h"

namespace ttla {
namespace {

// ---- AWS ------------------------------------------------------------------------------------

aws::ServiceConfig service_for(const TargetConfig& t, const std::string& service_id) {
  // A preflight answers quickly or says why: two attempts, no long backoff.
  aws::RetryOptions retry;
  retry.max_attempts = 2;
  return aws::target_service(aws_access(t, service_id),
                             http_options_for(t, RunContext{}, aws::HttpOptions{}), retry);
}

// Credentials resolved now, so a missing profile or key is reported before any request.
std::shared_ptr<aws::CredentialsProvider> resolved_credentials(const TargetConfig& t,
                                                                const std::string& region) {
  auto provider = aws::target_credentials(aws_access(t), region, nullptr);
  try {
    (void)provider->get();
  } catch (const Error& e) {
    throw Error(e.kind(), std::string("credentials: ") + e.what());
  }
  return provider;
}

struct DynamoFacts {
  dynamodb::TableDescription table;
  dynamodb::TtlDescription ttl;
};

DynamoFacts describe_dynamodb(const TargetConfig& t) {
  aws::ServiceConfig s = service_for(t, "dynamodb");
  aws::AwsClient client(s, resolved_credentials(t, s.region));
  DynamoFacts f;
  f.table = dynamodb::parse_describe_table(
      client.dynamodb("DescribeTable", dynamodb::describe_table_body(dynamodb_config(t).table)));
  f.ttl = dynamodb::parse_describe_ttl(
      client.dynamodb("DescribeTimeToLive", dynamodb::describe_ttl_body(dynamodb_config(t).table)));
  return f;
}

std::string dynamodb_detail(const TargetConfig& t, const DynamoFacts& f) {
  std::string attr = dynamodb_config(t).ttl_attribute.empty() ? f.ttl.attribute : dynamodb_config(t).ttl_attribute;
  std::string d = "table " + dynamodb_config(t).table + " " + f.table.table_status + ", TTL " +
                  (f.ttl.status.empty() ? "unknown" : f.ttl.status);
  d += attr.empty() ? " (no TTL attribute: set ttl_attribute)" : " on " + attr;
  return d;
}

// The first ListObjectsV2 page under the prefix (max-keys as given).
s3::ListObjectsPage list_first_page(const TargetConfig& t, int max_keys) {
  aws::ServiceConfig s = service_for(t, "s3");
  aws::AwsClient client(s, resolved_credentials(t, s.region));
  std::vector<std::pair<std::string, std::string>> q = {{"list-type", "2"},
                                                        {"max-keys", std::to_string(max_keys)}};
  if (!s3_config(t).prefix.empty()) q.emplace_back("prefix", s3_config(t).prefix);
  aws::HttpResponse r = client.s3("GET", s3_config(t).bucket, "", q);
  if (r.status != 200) {
    std::string code = aws::aws_error_code(r.body);
    std::string msg = aws::aws_error_message(r.body);
    const std::string* region = r.header("x-amz-bucket-region");
    throw Error(r.status == 403 ? ErrorKind::kAuth : ErrorKind::kHttp,
                "ListObjectsV2 on bucket " + s3_config(t).bucket + ": HTTP " + std::to_string(r.status) +
                    (code.empty() ? "" : " " + code) + (msg.empty() ? "" : ": " + msg) +
                    (region ? " (the bucket is in " + *region + ")" : ""));
  }
  return s3::parse_list_objects_v2(r.body);
}

// ---- PostgreSQL -----------------------------------------------------------------------------

// Connected, inside the audit's own READ ONLY transaction, with the statement the audit would
// stream checked by the server (LIMIT 0: planned and type-checked, no row read).
pg::Conn pg_ready(const TargetConfig& t) {
  pg::Conn c = pg::connect(postgres_config(t).dsn, t.connect_timeout.value_or(10));
  pg::Session db(c.get());
  db.begin_read_only(postgres_config(t).statement_timeout);
  const PostgresQueries q = postgres_queries(c.get(), t, 0, 0);
  db.exec("SELECT * FROM (" + q.stream + ") AS preflight LIMIT 0");
  return c;
}

// ---- SQS ------------------------------------------------------------------------------------

struct QueueDepth {
  double visible = 0, in_flight = 0, delayed = 0;
};

QueueDepth queue_depth(const TargetConfig& t) {
  RunContext ctx;
  ctx.as_of = static_cast<int64_t>(std::time(nullptr));
  TargetReport r = make_source("sqs")->audit(t, ctx);
  if (r.status == Status::kFailed) throw Error(ErrorKind::kInternal, r.error.value_or("queue not readable"));
  const nlohmann::json m = r.extra.is_object() && r.extra.contains("sqs") ? r.extra["sqs"].value("messages", nlohmann::json())
                                                                           : nlohmann::json();
  QueueDepth q;
  if (m.is_object()) {
    q.visible = m.value("visible", 0.0);
    q.in_flight = m.value("in_flight", 0.0);
    q.delayed = m.value("delayed", 0.0);
  }
  return q;
}

// ---- filesystem -----------------------------------------------------------------------------

struct FirstLevel {
  uint64_t files = 0;     // regular files matching `pattern`
  uint64_t folders = 0;
  uint64_t entries = 0;   // everything listed
};

FirstLevel open_directory(const TargetConfig& t) {
  struct stat st {};
  if (::stat(filesystem_config(t).path.c_str(), &st) != 0) {
    throw Error(ErrorKind::kIo, "path " + filesystem_config(t).path + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) throw Error(ErrorKind::kIo, "path " + filesystem_config(t).path + ": not a directory");
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(filesystem_config(t).path.c_str()), &::closedir);
  if (!dir) throw Error(ErrorKind::kIo, "path " + filesystem_config(t).path + ": " + std::strerror(errno));
  FirstLevel f;
  while (dirent* e = ::readdir(dir.get())) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    ++f.entries;
    if (e->d_type == DT_DIR) ++f.folders;
    if (e->d_type == DT_REG &&
        (filesystem_config(t).pattern.empty() || ::fnmatch(filesystem_config(t).pattern.c_str(), name.c_str(), 0) == 0)) {
      ++f.files;
    }
  }
  return f;
}

// ---- per target -----------------------------------------------------------------------------

// Runs `fn` for the target, or for each table or bucket a `tables:`/`buckets:` target discovers.
template <typename Row>
void for_each_target(const Config& config, const std::vector<std::string>& only,
                     const std::function<Row(const TargetConfig&)>& fn, std::vector<Row>& out) {
  for (const TargetConfig& t : config.targets) {
    const bool wanted = only.empty() || std::any_of(only.begin(), only.end(), [&](const std::string& n) {
                          return n == t.name || n.rfind(t.name + "/", 0) == 0;
                        });
    if (!wanted) continue;
    if (!is_discovery_target(t)) {
      out.push_back(fn(t));
      continue;
    }
    try {
      for (const TargetConfig& d : discover_targets(t)) {
        if (only.empty() || std::find(only.begin(), only.end(), t.name) != only.end() ||
            std::find(only.begin(), only.end(), d.name) != only.end()) {
          out.push_back(fn(d));
        }
      }
    } catch (const std::exception& e) {
      Row r;
      r.target = t.name;
      r.kind = t.kind;
      r.detail_or_error((t.kind == "s3" ? "ListBuckets: " : "ListTables: ") + std::string(e.what()));
      out.push_back(r);
    }
  }
}

// One line per target: a server's multi-line message (PostgreSQL's LINE/caret) keeps its first.
std::string error_text(const std::exception& e) {
  std::string text = e.what();
  text = text.substr(0, text.find('\n'));
  if (const auto* te = dynamic_cast<const Error*>(&e)) return std::string(to_string(te->kind())) + ": " + text;
  return text;
}

Readiness ready_one(const TargetConfig& t) {
  Readiness r{t.name, t.kind, false, ""};
  try {
    if (t.kind == "dynamodb") {
      r.detail = dynamodb_detail(t, describe_dynamodb(t));
    } else if (t.kind == "s3") {
      s3::ListObjectsPage p = list_first_page(t, 1);
      r.detail = "bucket " + s3_config(t).bucket + (s3_config(t).prefix.empty() ? "" : ", prefix " + s3_config(t).prefix) +
                 (p.objects.empty() ? ": listed, no object under the prefix" : ": listed");
    } else if (t.kind == "postgres") {
      pg_ready(t);
      r.detail = "connected (read only), " + (postgres_config(t).query.empty() ? "table " + postgres_config(t).table : "query") +
                 " and its columns checked";
    } else if (t.kind == "filesystem") {
      FirstLevel f = open_directory(t);
      r.detail = "path " + filesystem_config(t).path + " readable, " + std::to_string(f.entries) + " entries at the top";
    } else if (t.kind == "sqs") {
      // The audit of a queue is itself the cheap call (GetQueueAttributes, plus one GetMetricData
      // when CloudWatch is on): readiness is that audit succeeding.
      const QueueDepth q = queue_depth(t);
      r.detail = fmt::format("queue readable: {} visible, {} in flight, {} delayed", q.visible, q.in_flight, q.delayed);
    } else {
      throw Error(ErrorKind::kConfig, "kind " + t.kind + " has no online check");
    }
    r.ok = true;
  } catch (const std::exception& e) {
    r.detail = error_text(e);
  }
  return r;
}

std::string rate_basis(const TargetConfig& t) {
  return dynamodb_config(t).max_read_units_per_second > 0
             ? fmt::format("at max_read_units_per_second {:g}", dynamodb_config(t).max_read_units_per_second)
             : std::string("no rate limit configured: time depends on the table's capacity");
}

// DescribeTable's item count and size, scaled by the sample fraction, at the configured rate.
void plan_dynamodb(const TargetConfig& t, PlanEntry& p) {
  const DynamoFacts f = describe_dynamodb(t);
  const double fraction = dynamodb_config(t).sample.value_or(1.0);
  if (f.table.item_count) p.items = static_cast<double>(*f.table.item_count) * fraction;
  // A size of 0 beside a non-zero item count is a figure not refreshed yet: unknown, not 0.
  const bool size_known = f.table.table_size_bytes &&
                          (*f.table.table_size_bytes > 0 || f.table.item_count.value_or(0) == 0);
  if (size_known) {
    p.bytes = static_cast<double>(*f.table.table_size_bytes) * fraction;
    p.read_units = scan_read_units(static_cast<double>(*f.table.table_size_bytes), fraction);
    if (dynamodb_config(t).max_read_units > 0 && *p.read_units > dynamodb_config(t).max_read_units) {
      p.basis += fmt::format("the read budget max_read_units {:g} stops it first (partial); ", dynamodb_config(t).max_read_units);
    }
    if (dynamodb_config(t).max_read_units_per_second > 0) {
      p.seconds = std::min(*p.read_units, dynamodb_config(t).max_read_units > 0 ? dynamodb_config(t).max_read_units : *p.read_units) /
                  dynamodb_config(t).max_read_units_per_second;
    }
  }
  p.basis += (dynamodb_config(t).sample ? fmt::format("sample {:g} of ", fraction) : std::string("full scan of ")) +
             "DescribeTable ItemCount/TableSizeBytes (AWS refreshes them about every 6 h" +
             std::string(size_known ? "" : "; TableSizeBytes not known yet") + "); "
             "eventually consistent Scan: 0.5 read unit per 4 KB; " + rate_basis(t);
}

// The first ListObjectsV2 page: the whole listing when it fits, else a lower bound.
void plan_s3(const TargetConfig& t, PlanEntry& p) {
  const s3::ListObjectsPage page = list_first_page(t, 1000);
  double bytes = 0;
  for (const auto& o : page.objects) bytes += static_cast<double>(o.size);
  if (!page.truncated) {
    p.items = static_cast<double>(page.objects.size());
    p.bytes = bytes;
    p.requests = 1;
    p.basis = "the whole listing fits one ListObjectsV2 page";
  } else {
    p.requests = 2;
    p.basis = "first ListObjectsV2 page is full (1000 objects, " + fmt::format("{:.0f}", bytes) +
              " bytes): more than 1000 objects, one list request per 1000";
  }
  if (s3_config(t).max_requests > 0) p.basis += fmt::format("; max_requests {} caps the run", s3_config(t).max_requests);
}

// pg_class.reltuples and the relation's size on disk (unknown for a query).
void plan_postgres(const TargetConfig& t, PlanEntry& p) {
  pg::Conn c = pg_ready(t);
  if (!postgres_config(t).query.empty()) {
    p.basis = "query: row count unknown before running it";
    return;
  }
  pg::Result r = pg::Session(c.get()).exec(
      "SELECT c.reltuples::float8, pg_total_relation_size(c.oid)::float8 "
      "FROM pg_class c WHERE c.oid = to_regclass($1)",
      {postgres_quote_qualified(c.get(), postgres_config(t).table)});
  if (PQntuples(r.get()) == 1) {
    const double tuples = std::strtod(PQgetvalue(r.get(), 0, 0), nullptr);
    p.bytes = std::strtod(PQgetvalue(r.get(), 0, 1), nullptr);
    // reltuples is -1 until the table is first vacuumed or analyzed.
    if (tuples >= 0) p.items = tuples * postgres_config(t).sample.value_or(1.0);
  }
  p.basis = std::string(p.items ? "pg_class.reltuples (as of the last ANALYZE)"
                                : "pg_class.reltuples unknown (never analyzed)") +
            ", table size on disk; one statement, bounded by statement_timeout " +
            format_duration(postgres_config(t).statement_timeout);
}

void plan_filesystem(const TargetConfig& t, PlanEntry& p) {
  const FirstLevel f = open_directory(t);
  p.basis = fmt::format("files unknown before the walk; first level: {} matching files, {} folders", f.files,
                        f.folders);
}

void plan_sqs(const TargetConfig& t, PlanEntry& p) {
  const QueueDepth q = queue_depth(t);
  p.requests = sqs_config(t).cloudwatch ? 2 : 1;
  p.basis = fmt::format("a queue is not scanned: one GetQueueAttributes request{}, no message is read "
                        "(now {} visible, {} in flight, {} delayed)",
                        sqs_config(t).cloudwatch ? " and one CloudWatch GetMetricData" : "", q.visible, q.in_flight,
                        q.delayed);
}

PlanEntry plan_one(const TargetConfig& t) {
  PlanEntry p;
  p.target = t.name;
  p.kind = t.kind;
  try {
    if (t.kind == "dynamodb") {
      plan_dynamodb(t, p);
    } else if (t.kind == "s3") {
      plan_s3(t, p);
    } else if (t.kind == "postgres") {
      plan_postgres(t, p);
    } else if (t.kind == "filesystem") {
      plan_filesystem(t, p);
    } else if (t.kind == "sqs") {
      plan_sqs(t, p);
    } else {
      throw Error(ErrorKind::kConfig, "kind " + t.kind + " has no plan");
    }
    if (t.max_duration > 0) p.basis += "; max_duration " + format_duration(t.max_duration);
  } catch (const std::exception& e) {
    p.error = error_text(e);
  }
  return p;
}

std::string number_or_unknown(const std::optional<double>& v, const char* format) {
  return v ? fmt::format(fmt::runtime(format), *v) : std::string("unknown");
}

}  // namespace

double scan_read_units(double bytes, double fraction) {
  return std::ceil(bytes * fraction / 4096.0) * 0.5;
}

std::vector<Readiness> check_online(const Config& config) {
  struct Row : Readiness {
    void detail_or_error(const std::string& e) {
      ok = false;
      detail = e;
    }
  };
  std::vector<Row> rows;
  for_each_target<Row>(config, {}, [](const TargetConfig& t) { return Row{ready_one(t)}; }, rows);
  return {rows.begin(), rows.end()};
}

std::vector<PlanEntry> plan_run(const Config& config, const std::vector<std::string>& only) {
  struct Row : PlanEntry {
    void detail_or_error(const std::string& e) { error = e; }
  };
  std::vector<Row> rows;
  for_each_target<Row>(config, only, [](const TargetConfig& t) { return Row{plan_one(t)}; }, rows);
  return {rows.begin(), rows.end()};
}

int print_readiness(const std::vector<Readiness>& rows, std::ostream& out) {
  size_t ready = 0;
  for (const Readiness& r : rows) {
    out << r.target << " (" << r.kind << "): " << (r.ok ? "ok: " : "error: ") << r.detail << '\n';
    if (r.ok) ++ready;
  }
  out << ready << " of " << rows.size() << " targets ready\n";
  return ready == rows.size() ? kExitClean : kExitIncomplete;
}

int print_plan(const std::vector<PlanEntry>& rows, std::ostream& out) {
  size_t planned = 0;
  for (const PlanEntry& p : rows) {
    out << p.target << " (" << p.kind << "): ";
    if (p.error) {
      out << "error: " << *p.error << '\n';
      continue;
    }
    ++planned;
    out << "items=" << number_or_unknown(p.items, "{:.0f}") << " bytes="
        << number_or_unknown(p.bytes, "{:.0f}");
    if (p.kind == "dynamodb") out << " read_units=" << number_or_unknown(p.read_units, "{:g}");
    if (p.requests) out << " requests>=" << fmt::format("{:.0f}", *p.requests);
    if (p.kind == "dynamodb") out << " seconds=" << number_or_unknown(p.seconds, "{:.1f}");
    out << "  (" << p.basis << ")\n";
  }
  out << planned << " of " << rows.size() << " targets planned; nothing was scanned\n";
  return planned == rows.size() ? kExitClean : kExitIncomplete;
}

}  // namespace ttla
