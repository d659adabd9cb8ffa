#include "qfscale/qianfan/errors.h"

#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "unit/qianfan/fixtures.h"

namespace qfscale::qianfan {
namespace {

using test::kNow;
using test::read_fixture;
using test::reply;

TEST_SUITE("qianfan") {
  TEST_CASE("errors: status x body x headers -> code, retryable, remote code, request id") {
    struct Case {
      std::string_view name;
      int status = 200;
      std::string body;
      http::Headers headers;
      // want
      bool is_error = true;
      ErrorCode code = ErrorCode::Remote;
      std::string_view remote_code;
      std::string_view request_id;
      std::string_view in_message;
    };
    const std::string denied = read_fixture("error_access_denied.json");
    const std::string throttled = read_fixture("error_throttled.json");
    const std::string legacy_qps = read_fixture("error_legacy_qps.json");
    const Case cases[] = {
        {.name = "2xx success envelope is not an error",
         .body = read_fixture("scale_service_ok.json"),
         .is_error = false},
        {.name = "2xx legacy error_code 0 is not an error",
         .body = R"({"error_code":0,"result":true})",
         .is_error = false},
        {.name = "403 AccessDenied",
         .status = 403,
         .body = denied,
         .code = ErrorCode::Remote,
         .remote_code = "AccessDenied",
         .request_id = "e7700001-5555-4f60-8b12-666677778888",
         .in_message = "Access denied."},
        {.name = "2xx with BCE error body is an error (SDKs return it as success)",
         .status = 200,
         .body = denied,
         .code = ErrorCode::Remote,
         .remote_code = "AccessDenied",
         .request_id = "e7700001-5555-4f60-8b12-666677778888"},
        {.name = "429 RequestLimitExceeded",
         .status = 429,
         .body = throttled,
         .code = ErrorCode::Transient,
         .remote_code = "RequestLimitExceeded",
         .request_id = "e7700002-5555-4f60-8b12-666677778889"},
        {.name = "400 with throttling code is still transient",
         .status = 400,
         .body = R"({"requestId":"q","code":"RequestLimitExceeded","message":"slow down"})",
         .code = ErrorCode::Transient,
         .remote_code = "RequestLimitExceeded",
         .request_id = "q"},
        {.name = "429 without a body",
         .status = 429,
         .body = "",
         .code = ErrorCode::Transient,
         .remote_code = ""},
        {.name = "500 InternalError",
         .status = 500,
         .body =
             R"({"requestId":"i","code":"InternalError","message":"We encountered an internal error."})",
         .code = ErrorCode::Transient,
         .remote_code = "InternalError",
         .request_id = "i"},
        {.name = "502 HTML from a proxy",
         .status = 502,
         .body = "<html><body>Bad Gateway</body></html>",
         .code = ErrorCode::Transient,
         .in_message = "Bad Gateway"},
        {.name = "499 is not transient", .status = 499, .body = "", .code = ErrorCode::Remote},
        {.name = "400 SignatureDoesNotMatch with IAM headers, request id from header",
         .status = 400,
         .body = "",
         .headers = {{"X-Bce-Error-Code", "SignatureDoesNotMatch"},
                     {"X-Bce-Error-Message", "Fail to authn user: Signature does not match"},
                     {"x-bce-request-id", "hdr-req-1"}},
         .code = ErrorCode::Remote,
         .remote_code = "SignatureDoesNotMatch",
         .request_id = "hdr-req-1",
         .in_message = "Signature does not match"},
        {.name = "2xx with X-Bce-Error-Code header is an error",
         .status = 200,
         .body = "{}",
         .headers = {{"x-bce-error-code", "AccessDenied"}},
         .code = ErrorCode::Remote,
         .remote_code = "AccessDenied"},
        {.name = "body code wins over header code",
         .status = 403,
         .body = denied,
         .headers = {{"X-Bce-Error-Code", "SomethingElse"}},
         .code = ErrorCode::Remote,
         .remote_code = "AccessDenied",
         .request_id = "e7700001-5555-4f60-8b12-666677778888"},
        {.name = "legacy 18 QPSLimitReached on 200",
         .status = 200,
         .body = legacy_qps,
         .code = ErrorCode::Transient,
         .remote_code = "18",
         .request_id = "3385542071",
         .in_message = "qps request limit"},
        {.name = "legacy 336100 ServerHighLoad",
         .body = R"({"error_code":336100,"error_msg":"high load"})",
         .code = ErrorCode::Transient,
         .remote_code = "336100"},
        {.name = "legacy 336501 RPM",
         .body = R"({"error_code":336501,"error_msg":"rpm"})",
         .code = ErrorCode::Transient,
         .remote_code = "336501"},
        {.name = "legacy 336502 TPM",
         .body = R"({"error_code":336502,"error_msg":"tpm"})",
         .code = ErrorCode::Transient,
         .remote_code = "336502"},
        {.name = "legacy 500000 ConsoleInternalError",
         .body = R"({"error_code":500000,"error_msg":"console"})",
         .code = ErrorCode::Transient,
         .remote_code = "500000"},
        {.name = "legacy 336003 InvalidParam is remote",
         .body = R"({"error_code":336003,"error_msg":"bad param","log_id":"abc"})",
         .code = ErrorCode::Remote,
         .remote_code = "336003",
         .request_id = "abc"},
        {.name = "400 InvalidParameter",
         .status = 400,
         .body =
             R"({"requestId":"p","code":"InvalidParameter","message":"deploymentReplicasCount"})",
         .code = ErrorCode::Remote,
         .remote_code = "InvalidParameter",
         .request_id = "p"},
        {.name = "400 capacity refusal",
         .status = 400,
         .body =
             R"({"requestId":"c","code":"InsufficientComputeUnits","message":"not enough units"})",
         .code = ErrorCode::Remote,
         .remote_code = "InsufficientComputeUnits",
         .request_id = "c"},
        {.name = "302 redirect is refused, not followed",
         .status = 302,
         .body = "",
         .headers = {{"Location", "https://elsewhere.example/"}},
         .code = ErrorCode::Remote},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      http::Response r = reply(c.status, c.body, c.headers);
      const auto got = error_from_reply(r, "DescribeService", kNow);
      CHECK(got.has_value() == c.is_error);
      if (!got) continue;
      CHECK(got->code == c.code);
      CHECK(got->retryable() == (c.code == ErrorCode::Transient));
      CHECK(got->remote_code == c.remote_code);
      CHECK(got->request_id == c.request_id);
      CHECK(got->http_status == c.status);
      CHECK(got->message.find("DescribeService") != std::string::npos);
      if (!c.in_message.empty()) {
        CHECK_MESSAGE(got->message.find(c.in_message) != std::string::npos, got->message);
      }
      if (!c.request_id.empty()) CHECK(got->message.find(c.request_id) != std::string::npos);
    }
  }

  TEST_CASE("errors: classify boundaries") {
    CHECK(classify(499, "") == ErrorCode::Remote);
    CHECK(classify(500, "") == ErrorCode::Transient);
    CHECK(classify(428, "") == ErrorCode::Remote);
    CHECK(classify(429, "") == ErrorCode::Transient);
    CHECK(classify(408, "") == ErrorCode::Transient);
    CHECK(classify(400, "Throttling") == ErrorCode::Transient);
    CHECK(classify(400, "AccessDenied") == ErrorCode::Remote);
    CHECK(classify(400, "17") == ErrorCode::Remote);  // DailyLimitReached: not within minutes
  }

  TEST_CASE("errors: advice points at the fix") {
    Error e = util::make_error(ErrorCode::Remote, "x");
    e.remote_code = "SignatureDoesNotMatch";
    CHECK(std::string(advice(e)).find("QIANFAN_SECRET_KEY") != std::string::npos);
    e.remote_code = "AccessDenied";
    CHECK(std::string(advice(e)).find("QianfanFullControlAccessPolicy") != std::string::npos);
    e.remote_code = "RequestExpired";
    CHECK(std::string(advice(e)).find("clock") != std::string::npos);
    e.remote_code = "InvalidParameter";
    CHECK(advice(e).empty());
    e.code = ErrorCode::Transient;
    CHECK(std::string(advice(e)).find("retry") != std::string::npos);
  }
}

}  // namespace
}  // namespace qfscale::qianfan
