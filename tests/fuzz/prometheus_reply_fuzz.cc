// libFuzzer target: arbitrary bytes as a Prometheus /api/v1/query reply body must decode to a
// sample or a typed failure for every service, never a crash, hang or sanitizer report. The
// first byte picks the HTTP status so both the 2xx and error paths are explored.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qfscale/demand/prometheus_source.h"
#include "qfscale/http/client.h"

namespace {

class OneReplyClient final : public qfscale::http::Client {
 public:
  qfscale::http::Response reply;
  qfscale::Result<qfscale::http::Response> send(const qfscale::http::ClientRequest&) override {
    return reply;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static constexpr std::array kStatuses = {200, 400, 422, 502, 503};
  OneReplyClient client;
  std::size_t skip = 0;
  if (size > 0) {
    client.reply.status = kStatuses[data[0] % kStatuses.size()];
    skip = 1;
  }
  client.reply.body.assign(reinterpret_cast<const char*>(data) + skip, size - skip);
  qfscale::demand::PrometheusConfig config{.base_url = "http://127.0.0.1:9090",
                                           .query = "sum by (service) (rate(x[1m]))"};
  config.per_service_queries.emplace(qfscale::model::ServiceId("svco-override"), "sum(y)");
  auto source = qfscale::demand::make_prometheus_source(config, client);
  if (!source) __builtin_trap();
  const std::vector<qfscale::model::ServiceId> services = {
      qfscale::model::ServiceId("svco-a1b2c3"), qfscale::model::ServiceId("svco-d4e5f6"),
      qfscale::model::ServiceId("svco-override")};
  const auto readings =
      (*source)->read(services, qfscale::util::SystemTime{std::chrono::seconds{1'700'000'000}});
  if (readings.size() != services.size()) __builtin_trap();
  for (const auto& r : readings) {
    // A sample is always usable: finite and not negative.
    if (r && !(r->qps >= 0 && r->qps < 1e308)) __builtin_trap();
  }
  return 0;
}
