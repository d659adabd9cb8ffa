#include "qianfan/decode.h"

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <simdjson.h>

#include "qfscale/qianfan/errors.h"

#include "qianfan/util.h"
#include "util/simdjson_names.h"

namespace qfscale::qianfan::detail {
namespace {

namespace dom = simdjson::dom;

// Propagates the error of a Status/Result expression. The variable name is unique per use so
// nested uses (inside lambdas passed to an outer use) do not shadow each other.
#define QFS_QIANFAN_CAT2(a, b) a##b
#define QFS_QIANFAN_CAT(a, b) QFS_QIANFAN_CAT2(a, b)
#define QFS_QIANFAN_TRY(expr) QFS_QIANFAN_TRY_IMPL(expr, QFS_QIANFAN_CAT(qfs_status_, __COUNTER__))
#define QFS_QIANFAN_TRY_IMPL(expr, var)                     \
  do {                                                      \
    if (auto var = (expr); !var) {                          \
      return tl::unexpected<Error>(std::move(var).error()); \
    }                                                       \
  } while (false)

enum class Need { Required, Optional };

using util::detail::json_type_name;

std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

// What is being decoded, for error messages: "malformed DescribeService reply: <path>: <what>".
struct Reply {
  std::string_view action;
  int http_status = 0;
  std::string request_id;

  [[nodiscard]] Error malformed(std::string_view path, std::string_view what) const {
    Error e = util::make_error(ErrorCode::Remote,
                               path.empty()
                                   ? fmt::format("malformed {} reply: {}", action, what)
                                   : fmt::format("malformed {} reply: {}: {}", action, path, what));
    e.request_id = request_id;
    e.http_status = http_status;
    return e;
  }
};

// An object with its field path ("result.resourceConfig").
struct Obj {
  dom::object object;
  std::string path;
  [[nodiscard]] std::string at(std::string_view key) const {
    return fmt::format("{}.{}", path, key);
  }
};

// The element under `key`, or empty when absent or null and optional. Keys match exactly; when a
// required key is missing but a key differing only by surrounding whitespace exists, the message
// says so (one documentation example has such a key).
Result<std::optional<dom::element>> field(const Reply& reply, const Obj& o, std::string_view key,
                                          Need need) {
  dom::element value;
  if (o.object.at_key(key).get(value) == simdjson::SUCCESS) {
    if (value.type() != dom::element_type::NULL_VALUE) return value;
    if (need == Need::Optional) return std::nullopt;
    return fail(reply.malformed(o.at(key), "required field is null"));
  }
  if (need == Need::Optional) return std::nullopt;
  for (const auto kv : o.object) {
    if (kv.key != key && trim(kv.key) == key) {
      return fail(reply.malformed(
          o.at(key), fmt::format("required field is missing (a key \"{}\" with stray whitespace is "
                                 "present; keys must match exactly)",
                                 kv.key)));
    }
  }
  return fail(reply.malformed(o.at(key), "required field is missing"));
}

Error wrong_type(const Reply& reply, const Obj& o, std::string_view key, std::string_view want,
                 dom::element got) {
  return reply.malformed(o.at(key),
                         fmt::format("expected {}, got {}", want, json_type_name(got.type())));
}

Status read_string(const Reply& reply, const Obj& o, std::string_view key, Need need,
                   std::string& out) {
  auto value = field(reply, o, key, need);
  if (!value) return fail(std::move(value).error());
  if (!*value) return util::ok();
  std::string_view text;
  if ((*value)->get_string().get(text) != simdjson::SUCCESS) {
    return fail(wrong_type(reply, o, key, "a string", **value));
  }
  out = std::string(text);
  return util::ok();
}

// A required, non-empty string (ids).
Status read_id(const Reply& reply, const Obj& o, std::string_view key, std::string& out) {
  QFS_QIANFAN_TRY(read_string(reply, o, key, Need::Required, out));
  if (out.empty()) return fail(reply.malformed(o.at(key), "must not be empty"));
  return util::ok();
}

Status read_int64(const Reply& reply, const Obj& o, std::string_view key, Need need,
                  std::int64_t& out) {
  auto value = field(reply, o, key, need);
  if (!value) return fail(std::move(value).error());
  if (!*value) return util::ok();
  std::int64_t number = 0;
  if ((*value)->get_int64().get(number) != simdjson::SUCCESS) {
    return fail(wrong_type(reply, o, key, "an integer", **value));
  }
  if (number < 0) {
    return fail(reply.malformed(o.at(key), fmt::format("must not be negative, got {}", number)));
  }
  out = number;
  return util::ok();
}

// A non-negative count that fits an int (replicas, compute units).
Status read_count(const Reply& reply, const Obj& o, std::string_view key, Need need, int& out) {
  std::int64_t number = out;
  QFS_QIANFAN_TRY(read_int64(reply, o, key, need, number));
  if (number > std::numeric_limits<int>::max()) {
    return fail(reply.malformed(o.at(key), fmt::format("{} is out of range", number)));
  }
  out = static_cast<int>(number);
  return util::ok();
}

Status read_number(const Reply& reply, const Obj& o, std::string_view key, Need need, double& out) {
  auto value = field(reply, o, key, need);
  if (!value) return fail(std::move(value).error());
  if (!*value) return util::ok();
  double number = 0;
  if ((*value)->get_double().get(number) != simdjson::SUCCESS) {
    return fail(wrong_type(reply, o, key, "a number", **value));
  }
  if (!std::isfinite(number) || number < 0) {
    return fail(
        reply.malformed(o.at(key), fmt::format("must be a non-negative number, got {}", number)));
  }
  out = number;
  return util::ok();
}

Status read_bool(const Reply& reply, const Obj& o, std::string_view key, Need need, bool& out) {
  auto value = field(reply, o, key, need);
  if (!value) return fail(std::move(value).error());
  if (!*value) return util::ok();
  if ((*value)->get_bool().get(out) != simdjson::SUCCESS) {
    return fail(wrong_type(reply, o, key, "true or false", **value));
  }
  return util::ok();
}

Result<std::optional<Obj>> read_object(const Reply& reply, const Obj& o, std::string_view key,
                                       Need need) {
  auto value = field(reply, o, key, need);
  if (!value) return fail(std::move(value).error());
  if (!*value) return std::nullopt;
  Obj child{.path = o.at(key)};
  if ((*value)->get_object().get(child.object) != simdjson::SUCCESS) {
    return fail(wrong_type(reply, o, key, "an object", **value));
  }
  return child;
}

// Calls `each(Obj)` for every element of the array under `key`; every element must be an object.
template <class F>
Status for_each_object(const Reply& reply, const Obj& o, std::string_view key, Need need,
                       F&& each) {
  auto value = field(reply, o, key, need);
  if (!value) return fail(std::move(value).error());
  if (!*value) return util::ok();
  dom::array array;
  if ((*value)->get_array().get(array) != simdjson::SUCCESS) {
    return fail(wrong_type(reply, o, key, "an array", **value));
  }
  std::size_t index = 0;
  for (const dom::element item : array) {
    Obj child{.path = fmt::format("{}[{}]", o.at(key), index)};
    if (item.get_object().get(child.object) != simdjson::SUCCESS) {
      return fail(reply.malformed(
          child.path, fmt::format("expected an object, got {}", json_type_name(item.type()))));
    }
    QFS_QIANFAN_TRY(each(child));
    ++index;
  }
  return util::ok();
}

std::string request_id_header(const http::Response& response) {
  const auto id = detail::header_value(response.headers, "x-bce-request-id");
  return id ? std::string(*id) : std::string();
}

// Checks the error envelope, parses the body and hands `result` to `decode(reply, element)`.
template <class T, class F>
Result<T> decode_envelope(const http::Response& response, std::string_view action,
                          util::SystemTime now, F&& decode) {
  if (auto error = error_from_reply(response, action, now)) return fail(std::move(*error));
  Reply reply{
      .action = action, .http_status = response.status, .request_id = request_id_header(response)};
  dom::parser parser;
  dom::element document;
  if (const auto ec = parser.parse(response.body).get(document); ec != simdjson::SUCCESS) {
    std::string what = fmt::format("the body is not valid JSON ({})", simdjson::error_message(ec));
    const std::string_view body = response.body;
    if (body.find("True") != std::string_view::npos ||
        body.find("False") != std::string_view::npos ||
        body.find("None") != std::string_view::npos) {
      what +=
          "; it seems to contain Python literals True/False/None, which JSON spells "
          "true/false/null";
    }
    return fail(reply.malformed("", what));
  }
  Obj root{.path = ""};
  if (document.get_object().get(root.object) != simdjson::SUCCESS) {
    return fail(reply.malformed(
        "", fmt::format("expected a JSON object, got {}", json_type_name(document.type()))));
  }
  std::string request_id;
  QFS_QIANFAN_TRY(read_string(reply, root, "requestId", Need::Optional, request_id));
  if (!request_id.empty()) reply.request_id = std::move(request_id);
  root.path = "";  // children print as "result.x"
  dom::element result;
  if (root.object.at_key("result").get(result) != simdjson::SUCCESS) {
    return fail(reply.malformed("result", "required field is missing"));
  }
  return decode(reply, result);
}

Result<Obj> result_object(const Reply& reply, dom::element result) {
  Obj o{.path = "result"};
  if (result.get_object().get(o.object) != simdjson::SUCCESS) {
    return fail(reply.malformed(
        "result", fmt::format("expected an object, got {}", json_type_name(result.type()))));
  }
  return o;
}

// One service object. `detail` (DescribeService) requires runStatus and resourceConfig; list
// entries require only serviceId.
Result<ServiceInfo> decode_service(const Reply& reply, const Obj& o, bool detail) {
  ServiceInfo s;
  const Need need = detail ? Need::Required : Need::Optional;
  QFS_QIANFAN_TRY(read_id(reply, o, "serviceId", s.service_id.value));
  QFS_QIANFAN_TRY(read_string(reply, o, "baseModel", Need::Optional, s.base_model));
  QFS_QIANFAN_TRY(read_string(reply, o, "modelSetId", Need::Optional, s.model_set_id));
  QFS_QIANFAN_TRY(read_string(reply, o, "modelId", Need::Optional, s.model_id));
  QFS_QIANFAN_TRY(read_string(reply, o, "name", Need::Optional, s.name));
  QFS_QIANFAN_TRY(read_string(reply, o, "description", Need::Optional, s.description));
  QFS_QIANFAN_TRY(read_string(reply, o, "url", Need::Optional, s.url));
  QFS_QIANFAN_TRY(read_string(reply, o, "serviceType", Need::Optional, s.service_type));
  QFS_QIANFAN_TRY(read_string(reply, o, "runStatus", need, s.run_status_text));
  s.run_status = model::parse_run_status(s.run_status_text);
  QFS_QIANFAN_TRY(read_string(reply, o, "chargeType", Need::Optional, s.charge_type));
  QFS_QIANFAN_TRY(read_string(reply, o, "payType", Need::Optional, s.pay_type));
  QFS_QIANFAN_TRY(read_string(reply, o, "chargeStatus", Need::Optional, s.charge_status));
  QFS_QIANFAN_TRY(read_bool(reply, o, "isModelUpdating", Need::Optional, s.is_model_updating));
  QFS_QIANFAN_TRY(read_string(reply, o, "creator", Need::Optional, s.creator));
  QFS_QIANFAN_TRY(read_string(reply, o, "createTime", Need::Optional, s.create_time));
  auto rc = read_object(reply, o, "resourceConfig", need);
  if (!rc) return fail(std::move(rc).error());
  if (*rc) {
    const Obj& r = **rc;
    ResourceConfig& c = s.resource_config;
    QFS_QIANFAN_TRY(read_string(reply, r, "region", Need::Optional, c.region));
    QFS_QIANFAN_TRY(read_string(reply, r, "type", Need::Required, c.type));
    QFS_QIANFAN_TRY(read_count(reply, r, "replicasCount", Need::Required, c.replicas.value));
    QFS_QIANFAN_TRY(read_number(reply, r, "qps", Need::Required, c.qps));
  }
  return s;
}

}  // namespace

Result<ServiceInfo> decode_describe_service(const http::Response& response, util::SystemTime now) {
  return decode_envelope<ServiceInfo>(
      response, "DescribeService", now,
      [](const Reply& reply, dom::element result) -> Result<ServiceInfo> {
        auto o = result_object(reply, result);
        if (!o) return fail(std::move(o).error());
        return decode_service(reply, *o, /*detail=*/true);
      });
}

Result<ServicePage> decode_describe_services(const http::Response& response, util::SystemTime now) {
  return decode_envelope<ServicePage>(
      response, "DescribeServices", now,
      [](const Reply& reply, dom::element result) -> Result<ServicePage> {
        auto o = result_object(reply, result);
        if (!o) return fail(std::move(o).error());
        ServicePage page;
        QFS_QIANFAN_TRY(for_each_object(reply, *o, "serviceList", Need::Required,
                                        [&](const Obj& entry) -> Status {
                                          auto s = decode_service(reply, entry, false);
                                          if (!s) return fail(std::move(s).error());
                                          page.services.push_back(std::move(*s));
                                          return util::ok();
                                        }));
        QFS_QIANFAN_TRY(read_bool(reply, *o, "isTruncated", Need::Optional, page.is_truncated));
        QFS_QIANFAN_TRY(read_string(reply, *o, "nextMarker", Need::Optional, page.next_marker));
        if (page.is_truncated && page.next_marker.empty()) {
          return fail(reply.malformed(
              "result.nextMarker", "isTruncated is true but there is no marker for the next page"));
        }
        if (!page.is_truncated) page.next_marker.clear();
        return Result<ServicePage>(std::move(page));
      });
}

Result<Ack> decode_ack(const http::Response& response, std::string_view action,
                       util::SystemTime now) {
  return decode_envelope<Ack>(
      response, action, now, [](const Reply& reply, dom::element result) -> Result<Ack> {
        bool value = false;
        if (result.get_bool().get(value) != simdjson::SUCCESS) {
          return fail(reply.malformed(
              "result", fmt::format("expected true, got {}", json_type_name(result.type()))));
        }
        if (!value) {
          Error e = util::make_error(
              ErrorCode::Remote,
              fmt::format("{} was not applied: the reply says result=false", reply.action));
          e.request_id = reply.request_id;
          e.http_status = reply.http_status;
          return fail(std::move(e));
        }
        return Result<Ack>(Ack{.request_id = reply.request_id});
      });
}

Result<ComputeUnitInfo> decode_describe_compute_unit(const http::Response& response,
                                                     util::SystemTime now) {
  return decode_envelope<ComputeUnitInfo>(
      response, "DescribeComputeUnit", now,
      [](const Reply& reply, dom::element result) -> Result<ComputeUnitInfo> {
        auto o = result_object(reply, result);
        if (!o) return fail(std::move(o).error());
        ComputeUnitInfo info;
        auto inst = read_object(reply, *o, "computeUnitInstance", Need::Required);
        if (!inst) return fail(std::move(inst).error());
        const Obj& i = **inst;
        ComputeUnitInstance& ci = info.instance;
        QFS_QIANFAN_TRY(read_id(reply, i, "instanceId", ci.instance_id.value));
        QFS_QIANFAN_TRY(read_string(reply, i, "region", Need::Optional, ci.region));
        QFS_QIANFAN_TRY(read_string(reply, i, "type", Need::Optional, ci.type));
        QFS_QIANFAN_TRY(read_string(reply, i, "status", Need::Optional, ci.status));
        QFS_QIANFAN_TRY(
            read_count(reply, i, "computeUnitCount", Need::Required, ci.compute_unit_count.value));
        int available = -1;  // stays -1 when absent (a count is never negative)
        QFS_QIANFAN_TRY(
            read_count(reply, i, "availableComputeUnitCount", Need::Optional, available));
        if (available >= 0) ci.available_compute_unit_count = model::ComputeUnits{available};
        QFS_QIANFAN_TRY(for_each_object(
            reply, *o, "serviceUsageList", Need::Optional, [&](const Obj& u) -> Status {
              ServiceUsage usage;
              QFS_QIANFAN_TRY(read_id(reply, u, "serviceId", usage.service_id.value));
              QFS_QIANFAN_TRY(read_count(reply, u, "deploymentReplicasCount", Need::Required,
                                         usage.deployment_replicas_count.value));
              QFS_QIANFAN_TRY(read_count(reply, u, "computeUnitCount", Need::Required,
                                         usage.compute_unit_count.value));
              info.usage.push_back(std::move(usage));
              return util::ok();
            }));
        return Result<ComputeUnitInfo>(std::move(info));
      });
}

Result<ServiceMetrics> decode_describe_service_metric(const http::Response& response,
                                                      util::SystemTime now) {
  return decode_envelope<ServiceMetrics>(
      response, "DescribeServiceMetric", now,
      [](const Reply& reply, dom::element result) -> Result<ServiceMetrics> {
        auto o = result_object(reply, result);
        if (!o) return fail(std::move(o).error());
        ServiceMetrics metrics;
        QFS_QIANFAN_TRY(read_string(reply, *o, "startTime", Need::Optional, metrics.start_time));
        QFS_QIANFAN_TRY(read_string(reply, *o, "endTime", Need::Optional, metrics.end_time));
        QFS_QIANFAN_TRY(
            for_each_object(reply, *o, "serviceList", Need::Required, [&](const Obj& s) -> Status {
              ServiceMetric sm;
              QFS_QIANFAN_TRY(read_id(reply, s, "serviceId", sm.service_id.value));
              QFS_QIANFAN_TRY(
                  read_string(reply, s, "serviceName", Need::Optional, sm.service_name));
              QFS_QIANFAN_TRY(
                  for_each_object(reply, s, "appList", Need::Optional, [&](const Obj& a) -> Status {
                    AppMetric app;
                    QFS_QIANFAN_TRY(read_int64(reply, a, "appId", Need::Required, app.app_id));
                    auto m = read_object(reply, a, "metric", Need::Required);
                    if (!m) return fail(std::move(m).error());
                    const Obj& mo = **m;
                    CallMetric& cm = app.metric;
                    QFS_QIANFAN_TRY(read_int64(reply, mo, "inputTokensTotal", Need::Required,
                                               cm.input_tokens_total));
                    QFS_QIANFAN_TRY(read_int64(reply, mo, "outputTokensTotal", Need::Required,
                                               cm.output_tokens_total));
                    QFS_QIANFAN_TRY(
                        read_int64(reply, mo, "tokensTotal", Need::Required, cm.tokens_total));
                    QFS_QIANFAN_TRY(read_int64(reply, mo, "succeedCallTotal", Need::Required,
                                               cm.succeed_call_total));
                    QFS_QIANFAN_TRY(read_int64(reply, mo, "failureCallTotal", Need::Required,
                                               cm.failure_call_total));
                    QFS_QIANFAN_TRY(
                        read_int64(reply, mo, "callTotal", Need::Required, cm.call_total));
                    sm.apps.push_back(app);
                    return util::ok();
                  }));
              metrics.services.push_back(std::move(sm));
              return util::ok();
            }));
        return Result<ServiceMetrics>(std::move(metrics));
      });
}

}  // namespace qfscale::qianfan::detail
