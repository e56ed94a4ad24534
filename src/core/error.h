#pragma once
// ttla::Error is the one exception type thrown inside sources and sinks. It is caught only at a
// target or sink boundary, where it becomes a status, one log line and `target_failed`.
#include <stdexcept>
#include <string>
#include <string_view>

namespace ttla {

enum class ErrorKind {
  kConfig,     // bad configuration or usage
  kAuth,       // credentials missing/invalid, signature rejected, access denied
  kNetwork,    // transport failure: DNS, connect, reset, timeout
  kHttp,       // a non-2xx HTTP status that is not one of the kinds below
  kThrottled,  // throttling that outlasted the retry policy
  kParse,      // a response or file we could not understand
  kDatabase,   // a SQL server refused or failed a statement
  kIo,         // local file system
  kForbidden,  // a request that would write to an audited system: refused before it is sent
  kBudget,     // a configured read/request budget was exhausted
  kInternal,
};

std::string_view to_string(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message) : std::runtime_error(std::move(message)), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace ttla
