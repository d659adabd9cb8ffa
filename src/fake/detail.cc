#include "fake/detail.h"

#include <fmt/format.h>

namespace qfscale::fake::detail {

std::string_view route_of(Action action) {
  return action == Action::DescribeComputeUnit ? kComputeUnitRoute : kServiceRoute;
}

namespace {

// Status and message per code. The BCE common codes follow docs/QIANFAN-API.md §7; the rest are the
// fake's ASSUMPTIONS (documented in fake_qianfan.h).
constexpr std::array kErrorKinds = {
    ErrorKind{"AccessDenied", 403, "Access denied."},
    ErrorKind{"InappropriateJSON", 400,
              "The JSON you provided was well-formed and valid, but not appropriate for this "
              "operation."},
    ErrorKind{"InternalError", 500, "We encountered an internal error. Please try again."},
    ErrorKind{"InvalidAccessKeyId", 403,
              "The Access Key ID you provided does not exist in our records."},
    ErrorKind{"InvalidHTTPAuthHeader", 400,
              "The HTTP authorization header is invalid. Consult the service documentation for "
              "details."},
    ErrorKind{"InvalidHTTPRequest", 400, "There was an error in the body of your HTTP request."},
    ErrorKind{"InvalidURI", 400, "Could not parse the specified URI."},
    ErrorKind{"MalformedJSON", 400, "The JSON you provided was not well-formed."},
    ErrorKind{"RequestExpired", 400, "Request has expired."},
    ErrorKind{"SignatureDoesNotMatch", 400,
              "The request signature we calculated does not match the signature you provided."},
    ErrorKind{"ResourceNotFound", 404, "The resource does not exist."},
    ErrorKind{"InsufficientComputeUnits", 400,
              "The compute-unit instance does not have enough compute units left."},
    ErrorKind{"ResourceTypeMismatch", 400,
              "The service's resource type does not match the compute-unit instance's type."},
    ErrorKind{"ModelUpdateInProgress", 409, "The service's model update is still running."},
    ErrorKind{"MethodNotAllowed", 405, "The HTTP method is not allowed for this resource."},
    ErrorKind{"RequestLimitExceeded", 429, "Request rate limit exceeded. Please retry later."},
    ErrorKind{"ServiceUnavailable", 503, "The service is temporarily unavailable."},
    ErrorKind{"FencingTokenMissing", 400,
              "Fencing is on: send a positive x-qfscale-fencing-token."},
    ErrorKind{"FencingTokenStale", 409, "The fencing token is older than one already seen."},
};

}  // namespace

const ErrorKind* find_error_kind(std::string_view code) {
  for (const auto& kind : kErrorKinds) {
    if (kind.code == code) return &kind;
  }
  return nullptr;
}

std::string known_error_codes() {
  std::string out;
  for (const auto& kind : kErrorKinds) {
    if (!out.empty()) out += ", ";
    out += kind.code;
  }
  return out;
}

std::string json_string(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  append_json_string(out, text);
  return out;
}

std::string format_duration_ms(std::int64_t milliseconds) {
  if (milliseconds != 0 && milliseconds % 1000 == 0) return fmt::format("{}s", milliseconds / 1000);
  return fmt::format("{}ms", milliseconds);
}

}  // namespace qfscale::fake::detail
