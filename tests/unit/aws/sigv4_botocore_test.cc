// Differential test: our signer against botocore (an independent implementation) on >= 1000
// seeded random requests produced and signed by tests/tools/botocore_sign.py.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "aws/sigv4.h"
#include "support/require.h"

using namespace ttla::aws;

namespace {

constexpr int kCases = 1200;
constexpr const char* kPython = "/usr/bin/python3";

std::string run_capture(const std::string& cmd, int* exit_code) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("popen failed: " + cmd);
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe.get())) > 0) out.append(buf, n);
  *exit_code = pclose(pipe.release());
  return out;
}

}  // namespace

TEST(SigV4Botocore, RandomRequestsSignIdentically) {
  if (!std::filesystem::exists(kPython)) {
    TTLA_SKIP_OR_FAIL("!!! " << kPython << " missing: botocore differential test NOT run !!!");
  }
  int probe = 0;
  run_capture(std::string(kPython) + " -c 'import botocore.auth' 2>/dev/null", &probe);
  if (probe != 0) {
    TTLA_SKIP_OR_FAIL("!!! botocore not importable by " << kPython
                 << " (apt-get install python3-botocore): differential test NOT run !!!");
  }
  std::string script = std::string(TTLA_SOURCE_DIR) + "/tests/tools/botocore_sign.py";
  int rc = 0;
  std::string output = run_capture(std::string(kPython) + " '" + script + "' --count " +
                                       std::to_string(kCases) + " --seed 20151108",
                                   &rc);
  ASSERT_EQ(rc, 0) << "botocore_sign.py failed";

  int total = 0, identical = 0, reported = 0;
  size_t pos = 0;
  while (pos < output.size()) {
    size_t eol = output.find('\n', pos);
    if (eol == std::string::npos) eol = output.size();
    std::string line = output.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty()) continue;
    auto c = nlohmann::json::parse(line);
    ++total;

    sigv4::Request r;
    r.method = c["method"];
    r.path = c["path"];
    for (const auto& q : c["query"]) r.query.emplace_back(q[0], q[1]);
    for (const auto& h : c["headers"]) r.headers.emplace_back(h[0], h[1]);
    r.body = c["body"];
    Credentials creds;
    creds.access_key_id = c["access_key"];
    creds.secret_access_key = c["secret_key"];
    creds.session_token = c["session_token"];
    sigv4::Options o;
    o.service = c["service"];
    o.region = c["region"];
    o.epoch_seconds = c["epoch"];
    o.s3_rules = c["s3"];
    o.unsigned_payload = c["unsigned_payload"];

    sigv4::Signed s = sigv4::sign(r, creds, o);
    const auto& exp = c["expected"];
    bool same = s.canonical_request == exp["canonical_request"].get<std::string>() &&
                s.signature == exp["signature"].get<std::string>() &&
                s.authorization == exp["authorization"].get<std::string>();
    // The x-amz-* headers we add must carry exactly botocore's values.
    size_t added_amz = 0;
    for (const auto& [name, value] : s.added_headers) {
      if (name == "authorization") continue;
      ++added_amz;
      auto it = exp["added_headers"].find(name);
      if (it == exp["added_headers"].end() || it->get<std::string>() != value) same = false;
    }
    if (added_amz != exp["added_headers"].size()) same = false;
    if (same) {
      ++identical;
    } else if (reported++ < 5) {
      ADD_FAILURE() << "case " << c["index"] << " (" << o.service << ") differs from botocore\n"
                    << "--- botocore canonical request\n"
                    << exp["canonical_request"].get<std::string>() << "\n--- ours\n"
                    << s.canonical_request << "\n--- botocore authorization\n"
                    << exp["authorization"].get<std::string>() << "\n--- ours\n"
                    << s.authorization;
    }
  }
  std::cout << "differential: " << identical << "/" << total << " identical\n";
  EXPECT_EQ(total, kCases);
  EXPECT_EQ(identical, total);
}
