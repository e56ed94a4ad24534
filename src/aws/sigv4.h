#pragma once
// AWS Signature Version 4, in named stages so a failing conformance case names the stage that
// broke: canonical request -> string to sign -> signature -> Authorization header.
// S3 rules: the path is encoded once and never normalised, x-amz-content-sha256 is signed.
// Other services: path segments double-encoded and the path normalised.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/credentials.h"

namespace ttla::aws::sigv4 {

struct Request {
  std::string method;
  std::string path;  // raw path as it goes on the wire for S3 (already encoded once), or the
                     // unencoded path for other services, without query ("/", "/bucket/a b")
  std::vector<std::pair<std::string, std::string>> query;    // decoded names and values, any order
  std::vector<std::pair<std::string, std::string>> headers;  // as sent; host must be present
  std::string body;
};

struct Options {
  std::string region;
  std::string service;            // "dynamodb", "s3", "sts", "monitoring"
  int64_t epoch_seconds = 0;      // injectable clock
  bool s3_rules = false;          // single encoding, no normalisation, payload hash header
  bool unsigned_payload = false;  // S3: sign UNSIGNED-PAYLOAD
};

struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // hex
  std::string authorization;  // full Authorization header value
  // Headers the signer added and the caller must send: x-amz-date, x-amz-security-token,
  // x-amz-content-sha256 (S3), authorization.
  std::vector<std::pair<std::string, std::string>> added_headers;
};

// URI-encode per SigV4 (unreserved A-Z a-z 0-9 - _ . ~ kept; everything else %XX upper-case);
// `encode_slash` false keeps '/'.
std::string uri_encode(std::string_view s, bool encode_slash);
std::string hex_sha256(std::string_view data);

std::string canonical_request(const Request& r, const Options& o, std::string_view payload_hash,
                              std::string* signed_headers_out);
std::string string_to_sign(std::string_view canonical_request, const Options& o);
std::string signature(std::string_view string_to_sign, std::string_view secret, const Options& o);

// All stages at once. Adds x-amz-date (and the token / content hash headers) before signing.
Signed sign(const Request& r, const Credentials& creds, const Options& o);

}  // namespace ttla::aws::sigv4
