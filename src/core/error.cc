#include "core/error.h"

namespace ttla {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kConfig: return "config";
    case ErrorKind::kAuth: return "auth";
    case ErrorKind::kNetwork: return "network";
    case ErrorKind::kHttp: return "http";
    case ErrorKind::kThrottled: return "throttled";
    case ErrorKind::kParse: return "parse";
    case ErrorKind::kDatabase: return "database";
    case ErrorKind::kIo: return "io";
    case ErrorKind::kForbidden: return "forbidden";
    case ErrorKind::kBudget: return "budget";
    case ErrorKind::kInternal: return "internal";
  }
  return "internal";
}

}  // namespace ttla
