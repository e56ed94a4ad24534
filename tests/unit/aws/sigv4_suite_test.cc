// Runs every case of both AWS SigV4 test suites in TTLA_SHARED_DIR/conformance/sigv4 (read in
// place, never copied): v4/ (aws-c-auth layout: context.json, request.txt, header-* and query-*
// expectations) and aws4_testsuite/ (.req/.creq/.sts/.authz). Each stage is checked from the
// suite's own previous-stage output, so a failure names the stage that broke.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <iomanip>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "aws/sigv4.h"
#include "core/error.h"
#include "support/require.h"

namespace fs = std::filesystem;
using namespace ttla::aws;

namespace {

const fs::path kSuiteRoot = fs::path(TTLA_SHARED_DIR) / "conformance" / "sigv4";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// A suite request file: "METHOD target HTTP/1.1", header lines (a line starting with whitespace
// continues the previous value), a blank line, the body. The target's path is taken as the wire
// path; the query is split on '&' and '=' and percent-decoded (the signer re-encodes it).
sigv4::Request parse_request(const std::string& text) {
  sigv4::Request r;
  size_t body_at = text.find("\n\n");
  std::string head = body_at == std::string::npos ? text : text.substr(0, body_at);
  if (body_at != std::string::npos) r.body = text.substr(body_at + 2);
  std::istringstream lines(head);
  std::string line;
  std::getline(lines, line);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  r.method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) {
    std::string query = target.substr(q + 1);
    size_t pos = 0;
    while (pos <= query.size()) {
      size_t amp = query.find('&', pos);
      if (amp == std::string::npos) amp = query.size();
      std::string pair = query.substr(pos, amp - pos);
      size_t eq = pair.find('=');
      std::string name = pair.substr(0, eq);
      std::string value = eq == std::string::npos ? "" : pair.substr(eq + 1);
      if (!pair.empty()) r.query.emplace_back(percent_decode(name), percent_decode(value));
      pos = amp + 1;
    }
  }
  while (std::getline(lines, line)) {
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t') && !r.headers.empty()) {
      r.headers.back().second += "\n" + line;  // folded continuation line
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return r;
}

std::string signature_of(const std::string& authorization) {
  size_t at = authorization.find("Signature=");
  return at == std::string::npos ? "" : authorization.substr(at + 10);
}

std::string trim_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

int64_t parse_iso8601(const std::string& ts) {  // "2015-08-30T12:36:00Z"
  std::tm tm{};
  std::istringstream in(ts);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  return static_cast<int64_t>(timegm(&tm));
}

int64_t parse_amz_date(const std::string& ts) {  // "20150830T123600Z"
  std::tm tm{};
  std::istringstream in(ts);
  in >> std::get_time(&tm, "%Y%m%dT%H%M%SZ");
  return static_cast<int64_t>(timegm(&tm));
}

// Compares one stage; records a failure that names the case and stage.
bool stage(const std::string& name, const char* stage_name, const std::string& expected,
           const std::string& actual) {
  if (expected == actual) return true;
  ADD_FAILURE() << "case " << name << ": stage " << stage_name << " differs\n--- expected\n"
                << expected << "\n--- actual\n"
                << actual;
  return false;
}

std::vector<fs::path> case_dirs(const fs::path& root, const std::string& marker_file_suffix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::string fname = e.path().filename().string();
    if (fname.size() >= marker_file_suffix.size() &&
        fname.compare(fname.size() - marker_file_suffix.size(), marker_file_suffix.size(),
                      marker_file_suffix) == 0) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(SigV4Suite, AwsCAuthV4Format) {
  fs::path root = kSuiteRoot / "v4";
  if (!fs::is_directory(root)) {
    TTLA_SKIP_OR_FAIL("!!! SigV4 conformance suite NOT FOUND at " << root
                 << " -- signer NOT verified against the AWS suite !!!");
  }
  int cases = 0, passed = 0, presign_passed = 0;
  for (const auto& ctx_path : case_dirs(root, "context.json")) {
    fs::path dir = ctx_path.parent_path();
    std::string name = "v4/" + dir.filename().string();
    ++cases;
    auto ctx = nlohmann::json::parse(read_file(ctx_path));
    sigv4::Request req = parse_request(read_file(dir / "request.txt"));
    Credentials creds;
    creds.access_key_id = ctx["credentials"]["access_key_id"];
    creds.secret_access_key = ctx["credentials"]["secret_access_key"];
    std::string token = ctx["credentials"].value("token", "");
    bool omit_token = ctx.value("omit_session_token", false);
    // "omit_session_token": the token is attached after signing, so it is not signed.
    if (!omit_token) creds.session_token = token;
    sigv4::Options o;
    o.region = ctx["region"];
    o.service = ctx["service"];
    o.epoch_seconds = parse_iso8601(ctx["timestamp"]);
    o.normalize_path = ctx.value("normalize", true);
    bool sign_body = ctx.value("sign_body", false);

    // --- header-signed variant, through sign() ---
    sigv4::Request header_req = req;
    if (sign_body) header_req.headers.emplace_back("X-Amz-Content-SHA256", sigv4::hex_sha256(req.body));
    std::string exp_creq = read_file(dir / "header-canonical-request.txt");
    std::string exp_sts = read_file(dir / "header-string-to-sign.txt");
    std::string exp_sig = trim_newlines(read_file(dir / "header-signature.txt"));
    std::string exp_authz;
    {
      std::istringstream sreq(read_file(dir / "header-signed-request.txt"));
      std::string line;
      while (std::getline(sreq, line)) {
        if (line.rfind("Authorization:", 0) == 0) exp_authz = trim_newlines(line.substr(14));
      }
    }
    sigv4::Signed s = sigv4::sign(header_req, creds, o);
    bool ok = stage(name, "canonical_request", exp_creq, s.canonical_request);
    ok &= stage(name, "string_to_sign", exp_sts, sigv4::string_to_sign(exp_creq, o));
    ok &= stage(name, "signature", exp_sig, sigv4::signature(exp_sts, creds.secret_access_key, o));
    ok &= stage(name, "authorization", exp_authz, s.authorization);
    if (ok) ++passed;

    // --- query-signed (presigned) variant, through the stage functions: the X-Amz-* parameters
    // join the query, no x-amz-date header, the token is a (signed) query parameter. ---
    std::string signed_headers;
    sigv4::canonical_request(req, o, "", &signed_headers);
    sigv4::Request qreq = req;
    std::string date = sigv4::amz_date(o.epoch_seconds);
    qreq.query.emplace_back("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
    qreq.query.emplace_back("X-Amz-Credential", creds.access_key_id + "/" + date.substr(0, 8) + "/" +
                                                    o.region + "/" + o.service + "/aws4_request");
    qreq.query.emplace_back("X-Amz-Date", date);
    qreq.query.emplace_back("X-Amz-Expires", std::to_string(ctx["expiration_in_seconds"].get<int>()));
    qreq.query.emplace_back("X-Amz-SignedHeaders", signed_headers);
    if (!creds.session_token.empty()) qreq.query.emplace_back("X-Amz-Security-Token", creds.session_token);
    std::string q_creq = read_file(dir / "query-canonical-request.txt");
    std::string q_sts = read_file(dir / "query-string-to-sign.txt");
    std::string q_sig = trim_newlines(read_file(dir / "query-signature.txt"));
    std::string actual_q = sigv4::canonical_request(qreq, o, sigv4::hex_sha256(req.body), nullptr);
    bool qok = stage(name, "presigned canonical_request", q_creq, actual_q);
    qok &= stage(name, "presigned string_to_sign", q_sts, sigv4::string_to_sign(q_creq, o));
    qok &= stage(name, "presigned signature", q_sig,
                 sigv4::signature(q_sts, creds.secret_access_key, o));
    if (qok) ++presign_passed;
  }
  std::cout << "SigV4 suite v4: " << passed << "/" << cases << " cases passed\n";
  std::cout << "SigV4 suite v4 (presigned-query stages): " << presign_passed << "/" << cases
            << " cases passed\n";
  EXPECT_GT(cases, 30) << "v4 suite looks truncated";
  EXPECT_EQ(passed, cases);
  EXPECT_EQ(presign_passed, cases);
}

TEST(SigV4Suite, Aws4TestSuiteFormat) {
  fs::path root = kSuiteRoot / "aws4_testsuite";
  if (!fs::is_directory(root)) {
    TTLA_SKIP_OR_FAIL("!!! SigV4 conformance suite NOT FOUND at " << root
                 << " -- signer NOT verified against the AWS suite !!!");
  }
  int cases = 0, passed = 0;
  for (const auto& req_path : case_dirs(root, ".req")) {
    fs::path dir = req_path.parent_path();
    std::string stem = req_path.stem().string();
    std::string name = "aws4_testsuite/" + fs::relative(dir, root).string();
    ++cases;
    sigv4::Request req = parse_request(read_file(req_path));
    std::string exp_creq = read_file(dir / (stem + ".creq"));
    std::string exp_sts = read_file(dir / (stem + ".sts"));
    std::string exp_authz = trim_newlines(read_file(dir / (stem + ".authz")));

    // This format has no context file: the fixed suite credentials and scope, the clock from
    // the request's X-Amz-Date, and the session token from the request's header or (for
    // get-vanilla-with-session-token, whose .req omits it) from the expected canonical request.
    Credentials creds;
    creds.access_key_id = "AKIDEXAMPLE";
    creds.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    sigv4::Options o;
    o.region = "us-east-1";
    o.service = "service";
    for (const auto& [k, v] : req.headers) {
      std::string lk = k;
      for (auto& c : lk) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lk == "x-amz-date") o.epoch_seconds = parse_amz_date(v);
      if (lk == "x-amz-security-token") creds.session_token = v;
    }
    if (creds.session_token.empty()) {
      const std::string marker = "\nx-amz-security-token:";
      size_t at = exp_creq.find(marker);
      if (at != std::string::npos) {
        size_t start = at + marker.size();
        creds.session_token = exp_creq.substr(start, exp_creq.find('\n', start) - start);
      }
    }
    ASSERT_NE(o.epoch_seconds, 0) << name << ": no X-Amz-Date in request";

    sigv4::Signed s = sigv4::sign(req, creds, o);
    bool ok = stage(name, "canonical_request", exp_creq, s.canonical_request);
    ok &= stage(name, "string_to_sign", exp_sts, sigv4::string_to_sign(exp_creq, o));
    ok &= stage(name, "signature", signature_of(exp_authz),
                sigv4::signature(exp_sts, creds.secret_access_key, o));
    ok &= stage(name, "authorization", exp_authz, s.authorization);
    if (ok) ++passed;
  }
  std::cout << "SigV4 suite aws4_testsuite: " << passed << "/" << cases << " cases passed\n";
  EXPECT_GT(cases, 25) << "aws4_testsuite looks truncated";
  EXPECT_EQ(passed, cases);
}

TEST(SigV4, UriEncodeAndNormalize) {
  EXPECT_EQ(sigv4::uri_encode("a b/c~d+e=f", false), "a%20b/c~d%2Be%3Df");
  EXPECT_EQ(sigv4::uri_encode("a/b", true), "a%2Fb");
  EXPECT_EQ(sigv4::uri_encode("\xE1\x88\xB4", true), "%E1%88%B4");
  EXPECT_EQ(sigv4::normalize_path("/a/./b/../c//d/"), "/a/c/d/");
  EXPECT_EQ(sigv4::normalize_path("/example/.."), "/");
  EXPECT_EQ(sigv4::normalize_path(""), "/");
  EXPECT_EQ(sigv4::hex_sha256(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SigV4, S3RulesSignPayloadHashAndKeepPathAsIs) {
  sigv4::Request r;
  r.method = "GET";
  r.path = "/bucket/a%20b//c/../d";
  r.headers = {{"Host", "127.0.0.1:9000"}};
  sigv4::Options o;
  o.region = "us-east-1";
  o.service = "s3";
  o.epoch_seconds = 1440938160;
  o.s3_rules = true;
  o.unsigned_payload = true;
  Credentials c{"AK", "SK", "TOKEN", std::nullopt, "test"};
  auto s = sigv4::sign(r, c, o);
  EXPECT_NE(s.canonical_request.find("\n/bucket/a%20b//c/../d\n"), std::string::npos) << s.canonical_request;
  EXPECT_NE(s.canonical_request.find("x-amz-content-sha256:UNSIGNED-PAYLOAD\n"), std::string::npos);
  EXPECT_NE(s.canonical_request.find("x-amz-security-token:TOKEN\n"), std::string::npos);
  EXPECT_NE(s.authorization.find("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"),
            std::string::npos)
      << s.authorization;
  EXPECT_EQ(s.canonical_request.substr(s.canonical_request.rfind('\n') + 1), "UNSIGNED-PAYLOAD");
}

TEST(SigV4, RefusesToSignWithoutHostHeader) {
  sigv4::Request r;
  r.method = "GET";
  r.path = "/";
  sigv4::Options o;
  o.region = "us-east-1";
  o.service = "dynamodb";
  Credentials c{"AK", "SK", "", std::nullopt, "test"};
  EXPECT_THROW(sigv4::sign(r, c, o), ttla::Error);
}
