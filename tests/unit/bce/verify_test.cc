// Verification (docs/QIANFAN-API.md §2.3, §2.4, §8): what the fake server accepts and why it
// rejects.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/bce/signer.h"

#include "unit/bce/fixtures.h"

namespace qfscale::bce {
namespace {

using std::chrono::seconds;
using testing::console_request;
using testing::kDescribeBody;
using testing::kQianfan;
using testing::kQianfanTime;

const SecretLookup kKeys = [](std::string_view ak) -> std::optional<std::string> {
  static const std::map<std::string, std::string, std::less<>> keys{
      {kQianfan.access_key, kQianfan.secret_key}, {"ak-other", "sk-other"}};
  const auto it = keys.find(ak);
  if (it == keys.end()) return std::nullopt;
  return it->second;
};

CanonicalInput describe() {
  return console_request("DescribeService", "qianfan.baidubce.com", kDescribeBody);
}

Signature sign_describe(const CanonicalInput& req = describe(),
                        SigningOptions options = SigningOptions{.timestamp = kQianfanTime},
                        const Credentials& credentials = kQianfan) {
  return sign(credentials, req, options);
}

// The Authorization value with the signed-header field replaced.
std::string with_signed_headers(const Signature& s, std::string_view list) {
  const auto last = s.authorization.rfind('/');
  const auto before = s.authorization.rfind('/', last - 1);
  return s.authorization.substr(0, before + 1) + std::string(list) + s.authorization.substr(last);
}

void set_header(CanonicalInput& req, std::string_view name, std::string value) {
  for (auto& [k, v] : req.headers) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  req.headers.emplace_back(std::string(name), std::move(value));
}

std::optional<VerifyFailure> outcome(const CanonicalInput& req, std::string_view authorization,
                                     SysSeconds now, seconds skew = seconds{300}) {
  const auto r =
      verify(req, authorization, kKeys, VerifyOptions{.now = now, .allowed_future_skew = skew});
  if (r) {
    CHECK(*r == kQianfan.access_key);
    return std::nullopt;
  }
  // Whatever the failure, the message is safe to send back: no secret, no echoed header.
  CHECK(r.error().message.find(kQianfan.secret_key) == std::string::npos);
  CHECK(r.error().message.find('\n') == std::string::npos);
  CHECK_FALSE(r.error().message.empty());
  return r.error().failure;
}

TEST_SUITE("bce") {
  TEST_CASE("verify: a signed request verifies and returns the access key") {
    const auto s = sign_describe();
    const auto r = verify(describe(), s.authorization, kKeys, VerifyOptions{.now = kQianfanTime});
    REQUIRE(r.has_value());
    CHECK(*r == "ak-test-0123456789abcdef");
  }

  TEST_CASE("verify: the official doc request with an empty signed-header list ('//')") {
    // §3: Authorization as printed on the official page; the empty list means the default set,
    // which here includes content-md5 (and not the unsigned `Date`).
    const CanonicalInput req{
        .method = "PUT",
        .path = "/v1/test/myfolder/readme.txt",
        .query = {{"partNumber", "9"}, {"uploadId", "a44cc9bab11cbd156984767aad637851"}},
        .headers = {{"Host", "bj.bcebos.com"},
                    {"Date", "Mon, 27 Apr 2015 16:23:49 +0800"},
                    {"Content-Type", "text/plain"},
                    {"Content-Length", "8"},
                    {"Content-Md5", "NFzcPqhviddjRNnSOGo4rw=="},
                    {"x-bce-date", "2015-04-27T08:23:49Z"}}};
    const std::string ak(32, 'a');
    const SecretLookup official = [&](std::string_view k) -> std::optional<std::string> {
      if (k == ak) return std::string(32, 'b');
      return std::nullopt;
    };
    const VerifyOptions at_signing{.now = SysSeconds{seconds{1430123029}}};
    const std::string prefix = "bce-auth-v1/" + ak + "/2015-04-27T08:23:49Z/1800/";
    struct Case {
      std::string_view name;
      std::string authorization;
      bool want_ok;
    };
    const Case cases[] = {
        {.name = "default set",
         .authorization =
             prefix + "/d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e",
         .want_ok = true},
        {.name = "host;x-bce-date",
         .authorization = prefix +
                          "host;x-bce-date/"
                          "1b8de5a23a56eef657c69f94c621e7acd227d049a4ba577f537d5e5cebf0cf32",
         .want_ok = true},
        {.name = "host;x-bce-date signature claimed for the default set",
         .authorization =
             prefix + "/1b8de5a23a56eef657c69f94c621e7acd227d049a4ba577f537d5e5cebf0cf32",
         .want_ok = false},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      CHECK(verify(req, c.authorization, official, at_signing).has_value() == c.want_ok);
    }
  }

  TEST_CASE("verify: signed-header names in any order and any case") {
    const auto s = sign_describe();
    REQUIRE(s.signed_headers == "content-length;content-type;host;x-bce-date");
    struct Case {
      std::string_view name;
      std::string_view list;
      std::optional<VerifyFailure> want;
    };
    const Case cases[] = {
        {.name = "as signed", .list = "content-length;content-type;host;x-bce-date"},
        {.name = "reversed", .list = "x-bce-date;host;content-type;content-length"},
        {.name = "upper case", .list = "CONTENT-LENGTH;Content-Type;HOST;X-Bce-Date"},
        {.name = "one name missing",
         .list = "content-length;content-type;host",
         .want = VerifyFailure::SignatureMismatch},
        {.name = "an unsigned header added",
         .list = "content-length;content-type;host;x-bce-date;user-agent",
         .want = VerifyFailure::SignatureMismatch},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      CHECK(outcome(describe(), with_signed_headers(s, c.list), kQianfanTime) == c.want);
    }
  }

  TEST_CASE("verify: a Python-style client signing every header in set order") {
    CanonicalInput req = describe();
    req.headers.emplace_back("request-source", "qianfan_py_sdk_v0.4.0");
    const auto s = sign_describe(
        req, SigningOptions{.timestamp = kQianfanTime,
                            .expiration_seconds = 300,
                            .headers_to_sign = {"x-bce-date", "request-source", "host",
                                                "content-type", "content-length"}});
    const std::string unsorted =
        with_signed_headers(s, "x-bce-date;request-source;host;content-type;content-length");
    CHECK(outcome(req, unsorted, kQianfanTime) == std::nullopt);
    set_header(req, "request-source", "qianfan_py_sdk_v0.4.1");
    CHECK(outcome(req, unsorted, kQianfanTime) == VerifyFailure::SignatureMismatch);
  }

  TEST_CASE("verify: host signed with or without the port") {
    struct Case {
      std::string_view name;
      std::string signed_host;  // what the client put in its canonical headers
      std::string sent_host;    // what the server received
      std::optional<VerifyFailure> want;
    };
    const Case cases[] = {
        {.name = "JS: signed with the port",
         .signed_host = "127.0.0.1:8765",
         .sent_host = "127.0.0.1:8765"},
        {.name = "Go: signed without the port",
         .signed_host = "127.0.0.1",
         .sent_host = "127.0.0.1:8765"},
        {.name = "IPv6 signed without the port", .signed_host = "[::1]", .sent_host = "[::1]:8765"},
        {.name = "IPv6 signed with the port",
         .signed_host = "[::1]:8765",
         .sent_host = "[::1]:8765"},
        {.name = "no port anywhere",
         .signed_host = "qianfan.baidubce.com",
         .sent_host = "qianfan.baidubce.com"},
        {.name = "a different port",
         .signed_host = "127.0.0.1:9999",
         .sent_host = "127.0.0.1:8765",
         .want = VerifyFailure::SignatureMismatch},
        {.name = "a different host",
         .signed_host = "127.0.0.2",
         .sent_host = "127.0.0.1:8765",
         .want = VerifyFailure::SignatureMismatch},
        {.name = "signed with a port the server never saw",
         .signed_host = "127.0.0.1:8765",
         .sent_host = "127.0.0.1",
         .want = VerifyFailure::SignatureMismatch},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto s =
          sign_describe(console_request("DescribeService", c.signed_host, kDescribeBody));
      const auto received = console_request("DescribeService", c.sent_host, kDescribeBody);
      CHECK(outcome(received, s.authorization, kQianfanTime) == c.want);
      // The same with the empty (default) list, where host is implied.
      CHECK(outcome(received, with_signed_headers(s, ""), kQianfanTime) == c.want);
    }
  }

  TEST_CASE("verify: an empty signed-header list means host, content-* and every x-bce-*") {
    CanonicalInput req = describe();
    req.headers.emplace_back("x-bce-request-id", "r-1");
    const auto s = sign_describe(req);
    REQUIRE(s.signed_headers == "content-length;content-type;host;x-bce-date;x-bce-request-id");
    const std::string empty_list = with_signed_headers(s, "");
    CHECK(outcome(req, empty_list, kQianfanTime) == std::nullopt);

    // An x-bce-* header added in transit is part of the default set, so it breaks the signature;
    // an ordinary header is not.
    CanonicalInput extra_bce = req;
    extra_bce.headers.emplace_back("X-Bce-Extra", "1");
    CHECK(outcome(extra_bce, empty_list, kQianfanTime) == VerifyFailure::SignatureMismatch);
    CanonicalInput extra_plain = req;
    extra_plain.headers.emplace_back("X-Other", "1");
    CHECK(outcome(extra_plain, empty_list, kQianfanTime) == std::nullopt);
  }

  TEST_CASE("verify: expiry and future skew at, just inside and just past each bound") {
    // Signed at T = 2025-01-02T03:04:05Z with expiration E; valid while now <= T + E, and
    // while T <= now + skew (skew 300 s).
    struct Case {
      std::string_view name;
      int expiration_seconds;
      seconds now_minus_t;
      std::optional<VerifyFailure> want;
    };
    const Case cases[] = {
        {.name = "at signing", .expiration_seconds = 1800, .now_minus_t = seconds{0}},
        // now = T + 1799 < T + 1800
        {.name = "1 s inside 1800", .expiration_seconds = 1800, .now_minus_t = seconds{1799}},
        // now = T + 1800 = T + 1800: not yet past
        {.name = "at 1800", .expiration_seconds = 1800, .now_minus_t = seconds{1800}},
        // now = T + 1801 > T + 1800
        {.name = "1 s past 1800",
         .expiration_seconds = 1800,
         .now_minus_t = seconds{1801},
         .want = VerifyFailure::Expired},
        // Python/Go default 300: T + 300 ok, T + 301 > T + 300 expired
        {.name = "at 300", .expiration_seconds = 300, .now_minus_t = seconds{300}},
        {.name = "1 s past 300",
         .expiration_seconds = 300,
         .now_minus_t = seconds{301},
         .want = VerifyFailure::Expired},
        // E = 0: valid only in the signing second
        {.name = "expiration 0 at T", .expiration_seconds = 0, .now_minus_t = seconds{0}},
        {.name = "expiration 0 one second later",
         .expiration_seconds = 0,
         .now_minus_t = seconds{1},
         .want = VerifyFailure::Expired},
        // T = now + 299 <= now + 300
        {.name = "299 s in the future", .expiration_seconds = 1800, .now_minus_t = seconds{-299}},
        // T = now + 300 <= now + 300
        {.name = "300 s in the future", .expiration_seconds = 1800, .now_minus_t = seconds{-300}},
        // T = now + 301 > now + 300
        {.name = "301 s in the future",
         .expiration_seconds = 1800,
         .now_minus_t = seconds{-301},
         .want = VerifyFailure::Expired},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto s = sign_describe(
          describe(),
          SigningOptions{.timestamp = kQianfanTime, .expiration_seconds = c.expiration_seconds});
      CHECK(outcome(describe(), s.authorization, kQianfanTime + c.now_minus_t) == c.want);
    }
  }

  TEST_CASE("verify: a zero future skew rejects a timestamp one second ahead") {
    const auto s = sign_describe();
    // T = now + 0 <= now + 0 ok; T = now + 1 > now + 0 expired
    CHECK(outcome(describe(), s.authorization, kQianfanTime, seconds{0}) == std::nullopt);
    CHECK(outcome(describe(), s.authorization, kQianfanTime - seconds{1}, seconds{0}) ==
          VerifyFailure::Expired);
  }

  TEST_CASE("verify: unknown access key, wrong secret and a missing lookup") {
    CHECK(outcome(describe(),
                  sign_describe(describe(), SigningOptions{.timestamp = kQianfanTime},
                                Credentials{.access_key = "ak-nobody", .secret_key = "x"})
                      .authorization,
                  kQianfanTime) == VerifyFailure::UnknownAccessKey);
    CHECK(outcome(describe(),
                  sign_describe(describe(), SigningOptions{.timestamp = kQianfanTime},
                                Credentials{.access_key = kQianfan.access_key,
                                            .secret_key = "sk-test-fedcba9876543211"})
                      .authorization,
                  kQianfanTime) == VerifyFailure::SignatureMismatch);
    // Another known key's secret does not sign for this one.
    CHECK(outcome(describe(),
                  sign_describe(
                      describe(), SigningOptions{.timestamp = kQianfanTime},
                      Credentials{.access_key = kQianfan.access_key, .secret_key = "sk-other"})
                      .authorization,
                  kQianfanTime) == VerifyFailure::SignatureMismatch);
    const auto none = verify(describe(), sign_describe().authorization, SecretLookup{},
                             VerifyOptions{.now = kQianfanTime});
    REQUIRE_FALSE(none.has_value());
    CHECK(none.error().failure == VerifyFailure::UnknownAccessKey);
  }

  TEST_CASE("verify: checks run malformed, unknown key, expired, then signature") {
    const std::string wrong_key =
        sign_describe(describe(), SigningOptions{.timestamp = kQianfanTime},
                      Credentials{.access_key = kQianfan.access_key, .secret_key = "wrong"})
            .authorization;
    // Expired and wrongly signed: the clock is reported first (1801 s > 1800 s).
    CHECK(outcome(describe(), wrong_key, kQianfanTime + seconds{1801}) == VerifyFailure::Expired);
    // Unknown key and expired: the key is reported first.
    const std::string unknown =
        sign_describe(describe(), SigningOptions{.timestamp = kQianfanTime},
                      Credentials{.access_key = "ak-nobody", .secret_key = "x"})
            .authorization;
    CHECK(outcome(describe(), unknown, kQianfanTime + seconds{1801}) ==
          VerifyFailure::UnknownAccessKey);
  }

  TEST_CASE("verify: tampering with any signed part breaks the signature") {
    const auto s = sign_describe();
    struct Case {
      std::string_view name;
      std::function<void(CanonicalInput&)> tamper;
      std::optional<VerifyFailure> want = VerifyFailure::SignatureMismatch;
    };
    const Case cases[] = {
        {.name = "longer body",
         .tamper = [](CanonicalInput& r) { set_header(r, "Content-Length", "31"); }},
        {.name = "content type",
         .tamper = [](CanonicalInput& r) { set_header(r, "Content-Type", "text/plain"); }},
        {.name = "x-bce-date",
         .tamper = [](CanonicalInput& r) { set_header(r, "x-bce-date", "2025-01-02T03:04:06Z"); }},
        {.name = "signed header removed",
         .tamper =
             [](CanonicalInput& r) {
               std::erase_if(r.headers, [](const auto& h) { return h.first == "Content-Type"; });
             }},
        {.name = "other action",
         .tamper = [](CanonicalInput& r) { r.query[0].second = "ScaleService"; }},
        {.name = "extra query parameter",
         .tamper = [](CanonicalInput& r) { r.query.emplace_back("serviceId", "svco-x"); }},
        {.name = "query key case",
         .tamper = [](CanonicalInput& r) { r.query[0].first = "action"; }},
        {.name = "path", .tamper = [](CanonicalInput& r) { r.path = "/v2/computeunit"; }},
        {.name = "method", .tamper = [](CanonicalInput& r) { r.method = "PUT"; }},
        // Not signed, so not tampering.
        {.name = "user agent",
         .tamper = [](CanonicalInput& r) { set_header(r, "User-Agent", "curl/8"); },
         .want = std::nullopt},
        {.name = "authorization query parameter",
         .tamper = [](CanonicalInput& r) { r.query.emplace_back("Authorization", "x"); },
         .want = std::nullopt},
        {.name = "method case",
         .tamper = [](CanonicalInput& r) { r.method = "post"; },
         .want = std::nullopt},
        {.name = "whitespace around a value",
         .tamper = [](CanonicalInput& r) { set_header(r, "Content-Length", " 30\t"); },
         .want = std::nullopt},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      CanonicalInput req = describe();
      c.tamper(req);
      CHECK(outcome(req, s.authorization, kQianfanTime) == c.want);
    }
  }

  TEST_CASE("verify: tampering with the Authorization prefix breaks the signature") {
    const auto s = sign_describe();
    const std::string sig = s.signature;
    const std::string tail = "/content-length;content-type;host;x-bce-date/" + sig;
    const std::string ak = kQianfan.access_key;
    struct Case {
      std::string_view name;
      std::string authorization;
    };
    const Case cases[] = {
        {.name = "expiration extended",
         .authorization = "bce-auth-v1/" + ak + "/2025-01-02T03:04:05Z/3600" + tail},
        {.name = "timestamp moved",
         .authorization = "bce-auth-v1/" + ak + "/2025-01-02T03:04:06Z/1800" + tail},
        {.name = "one signature digit flipped",
         .authorization = s.authorization.substr(0, s.authorization.size() - 1) +
                          (sig.back() == '0' ? "1" : "0")},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      CHECK(outcome(describe(), c.authorization, kQianfanTime) == VerifyFailure::SignatureMismatch);
    }
  }

  TEST_CASE("verify: malformed Authorization values are rejected as Malformed") {
    const std::string sig(64, 'a');
    const std::string ak = kQianfan.access_key;
    const std::string ts = "2025-01-02T03:04:05Z";
    const std::string ok = "bce-auth-v1/" + ak + "/" + ts + "/1800/host/" + sig;
    struct Case {
      std::string_view name;
      std::string authorization;
    };
    const Case cases[] = {
        {.name = "empty", .authorization = ""},
        {.name = "other version",
         .authorization = "bce-auth-v2/" + ak + "/" + ts + "/1800/host/" + sig},
        {.name = "upper-case version",
         .authorization = "BCE-AUTH-V1/" + ak + "/" + ts + "/1800/host/" + sig},
        {.name = "five fields", .authorization = "bce-auth-v1/" + ak + "/" + ts + "/1800/" + sig},
        {.name = "seven fields", .authorization = ok + "/extra"},
        {.name = "trailing slash", .authorization = ok + "/"},
        {.name = "empty access key", .authorization = "bce-auth-v1//" + ts + "/1800/host/" + sig},
        {.name = "timestamp with a space",
         .authorization = "bce-auth-v1/" + ak + "/2025-01-02 03:04:05Z/1800/host/" + sig},
        {.name = "timestamp month 13",
         .authorization = "bce-auth-v1/" + ak + "/2025-13-02T03:04:05Z/1800/host/" + sig},
        {.name = "expiration negative",
         .authorization = "bce-auth-v1/" + ak + "/" + ts + "/-1/host/" + sig},
        {.name = "expiration with plus",
         .authorization = "bce-auth-v1/" + ak + "/" + ts + "/+5/host/" + sig},
        {.name = "expiration leading zero",
         .authorization = "bce-auth-v1/" + ak + "/" + ts + "/0300/host/" + sig},
        {.name = "expiration empty",
         .authorization = "bce-auth-v1/" + ak + "/" + ts + "//host/" + sig},
        {.name = "expiration not a number",
         .authorization = "bce-auth-v1/" + ak + "/" + ts + "/30m/host/" + sig},
        // 2^31 = 2147483648 does not fit an int
        {.name = "expiration overflows int",
         .authorization = "bce-auth-v1/" + ak + "/" + ts + "/2147483648/host/" + sig},
        {.name = "empty header name in the middle",
         .authorization = "bce-auth-v1/" + ak + "/" + ts + "/host;;x-bce-date/" + sig},
        {.name = "leading semicolon",
         .authorization = "bce-auth-v1/" + ak + "/" + ts + "/;host/" + sig},
        {.name = "signature 63 digits",
         .authorization = "bce-auth-v1/" + ak + "/" + ts + "/1800/host/" + sig.substr(1)},
        {.name = "signature 65 digits",
         .authorization = "bce-auth-v1/" + ak + "/" + ts + "/1800/host/" + sig + "a"},
        {.name = "signature upper-case hex",
         .authorization = "bce-auth-v1/" + ak + "/" + ts + "/1800/host/" + std::string(64, 'A')},
        {.name = "signature not hex",
         .authorization = "bce-auth-v1/" + ak + "/" + ts + "/1800/host/" + std::string(64, 'g')},
        {.name = "header injection attempt",
         .authorization =
             "bce-auth-v1/" + ak + "\r\nX-Evil: 1/" + ts + "/1800/host/" + sig + "\r\n"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      CHECK(outcome(describe(), c.authorization, kQianfanTime) == VerifyFailure::Malformed);
      CHECK_FALSE(parse_authorization(c.authorization).has_value());
    }
    // The well-formed base of every row parses, so each row fails for its own reason.
    CHECK(parse_authorization(ok).has_value());
    // 2^31 - 1 = 2147483647 is the largest accepted expiration.
    CHECK(parse_authorization("bce-auth-v1/" + ak + "/" + ts + "/2147483647/host/" + sig)
              .has_value());
  }

  TEST_CASE("parse_authorization: fields come back as sent") {
    const auto parsed = parse_authorization(
        "bce-auth-v1/ak-x/2025-01-02T03:04:05Z/300/X-Bce-Date;host;Content-Type/" +
        std::string(64, 'f'));
    REQUIRE(parsed.has_value());
    CHECK(parsed->access_key == "ak-x");
    CHECK(parsed->timestamp == kQianfanTime);
    CHECK(parsed->expiration_seconds == 300);
    CHECK(parsed->signed_headers == std::vector<std::string>{"X-Bce-Date", "host", "Content-Type"});
    CHECK(parsed->signature == std::string(64, 'f'));

    const auto empty_list =
        parse_authorization("bce-auth-v1/ak-x/2025-01-02T03:04:05Z/0//" + std::string(64, '0'));
    REQUIRE(empty_list.has_value());
    CHECK(empty_list->expiration_seconds == 0);
    CHECK(empty_list->signed_headers.empty());
  }
}

}  // namespace
}  // namespace qfscale::bce
