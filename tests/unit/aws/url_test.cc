// parse_url (libcurl's parser) on the URL shapes endpoints, credential agents and queue URLs
// take: IPv6 literals, ports, default ports, path prefixes, user info; and the loopback test.
#include "aws/url.h"

#include <gtest/gtest.h>

namespace ttla::aws {
namespace {

TEST(Url, HostPortAndPath) {
  auto u = parse_url("http://127.0.0.1:8000/base/path/?a=b");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8000");
  EXPECT_EQ(u->path, "/base/path/");
  EXPECT_EQ(u->query, "a=b");
  EXPECT_EQ(u->authority(), "127.0.0.1:8000");
}

TEST(Url, Ipv6LiteralsKeepTheirBrackets) {
  auto u = parse_url("https://[::1]:9000/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "[::1]");
  EXPECT_EQ(u->port, "9000");
  EXPECT_EQ(u->authority(), "[::1]:9000");
  auto full = parse_url("http://[0:0:0:0:0:0:0:1]/x");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->host, "[::1]");  // spelled canonically
  EXPECT_EQ(full->port, "");
  EXPECT_EQ(full->path, "/x");
  auto agent = parse_url("http://[fd00:ec2::23]/v1/credentials");
  ASSERT_TRUE(agent);
  EXPECT_EQ(agent->host, "[fd00:ec2::23]");
}

TEST(Url, DefaultPortsLeaveTheAuthority) {
  EXPECT_EQ(parse_url("https://dynamodb.eu-west-1.amazonaws.com:443")->authority(),
            "dynamodb.eu-west-1.amazonaws.com");
  EXPECT_EQ(parse_url("http://localhost:80/")->authority(), "localhost");
  EXPECT_EQ(parse_url("http://localhost:443/")->authority(), "localhost:443");
  EXPECT_EQ(parse_url("https://localhost:80/")->authority(), "localhost:80");
}

TEST(Url, PathStyleEndpointAndVirtualHostNames) {
  auto path_style = parse_url("http://127.0.0.1:9000/s3-prefix");
  ASSERT_TRUE(path_style);
  EXPECT_EQ(path_style->path, "/s3-prefix");
  EXPECT_EQ(parse_url("http://127.0.0.1:9000")->path, "/");
  auto vhost = parse_url("https://my-bucket.s3.eu-west-2.amazonaws.com/key%20x");
  ASSERT_TRUE(vhost);
  EXPECT_EQ(vhost->host, "my-bucket.s3.eu-west-2.amazonaws.com");
  EXPECT_EQ(vhost->path, "/key%20x");  // as written, not decoded
  // Dot segments are kept: a signed path must be the one sent.
  EXPECT_EQ(parse_url("http://h/a/../b")->path, "/a/../b");
}

TEST(Url, SchemeIsLowerCasedAndUserInfoIsNotTheHost) {
  auto u = parse_url("HTTPS://user:secret@Example.com/p");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "Example.com");
  EXPECT_EQ(u->authority(), "Example.com");
  EXPECT_EQ(parse_url("ftp://h/x")->scheme, "ftp");  // any scheme parses; callers check
}

TEST(Url, RejectsWhatIsNotAnAbsoluteUrl) {
  for (const char* bad : {"", "localhost:8000", "/just/a/path", "http://h:99999/", "http://a b/",
                          "http://"}) {
    EXPECT_FALSE(parse_url(bad)) << bad;
  }
}

TEST(Url, LoopbackHosts) {
  for (const char* host : {"localhost", "LocalHost", "127.0.0.1", "127.255.0.9", "[::1]"}) {
    EXPECT_TRUE(is_loopback_host(host)) << host;
  }
  for (const char* host : {"127.evil.example", "128.0.0.1", "[::2]", "example.com", ""}) {
    EXPECT_FALSE(is_loopback_host(host)) << host;
  }
  // IPv4 shorthand is spelled out by the parser, so it is recognised too.
  EXPECT_TRUE(is_loopback_host(parse_url("http://127.1:8000/")->host));
}

}  // namespace
}  // namespace ttla::aws
