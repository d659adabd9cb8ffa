// libFuzzer target: the fake Qianfan must answer any request a client can send with a 2xx or a
// 4xx (no faults are configured, so a 5xx is a bug in the fake), and never echo request text
// into a response header, where a CR or LF would split the response. Input: the first byte
// picks the mode. Even: a request signed with the fake's credentials, so the bytes reach the
// action handlers: the second line is the action, the rest the JSON body. Odd: a raw request,
// lines "METHOD", "target", "Name: value"... up to a blank line, then the body.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "qfscale/bce/signer.h"
#include "qfscale/fake/fake_qianfan.h"
#include "qfscale/http/message.h"
#include "qfscale/util/clock.h"

namespace {

using namespace std::chrono_literals;

const qfscale::util::SystemTime kNow{std::chrono::seconds{1'735'787'045}};

struct Fixture {
  qfscale::util::ManualClock clock{kNow};
  std::unique_ptr<qfscale::fake::FakeQianfan> fake;
  Fixture() {
    auto scenario = qfscale::fake::default_scenario();
    scenario.credentials =
        qfscale::bce::Credentials{.access_key = "ak-fuzz", .secret_key = "sk-fuzz"};
    auto created = qfscale::fake::FakeQianfan::create(std::move(scenario), clock);
    if (!created) __builtin_trap();
    fake = std::move(*created);
  }
};

std::string_view next_line(std::string_view& rest) {
  const auto end = rest.find('\n');
  const auto line = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  return line;
}

qfscale::http::Request signed_request(std::string_view action, std::string_view body) {
  const std::string route = "/v2/service";
  const auto at = std::chrono::floor<std::chrono::seconds>(kNow);
  qfscale::http::Request request;
  request.method = "POST";
  request.target = route + "?Action=" + qfscale::bce::uri_encode(action);
  request.headers = {{"Host", "127.0.0.1:8765"},
                     {"Content-Type", "application/json"},
                     {"Content-Length", std::to_string(body.size())},
                     {"x-bce-date", qfscale::bce::format_timestamp(at)}};
  qfscale::bce::CanonicalInput input{
      .method = "POST", .path = route, .query = {{"Action", std::string(action)}}};
  for (const auto& h : request.headers) input.headers.emplace_back(h.name, h.value);
  const auto signature = qfscale::bce::sign(
      qfscale::bce::Credentials{.access_key = "ak-fuzz", .secret_key = "sk-fuzz"}, input,
      qfscale::bce::SigningOptions{
          .timestamp = at,
          .headers_to_sign = {"content-length", "content-type", "host", "x-bce-date"}});
  request.headers.push_back({"Authorization", signature.authorization});
  request.body = std::string(body);
  return request;
}

qfscale::http::Request raw_request(std::string_view rest) {
  qfscale::http::Request request;
  request.method = std::string(next_line(rest));
  request.target = std::string(next_line(rest));
  while (!rest.empty()) {
    const auto line = next_line(rest);
    if (line.empty()) break;
    const auto colon = line.find(':');
    request.headers.push_back(
        {std::string(line.substr(0, colon)),
         colon == std::string_view::npos ? std::string() : std::string(line.substr(colon + 1))});
  }
  request.body = std::string(rest);
  request.remote_address = "127.0.0.1:40000";
  return request;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static Fixture fixture;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  qfscale::http::Request request;
  if ((data[0] & 1U) == 0) {
    const auto action = next_line(rest);
    request = signed_request(action, rest);
  } else {
    request = raw_request(rest);
  }
  // Admin requests change the fake's faults; keep them out so "no 5xx" stays the fake's own.
  if (request.path().starts_with("/admin")) return 0;
  const auto response = fixture.fake->handle(request);
  if (response.status >= 500 || response.status < 100) __builtin_trap();
  for (const auto& h : response.headers) {
    if (h.value.find_first_of("\r\n") != std::string::npos || h.value.size() > 1024) {
      __builtin_trap();
    }
  }
  return 0;
}
