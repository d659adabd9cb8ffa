#include "qfscale/qianfan/errors.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <simdjson.h>

#include "qianfan/util.h"

namespace qfscale::qianfan {
namespace {

namespace dom = simdjson::dom;

// BCE codes that mean "later, not never". The console documents no throttling code;
// RequestLimitExceeded is the convention the fake server uses (docs/QIANFAN-API.md §7).
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

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// 1*DIGIT and nothing else, at most `max`; a sign, a fraction or an overflow is no value.
std::optional<std::int64_t> parse_digits(std::string_view text, std::int64_t max) {
  if (text.empty() ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

// The two digits at `at` (the caller checked the width), within [0, max].
std::optional<int> two_digits(std::string_view s, std::size_t at, int max) {
  const auto v = parse_digits(s.substr(at, 2), max);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

// IMF-fixdate (RFC 9110 §5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT": fixed width, case-sensitive
// names. The day name is checked for spelling only; RFC 9110 calls it redundant with the date.
std::optional<std::chrono::sys_seconds> parse_imf_fixdate(std::string_view s) {
  using namespace std::chrono;
  constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                     "Fri", "Sat", "Sun"};
  constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  if (std::find(kDays.begin(), kDays.end(), s.substr(0, 3)) == kDays.end()) return std::nullopt;
  const auto month_it = std::find(kMonths.begin(), kMonths.end(), s.substr(8, 3));
  if (month_it == kMonths.end()) return std::nullopt;
  const auto day_of_month = two_digits(s, 5, 31);
  const auto year_number = parse_digits(s.substr(12, 4), 9999);
  const auto hour = two_digits(s, 17, 23);
  const auto minute = two_digits(s, 20, 59);
  const auto second = two_digits(s, 23, 60);  // 60: a leap second
  if (!day_of_month || !year_number || !hour || !minute || !second) return std::nullopt;
  const year_month_day date{year{static_cast<int>(*year_number)},
                            month{static_cast<unsigned>(month_it - kMonths.begin() + 1)},
                            day{static_cast<unsigned>(*day_of_month)}};
  if (!date.ok()) return std::nullopt;  // e.g. 31 Feb
  return sys_days{date} + hours{*hour} + minutes{*minute} + seconds{*second};
}

}  // namespace

std::optional<std::chrono::milliseconds> retry_after_from_headers(const http::Headers& headers,
                                                                  util::SystemTime now) {
  using std::chrono::milliseconds;
  constexpr std::int64_t kMaxMs = kMaxBelievableRetryAfter.count();
  if (auto ms = detail::header_value(headers, "retry-after-ms")) {
    if (auto value = parse_digits(trim_ows(*ms), kMaxMs)) return milliseconds{*value};
  }
  const auto header = detail::header_value(headers, "Retry-After");
  if (!header) return std::nullopt;
  const std::string_view text = trim_ows(*header);
  if (auto delta = parse_digits(text, kMaxMs / 1000)) return milliseconds{*delta * 1000};
  const auto date = parse_imf_fixdate(text);
  if (!date) return std::nullopt;
  // In milliseconds, because nanosecond time points overflow past the year 2262. Flooring `now`
  // rounds the wait up, so the client never waits less than the server asked.
  const auto wait =
      std::chrono::time_point_cast<milliseconds>(*date) - std::chrono::floor<milliseconds>(now);
  if (wait > kMaxBelievableRetryAfter) return std::nullopt;
  return std::max(wait, milliseconds{0});
}

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

std::optional<util::Error> error_from_reply(const http::Response& response, std::string_view action,
                                            util::SystemTime now) {
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
  error.retry_after = retry_after_from_headers(response.headers, now);
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
