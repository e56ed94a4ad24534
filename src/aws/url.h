#pragma once
// The one URL parser: libcurl's (curl_url), which knows IPv6 literals, ports, user info and the
// other corners of RFC 3986 that hand-written splitting gets wrong. Used for endpoint URLs,
// credential endpoints and queue URLs.
#include <optional>
#include <string>
#include <string_view>

namespace ttla::aws {

struct Url {
  std::string scheme;  // lower case: "https"
  // As written, except that IPv6 literals keep their brackets without a zone ("[::1]",
  // "[fe80::1]") and IPv4 shorthand is spelled out ("127.1" -> "127.0.0.1").
  std::string host;
  std::string port;   // "" when the URL names none
  std::string path;   // "/" at least; dot segments are kept as written
  std::string query;  // without the '?'; "" when none
  // host[:port], without the port when it is the scheme's default (80 for http, 443 for https):
  // what a client sends as Host (and signs).
  std::string authority() const;
};

// nullopt when libcurl cannot parse `text` as an absolute URL (no scheme, no host, a port out
// of range, white space...). Any scheme parses: callers check the one they need.
std::optional<Url> parse_url(std::string_view text);

// localhost, 127.0.0.0/8 as a literal, or ::1 (as parse_url spells hosts).
bool is_loopback_host(std::string_view host);

}  // namespace ttla::aws
