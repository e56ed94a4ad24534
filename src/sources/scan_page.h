#pragma once
// The Scan page parser (no I/O): simdjson On-Demand (one forward pass, no DOM; only the TTL, key
// and group_by attributes of each item are decoded, every other value is walked so that its
// numbers and literals are checked too), classifying each item as it goes. Every malformed,
// truncated or error body throws ttla::Error(kParse) whose message says what was wrong. The other
// DynamoDB answers are read by aws/dynamodb_json.h.
// A TTL of type N whose text is not a number ("1-2e+", "", "nan", "1e400") is not classified:
// DynamoDB stores only valid Numbers, so such a page is not an intact DynamoDB answer and is
// rejected whole (kParse). non_numeric_ttl stays the class of TTLs stored as another type.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "config/config.h"
#include "core/classify.h"
#include "core/stats.h"

namespace ttla::dynamodb {

// What to read from each item.
struct ItemSchema {
  std::string ttl_attribute;
  std::vector<std::string> key_attributes;  // HASH then RANGE: rendered "pk=v1,sk=v2"
  std::optional<GroupBy> group_by;          // attribute/split/part or format "{a}#{b}"
};

// The attribute names group_by reads ("{a}#{b}" -> a, b; else attribute).
std::vector<std::string> group_attributes(const GroupBy& group_by);

struct ScanPageResult {
  uint64_t count = 0;          // "Count": items returned (after any FilterExpression)
  uint64_t scanned_count = 0;  // "ScannedCount": items examined (and charged)
  std::string last_evaluated_key;  // raw JSON object to send back as ExclusiveStartKey; empty at end
  std::optional<double> consumed_capacity;  // ConsumedCapacity.CapacityUnits
  std::array<uint64_t, kItemClassCount> class_counts{};  // classes of the items of this page
};

class ScanPageParser;

// Sees every expired item of a page (after it is counted), e.g. to keep a sample of keys to
// follow between runs. `parser.key_json()` renders the item's key when it is needed.
class ExpiredItemObserver {
 public:
  virtual ~ExpiredItemObserver() = default;
  virtual void expired(std::string_view rendered_key, double deadline,
                       const ScanPageParser& parser) = 0;
};

// Reuses one simdjson parser (and its buffers) across pages; one per thread.
class ScanPageParser {
 public:
  explicit ScanPageParser(ItemSchema schema);
  ~ScanPageParser();
  ScanPageParser(const ScanPageParser&) = delete;
  ScanPageParser& operator=(const ScanPageParser&) = delete;

  // Classifies every item of the page as of `as_of` and feeds `stats` (count() for every class,
  // add_expired() with the rendered key and group for expired items).
  ScanPageResult parse(simdjson::padded_string_view json, int64_t as_of, TargetStats& stats);

  const ItemSchema& schema() const { return schema_; }

  // Optional; not owned. Called for each expired item during parse().
  void set_observer(ExpiredItemObserver* observer) { observer_ = observer; }
  // During ExpiredItemObserver::expired: the current item's key attributes as a DynamoDB JSON
  // object ({"pk":{"S":"..."},...}, attribute order of the schema), for GetItem-style requests.
  std::string key_json() const;

 private:
  struct Impl;
  ItemSchema schema_;
  std::unique_ptr<Impl> impl_;
  ExpiredItemObserver* observer_ = nullptr;
};

// Convenience for one page (a fresh parser each call; use ScanPageParser in loops).
ScanPageResult parse_scan_page(simdjson::padded_string_view json, const ItemSchema& schema,
                               int64_t as_of, TargetStats& stats);

// Makes `body` padded for simdjson in place (reserves SIMDJSON_PADDING spare capacity).
simdjson::padded_string_view pad_in_place(std::string& body);

}  // namespace ttla::dynamodb
