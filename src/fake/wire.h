#pragma once

// The fake's wire format over `Cloud`: reading the JSON bodies of the console actions (every
// field checked, the mistake named) and writing the BCE envelope and the `result` bodies. The
// HTTP front (fake_qianfan.cc) checks the route, the signature and the faults, then calls
// `run_action`.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "qfscale/bce/signer.h"
#include "qfscale/fake/cloud.h"
#include "qfscale/http/message.h"
#include "qfscale/util/clock.h"

#include "fake/detail.h"

namespace qfscale::fake::detail {

struct ApiError {
  std::string code;
  std::string message;
};

template <class T>
using Outcome = tl::expected<T, ApiError>;

[[nodiscard]] ApiError to_api_error(const Refusal& refusal);

/// Percent-decoding (http/url.h); a piece with a malformed escape is kept as it came, so the
/// signature check, not the decoder, refuses such a request.
[[nodiscard]] std::string percent_decode(std::string_view text);
/// `a=1&b=%20` as decoded pairs, in order; a key without `=` has an empty value.
[[nodiscard]] bce::KeyValues parse_query(std::string_view query);

/// Called once the body parsed as a JSON object, with its `serviceId` ("" when absent or not a
/// string); an error stops the action (the fencing check).
using BodyGate = std::function<std::optional<ApiError>(std::string_view service_id)>;

/// Runs `action` with the JSON `body` (blank = `{}`) against `cloud` at `now`: the `result`
/// JSON, or the error to send (MalformedJSON, InappropriateJSON, a refusal of the cloud).
[[nodiscard]] Outcome<std::string> run_action(Action action, std::string_view body, Cloud& cloud,
                                              util::SystemTime now, const BodyGate& gate);

/// `{"requestId", "code", "message"}` with the code's HTTP status and the X-Bce-Error-* headers.
[[nodiscard]] http::Response error_response(std::string_view code, const std::string& message,
                                            const std::string& request_id);
/// `{"requestId", "result": <result>}`.
[[nodiscard]] http::Response ok_response(const std::string& result, const std::string& request_id);
/// The traffic endpoint's answer: 200 served, 429 over capacity, 404 unknown service.
[[nodiscard]] http::Response traffic_response(std::string_view service_id,
                                              const CloudResult<TrafficOutcome>& outcome);

}  // namespace qfscale::fake::detail
