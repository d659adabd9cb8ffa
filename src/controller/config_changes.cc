// restart_only_changes: which keys a reload cannot apply (see config.h).

#include <string>
#include <string_view>
#include <vector>

#include "qfscale/controller/config.h"

namespace qfscale::controller {

namespace {

/// The `metrics:` section of the effective config: every source setting, defaults filled in.
std::string metrics_section(const Config& config) {
  std::string yaml = to_yaml(config);  // not const: the early return moves it
  const auto begin = yaml.find("\nmetrics:\n");
  const auto end = yaml.find("\ninstances:", begin == std::string::npos ? 0 : begin);
  if (begin == std::string::npos) return yaml;
  return yaml.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

}  // namespace

std::vector<std::string_view> restart_only_changes(const Config& running, const Config& loaded) {
  std::vector<std::string_view> changed;
  const auto check = [&](bool differs, std::string_view key) {
    if (differs) changed.push_back(key);
  };
  const auto& q = running.qianfan;
  const auto& nq = loaded.qianfan;
  check(q.base_url != nq.base_url, "qianfan.baseUrl");
  check(q.credentials_file != nq.credentials_file, "qianfan.credentialsFile");
  check(q.timeout != nq.timeout, "qianfan.timeout");
  check(q.max_attempts != nq.max_attempts, "qianfan.maxAttempts");
  check(q.max_retry_after != nq.max_retry_after, "qianfan.maxRetryAfter");
  check(q.ca_file != nq.ca_file, "qianfan.caFile");
  check(metrics_section(running) != metrics_section(loaded) ||
            running.metrics.prometheus.per_service_queries !=
                loaded.metrics.prometheus.per_service_queries ||
            running.metrics.service_traces != loaded.metrics.service_traces,
        "metrics");
  const auto& l = running.loop;
  const auto& nl = loaded.loop;
  check(l.interval != nl.interval, "loop.interval");
  check(l.listen != nl.listen, "loop.listen");
  check(l.state_file != nl.state_file, "loop.stateFile");
  check(l.audit_log != nl.audit_log, "loop.auditLog");
  check(l.audit_log_max_bytes != nl.audit_log_max_bytes, "loop.auditLogMaxBytes");
  check(l.audit_log_keep != nl.audit_log_keep, "loop.auditLogKeep");
  check(running.coordination != loaded.coordination, "coordination");
  return changed;
}

}  // namespace qfscale::controller
