#include "qfscale/demand/qps_source.h"

namespace qfscale::demand {

std::string_view to_string(FailureKind kind) {
  switch (kind) {
    case FailureKind::NotFinite:
      return "nan";
    case FailureKind::Negative:
      return "negative";
    case FailureKind::Missing:
      return "missing";
    case FailureKind::Stale:
      return "stale";
    case FailureKind::HttpStatus:
      return "http_status";
    case FailureKind::Malformed:
      return "malformed";
    case FailureKind::Transport:
      return "transport";
    case FailureKind::QueryError:
      return "query_error";
  }
  return "malformed";
}

}  // namespace qfscale::demand
