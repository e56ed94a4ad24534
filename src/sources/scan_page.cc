#include "sources/scan_page.h"

#include <algorithm>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace ttla::dynamodb {
namespace od = simdjson::ondemand;

namespace {

[[noreturn]] void fail(std::string what) { throw Error(ErrorKind::kParse, std::move(what)); }

void check(simdjson::error_code ec, const char* what) {
  if (ec) {
    fail(std::string("scan page: ") + what + ": " + simdjson::error_message(ec));
  }
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


void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

uint32_t hex4(std::string_view s, size_t i) {
  if (i + 4 > s.size()) fail("scan page: truncated \\u escape");
  uint32_t v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    char c = s[k];
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v |= static_cast<uint32_t>(c - 'A' + 10);
    } else {
      fail("scan page: bad \\u escape");
    }
  }
  return v;
}

// Appends the JSON string content `raw` (between the quotes) with escapes undone.
void append_unescaped(std::string& out, std::string_view raw) {
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= raw.size()) fail("scan page: dangling backslash");
    switch (raw[i]) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t cp = hex4(raw, i + 1);
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < raw.size() && raw[i + 1] == '\\' &&
            raw[i + 2] == 'u') {
          uint32_t lo = hex4(raw, i + 3);
          if (lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        append_utf8(out, cp);
        break;
      }
      default: fail("scan page: bad escape in string");
    }
  }
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
    std::string_view text;  // S/N/B value as raw JSON string content (points into the page)
    bool escaped = false;   // text holds backslash escapes
  };
  std::vector<Captured> captured;
  std::string key_buf;
  std::string group_buf;
  std::string part_buf;
  std::string number_buf;

  int intern(const std::string& name) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return static_cast<int>(i);
    }
    names.push_back(name);
    return static_cast<int>(names.size() - 1);
  }

  // ---- Item scanner -------------------------------------------------------------------------
  // simdjson's stage 1 has indexed the page and its array iteration walks from item to item; the
  // inside of each item is read here in one strict forward pass over the text (keys compared
  // raw, only the wanted AttributeValues decoded, everything else skipped by structure). That is
  // about twice as fast as iterating every field through On-Demand's object iterator. Every
  // deviation from JSON throws kParse; the caller checks that simdjson's idea of where the item
  // ends agrees with ours.
  const char* end = nullptr;  // end of the page text

  static bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
  const char* ws(const char* p) const {
    while (p < end && is_ws(*p)) ++p;
    return p;
  }
  // p at the opening quote; returns past the closing quote. `escaped` (optional) tells whether
  // the content holds backslash escapes. 16 bytes per step: the page is padded by
  // SIMDJSON_PADDING (64) bytes, so a block starting before `end` may be read whole.
  const char* string_end(const char* p, bool* escaped) const {
    ++p;
    bool saw_escape = false;
    while (p < end) {
#if defined(__SSE2__)
      const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      unsigned mask = static_cast<unsigned>(
          _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(block, _mm_set1_epi8('"')),
                                         _mm_cmpeq_epi8(block, _mm_set1_epi8('\\')))));
      if (mask == 0) {
        p += 16;
        continue;
      }
      p += __builtin_ctz(mask);
      if (p >= end) break;
#endif
      const char c = *p;
      if (c == '"') {
        if (escaped != nullptr) *escaped = saw_escape;
        return p + 1;
      }
      if (c == '\\') {
        saw_escape = true;
        ++p;
      }
      ++p;
    }
    fail("scan page: unterminated string");
  }
  const char* skip_scalar(const char* p) const {
    const char* start = p;
    while (p < end && !is_ws(*p) && *p != ',' && *p != '}' && *p != ']') ++p;
    std::string_view t(start, static_cast<size_t>(p - start));
    if (t.empty()) fail("scan page: missing value");
    if (t == "true" || t == "false" || t == "null") return p;
    for (char c : t) {
      if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E')) {
        fail("scan page: unexpected text in item");
      }
    }
    return p;
  }
  const char* skip_value(const char* p, int depth = 0) const {
    if (depth > 64) fail("scan page: nesting too deep");
    p = ws(p);
    if (p >= end) fail("scan page: truncated item");
    if (*p == '"') return string_end(p, nullptr);
    if (*p == '{' || *p == '[') {
      const char close = *p == '{' ? '}' : ']';
      const bool object = *p == '{';
      p = ws(p + 1);
      if (p < end && *p == close) return p + 1;
      while (true) {
        if (object) {
          if (p >= end || *p != '"') fail("scan page: expected a member name");
          p = ws(string_end(p, nullptr));
          if (p >= end || *p != ':') fail("scan page: expected ':'");
          p = ws(p + 1);
        }
        p = ws(skip_value(p, depth + 1));
        if (p >= end) fail("scan page: truncated item");
        if (*p == ',') {
          p = ws(p + 1);
          continue;
        }
        if (*p == close) return p + 1;
        fail("scan page: expected ',' or a closing bracket");
      }
    }
    return skip_scalar(p);
  }
  // p at an AttributeValue's '{'; fills `out`, returns past its '}'.
  const char* read_attribute(const char* p, Captured& out) const {
    if (p >= end || *p != '{') fail("scan page: attribute value is not an AttributeValue object");
    p = ws(p + 1);
    if (p >= end || *p != '"') fail("scan page: empty or malformed AttributeValue object");
    const char* type = p + 1;
    bool type_escaped = false;
    p = string_end(p, &type_escaped);
    std::string_view t(type, static_cast<size_t>(p - 1 - type));
    p = ws(p);
    if (p >= end || *p != ':') fail("scan page: malformed AttributeValue");
    p = ws(p + 1);
    if (t == "N" || t == "S" || t == "B") {
      out.type = t == "N" ? AttrType::kN : t == "S" ? AttrType::kS : AttrType::kB;
      if (p >= end || *p != '"') {
        fail("scan page: AttributeValue of type " + std::string(t) + " is not a string");
      }
      const char* start = p + 1;
      bool escaped = false;
      p = string_end(p, &escaped);
      out.text = std::string_view(start, static_cast<size_t>(p - 1 - start));
      out.escaped = escaped;
    } else {
      out.type = t == "BOOL" ? AttrType::kBool : t == "NULL" ? AttrType::kNull : AttrType::kOther;
      p = skip_value(p);
    }
    p = ws(p);
    if (p >= end || *p != '}') fail("scan page: AttributeValue with more than one member");
    return p + 1;
  }
  int match_raw(std::string_view key, bool escaped) {
    if (escaped) {
      number_buf.clear();
      append_unescaped(number_buf, key);
      key = number_buf;
    }
    for (size_t i = 0; i < names.size(); ++i) {
      if (key == names[i]) return static_cast<int>(i);
    }
    return -1;
  }
  // p at the item's '{'; fills `captured`, returns past the item's '}'.
  const char* read_item(const char* p) {
    for (auto& c : captured) c.type = AttrType::kAbsent;
    p = ws(p + 1);
    if (p < end && *p == '}') return p + 1;
    while (true) {
      if (p >= end || *p != '"') fail("scan page: expected an attribute name");
      const char* key = p + 1;
      bool escaped = false;
      p = string_end(p, &escaped);
      std::string_view k(key, static_cast<size_t>(p - 1 - key));
      p = ws(p);
      if (p >= end || *p != ':') fail("scan page: expected ':' after an attribute name");
      p = ws(p + 1);
      int idx = match_raw(k, escaped);
      if (idx >= 0) {
        p = read_attribute(p, captured[static_cast<size_t>(idx)]);
      } else {
        p = skip_value(p);
      }
      p = ws(p);
      if (p >= end) fail("scan page: truncated item");
      if (*p == ',') {
        p = ws(p + 1);
        continue;
      }
      if (*p == '}') return p + 1;
      fail("scan page: expected ',' or '}' in an item");
    }
  }

  // Appends attribute `index` as text: S/N/B values, "(bool)"/"(null)", "(none)" otherwise.
  void append_value(std::string& out, int index) const {
    const Captured& c = captured[static_cast<size_t>(index)];
    if (c.type == AttrType::kS || c.type == AttrType::kN || c.type == AttrType::kB) {
      if (c.escaped) {
        append_unescaped(out, c.text);
      } else {
        out += c.text;
      }
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
    out += nlohmann::json(m.names[static_cast<size_t>(m.keys[i])]).dump();
    out += c.type == AttrType::kS ? ":{\"S\":\"" : c.type == AttrType::kN ? ":{\"N\":\"" : ":{\"B\":\"";
    out += c.text;  // still JSON-escaped as on the wire
    out += "\"}";
  }
  return out + "}";
}

ScanPageResult ScanPageParser::parse(simdjson::padded_string_view json, int64_t as_of,
                                     TargetStats& stats) {
  Impl& m = *impl_;
  m.end = json.data() + json.length();
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
  const size_t ttl_index = static_cast<size_t>(m.ttl);

  for (auto root_field : root) {
    od::field f;
    check(std::move(root_field).get(f), "top-level field");
    od::raw_json_string key = f.key();
    if (key.unsafe_is_equal("Items")) {
      have_items = true;
      od::array items;
      check(f.value().get_array().get(items), "Items is not an array");
      const char* previous_end = nullptr;
      for (auto item_result : items) {
        std::string_view token;
        check(item_result.raw_json_token().get(token), "item");
        if (token.empty() || token[0] != '{') fail("scan page: item is not an object");
        if (previous_end != nullptr) {
          // simdjson and the item scanner must agree on where the previous item ended.
          const char* q = m.ws(previous_end);
          if (q >= m.end || *q != ',' || m.ws(q + 1) != token.data()) {
            fail("scan page: malformed item list");
          }
        }
        previous_end = m.read_item(token.data());
        ++items_seen;
        const Impl::Captured& t = m.captured[ttl_index];
        ItemClass cls;
        double value = 0;
        if (t.type == AttrType::kAbsent) {
          cls = ItemClass::kMissingTtl;
        } else if (t.type != AttrType::kN) {
          cls = ItemClass::kNonNumericTtl;
        } else {
          std::string_view text = t.text;
          if (t.escaped) {
            m.number_buf.clear();
            append_unescaped(m.number_buf, t.text);
            text = m.number_buf;
          }
          std::optional<double> v = fast_number(text);
          if (!v) v = parse_dynamodb_number(text);
          if (!v) {
            fail("scan page: TTL attribute of type N holds \"" + std::string(text.substr(0, 64)) +
                 "\", not a number");
          }
          value = *v;
          cls = classify_number(value, as_of);
        }
        ++result.class_counts[static_cast<size_t>(cls)];
        if (cls == ItemClass::kExpired) {
          std::string_view k = m.render_key();
          std::string_view g = m.render_group();
          stats.add_expired(k, value, static_cast<double>(as_of) - value, 0, g);
          if (observer_ != nullptr) observer_->expired(k, value, *this);
        } else {
          stats.count(cls);
        }
      }
    } else if (key.unsafe_is_equal("Count")) {
      check(f.value().get_uint64().get(result.count), "Count");
      have_count = true;
    } else if (key.unsafe_is_equal("ScannedCount")) {
      check(f.value().get_uint64().get(result.scanned_count), "ScannedCount");
      have_scanned = true;
    } else if (key.unsafe_is_equal("LastEvaluatedKey")) {
      od::object lek;
      check(f.value().get_object().get(lek), "LastEvaluatedKey is not an object");
      std::string_view raw;
      check(lek.raw_json().get(raw), "LastEvaluatedKey");
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' ||
                              raw.back() == '\t')) {
        raw.remove_suffix(1);
      }
      result.last_evaluated_key.assign(raw);
    } else if (key.unsafe_is_equal("ConsumedCapacity")) {
      od::object cc;
      check(f.value().get_object().get(cc), "ConsumedCapacity is not an object");
      for (auto cc_field : cc) {
        od::field cf;
        check(std::move(cc_field).get(cf), "ConsumedCapacity field");
        if (cf.key().unsafe_is_equal("CapacityUnits")) {
          double units = 0;
          check(cf.value().get_double().get(units), "ConsumedCapacity.CapacityUnits");
          result.consumed_capacity = units;
        }
      }
    } else if (key.unsafe_is_equal("__type")) {
      std::string_view t;
      check(f.value().get_string().get(t), "__type");
      error_type.assign(t);
    } else if (key.unsafe_is_equal("message") || key.unsafe_is_equal("Message")) {
      std::string_view t;
      if (!f.value().get_string().get(t)) error_message.assign(t);
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
