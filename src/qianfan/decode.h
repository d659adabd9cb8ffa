#pragma once

// Reply decoders, one per action. Each takes the whole HTTP reply because an error envelope is
// a possible answer to every action (errors.h); success envelopes are
// `{"requestId": "...", "result": ...}` and `result` is decoded strictly per types.h.
// `now` is the client's wall clock when the reply arrived (error_from_reply: a Retry-After date).
// Exposed for the unit tests and the fuzz target.

#include <string_view>

#include "qfscale/http/message.h"
#include "qfscale/qianfan/types.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/result.h"

namespace qfscale::qianfan::detail {

[[nodiscard]] Result<ServiceInfo> decode_describe_service(const http::Response& response,
                                                          util::SystemTime now);
[[nodiscard]] Result<ServicePage> decode_describe_services(const http::Response& response,
                                                           util::SystemTime now);
/// ScaleService / ModifyService: `result` must be the JSON literal `true`.
[[nodiscard]] Result<Ack> decode_ack(const http::Response& response, std::string_view action,
                                     util::SystemTime now);
[[nodiscard]] Result<ComputeUnitInfo> decode_describe_compute_unit(const http::Response& response,
                                                                   util::SystemTime now);
[[nodiscard]] Result<ServiceMetrics> decode_describe_service_metric(const http::Response& response,
                                                                    util::SystemTime now);

}  // namespace qfscale::qianfan::detail
