#include "sources/pg_session.h"

#include "core/error.h"

namespace ttla::pg {

std::string server_message(PGconn* conn, const PGresult* res) {
  std::string msg = res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(conn);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

Conn connect(const std::string& dsn, int64_t connect_timeout_seconds) {
  // connect_timeout first so the DSN may override it; fallback_application_name after it so a
  // DSN's own application_name wins but there is always one.
  const char* keywords[] = {"connect_timeout", "dbname", "fallback_application_name", nullptr};
  const std::string timeout = std::to_string(connect_timeout_seconds);
  const char* values[] = {timeout.c_str(), dsn.c_str(), "ttl-auditor", nullptr};
  Conn conn(PQconnectdbParams(keywords, values, 1));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    throw Error(ErrorKind::kNetwork, "cannot connect: " + server_message(conn.get(), nullptr));
  }
  return conn;
}

Result Session::exec(const std::string& sql, const std::vector<std::string>& params) {
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

void Session::start_copy(const std::string& sql) {
  ++queries_;
  Result res(PQexec(conn_, sql.c_str()));
  if (!res || PQresultStatus(res.get()) != PGRES_COPY_OUT) {
    throw Error(ErrorKind::kDatabase, server_message(conn_, res.get()));
  }
}

void Session::begin_read_only(int64_t statement_timeout_seconds) {
  exec("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
  exec("SET LOCAL statement_timeout = " + std::to_string(statement_timeout_seconds * 1000));
  exec("SET LOCAL lock_timeout = 5000");
  exec("SET LOCAL TimeZone = 'UTC'");
}

namespace {

// Runs one of libpq's escapers (they allocate; NULL on failure) and takes its result.
template <typename Escaper>
std::string escaped(PGconn* conn, std::string_view text, Escaper escaper, const char* what) {
  char* q = escaper(conn, text.data(), text.size());
  if (q == nullptr) {
    throw Error(ErrorKind::kConfig, std::string("cannot quote ") + what + ": " + server_message(conn, nullptr));
  }
  std::string out(q);
  PQfreemem(q);
  return out;
}

}  // namespace

std::string quote_literal(PGconn* conn, std::string_view text) {
  return escaped(conn, text, PQescapeLiteral, "literal");
}

std::string quote_ident(PGconn* conn, std::string_view ident) {
  return escaped(conn, ident, PQescapeIdentifier, "identifier");
}

}  // namespace ttla::pg
