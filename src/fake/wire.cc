#include "fake/wire.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "qfscale/http/url.h"

namespace qfscale::fake::detail {
namespace {

using util::SystemTime;
using Json = simdjson::dom::element;
using JsonObject = simdjson::dom::object;

constexpr std::int64_t kMaxReplicas = 100'000;
constexpr std::int64_t kAppId = 1;
constexpr std::size_t kMaxStringField = 128;

tl::unexpected<ApiError> api_fail(std::string_view code, std::string message) {
  return tl::unexpected<ApiError>(ApiError{std::string(code), std::move(message)});
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

tl::unexpected<ApiError> refused(const Refusal& refusal) {
  return tl::unexpected(to_api_error(refusal));
}

std::string service_json(const ServiceStatus& service) {
  const auto& spec = service.spec;
  std::string out = "{\"serviceId\":";
  append_json_string(out, spec.id.value);
  const auto field = [&out](std::string_view key, std::string_view value) {
    out += ",\"";
    out += key;
    out += "\":";
    append_json_string(out, value);
  };
  field("baseModel", spec.base_model);
  field("modelSetId", spec.model_set_id);
  field("modelId", spec.model_id);
  field("name", spec.name);
  field("description", fmt::format("{} (qfscale fake)", spec.name));
  field("url", spec.url);
  field("serviceType", spec.service_type);
  field("runStatus", model::to_string(service.run_status));
  field("chargeType", "ComputingUnit");
  field("payType", "Postpay");
  field("chargeStatus", "NORMAL");
  out += ",\"resourceConfig\":{\"region\":";
  append_json_string(out, spec.region);
  out += ",\"type\":";
  append_json_string(out, spec.type);
  out += fmt::format(",\"replicasCount\":{},\"qps\":{}}}", service.replicas.value,
                     json_number(spec.qps));
  out += fmt::format(",\"isModelUpdating\":{}", service.model_updating ? "true" : "false");
  field("creator", "qfscale-fake");
  field("createTime",
        bce::format_timestamp(std::chrono::floor<std::chrono::seconds>(service.created)));
  out += '}';
  return out;
}

// ---- actions ---------------------------------------------------------------------------------

Outcome<std::string> describe_service(const JsonObject& body, const Cloud& cloud, SystemTime now) {
  auto id = required_string(body, "serviceId");
  if (!id) return tl::unexpected(id.error());
  auto service = cloud.service(*id, now);
  if (!service) return refused(service.error());
  return service_json(*service);
}

Outcome<std::string> describe_services(const JsonObject& body, const Cloud& cloud, SystemTime now) {
  auto marker = optional_string(body, "marker");
  if (!marker) return tl::unexpected(marker.error());
  auto name = optional_string(body, "name");
  if (!name) return tl::unexpected(name.error());
  auto statuses = optional_string_list(body, "runStatus");
  if (!statuses) return tl::unexpected(statuses.error());
  auto types = optional_string_list(body, "serviceType");
  if (!types) return tl::unexpected(types.error());
  ServiceQuery query{.marker = marker->value_or(""),
                     .name = name->value_or(""),
                     .service_type = std::move(*types)};
  if (auto v = find_field(body, "maxKeys"); v && !v->is_null()) {
    auto n = read_integer(*v, "maxKeys");
    if (!n) return tl::unexpected(n.error());
    if (*n < 1 || *n > 100) {
      return api_fail("InappropriateJSON",
                      fmt::format("field 'maxKeys' must be between 1 and 100, got {}", *n));
    }
    query.max_keys = static_cast<int>(*n);
  }
  if (auto v = find_field(body, "pageReverse"); v && !v->is_null()) {
    if (v->get_bool().get(query.reverse) != simdjson::SUCCESS) {
      return api_fail(
          "InappropriateJSON",
          fmt::format("field 'pageReverse' must be true or false, got {}", describe(*v)));
    }
  }
  for (const auto& status : *statuses) {
    const auto parsed = model::parse_run_status(status);
    if (parsed == model::RunStatus::Unknown) {
      return api_fail("InappropriateJSON",
                      fmt::format("field 'runStatus' holds an unknown status '{}'; allowed: "
                                  "New, Deploying, Serving, Failed, Stopped, Done",
                                  status));
    }
    query.run_status.push_back(parsed);
  }

  const auto page = cloud.services(query, now);
  std::string out = "{\"marker\":";
  append_json_string(out, query.marker);
  const bool truncated = !page.next_marker.empty();
  out += fmt::format(",\"maxKeys\":{},\"isTruncated\":{}", query.max_keys,
                     truncated ? "true" : "false");
  if (truncated) {
    out += ",\"nextMarker\":";
    append_json_string(out, page.next_marker);
  }
  out += ",\"serviceList\":[";
  for (std::size_t i = 0; i < page.services.size(); ++i) {
    if (i > 0) out += ',';
    out += service_json(page.services[i]);
  }
  out += "]}";
  return out;
}

Outcome<std::string> scale_service(const JsonObject& body, Cloud& cloud, SystemTime now) {
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
  auto scaled =
      cloud.scale(*service_id, *instance_id, model::Replicas{static_cast<int>(*count)}, now);
  if (!scaled) return refused(scaled.error());
  return std::string("true");
}

Outcome<std::string> modify_service(const JsonObject& body, Cloud& cloud, SystemTime now) {
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
  auto update = cloud.modify(*service_id, std::move(*model_set_id), std::move(*model_id), now);
  if (!update) return refused(update.error());
  return std::string("true");
}

Outcome<std::string> describe_compute_unit(const JsonObject& body, const Cloud& cloud) {
  auto instance_id = required_string(body, "instanceId");
  if (!instance_id) return tl::unexpected(instance_id.error());
  auto instance = cloud.instance(*instance_id);
  if (!instance) return refused(instance.error());
  const auto& spec = instance->spec;
  std::string out = "{\"computeUnitInstance\":{\"instanceId\":";
  append_json_string(out, spec.id.value);
  out += ",\"region\":";
  append_json_string(out, spec.region);
  out += ",\"type\":";
  append_json_string(out, spec.type);
  out += ",\"status\":";
  append_json_string(out, spec.status);
  out += fmt::format(",\"computeUnitCount\":{},\"availableComputeUnitCount\":{}}}",
                     spec.capacity.value, instance->available().value);
  out += ",\"serviceUsageList\":[";
  for (std::size_t i = 0; i < instance->usage.size(); ++i) {
    const auto& usage = instance->usage[i];
    if (i > 0) out += ',';
    out += "{\"serviceId\":";
    append_json_string(out, usage.service.value);
    out += fmt::format(",\"deploymentReplicasCount\":{},\"computeUnitCount\":{}}}",
                       usage.replicas.value, usage.units.value);
  }
  out += "]}";
  return out;
}

Outcome<std::vector<std::string>> metric_service_ids(const JsonObject& body) {
  if (auto v = find_field(body, "serviceIds"); v && !v->is_null()) {
    return optional_string_list(body, "serviceIds");
  }
  auto single = find_field(body, "serviceId");
  if (!single || single->is_null()) return std::vector<std::string>{};
  if (!single->is_string()) return optional_string_list(body, "serviceId");
  auto id = read_string(*single, "serviceId");
  if (!id) return tl::unexpected(id.error());
  return std::vector<std::string>{std::move(*id)};
}

Outcome<std::string> describe_service_metric(const JsonObject& body, const Cloud& cloud) {
  auto ids = metric_service_ids(body);
  if (!ids) return tl::unexpected(ids.error());
  if (ids->empty()) {
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
  for (const auto& id : *ids) {
    const auto counts = cloud.calls(id, bounds[0], bounds[1]);
    if (!counts) return refused(counts.error());
    if (!list.empty()) list += ',';
    list += "{\"serviceId\":";
    append_json_string(list, id);
    list += ",\"serviceName\":";
    append_json_string(list, cloud.service(id, SystemTime{})->spec.name);
    list += fmt::format(
        ",\"appList\":[{{\"appId\":{},\"metric\":{{\"inputTokensTotal\":0,\"outputTokensTotal\":"
        "0,"
        "\"tokensTotal\":0,\"succeedCallTotal\":{},\"failureCallTotal\":{},\"callTotal\":{}}}}}]}"
        "}",
        kAppId, counts->served, counts->rejected, counts->served + counts->rejected);
  }
  std::string out = "{\"startTime\":";
  append_json_string(out, texts[0]);
  out += ",\"endTime\":";
  append_json_string(out, texts[1]);
  out += ",\"serviceList\":[";
  out += list;
  out += "]}";
  return out;
}

}  // namespace

ApiError to_api_error(const Refusal& refusal) {
  return ApiError{std::string(error_code(refusal.kind)), to_message(refusal)};
}

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

Outcome<std::string> run_action(Action action, std::string_view body_text, Cloud& cloud,
                                SystemTime now, const BodyGate& gate) {
  thread_local simdjson::dom::parser parser;
  const std::string_view text = body_text.find_first_not_of(" \t\r\n") == std::string_view::npos
                                    ? std::string_view("{}")
                                    : body_text;
  Json root;
  if (const auto error = parser.parse(text.data(), text.size()).get(root);
      error != simdjson::SUCCESS) {
    return api_fail("MalformedJSON", fmt::format("the body is not well-formed JSON: {}",
                                                 simdjson::error_message(error)));
  }
  JsonObject body;
  if (root.get_object().get(body) != simdjson::SUCCESS) {
    return api_fail("InvalidHTTPRequest",
                    fmt::format("the body must be a JSON object, got {}", describe(root)));
  }
  if (gate) {
    std::string_view service;
    if (body["serviceId"].get_string().get(service) != simdjson::SUCCESS) service = "";
    if (auto stop = gate(service)) return tl::unexpected(std::move(*stop));
  }
  switch (action) {
    case Action::DescribeService:
      return describe_service(body, cloud, now);
    case Action::DescribeServices:
      return describe_services(body, cloud, now);
    case Action::ScaleService:
      return scale_service(body, cloud, now);
    case Action::ModifyService:
      return modify_service(body, cloud, now);
    case Action::DescribeServiceMetric:
      return describe_service_metric(body, cloud);
    case Action::DescribeComputeUnit:
      return describe_compute_unit(body, cloud);
  }
  return api_fail("InternalError", "unhandled action");
}

http::Response error_response(std::string_view code, const std::string& message,
                              const std::string& request_id) {
  const auto* kind = find_error_kind(code);
  const int status = kind != nullptr ? kind->status : 500;
  std::string body = "{\"requestId\":";
  append_json_string(body, request_id);
  body += ",\"code\":";
  append_json_string(body, code);
  body += ",\"message\":";
  append_json_string(body, message);
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

http::Response ok_response(const std::string& result, const std::string& request_id) {
  std::string body = "{\"requestId\":";
  append_json_string(body, request_id);
  body += ",\"result\":";
  body += result;
  body += '}';
  auto response = http::json_response(200, std::move(body));
  response.headers.push_back({"x-bce-request-id", request_id});
  return response;
}

http::Response traffic_response(std::string_view service_id,
                                const CloudResult<TrafficOutcome>& outcome) {
  if (!outcome) {
    return http::json_response(
        404, fmt::format("{{\"error_code\":404,\"error_msg\":{}}}",
                         json_string(fmt::format("no service '{}'", service_id))));
  }
  if (outcome->served) {
    return http::json_response(200, fmt::format("{{\"id\":\"{}-{}\",\"result\":\"ok\"}}",
                                                service_id, outcome->served_total));
  }
  return http::json_response(
      429, fmt::format("{{\"error_code\":18,\"error_msg\":\"Open api qps request limit reached: "
                       "{} ready replicas x {} qps serve {} requests per second\"}}",
                       outcome->ready.value, json_number(outcome->replica_qps),
                       outcome->capacity_per_second));
}

}  // namespace qfscale::fake::detail
