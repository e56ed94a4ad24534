#pragma once
// Reading AWS XML answers by member name, as the SDKs do: element names are compared without
// their namespace prefix ("s3:Key" is Key), and only element children count.
#include <pugixml.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace ttla::aws::xml {

// The element's name without a namespace prefix ("s3:Key" -> "Key").
std::string_view local_name(const pugi::xml_node& n);
// The first child element called `name`, or an empty node.
pugi::xml_node member(const pugi::xml_node& parent, std::string_view name);
// Every child element called `name` (every child element when `name` is empty), in document
// order.
std::vector<pugi::xml_node> members(const pugi::xml_node& parent, std::string_view name = {});
// The text of the first child element called `name`; "" when there is none.
std::string text_of(const pugi::xml_node& parent, std::string_view name);

}  // namespace ttla::aws::xml
