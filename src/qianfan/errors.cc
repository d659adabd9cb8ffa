#include "qfscale/qianfan/errors.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include <fmt/format.h>
#include <simdjson.h>

#include "qianfan/util.h"

namespace qfscale::qianfan {
namespace {

namespace dom = simdjson::dom;

// BCE codes that mean "later, not never". The console documents no throttling code;
// RequestLimitExceeded is the convention the fake server uses (QIANFAN-API.md §7).
constexpr std::array<std::string_view, 5> kTransientCodes = {
    kRequestLimitExceeded, "Throttling", "TooManyRequests", kInternalError, "ServiceUnavailable"};

// Legacy numeric codes the SDKs retry: 18 QPSLimitReached, 336100 ServerHighLoad,
// 336501 RPMLimitReached, 336502 TPMLimitReached, 500000 ConsoleInternalError.
constexpr std::array<std::string_view, 5> kTransientLegacyCodes = {"18", "336100", "336501",
                                                                   "336502", "500000"};

// Fields of an error body, whichever shape it has.
struct BodyFields {
  std::string code;
  std::string message;
  std::string request_id;
};

BodyFields parse_body(std::string_view body) {
  BodyFields out;
  dom::parser parser;
  dom::element document;
  dom::object root;
  if (parser.parse(body.data(), body.size()).get(document) != simdjson::SUCCESS ||
      document.get_object().get(root) != simdjson::SUCCESS) {
    return out;
  }
  std::string_view text;
  if (root.at_key("requestId").get_string().get(text) == simdjson::SUCCESS) {
    out.request_id = std::string(text);
  }
  // v2 / BCE: {requestId, code, message}
  if (root.at_key("code").get_string().get(text) == simdjson::SUCCESS) out.code = std::string(text);
  if (root.at_key("message").get_string().get(text) == simdjson::SUCCESS) {
    out.message = std::string(text);
  }
  // legacy: {error_code, error_msg, log_id}; error_code 0 means success
  std::int64_t legacy = 0;
  if (out.code.empty() && root.at_key("error_code").get_int64().get(legacy) == simdjson::SUCCESS &&
      legacy != 0) {
    out.code = std::to_string(legacy);
    if (root.at_key("error_msg").get_string().get(text) == simdjson::SUCCESS) {
      out.message = std::string(text);
    }
  }
  if (out.request_id.empty()) {
    std::uint64_t log_id = 0;
    if (root.at_key("log_id").get_string().get(text) == simdjson::SUCCESS) {
      out.request_id = std::string(text);
    } else if (root.at_key("log_id").get_uint64().get(log_id) == simdjson::SUCCESS) {
      out.request_id = std::to_string(log_id);
    }
  }
  return out;
}

// At most 200 bytes of a body, printable ASCII only, for messages about unreadable replies.
std::string snippet(std::string_view body) {
  constexpr std::size_t kMax = 200;
  std::string out;
  for (const char ch : body.substr(0, kMax)) {
    const auto byte = static_cast<unsigned char>(ch);
    out += (byte >= 0x20 && byte < 0x7f) ? ch : '?';
  }
  if (body.size() > kMax) out += "...";
  return out;
}

}  // namespace

util::ErrorCode classify(int http_status, std::string_view remote_code) {
  if (http_status >= 500 || http_status == 408 || http_status == 429) {
    return ErrorCode::Transient;
  }
  const auto in = [&](const auto& set) {
    return std::find(set.begin(), set.end(), remote_code) != set.end();
  };
  if (!remote_code.empty() && (in(kTransientCodes) || in(kTransientLegacyCodes))) {
    return ErrorCode::Transient;
  }
  return ErrorCode::Remote;
}

std::optional<util::Error> error_from_reply(const http::Response& response,
                                            std::string_view action) {
  const bool success_status = response.status >= 200 && response.status < 300;
  BodyFields fields = parse_body(response.body);
  if (fields.code.empty()) {
    if (auto header = detail::header_value(response.headers, "X-Bce-Error-Code");
        header && !header->empty()) {
      fields.code = std::string(*header);
      if (auto msg = detail::header_value(response.headers, "X-Bce-Error-Message");
          msg && fields.message.empty()) {
        fields.message = std::string(*msg);
      }
    }
  }
  if (success_status && fields.code.empty()) return std::nullopt;
  if (fields.request_id.empty()) {
    if (auto id = detail::header_value(response.headers, "x-bce-request-id"))
      fields.request_id = std::string(*id);
  }

  std::string message = fmt::format("{} failed: HTTP {}", action, response.status);
  if (!fields.code.empty()) message += fmt::format(" {}", fields.code);
  if (!fields.message.empty()) {
    message += fmt::format(": {}", fields.message);
  } else if (!response.body.empty() && fields.code.empty()) {
    message += fmt::format(": {}", snippet(response.body));
  }
  if (!fields.request_id.empty()) message += fmt::format(" (requestId {})", fields.request_id);

  util::Error error = util::make_error(classify(response.status, fields.code), std::move(message));
  error.remote_code = std::move(fields.code);
  error.request_id = std::move(fields.request_id);
  error.http_status = response.status;
  return error;
}

std::string_view advice(const util::Error& error) {
  const std::string_view code = error.remote_code;
  if (code == kInvalidAccessKeyId || code == kSignatureDoesNotMatch ||
      code == "InvalidHTTPAuthHeader") {
    return "check QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY: they must be one access key pair "
           "from the Baidu AI Cloud console";
  }
  if (code == kAccessDenied) {
    return "the access key lacks permission: grant it a Qianfan policy such as "
           "QianfanFullControlAccessPolicy";
  }
  if (code == kRequestExpired) {
    return "the local clock is too far from real time for the signature: synchronise it (NTP)";
  }
  if (error.code == ErrorCode::Transient) {
    return "a temporary failure: retry later; if it persists check network access to the "
           "endpoint and the service's rate limits";
  }
  return {};
}

}  // namespace qfscale::qianfan
