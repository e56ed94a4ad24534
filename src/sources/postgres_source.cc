#include "sources/postgres_source.h"

#include <libpq-fe.h>

#include <chrono>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <sstream>
#include <vector>


#include "core/error.h"
#include "core/log.h"
#include "core/time.h"
#include "sources/pg_session.h"
#include "sources/postgres_kind.h"
#include "sources/sampling.h"

namespace ttla {
namespace {

using pg::Result;
using pg::Session;
using pg::quote_ident;
using pg::server_message;

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

// Two statements, one snapshot (REPEATABLE READ), one read of the expired rows:
//  - `counts` counts every row the target covers by class (expired, not yet, NULL timestamp);
//  - `stream` returns the expired rows' keys and seconds past their deadline, most overdue first,
//    sent as binary COPY. The expired rows are selected by a condition on the bare timestamp
//    column (`col <= cut-off`), so a b-tree index on it gives an index range scan. The order is
//    by the computed overdue, not the column, on purpose: ordering by the column would let the
//    planner walk the whole expired range in index order (one random heap read per row, 3.6x
//    slower than a scan and a sort when 30% of a table is expired); this way the index only
//    selects and the rows are sorted, as the one-query peer does. The client folds the stream into the same TargetStats every
//    source uses (histogram, sketch, oldest, seeded sample) in constant memory, and with the count
//    known beforehand picks the exact quantiles from their ranks as the rows go by.
// COPY takes no bind parameters: the cut-off (an integer number of seconds the auditor computed)
// and the sampling seed are written into the statement as numbers; identifiers are quoted by
// libpq and the `where`/`query` text is the operator's own SQL from the config.
PostgresQueries build_queries(PGconn* conn, const PostgresTargetConfig& t, int64_t cutoff,
                              uint64_t seed) {
  std::string key_expr, ts_expr, from;
  if (!t.query.empty()) {
    // Any query returning (key, timestamp): its first two columns are renamed k0 and t0.
    from = "(" + t.query + ") AS src(k0, t0)";
    key_expr = "src.k0::text";
    ts_expr = "src.t0";
  } else {
    from = quote_qualified(conn, t.table);
    if (t.sample) {
      from += " TABLESAMPLE BERNOULLI (" + fmt_double(*t.sample * 100.0) + ") REPEATABLE (" +
              std::to_string(seed % 1000000007ULL) + ")";
    }
    key_expr = t.key_column.empty() ? std::string("ctid::text") : quote_ident(conn, t.key_column) + "::text";
    ts_expr = quote_ident(conn, t.timestamp_column);
  }
  // The expiry condition on the bare column (index-friendly) and the seconds past the deadline
  // (timestamp + retention); NULL timestamps are in neither. date_part returns float8 directly
  // (EXTRACT returns numeric since PostgreSQL 14, several times slower per row).
  const std::string c = std::to_string(cutoff);
  std::string expired_cond, ov_expr;
  if (t.timestamp_unit == "seconds") {
    expired_cond = ts_expr + " <= " + c;
    ov_expr = c + "::float8 - " + ts_expr + "::float8";
  } else if (t.timestamp_unit == "milliseconds") {
    expired_cond = ts_expr + " <= " + c + "::bigint * 1000";
    ov_expr = c + "::float8 - " + ts_expr + "::float8 / 1000.0";
  } else {
    expired_cond = ts_expr + " <= to_timestamp(" + c + ")";
    ov_expr = c + "::float8 - date_part('epoch', " + ts_expr + ")";
  }
  const std::string user_where = t.where.empty() ? "" : " WHERE (" + t.where + ")";
  PostgresQueries q;
  q.counts = "SELECT count(*) FILTER (WHERE " + expired_cond + "), count(*) FILTER (WHERE " + ts_expr +
             " IS NULL), count(*) FROM " + from + user_where;
  q.stream = "SELECT " + key_expr + ", " + ov_expr + " FROM " + from +
             (t.where.empty() ? " WHERE " : user_where + " AND ") + expired_cond + " ORDER BY 2 DESC";
  q.copy = "COPY (" + q.stream + ") TO STDOUT (FORMAT binary)";
  return q;
}

uint64_t get_u64(const PGresult* r, int row, int col) {
  return PQgetisnull(r, row, col) ? 0 : std::strtoull(PQgetvalue(r, row, col), nullptr, 10);
}

// Binary COPY (https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format"): an
// 11-byte signature, a 32-bit flags word and a header extension, then per tuple a 16-bit field
// count (-1 ends the data) and per field a 32-bit length (-1 for NULL) and the value in the
// type's binary send format, network byte order.
class CopyReader {
 public:
  explicit CopyReader(PGconn* conn) : conn_(conn) {}
  CopyReader(const CopyReader&) = delete;
  CopyReader& operator=(const CopyReader&) = delete;
  ~CopyReader() {
    if (buf_ != nullptr) PQfreemem(buf_);
  }

  // Next tuple's two fields (key text, overdue float8); false at the end of the data.
  bool next(std::string_view& key, double& overdue) {
    while (true) {
      if (trailer_ || !fetch()) return false;
      if (!header_done_) {
        static constexpr char kSig[] = "PGCOPY\n\377\r\n";
        if (left() < 19 || std::memcmp(pos_, kSig, 11) != 0) throw malformed("bad COPY header");
        const uint32_t ext = be32(pos_ + 15);
        if (left() < 19 + ext) throw malformed("bad COPY header extension");
        pos_ += 19 + ext;
        header_done_ = true;
        if (left() == 0) continue;
      }
      if (left() < 2) throw malformed("short tuple");
      const auto fields = static_cast<int16_t>(be16(pos_));
      pos_ += 2;
      if (fields == -1) {
        trailer_ = true;
        return false;
      }
      if (fields != 2) throw malformed("expected 2 fields, got " + std::to_string(fields));
      if (left() < 4) throw malformed("short field");
      const auto klen = static_cast<int32_t>(be32(pos_));
      pos_ += 4;
      if (klen < 0) {
        key = {};
      } else {
        if (left() < static_cast<size_t>(klen)) throw malformed("short key");
        key = std::string_view(pos_, static_cast<size_t>(klen));
        pos_ += klen;
      }
      if (left() < 12 || static_cast<int32_t>(be32(pos_)) != 8) throw malformed("bad overdue field");
      const uint64_t bits = (static_cast<uint64_t>(be32(pos_ + 4)) << 32) | be32(pos_ + 8);
      std::memcpy(&overdue, &bits, sizeof overdue);
      pos_ += 12;
      return true;
    }
  }

  // After next() returned false (or to abandon the rest): reads the COPY to its end, then the
  // statement's own result, throwing the server's error (statement_timeout, say) if any.
  void finish(const std::function<std::string(const PGresult*)>& message) {
    trailer_ = true;
    while (fetch()) pos_ = end_;
    PGresult* r;
    std::string err;
    while ((r = PQgetResult(conn_)) != nullptr) {
      const auto st = PQresultStatus(r);
      if (st != PGRES_COMMAND_OK && err.empty()) err = message(r);
      PQclear(r);
      if (st == PGRES_COPY_OUT) break;  // cannot happen after end of copy; never loop on it
    }
    if (!err.empty()) throw Error(ErrorKind::kDatabase, err);
  }

 private:
  static uint16_t be16(const char* p) {
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    return static_cast<uint16_t>((u[0] << 8) | u[1]);
  }
  static uint32_t be32(const char* p) {
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    return (static_cast<uint32_t>(u[0]) << 24) | (static_cast<uint32_t>(u[1]) << 16) |
           (static_cast<uint32_t>(u[2]) << 8) | u[3];
  }
  size_t left() const { return static_cast<size_t>(end_ - pos_); }
  static Error malformed(const std::string& what) {
    return Error(ErrorKind::kParse, "malformed COPY data from the server: " + what);
  }
  // Make sure unread bytes are buffered: each CopyData message from the server holds one tuple
  // (the header rides with the first), so a new message is fetched only when this one is used up.
  bool fetch() {
    if (eof_) return false;
    if (pos_ != nullptr && pos_ < end_) return true;
    if (buf_ != nullptr) {
      PQfreemem(buf_);
      buf_ = nullptr;
    }
    const int n = PQgetCopyData(conn_, &buf_, 0);
    if (n == -1) {
      eof_ = true;
      return false;
    }
    if (n < 0) throw Error(ErrorKind::kDatabase, std::string("COPY failed: ") + PQerrorMessage(conn_));
    pos_ = buf_;
    end_ = buf_ + n;
    return true;
  }

  PGconn* conn_;
  char* buf_ = nullptr;
  const char* pos_ = nullptr;
  const char* end_ = nullptr;
  bool header_done_ = false;
  bool trailer_ = false;  // the tuple count -1 was read: no more rows
  bool eof_ = false;      // PQgetCopyData reported the end of the COPY
};

// Ranks (1-based, in ascending overdue) of percentile_disc(p) for p = 0.5, 0.9, 0.99 over n values:
// the smallest value whose cumulative share reaches p.
std::array<uint64_t, 3> quantile_ranks(uint64_t n) {
  std::array<uint64_t, 3> r{};
  const double ps[3] = {0.5, 0.9, 0.99};
  for (int i = 0; i < 3; ++i) {
    r[i] = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(ps[i] * static_cast<double>(n) - 1e-9)));
  }
  return r;
}

struct Counts {
  uint64_t expired = 0;
  uint64_t nulls = 0;
  uint64_t total = 0;
  uint64_t pending() const { return total - expired - nulls; }
};

// What streaming the expired rows produced: how many, and the exact quantiles when complete.
struct Streamed {
  uint64_t rows = 0;
  std::array<double, 3> quantiles{};
};

void check_target(const TargetConfig& target) {
  if (!target.retention) throw Error(ErrorKind::kConfig, "postgres target needs retention");
  const PostgresTargetConfig& own = postgres_config(target);
  if (own.sample && !own.query.empty()) {
    throw Error(ErrorKind::kConfig, "sample needs `table`: TABLESAMPLE cannot apply to a query");
  }
}

// Count phase: expired, null-timestamp and all rows, in the snapshot.
Counts count_rows(Session& db, const PostgresQueries& q) {
  Result counts = db.exec(q.counts);
  return Counts{get_u64(counts.get(), 0, 0), get_u64(counts.get(), 0, 1), get_u64(counts.get(), 0, 2)};
}

// Stream phase: the expired rows, oldest first (overdue descending), into the stats. The exact
// quantile of rank r in ascending overdue is the (expired - r + 1)-th row of the stream. A read
// error leaves what was streamed in the report and makes the target partial with the reason.
Streamed stream_expired(PGconn* conn, Session& db, const PostgresQueries& q, uint64_t expired, int64_t as_of,
                        TargetReport& report) {
  const auto ranks = quantile_ranks(expired);
  Streamed out;
  db.start_copy(q.copy);
  CopyReader reader(conn);
  try {
    std::string_view key;
    double ov = 0;
    while (reader.next(key, ov)) {
      ++out.rows;
      const uint64_t ascending_rank = expired + 1 - std::min(out.rows, expired);
      for (size_t i = 0; i < ranks.size(); ++i) {
        if (ranks[i] == ascending_rank) out.quantiles[i] = ov;
      }
      report.stats.add_expired(key, static_cast<double>(as_of) - ov, ov, 0, {});
    }
    reader.finish([&](const PGresult* r) { return server_message(conn, r); });
    db.exec("COMMIT");
  } catch (const Error& e) {
    report.status = Status::kPartial;
    report.error = std::string("expired rows read ") + std::to_string(out.rows) + " of " +
                   std::to_string(expired) + ": " + e.what();
  }
  return out;
}

// Evaluate phase: completeness (a volatile query can change the rows between count and read),
// exact quantiles, items scanned.
void settle(const Counts& c, const Streamed& s, TargetReport& report) {
  if (report.status != Status::kPartial && s.rows != c.expired) {
    // Only a volatile `where`/`query` (random(), now() in a function) can do this in one snapshot.
    report.status = Status::kPartial;
    report.error = "the expired rows changed between counting (" + std::to_string(c.expired) +
                   ") and reading (" + std::to_string(s.rows) + "): is the query volatile?";
  }
  if (report.status != Status::kPartial && c.expired > 0) report.exact_quantiles = s.quantiles;
  report.scan.items_scanned = report.status == Status::kPartial ? c.pending() + c.nulls + s.rows : c.total;
}

// Bernoulli sampling: each row is in the sample independently with probability f, so the count x
// is Binomial(N, f) and x/f estimates N. The exact Poisson (Garwood) bounds on x, scaled by 1/f,
// cover a binomial count conservatively at every size, including x = 0 (upper bound 3.689 / f,
// never [0, 0]); a normal interval would not for small x.
void apply_sample_estimate(double f, uint64_t expired, uint64_t seed, TargetReport& report) {
  report.scan.mode = "sample";
  report.scan.sample_fraction = f;
  report.scan.seed = seed;
  report.estimated = true;
  report.expired_estimate = static_cast<double>(expired) / f;
  report.ci95 = {std::max(static_cast<double>(expired), sampling::poisson_lower_025(expired) / f),
                 sampling::poisson_upper_975(expired) / f};
}

class PostgresSource final : public Source {
 public:
  // Phases: open a read-only snapshot → count → stream the expired rows → settle → estimate → describe.
  TargetReport audit(const TargetConfig& target, const RunContext& ctx) override {
    check_target(target);
    const PostgresTargetConfig& own = postgres_config(target);
    const auto started = std::chrono::steady_clock::now();
    TargetReport report;
    report.name = target.name;
    report.kind = "postgres";
    const auto k = static_cast<size_t>(target.top_k);
    report.stats = TargetStats(StatsOptions{k, ctx.seed, target.redact_keys, k});

    pg::Conn conn = pg::connect(own.dsn, target.connect_timeout.value_or(10));
    Session db(conn.get());
    // Read-only by construction: the server itself refuses any write inside this transaction.
    db.begin_read_only(own.statement_timeout);
    db.exec("SET LOCAL jit = off");  // compiling expressions costs more than this scan saves

    const auto q = build_queries(conn.get(), own, ctx.as_of - *target.retention, ctx.seed);
    const Counts counts = count_rows(db, q);
    report.stats.count(ItemClass::kNotYetExpired, counts.pending());
    const Streamed streamed = stream_expired(conn.get(), db, q, counts.expired, ctx.as_of, report);
    settle(counts, streamed, report);
    report.scan.requests = db.queries();
    if (own.sample) apply_sample_estimate(*own.sample, counts.expired, ctx.seed, report);
    report.scan.duration_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    report.extra["postgres"] = {
        {"relation", own.query.empty() ? own.table : std::string("query")},
        {"rows_examined", counts.total},
        {"expired_rows_counted", counts.expired},
        {"null_timestamp", counts.nulls},
        {"queries", db.queries()},
    };
    log::debug("postgres audit done", Fields()
                                           .add("source", "postgres")
                                           .add("target", target.name)
                                           .add("rows", counts.total)
                                           .add("expired", counts.expired)
                                           .add("queries", db.queries()));
    return report;
  }
};

}  // namespace

std::string postgres_quote_qualified(PGconn* conn, const std::string& name) {
  return quote_qualified(conn, name);
}

PostgresQueries postgres_queries(PGconn* conn, const TargetConfig& target, int64_t cutoff, uint64_t seed) {
  return build_queries(conn, postgres_config(target), cutoff, seed);
}

std::unique_ptr<Source> make_postgres_source() { return std::make_unique<PostgresSource>(); }

}  // namespace ttla
