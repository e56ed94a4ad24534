#pragma once
// kind: postgres — rows whose timestamp + retention has passed (soft-delete retention, expiry
// columns), audited read-only through libpq: one READ ONLY transaction with statement_timeout,
// lock_timeout and an application_name; identifiers quoted by libpq, never pasted. Rows are
// counted on the server; the expired rows are read once, streamed most overdue first (binary COPY)
// and folded into constant-memory statistics with exact quantiles, whatever the table's size.
#include <memory>

#include <libpq-fe.h>
#include <string>

#include "sources/source.h"

namespace ttla {

std::unique_ptr<Source> make_postgres_source();

// The SQL the source sends for a target (for tests and --log-level debug), in one REPEATABLE READ
// READ ONLY transaction: `counts` (one row: expired, NULL timestamp, all rows), then `copy`, the
// binary COPY of `stream`: the expired rows' key and seconds past the deadline, most overdue first.
struct PostgresQueries {
  std::string counts;
  std::string stream;
  std::string copy;
};

// What the source would send for `target` over `conn` (identifiers quoted by that connection) at
// cut-off `cutoff` (as_of - retention, epoch seconds) with sampling seed `seed`.
PostgresQueries postgres_queries(PGconn* conn, const TargetConfig& target, int64_t cutoff, uint64_t seed);

// "schema.table" quoted part by part by `conn` ("schema"."table"), as the source names tables.
std::string postgres_quote_qualified(PGconn* conn, const std::string& name);

}  // namespace ttla
