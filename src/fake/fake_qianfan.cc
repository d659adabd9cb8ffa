// The fake Qianfan console API. One mutex guards all state; signature verification (the
// expensive part) runs outside it because the credentials never change.
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

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <simdjson.h>

#include "qfscale/http/url.h"
#include "qfscale/util/random.h"

#include "fake/detail.h"
#include "fake/fencing.h"

namespace qfscale::fake {
namespace {

using detail::Action;
using util::SystemTime;
using Json = simdjson::dom::element;
using JsonObject = simdjson::dom::object;

constexpr std::int64_t kMaxReplicas = 100'000;
constexpr std::int64_t kAppId = 1;
constexpr std::int64_t kTrafficRetentionSeconds = 24 * 3600;
constexpr std::string_view kTrafficPrefix = "/traffic/";
// The header the controller sends (qianfan/api.h kFencingTokenHeader; fake may not include
// qianfan).
constexpr std::string_view kFencingHeader = "x-qfscale-fencing-token";

// Throttling counts per wall-clock second, so its window resets within (0 s, 1 s]; Retry-After
// counts whole seconds rounded up, which makes it 1 whatever the sub-second time. Injected
// RequestLimitExceeded errors say the same, as a real throttle would.
constexpr std::string_view kThrottleRetryAfter = "1";

constexpr std::size_t kMaxStringField = 128;
constexpr int kMaxSignatureExpiration = 3600;  ///< seconds

std::int64_t epoch_second(SystemTime t) {
  return std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
}

struct ApiError {
  std::string code;
  std::string message;
};

template <class T>
using Outcome = tl::expected<T, ApiError>;

tl::unexpected<ApiError> api_fail(std::string_view code, std::string message) {
  return tl::unexpected<ApiError>(ApiError{std::string(code), std::move(message)});
}

bool iequals(std::string_view a, std::string_view b) {
  const auto lower = [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

/// Percent-decoding (http/url.h); a piece with a malformed escape is kept as it came, so the
/// signature check, not the decoder, refuses such a request.
std::string percent_decode(std::string_view text) {
  return http::percent_decode(text).value_or(std::string(text));
}

bce::KeyValues parse_query(std::string_view query) {
  bce::KeyValues out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto part = query.substr(0, amp);
    if (!part.empty()) {
      const auto eq = part.find('=');
      if (eq == std::string_view::npos) {
        out.emplace_back(percent_decode(part), "");
      } else {
        out.emplace_back(percent_decode(part.substr(0, eq)), percent_decode(part.substr(eq + 1)));
      }
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::string_view describe(const Json& value) {
  switch (value.type()) {
    case simdjson::dom::element_type::ARRAY:
      return "an array";
    case simdjson::dom::element_type::OBJECT:
      return "an object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
      return "a number";
    case simdjson::dom::element_type::STRING:
      return "a string";
    case simdjson::dom::element_type::BOOL:
      return "true/false";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
  }
  return "a value";
}

std::optional<Json> find_field(const JsonObject& body, std::string_view key) {
  Json value;
  if (body.at_key(key).get(value) != simdjson::SUCCESS) return std::nullopt;
  return value;
}

Outcome<std::string> read_string(const Json& value, std::string_view key) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    return api_fail("InappropriateJSON",
                    fmt::format("field '{}' must be a string, got {}", key, describe(value)));
  }
  if (text.empty()) {
    return api_fail("InappropriateJSON", fmt::format("field '{}' must not be empty", key));
  }
  if (text.size() > kMaxStringField) {
    return api_fail("InappropriateJSON", fmt::format("field '{}' is {} bytes long, at most {}", key,
                                                     text.size(), kMaxStringField));
  }
  return std::string(text);
}

Outcome<std::string> required_string(const JsonObject& body, std::string_view key) {
  const auto value = find_field(body, key);
  if (!value) {
    return api_fail("InappropriateJSON",
                    fmt::format("missing required field '{}' (a string)", key));
  }
  return read_string(*value, key);
}

Outcome<std::optional<std::string>> optional_string(const JsonObject& body, std::string_view key) {
  const auto value = find_field(body, key);
  if (!value || value->is_null()) return std::optional<std::string>{};
  std::string_view text;
  if (value->get_string().get(text) != simdjson::SUCCESS) {
    return api_fail("InappropriateJSON",
                    fmt::format("field '{}' must be a string, got {}", key, describe(*value)));
  }
  if (text.size() > kMaxStringField) {
    return api_fail("InappropriateJSON", fmt::format("field '{}' is {} bytes long, at most {}", key,
                                                     text.size(), kMaxStringField));
  }
  return std::optional<std::string>{std::string(text)};
}

Outcome<std::int64_t> read_integer(const Json& value, std::string_view key) {
  switch (value.type()) {
    case simdjson::dom::element_type::INT64:
      return value.get_int64().value_unsafe();
    case simdjson::dom::element_type::UINT64:
      return api_fail("InappropriateJSON", fmt::format("field '{}' is out of range: {}", key,
                                                       value.get_uint64().value_unsafe()));
    case simdjson::dom::element_type::DOUBLE:
      return api_fail("InappropriateJSON",
                      fmt::format("field '{}' must be a whole number, got {}", key,
                                  detail::json_number(value.get_double().value_unsafe())));
    default:
      return api_fail("InappropriateJSON",
                      fmt::format("field '{}' must be an integer, got {}", key, describe(value)));
  }
}

Outcome<std::vector<std::string>> optional_string_list(const JsonObject& body,
                                                       std::string_view key) {
  std::vector<std::string> out;
  const auto value = find_field(body, key);
  if (!value || value->is_null()) return out;
  simdjson::dom::array array;
  if (value->get_array().get(array) != simdjson::SUCCESS) {
    return api_fail(
        "InappropriateJSON",
        fmt::format("field '{}' must be an array of strings, got {}", key, describe(*value)));
  }
  for (const Json item : array) {
    std::string_view text;
    if (item.get_string().get(text) != simdjson::SUCCESS) {
      return api_fail(
          "InappropriateJSON",
          fmt::format("field '{}' must hold only strings, found {}", key, describe(item)));
    }
    if (text.size() > kMaxStringField) {
      return api_fail("InappropriateJSON",
                      fmt::format("field '{}' has an item {} bytes long, at most {}", key,
                                  text.size(), kMaxStringField));
    }
    out.emplace_back(text);
  }
  return out;
}

bool contains_ignore_case(std::string_view haystack, std::string_view needle) {
  const auto lower = [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  };
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                     [&](char a, char b) { return lower(a) == lower(b); }) != haystack.end();
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

struct TrafficBucket {
  std::int64_t second = 0;
  std::uint64_t served = 0;
  std::uint64_t rejected = 0;
};

struct PendingModel {
  std::string model_set_id;
  std::string model_id;
  SystemTime done_at;
};

struct ServiceState {
  ServiceSpec spec;
  int units_per_replica = 1;
  std::string create_time;
  /// instance id -> ready time of each replica, ascending; pending replicas are at the back.
  std::map<std::string, std::vector<SystemTime>> replicas;
  std::optional<PendingModel> pending_model;
  std::deque<TrafficBucket> traffic;  ///< seconds that saw traffic, oldest first
  std::uint64_t served_total = 0;
  std::uint64_t rejected_total = 0;

  [[nodiscard]] int total_replicas() const {
    std::size_t n = 0;
    for (const auto& [id, ready] : replicas) n += ready.size();
    return static_cast<int>(n);
  }
  [[nodiscard]] int ready_replicas(SystemTime now) const {
    std::size_t n = 0;
    for (const auto& [id, ready] : replicas) {
      n += static_cast<std::size_t>(
          std::count_if(ready.begin(), ready.end(), [&](SystemTime t) { return t <= now; }));
    }
    return static_cast<int>(n);
  }
  [[nodiscard]] int replicas_on(const std::string& instance) const {
    auto it = replicas.find(instance);
    return it == replicas.end() ? 0 : static_cast<int>(it->second.size());
  }
  /// Requests per second the traffic endpoint serves now: floor(ready replicas x qps).
  [[nodiscard]] std::int64_t capacity_per_second(SystemTime now) const {
    return static_cast<std::int64_t>(std::floor(ready_replicas(now) * spec.qps + 1e-9));
  }
};

struct ThrottleWindow {
  std::int64_t second = std::numeric_limits<std::int64_t>::min();
  int count = 0;
};

}  // namespace

struct FakeQianfan::Impl {
  Impl(Scenario scenario, const util::Clock& c)
      : clock(c),
        credentials(*scenario.credentials),
        startup_delay(scenario.startup_delay),
        model_update_duration(scenario.model_update_duration),
        allowed_skew(scenario.allowed_clock_skew),
        fencing(scenario.fencing),
        random(scenario.seed),
        faults(std::move(scenario.faults)) {
    const SystemTime now = clock.system_now();
    const std::string created =
        bce::format_timestamp(std::chrono::floor<std::chrono::seconds>(now));
    for (auto& instance : scenario.instances) {
      instances.emplace(instance.id.value, std::move(instance));
    }
    for (auto& spec : scenario.services) {
      ServiceState state;
      state.units_per_replica =
          model::units_per_replica(spec.type).value_or(model::ComputeUnits{1}).value;
      state.create_time = created;
      for (const auto& d : spec.deployments) {
        if (d.replicas.value > 0) {
          state.replicas[d.instance.value].assign(static_cast<std::size_t>(d.replicas.value), now);
        }
      }
      if (spec.url.empty()) spec.url = fmt::format("http://qianfan.fake/traffic/{}", spec.id.value);
      state.spec = std::move(spec);
      services.emplace(state.spec.id.value, std::move(state));
    }
  }

  // Immutable after construction.
  const util::Clock& clock;
  const bce::Credentials credentials;
  const std::chrono::milliseconds startup_delay;
  const std::chrono::milliseconds model_update_duration;
  const std::chrono::seconds allowed_skew;
  const bool fencing;

  mutable std::mutex hosts_mu;
  std::vector<std::string> hosts;  ///< Host values the API accepts; empty: any (guarded)

  mutable std::mutex mu;
  util::Random random;                                                      // guarded by mu
  Faults faults;                                                            // guarded by mu
  std::map<std::string, ServiceState> services;                             // guarded by mu
  std::map<std::string, InstanceSpec> instances;                            // guarded by mu
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

  http::Response error_response(std::string_view code, const std::string& message,
                                const std::string& request_id) const {
    const auto* kind = detail::find_error_kind(code);
    const int status = kind != nullptr ? kind->status : 500;
    std::string body = "{\"requestId\":";
    detail::append_json_string(body, request_id);
    body += ",\"code\":";
    detail::append_json_string(body, code);
    body += ",\"message\":";
    detail::append_json_string(body, message);
    body += '}';
    auto response = http::json_response(status, std::move(body));
    response.headers.push_back({"X-Bce-Error-Code", std::string(code)});
    // The fixed text only: the detailed message may quote the request, and a header is no
    // place for request text (a 70 KB id once made the whole answer a 500).
    response.headers.push_back(
        {"X-Bce-Error-Message", std::string(kind != nullptr ? kind->message : code)});
    response.headers.push_back({"x-bce-request-id", request_id});
    return response;
  }

  static http::Response ok_response(const std::string& result, const std::string& request_id) {
    std::string body = "{\"requestId\":";
    detail::append_json_string(body, request_id);
    body += ",\"result\":";
    body += result;
    body += '}';
    auto response = http::json_response(200, std::move(body));
    response.headers.push_back({"x-bce-request-id", request_id});
    return response;
  }

  void count_api(std::string_view action, std::string_view code) {
    ++api_counts[{std::string(action), std::string(code)}];
  }

  void settle(ServiceState& service, SystemTime now) const {
    if (service.pending_model && now >= service.pending_model->done_at) {
      service.spec.model_set_id = std::move(service.pending_model->model_set_id);
      service.spec.model_id = std::move(service.pending_model->model_id);
      service.pending_model.reset();
    }
  }

  static model::RunStatus run_status(const ServiceState& service, SystemTime now) {
    if (service.spec.run_status) return *service.spec.run_status;
    // A service with replicas but none ready yet is Deploying. A service with at least one ready
    // replica stays Serving while extra replicas start: if it reported Deploying during every
    // scale-up, a controller that freezes services that are not Serving would freeze it in the
    // middle of each scale-up and could not react to further load. A service scaled to zero
    // keeps its published state (ASSUMPTION).
    if (service.total_replicas() > 0 && service.ready_replicas(now) == 0) {
      return model::RunStatus::Deploying;
    }
    return model::RunStatus::Serving;
  }

  std::string service_json(ServiceState& service, SystemTime now) const {
    settle(service, now);
    const auto& spec = service.spec;
    std::string out = "{\"serviceId\":";
    detail::append_json_string(out, spec.id.value);
    const auto field = [&out](std::string_view key, std::string_view value) {
      out += ",\"";
      out += key;
      out += "\":";
      detail::append_json_string(out, value);
    };
    field("baseModel", spec.base_model);
    field("modelSetId", spec.model_set_id);
    field("modelId", spec.model_id);
    field("name", spec.name);
    field("description", fmt::format("{} (qfscale fake)", spec.name));
    field("url", spec.url);
    field("serviceType", spec.service_type);
    field("runStatus", model::to_string(run_status(service, now)));
    field("chargeType", "ComputingUnit");
    field("payType", "Postpay");
    field("chargeStatus", "NORMAL");
    out += ",\"resourceConfig\":{\"region\":";
    detail::append_json_string(out, spec.region);
    out += ",\"type\":";
    detail::append_json_string(out, spec.type);
    out += fmt::format(",\"replicasCount\":{},\"qps\":{}}}", service.total_replicas(),
                       detail::json_number(spec.qps));
    out += fmt::format(",\"isModelUpdating\":{}", service.pending_model ? "true" : "false");
    field("creator", "qfscale-fake");
    field("createTime", service.create_time);
    out += '}';
    return out;
  }

  Outcome<ServiceState*> find_service(const std::string& id) {
    auto it = services.find(id);
    if (it == services.end()) {
      return api_fail("ResourceNotFound",
                      fmt::format("service '{}' does not exist; DescribeServices lists the "
                                  "services",
                                  id));
    }
    return &it->second;
  }

  Outcome<InstanceSpec*> find_instance(const std::string& id) {
    auto it = instances.find(id);
    if (it == instances.end()) {
      return api_fail("ResourceNotFound",
                      fmt::format("compute-unit instance '{}' does not exist", id));
    }
    return &it->second;
  }

  /// Units taken on `instance` by every service except `except` (plus foreign usage).
  std::int64_t used_units(const InstanceSpec& instance, const ServiceState* except) const {
    std::int64_t used = instance.foreign_usage.value;
    for (const auto& [id, service] : services) {
      if (&service == except) continue;
      used += std::int64_t{service.replicas_on(instance.id.value)} * service.units_per_replica;
    }
    return used;
  }

  // ---- actions -------------------------------------------------------------------------

  Outcome<std::string> describe_service(const JsonObject& body, SystemTime now) {
    auto id = required_string(body, "serviceId");
    if (!id) return tl::unexpected(id.error());
    auto service = find_service(*id);
    if (!service) return tl::unexpected(service.error());
    return service_json(**service, now);
  }

  Outcome<std::string> describe_services(const JsonObject& body, SystemTime now) {
    auto marker = optional_string(body, "marker");
    if (!marker) return tl::unexpected(marker.error());
    auto name = optional_string(body, "name");
    if (!name) return tl::unexpected(name.error());
    auto statuses = optional_string_list(body, "runStatus");
    if (!statuses) return tl::unexpected(statuses.error());
    auto types = optional_string_list(body, "serviceType");
    if (!types) return tl::unexpected(types.error());
    std::int64_t max_keys = 10;
    if (auto v = find_field(body, "maxKeys"); v && !v->is_null()) {
      auto n = read_integer(*v, "maxKeys");
      if (!n) return tl::unexpected(n.error());
      if (*n < 1 || *n > 100) {
        return api_fail("InappropriateJSON",
                        fmt::format("field 'maxKeys' must be between 1 and 100, got {}", *n));
      }
      max_keys = *n;
    }
    bool reverse = false;
    if (auto v = find_field(body, "pageReverse"); v && !v->is_null()) {
      if (v->get_bool().get(reverse) != simdjson::SUCCESS) {
        return api_fail(
            "InappropriateJSON",
            fmt::format("field 'pageReverse' must be true or false, got {}", describe(*v)));
      }
    }
    for (const auto& status : *statuses) {
      if (model::parse_run_status(status) == model::RunStatus::Unknown) {
        return api_fail("InappropriateJSON",
                        fmt::format("field 'runStatus' holds an unknown status '{}'; allowed: "
                                    "New, Deploying, Serving, Failed, Stopped, Done",
                                    status));
      }
    }

    std::vector<ServiceState*> matching;
    for (auto& [id, service] : services) {
      if (name->has_value() && !contains_ignore_case(service.spec.name, **name)) continue;
      if (!types->empty() &&
          std::find(types->begin(), types->end(), service.spec.service_type) == types->end()) {
        continue;
      }
      if (!statuses->empty()) {
        const auto status = std::string(model::to_string(run_status(service, now)));
        if (std::find(statuses->begin(), statuses->end(), status) == statuses->end()) continue;
      }
      matching.push_back(&service);
    }
    if (reverse) std::reverse(matching.begin(), matching.end());
    auto start = matching.begin();
    if (marker->has_value() && !(*marker)->empty()) {
      const std::string& m = **marker;
      start = std::find_if(matching.begin(), matching.end(), [&](const ServiceState* s) {
        return reverse ? s->spec.id.value <= m : s->spec.id.value >= m;
      });
    }
    const auto remaining = static_cast<std::int64_t>(matching.end() - start);
    const auto take = std::min(remaining, max_keys);
    std::string list;
    for (auto it = start; it != start + take; ++it) {
      if (!list.empty()) list += ',';
      list += service_json(**it, now);
    }
    const bool truncated = remaining > take;
    std::string out = "{\"marker\":";
    detail::append_json_string(out, marker->value_or(""));
    out +=
        fmt::format(",\"maxKeys\":{},\"isTruncated\":{}", max_keys, truncated ? "true" : "false");
    if (truncated) {
      out += ",\"nextMarker\":";
      detail::append_json_string(out, (*(start + take))->spec.id.value);
    }
    out += ",\"serviceList\":[";
    out += list;
    out += "]}";
    return out;
  }

  Outcome<std::string> scale_service(const JsonObject& body, SystemTime now) {
    auto service_id = required_string(body, "serviceId");
    if (!service_id) return tl::unexpected(service_id.error());
    auto instance_id = required_string(body, "instanceId");
    if (!instance_id) return tl::unexpected(instance_id.error());
    const auto count_field = find_field(body, "deploymentReplicasCount");
    if (!count_field) {
      return api_fail("InappropriateJSON",
                      "missing required field 'deploymentReplicasCount' (an integer, 0 or more)");
    }
    auto count = read_integer(*count_field, "deploymentReplicasCount");
    if (!count) return tl::unexpected(count.error());
    if (*count < 0 || *count > kMaxReplicas) {
      return api_fail("InappropriateJSON",
                      fmt::format("field 'deploymentReplicasCount' must be between 0 and {}, got "
                                  "{}",
                                  kMaxReplicas, *count));
    }
    auto service_or = find_service(*service_id);
    if (!service_or) return tl::unexpected(service_or.error());
    auto instance_or = find_instance(*instance_id);
    if (!instance_or) return tl::unexpected(instance_or.error());
    ServiceState& service = **service_or;
    const InstanceSpec& instance = **instance_or;

    if (auto mismatch = detail::kind_mismatch(service.spec.type, instance.type)) {
      return api_fail("ResourceTypeMismatch",
                      fmt::format("service {} cannot run on instance {}: {}. Scale it on an "
                                  "instance of its own kind",
                                  service.spec.id.value, instance.id.value, *mismatch));
    }
    const std::int64_t left = instance.capacity.value - used_units(instance, &service);
    const std::int64_t need = *count * service.units_per_replica;
    if (need > left) {
      const std::int64_t fit = std::max<std::int64_t>(left, 0) / service.units_per_replica;
      return api_fail(
          "InsufficientComputeUnits",
          fmt::format("instance {} has {} compute units left; {} replicas of {} need {} (capacity "
                      "{}, used by other services and foreign usage {}). Ask for at most {} "
                      "replicas here, or free compute units on the instance first",
                      instance.id.value, std::max<std::int64_t>(left, 0), *count, service.spec.type,
                      need, instance.capacity.value, instance.capacity.value - left, fit));
    }
    auto& ready = service.replicas[instance.id.value];
    const auto target = static_cast<std::size_t>(*count);
    if (target > ready.size()) {
      // New replicas start now and become ready after the startup delay.
      ready.resize(target, now + std::chrono::duration_cast<SystemTime::duration>(startup_delay));
    } else {
      // Scale-down is immediate; replicas still starting (at the back) go first.
      ready.resize(target);
    }
    if (ready.empty()) service.replicas.erase(instance.id.value);
    return std::string("true");
  }

  Outcome<std::string> modify_service(const JsonObject& body, SystemTime now) {
    auto service_id = required_string(body, "serviceId");
    if (!service_id) return tl::unexpected(service_id.error());
    auto model_set_id = required_string(body, "modelSetId");
    if (!model_set_id) return tl::unexpected(model_set_id.error());
    auto model_id = required_string(body, "modelId");
    if (!model_id) return tl::unexpected(model_id.error());
    if (model_set_id->rfind("am-", 0) != 0) {
      return api_fail(
          "InappropriateJSON",
          fmt::format("field 'modelSetId' must be a model set id (am-…), got '{}'", *model_set_id));
    }
    if (model_id->rfind("amv-", 0) != 0) {
      return api_fail(
          "InappropriateJSON",
          fmt::format("field 'modelId' must be a model version id (amv-…), got '{}'", *model_id));
    }
    auto service = find_service(*service_id);
    if (!service) return tl::unexpected(service.error());
    settle(**service, now);
    // One update at a time: a second one is refused and the running one keeps its window.
    if (const auto& pending = (*service)->pending_model) {
      return api_fail(
          "ModelUpdateInProgress",
          fmt::format(
              "service {} is still updating to {} / {} for another {} ms; retry once "
              "DescribeService reports isModelUpdating false",
              *service_id, pending->model_set_id, pending->model_id,
              std::chrono::ceil<std::chrono::milliseconds>(pending->done_at - now).count()));
    }
    (*service)->pending_model = PendingModel{
        .model_set_id = std::move(*model_set_id),
        .model_id = std::move(*model_id),
        .done_at = now + std::chrono::duration_cast<SystemTime::duration>(model_update_duration)};
    settle(**service, now);  // a zero-length window applies at once
    return std::string("true");
  }

  Outcome<std::string> describe_compute_unit(const JsonObject& body, SystemTime /*now*/) {
    auto instance_id = required_string(body, "instanceId");
    if (!instance_id) return tl::unexpected(instance_id.error());
    auto instance_or = find_instance(*instance_id);
    if (!instance_or) return tl::unexpected(instance_or.error());
    const InstanceSpec& instance = **instance_or;
    std::string out = "{\"computeUnitInstance\":{\"instanceId\":";
    detail::append_json_string(out, instance.id.value);
    out += ",\"region\":";
    detail::append_json_string(out, instance.region);
    out += ",\"type\":";
    detail::append_json_string(out, instance.type);
    out += ",\"status\":";
    detail::append_json_string(out, instance.status);
    out += fmt::format(",\"computeUnitCount\":{},\"availableComputeUnitCount\":{}}}",
                       instance.capacity.value,
                       instance.capacity.value - used_units(instance, nullptr));
    out += ",\"serviceUsageList\":[";
    bool first = true;
    for (const auto& [id, service] : services) {
      const int replicas = service.replicas_on(instance.id.value);
      if (replicas == 0) continue;
      if (!first) out += ',';
      first = false;
      out += "{\"serviceId\":";
      detail::append_json_string(out, id);
      out += fmt::format(",\"deploymentReplicasCount\":{},\"computeUnitCount\":{}}}", replicas,
                         replicas * service.units_per_replica);
    }
    out += "]}";
    return out;
  }

  Outcome<std::string> describe_service_metric(const JsonObject& body, SystemTime /*now*/) {
    std::vector<std::string> ids;
    if (auto v = find_field(body, "serviceIds"); v && !v->is_null()) {
      auto list = optional_string_list(body, "serviceIds");
      if (!list) return tl::unexpected(list.error());
      ids = std::move(*list);
    } else if (auto single = find_field(body, "serviceId"); single && !single->is_null()) {
      if (single->is_string()) {
        auto id = read_string(*single, "serviceId");
        if (!id) return tl::unexpected(id.error());
        ids.push_back(std::move(*id));
      } else {
        auto list = optional_string_list(body, "serviceId");
        if (!list) return tl::unexpected(list.error());
        ids = std::move(*list);
      }
    }
    if (ids.empty()) {
      return api_fail("InappropriateJSON",
                      "missing required field 'serviceIds' (a non-empty array of service ids)");
    }
    std::int64_t bounds[2] = {0, 0};
    std::string texts[2];
    const std::string_view keys[2] = {"startTime", "endTime"};
    for (std::size_t i = 0; i < 2; ++i) {
      auto text = required_string(body, keys[i]);
      if (!text) return tl::unexpected(text.error());
      auto parsed = bce::parse_timestamp(*text);
      if (!parsed) {
        return api_fail("InappropriateJSON",
                        fmt::format("field '{}' must be a UTC time like 2025-01-02T03:04:05Z, got "
                                    "'{}'",
                                    keys[i], *text));
      }
      bounds[i] = parsed->time_since_epoch().count();
      texts[i] = std::move(*text);
    }
    if (bounds[1] <= bounds[0]) {
      return api_fail("InappropriateJSON",
                      fmt::format("endTime {} must be after startTime {}", texts[1], texts[0]));
    }
    std::string list;
    for (const auto& id : ids) {
      auto service_or = find_service(id);
      if (!service_or) return tl::unexpected(service_or.error());
      const ServiceState& service = **service_or;
      std::uint64_t served = 0;
      std::uint64_t rejected = 0;
      for (const auto& bucket : service.traffic) {
        if (bucket.second >= bounds[0] && bucket.second < bounds[1]) {
          served += bucket.served;
          rejected += bucket.rejected;
        }
      }
      if (!list.empty()) list += ',';
      list += "{\"serviceId\":";
      detail::append_json_string(list, id);
      list += ",\"serviceName\":";
      detail::append_json_string(list, service.spec.name);
      list += fmt::format(
          ",\"appList\":[{{\"appId\":{},\"metric\":{{\"inputTokensTotal\":0,\"outputTokensTotal\":"
          "0,"
          "\"tokensTotal\":0,\"succeedCallTotal\":{},\"failureCallTotal\":{},\"callTotal\":{}}}}}]}"
          "}",
          kAppId, served, rejected, served + rejected);
    }
    std::string out = "{\"startTime\":";
    detail::append_json_string(out, texts[0]);
    out += ",\"endTime\":";
    detail::append_json_string(out, texts[1]);
    out += ",\"serviceList\":[";
    out += list;
    out += "]}";
    return out;
  }

  Outcome<std::string> run(Action action, const JsonObject& body, SystemTime now) {
    switch (action) {
      case Action::DescribeService:
        return describe_service(body, now);
      case Action::DescribeServices:
        return describe_services(body, now);
      case Action::ScaleService:
        return scale_service(body, now);
      case Action::ModifyService:
        return modify_service(body, now);
      case Action::DescribeServiceMetric:
        return describe_service_metric(body, now);
      case Action::DescribeComputeUnit:
        return describe_compute_unit(body, now);
    }
    return api_fail("InternalError", "unhandled action");
  }

  // ---- request handling ----------------------------------------------------------------

  /// Checks the signature; the error (code, message) when it does not verify.
  std::optional<ApiError> authenticate(const http::Request& request, SystemTime now) const {
    const auto authorization = request.header("Authorization");
    if (!authorization || authorization->empty()) {
      return ApiError{"InvalidHTTPAuthHeader",
                      "missing Authorization header: sign the request with bce-auth-v1 using the "
                      "fake's access key"};
    }
    bce::CanonicalInput input;
    input.method = request.method;
    input.path = percent_decode(request.path());
    input.query = parse_query(request.query());
    for (const auto& header : request.headers)
      input.headers.emplace_back(header.name, header.value);
    const bce::SecretLookup lookup =
        [this](std::string_view access_key) -> std::optional<std::string> {
      if (access_key == credentials.access_key) return credentials.secret_key;
      return std::nullopt;
    };
    const bce::VerifyOptions options{.now = std::chrono::floor<std::chrono::seconds>(now),
                                     .allowed_future_skew = allowed_skew};
    auto verified = bce::verify(input, *authorization, lookup, options);
    if (verified) return check_scope(request, *authorization);
    switch (verified.error().failure) {
      case bce::VerifyFailure::Malformed:
        return ApiError{"InvalidHTTPAuthHeader", verified.error().message};
      case bce::VerifyFailure::UnknownAccessKey:
        return ApiError{"InvalidAccessKeyId", verified.error().message};
      case bce::VerifyFailure::SignatureMismatch:
        return ApiError{"SignatureDoesNotMatch", verified.error().message};
      case bce::VerifyFailure::Expired:
        return ApiError{"RequestExpired", verified.error().message};
    }
    return ApiError{"InvalidHTTPAuthHeader", verified.error().message};
  }

  /// What a valid signature must also satisfy here: a bounded lifetime, and the Host signed
  /// and naming this server.
  std::optional<ApiError> check_scope(const http::Request& request,
                                      std::string_view authorization) const {
    const auto parsed = bce::parse_authorization(authorization);
    if (!parsed) return ApiError{"InvalidHTTPAuthHeader", parsed.error().message};
    if (parsed->expiration_seconds > kMaxSignatureExpiration) {
      return ApiError{"InvalidHTTPAuthHeader",
                      fmt::format("expirationPeriodInSeconds {} is above {}: sign for a shorter "
                                  "period (the SDKs use 1800)",
                                  parsed->expiration_seconds, kMaxSignatureExpiration)};
    }
    std::vector<std::string> accepted;
    {
      std::lock_guard lock(hosts_mu);
      accepted = hosts;
    }
    if (accepted.empty()) return std::nullopt;
    const auto& listed = parsed->signed_headers;
    const bool host_signed =
        listed.empty() || std::any_of(listed.begin(), listed.end(),
                                      [](const auto& name) { return iequals(name, "host"); });
    const auto host = request.header("Host");
    const bool ours = host && std::any_of(accepted.begin(), accepted.end(),
                                          [&](const auto& h) { return iequals(h, *host); });
    if (!host_signed || !ours) {
      return ApiError{"SignatureDoesNotMatch",
                      fmt::format("the request must be signed for this endpoint: sign the Host "
                                  "header with the value {}",
                                  accepted.front())};
    }
    return std::nullopt;
  }

  http::Response handle_api(const http::Request& request, std::string_view route) {
    const SystemTime now = clock.system_now();
    std::string action_name;
    for (const auto& [key, value] : parse_query(request.query())) {
      if (key == "Action") action_name = value;
    }
    const auto action = detail::parse_action(action_name);
    const std::string label = action ? std::string(action_name) : std::string("unknown");

    // Signature checks run without the lock.
    std::optional<ApiError> auth_error;
    if (request.method == "POST") auth_error = authenticate(request, now);

    std::lock_guard lock(mu);
    const std::string request_id = new_request_id();
    const auto fail_with = [&](std::string_view code, const std::string& message) {
      count_api(label, code);
      return error_response(code, message, request_id);
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
      for (const auto a : detail::kAllActions) {
        if (detail::route_of(a) != route) continue;
        if (!supported.empty()) supported += ", ";
        supported += detail::to_string(a);
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
      thread_local simdjson::dom::parser parser;
      const std::string_view text = request.body.find_first_not_of(" \t\r\n") == std::string::npos
                                        ? std::string_view("{}")
                                        : request.body;
      Json root;
      if (const auto error = parser.parse(text.data(), text.size()).get(root);
          error != simdjson::SUCCESS) {
        return fail_with("MalformedJSON", fmt::format("the body is not well-formed JSON: {}",
                                                      simdjson::error_message(error)));
      }
      JsonObject body;
      if (root.get_object().get(body) != simdjson::SUCCESS) {
        return fail_with("InvalidHTTPRequest",
                         fmt::format("the body must be a JSON object, got {}", describe(root)));
      }
      if (fencing && (*action == Action::ScaleService || *action == Action::ModifyService)) {
        std::string_view service;
        if (body["serviceId"].get_string().get(service) != simdjson::SUCCESS) service = "";
        if (auto refused =
                fencing_ledger.check(action_name, service, request.header(kFencingHeader))) {
          return fail_with(refused->code, refused->message);
        }
      }
      auto result = run(*action, body, now);
      if (!result) return fail_with(result.error().code, result.error().message);
      count_api(label, "OK");
      return ok_response(*result, request_id);
    }();
    response.delay = latency;
    return response;
  }

  http::Response handle_traffic(std::string_view service_id) {
    const SystemTime now = clock.system_now();
    std::lock_guard lock(mu);
    auto it = services.find(std::string(service_id));
    if (it == services.end()) {
      return http::json_response(
          404, fmt::format("{{\"error_code\":404,\"error_msg\":{}}}",
                           detail::json_string(fmt::format("no service '{}'", service_id))));
    }
    ServiceState& service = it->second;
    const auto second = epoch_second(now);
    if (service.traffic.empty() || service.traffic.back().second != second) {
      service.traffic.push_back(TrafficBucket{.second = second});
      while (service.traffic.front().second < second - kTrafficRetentionSeconds) {
        service.traffic.pop_front();
      }
    }
    auto& bucket = service.traffic.back();
    const auto capacity = service.capacity_per_second(now);
    if (static_cast<std::int64_t>(bucket.served) < capacity) {
      ++bucket.served;
      ++service.served_total;
      return http::json_response(200, fmt::format("{{\"id\":\"{}-{}\",\"result\":\"ok\"}}",
                                                  service_id, service.served_total));
    }
    ++bucket.rejected;
    ++service.rejected_total;
    auto response = http::json_response(
        429,
        fmt::format("{{\"error_code\":18,\"error_msg\":\"Open api qps request limit reached: "
                    "{} ready replicas x {} qps serve {} requests per second\"}}",
                    service.ready_replicas(now), detail::json_number(service.spec.qps), capacity));
    return response;
  }

  http::Response handle_metrics() {
    const SystemTime now = clock.system_now();
    std::lock_guard lock(mu);
    std::string out;
    const auto family = [&out](std::string_view name, std::string_view type,
                               std::string_view help) {
      out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    };
    family("qfscale_fake_requests_total", "counter",
           "Requests to the traffic endpoint by service and outcome.");
    for (const auto& [id, service] : services) {
      out += fmt::format("qfscale_fake_requests_total{{service=\"{}\",outcome=\"served\"}} {}\n",
                         label_value(id), service.served_total);
      out += fmt::format("qfscale_fake_requests_total{{service=\"{}\",outcome=\"rejected\"}} {}\n",
                         label_value(id), service.rejected_total);
    }
    family("qfscale_fake_replicas", "gauge",
           "Replicas of a service on all instances, ready or starting.");
    for (const auto& [id, service] : services) {
      out += fmt::format("qfscale_fake_replicas{{service=\"{}\"}} {}\n", label_value(id),
                         service.total_replicas());
    }
    family("qfscale_fake_ready_replicas", "gauge", "Replicas of a service that finished starting.");
    for (const auto& [id, service] : services) {
      out += fmt::format("qfscale_fake_ready_replicas{{service=\"{}\"}} {}\n", label_value(id),
                         service.ready_replicas(now));
    }
    family("qfscale_fake_replica_qps", "gauge", "Requests per second one replica serves.");
    for (const auto& [id, service] : services) {
      out += fmt::format("qfscale_fake_replica_qps{{service=\"{}\"}} {}\n", label_value(id),
                         detail::json_number(service.spec.qps));
    }
    family("qfscale_fake_capacity_qps", "gauge",
           "Requests per second the traffic endpoint serves now: ready replicas x qps.");
    for (const auto& [id, service] : services) {
      out += fmt::format("qfscale_fake_capacity_qps{{service=\"{}\"}} {}\n", label_value(id),
                         service.capacity_per_second(now));
    }
    family("qfscale_fake_instance_capacity_compute_units", "gauge",
           "Compute units of a compute-unit instance.");
    for (const auto& [id, instance] : instances) {
      out += fmt::format("qfscale_fake_instance_capacity_compute_units{{compute_unit=\"{}\"}} {}\n",
                         label_value(id), instance.capacity.value);
    }
    family("qfscale_fake_instance_used_compute_units", "gauge",
           "Compute units in use on an instance, foreign usage included.");
    for (const auto& [id, instance] : instances) {
      out += fmt::format("qfscale_fake_instance_used_compute_units{{compute_unit=\"{}\"}} {}\n",
                         label_value(id), used_units(instance, nullptr));
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
  for (const auto& [id, instance] : impl_->instances) {
    lines.push_back(fmt::format("instance {} type {} capacity {} used {}", id, instance.type,
                                instance.capacity.value, impl_->used_units(instance, nullptr)));
  }
  for (const auto& [id, service] : impl_->services) {
    std::string line = fmt::format("service {} type {} replicas", id, service.spec.type);
    if (service.replicas.empty()) line += " none";
    for (const auto& [instance, ready] : service.replicas) {
      line += fmt::format(" {}={}", instance, ready.size());
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
