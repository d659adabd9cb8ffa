// `to_yaml(Config)`: the effective config in the file schema, for `qfscale config check --show`.

#include <string>

#include <fmt/format.h>

#include "qfscale/controller/config.h"
#include "qfscale/demand/promql_span.h"
#include "qfscale/policy/duration.h"
#include "qfscale/util/json_string.h"
#include "qfscale/util/redact.h"

namespace qfscale::controller {

namespace {

std::string duration(std::chrono::milliseconds d) {
  return policy::format_duration(std::chrono::duration_cast<std::chrono::seconds>(d));
}

std::string bytes(std::uint64_t b) {
  for (const auto& [suffix, shift] :
       {std::pair<std::string_view, unsigned>{"Gi", 30}, {"Mi", 20}, {"Ki", 10}}) {
    if (b != 0 && b % (1ULL << shift) == 0) return fmt::format("{}{}", b >> shift, suffix);
  }
  return std::to_string(b);
}

/// `key: value` when set, else a comment saying what applies instead.
std::string path_line(std::string_view indent, std::string_view key, const std::string& value,
                      std::string_view unset) {
  if (value.empty()) return fmt::format("{}# {}: not set: {}\n", indent, key, unset);
  return fmt::format("{}{}: {}\n", indent, key, util::json_string(value));
}

std::string metrics_yaml(const MetricSourceConfig& m) {
  std::string out = "metrics:\n";
  switch (m.kind) {
    case MetricSourceKind::Prometheus: {
      const auto& p = m.prometheus;
      // The password of a user:password@ URL is shown as ***: --show output is shared.
      out += fmt::format("  prometheus:\n    url: {}\n",
                         util::json_string(util::redact_url(p.base_url)));
      out += p.query.empty() ? "    # query: not set: every service has its own\n"
                             : fmt::format("    query: {}\n", util::json_string(p.query));
      out += fmt::format("    label: {}\n    timeout: {}\n    staleness: {}\n",
                         util::json_string(p.label), duration(p.timeout),
                         policy::format_duration(p.staleness));
      if (p.span.count() > 0) {
        out += fmt::format("    span: {}\n", policy::format_duration(p.span));
      } else {
        const auto read = demand::query_span(p.query);
        out += read ? fmt::format("    # span: not set: {} from the query's range\n",
                                  policy::format_duration(*read))
                    : std::string(
                          "    # span: not set: read from each service's query; where there is "
                          "none to read, each value counts as one tick's mean\n");
      }
      out += path_line("    ", "caFile", p.ca_file, "the system CA store");
      break;
    }
    case MetricSourceKind::QianfanMetric:
      out += fmt::format("  qianfan:\n    window: {}\n", policy::format_duration(m.qianfan_window));
      break;
    case MetricSourceKind::Trace:
      out += "  trace:\n";
      out += path_line("    ", "file", m.trace_file, "every service has its own");
      out += fmt::format("    speedup: {}\n    window: {}\n    loop: {}\n", m.trace_options.speedup,
                         policy::format_duration(m.trace_options.window), m.trace_options.loop);
      break;
    case MetricSourceKind::Synthetic: {
      const auto& s = m.synthetic;
      out += fmt::format(
          "  synthetic:\n    seed: {}\n    baseQps: {}\n    amplitude: {}\n    period: {}\n"
          "    peakAt: {}\n    noise: {}\n    burstsPerHour: {}\n    burstHeight: {}\n"
          "    burstDuration: {}\n",
          s.seed, s.base_qps, s.amplitude, policy::format_duration(s.period),
          policy::format_duration(s.peak_at), s.noise, s.bursts_per_hour, s.burst_height,
          policy::format_duration(s.burst_duration));
      break;
    }
  }
  return out;
}

std::string service_yaml(const ServiceConfig& s, const MetricSourceConfig& m) {
  std::string out = fmt::format("  - id: {}\n", util::json_string(s.id.value));
  if (s.policy_file.empty()) {
    out += fmt::format("    policy: {}  # shipped policy {}\n", s.policy_ref, s.policy.name());
  } else {
    out += fmt::format("    policy: {}  # policy {}\n", util::json_string(s.policy_file),
                       s.policy.name());
  }
  std::string instances;
  for (const auto& i : s.instances) {
    if (!instances.empty()) instances += ", ";
    instances += util::json_string(i.value);
  }
  out += fmt::format("    instances: [{}]\n    priority: {}\n    weight: {}\n", instances,
                     s.priority, s.weight);
  out += s.units_per_replica
             ? fmt::format("    unitsPerReplica: {}\n", *s.units_per_replica)
             : std::string("    # unitsPerReplica: not set: from resourceConfig.type\n");
  if (m.kind == MetricSourceKind::Prometheus) {
    if (auto it = m.prometheus.per_service_queries.find(s.id);
        it != m.prometheus.per_service_queries.end()) {
      out += fmt::format("    query: {}\n", util::json_string(it->second));
    }
  }
  if (m.kind == MetricSourceKind::Trace) {
    if (auto it = m.service_traces.find(s.id); it != m.service_traces.end()) {
      out += fmt::format("    trace: {}\n", util::json_string(it->second));
    }
  }
  return out;
}

}  // namespace

std::string to_yaml(const Config& config) {
  std::string out = "apiVersion: qfscale/v1\nkind: ControllerConfig\n";
  const auto& q = config.qianfan;
  out += "qianfan:\n";
  out += path_line("  ", "baseUrl", util::redact_url(q.base_url),
                   "$QIANFAN_CONSOLE_API_BASE_URL, else https://qianfan.baidubce.com");
  out += path_line("  ", "credentialsFile", q.credentials_file,
                   "$QIANFAN_ACCESS_KEY and $QIANFAN_SECRET_KEY");
  out +=
      fmt::format("  timeout: {}\n  maxAttempts: {}\n  maxRetryAfter: {}\n  concurrency: {}\n",
                  duration(q.timeout), q.max_attempts, duration(q.max_retry_after), q.concurrency);
  out += path_line("  ", "caFile", q.ca_file, "the system CA store");
  out += metrics_yaml(config.metrics);
  out += "instances:\n";
  for (const auto& i : config.instances) {
    out += fmt::format("  - id: {}\n", util::json_string(i.id.value));
    out += i.capacity ? fmt::format("    capacity: {}\n", *i.capacity)
                      : std::string("    # capacity: not set: from DescribeComputeUnit\n");
  }
  out += "services:\n";
  for (const auto& s : config.services) out += service_yaml(s, config.metrics);
  const auto& l = config.loop;
  out += fmt::format("loop:\n  interval: {}\n  dryRun: {}\n  listen: {}\n",
                     policy::format_duration(l.interval), l.dry_run, util::json_string(l.listen));
  out += path_line("  ", "stateFile", l.state_file, "state is not persisted");
  out += path_line("  ", "auditLog", l.audit_log, "no audit log");
  out += fmt::format("  auditLogMaxBytes: {}\n  auditLogKeep: {}\n", bytes(l.audit_log_max_bytes),
                     l.audit_log_keep);
  if (const auto& e = config.coordination.etcd) {
    std::string endpoints;
    for (const auto& url : e->endpoints) {
      if (!endpoints.empty()) endpoints += ", ";
      endpoints += util::json_string(url);
    }
    out += fmt::format(
        "coordination:\n  etcd:\n    endpoints: [{}]\n    prefix: {}\n    leaseTtl: {}\n    "
        "shards: {}\n",
        endpoints, util::json_string(e->prefix), policy::format_duration(e->lease_ttl), e->shards);
    out += e->username.empty() ? std::string("    # username: not set: no authentication\n")
                               : fmt::format("    username: {}\n", util::json_string(e->username));
    out += e->name.empty() ? std::string("    # name: not set: <host>:<pid>\n")
                           : fmt::format("    name: {}\n", util::json_string(e->name));
    out += path_line("    ", "caFile", e->ca_file, "the system CA store");
    out += path_line("    ", "certFile", e->cert_file, "no client certificate");
    out += path_line("    ", "keyFile", e->key_file, "no client certificate");
  } else {
    out += "# coordination: not set: this controller acts alone\n";
  }
  return out;
}

}  // namespace qfscale::controller
