#pragma once
// kind: postgres — rows whose timestamp + retention has passed (soft-delete retention, expiry
// columns), audited read-only through libpq: one READ ONLY transaction with statement_timeout,
// lock_timeout and an application_name; identifiers quoted by libpq, never pasted. The work is
// pushed down: counts, exact min/max and quantiles (percentile_disc), the histogram and the K
// oldest keys come back as a few small result sets, whatever the table's size.
#include <memory>
#include <string>

#include "sources/source.h"

namespace ttla {

std::unique_ptr<Source> make_postgres_source();

// The SQL the source would send for a target (for tests and --log-level debug).
struct PostgresQueries {
  std::string base;       // SELECT k, t, ov FROM ... (the audited population)
  std::string summary;    // counts, min/max, exact quantiles
  std::string buckets;    // fine log buckets within histogram buckets
  std::string oldest;     // K oldest keys
  std::string sample;     // K keys in seeded hash order
};

}  // namespace ttla
