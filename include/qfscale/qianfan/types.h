#pragma once

/// Value types of the Qianfan console API v2 actions qfscale uses (docs/QIANFAN-API.md §6). They
/// are decoded from replies by the client (`api.h`) and built in memory by the fakes.
///
/// Field names in comments are the JSON keys. Where the stored documents are truncated, the
/// shapes below are ASSUMPTIONS shared with the fake server (`src/fake`), which is written from
/// the same notes; each one is marked `ASSUMPTION:` here and nowhere else:
///
/// - DescribeComputeUnit (`POST /v2/computeunit?Action=DescribeComputeUnit`, body
///   `{"instanceId":"unit-…"}`) replies
///   `result{computeUnitInstance{instanceId, region, type, status, computeUnitCount},
///           serviceUsageList[{serviceId, deploymentReplicasCount, computeUnitCount}]}`.
///   `computeUnitCount` of the instance is its capacity in compute units; that of a usage entry
///   is the units the service takes there (replicas x units per replica). The instance may also
///   carry `availableComputeUnitCount` (optional): capacity minus every use, including uses the
///   usage list does not show (another team's services); the fake sends it.
/// - DescribeServices (`/v2/service`, body `{marker?, maxKeys?, name?, runStatus?[]}`) pages with
///   the BCE marker convention:
///   `result{marker, maxKeys, isTruncated, nextMarker, serviceList[<DescribeService result>]}`.
///   `nextMarker` is present (non-empty) exactly when `isTruncated` is true.
/// - DescribeServiceMetric (`/v2/service`, body `{serviceIds[], startTime, endTime}`, times as
///   `YYYY-MM-DDThh:mm:ssZ`) replies as the Python SDK's mock server does:
///   `result{startTime, endTime, serviceList[{serviceId, serviceName,
///           appList[{appId, metric{inputTokensTotal, outputTokensTotal, tokensTotal,
///                                  succeedCallTotal, failureCallTotal, callTotal}}]}]}`,
///   `appId` being an integer, every total a non-negative integer.
///
/// Strictness (docs/DESIGN.md: "strict about types, tolerant only where the real service is known
/// to be loose"): a present field of the wrong JSON type is an error; optional string fields may be
/// `null` (read as empty); unknown keys are ignored; keys match exactly, so a key with stray
/// whitespace (`"qps "`, seen in one doc example) is not the documented key and counts as absent
/// (so a missing required field is an error whose message names the near miss). A body that is
/// not JSON, such as the Python example's `"result": True`, is refused as malformed (Remote, not
/// retried): guessing at non-JSON would also accept truncated or corrupted replies.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "qfscale/model/ids.h"
#include "qfscale/model/service.h"
#include "qfscale/model/units.h"
#include "qfscale/util/clock.h"

namespace qfscale::qianfan {

/// `resourceConfig` of a service. Required in DescribeService: `type`, `replicasCount`, `qps`.
struct ResourceConfig {
  std::string region;        ///< "bj"; optional
  std::string type;          ///< "GPU-I-2": compute units per replica after the last dash
  model::Replicas replicas;  ///< replicasCount: total replicas over all instances
  double qps = 0;            ///< the QPS one replica is sized for (integer or decimal in JSON)

  friend bool operator==(const ResourceConfig&, const ResourceConfig&) = default;
};

/// The `result` of DescribeService. Required: `serviceId`, `runStatus`, `resourceConfig`.
/// `isModelUpdating` defaults to false when absent (older replies, as in the SDK mock, omit it).
/// Thread-safety: a value type.
struct ServiceInfo {
  model::ServiceId service_id;
  std::string base_model;
  std::string model_set_id;  ///< am-…
  std::string model_id;      ///< amv-…
  std::string name;
  std::string description;
  std::string url;
  std::string service_type;     ///< chat, completions, text2image, image2text
  std::string run_status_text;  ///< runStatus as sent, kept for display of unknown values
  model::RunStatus run_status = model::RunStatus::Unknown;
  std::string charge_type;  ///< ComputingUnit, Tokens
  std::string pay_type;     ///< Prepay, Postpay
  std::string charge_status;
  ResourceConfig resource_config;
  bool is_model_updating = false;
  std::string creator;
  std::string create_time;  ///< as sent, e.g. "2024-05-01T08:00:00Z"

  friend bool operator==(const ServiceInfo&, const ServiceInfo&) = default;
};

/// A successful write (ScaleService, ModifyService): the reply carried `result: true`.
struct Ack {
  std::string request_id;
  friend bool operator==(const Ack&, const Ack&) = default;
};

/// ScaleService sets the absolute replica count of one service on one compute-unit instance.
/// `0` removes the instance from the service.
struct ScaleServiceRequest {
  model::ServiceId service;
  model::InstanceId instance;
  model::Replicas replicas;  ///< deploymentReplicasCount, >= 0
  /// Sent as `x-qfscale-fencing-token` when non-zero: the leader key's revision of the controller
  /// that decided it (coordination/election.h). Qianfan ignores the header; the fake with
  /// --fencing refuses a token older than one it has seen.
  std::int64_t fencing_token = 0;
  friend bool operator==(const ScaleServiceRequest&, const ScaleServiceRequest&) = default;
};

/// ModifyService moves the service to another model version.
struct ModifyServiceRequest {
  model::ServiceId service;
  std::string model_set_id;        ///< am-…
  std::string model_id;            ///< amv-…
  std::int64_t fencing_token = 0;  ///< as in ScaleServiceRequest
  friend bool operator==(const ModifyServiceRequest&, const ModifyServiceRequest&) = default;
};

/// DescribeServices filters and paging. Empty fields are not sent.
struct DescribeServicesRequest {
  std::string marker;
  int max_keys = 0;  ///< 0 = server default (10); the server caps it at 100
  std::string name;  ///< fuzzy match
  std::vector<std::string> run_status;
  friend bool operator==(const DescribeServicesRequest&, const DescribeServicesRequest&) = default;
};

/// One page of DescribeServices. Entries have the DescribeService shape (ASSUMPTION above); in a
/// list only `serviceId` is required.
struct ServicePage {
  std::vector<ServiceInfo> services;
  bool is_truncated = false;
  std::string next_marker;  ///< pass as `marker` to get the next page
  friend bool operator==(const ServicePage&, const ServicePage&) = default;
};

/// `computeUnitInstance` of DescribeComputeUnit (ASSUMPTION above for the fields after status).
struct ComputeUnitInstance {
  model::InstanceId instance_id;
  std::string region;
  std::string type;    ///< e.g. "gpu-1"
  std::string status;  ///< Creating, CreateFailed, Running, … (truncated in the docs)
  model::ComputeUnits compute_unit_count;  ///< capacity
  /// availableComputeUnitCount when sent: what is left after every use, listed or not.
  std::optional<model::ComputeUnits> available_compute_unit_count;
  friend bool operator==(const ComputeUnitInstance&, const ComputeUnitInstance&) = default;
};

/// One `serviceUsageList` entry (ASSUMPTION above).
struct ServiceUsage {
  model::ServiceId service_id;
  model::Replicas deployment_replicas_count;
  model::ComputeUnits compute_unit_count;  ///< units this service takes on the instance
  friend bool operator==(const ServiceUsage&, const ServiceUsage&) = default;
};

struct ComputeUnitInfo {
  ComputeUnitInstance instance;
  std::vector<ServiceUsage> usage;

  /// Sum of the usage entries' compute units.
  [[nodiscard]] model::ComputeUnits used() const;
  /// Capacity minus used (negative if the reply is over-committed).
  [[nodiscard]] model::ComputeUnits free() const;
  friend bool operator==(const ComputeUnitInfo&, const ComputeUnitInfo&) = default;
};

/// DescribeServiceMetric over [start, end). Times are sent at whole seconds, UTC.
struct DescribeServiceMetricRequest {
  std::vector<model::ServiceId> services;  ///< serviceIds, at least one
  util::SystemTime start;
  util::SystemTime end;
};

struct CallMetric {
  std::int64_t input_tokens_total = 0;
  std::int64_t output_tokens_total = 0;
  std::int64_t tokens_total = 0;
  std::int64_t succeed_call_total = 0;
  std::int64_t failure_call_total = 0;
  std::int64_t call_total = 0;
  friend bool operator==(const CallMetric&, const CallMetric&) = default;
};

struct AppMetric {
  std::int64_t app_id = 0;
  CallMetric metric;
  friend bool operator==(const AppMetric&, const AppMetric&) = default;
};

struct ServiceMetric {
  model::ServiceId service_id;
  std::string service_name;
  std::vector<AppMetric> apps;
  /// Sum of `callTotal` over the apps.
  [[nodiscard]] std::int64_t call_total() const;
  friend bool operator==(const ServiceMetric&, const ServiceMetric&) = default;
};

struct ServiceMetrics {
  std::string start_time;  ///< as sent back
  std::string end_time;
  std::vector<ServiceMetric> services;
  friend bool operator==(const ServiceMetrics&, const ServiceMetrics&) = default;
};

}  // namespace qfscale::qianfan
