#include "qfscale/telemetry/sink.h"

namespace qfscale::telemetry {

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

std::string_view to_string(TickStage stage) {
  switch (stage) {
    case TickStage::Observe:
      return "observe";
    case TickStage::Metrics:
      return "metrics";
    case TickStage::Allocate:
      return "allocate";
    case TickStage::Act:
      return "act";
    case TickStage::Save:
      return "save";
    case TickStage::Audit:
      return "audit";
  }
  return "observe";
}

std::string_view to_string(TickErrorCode code) {
  switch (code) {
    case TickErrorCode::AccessDenied:
      return "AccessDenied";
    case TickErrorCode::InvalidAccessKeyId:
      return "InvalidAccessKeyId";
    case TickErrorCode::SignatureDoesNotMatch:
      return "SignatureDoesNotMatch";
    case TickErrorCode::RequestExpired:
      return "RequestExpired";
    case TickErrorCode::RequestLimitExceeded:
      return "RequestLimitExceeded";
    case TickErrorCode::InternalError:
      return "InternalError";
    case TickErrorCode::Transport:
      return "transport";
    case TickErrorCode::BadReply:
      return "bad_reply";
    case TickErrorCode::Other:
      return "other";
    case TickErrorCode::Unreachable:
      return "unreachable";
    case TickErrorCode::Missing:
      return "missing";
    case TickErrorCode::Stale:
      return "stale";
    case TickErrorCode::UnknownUnits:
      return "unknown_units";
    case TickErrorCode::ReplicaCountMismatch:
      return "replica_count_mismatch";
    case TickErrorCode::Internal:
      return "internal";
    case TickErrorCode::Io:
      return "io";
  }
  return "other";
}

TickErrorCode tick_error_code(ApiCode code) {
  switch (code) {
    case ApiCode::AccessDenied:
      return TickErrorCode::AccessDenied;
    case ApiCode::InvalidAccessKeyId:
      return TickErrorCode::InvalidAccessKeyId;
    case ApiCode::SignatureDoesNotMatch:
      return TickErrorCode::SignatureDoesNotMatch;
    case ApiCode::RequestExpired:
      return TickErrorCode::RequestExpired;
    case ApiCode::RequestLimitExceeded:
      return TickErrorCode::RequestLimitExceeded;
    case ApiCode::InternalError:
      return TickErrorCode::InternalError;
    case ApiCode::Transport:
      return TickErrorCode::Transport;
    case ApiCode::BadReply:
      return TickErrorCode::BadReply;
    case ApiCode::Ok:
    case ApiCode::Other:
      break;
  }
  return TickErrorCode::Other;
}

TickErrorCode tick_error_code(MetricSourceErrorKind kind) {
  switch (kind) {
    case MetricSourceErrorKind::Unreachable:
      return TickErrorCode::Unreachable;
    case MetricSourceErrorKind::BadReply:
      return TickErrorCode::BadReply;
    case MetricSourceErrorKind::Missing:
      return TickErrorCode::Missing;
    case MetricSourceErrorKind::Stale:
      return TickErrorCode::Stale;
  }
  return TickErrorCode::BadReply;
}

std::vector<std::pair<TickStage, TickErrorCode>> all_tick_error_kinds() {
  std::vector<std::pair<TickStage, TickErrorCode>> out;
  for (const auto stage : {TickStage::Observe, TickStage::Act}) {
    for (const auto code : kAllApiCodes) {
      if (code != ApiCode::Ok) out.emplace_back(stage, tick_error_code(code));
    }
  }
  out.emplace_back(TickStage::Observe, TickErrorCode::ReplicaCountMismatch);
  for (const auto kind : kAllMetricSourceErrorKinds) {
    out.emplace_back(TickStage::Metrics, tick_error_code(kind));
  }
  out.emplace_back(TickStage::Metrics, TickErrorCode::Internal);
  out.emplace_back(TickStage::Allocate, TickErrorCode::UnknownUnits);
  out.emplace_back(TickStage::Allocate, TickErrorCode::Internal);
  out.emplace_back(TickStage::Save, TickErrorCode::Io);
  out.emplace_back(TickStage::Audit, TickErrorCode::Io);
  return out;
}

}  // namespace qfscale::telemetry
