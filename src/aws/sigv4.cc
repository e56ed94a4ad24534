#include "aws/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <stdexcept>

#include "core/error.h"

namespace ttla::aws::sigv4 {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

std::string to_hex(const unsigned char* data, size_t len) {
  std::string out;
  out.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xf]);
  }
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len) == nullptr) {
    throw std::runtime_error("sigv4: HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// SigV4 "Trimall": drop leading/trailing whitespace, every inner run becomes one space. Line
// folding (obsolete multi-line values) is covered because the newline is whitespace too.
std::string trim_all(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool pending_space = false;
  for (char c : v) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

bool never_signed(std::string_view lower_name) {
  return lower_name == "user-agent" || lower_name == "expect" || lower_name == "x-amzn-trace-id";
}

std::string credential_scope(const Options& o) {
  return amz_date(o.epoch_seconds).substr(0, 8) + "/" + o.region + "/" + o.service +
         "/aws4_request";
}

}  // namespace

std::string uri_encode(std::string_view s, bool encode_slash) {
  std::string out;
  out.reserve(s.size() * 3);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved || (c == '/' && !encode_slash)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHexUpper[c >> 4]);
      out.push_back(kHexUpper[c & 0xf]);
    }
  }
  return out;
}

std::string hex_sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("sigv4: SHA-256 failed");
  }
  return to_hex(md, len);
}

std::string normalize_path(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> segments;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view seg = path.substr(pos, slash - pos);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    pos = slash + 1;
  }
  std::string out = path.front() == '/' ? "/" : "";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    out.append(segments[i]);
  }
  if (path.back() == '/' && !segments.empty()) out.push_back('/');
  return out;
}

std::string amz_date(int64_t epoch_seconds) {
  std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string canonical_request(const Request& r, const Options& o, std::string_view payload_hash,
                              std::string* signed_headers_out) {
  std::string out;
  out.reserve(512);
  out.append(r.method).push_back('\n');

  if (o.s3_rules) {
    // S3: the key was encoded once for the wire and that exact form is signed.
    out.append(r.path.empty() ? std::string("/") : r.path);
  } else {
    out.append(uri_encode(o.normalize_path ? normalize_path(r.path) : r.path, false));
  }
  out.push_back('\n');

  // Sort by encoded name, then encoded value (the byte order AWS and botocore use).
  std::vector<std::pair<std::string, std::string>> query;
  query.reserve(r.query.size());
  for (const auto& [name, value] : r.query) {
    query.emplace_back(uri_encode(name, true), uri_encode(value, true));
  }
  std::sort(query.begin(), query.end());
  for (size_t i = 0; i < query.size(); ++i) {
    if (i > 0) out.push_back('&');
    out.append(query[i].first).append("=").append(query[i].second);
  }
  out.push_back('\n');

  // Duplicate names join their values with ',' in the order they were given.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : r.headers) {
    std::string lname = to_lower(trim_all(name));
    if (never_signed(lname)) continue;
    auto [it, inserted] = headers.try_emplace(lname, trim_all(value));
    if (!inserted) it->second.append(",").append(trim_all(value));
  }
  std::string signed_headers;
  for (const auto& [name, value] : headers) {
    out.append(name).append(":").append(value).push_back('\n');
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers.append(name);
  }
  out.push_back('\n');
  out.append(signed_headers).push_back('\n');
  out.append(payload_hash);
  if (signed_headers_out != nullptr) *signed_headers_out = std::move(signed_headers);
  return out;
}

std::string string_to_sign(std::string_view canonical_request, const Options& o) {
  std::string out(kAlgorithm);
  out.append("\n").append(amz_date(o.epoch_seconds));
  out.append("\n").append(credential_scope(o));
  out.append("\n").append(hex_sha256(canonical_request));
  return out;
}

std::string signature(std::string_view string_to_sign, std::string_view secret, const Options& o) {
  std::string date = amz_date(o.epoch_seconds).substr(0, 8);
  std::string key = hmac_sha256("AWS4" + std::string(secret), date);
  key = hmac_sha256(key, o.region);
  key = hmac_sha256(key, o.service);
  key = hmac_sha256(key, "aws4_request");
  std::string sig = hmac_sha256(key, string_to_sign);
  return to_hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
}

Signed sign(const Request& r, const Credentials& creds, const Options& o) {
  Request req;
  req.method = r.method;
  req.path = r.path;
  req.query = r.query;
  req.body = r.body;
  std::string caller_payload_hash;
  bool has_host = false;
  for (const auto& h : r.headers) {
    std::string lname = to_lower(h.first);
    if (lname == "host") has_host = true;
    // Whatever the caller put here is replaced by what we compute below.
    if (lname == "authorization" || lname == "x-amz-date" || lname == "x-amz-security-token") {
      continue;
    }
    if (lname == "x-amz-content-sha256") {
      if (o.s3_rules) continue;
      caller_payload_hash = trim_all(h.second);
    }
    req.headers.push_back(h);
  }

  // Without a signed Host header the signature does not bind the endpoint: a caller bug.
  if (!has_host) throw Error(ErrorKind::kInternal, "sigv4: request to sign has no host header");

  Signed out;
  auto add = [&](std::string name, std::string value) {
    req.headers.emplace_back(name, value);
    out.added_headers.emplace_back(std::move(name), std::move(value));
  };
  add("x-amz-date", amz_date(o.epoch_seconds));
  if (!creds.session_token.empty()) add("x-amz-security-token", creds.session_token);

  std::string payload_hash;
  if (o.s3_rules) {
    payload_hash = o.unsigned_payload ? std::string(kUnsignedPayload) : hex_sha256(r.body);
    add("x-amz-content-sha256", payload_hash);
  } else {
    payload_hash = caller_payload_hash.empty() ? hex_sha256(r.body) : caller_payload_hash;
  }

  std::string signed_headers;
  out.canonical_request = canonical_request(req, o, payload_hash, &signed_headers);
  out.string_to_sign = string_to_sign(out.canonical_request, o);
  out.signature = signature(out.string_to_sign, creds.secret_access_key, o);
  out.authorization = std::string(kAlgorithm) + " Credential=" + creds.access_key_id + "/" +
                      credential_scope(o) + ", SignedHeaders=" + signed_headers +
                      ", Signature=" + out.signature;
  out.added_headers.emplace_back("authorization", out.authorization);
  return out;
}

}  // namespace ttla::aws::sigv4
