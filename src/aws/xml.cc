#include "aws/xml.h"

namespace ttla::aws::xml {

std::string_view local_name(const pugi::xml_node& n) {
  std::string_view name = n.name();
  size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node member(const pugi::xml_node& parent, std::string_view name) {
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && local_name(c) == name) return c;
  }
  return {};
}

std::vector<pugi::xml_node> members(const pugi::xml_node& parent, std::string_view name) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && (name.empty() || local_name(c) == name)) {
      out.push_back(c);
    }
  }
  return out;
}

std::string text_of(const pugi::xml_node& parent, std::string_view name) {
  return member(parent, name).text().as_string();
}

}  // namespace ttla::aws::xml
