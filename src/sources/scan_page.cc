#include "sources/scan_page.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace ttla::dynamodb {
namespace od = simdjson::ondemand;

namespace {

[[noreturn]] void fail(std::string what) { throw Error(ErrorKind::kParse, std::move(what)); }

[[noreturn, gnu::cold, gnu::noinline]] void fail_json(simdjson::error_code ec, const char* what) {
  fail(std::string("scan page: ") + what + ": " + simdjson::error_message(ec));
}

inline void check(simdjson::error_code ec, const char* what) {
  if (ec) [[unlikely]] fail_json(ec, what);
}

// The value of `result` in place (a reference into it, no copy), or kParse naming `what`.
template <typename T>
T&& take(simdjson::simdjson_result<T>&& result, const char* what) {
  check(result.error(), what);
  return std::move(result).value_unsafe();
}

// Attribute value types we distinguish; everything else (M, L, SS, NS, BS) is kOther.
enum class AttrType : uint8_t { kAbsent, kS, kN, kB, kBool, kNull, kOther };

// Exact for plain decimals of up to 15 significant digits (what real TTLs are); nullopt sends
// the text to the general parser.
std::optional<double> fast_number(std::string_view t) {
  size_t i = 0;
  bool negative = false;
  if (i < t.size() && t[i] == '-') {
    negative = true;
    ++i;
  }
  if (i >= t.size() || t.size() - i > 15) return std::nullopt;
  int64_t v = 0;
  for (; i < t.size(); ++i) {
    char c = t[i];
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return static_cast<double>(negative ? -v : v);
}

struct FormatPiece {
  std::string literal;  // text before the reference
  int name_index = -1;  // -1: literal only (trailing text)
};

std::vector<std::pair<std::string, bool>> parse_format(const std::string& format) {
  // (text, is_reference) pieces of "{a}#{b}".
  std::vector<std::pair<std::string, bool>> out;
  std::string lit;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] == '{') {
      size_t close = format.find('}', i + 1);
      if (close == std::string::npos) {
        lit += format.substr(i);
        break;
      }
      out.emplace_back(lit, false);
      lit.clear();
      out.emplace_back(format.substr(i + 1, close - i - 1), true);
      i = close;
    } else {
      lit += format[i];
    }
  }
  if (!lit.empty()) out.emplace_back(lit, false);
  return out;
}

constexpr std::string_view kNoGroup = "(none)";

// `text` as a JSON string literal (quotes and escapes added).
std::string json_string(std::string_view text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A member name as it stands in the page when it holds no escapes (then it can be compared in
// place); nullopt when it must be unescaped first. simdjson's stage 1 has checked that the string
// is closed and the page is padded, so the scan cannot run off the end.
std::optional<std::string_view> plain_name(od::raw_json_string name) {
  const char* s = name.raw();
  for (size_t n = 0;; ++n) {
    if (s[n] == '"') return std::string_view(s, n);
    if (s[n] == '\\') return std::nullopt;
  }
}

// A member's name, unescaped only when it holds escapes (the unescaped text lives in the
// parser's string buffer until the next page).
std::string_view member_name(od::field& member) {
  if (std::optional<std::string_view> plain = plain_name(member.key())) return *plain;
  std::string_view name;
  check(member.unescaped_key().get(name), "member name");
  return name;
}

AttrType attribute_type(std::string_view type) {
  if (type.size() == 1) {
    switch (type[0]) {
      case 'S': return AttrType::kS;
      case 'N': return AttrType::kN;
      case 'B': return AttrType::kB;
      default: return AttrType::kOther;
    }
  }
  if (type == "BOOL") return AttrType::kBool;
  if (type == "NULL") return AttrType::kNull;
  return AttrType::kOther;
}

bool is_string(od::value& value) {
  od::json_type type;
  return !value.type().get(type) && type == od::json_type::string;
}

// DynamoDB nests at most 32 levels (64 JSON levels counting the AttributeValue wrappers).
constexpr int kMaxDepth = 64;

// Checks a value nobody reads: On-Demand skips unread values by their brackets alone, so a value
// is walked here and every scalar in it is read (numbers, true/false/null checked whole).
void validate(od::value& value, int depth) {
  if (depth > kMaxDepth) fail("scan page: nesting too deep");
  od::json_type type;
  check(value.type().get(type), "value");
  switch (type) {
    case od::json_type::object: {
      auto object = value.get_object();
      check(object.error(), "object");
      for (auto member : object) {
        od::field&& f = take(std::move(member), "object member");
        validate(f.value(), depth + 1);
      }
      return;
    }
    case od::json_type::array: {
      auto array = value.get_array();
      check(array.error(), "array");
      for (auto element : array) {
        od::value&& v = take(std::move(element), "array element");
        validate(v, depth + 1);
      }
      return;
    }
    case od::json_type::string: {
      od::raw_json_string s;
      check(value.get_raw_json_string().get(s), "string");
      return;
    }
    case od::json_type::number: {
      od::number n;
      check(value.get_number().get(n), "number");
      return;
    }
    case od::json_type::boolean: {
      bool b = false;
      check(value.get_bool().get(b), "true/false");
      return;
    }
    case od::json_type::null: {
      bool is_null = false;
      check(value.is_null().get(is_null), "null");
      if (!is_null) fail("scan page: malformed null");
      return;
    }
  }
  fail("scan page: unexpected value");
}

}  // namespace

std::vector<std::string> group_attributes(const GroupBy& group_by) {
  std::vector<std::string> out;
  if (!group_by.format.empty()) {
    for (auto& [text, is_ref] : parse_format(group_by.format)) {
      if (is_ref && std::find(out.begin(), out.end(), text) == out.end()) out.push_back(text);
    }
  } else if (!group_by.attribute.empty()) {
    out.push_back(group_by.attribute);
  }
  return out;
}

struct ScanPageParser::Impl {
  od::parser parser;
  od::parser small_parser;  // re-reads LastEvaluatedKey to check it
  std::vector<std::string> names;  // interesting attribute names, each once
  int ttl = -1;
  std::vector<int> keys;
  // Group: either pieces (format) or one attribute with split/part.
  bool grouping = false;
  std::vector<FormatPiece> pieces;
  std::string trailing_literal;
  int group_attr = -1;
  std::string split;
  int part = 0;

  struct Captured {
    AttrType type = AttrType::kAbsent;
    std::string_view text;  // S/N/B value, unescaped (parser's string buffer: valid for the page)
  };
  std::vector<Captured> captured;
  std::string key_buf;
  std::string group_buf;
  std::string part_buf;

  int intern(const std::string& name) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return static_cast<int>(i);
    }
    names.push_back(name);
    return static_cast<int>(names.size() - 1);
  }

  int find(std::string_view name) const {
    for (size_t i = 0; i < names.size(); ++i) {
      if (name == names[i]) return static_cast<int>(i);
    }
    return -1;
  }

  // An AttributeValue ({"<type>": value}, one member): S/N/B text is kept (unescaped), other
  // types are checked and only their type kept.
  static void read_attribute(od::value& value, Captured& out) {
    auto av = value.get_object();
    if (av.error()) fail("scan page: attribute value is not an AttributeValue object");
    bool seen = false;
    for (auto member : av) {
      od::field&& f = take(std::move(member), "AttributeValue");
      if (seen) fail("scan page: AttributeValue with more than one member");
      seen = true;
      std::string_view type = member_name(f);
      out.type = attribute_type(type);
      if (out.type == AttrType::kS || out.type == AttrType::kN || out.type == AttrType::kB) {
        if (simdjson::error_code ec = f.value().get_string().get(out.text)) {
          fail("scan page: AttributeValue of type " + std::string(type) +
               " is not a valid string: " + simdjson::error_message(ec));
        }
      } else {
        validate(f.value(), 1);
      }
    }
    if (!seen) fail("scan page: empty AttributeValue object");
  }

  // One item: the wanted attributes into `captured`, every other attribute checked and dropped.
  void read_item(simdjson::simdjson_result<od::object>& item) {
    for (auto& c : captured) c.type = AttrType::kAbsent;
    for (auto member : item) {
      od::field&& f = take(std::move(member), "item attribute");
      const int index = find(member_name(f));
      if (index >= 0) {
        read_attribute(f.value(), captured[static_cast<size_t>(index)]);
      } else {
        validate(f.value(), 0);
      }
    }
  }

  // The class of the current item's TTL as of `as_of`; `value` gets the TTL of a Number.
  ItemClass classify_item(int64_t as_of, double& value) const {
    const Captured& t = captured[static_cast<size_t>(ttl)];
    if (t.type == AttrType::kAbsent) return ItemClass::kMissingTtl;
    if (t.type != AttrType::kN) return ItemClass::kNonNumericTtl;
    std::optional<double> v = fast_number(t.text);
    if (!v) v = parse_dynamodb_number(t.text);
    if (!v) {
      // DynamoDB checks every Number on write and answers with valid ones only, so this page
      // did not come from DynamoDB intact: it is rejected, never counted.
      fail("scan page: TTL attribute of type N holds \"" + std::string(t.text.substr(0, 64)) +
           "\", not a number");
    }
    value = *v;
    return classify_number(value, as_of);
  }

  // Items: every item read, classified as of `as_of` and counted; returns how many there were.
  uint64_t read_items(od::value& items, int64_t as_of, TargetStats& stats, ScanPageResult& result,
                      ExpiredItemObserver* observer, const ScanPageParser& owner) {
    auto array = items.get_array();
    check(array.error(), "Items is not an array");
    uint64_t seen = 0;
    for (auto element : array) {
      auto item = element.get_object();
      check(item.error(), "item is not an object");
      read_item(item);
      ++seen;
      double value = 0;
      const ItemClass cls = classify_item(as_of, value);
      ++result.class_counts[static_cast<size_t>(cls)];
      if (cls == ItemClass::kExpired) {
        std::string_view k = render_key();
        std::string_view g = render_group();
        stats.add_expired(k, value, static_cast<double>(as_of) - value, 0, g);
        if (observer != nullptr) observer->expired(k, value, owner);
      } else {
        stats.count(cls);
      }
    }
    return seen;
  }

  // Appends attribute `index` as text: S/N/B values, "(bool)"/"(null)", "(none)" otherwise.
  void append_value(std::string& out, int index) const {
    const Captured& c = captured[static_cast<size_t>(index)];
    if (c.type == AttrType::kS || c.type == AttrType::kN || c.type == AttrType::kB) {
      out += c.text;
    } else if (c.type == AttrType::kBool) {
      out += "(bool)";
    } else if (c.type == AttrType::kNull) {
      out += "(null)";
    } else {
      out += kNoGroup;
    }
  }

  std::string_view render_key() {
    key_buf.clear();
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i) key_buf += ',';
      key_buf += names[static_cast<size_t>(keys[i])];
      key_buf += '=';
      if (captured[static_cast<size_t>(keys[i])].type == AttrType::kAbsent) {
        key_buf += '?';
      } else {
        append_value(key_buf, keys[i]);
      }
    }
    return key_buf;
  }

  std::string_view render_group() {
    if (!grouping) return {};
    group_buf.clear();
    if (group_attr >= 0) {
      append_value(group_buf, group_attr);
      if (!split.empty() && captured[static_cast<size_t>(group_attr)].type != AttrType::kAbsent) {
        std::vector<std::string_view> parts;
        std::string_view v = group_buf;
        size_t start = 0;
        while (true) {
          size_t pos = v.find(split, start);
          if (pos == std::string_view::npos) {
            parts.push_back(v.substr(start));
            break;
          }
          parts.push_back(v.substr(start, pos - start));
          start = pos + split.size();
        }
        int idx = part >= 0 ? part : static_cast<int>(parts.size()) + part;
        std::string_view chosen = (idx >= 0 && idx < static_cast<int>(parts.size()))
                                      ? parts[static_cast<size_t>(idx)]
                                      : kNoGroup;
        part_buf.assign(chosen);
        group_buf.swap(part_buf);
      }
    } else {
      for (const FormatPiece& p : pieces) {
        group_buf += p.literal;
        append_value(group_buf, p.name_index);
      }
      group_buf += trailing_literal;
    }
    if (group_buf.empty()) group_buf.assign(kNoGroup);
    return group_buf;
  }
};

ScanPageParser::ScanPageParser(ItemSchema schema)
    : schema_(std::move(schema)), impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  if (schema_.ttl_attribute.empty()) {
    throw Error(ErrorKind::kConfig, "scan page parser: no TTL attribute");
  }
  m.ttl = m.intern(schema_.ttl_attribute);
  for (const std::string& k : schema_.key_attributes) m.keys.push_back(m.intern(k));
  if (schema_.group_by) {
    const GroupBy& g = *schema_.group_by;
    if (!g.format.empty()) {
      m.grouping = true;
      std::string lit;
      for (auto& [text, is_ref] : parse_format(g.format)) {
        if (is_ref) {
          m.pieces.push_back({lit, m.intern(text)});
          lit.clear();
        } else {
          lit += text;
        }
      }
      m.trailing_literal = lit;
    } else if (!g.attribute.empty()) {
      m.grouping = true;
      m.group_attr = m.intern(g.attribute);
      m.split = g.split;
      m.part = g.part;
    }
  }
  m.captured.resize(m.names.size());
}


ScanPageParser::~ScanPageParser() = default;

std::string ScanPageParser::key_json() const {
  const Impl& m = *impl_;
  std::string out = "{";
  for (size_t i = 0; i < m.keys.size(); ++i) {
    const Impl::Captured& c = m.captured[static_cast<size_t>(m.keys[i])];
    if (c.type != AttrType::kS && c.type != AttrType::kN && c.type != AttrType::kB) {
      throw Error(ErrorKind::kParse, "scan page: key attribute " +
                                         m.names[static_cast<size_t>(m.keys[i])] +
                                         " is missing or not S, N or B");
    }
    if (i) out += ',';
    out += json_string(m.names[static_cast<size_t>(m.keys[i])]);
    out += c.type == AttrType::kS ? ":{\"S\":" : c.type == AttrType::kN ? ":{\"N\":" : ":{\"B\":";
    out += json_string(c.text);
    out += '}';
  }
  return out + "}";
}

namespace {

// LastEvaluatedKey as raw JSON to send back, checked whole by a second, small parse.
std::string read_last_key(od::value& value, od::parser& small_parser) {
  od::object lek;
  check(value.get_object().get(lek), "LastEvaluatedKey is not an object");
  std::string_view raw;
  check(lek.raw_json().get(raw), "LastEvaluatedKey");
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' ||
                          raw.back() == '\t')) {
    raw.remove_suffix(1);
  }
  std::string out(raw);
  od::document doc;
  check(small_parser.iterate(pad_in_place(out)).get(doc), "LastEvaluatedKey");
  auto root = doc.get_value();
  od::value&& v = take(std::move(root), "LastEvaluatedKey");
  validate(v, 0);
  return out;
}

// ConsumedCapacity.CapacityUnits (the other members are checked and dropped).
std::optional<double> read_capacity(od::value& value) {
  od::object cc;
  check(value.get_object().get(cc), "ConsumedCapacity is not an object");
  std::optional<double> units;
  for (auto member : cc) {
    od::field&& f = take(std::move(member), "ConsumedCapacity member");
    if (f.key().unsafe_is_equal("CapacityUnits")) {
      double u = 0;
      check(f.value().get_double().get(u), "ConsumedCapacity.CapacityUnits");
      units = u;
    } else {
      validate(f.value(), 1);
    }
  }
  return units;
}

}  // namespace

ScanPageResult ScanPageParser::parse(simdjson::padded_string_view json, int64_t as_of,
                                     TargetStats& stats) {
  Impl& m = *impl_;
  ScanPageResult result;
  od::document doc;
  check(m.parser.iterate(json).get(doc), "not JSON");
  od::object root;
  check(doc.get_object().get(root), "top level is not an object");

  bool have_count = false;
  bool have_scanned = false;
  bool have_items = false;
  uint64_t items_seen = 0;
  std::string error_type;
  std::string error_message;
  for (auto root_member : root) {
    od::field&& f = take(std::move(root_member), "top-level member");
    od::raw_json_string key = f.key();
    if (key.unsafe_is_equal("Items")) {
      have_items = true;
      items_seen += m.read_items(f.value(), as_of, stats, result, observer_, *this);
    } else if (key.unsafe_is_equal("Count")) {
      check(f.value().get_uint64().get(result.count), "Count");
      have_count = true;
    } else if (key.unsafe_is_equal("ScannedCount")) {
      check(f.value().get_uint64().get(result.scanned_count), "ScannedCount");
      have_scanned = true;
    } else if (key.unsafe_is_equal("LastEvaluatedKey")) {
      result.last_evaluated_key = read_last_key(f.value(), m.small_parser);
    } else if (key.unsafe_is_equal("ConsumedCapacity")) {
      result.consumed_capacity = read_capacity(f.value());
    } else if (key.unsafe_is_equal("__type")) {
      std::string_view t;
      check(f.value().get_string().get(t), "__type");
      error_type.assign(t);
    } else if ((key.unsafe_is_equal("message") || key.unsafe_is_equal("Message")) &&
               is_string(f.value())) {
      std::string_view t;
      check(f.value().get_string().get(t), "message");
      error_message.assign(t);
    } else {
      validate(f.value(), 0);
    }
  }
  // Anything after the root object means the body was not one JSON document.
  if (!doc.current_location().error()) fail("scan page: trailing content after the JSON object");

  if (!error_type.empty()) {
    size_t hash = error_type.rfind('#');
    std::string code = hash == std::string::npos ? error_type : error_type.substr(hash + 1);
    fail("scan page: DynamoDB error body instead of a page: " + code +
         (error_message.empty() ? "" : ": " + error_message));
  }
  if (!have_count || !have_scanned) fail("scan page: Count or ScannedCount missing");
  if (!have_items && result.count != 0) fail("scan page: Items missing while Count > 0");
  if (items_seen != result.count) {
    fail("scan page: Count says " + std::to_string(result.count) + " items but Items holds " +
         std::to_string(items_seen));
  }
  if (result.scanned_count < result.count) fail("scan page: ScannedCount below Count");
  return result;
}

ScanPageResult parse_scan_page(simdjson::padded_string_view json, const ItemSchema& schema,
                               int64_t as_of, TargetStats& stats) {
  ScanPageParser parser(schema);
  return parser.parse(json, as_of, stats);
}

simdjson::padded_string_view pad_in_place(std::string& body) {
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) {
    body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  }
  return simdjson::padded_string_view(body.data(), body.size(), body.capacity());
}

}  // namespace ttla::dynamodb
