#include "sources/postgres_source.h"

#include <libpq-fe.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <sstream>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/time.h"
#include "sources/sampling.h"

namespace ttla {
namespace {

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;
using Result = std::unique_ptr<PGresult, ResultCloser>;

// Fine buckets for the sketch: 1% wide in log space, so a bucket's midpoint is within 0.5% of
// every value in it.
constexpr double kFineBucketBase = 1.01;

std::string server_message(PGconn* conn, const PGresult* res) {
  std::string msg = res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(conn);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

class Session {
 public:
  explicit Session(PGconn* conn) : conn_(conn) {}

  Result exec(const std::string& sql, const std::vector<std::string>& params = {}) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p.c_str());
    ++queries_;
    Result res(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                            values.data(), nullptr, nullptr, 0));
    auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      throw Error(ErrorKind::kDatabase, server_message(conn_, res.get()));
    }
    return res;
  }
  uint64_t queries() const { return queries_; }

 private:
  PGconn* conn_;
  uint64_t queries_ = 0;
};

std::string quote_ident(PGconn* conn, std::string_view ident) {
  char* q = PQescapeIdentifier(conn, ident.data(), ident.size());
  if (q == nullptr) throw Error(ErrorKind::kConfig, "cannot quote identifier: " + server_message(conn, nullptr));
  std::string out(q);
  PQfreemem(q);
  return out;
}

// "schema.table" -> "schema"."table"; each part quoted on its own.
std::string quote_qualified(PGconn* conn, const std::string& name) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    if (!out.empty()) out += '.';
    out += quote_ident(conn, std::string_view(name).substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

std::string fmt_double(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

// Parameters of the statement: $1 = as_of - retention (epoch seconds, the cut-off, an integer),
// $2 = seed (only where referenced).
//
// One statement, one read of the expired rows: they are selected by a condition on the bare
// timestamp column (`col <= cut-off`, so a b-tree index on it gives an index range scan over the
// expired rows only) into a materialized CTE, and the summary with exact quantiles, the histogram
// buckets, the K oldest and the K seeded-sample keys are all computed from that CTE. The rows not
// expired (and NULL timestamps) are only counted, by the statement's last branch.
PostgresQueries build_queries(PGconn* conn, const TargetConfig& t, size_t k) {
  std::string key_expr;
  std::string ts_expr;
  std::string from;
  std::string with_src;
  if (!t.query.empty()) {
    // Any query returning (key, timestamp): its first two columns are renamed k0 and t0. It runs
    // once, materialized, for both the expired rows and the count of the others.
    with_src = "src_q AS MATERIALIZED (SELECT * FROM (" + t.query + ") AS q0(k0, t0)), ";
    from = "src_q AS src";
    key_expr = "src.k0::text";
    ts_expr = "src.t0";
  } else {
    from = quote_qualified(conn, t.table);
    if (t.sample) {
      from += " TABLESAMPLE BERNOULLI (" + fmt_double(*t.sample * 100.0) + ") REPEATABLE ($2::float8)";
    }
    key_expr = t.key_column.empty() ? std::string("ctid::text") : quote_ident(conn, t.key_column) + "::text";
    ts_expr = quote_ident(conn, t.timestamp_column);
  }
  // The expiry condition on the bare column (index-friendly) and the seconds past the deadline
  // (timestamp + retention); NULL timestamps are in neither.
  std::string expired_cond, ov_expr;
  if (t.timestamp_unit == "seconds") {
    expired_cond = ts_expr + " <= $1::bigint";
    ov_expr = "$1::float8 - " + ts_expr + "::float8";
  } else if (t.timestamp_unit == "milliseconds") {
    expired_cond = ts_expr + " <= $1::bigint * 1000";
    ov_expr = "$1::float8 - " + ts_expr + "::float8 / 1000.0";
  } else {
    expired_cond = ts_expr + " <= to_timestamp($1::float8)";
    ov_expr = "$1::float8 - EXTRACT(EPOCH FROM " + ts_expr + ")::float8";
  }
  const std::string user_where = t.where.empty() ? "" : "(" + t.where + ") AND ";
  PostgresQueries q;
  q.base = "SELECT " + key_expr + " AS k, " + ts_expr + " AS t, " + ov_expr + " AS ov FROM " +
           from + " WHERE " + user_where + expired_cond;
  std::string coarse = "CASE";
  const auto& bounds = OverdueHistogram::bounds();
  for (size_t i = 0; i < bounds.size(); ++i) {
    coarse += " WHEN ov <= " + fmt_double(bounds[i]) + " THEN " + std::to_string(i);
  }
  coarse += " ELSE " + std::to_string(bounds.size()) + " END";
  q.summary =
      "SELECT 's', count(*)::text, min(ov)::text, max(ov)::text, "
      "(percentile_disc(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY ov))::text FROM e";
  q.buckets = "SELECT 'h', count(*)::text, min(ov)::text, max(ov)::text, NULL FROM e GROUP BY " +
              coarse + ", floor(ln(greatest(ov, 1)) / ln(" + fmt_double(kFineBucketBase) + "))";
  q.oldest = "SELECT 'o', k, ov::text, NULL, NULL FROM e ORDER BY t, k LIMIT " + std::to_string(k);
  q.sample = "SELECT 'm', k, ov::text, NULL, NULL FROM e ORDER BY hashtextextended(k, $2::bigint), k LIMIT " +
             std::to_string(k);
  q.rest = "SELECT 'c', count(*)::text, (count(*) FILTER (WHERE " + ts_expr + " IS NULL))::text, NULL, NULL FROM " +
           from + " WHERE " + user_where + "(NOT (" + expired_cond + ") OR " + ts_expr + " IS NULL)";
  q.statement = "WITH " + with_src + "e AS MATERIALIZED (" + q.base + ") " + q.summary + " UNION ALL " +
                q.buckets + " UNION ALL (" + q.oldest + ") UNION ALL (" + q.sample + ") UNION ALL " + q.rest;
  return q;
}

double get_double(const PGresult* r, int row, int col) {
  return PQgetisnull(r, row, col) ? 0.0 : std::strtod(PQgetvalue(r, row, col), nullptr);
}
uint64_t get_u64(const PGresult* r, int row, int col) {
  return PQgetisnull(r, row, col) ? 0 : std::strtoull(PQgetvalue(r, row, col), nullptr, 10);
}

// "{1.5,2,3}" -> {1.5, 2, 3}
std::vector<double> parse_float_array(const char* text) {
  std::vector<double> out;
  std::string s(text);
  for (char& c : s) {
    if (c == '{' || c == '}' || c == ',') c = ' ';
  }
  std::istringstream is(s);
  double v;
  while (is >> v) out.push_back(v);
  return out;
}

class PostgresSource final : public Source {
 public:
  TargetReport audit(const TargetConfig& target, const RunContext& ctx) override {
    if (!target.retention) throw Error(ErrorKind::kConfig, "postgres target needs retention");
    if (target.sample && !target.query.empty()) {
      throw Error(ErrorKind::kConfig, "sample needs `table`: TABLESAMPLE cannot apply to a query");
    }
    const auto started = std::chrono::steady_clock::now();
    TargetReport report;
    report.name = target.name;
    report.kind = "postgres";
    const auto k = static_cast<size_t>(target.top_k);
    report.stats = TargetStats(StatsOptions{k, ctx.seed, target.redact_keys, k});

    // connect_timeout first so the DSN may override it; fallback_application_name after it so a
    // DSN's own application_name wins but there is always one.
    const char* keywords[] = {"connect_timeout", "dbname", "fallback_application_name", nullptr};
    const std::string connect_timeout = std::to_string(target.connect_timeout.value_or(10));
    const char* values[] = {connect_timeout.c_str(), target.dsn.c_str(), "ttl-auditor", nullptr};
    Conn conn(PQconnectdbParams(keywords, values, 1));
    if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
      throw Error(ErrorKind::kNetwork, "cannot connect: " + server_message(conn.get(), nullptr));
    }
    Session db(conn.get());
    // Read-only by construction: the server itself refuses any write inside this transaction.
    db.exec("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
    db.exec("SET LOCAL statement_timeout = " + std::to_string(target.statement_timeout * 1000));
    db.exec("SET LOCAL lock_timeout = 5000");
    db.exec("SET LOCAL TimeZone = 'UTC'");  // timestamp without time zone is read as UTC

    const auto q = build_queries(conn.get(), target, k);
    const double cutoff = static_cast<double>(ctx.as_of - *target.retention);
    const std::vector<std::string> params = {fmt_double(cutoff), std::to_string(ctx.seed % 1000000007ULL)};

    Result res = db.exec(q.statement, params);
    uint64_t expired = 0, pending = 0, nulls = 0;
    std::vector<int> oldest_rows, sample_rows;
    for (int row = 0; row < PQntuples(res.get()); ++row) {
      const std::string tag = PQgetvalue(res.get(), row, 0);
      if (tag == "s") {
        expired = get_u64(res.get(), row, 1);
        if (expired > 0 && !PQgetisnull(res.get(), row, 4)) {
          auto qs = parse_float_array(PQgetvalue(res.get(), row, 4));
          if (qs.size() == 3) report.exact_quantiles = std::array<double, 3>{qs[0], qs[1], qs[2]};
        }
      } else if (tag == "h") {
        report.stats.add_expired_range(get_u64(res.get(), row, 1), get_double(res.get(), row, 2),
                                       get_double(res.get(), row, 3), 0);
      } else if (tag == "o") {
        oldest_rows.push_back(row);
      } else if (tag == "m") {
        sample_rows.push_back(row);
      } else if (tag == "c") {
        nulls = get_u64(res.get(), row, 2);
        pending = get_u64(res.get(), row, 1) - nulls;
      }
    }
    for (int row : oldest_rows) {
      const double ov = get_double(res.get(), row, 2);
      report.stats.offer_oldest(PQgetvalue(res.get(), row, 1), static_cast<double>(ctx.as_of) - ov, ov, 0);
    }
    for (int row : sample_rows) {
      const double ov = get_double(res.get(), row, 2);
      report.stats.offer_sample(PQgetvalue(res.get(), row, 1), static_cast<double>(ctx.as_of) - ov, ov, 0);
    }
    report.stats.count(ItemClass::kNotYetExpired, pending);
    const uint64_t total = expired + pending + nulls;
    db.exec("COMMIT");

    report.scan.items_scanned = total;
    report.scan.requests = db.queries();
    if (target.sample) {
      // Bernoulli sampling: each row is in the sample independently with probability f, so the
      // count x is Binomial(N, f) and x/f estimates N. The exact Poisson (Garwood) bounds on x,
      // scaled by 1/f, cover a binomial count conservatively at every size, including x = 0
      // (upper bound 3.689 / f, never [0, 0]); a normal interval would not for small x.
      const double f = *target.sample;
      report.scan.mode = "sample";
      report.scan.sample_fraction = f;
      report.scan.seed = ctx.seed;
      report.estimated = true;
      report.expired_estimate = static_cast<double>(expired) / f;
      report.ci95 = {std::max(static_cast<double>(expired), sampling::poisson_lower_025(expired) / f),
                     sampling::poisson_upper_975(expired) / f};
    }
    report.scan.duration_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    report.extra["postgres"] = {
        {"relation", target.query.empty() ? target.table : std::string("query")},
        {"rows_examined", total},
        {"null_timestamp", nulls},
        {"queries", db.queries()},
    };
    spdlog::debug("source=postgres target={} rows={} expired={} queries={}", target.name, total, expired,
                  db.queries());
    return report;
  }
};

}  // namespace

std::string postgres_quote_qualified(PGconn* conn, const std::string& name) {
  return quote_qualified(conn, name);
}

PostgresQueries postgres_queries(PGconn* conn, const TargetConfig& target, size_t k) {
  return build_queries(conn, target, k);
}

std::unique_ptr<Source> make_postgres_source() { return std::make_unique<PostgresSource>(); }

}  // namespace ttla
