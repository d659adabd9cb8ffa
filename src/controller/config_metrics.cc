// The `metrics` section of the controller config: exactly one source kind, its own keys, and
// after the services are read, the per-service queries/traces and each source's validation.

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "qfscale/demand/promql_span.h"
#include "qfscale/demand/synthetic.h"

#include "controller/config_reader.h"

namespace qfscale::controller::detail {

namespace {

using util::yaml::child;
using util::yaml::show;

constexpr std::chrono::seconds kMaxStaleness{24 * 3600};

struct SourceKey {
  std::string_view key;
  MetricSourceKind kind;
};
constexpr SourceKey kSources[] = {{"prometheus", MetricSourceKind::Prometheus},
                                  {"qianfan", MetricSourceKind::QianfanMetric},
                                  {"trace", MetricSourceKind::Trace},
                                  {"synthetic", MetricSourceKind::Synthetic}};

}  // namespace

void ConfigReader::read_metrics(const YAML::Node& node) {
  const std::string path = "metrics";
  const auto f = mapping(node, path, {"prometheus", "qianfan", "trace", "synthetic"});
  if (!f) return;
  // In document order, so that "set together with" names the one written first.
  std::vector<std::pair<const SourceKey*, const YAML::Node*>> present;
  for (const auto& source : kSources) {
    if (const auto* n = get(*f, source.key)) present.emplace_back(&source, n);
  }
  std::stable_sort(present.begin(), present.end(), [&](const auto& a, const auto& b) {
    const auto pa = position_of(child(path, a.first->key));
    const auto pb = position_of(child(path, b.first->key));
    return std::pair(pa.line, pa.column) < std::pair(pb.line, pb.column);
  });
  if (present.empty()) {
    // A misspelt source is already reported as an unknown field, with a "did you mean".
    if (f->size() != node.size()) return;
    error(node, path,
          "sets no metric source, must set exactly one of prometheus, qianfan, trace, synthetic");
    return;
  }
  for (std::size_t i = 1; i < present.size(); ++i) {
    error(*present[i].second, child(path, present[i].first->key),
          fmt::format("is set together with metrics.{}, must set exactly one metric source",
                      present[0].first->key));
  }
  if (present.size() == 1) {
    kind_ = present[0].first->kind;
    config_.metrics.kind = *kind_;
  }
  for (const auto& [source, n] : present) {
    switch (source->kind) {
      case MetricSourceKind::Prometheus:
        read_prometheus(*n);
        break;
      case MetricSourceKind::QianfanMetric:
        if (const auto q = mapping(*n, "metrics.qianfan", {"window"})) {
          read_seconds(*q, "metrics.qianfan", "window", kMinQianfanWindow, kMaxQianfanWindow,
                       config_.metrics.qianfan_window);
        }
        break;
      case MetricSourceKind::Trace:
        read_trace(*n);
        break;
      case MetricSourceKind::Synthetic:
        read_synthetic(*n);
        break;
    }
  }
}

void ConfigReader::read_prometheus(const YAML::Node& node) {
  const std::string path = "metrics.prometheus";
  const auto f =
      mapping(node, path, {"url", "query", "label", "timeout", "staleness", "span", "caFile"});
  if (!f) return;
  auto& p = config_.metrics.prometheus;
  require(*f, node, path, "url", "the Prometheus HTTP API base URL such as http://127.0.0.1:9090");
  optional_field(*f, path, "url", p.base_url);
  optional_field(*f, path, "query", p.query);
  optional_field(*f, path, "label", p.label);
  auto timeout = std::chrono::duration_cast<std::chrono::seconds>(p.timeout);
  read_seconds(*f, path, "timeout", kMinQianfanTimeout, kMaxQianfanTimeout, timeout);
  p.timeout = timeout;
  read_seconds(*f, path, "staleness", std::chrono::seconds{1}, kMaxStaleness, p.staleness);
  read_seconds(*f, path, "span", std::chrono::seconds{1}, kMaxStaleness, p.span);
  if (const auto* n = get(*f, "caFile")) read_ca_file(*n, child(path, "caFile"), p.ca_file);
}

void ConfigReader::read_trace(const YAML::Node& node) {
  const std::string path = "metrics.trace";
  const auto f = mapping(node, path, {"file", "speedup", "window", "loop"});
  if (!f) return;
  auto& m = config_.metrics;
  if (const auto* n = get(*f, "file")) read_path(*n, child(path, "file"), m.trace_file);
  if (const auto* n = get(*f, "speedup")) {
    const auto p = child(path, "speedup");
    double v = 0;
    const auto before = failure_count();
    read(*n, p, v);
    if (failure_count() == before) {
      if (!(v > 0 && v <= kMaxTraceSpeedup)) {
        error(*n, p,
              fmt::format("{} is out of range, must be in (0, {}]", show(*n), kMaxTraceSpeedup));
      } else {
        m.trace_options.speedup = v;
      }
    }
  }
  read_seconds(*f, path, "window", std::chrono::seconds{0}, kMaxTraceWindow,
               m.trace_options.window);
  optional_field(*f, path, "loop", m.trace_options.loop);
}

void ConfigReader::read_synthetic(const YAML::Node& node) {
  const std::string path = "metrics.synthetic";
  const auto f = mapping(node, path,
                         {"seed", "baseQps", "amplitude", "period", "peakAt", "noise",
                          "burstsPerHour", "burstHeight", "burstDuration"});
  if (!f) return;
  auto& s = config_.metrics.synthetic;
  if (const auto* n = get(*f, "seed")) {
    const auto p = child(path, "seed");
    if (const auto text = numeric_text(*n, p, "an integer")) {
      std::uint64_t v = 0;
      const auto* end = text->data() + text->size();
      const auto [ptr, ec] = std::from_chars(text->data(), end, v);
      if (text->empty() || ec != std::errc{} || ptr != end) {
        error(*n, p, fmt::format("{} is not an integer in [0, 2^64)", show(*n)));
      } else {
        s.seed = v;
      }
    }
  }
  optional_field(*f, path, "baseQps", s.base_qps);
  optional_field(*f, path, "amplitude", s.amplitude);
  optional_field(*f, path, "period", s.period);
  optional_field(*f, path, "peakAt", s.peak_at);
  optional_field(*f, path, "noise", s.noise);
  optional_field(*f, path, "burstsPerHour", s.bursts_per_hour);
  optional_field(*f, path, "burstHeight", s.burst_height);
  optional_field(*f, path, "burstDuration", s.burst_duration);
}

void ConfigReader::check_metrics() {
  if (!kind_) return;
  auto& m = config_.metrics;
  const auto without = [&](auto member) {
    std::vector<std::string_view> ids;
    for (const auto& s : services_) {
      if (!(s.*member)) ids.push_back(s.id.value);
    }
    return ids;
  };
  switch (*kind_) {
    case MetricSourceKind::Prometheus: {
      for (const auto& s : services_) {
        if (s.query) m.prometheus.per_service_queries[s.id] = *s.query;
      }
      const auto missing = without(&ServiceDraft::query);
      if (m.prometheus.query.empty() && !missing.empty() && !services_.empty()) {
        report("metrics.prometheus.query",
               fmt::format("is required unless every service sets its own query (none for: {})",
                           util::yaml::join(missing)));
      }
      if (auto status = demand::validate(m.prometheus); !status) {
        report_problems("metrics.prometheus", "prometheus source: ", status.error().message,
                        {{"base_url", "url"},
                         {"label", "label"},
                         {"query", "query"},
                         {"timeout", "timeout"},
                         {"staleness", "staleness"}});
      }
      break;
    }
    case MetricSourceKind::Trace: {
      for (const auto& s : services_) {
        if (s.trace) m.service_traces[s.id] = *s.trace;
      }
      const auto missing = without(&ServiceDraft::trace);
      if (m.trace_file.empty() && !missing.empty() && !services_.empty()) {
        report("metrics.trace.file",
               fmt::format("is required unless every service sets its own trace (none for: {})",
                           util::yaml::join(missing)));
      }
      break;
    }
    case MetricSourceKind::Synthetic:
      if (auto traffic = demand::SyntheticTraffic::create(m.synthetic); !traffic) {
        report_problems("metrics.synthetic", "synthetic traffic: ", traffic.error().message,
                        {{"base_qps", "baseQps"},
                         {"amplitude", "amplitude"},
                         {"period", "period"},
                         {"noise", "noise"},
                         {"bursts_per_hour", "burstsPerHour"},
                         {"burst_height", "burstHeight"},
                         {"burst_duration", "burstDuration"}});
      }
      break;
    case MetricSourceKind::QianfanMetric:
      break;
  }
}

void ConfigReader::report_problems(
    const std::string& section, std::string_view prefix, std::string_view problems,
    const std::vector<std::pair<std::string_view, std::string_view>>& keys) {
  if (problems.starts_with(prefix)) problems.remove_prefix(prefix.size());
  const auto field_at =
      [&](std::string_view text) -> const std::pair<std::string_view, std::string_view>* {
    for (const auto& k : keys) {
      if (text.starts_with(k.first) && text.size() > k.first.size() &&
          (text[k.first.size()] == ':' || text[k.first.size()] == '[')) {
        return &k;
      }
    }
    return nullptr;
  };
  // Problems are joined with "; ", which may also occur inside one problem's text: split only
  // where a known field name follows.
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (auto pos = problems.find("; "); pos != std::string_view::npos;
       pos = problems.find("; ", pos + 2)) {
    if (field_at(problems.substr(pos + 2)) != nullptr) {
      parts.push_back(problems.substr(start, pos - start));
      start = pos + 2;
    }
  }
  parts.push_back(problems.substr(start));
  for (const auto part : parts) {
    const auto* k = field_at(part);
    if (k != nullptr && part.substr(k->first.size()).starts_with(": ")) {
      report(child(section, k->second), std::string(part.substr(k->first.size() + 2)));
    } else {
      report(section, std::string(part));
    }
  }
}

}  // namespace qfscale::controller::detail

namespace qfscale::controller {

std::vector<model::ServiceId> services_without_span(const Config& config) {
  std::vector<model::ServiceId> out;
  const auto& p = config.metrics.prometheus;
  if (config.metrics.kind != MetricSourceKind::Prometheus || p.span.count() > 0) return out;
  for (const auto& service : config.services) {
    if (!service.policy.spec().target.slo) continue;
    const auto own = p.per_service_queries.find(service.id);
    const std::string& query = own != p.per_service_queries.end() ? own->second : p.query;
    if (!demand::query_span(query)) out.push_back(service.id);
  }
  return out;
}

std::optional<std::string> span_warning(const Config& config) {
  const auto services = services_without_span(config);
  if (services.empty()) return std::nullopt;
  std::string names;
  for (std::size_t i = 0; i < services.size() && i < 3; ++i) {
    names += (i == 0 ? "" : ", ") + services[i].value;
  }
  if (services.size() > 3) names += fmt::format(" and {} more", services.size() - 3);
  return fmt::format(
      "warning: metrics.prometheus: the span of the values (the seconds each averages over) "
      "cannot be read from the query of {} service{} sizing for target.slo ({}): it has no rate, "
      "increase or avg_over_time range; they will be taken for one tick's means, which misreads "
      "their burstiness unless they are. Set metrics.prometheus.span",
      services.size(), services.size() == 1 ? "" : "s", names);
}

}  // namespace qfscale::controller
