#include "qfscale/demand/qianfan_metric_source.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace qfscale::demand {
namespace {

/// The fake's code for an unknown id (ASSUMPTION in the header): the real console's is
/// undocumented.
constexpr std::string_view kResourceNotFound = "ResourceNotFound";
constexpr std::chrono::seconds kMaxWindow{24 * 3600};

QpsFailure failure(FailureKind kind, std::string message) {
  return QpsFailure{.kind = kind, .message = std::move(message)};
}

bool is_2xx(int status) { return status >= 200 && status < 300; }

/// Readings for the distinct ids of one call, keyed by id.
using Readings = std::map<model::ServiceId, QpsReading>;

class QianfanMetricSource final : public QpsSource {
 public:
  QianfanMetricSource(QianfanMetricConfig config, qianfan::QianfanApi& api)
      : config_(config), api_(api) {}

  std::vector<QpsReading> read(std::span<const model::ServiceId> services,
                               util::SystemTime now) override {
    const auto end = std::chrono::floor<std::chrono::seconds>(now);
    const util::SystemTime window_end{end};
    const util::SystemTime window_start = window_end - config_.window;

    // Each id once per call, in first-seen order; an empty id is refused before sending (the
    // client would refuse the whole call for it).
    Readings readings;
    std::vector<model::ServiceId> ids;
    std::set<model::ServiceId> seen;
    for (const auto& id : services) {
      if (!seen.insert(id).second) continue;
      if (id.value.empty()) {
        readings.emplace(id, tl::unexpected(failure(FailureKind::QueryError,
                                                    "empty service id: nothing to ask for")));
        continue;
      }
      ids.push_back(id);
    }
    for (std::size_t i = 0; i < ids.size(); i += config_.max_services_per_call) {
      const auto n = std::min(config_.max_services_per_call, ids.size() - i);
      query(std::vector<model::ServiceId>(ids.begin() + static_cast<std::ptrdiff_t>(i),
                                          ids.begin() + static_cast<std::ptrdiff_t>(i + n)),
            window_start, window_end, readings);
    }

    std::vector<QpsReading> out;
    out.reserve(services.size());
    for (const auto& id : services) out.push_back(readings.at(id));
    return out;
  }

 private:
  void query(const std::vector<model::ServiceId>& batch, util::SystemTime start,
             util::SystemTime end, Readings& readings) {
    auto reply = api_.describe_service_metric(
        qianfan::DescribeServiceMetricRequest{.services = batch, .start = start, .end = end});
    if (!reply) {
      const Error& error = reply.error();
      if (error.remote_code == kResourceNotFound) {
        if (batch.size() > 1) {
          // One unknown id refuses the whole call: ask again one by one.
          for (const auto& id : batch) query({id}, start, end, readings);
          return;
        }
        readings.emplace(
            batch.front(),
            tl::unexpected(failure(FailureKind::Missing,
                                   fmt::format("DescribeServiceMetric does not know {}: {}",
                                               batch.front(), error.to_string()))));
        return;
      }
      const QpsFailure f = failure_from_error(error);
      for (const auto& id : batch) readings.emplace(id, tl::unexpected(f));
      return;
    }

    std::map<model::ServiceId, const qianfan::ServiceMetric*> found;
    std::set<model::ServiceId> duplicated;
    for (const auto& metric : reply->services) {
      if (!found.emplace(metric.service_id, &metric).second) duplicated.insert(metric.service_id);
    }
    const auto seconds = static_cast<double>(config_.window.count());
    for (const auto& id : batch) {
      const auto it = found.find(id);
      if (duplicated.contains(id)) {
        readings.emplace(
            id, tl::unexpected(
                    failure(FailureKind::Malformed,
                            fmt::format("DescribeServiceMetric listed {} more than once", id))));
      } else if (it == found.end()) {
        readings.emplace(
            id, tl::unexpected(
                    failure(FailureKind::Missing,
                            fmt::format("DescribeServiceMetric reply has no entry for {}", id))));
      } else if (const std::int64_t calls = it->second->call_total(); calls < 0) {
        readings.emplace(
            id, tl::unexpected(failure(
                    FailureKind::Negative,
                    fmt::format("DescribeServiceMetric callTotal of {} is {}", id, calls))));
      } else {
        readings.emplace(id, QpsSample{.qps = static_cast<double>(calls) / seconds,
                                       .timestamp = end,
                                       .span = config_.window});
      }
    }
  }

  QianfanMetricConfig config_;
  qianfan::QianfanApi& api_;
};

}  // namespace

Status validate(const QianfanMetricConfig& config) {
  if (config.window < std::chrono::seconds{1} || config.window > kMaxWindow) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("metrics.qianfan.window: {}s is out of range, must be 1s to 24h",
                            config.window.count()));
  }
  if (config.max_services_per_call == 0) {
    return fail(ErrorCode::InvalidInput,
                "metrics.qianfan.maxServicesPerCall: 0 is out of range, must be at least 1");
  }
  return util::ok();
}

Result<std::unique_ptr<QpsSource>> make_qianfan_metric_source(QianfanMetricConfig config,
                                                              qianfan::QianfanApi& api) {
  if (auto valid = validate(config); !valid) return fail(std::move(valid).error());
  return std::make_unique<QianfanMetricSource>(config, api);
}

QpsFailure failure_from_error(const Error& error) {
  const std::string message = error.to_string();
  if (error.code == ErrorCode::Transient && error.http_status == 0 && error.remote_code.empty()) {
    return failure(FailureKind::Transport, message);
  }
  if (!error.remote_code.empty()) {
    auto f = failure(FailureKind::QueryError, message);
    f.http_status = error.http_status;
    f.error_type = error.remote_code;
    return f;
  }
  if (error.http_status != 0 && !is_2xx(error.http_status)) {
    auto f = failure(FailureKind::HttpStatus, message);
    f.http_status = error.http_status;
    return f;
  }
  if (error.code == ErrorCode::Remote) {
    // A 2xx (or unknown-status) reply the client could not decode.
    auto f = failure(FailureKind::Malformed, message);
    f.http_status = error.http_status;
    return f;
  }
  // InvalidInput or Internal: the request was not sent as asked.
  auto f = failure(FailureKind::QueryError, message);
  f.error_type = std::string(util::to_string(error.code));
  return f;
}

}  // namespace qfscale::demand
