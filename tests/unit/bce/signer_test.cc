// Signing: every vector of docs/QIANFAN-API.md §3 (produced by the JS SDK, cross-checked with
// Python and the generic BCE Node SDK; the official rows come from Baidu's own doc page), plus the
// encoding and timestamp rules of §2.1 row by row.

#include "qfscale/bce/signer.h"

#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "bce/detail.h"
#include "unit/bce/fixtures.h"

namespace qfscale::bce {
namespace {

using std::chrono::seconds;

using testing::console_request;
using testing::kDescribeBody;
using testing::kQianfan;
using testing::kQianfanTime;

// The official AK/SK of §3 and 2015-04-27T08:23:49Z as Unix seconds (Python calendar.timegm).
const Credentials kOfficial{.access_key = std::string(32, 'a'), .secret_key = std::string(32, 'b')};
const SysSeconds kOfficialTime{seconds{1430123029}};

constexpr std::string_view kScaleBody =
    R"({"serviceId":"svco-abc123xyz","instanceId":"cu-inst-0001","deploymentReplicasCount":2})";
constexpr std::string_view kModifyBody =
    R"({"serviceId":"svco-abc123xyz","modelSetId":"am-set001","modelId":"amv-ver002"})";

CanonicalInput official_request() {
  return CanonicalInput{
      .method = "PUT",
      .path = "/v1/test/myfolder/readme.txt",
      .query = {{"partNumber", "9"}, {"uploadId", "a44cc9bab11cbd156984767aad637851"}},
      .headers = {{"Host", "bj.bcebos.com"},
                  {"Date", "Mon, 27 Apr 2015 16:23:49 +0800"},
                  {"Content-Type", "text/plain"},
                  {"Content-Length", "8"},
                  {"Content-Md5", "NFzcPqhviddjRNnSOGo4rw=="},
                  {"x-bce-date", "2015-04-27T08:23:49Z"}},
  };
}

CanonicalInput official_no_query() {
  CanonicalInput r = official_request();
  r.query.clear();
  return r;
}

CanonicalInput encoding_edge_request() {
  return CanonicalInput{
      .method = "get",  // upper-cased when signing
      .path = "/v2/service",
      .query = {{"text", ""},
                {"text1", "测试"},
                {"text10", "test"},
                {"a-b", "x y/z!'()*~"},
                {"authorization", "dropme"}},
      .headers = {{"Content-Type", "application/json; charset=UTF-8"},
                  {"Host", "qianfan.baidubce.com"},
                  {"x-bce-date", "2025-01-02T03:04:05Z"},
                  {"X-Bce-Request-Id", "  req id/1  "},
                  {"x-bce-empty", "   "},
                  {"Accept", "*/*"}},
  };
}

TEST_SUITE("bce") {
  TEST_CASE("signer: every docs/QIANFAN-API.md §3 vector gives the published signature") {
    struct Case {
      std::string_view name;
      Credentials credentials;
      CanonicalInput request;
      SysSeconds timestamp;
      int expiration_seconds = 1800;
      std::vector<std::string> headers_to_sign;
      std::string_view want_canonical;  // empty where §3 does not print it
      std::string_view want_signed_headers;
      std::string_view want_signature;
    };
    const Case cases[] = {
        {.name = "official-bos-default-headers",
         .credentials = kOfficial,
         .request = official_request(),
         .timestamp = kOfficialTime,
         .want_canonical = "PUT\n"
                           "/v1/test/myfolder/readme.txt\n"
                           "partNumber=9&uploadId=a44cc9bab11cbd156984767aad637851\n"
                           "content-length:8\n"
                           "content-md5:NFzcPqhviddjRNnSOGo4rw%3D%3D\n"
                           "content-type:text%2Fplain\n"
                           "host:bj.bcebos.com\n"
                           "x-bce-date:2015-04-27T08%3A23%3A49Z",
         .want_signed_headers = "content-length;content-md5;content-type;host;x-bce-date",
         .want_signature = "d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e"},
        {.name = "official-bos-host-xbcedate",
         .credentials = kOfficial,
         .request = official_request(),
         .timestamp = kOfficialTime,
         .headers_to_sign = {"host", "x-bce-date"},
         .want_canonical = "PUT\n"
                           "/v1/test/myfolder/readme.txt\n"
                           "partNumber=9&uploadId=a44cc9bab11cbd156984767aad637851\n"
                           "host:bj.bcebos.com\n"
                           "x-bce-date:2015-04-27T08%3A23%3A49Z",
         .want_signed_headers = "host;x-bce-date",
         .want_signature = "1b8de5a23a56eef657c69f94c621e7acd227d049a4ba577f537d5e5cebf0cf32"},
        // §3: a third-party PHP test's value for the same request without query parameters.
        {.name = "third-party-php-official-no-query",
         .credentials = kOfficial,
         .request = official_no_query(),
         .timestamp = kOfficialTime,
         .want_signed_headers = "content-length;content-md5;content-type;host;x-bce-date",
         .want_signature = "0558aac491bbef484d3aaa30ac1e65d4ff10daccd351f15c91e922ee4ce72690"},
        {.name = "qianfan-describe-service",
         .credentials = kQianfan,
         .request = console_request("DescribeService", "qianfan.baidubce.com", kDescribeBody),
         .timestamp = kQianfanTime,
         .want_canonical = "POST\n"
                           "/v2/service\n"
                           "Action=DescribeService\n"
                           "content-length:30\n"
                           "content-type:application%2Fjson\n"
                           "host:qianfan.baidubce.com\n"
                           "x-bce-date:2025-01-02T03%3A04%3A05Z",
         .want_signed_headers = "content-length;content-type;host;x-bce-date",
         .want_signature = "bff14b27d521b24d248f99246b2a479be58472c1a7a80fdcd362646a6f9c1187"},
        {.name = "qianfan-scale-service-loopback",
         .credentials = kQianfan,
         .request = console_request("ScaleService", "127.0.0.1:8765", kScaleBody),
         .timestamp = kQianfanTime,
         .want_canonical = "POST\n"
                           "/v2/service\n"
                           "Action=ScaleService\n"
                           "content-length:86\n"
                           "content-type:application%2Fjson\n"
                           "host:127.0.0.1%3A8765\n"
                           "x-bce-date:2025-01-02T03%3A04%3A05Z",
         .want_signed_headers = "content-length;content-type;host;x-bce-date",
         .want_signature = "57695c7169c017ddeefd7be2421f3013bd385339b579f22dafb792af6b126e53"},
        {.name = "qianfan-modify-service-exp300",
         .credentials = kQianfan,
         .request = console_request("ModifyService", "qianfan.baidubce.com", kModifyBody),
         .timestamp = kQianfanTime,
         .expiration_seconds = 300,
         .want_signed_headers = "content-length;content-type;host;x-bce-date",
         .want_signature = "c6fc0c9afe5a754dd6d55fb2f7dab324dc79f8d0ce8b26552f759865a82fb65d"},
        {.name = "encoding-edge-cases",
         .credentials = kQianfan,
         .request = encoding_edge_request(),
         .timestamp = kQianfanTime,
         .want_canonical =
             "GET\n"
             "/v2/service\n"
             "a-b=x%20y%2Fz%21%27%28%29%2A~&text10=test&text1=%E6%B5%8B%E8%AF%95&text=\n"
             "content-type:application%2Fjson%3B%20charset%3DUTF-8\n"
             "host:qianfan.baidubce.com\n"
             "x-bce-date:2025-01-02T03%3A04%3A05Z\n"
             "x-bce-request-id:req%20id%2F1",
         .want_signed_headers = "content-type;host;x-bce-date;x-bce-request-id",
         .want_signature = "2d23610644120794e0030db1419bed9fe2bf0e685ab48a27c3baf37ff2f7ffe9"},
        {.name = "e2e-httpclient-getSignature-describe-loopback",
         .credentials = kQianfan,
         .request = console_request("DescribeService", "127.0.0.1:8765", kDescribeBody),
         .timestamp = kQianfanTime,
         .want_canonical = "POST\n"
                           "/v2/service\n"
                           "Action=DescribeService\n"
                           "content-length:30\n"
                           "content-type:application%2Fjson\n"
                           "host:127.0.0.1%3A8765\n"
                           "x-bce-date:2025-01-02T03%3A04%3A05Z",
         .want_signed_headers = "content-length;content-type;host;x-bce-date",
         .want_signature = "e38f2dace258139bf6408516778935f72d03d345943444a00a8b4908511bc8c2"},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        const Signature s = sign(c.credentials, c.request,
                                 SigningOptions{.timestamp = c.timestamp,
                                                .expiration_seconds = c.expiration_seconds,
                                                .headers_to_sign = c.headers_to_sign});
        if (!c.want_canonical.empty()) CHECK(s.canonical_request == c.want_canonical);
        CHECK(s.signed_headers == c.want_signed_headers);
        CHECK(s.signature == c.want_signature);
        // §2.1 step 6, assembled independently of the code under test.
        const std::string ts =
            c.timestamp == kOfficialTime ? "2015-04-27T08:23:49Z" : "2025-01-02T03:04:05Z";
        CHECK(s.authorization == "bce-auth-v1/" + c.credentials.access_key + "/" + ts + "/" +
                                     std::to_string(c.expiration_seconds) + "/" +
                                     std::string(c.want_signed_headers) + "/" +
                                     std::string(c.want_signature));
      }
    }
  }

  TEST_CASE("signer: the §3 Authorization example is reproduced byte for byte") {
    const auto s =
        sign(kQianfan, console_request("DescribeService", "qianfan.baidubce.com", kDescribeBody),
             SigningOptions{.timestamp = kQianfanTime});
    CHECK(s.authorization ==
          "bce-auth-v1/ak-test-0123456789abcdef/2025-01-02T03:04:05Z/1800/"
          "content-length;content-type;host;x-bce-date/"
          "bff14b27d521b24d248f99246b2a479be58472c1a7a80fdcd362646a6f9c1187");
  }

  TEST_CASE("signer: signing keys match §3") {
    struct Case {
      std::string_view name;
      std::string_view secret_key;
      std::string_view prefix;
      std::string_view want;
    };
    const std::string official_sk(32, 'b');
    const Case cases[] = {
        {.name = "official",
         .secret_key = official_sk,
         .prefix = "bce-auth-v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/2015-04-27T08:23:49Z/1800",
         .want = "1d5ce5f464064cbee060330d973218821825ac6952368a482a592e6615aef479"},
        {.name = "qianfan exp 1800",
         .secret_key = "sk-test-fedcba9876543210",
         .prefix = "bce-auth-v1/ak-test-0123456789abcdef/2025-01-02T03:04:05Z/1800",
         .want = "371ccc3a54d553506e97aa4d5abe9f47c962051712097a9956b6ec988985a6b6"},
        {.name = "qianfan exp 300",
         .secret_key = "sk-test-fedcba9876543210",
         .prefix = "bce-auth-v1/ak-test-0123456789abcdef/2025-01-02T03:04:05Z/300",
         .want = "3aa8f90ea151d019ed067d12dd196debdb691c7356584486761411ffcad7f8d3"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      CHECK(detail::signing_key(c.secret_key, c.prefix) == c.want);
    }
  }

  TEST_CASE("signer: HMAC-SHA256 matches RFC 4231 test cases 1 and 2") {
    // Independent of BCE: pins the OpenSSL plumbing (key/message order, hex case).
    CHECK(detail::hmac_sha256_hex(std::string(20, '\x0b'), "Hi There") ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    CHECK(detail::hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // An empty key is legal HMAC (key padded with zeros); OpenSSL needs a non-null pointer.
    CHECK(detail::hmac_sha256_hex("", "") ==
          "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  }

  TEST_CASE("signer: uri_encode keeps only the RFC 3986 unreserved set") {
    struct Case {
      std::string_view name;
      std::string_view text;
      bool keep_slash = false;
      std::string_view want;
    };
    const Case cases[] = {
        {.name = "unreserved kept", .text = "AZaz09-._~", .want = "AZaz09-._~"},
        {.name = "space is %20 not +", .text = "a b+c", .want = "a%20b%2Bc"},
        {.name = "slash encoded by default", .text = "/a/b", .want = "%2Fa%2Fb"},
        {.name = "slash kept in paths (doc example)",
         .text = "/example/测试",
         .keep_slash = true,
         .want = "/example/%E6%B5%8B%E8%AF%95"},
        {.name = "sub-delims encoded", .text = "!'()*", .want = "%21%27%28%29%2A"},
        {.name = "uppercase hex, high bytes", .text = "\xff\x80", .want = "%FF%80"},
        {.name = "NUL and percent", .text = std::string_view("%\0", 2), .want = "%25%00"},
        {.name = "empty", .text = "", .want = ""},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      CHECK(uri_encode(c.text, c.keep_slash) == c.want);
    }
  }

  TEST_CASE("signer: canonical query follows the doc example and drops authorization") {
    // Doc example: {text:"", text1:"测试", text10:"test"} → text10=test&text1=%E6…&text=
    const auto s = sign(kQianfan,
                        CanonicalInput{.method = "GET",
                                       .path = "",
                                       .query = {{"text", ""},
                                                 {"text1", "测试"},
                                                 {"text10", "test"},
                                                 {"AUTHORIZATION", "x"},
                                                 {"Authorization", "y"}},
                                       .headers = {}},
                        SigningOptions{.timestamp = kQianfanTime});
    CHECK(s.canonical_request == "GET\n/\ntext10=test&text1=%E6%B5%8B%E8%AF%95&text=\n");
    CHECK(s.signed_headers.empty());
  }

  TEST_CASE("signer: headers_to_sign is case-insensitive and skips absent or blank headers") {
    CanonicalInput req = console_request("DescribeService", "qianfan.baidubce.com", kDescribeBody);
    req.headers.emplace_back("X-Blank", " \t ");
    const auto s = sign(kQianfan, req,
                        SigningOptions{.timestamp = kQianfanTime,
                                       .headers_to_sign = {"HOST", "x-bce-date", "X-Missing",
                                                           "x-blank", "user-agent"}});
    CHECK(s.signed_headers == "host;user-agent;x-bce-date");
    CHECK(s.canonical_request ==
          "POST\n/v2/service\nAction=DescribeService\n"
          "host:qianfan.baidubce.com\nuser-agent:Qianfan-Node-SDK%2F0.2.4\n"
          "x-bce-date:2025-01-02T03%3A04%3A05Z");
  }

  TEST_CASE("signer: timestamps format and parse strictly") {
    struct Case {
      std::string_view name;
      std::string_view text;
      std::optional<SysSeconds> want;  // nullopt = rejected
    };
    const Case cases[] = {
        {.name = "qianfan vector", .text = "2025-01-02T03:04:05Z", .want = kQianfanTime},
        {.name = "official vector", .text = "2015-04-27T08:23:49Z", .want = kOfficialTime},
        {.name = "epoch", .text = "1970-01-01T00:00:00Z", .want = SysSeconds{seconds{0}}},
        {.name = "leap day",
         .text = "2024-02-29T23:59:59Z",
         .want = SysSeconds{seconds{1709251199}}},
        {.name = "last second of 9999",
         .text = "9999-12-31T23:59:59Z",
         .want = SysSeconds{seconds{253402300799}}},
        {.name = "year 0000 (proleptic Gregorian)",
         .text = "0000-01-01T00:00:00Z",
         .want = SysSeconds{seconds{-62167219200}}},
        {.name = "not a leap year", .text = "2023-02-29T00:00:00Z"},
        {.name = "month 13", .text = "2025-13-02T03:04:05Z"},
        {.name = "day 00", .text = "2025-01-00T03:04:05Z"},
        {.name = "hour 24", .text = "2025-01-02T24:00:00Z"},
        {.name = "minute 60", .text = "2025-01-02T03:60:05Z"},
        {.name = "leap second", .text = "2016-12-31T23:59:60Z"},
        {.name = "fraction", .text = "2025-01-02T03:04:05.000Z"},
        {.name = "lower-case z", .text = "2025-01-02T03:04:05z"},
        {.name = "offset", .text = "2025-01-02T03:04:05+00:00"},
        {.name = "space separator", .text = "2025-01-02 03:04:05Z"},
        {.name = "trailing space", .text = "2025-01-02T03:04:05Z "},
        {.name = "sign in a field", .text = "2025-+1-02T03:04:05Z"},
        {.name = "empty", .text = ""},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto parsed = parse_timestamp(c.text);
      CHECK(parsed.has_value() == c.want.has_value());
      if (parsed && c.want) {
        CHECK(*parsed == *c.want);
        CHECK(format_timestamp(*parsed) == c.text);
      }
      if (!parsed) CHECK(parsed.error().code == ErrorCode::InvalidInput);
    }
  }

  TEST_CASE("credentials: read from the environment; errors name the variable only") {
    // The test binary is single-threaded, so changing the environment is safe here.
    const auto set_env = [](const char* name, const std::string& value) {
      ::setenv(name, value.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
    };
    const auto unset_env = [](const char* name) {
      ::unsetenv(name);  // NOLINT(concurrency-mt-unsafe)
    };
    const std::string secret = "sk-must-not-leak-42";
    set_env("QIANFAN_ACCESS_KEY", "ak-env");
    set_env("QIANFAN_SECRET_KEY", secret);
    auto ok = Credentials::from_environment();
    REQUIRE(ok.has_value());
    CHECK(ok->access_key == "ak-env");
    CHECK(ok->secret_key == secret);
    const std::string shown = fmt::format("{}", *ok);
    CHECK(shown.find("ak-env") != std::string::npos);
    CHECK(shown.find(secret) == std::string::npos);

    unset_env("QIANFAN_SECRET_KEY");
    auto no_sk = Credentials::from_environment();
    REQUIRE_FALSE(no_sk.has_value());
    CHECK(no_sk.error().code == ErrorCode::InvalidInput);
    CHECK(no_sk.error().message.find("QIANFAN_SECRET_KEY") != std::string::npos);

    set_env("QIANFAN_SECRET_KEY", secret);
    set_env("QIANFAN_ACCESS_KEY", "");
    auto empty_ak = Credentials::from_environment();
    REQUIRE_FALSE(empty_ak.has_value());
    CHECK(empty_ak.error().message.find("QIANFAN_ACCESS_KEY") != std::string::npos);
    CHECK(empty_ak.error().to_string().find(secret) == std::string::npos);

    unset_env("QIANFAN_ACCESS_KEY");
    unset_env("QIANFAN_SECRET_KEY");
  }
}

}  // namespace
}  // namespace qfscale::bce
