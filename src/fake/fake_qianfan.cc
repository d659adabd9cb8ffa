// The fake Qianfan console API's HTTP front over `Cloud` (cloud.h): routing, faults, fencing and
// the request counters. wire.cc reads the bodies and writes the replies; auth.cc checks the
// signatures. One mutex guards all state; signature verification (the expensive part) runs
// outside it because the credentials never change.
//
// ASSUMPTIONS where docs/QIANFAN-API.md is silent or truncated (the client engineer uses the same):
// - Unknown or missing `Action`, or an action sent to the wrong route family: 400 InvalidURI.
// - Unknown service or instance: 404 ResourceNotFound.
// - ScaleService beyond what the instance has left: 400 InsufficientComputeUnits, with a message
//   that gives the arithmetic and what to ask for instead.
// - A wrong HTTP method on an API route: 405 MethodNotAllowed (the BCE envelope).
// - DescribeComputeUnit replies `result{computeUnitInstance{instanceId, region, type, status,
//   computeUnitCount}, serviceUsageList[{serviceId, deploymentReplicasCount, computeUnitCount}]}`;
//   the fake adds `computeUnitInstance.availableComputeUnitCount` (capacity minus every use,
//   foreign usage included), which clients may ignore. Foreign usage is not listed as a service.
// - DescribeServices pages with the BCE marker convention: `result{marker, maxKeys, isTruncated,
//   nextMarker (only when truncated), serviceList[<DescribeService result>]}`; services are sorted
//   by id and `marker` is the first id of the page (inclusive).
// - DescribeServiceMetric takes `serviceIds` (array) or `serviceId` (string or array),
//   `startTime` and `endTime` (YYYY-MM-DDThh:mm:ssZ, [start, end)), and counts the traffic
//   endpoint's requests per second: served -> succeedCallTotal, rejected -> failureCallTotal.
//   Each service has one app, appId 1; token totals are 0.
// - A service with no replicas at all (scaled to zero) reports Serving.
// - Resource kinds: a type starting with gpu (any case) is GPU, with cpu is CPU (service types
//   GPU-I-2 / CPU-I-2, instance types gpu-1 / cpu-1); other types are not checked. ScaleService
//   of a GPU service on a CPU instance, or the reverse: 400 ResourceTypeMismatch (the scenario's
//   deployments are checked the same way by validate()).
// - ModifyService while the service's model update is still running: 409 ModelUpdateInProgress;
//   the running update keeps its target and its window.
// - Every 429 RequestLimitExceeded (throttleQps or an injected error rate) carries
//   `Retry-After: 1`, the whole seconds until the throttling window resets (kThrottleRetryAfter).
// - A string field (ids, names, markers) longer than kMaxStringField bytes: 400
//   InappropriateJSON naming the field and its length, never quoting it (real ids are ~20
//   characters).
// - X-Bce-Error-Message carries the code's fixed text (detail.cc), never the detailed message,
//   which may quote the request.
// - Once serve_at named the address, a request must sign the Host header and send one naming
//   that address (or localhost with its port), else 400 SignatureDoesNotMatch: a signature made
//   for another endpoint is not valid here.
// - expirationPeriodInSeconds above kMaxSignatureExpiration: 400 InvalidHTTPAuthHeader, so that
//   an old signature cannot be replayed for years (the SDKs sign for 300 s or 1800 s).

#include "qfscale/fake/fake_qianfan.h"

#include <limits>
#include <map>
#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "qfscale/util/random.h"

#include "fake/auth.h"
#include "fake/detail.h"
#include "fake/fencing.h"
#include "fake/wire.h"

namespace qfscale::fake {
namespace {

using detail::Action;
using detail::ApiError;
using detail::parse_query;
using detail::percent_decode;
using util::SystemTime;

constexpr std::string_view kTrafficPrefix = "/traffic/";
// The header the controller sends (qianfan/api.h kFencingTokenHeader; fake may not include
// qianfan).
constexpr std::string_view kFencingHeader = "x-qfscale-fencing-token";

// Throttling counts per wall-clock second, so its window resets within (0 s, 1 s]; Retry-After
// counts whole seconds rounded up, which makes it 1 whatever the sub-second time. Injected
// RequestLimitExceeded errors say the same, as a real throttle would.
constexpr std::string_view kThrottleRetryAfter = "1";

std::int64_t epoch_second(SystemTime t) {
  return std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
}

std::string label_value(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

struct ThrottleWindow {
  std::int64_t second = std::numeric_limits<std::int64_t>::min();
  int count = 0;
};

}  // namespace

struct FakeQianfan::Impl {
  Impl(Scenario scenario, const util::Clock& c)
      : clock(c),
        credentials(*scenario.credentials),
        allowed_skew(scenario.allowed_clock_skew),
        fencing(scenario.fencing),
        random(scenario.seed),
        faults(std::move(scenario.faults)),
        cloud(std::move(scenario.instances), std::move(scenario.services),
              CloudTimings{.startup_delay = scenario.startup_delay,
                           .model_update_duration = scenario.model_update_duration},
              clock.system_now()) {}

  // Immutable after construction.
  const util::Clock& clock;
  const bce::Credentials credentials;
  const std::chrono::seconds allowed_skew;
  const bool fencing;

  mutable std::mutex hosts_mu;
  std::vector<std::string> hosts;  ///< Host values the API accepts; empty: any (guarded)

  mutable std::mutex mu;
  util::Random random;                                                      // guarded by mu
  Faults faults;                                                            // guarded by mu
  Cloud cloud;                                                              // guarded by mu
  std::map<std::pair<std::string, std::string>, std::uint64_t> api_counts;  // guarded by mu
  std::map<std::string, ThrottleWindow> throttle;                           // guarded by mu
  detail::FencingLedger fencing_ledger;                                     // guarded by mu

  // ---- helpers, all called with mu held -------------------------------------------------

  std::string new_request_id() {
    const auto a = random.engine()();
    const auto b = random.engine()();
    return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32U, (a >> 16U) & 0xFFFFU,
                       a & 0xFFFU, ((b >> 48U) & 0x3FFFU) | 0x8000U, b & 0xFFFFFFFFFFFFULL);
  }

  void count_api(std::string_view action, std::string_view code) {
    ++api_counts[{std::string(action), std::string(code)}];
  }

  // ---- request handling ----------------------------------------------------------------

  http::Response handle_api(const http::Request& request, std::string_view route) {
    const SystemTime now = clock.system_now();
    std::string action_name;
    for (const auto& [key, value] : parse_query(request.query())) {
      if (key == "Action") action_name = value;
    }
    const auto action = model::parse_qianfan_action(action_name);
    const std::string label = action ? std::string(action_name) : std::string("unknown");

    // Signature checks run without the lock.
    std::optional<ApiError> auth_error;
    if (request.method == "POST") {
      std::vector<std::string> accepted;
      {
        std::lock_guard lock(hosts_mu);
        accepted = hosts;
      }
      auth_error = detail::authenticate(
          request, {.credentials = credentials, .allowed_skew = allowed_skew, .hosts = accepted},
          now);
    }

    std::lock_guard lock(mu);
    const std::string request_id = new_request_id();
    const auto fail_with = [&](std::string_view code, const std::string& message) {
      count_api(label, code);
      return detail::error_response(code, message, request_id);
    };
    if (request.method != "POST") {
      return fail_with(
          "MethodNotAllowed",
          fmt::format("{} {} is not allowed; the console API uses POST", request.method, route));
    }
    if (auth_error) return fail_with(auth_error->code, auth_error->message);
    if (!action) {
      if (action_name.empty()) {
        return fail_with(
            "InvalidURI",
            fmt::format("missing Action query parameter: POST {}?Action=<name>", route));
      }
      std::string supported;
      for (const auto a : model::kAllQianfanActions) {
        if (detail::route_of(a) != route) continue;
        if (!supported.empty()) supported += ", ";
        supported += model::to_string(a);
      }
      return fail_with("InvalidURI", fmt::format("unknown Action '{}' on {}; supported: {}",
                                                 action_name, route, supported));
    }
    if (detail::route_of(*action) != route) {
      return fail_with("InvalidURI", fmt::format("Action {} is served on {}, not {}", action_name,
                                                 detail::route_of(*action), route));
    }

    // Injected faults.
    std::chrono::milliseconds latency{0};
    if (const ActionFaults* f = faults.find(action_name)) {
      latency = f->latency;
      if (f->drop_rate > 0 && random.uniform01() < f->drop_rate) {
        count_api(label, "dropped");
        http::Response dropped;
        dropped.drop_connection = true;
        dropped.delay = latency;
        return dropped;
      }
      if (f->throttle_qps) {
        auto& window = throttle[action_name];
        const auto second = epoch_second(now);
        if (window.second != second) window = ThrottleWindow{.second = second, .count = 0};
        if (++window.count > *f->throttle_qps) {
          auto response = fail_with(
              "RequestLimitExceeded",
              fmt::format("more than {} {} requests in one second (injected throttling); retry "
                          "with backoff",
                          *f->throttle_qps, action_name));
          response.headers.push_back({"Retry-After", std::string(kThrottleRetryAfter)});
          response.delay = latency;
          return response;
        }
      }
      if (!f->error_rates.empty()) {
        const double draw = random.uniform01();
        double cumulative = 0;
        for (const auto& [code, rate] : f->error_rates) {
          cumulative += rate;
          if (draw < cumulative) {
            const auto* kind = detail::find_error_kind(code);
            auto response = fail_with(
                code, fmt::format("{} (injected fault)",
                                  kind != nullptr ? kind->message : std::string_view(code)));
            if (code == "RequestLimitExceeded") {
              response.headers.push_back({"Retry-After", std::string(kThrottleRetryAfter)});
            }
            response.delay = latency;
            return response;
          }
        }
      }
    }

    auto response = [&] {
      if (auto type = request.header("Content-Type");
          type && type->find("application/json") == std::string_view::npos) {
        return fail_with("InvalidHTTPRequest",
                         fmt::format("Content-Type must be application/json, got '{}'", *type));
      }
      detail::BodyGate gate;
      if (fencing && (*action == Action::ScaleService || *action == Action::ModifyService)) {
        gate = [&](std::string_view service) -> std::optional<ApiError> {
          auto refused = fencing_ledger.check(action_name, service, request.header(kFencingHeader));
          if (!refused) return std::nullopt;
          return ApiError{std::move(refused->code), std::move(refused->message)};
        };
      }
      auto result = detail::run_action(*action, request.body, cloud, now, gate);
      if (!result) return fail_with(result.error().code, result.error().message);
      count_api(label, "OK");
      return detail::ok_response(*result, request_id);
    }();
    response.delay = latency;
    return response;
  }

  http::Response handle_traffic(std::string_view service_id) {
    const SystemTime now = clock.system_now();
    std::lock_guard lock(mu);
    return detail::traffic_response(service_id, cloud.request(service_id, now));
  }

  http::Response handle_metrics() {
    const SystemTime now = clock.system_now();
    std::lock_guard lock(mu);
    struct Row {
      std::string id;
      ServiceStatus status;
      CallCounts totals;
      std::int64_t capacity = 0;
    };
    std::vector<Row> services;
    for (auto& id : cloud.service_ids()) {
      auto status = *cloud.service(id, now);
      const auto totals = cloud.call_totals(id);
      const auto capacity = cloud.capacity_per_second(id, now);
      services.push_back(Row{std::move(id), std::move(status), totals, capacity});
    }
    const auto instances = cloud.instances();
    std::string out;
    const auto family = [&out](std::string_view name, std::string_view type,
                               std::string_view help) {
      out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    };
    family("qfscale_fake_requests_total", "counter",
           "Requests to the traffic endpoint by service and outcome.");
    for (const auto& [id, service, totals, capacity] : services) {
      out += fmt::format("qfscale_fake_requests_total{{service=\"{}\",outcome=\"served\"}} {}\n",
                         label_value(id), totals.served);
      out += fmt::format("qfscale_fake_requests_total{{service=\"{}\",outcome=\"rejected\"}} {}\n",
                         label_value(id), totals.rejected);
    }
    family("qfscale_fake_replicas", "gauge",
           "Replicas of a service on all instances, ready or starting.");
    for (const auto& [id, service, totals, capacity] : services) {
      out += fmt::format("qfscale_fake_replicas{{service=\"{}\"}} {}\n", label_value(id),
                         service.replicas.value);
    }
    family("qfscale_fake_ready_replicas", "gauge", "Replicas of a service that finished starting.");
    for (const auto& [id, service, totals, capacity] : services) {
      out += fmt::format("qfscale_fake_ready_replicas{{service=\"{}\"}} {}\n", label_value(id),
                         service.ready.value);
    }
    family("qfscale_fake_replica_qps", "gauge", "Requests per second one replica serves.");
    for (const auto& [id, service, totals, capacity] : services) {
      out += fmt::format("qfscale_fake_replica_qps{{service=\"{}\"}} {}\n", label_value(id),
                         detail::json_number(service.spec.qps));
    }
    family("qfscale_fake_capacity_qps", "gauge",
           "Requests per second the traffic endpoint serves now: ready replicas x qps.");
    for (const auto& [id, service, totals, capacity] : services) {
      out += fmt::format("qfscale_fake_capacity_qps{{service=\"{}\"}} {}\n", label_value(id),
                         capacity);
    }
    family("qfscale_fake_instance_capacity_compute_units", "gauge",
           "Compute units of a compute-unit instance.");
    for (const auto& instance : instances) {
      out += fmt::format("qfscale_fake_instance_capacity_compute_units{{compute_unit=\"{}\"}} {}\n",
                         label_value(instance.spec.id.value), instance.spec.capacity.value);
    }
    family("qfscale_fake_instance_used_compute_units", "gauge",
           "Compute units in use on an instance, foreign usage included.");
    for (const auto& instance : instances) {
      out += fmt::format("qfscale_fake_instance_used_compute_units{{compute_unit=\"{}\"}} {}\n",
                         label_value(instance.spec.id.value), instance.used.value);
    }
    family("qfscale_fake_api_requests_total", "counter",
           "Console API requests by action and result code (OK on success).");
    for (const auto& [key, count] : api_counts) {
      out += fmt::format("qfscale_fake_api_requests_total{{action=\"{}\",code=\"{}\"}} {}\n",
                         label_value(key.first), label_value(key.second), count);
    }
    auto response = http::text_response(200, std::move(out));
    for (auto& header : response.headers) {
      if (header.name == "Content-Type") header.value = "text/plain; version=0.0.4; charset=utf-8";
    }
    return response;
  }

  http::Response handle_admin_faults(const http::Request& request) {
    if (request.method == "GET") {
      std::lock_guard lock(mu);
      return http::json_response(200, to_json(faults));
    }
    if (request.method == "DELETE") {
      std::lock_guard lock(mu);
      faults = Faults{};
      return http::json_response(200, "{}");
    }
    if (request.method == "POST") {
      auto parsed = parse_faults(request.body, "POST /admin/faults");
      if (!parsed) {
        std::string message;
        for (const auto& d : parsed.error()) {
          if (!message.empty()) message += "; ";
          message += d.to_string();
        }
        return http::json_response(400,
                                   fmt::format("{{\"code\":\"InappropriateJSON\",\"message\":{}}}",
                                               detail::json_string(message)));
      }
      std::lock_guard lock(mu);
      faults = std::move(*parsed);
      return http::json_response(200, to_json(faults));
    }
    auto response = http::text_response(405, "use GET, POST or DELETE on /admin/faults\n");
    response.headers.push_back({"Allow", "GET, POST, DELETE"});
    return response;
  }
};

Result<std::unique_ptr<FakeQianfan>> FakeQianfan::create(Scenario scenario,
                                                         const util::Clock& clock) {
  auto diagnostics = validate(scenario);
  if (!diagnostics.empty()) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("invalid fake scenario:\n{}", util::to_string(diagnostics)));
  }
  if (!scenario.credentials) {
    return fail(ErrorCode::InvalidInput,
                "the fake needs credentials: set them in the scenario or generate a pair");
  }
  return std::unique_ptr<FakeQianfan>(
      new FakeQianfan(std::make_unique<Impl>(std::move(scenario), clock)));
}

FakeQianfan::FakeQianfan(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FakeQianfan::~FakeQianfan() = default;

http::Response FakeQianfan::handle(const http::Request& request) {
  const std::string_view path = request.path();
  if (path == detail::kServiceRoute || path == detail::kComputeUnitRoute) {
    return impl_->handle_api(request, path);
  }
  if (path.substr(0, kTrafficPrefix.size()) == kTrafficPrefix) {
    return impl_->handle_traffic(path.substr(kTrafficPrefix.size()));
  }
  if (path == "/metrics") {
    if (request.method != "GET") return http::text_response(405, "use GET on /metrics\n");
    return impl_->handle_metrics();
  }
  if (path == "/admin/faults") return impl_->handle_admin_faults(request);
  if (path == "/admin/fencing") {
    std::lock_guard lock(impl_->mu);
    return http::json_response(200, impl_->fencing_ledger.to_json());
  }
  if (path == "/healthz") return http::text_response(200, "ok\n");
  return http::text_response(404, fmt::format("no route for {}\n", path));
}

http::Router FakeQianfan::router() {
  http::Router router;
  const http::Handler handler = [this](const http::Request& request) { return handle(request); };
  router.add("POST", std::string(detail::kServiceRoute), handler);
  router.add("POST", std::string(detail::kComputeUnitRoute), handler);
  router.add("GET", "/metrics", handler);
  router.add("GET", "/healthz", handler);
  router.add("GET", "/admin/fencing", handler);
  for (const char* method : {"GET", "POST", "DELETE"}) router.add(method, "/admin/faults", handler);
  for (const char* method : {"GET", "POST"}) router.add(method, "/traffic/*", handler);
  return router;
}

std::vector<std::string> FakeQianfan::inventory() const {
  std::lock_guard lock(impl_->mu);
  std::vector<std::string> lines;
  for (const auto& instance : impl_->cloud.instances()) {
    lines.push_back(fmt::format("instance {} type {} capacity {} used {}", instance.spec.id.value,
                                instance.spec.type, instance.spec.capacity.value,
                                instance.used.value));
  }
  for (const auto& id : impl_->cloud.service_ids()) {
    const auto service = *impl_->cloud.service(id, impl_->clock.system_now());
    std::string line = fmt::format("service {} type {} replicas", id, service.spec.type);
    if (service.spec.deployments.empty()) line += " none";
    for (const auto& d : service.spec.deployments) {
      line += fmt::format(" {}={}", d.instance.value, d.replicas.value);
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

void FakeQianfan::set_faults(Faults faults) {
  std::lock_guard lock(impl_->mu);
  impl_->faults = std::move(faults);
}

Faults FakeQianfan::faults() const {
  std::lock_guard lock(impl_->mu);
  return impl_->faults;
}

const bce::Credentials& FakeQianfan::credentials() const { return impl_->credentials; }

void FakeQianfan::serve_at(std::string_view address) {
  std::vector<std::string> hosts{std::string(address)};
  if (const auto colon = address.rfind(':'); colon != std::string_view::npos) {
    hosts.push_back(fmt::format("localhost{}", address.substr(colon)));
  }
  std::lock_guard lock(impl_->hosts_mu);
  impl_->hosts = std::move(hosts);
}

}  // namespace qfscale::fake