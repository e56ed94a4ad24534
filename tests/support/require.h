#pragma once
// A test that cannot run because something it needs is missing (a server that did not start, the
// conformance suite, promtool, botocore) calls TTLA_SKIP_OR_FAIL instead of GTEST_SKIP:
//
//   if (endpoint == nullptr) TTLA_SKIP_OR_FAIL("TTLA_MOTO_ENDPOINT not set: scripts/servers/moto.sh");
//
// Outside CI it skips, loudly (ctest counts it as skipped and scripts/test.sh lists it in the
// closing summary). With CI=true or TTLA_REQUIRE_ALL=1 it fails: in CI a skipped test would make a
// green run mean less than it says.
#include <cstdlib>
#include <cstring>

#include <gtest/gtest.h>

inline bool TtlaRequireAll() {
  const char* ci = std::getenv("CI");
  const char* all = std::getenv("TTLA_REQUIRE_ALL");
  return (ci != nullptr && std::strcmp(ci, "true") == 0) ||
         (all != nullptr && std::strcmp(all, "1") == 0);
}

#define TTLA_SKIP_OR_FAIL(why)                                                              \
  do {                                                                                      \
    if (TtlaRequireAll()) {                                                                 \
      GTEST_FAIL() << "required but unavailable (CI=true or TTLA_REQUIRE_ALL=1): " << why;  \
    } else {                                                                                \
      GTEST_SKIP() << "!!! SKIPPED: " << why;                                               \
    }                                                                                       \
  } while (0)

// `out` (a std::string) = the environment variable `name`, which names a server or tool the
// test needs; unset or empty: TTLA_SKIP_OR_FAIL("<name> not set: <hint>").
#define TTLA_REQUIRE_ENV(out, name, hint)                            \
  do {                                                              \
    const char* ttla_env_ = std::getenv(name);                      \
    if (ttla_env_ == nullptr || *ttla_env_ == '\0') {               \
      TTLA_SKIP_OR_FAIL(name " not set: " hint);                    \
    }                                                               \
    (out) = ttla_env_;                                              \
  } while (0)
