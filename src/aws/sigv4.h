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
  // The path exactly as it goes on the wire, without query: for S3 already percent-encoded once
  // by the caller (uri_encode(key, false)); for other services usually "/". Non-S3 canonical URI
  // = uri_encode(normalise(path)): the wire path encoded again, i.e. the "double encoding" of the
  // original segments. This is also how the AWS suites and botocore read a request line.
  std::string path;
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
  // Non-S3 only: remove dot segments and collapse '//' before encoding. Every AWS service but S3
  // wants this; false exists for the aws-c-auth suite's "unnormalized" cases.
  bool normalize_path = true;
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
// RFC 3986 remove_dot_segments plus collapsing of empty segments (botocore's semantics: a
// trailing '/' survives only when a segment remains).
std::string normalize_path(std::string_view path);
// "20150830T123600Z"
std::string amz_date(int64_t epoch_seconds);

std::string canonical_request(const Request& r, const Options& o, std::string_view payload_hash,
                              std::string* signed_headers_out);
std::string string_to_sign(std::string_view canonical_request, const Options& o);
std::string signature(std::string_view string_to_sign, std::string_view secret, const Options& o);

// All stages at once. Adds x-amz-date (and the token / content hash headers) before signing,
// replacing any the caller put there. A caller-supplied x-amz-content-sha256 on a non-S3 request
// is signed and used as the payload hash (what botocore does). Headers never signed because
// proxies rewrite them: user-agent, expect, x-amzn-trace-id (botocore's list).
Signed sign(const Request& r, const Credentials& creds, const Options& o);

}  // namespace ttla::aws::sigv4
