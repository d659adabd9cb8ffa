// Retry-After: parsing the hint from reply headers, and the client honouring it against the real
// fake server over loopback (FakeQianfan's router on http::start_server at 127.0.0.1:0, the real
// Beast client). One ManualClock drives the fake and the client; the sleep function records each
// wait and moves that clock forward instead of sleeping, so the fake's one-second throttling
// window really resets when the client has waited long enough.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "qfscale/fake/fake_qianfan.h"
#include "qfscale/http/client.h"
#include "qfscale/http/server.h"
#include "qfscale/qianfan/api.h"
#include "qfscale/qianfan/errors.h"

#include "support/fake_http_client.h"
#include "unit/qianfan/fixtures.h"

namespace qfscale::qianfan {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using test::FixedRandom;
using test::kNow;  // Thu, 02 Jan 2025 03:04:05 GMT
using test::reply;

TEST_SUITE("qianfan") {
  TEST_CASE("errors: Retry-After and retry-after-ms headers give retry_after") {
    struct Case {
      std::string_view name;
      http::Headers headers;
      std::optional<milliseconds> want;
      milliseconds now_offset{0};  // the reply arrives at kNow + this
    };
    const Case cases[] = {
        {.name = "no header", .headers = {}, .want = std::nullopt},
        {.name = "delta 0", .headers = {{"Retry-After", "0"}}, .want = 0ms},
        {.name = "delta 1", .headers = {{"Retry-After", "1"}}, .want = 1'000ms},
        {.name = "delta 120", .headers = {{"Retry-After", "120"}}, .want = 120'000ms},
        {.name = "name in any case", .headers = {{"RETRY-AFTER", "3"}}, .want = 3'000ms},
        {.name = "optional whitespace", .headers = {{"Retry-After", " 7\t"}}, .want = 7'000ms},
        // 1 day = 86400 s is the most believed; one second more is garbage.
        {.name = "delta at 1 day", .headers = {{"Retry-After", "86400"}}, .want = 86'400'000ms},
        {.name = "delta 1 day + 1 s", .headers = {{"Retry-After", "86401"}}, .want = std::nullopt},
        {.name = "delta overflowing int64",
         .headers = {{"Retry-After", "99999999999999999999999"}},
         .want = std::nullopt},
        {.name = "negative", .headers = {{"Retry-After", "-1"}}, .want = std::nullopt},
        {.name = "plus sign", .headers = {{"Retry-After", "+5"}}, .want = std::nullopt},
        {.name = "fraction", .headers = {{"Retry-After", "1.5"}}, .want = std::nullopt},
        {.name = "garbage", .headers = {{"Retry-After", "soon"}}, .want = std::nullopt},
        {.name = "empty", .headers = {{"Retry-After", ""}}, .want = std::nullopt},
        {.name = "ms", .headers = {{"retry-after-ms", "1500"}}, .want = 1'500ms},
        {.name = "ms in any case", .headers = {{"Retry-After-Ms", "40"}}, .want = 40ms},
        {.name = "ms at 1 day", .headers = {{"retry-after-ms", "86400000"}}, .want = 86'400'000ms},
        {.name = "ms 1 day + 1 ms",
         .headers = {{"retry-after-ms", "86400001"}},
         .want = std::nullopt},
        {.name = "ms negative", .headers = {{"retry-after-ms", "-5"}}, .want = std::nullopt},
        {.name = "both: ms wins",
         .headers = {{"Retry-After", "5"}, {"retry-after-ms", "250"}},
         .want = 250ms},
        {.name = "bad ms falls back to Retry-After",
         .headers = {{"retry-after-ms", "abc"}, {"Retry-After", "2"}},
         .want = 2'000ms},
        {.name = "date in the past is 0 (RFC 9110 example)",
         .headers = {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}},
         .want = 0ms},
        {.name = "date equal to now is 0",
         .headers = {{"Retry-After", "Thu, 02 Jan 2025 03:04:05 GMT"}},
         .want = 0ms},
        // 03:05:35 - 03:04:05 = 90 s
        {.name = "date 90 s ahead",
         .headers = {{"Retry-After", "Thu, 02 Jan 2025 03:05:35 GMT"}},
         .want = 90'000ms},
        // 90 s - 0.25 s: the sub-second part of the client's clock counts.
        {.name = "date 90 s ahead of a clock at .250",
         .headers = {{"Retry-After", "Thu, 02 Jan 2025 03:05:35 GMT"}},
         .want = 89'750ms,
         .now_offset = 250ms},
        {.name = "date exactly 1 day ahead",
         .headers = {{"Retry-After", "Fri, 03 Jan 2025 03:04:05 GMT"}},
         .want = 86'400'000ms},
        {.name = "date 1 day + 1 s ahead",
         .headers = {{"Retry-After", "Fri, 03 Jan 2025 03:04:06 GMT"}},
         .want = std::nullopt},
        {.name = "date in year 9999 (no overflow)",
         .headers = {{"Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"}},
         .want = std::nullopt},
        {.name = "date that does not exist",
         .headers = {{"Retry-After", "Fri, 31 Feb 2025 03:05:35 GMT"}},
         .want = std::nullopt},
        {.name = "date with a lower-case month",
         .headers = {{"Retry-After", "Thu, 02 jan 2025 03:05:35 GMT"}},
         .want = std::nullopt},
        {.name = "date in UTC, not GMT",
         .headers = {{"Retry-After", "Thu, 02 Jan 2025 03:05:35 UTC"}},
         .want = std::nullopt},
        {.name = "obsolete RFC 850 date",
         .headers = {{"Retry-After", "Thursday, 02-Jan-25 03:05:35 GMT"}},
         .want = std::nullopt},
        {.name = "obsolete asctime date",
         .headers = {{"Retry-After", "Thu Jan  2 03:05:35 2025"}},
         .want = std::nullopt},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      CHECK(retry_after_from_headers(c.headers, kNow + c.now_offset) == c.want);
    }
  }

  TEST_CASE("errors: error_from_reply carries Retry-After, and Error == compares it") {
    const auto throttled = error_from_reply(
        reply(429, R"({"requestId":"r","code":"RequestLimitExceeded","message":"slow down"})",
              {{"Retry-After", "1"}}),
        "DescribeService", kNow);
    REQUIRE(throttled.has_value());
    CHECK(throttled->retry_after == std::optional<milliseconds>(1'000ms));
    CHECK(throttled->code == ErrorCode::Transient);

    const auto busy = error_from_reply(reply(503, ""), "DescribeService", kNow);
    REQUIRE(busy.has_value());
    CHECK_FALSE(busy->retry_after.has_value());

    Error other = *throttled;
    other.retry_after = 2'000ms;
    CHECK_FALSE(other == *throttled);
    other.retry_after = 1'000ms;
    CHECK(other == *throttled);
  }
}

// ---- the client ----------------------------------------------------------------------------

// Counts what reaches the wire, so "one attempt" is observed rather than inferred.
class CountingClient final : public http::Client {
 public:
  explicit CountingClient(http::Client& inner) : inner_(inner) {}
  Result<http::Response> send(const http::ClientRequest& request) override {
    ++sent_;
    return inner_.send(request);
  }
  [[nodiscard]] int sent() const { return sent_.load(); }

 private:
  http::Client& inner_;
  std::atomic<int> sent_{0};
};

// Records each wait and moves the shared clock by it; never sleeps.
struct RecordingSleep {
  std::mutex mutex;
  std::vector<milliseconds> waits;
  util::ManualClock& clock;

  SleepFunction function() {
    return [this](milliseconds d) {
      const std::lock_guard lock(mutex);
      waits.push_back(d);
      clock.advance(d);
    };
  }
};

const bce::Credentials kCredentials{.access_key = "ak-retry-after-test",
                                    .secret_key = "sk-retry-after-test-secret"};

// The fake (default scenario) on 127.0.0.1:0 and the real client in front of it.
struct Loopback {
  util::ManualClock clock{kNow};
  fake::Scenario scenario = fake::default_scenario();
  std::unique_ptr<fake::FakeQianfan> fake;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<http::Client> beast;
  std::unique_ptr<CountingClient> http;
  RecordingSleep sleep{.clock = clock};
  FixedRandom random;
  std::unique_ptr<QianfanApi> api;

  Loopback(RetryPolicy retry, double jitter_u, fake::ActionFaults faults) : random(jitter_u) {
    scenario.credentials = kCredentials;
    auto created = fake::FakeQianfan::create(scenario, clock);
    REQUIRE_MESSAGE(created.has_value(), (created ? "" : created.error().to_string()));
    fake = std::move(*created);
    fake->set_faults(fake::Faults{.actions = {{"DescribeService", std::move(faults)}}});
    auto started = http::start_server(http::ServerOptions{.listen = "127.0.0.1:0"}, fake->router());
    REQUIRE_MESSAGE(started.has_value(), (started ? "" : started.error().to_string()));
    server = std::move(*started);
    // The timeouts bound every exchange, so a hang fails the test instead of stalling it.
    auto made = http::make_client(
        http::ClientOptions{.connect_timeout = 10'000ms, .request_timeout = 10'000ms});
    REQUIRE_MESSAGE(made.has_value(), (made ? "" : made.error().to_string()));
    beast = std::move(*made);
    http = std::make_unique<CountingClient>(*beast);
    auto client =
        make_qianfan_client(ClientConfig{.credentials = kCredentials,
                                         .base_url = fmt::format("http://{}", server->address()),
                                         .retry = retry},
                            *http, clock, random, sleep.function());
    REQUIRE_MESSAGE(client.has_value(), (client ? "" : client.error().to_string()));
    api = std::move(*client);
  }
  ~Loopback() {
    api.reset();
    server->stop();
  }
  Loopback(const Loopback&) = delete;
  Loopback& operator=(const Loopback&) = delete;
  Loopback(Loopback&&) = delete;
  Loopback& operator=(Loopback&&) = delete;

  [[nodiscard]] model::ServiceId service() const { return scenario.services.front().id; }
};

TEST_SUITE("qianfan") {
  TEST_CASE("retry: a throttled call waits the fake's Retry-After, then its retry is served") {
    // throttleQps 1: the first DescribeService in a wall-clock second is served, the second gets
    // 429 with Retry-After: 1. u = 0 makes the jittered backoff 0 ms, so without the hint the
    // retry would land in the same second and be throttled again; with it the wait is
    // max(0 ms, 1000 ms) = 1000 ms, the clock crosses into the next second and the retry is served.
    Loopback lb(RetryPolicy{}, 0.0, fake::ActionFaults{.throttle_qps = 1});
    const auto first = lb.api->describe_service(lb.service());
    REQUIRE_MESSAGE(first.has_value(), (first ? "" : first.error().to_string()));
    CHECK(lb.sleep.waits.empty());

    const auto second = lb.api->describe_service(lb.service());
    REQUIRE_MESSAGE(second.has_value(), (second ? "" : second.error().to_string()));
    CHECK(lb.sleep.waits == std::vector<milliseconds>{1'000ms});
    CHECK(lb.http->sent() == 3);  // served, throttled, served
    CHECK(lb.clock.system_now() == kNow + 1s);
  }

  TEST_CASE("retry: Retry-After against max_retry_after and the jittered backoff") {
    // Every DescribeService is answered 429 RequestLimitExceeded with Retry-After: 1 (1000 ms).
    // max_attempts 2 leaves exactly one decision: wait max(backoff(0), 1000 ms), or give up at
    // once when 1000 ms > max_retry_after. backoff(0) = floor(u * (bound + 1)) capped at
    // bound = min(max_delay, base_delay); u = 0.999999 gives the bound itself.
    struct Case {
      std::string_view name;
      milliseconds max_retry_after;
      milliseconds base_delay;
      double u;
      std::optional<milliseconds> want_wait;  // empty: no retry
    };
    const Case cases[] = {
        {.name = "cap at the ask: waits",
         .max_retry_after = 1'000ms,
         .base_delay = 200ms,
         .u = 0.999999,
         .want_wait = 1'000ms},
        {.name = "cap 1 ms above the ask: waits",
         .max_retry_after = 1'001ms,
         .base_delay = 200ms,
         .u = 0.0,
         .want_wait = 1'000ms},
        {.name = "cap 1 ms below the ask: no retry",
         .max_retry_after = 999ms,
         .base_delay = 200ms,
         .u = 0.0,
         .want_wait = std::nullopt},
        {.name = "default cap (30 s): waits the ask",
         .max_retry_after = RetryPolicy{}.max_retry_after,
         .base_delay = 200ms,
         .u = 0.5,  // backoff floor(0.5 * 201) = 100 ms < 1000 ms
         .want_wait = 1'000ms},
        {.name = "backoff 1 ms below the ask: the ask",
         .max_retry_after = 30'000ms,
         .base_delay = 999ms,
         .u = 0.999999,
         .want_wait = 1'000ms},
        {.name = "backoff at the ask",
         .max_retry_after = 30'000ms,
         .base_delay = 1'000ms,
         .u = 0.999999,
         .want_wait = 1'000ms},
        {.name = "backoff 1 ms above the ask: the backoff",
         .max_retry_after = 30'000ms,
         .base_delay = 1'001ms,
         .u = 0.999999,
         .want_wait = 1'001ms},
        {.name = "backoff 4 s: the backoff",
         .max_retry_after = 30'000ms,
         .base_delay = 4'000ms,
         .u = 0.999999,
         .want_wait = 4'000ms},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const RetryPolicy retry{.max_attempts = 2,
                              .base_delay = c.base_delay,
                              .max_delay = 5'000ms,
                              .max_retry_after = c.max_retry_after};
      Loopback lb(retry, c.u,
                  fake::ActionFaults{.error_rates = {{std::string(kRequestLimitExceeded), 1.0}}});
      const auto got = lb.api->describe_service(lb.service());
      REQUIRE_FALSE(got.has_value());
      const Error& e = got.error();
      CHECK(e.code == ErrorCode::Transient);
      CHECK(e.http_status == 429);
      CHECK(e.remote_code == kRequestLimitExceeded);
      CHECK(e.retry_after == std::optional<milliseconds>(1'000ms));
      const std::string text = e.to_string();
      CHECK(text.find(kCredentials.secret_key) == std::string::npos);
      if (c.want_wait) {
        CHECK(lb.sleep.waits == std::vector<milliseconds>{*c.want_wait});
        CHECK(lb.http->sent() == 2);
        CHECK_MESSAGE(text.find("(2 attempts)") != std::string::npos, text);
        CHECK(text.find("asked to retry") == std::string::npos);
      } else {
        CHECK(lb.sleep.waits.empty());
        CHECK(lb.http->sent() == 1);
        CHECK_MESSAGE(text.find(fmt::format("DescribeService {}: DescribeService failed: HTTP 429 "
                                            "RequestLimitExceeded",
                                            lb.service().value)) == 0,
                      text);
        CHECK_MESSAGE(text.find("the server asked to retry after 1 s, longer than the client "
                                "waits (max_retry_after 0.999 s), so it was not retried") !=
                          std::string::npos,
                      text);
      }
    }
  }

  TEST_CASE("retry: max_retry_after bounds the asked waits summed over a call's retries") {
    // Always 429 with Retry-After: 1; 10 attempts allowed, 2.5 s of asked waiting: 1 s, 1 s, and
    // the third ask would make 3 s > 2.5 s, so the call ends after 3 attempts and 2 waits.
    const RetryPolicy retry{
        .max_attempts = 10, .base_delay = 1ms, .max_delay = 5'000ms, .max_retry_after = 2'500ms};
    Loopback lb(retry, 0.0,
                fake::ActionFaults{.error_rates = {{std::string(kRequestLimitExceeded), 1.0}}});
    const auto got = lb.api->describe_service(lb.service());
    REQUIRE_FALSE(got.has_value());
    CHECK(lb.sleep.waits == std::vector<milliseconds>{1'000ms, 1'000ms});
    CHECK(lb.http->sent() == 3);
    const std::string text = got.error().to_string();
    CHECK_MESSAGE(text.find("(3 attempts)") != std::string::npos, text);
    CHECK_MESSAGE(text.find("asked to retry after 1 s more, beyond the 2.5 s the client waits "
                            "in all (max_retry_after)") != std::string::npos,
                  text);
  }

  TEST_CASE("retry: a 503 asking for 30 s is waited for, 31 s is returned at once") {
    // The default max_retry_after (30 s) at, and 1 s above, the ask; a scripted HTTP client is
    // enough here, the loopback cases above cover the wire.
    struct Case {
      std::string_view ask;
      milliseconds want_retry_after;
      std::size_t want_requests;
      std::vector<milliseconds> want_waits;
    };
    const Case cases[] = {
        {.ask = "30", .want_retry_after = 30'000ms, .want_requests = 2, .want_waits = {30'000ms}},
        {.ask = "31", .want_retry_after = 31'000ms, .want_requests = 1, .want_waits = {}},
    };
    for (const auto& c : cases) {
      CAPTURE(c.ask);
      util::ManualClock clock{kNow};
      FixedRandom random(0.0);
      testing::FakeHttpClient http;
      RecordingSleep sleep{.clock = clock};
      auto api = make_qianfan_client(
          ClientConfig{.credentials = kCredentials, .retry = RetryPolicy{.max_attempts = 2}}, http,
          clock, random, sleep.function());
      REQUIRE(api.has_value());
      for (int i = 0; i < 2; ++i) {
        http.push_json(503, R"({"requestId":"r","code":"ServiceUnavailable","message":"later"})",
                       {{"Retry-After", std::string(c.ask)}});
      }
      const auto got = (*api)->describe_compute_unit(model::InstanceId{"unit-gpua0001"});
      REQUIRE_FALSE(got.has_value());
      CHECK(http.request_count() == c.want_requests);
      CHECK(sleep.waits == c.want_waits);
      CHECK(got.error().retry_after == std::optional<milliseconds>(c.want_retry_after));
    }
  }
}

}  // namespace
}  // namespace qfscale::qianfan
