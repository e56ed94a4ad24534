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

// Parameters of every query: $1 = as_of - retention (epoch seconds, the cut-off), $2 = seed.
PostgresQueries build_queries(PGconn* conn, const TargetConfig& t, size_t k) {
  std::string key_expr;
  std::string ts_expr;
  std::string from;
  if (!t.query.empty()) {
    // Any query returning (key, timestamp): its first two columns are renamed k0 and t0.
    from = "(" + t.query + ") AS src(k0, t0)";
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
  std::string where = t.where.empty() ? "" : " WHERE (" + t.where + ")";
  PostgresQueries q;
  // ov: seconds past the deadline (timestamp + retention); NULL timestamps give NULL ov.
  q.base = "SELECT " + key_expr + " AS k, " + ts_expr + " AS t, $1::float8 - EXTRACT(EPOCH FROM " +
           ts_expr + ")::float8 AS ov FROM " + from + where;
  q.summary =
      "SELECT count(*), count(*) FILTER (WHERE t IS NULL), count(*) FILTER (WHERE ov >= 0), "
      "count(*) FILTER (WHERE ov < 0), min(ov) FILTER (WHERE ov >= 0), max(ov) FILTER (WHERE ov >= 0), "
      "percentile_disc(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY ov) FILTER (WHERE ov >= 0) "
      "FROM (" + q.base + ") AS base";
  std::string coarse = "CASE";
  const auto& bounds = OverdueHistogram::bounds();
  for (size_t i = 0; i < bounds.size(); ++i) {
    coarse += " WHEN ov <= " + fmt_double(bounds[i]) + " THEN " + std::to_string(i);
  }
  coarse += " ELSE " + std::to_string(bounds.size()) + " END";
  q.buckets = "SELECT " + coarse + " AS hb, floor(ln(greatest(ov, 1)) / ln(" + fmt_double(kFineBucketBase) +
              ")) AS fb, count(*), min(ov), max(ov) FROM (" + q.base +
              ") AS base WHERE ov >= 0 GROUP BY 1, 2";
  q.oldest = "SELECT k, ov FROM (" + q.base + ") AS base WHERE ov >= 0 ORDER BY t, k LIMIT " +
             std::to_string(k);
  q.sample = "SELECT k, ov FROM (" + q.base + ") AS base WHERE ov >= 0 ORDER BY md5(k || $2::text), k LIMIT " +
             std::to_string(k);
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
    const char* values[] = {"10", target.dsn.c_str(), "ttl-auditor", nullptr};
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
    // $2 only appears in sampled or sample-item queries; PostgreSQL rejects unused parameters
    // whose type it cannot infer, so pass exactly what each statement references.
    auto params_for = [&](const std::string& sql) {
      return sql.find("$2") != std::string::npos ? params : std::vector<std::string>{params[0]};
    };

    Result summary = db.exec(q.summary, params_for(q.summary));
    const uint64_t total = get_u64(summary.get(), 0, 0);
    const uint64_t nulls = get_u64(summary.get(), 0, 1);
    const uint64_t expired = get_u64(summary.get(), 0, 2);
    const uint64_t pending = get_u64(summary.get(), 0, 3);
    if (expired > 0 && !PQgetisnull(summary.get(), 0, 6)) {
      auto qs = parse_float_array(PQgetvalue(summary.get(), 0, 6));
      if (qs.size() == 3) report.exact_quantiles = std::array<double, 3>{qs[0], qs[1], qs[2]};
    }
    report.stats.count(ItemClass::kNotYetExpired, pending);

    if (expired > 0) {
      Result buckets = db.exec(q.buckets, params_for(q.buckets));
      for (int row = 0; row < PQntuples(buckets.get()); ++row) {
        report.stats.add_expired_range(get_u64(buckets.get(), row, 2), get_double(buckets.get(), row, 3),
                                       get_double(buckets.get(), row, 4), 0);
      }
      Result oldest = db.exec(q.oldest, params_for(q.oldest));
      for (int row = 0; row < PQntuples(oldest.get()); ++row) {
        const double ov = get_double(oldest.get(), row, 1);
        report.stats.offer_oldest(PQgetvalue(oldest.get(), row, 0), static_cast<double>(ctx.as_of) - ov, ov, 0);
      }
      Result sample = db.exec(q.sample, params_for(q.sample));
      for (int row = 0; row < PQntuples(sample.get()); ++row) {
        const double ov = get_double(sample.get(), row, 1);
        report.stats.offer_sample(PQgetvalue(sample.get(), row, 0), static_cast<double>(ctx.as_of) - ov, ov, 0);
      }
    }
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

std::unique_ptr<Source> make_postgres_source() { return std::make_unique<PostgresSource>(); }

}  // namespace ttla
