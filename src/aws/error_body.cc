#include "aws/error_body.h"

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "aws/xml.h"
#include "core/text.h"

namespace ttla::aws {
namespace {

// "com.amazon.coral.availability#ThrottlingException" -> "ThrottlingException"; some services
// append ":http://internal.amazon.com/..." which is dropped as well.
std::string short_code(std::string_view raw) {
  if (size_t hash = raw.rfind('#'); hash != std::string_view::npos) raw.remove_prefix(hash + 1);
  if (size_t colon = raw.find(':'); colon != std::string_view::npos) raw = raw.substr(0, colon);
  return std::string(trim(raw));
}

std::string first_string(const nlohmann::json& doc, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    auto it = doc.find(name);
    if (it != doc.end() && it->is_string()) return it->get<std::string>();
  }
  return {};
}

std::optional<ErrorBody> json_error(std::string_view body) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return std::nullopt;
  ErrorBody e;
  e.code = short_code(first_string(doc, {"__type", "code", "Code"}));
  e.message = first_string(doc, {"message", "Message", "errorMessage"});
  if (e.code.empty() && e.message.empty()) return std::nullopt;
  return e;
}

// The root if it is <Error>, else the first <Error> below it in document order.
pugi::xml_node error_element(const pugi::xml_node& root) {
  if (xml::local_name(root) == "Error") return root;
  struct Finder : pugi::xml_tree_walker {
    pugi::xml_node found;
    bool for_each(pugi::xml_node& n) override {
      if (n.type() == pugi::node_element && xml::local_name(n) == "Error") {
        found = n;
        return false;
      }
      return true;
    }
  } finder;
  pugi::xml_node start = root;
  start.traverse(finder);
  return finder.found;
}

std::optional<ErrorBody> xml_error(std::string_view body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return std::nullopt;
  pugi::xml_node e = error_element(doc.document_element());
  if (!e) return std::nullopt;
  return ErrorBody{xml::text_of(e, "Code"), xml::text_of(e, "Message"), xml::text_of(e, "Region"),
                   xml::text_of(e, "Endpoint")};
}

}  // namespace

std::optional<ErrorBody> parse_error_body(std::string_view body) {
  std::string_view s = trim(body);
  if (s.substr(0, 3) == "\xEF\xBB\xBF") s = trim(s.substr(3));
  if (s.empty()) return std::nullopt;
  if (s.front() == '{') return json_error(s);
  if (s.front() == '<') return xml_error(s);
  return std::nullopt;
}

std::string aws_error_code(std::string_view body) {
  std::optional<ErrorBody> e = parse_error_body(body);
  return e ? e->code : std::string();
}

std::string aws_error_message(std::string_view body) {
  std::optional<ErrorBody> e = parse_error_body(body);
  return e ? e->message : std::string();
}

std::string describe_error(long status, std::string_view body) {
  std::optional<ErrorBody> e = parse_error_body(body);
  std::string out = e && !e->code.empty() ? e->code : std::string("HttpError");
  out += ": ";
  out += e && !e->message.empty() ? e->message : std::string("no error message");
  out += " (HTTP " + std::to_string(status) + ")";
  return out;
}

}  // namespace ttla::aws
