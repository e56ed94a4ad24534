#pragma once
// kind: postgres — rows whose timestamp + retention has passed (soft-delete retention, expiry
// columns), audited read-only through libpq: one READ ONLY transaction with statement_timeout,
// lock_timeout and an application_name; identifiers quoted by libpq, never pasted. The work is
// pushed down: counts, exact min/max and quantiles (percentile_disc), the histogram and the K
// oldest keys come back as a few small result sets, whatever the table's size.
#include <memory>

#include <libpq-fe.h>
#include <string>

#include "sources/source.h"

namespace ttla {

std::unique_ptr<Source> make_postgres_source();

// The SQL the source sends for a target (for tests and --log-level debug): `statement`, one
// query whose materialized CTE `e` (= `base`) reads the expired rows once; the other parts are its
// UNION ALL branches.
struct PostgresQueries {
  std::string base;       // SELECT k, t, ov FROM ... WHERE <expired>: the expired rows
  std::string summary;    // count, min/max, exact quantiles of e
  std::string buckets;    // fine log buckets within histogram buckets
  std::string oldest;     // K oldest keys
  std::string sample;     // K keys in seeded hash order
  std::string rest;       // count of the other rows, NULL timestamps among them
  std::string statement;  // all of the above in one
};

// What the source would send for `target` over `conn` (identifiers quoted by that connection).
PostgresQueries postgres_queries(PGconn* conn, const TargetConfig& target, size_t k);

// "schema.table" quoted part by part by `conn` ("schema"."table"), as the source names tables.
std::string postgres_quote_qualified(PGconn* conn, const std::string& name);

}  // namespace ttla
