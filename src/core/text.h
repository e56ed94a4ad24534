#pragma once
// Small text helpers shared by every layer.
#include <string>
#include <string_view>

namespace ttla {

// `s` without leading and trailing ASCII white space (space, \t, \n, \v, \f, \r). The result
// views `s`: keep what it views alive.
std::string_view trim(std::string_view s);

// ASCII lower / upper case (other bytes unchanged).
std::string to_lower(std::string_view s);
std::string to_upper(std::string_view s);

}  // namespace ttla
