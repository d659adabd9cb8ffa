#include "qfscale/demand/promql_span.h"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace qfscale::demand {
namespace {

using namespace std::chrono_literals;

TEST_SUITE("demand") {
  TEST_CASE("promql span: the duration of the query's one range selector") {
    struct Case {
      std::string query;
      std::optional<std::chrono::seconds> span;
    };
    const std::vector<Case> cases = {
        {"sum by (service) (rate(requests_total[1m]))", 60s},
        {"sum by (service) (rate(qfscale_fake_requests_total[6s]))", 6s},
        {"increase(x[30s]) / 30", 30s},
        {"rate(x[ 5m ])", 300s},
        {"rate(x[1h30m])", 5400s},
        {"rate(x[1500ms])", 2s},  // rounded to whole seconds
        {"rate(x[1d])", 86400s},
        {"rate(x[1w])", 604800s},
        {"avg_over_time(qps[1m])", 60s},
        {"sum(increase(x[2m])) / 120", 120s},
        {"rate(x[300])", 300s},          // a plain number of seconds (Prometheus 3)
        {"rate(x[1.5])", 2s},            // rounded
        {"rate(x[\t1m\n])", 60s},        // any blank inside the brackets
        {"rate(x[1m] offset 5m)", 60s},  // offset and @ change when, not how long
        {"rate(x[1m] @ start())", 60s},
        {R"(sum(rate(x{path=~"/v[0-9]+"}[1m])))", 60s},
        // The same range twice is one span.
        {"sum(rate(a[1m])) + sum(rate(b[1m]))", 60s},
        // Brackets inside strings and comments are no ranges.
        {R"(sum(rate(x{path="/v1[2]"}[1m])))", 60s},
        {"sum(rate(x{path='[5m]'}[1m]))", 60s},
        {"sum(rate(x{path=`[5m]`}[1m]))", 60s},
        {"sum(rate(x{path=\"a\\\"[5m]\"}[1m]))", 60s},
        {"sum(rate(x[1m])) # not [5m]", 60s},
        // Nothing to read: say metrics.prometheus.span.
        {"e2e_demand_qps", std::nullopt},                       // a gauge, no range
        {"sum(rate(a[1m])) + sum(rate(b[5m]))", std::nullopt},  // two spans
        {"max_over_time(rate(x[1m])[5m:15s])", std::nullopt},   // a subquery: a maximum
        {"rate(x[1m])[5m:]", std::nullopt},                     // a subquery, default step
        {"sum by (service) (irate(x[5m]))", std::nullopt},      // the last two scrapes
        {"max_over_time(x[5m])", std::nullopt},                 // a maximum, not a mean
        {"sum_over_time(x[5m])", std::nullopt},                 // a sum of samples
        {"rate(x[1m]) + max_over_time(y[1m])", std::nullopt},   // one range not a mean
        {"rate(x[$__rate_interval])", std::nullopt},            // a dashboard variable
        {"rate(x[500ms])", 1s},                                 // half a second rounds up
        {"rate(x[400ms])", std::nullopt},                       // rounds below 1 s
        {"rate(x[1m1h])", std::nullopt},                        // units must descend
        {"rate(x[m])", std::nullopt},
        {"rate(x[1m", std::nullopt},  // unclosed
        {"", std::nullopt},
    };
    for (const auto& c : cases) {
      CAPTURE(c.query);
      CHECK(query_span(c.query) == c.span);
    }
  }

  TEST_CASE("promql span: durations") {
    CHECK(promql_duration("90s") == 90s);
    CHECK(promql_duration("2h") == 7200s);
    CHECK(promql_duration("1y") == std::chrono::seconds{365 * 86400});
    CHECK(promql_duration("1m30s") == 90s);
    CHECK(promql_duration("0s") == std::nullopt);
    CHECK(promql_duration("1.5m") == std::nullopt);  // a fraction only without a unit
    CHECK(promql_duration("90") == 90s);
    CHECK(promql_duration("0.4") == std::nullopt);  // rounds to 0
    CHECK(promql_duration("1.") == std::nullopt);
    CHECK(promql_duration(".5") == std::nullopt);
    CHECK(promql_duration("1.2.3") == std::nullopt);
    CHECK(promql_duration("1M") == std::nullopt);
    CHECK(promql_duration("-1m") == std::nullopt);
    CHECK(promql_duration("1s1s") == std::nullopt);
  }
}

}  // namespace
}  // namespace qfscale::demand
