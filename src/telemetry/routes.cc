// qfscale's own endpoints on the http::Router: /metrics, /healthz, /readyz and the decisions API.

#include <algorithm>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "qfscale/http/message.h"
#include "qfscale/http/server.h"
#include "qfscale/telemetry/exporter.h"

#include "telemetry/json.h"

namespace qfscale::telemetry {

namespace {

constexpr std::string_view kDecisionsPath = "/api/v1/decisions";

http::Response json_error(int status, std::string_view code, std::string_view message) {
  detail::JsonWriter w;
  w.begin_object().key("error").begin_object();
  w.key("code").string(code).key("message").string(message);
  w.end_object().end_object();
  return http::json_response(status, w.take());
}

}  // namespace

void add_routes(http::Router& router, const Exporter& exporter) {
  const Exporter* e = &exporter;
  router.add("GET", "/metrics", [e](const http::Request&) {
    http::Response res;
    res.headers.push_back({"Content-Type", std::string(kMetricsContentType)});
    res.body = e->render_metrics();
    return res;
  });
  router.add("GET", "/healthz",
             [](const http::Request&) { return http::text_response(200, "ok\n"); });
  router.add("GET", "/readyz", [e](const http::Request&) {
    const Readiness r = e->readiness();
    std::string body = r.message + "\n";
    if (!r.errors.empty()) {
      body += fmt::format("the last tick had {} error{}:\n", r.errors.size(),
                          r.errors.size() == 1 ? "" : "s");
    }
    // A bounded body however many services fail.
    constexpr std::size_t kMaxLines = 20;
    for (std::size_t i = 0; i < r.errors.size() && i < kMaxLines; ++i) {
      const auto& error = r.errors[i];
      body +=
          fmt::format("{} {}: {}\n", to_string(error.stage), to_string(error.code), error.message);
    }
    if (r.errors.size() > kMaxLines) {
      body += fmt::format("... and {} more\n", r.errors.size() - kMaxLines);
    }
    return http::text_response(r.ready ? 200 : 503, body);
  });
  router.add("GET", "/api/v1/status", [e](const http::Request&) {
    const Leadership l = e->leadership();
    detail::JsonWriter w;
    w.begin_object();
    w.key("role").string(l.leader ? "leader" : "follower");
    w.key("fencing_token");
    if (l.fencing_token > 0) {
      w.integer(l.fencing_token);
    } else {
      w.null();
    }
    w.key("coordination").string(l.coordinated ? "etcd" : "none");
    w.key("lease_remaining_seconds").number(std::max(l.lease_remaining_seconds, 0.0));
    w.key("member").string(l.member);
    w.key("last_error").string(l.last_error);
    w.key("shards").integer(l.shards);
    w.key("members").integer(l.members);
    w.key("owned_shards").integer(l.owned_shards);
    w.key("owned_services").integer(l.owned_services);
    w.key("disagreeing_members").begin_array();
    for (const auto& d : l.disagreeing) w.string(d);
    w.end_array();
    w.end_object();
    return http::json_response(200, w.take());
  });
  router.add("GET", std::string(kDecisionsPath), [e](const http::Request&) {
    detail::JsonWriter w;
    w.begin_object().key("decisions").begin_array();
    for (const auto& d : e->last_decisions()) write_decision(w, d);
    w.end_array().end_object();
    return http::json_response(200, w.take());
  });
  router.add("GET", std::string(kDecisionsPath) + "/*", [e](const http::Request& req) {
    const std::string_view id = req.path().substr(kDecisionsPath.size() + 1);
    if (id.empty() || id.find('/') != std::string_view::npos) {
      return json_error(404, "not_found", "expected /api/v1/decisions/{service}");
    }
    const auto decision = e->last_decision(model::ServiceId{id});
    if (!decision) {
      return json_error(404, "not_found",
                        "no decision for service \"" + std::string(id) + "\" (unknown service?)");
    }
    return http::json_response(200, decision_to_json(*decision));
  });
}

}  // namespace qfscale::telemetry
