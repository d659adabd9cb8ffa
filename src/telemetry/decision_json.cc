// decision_to_json: one decision record as JSON, shared by /api/v1/decisions and the audit log.

#include "qfscale/telemetry/decision_json.h"

#include <chrono>
#include <string>

#include <fmt/format.h>

#include "qfscale/model/decision.h"
#include "qfscale/util/time_text.h"

namespace qfscale::telemetry {

void write_call_fields(util::JsonWriter& w, const model::ScaleCall& call) {
  w.key("instanceId").string(call.instance.value);
  w.key("from").integer(call.from.value);
  w.key("to").integer(call.to.value);
  w.key("outcome").string(model::to_string(call.outcome));
  w.key("requestId").string(call.request_id);
  w.key("error").string(call.error);
}

void write_decision(util::JsonWriter& w, const model::Decision& d) {
  w.begin_object();
  w.key("service").string(d.service.value);
  w.key("at").string(util::format_rfc3339(d.at));

  w.key("inputs").begin_object();
  w.key("qps");
  if (d.qps) {
    w.number(*d.qps);
  } else {
    w.null();
  }
  w.key("replicaQps").number(d.replica_qps);
  w.key("current").integer(d.current.value);
  w.end_object();

  w.key("steps").begin_array();
  for (const auto& s : d.steps) {
    w.begin_object();
    w.key("stage").string(model::to_string(s.stage));
    w.key("output").integer(s.output.value);
    w.key("changed").boolean(s.changed);
    w.key("reason").string(model::to_string(s.reason));
    w.key("detail").string(s.detail);
    w.end_object();
  }
  w.end_array();
  w.key("recommended").integer(d.recommended.value);
  w.key("reason").string(model::to_string(d.reason));

  w.key("allocation").begin_object();
  w.key("desired").integer(d.granted.value);
  w.key("unmet").integer(d.unmet.value);
  w.end_object();

  w.key("calls").begin_array();
  for (const auto& c : d.calls) {
    w.begin_object();
    write_call_fields(w, c);
    w.end_object();
  }
  w.end_array();
  w.key("outcome").string(model::to_string(d.outcome));
  w.key("errors").begin_array();
  for (const auto& e : d.errors) w.string(e);
  w.end_array();
  w.end_object();
}

std::string decision_to_json(const model::Decision& decision) {
  util::JsonWriter w;
  write_decision(w, decision);
  return w.take();
}

}  // namespace qfscale::telemetry
