#pragma once
// libpq plumbing every PostgreSQL reader of ttl-auditor shares (the postgres source, filesystem
// orphans): RAII handles, one connection with a bounded connect time and an application_name,
// and the one read-only transaction all their queries run in.
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ttla::pg {

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;
using Result = std::unique_ptr<PGresult, ResultCloser>;

// The server's (or libpq's) message, without the trailing newline.
std::string server_message(PGconn* conn, const PGresult* res);

// Connects to `dsn` (connect_timeout `connect_timeout_seconds` unless the DSN says otherwise; application_name
// ttl-auditor unless the DSN sets one). Throws ttla::Error(kNetwork) with the server's reason.
Conn connect(const std::string& dsn, int64_t connect_timeout_seconds = 10);

// Runs statements on one connection, counting them. exec() throws ttla::Error(kDatabase) with the
// server's message on any failure.
class Session {
 public:
  explicit Session(PGconn* conn) : conn_(conn) {}
  Result exec(const std::string& sql, const std::vector<std::string>& params = {});
  // Sends a COPY ... TO STDOUT; the caller then reads the rows with PQgetCopyData. Throws
  // ttla::Error(kDatabase) if the server does not start the copy.
  void start_copy(const std::string& sql);
  uint64_t queries() const { return queries_; }
  PGconn* conn() const { return conn_; }

  // Opens the transaction every query runs in: REPEATABLE READ READ ONLY (the server itself
  // refuses any write), statement_timeout, lock_timeout 5 s, TimeZone UTC (a timestamp without
  // time zone is read as UTC). Ends with COMMIT (exec) or when the connection closes.
  void begin_read_only(int64_t statement_timeout_seconds);

 private:
  PGconn* conn_;
  uint64_t queries_ = 0;
};

// A SQL string literal, quoted by the connection ('it''s'). Throws ttla::Error(kConfig).
std::string quote_literal(PGconn* conn, std::string_view text);
// An identifier, quoted by the connection ("Weird""Name"). Throws ttla::Error(kConfig).
std::string quote_ident(PGconn* conn, std::string_view ident);

}  // namespace ttla::pg
