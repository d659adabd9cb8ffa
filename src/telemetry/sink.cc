#include "qfscale/telemetry/sink.h"

namespace qfscale::telemetry {

std::string_view to_string(ApiAction action) {
  switch (action) {
    case ApiAction::DescribeService:
      return "DescribeService";
    case ApiAction::ScaleService:
      return "ScaleService";
    case ApiAction::ModifyService:
      return "ModifyService";
    case ApiAction::DescribeComputeUnit:
      return "DescribeComputeUnit";
    case ApiAction::DescribeServiceMetric:
      return "DescribeServiceMetric";
  }
  return "DescribeService";
}

std::string_view to_string(ApiCode code) {
  switch (code) {
    case ApiCode::Ok:
      return "ok";
    case ApiCode::AccessDenied:
      return "AccessDenied";
    case ApiCode::InvalidAccessKeyId:
      return "InvalidAccessKeyId";
    case ApiCode::SignatureDoesNotMatch:
      return "SignatureDoesNotMatch";
    case ApiCode::RequestExpired:
      return "RequestExpired";
    case ApiCode::RequestLimitExceeded:
      return "RequestLimitExceeded";
    case ApiCode::InternalError:
      return "InternalError";
    case ApiCode::Transport:
      return "transport";
    case ApiCode::BadReply:
      return "bad_reply";
    case ApiCode::Other:
      return "other";
  }
  return "other";
}

ApiCode api_code_from_remote(std::string_view remote_code) {
  if (remote_code.empty()) return ApiCode::Ok;
  // Only the BCE spellings map; "ok", "transport" and "bad_reply" are ours, not remote codes.
  for (const ApiCode code : kAllApiCodes) {
    if (code == ApiCode::Ok || code == ApiCode::Transport || code == ApiCode::BadReply ||
        code == ApiCode::Other) {
      continue;
    }
    if (to_string(code) == remote_code) return code;
  }
  return ApiCode::Other;
}

std::string_view to_string(MetricSourceErrorKind kind) {
  switch (kind) {
    case MetricSourceErrorKind::Unreachable:
      return "unreachable";
    case MetricSourceErrorKind::BadReply:
      return "bad_reply";
    case MetricSourceErrorKind::Missing:
      return "missing";
    case MetricSourceErrorKind::Stale:
      return "stale";
  }
  return "unreachable";
}

}  // namespace qfscale::telemetry
