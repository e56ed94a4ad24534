#include "aws/url.h"

#include <curl/curl.h>

#include <memory>

#include "core/text.h"

namespace ttla::aws {
namespace {

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

// One part of a parsed URL; "" when the URL has none.
std::string part(CURLU* u, CURLUPart which) {
  char* value = nullptr;
  if (curl_url_get(u, which, &value, 0) != CURLUE_OK || value == nullptr) return {};
  std::string out(value);
  curl_free(value);
  return out;
}

}  // namespace

std::string Url::authority() const {
  const bool default_port = port.empty() || (scheme == "http" && port == "80") ||
                            (scheme == "https" && port == "443");
  return default_port ? host : host + ":" + port;
}

std::optional<Url> parse_url(std::string_view text) {
  std::unique_ptr<CURLU, CurlUrlDeleter> u(curl_url());
  if (!u) return std::nullopt;
  const std::string s(text);
  if (curl_url_set(u.get(), CURLUPART_URL, s.c_str(),
                   CURLU_NON_SUPPORT_SCHEME | CURLU_PATH_AS_IS) != CURLUE_OK) {
    return std::nullopt;
  }
  Url url;
  url.scheme = to_lower(part(u.get(), CURLUPART_SCHEME));
  url.host = part(u.get(), CURLUPART_HOST);
  url.port = part(u.get(), CURLUPART_PORT);
  url.path = part(u.get(), CURLUPART_PATH);
  url.query = part(u.get(), CURLUPART_QUERY);
  if (url.host.empty()) return std::nullopt;
  if (url.path.empty()) url.path.push_back('/');  // not = "/": GCC 12 -O3 -Wrestrict false positive
  return url;
}

bool is_loopback_host(std::string_view host_in) {
  const std::string host = to_lower(host_in);
  if (host == "localhost" || host == "[::1]") return true;
  if (host.rfind("127.", 0) != 0) return false;
  return host.find_first_not_of("0123456789.") == std::string::npos;  // a literal, not a name
}

}  // namespace ttla::aws
