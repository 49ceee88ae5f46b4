#include "util/status.h"

namespace pensieve {

std::string_view error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_request: return "invalid_request";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::unauthorized: return "unauthorized";
    case ErrorKind::model_load_failed: return "model_load_failed";
    case ErrorKind::platform_unsupported: return "platform_unsupported";
    case ErrorKind::resource_exhausted: return "resource_exhausted";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::cancelled: return "cancelled";
    case ErrorKind::overloaded: return "overloaded";
    case ErrorKind::internal: return "internal";
  }
  return "unknown";
}

void assert_fail(const char* expr, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "pensieve: assertion failed: %s at %s:%d %s\n", expr, file, line, msg);
  std::abort();
}

}  // namespace pensieve
