#pragma once

/// The controller config (`qfscale.yaml`, docs/DESIGN.md "Configuration files"): the Qianfan
/// endpoint and where credentials come from, the metric source, the compute-unit instances, the
/// managed services and the loop. Loaded like policies: defaults, then the file, then validation;
/// every problem at once as file:line:column with the key, the bad value and what is allowed;
/// unknown keys are errors. Every policy a service names is loaded and validated too, so a `Config`
/// is complete and immutable: the controller never reads another file because of it.
///
/// Schema (every key; defaults in brackets):
/// ```yaml
/// apiVersion: qfscale/v1
/// kind: ControllerConfig
/// qianfan:
///   baseUrl: https://qianfan.baidubce.com   # [$QIANFAN_CONSOLE_API_BASE_URL, else this]
///   credentialsFile: /etc/qfscale/ak-sk     # [none: $QIANFAN_ACCESS_KEY/$QIANFAN_SECRET_KEY]
///   timeout: 10s                            # per request [10s]
///   maxAttempts: 4                          # tries per call incl. the first [4]
///   maxRetryAfter: 30s                      # longest Retry-After a call waits out [30s]
///   concurrency: 16                         # API calls in flight at once [16]
///   caFile: /etc/qfscale/ca.pem             # PEM CAs trusted instead of the system store [none]
/// metrics:                                  # exactly one of the four kinds
///   prometheus: {url: http://127.0.0.1:9090, query: 'sum by (service) (rate(x[1m]))',
///                label: service, timeout: 5s, staleness: 2m,
///                span: 1m,                  # seconds each value averages over [from the query]
///                caFile: /etc/qfscale/prom-ca.pem}  # as qianfan.caFile [none]
///   # qianfan: {window: 60s}                # DescribeServiceMetric call totals / window
///   # trace: {file: traces/x.csv, speedup: 1, window: 0s, loop: true}
///   # synthetic: {seed: 1, baseQps: 10, amplitude: 0.5, period: 24h, peakAt: 20h, noise: 0.1,
///   #             burstsPerHour: 1, burstHeight: 3, burstDuration: 60s}
/// instances:
///   - {id: cu-a, capacity: 16}              # capacity [DescribeComputeUnit's computeUnitCount]
/// services:
///   - id: svc-1
///     policy: balanced                      # a shipped policy name, or a file (relative to
///                                           # this file's directory)
///     instances: [cu-a]                     # allowed, most preferred first (>= 1)
///     priority: 0                           # higher is served first [0]
///     weight: 1                             # share within a priority class, >= 1 [1]
///     unitsPerReplica: 2                    # [from resourceConfig.type, GPU-I-2 -> 2]
///     query: 'sum(rate(y[1m]))'             # Prometheus only: this service's own query
///     trace: traces/svc-1.csv               # trace only: this service's own trace
/// loop:
///   interval: 15s                           # [15s], 1s..1h
///   dryRun: false                           # [false]
///   listen: 127.0.0.1:9464                  # HTTP server for /metrics etc. [127.0.0.1:9464]
///   stateFile: /var/lib/qfscale/state.json  # [none: state is not persisted]
///   auditLog: /var/log/qfscale/audit.jsonl  # [none]
///   auditLogMaxBytes: 64Mi                  # rotate above this size [64 MiB]
///   auditLogKeep: 5                         # rotated files kept [5]
/// coordination:                             # [none: this controller acts alone]
///   etcd:
///     endpoints: [http://10.0.0.1:2379, http://10.0.0.2:2379]  # >= 1, http(s)
///     prefix: /qfscale                      # keys under it: leader, members/, shards/, state/
///     leaseTtl: 10s                         # leader lease [10s], 2s..5m
///     shards: 64                            # [1: one leader acts on all], 1..4096
///     username: qfscale                     # [none]; password from $QFSCALE_ETCD_PASSWORD
///     name: ctl-a                           # this member in the leader key [host:pid]
///     caFile: /etc/qfscale/etcd-ca.pem      # CAs for https endpoints [system store]
///     certFile: /etc/qfscale/etcd.crt       # client certificate (--client-cert-auth) [none]
///     keyFile: /etc/qfscale/etcd.key        # its key, with certFile [none]
/// ```
/// Relative paths are resolved against the config file's directory.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "qfscale/bce/signer.h"
#include "qfscale/demand/prometheus_source.h"
#include "qfscale/demand/synthetic.h"
#include "qfscale/demand/trace_source.h"
#include "qfscale/model/ids.h"
#include "qfscale/model/units.h"
#include "qfscale/policy/loader.h"
#include "qfscale/policy/policy.h"
#include "qfscale/util/diagnostic.h"

namespace qfscale::controller {

/// Limits that the loader enforces (each inclusive; durations are whole seconds).
inline constexpr std::chrono::seconds kMinQianfanTimeout{1};
inline constexpr std::chrono::seconds kMaxQianfanTimeout{300};
inline constexpr int kMaxAttempts = 10;  ///< qianfan.maxAttempts in [1, 10]
/// qianfan.maxRetryAfter in [0s, 5m]: 0 never waits out a Retry-After (re-planned next tick).
inline constexpr std::chrono::seconds kMaxRetryAfter{300};
inline constexpr int kMaxConcurrency = 256;                  ///< qianfan.concurrency in [1, 256]
inline constexpr std::chrono::seconds kMinQianfanWindow{1};  ///< metrics.qianfan.window
inline constexpr std::chrono::seconds kMaxQianfanWindow{3600};
inline constexpr double kMaxTraceSpeedup = 100000;            ///< metrics.trace.speedup in (0, 1e5]
inline constexpr std::chrono::seconds kMaxTraceWindow{3600};  ///< metrics.trace.window [0s, 1h]
inline constexpr int kMaxInstanceCapacity = 100000;           ///< instances[].capacity in [1, 1e5]
inline constexpr int kMaxPriority = 1000;               ///< services[].priority in [-1000, 1000]
inline constexpr int kMaxWeight = 1000;                 ///< services[].weight in [1, 1000]
inline constexpr int kMaxUnitsPerReplica = 1000;        ///< services[].unitsPerReplica in [1, 1000]
inline constexpr std::chrono::seconds kMinInterval{1};  ///< loop.interval in [1s, 1h]
inline constexpr std::chrono::seconds kMaxInterval{3600};
inline constexpr std::uint64_t kMinAuditLogBytes = 1ULL << 10U;  ///< loop.auditLogMaxBytes: 1Ki
inline constexpr std::uint64_t kMaxAuditLogBytes = 1ULL << 40U;  ///< ... to 1024Gi
inline constexpr int kMaxAuditLogKeep = 100;                     ///< loop.auditLogKeep in [1, 100]
/// coordination.etcd.leaseTtl in [2s, 5m]: etcd rounds shorter leases up (to 1.5 x its election
/// timeout), and a longer one leaves services unmanaged that long after a leader dies.
inline constexpr std::chrono::seconds kMinLeaseTtl{2};
inline constexpr std::chrono::seconds kMaxLeaseTtl{300};
/// coordination.etcd.shards in [1, 4096]: each shard is one owner key in etcd and one rendezvous
/// pick per member and tick, so a few hundred are plenty for tens of thousands of services.
inline constexpr int kMaxShards = 4096;
/// The policy of a service that names none.
inline constexpr std::string_view kDefaultPolicy = "balanced";

struct QianfanConfig {
  std::string base_url;  ///< empty: $QIANFAN_CONSOLE_API_BASE_URL, else the public endpoint
  /// A file holding `QIANFAN_ACCESS_KEY=...` and `QIANFAN_SECRET_KEY=...` lines; must not be
  /// readable by group or others. Empty: the environment variables. Resolved to an absolute path.
  std::string credentials_file;
  std::chrono::milliseconds timeout{10'000};
  int max_attempts = 4;
  /// A Transient reply asking to retry later than this is not retried within the call.
  std::chrono::milliseconds max_retry_after{30'000};
  int concurrency = 16;
  /// A PEM bundle of the CAs that sign the endpoint's certificate, trusted instead of the
  /// system store; absolute. Empty: the system store. The loader checks that it reads and
  /// holds at least one certificate.
  std::string ca_file;
  friend bool operator==(const QianfanConfig&, const QianfanConfig&) = default;
};

enum class MetricSourceKind { Prometheus, QianfanMetric, Trace, Synthetic };

struct MetricSourceConfig {
  MetricSourceKind kind = MetricSourceKind::Synthetic;
  /// kind Prometheus. `per_service_queries` is filled from the services' `query` keys.
  demand::PrometheusConfig prometheus;
  /// kind QianfanMetric: QPS = callTotal over [now - window, now) / window.
  std::chrono::seconds qianfan_window{60};
  /// kind Trace: the default trace file (absolute) and per-service overrides; `options.start`
  /// is left at the epoch: whoever builds the source sets it.
  std::string trace_file;
  std::map<model::ServiceId, std::string> service_traces;
  demand::TraceReplayOptions trace_options;
  /// kind Synthetic.
  demand::SyntheticConfig synthetic;
};

struct InstanceConfig {
  model::InstanceId id;
  /// Declared capacity; empty means DescribeComputeUnit's computeUnitCount. DescribeComputeUnit
  /// is called either way: it is the only source of per-instance placements and foreign usage.
  std::optional<model::ComputeUnits> capacity;
  friend bool operator==(const InstanceConfig&, const InstanceConfig&) = default;
};

struct ServiceConfig {
  model::ServiceId id;
  std::string policy_ref;   ///< as written: a shipped name or a path
  std::string policy_file;  ///< the policy file, absolute; empty for a shipped policy
  policy::Policy policy;    ///< loaded and validated
  std::vector<model::InstanceId> instances;  ///< most preferred first, each listed in `instances`
  int priority = 0;
  int weight = 1;
  std::optional<model::ComputeUnits> units_per_replica;  ///< override of resourceConfig.type
};

struct LoopConfig {
  std::chrono::seconds interval{15};
  bool dry_run = false;
  std::string listen = "127.0.0.1:9464";
  std::string state_file;  ///< absolute, or empty for none
  std::string audit_log;   ///< absolute, or empty for none
  std::uint64_t audit_log_max_bytes = 64ULL << 20U;
  int audit_log_keep = 5;
  friend bool operator==(const LoopConfig&, const LoopConfig&) = default;
};

/// `coordination.etcd`: leader election and shared engine state in etcd (coordination/etcd.h).
struct EtcdConfig {
  std::vector<std::string> endpoints;  ///< http(s) URLs, at least one
  std::string prefix = "/qfscale";     ///< starts with "/", no trailing "/"
  std::chrono::seconds lease_ttl{10};
  /// 1: one leader acts on every service. More: services are split over this many shards, each
  /// owned by one live member (coordination/sharding.h).
  int shards = 1;
  std::string username;   ///< empty: no authentication
  std::string name;       ///< empty: "<host>:<pid>" at start
  std::string ca_file;    ///< PEM CAs for https endpoints, absolute; empty: the system store
  std::string cert_file;  ///< PEM client certificate (with key_file), absolute; empty: none
  std::string key_file;
  friend bool operator==(const EtcdConfig&, const EtcdConfig&) = default;
};

struct CoordinationConfig {
  std::optional<EtcdConfig> etcd;  ///< empty: no coordination, the local state file
  friend bool operator==(const CoordinationConfig&, const CoordinationConfig&) = default;
};

/// A loaded, validated, immutable-by-convention controller config.
struct Config {
  std::string file;  ///< the path it came from ("" for a built-in config)
  QianfanConfig qianfan;
  MetricSourceConfig metrics;
  std::vector<InstanceConfig> instances;
  std::vector<ServiceConfig> services;  ///< ids unique
  LoopConfig loop;
  CoordinationConfig coordination;
};

/// Reads a file's text; the loader's only way to touch the file system (tests pass a map).
using FileReader = std::function<Result<std::string>(const std::string& path)>;

/// What is wrong with `path` as a file the controller writes (the state file, the audit log),
/// or nullopt when it can be written. The loader asks it for `loop.stateFile` and
/// `loop.auditLog`; an empty function asks nothing (tests).
using OutputPathCheck = std::function<std::optional<std::string>(const std::string& path)>;

/// The real check: the directory exists, is a directory and is writable and searchable
/// (access(2), so root passes unless the file system is read-only), and the path is not
/// itself a directory. E.g. "directory /var/lib/qfscale does not exist".
[[nodiscard]] std::optional<std::string> output_path_problem(const std::string& path);

/// The text of a shipped policy (`policies/<name>.yaml`, compiled into the binary), or nullopt.
[[nodiscard]] std::optional<std::string_view> shipped_policy(std::string_view name);
/// Names of every shipped policy, sorted.
[[nodiscard]] std::vector<std::string_view> shipped_policy_names();

/// Parses and validates `yaml_text` as if read from `file_name` (relative paths resolve against
/// its directory). Policies named by path are read with `read`; shipped names need no file.
/// `check_output` vets the state file and audit log paths (a problem is reported at the key's
/// line, so a missing directory stops `config check` and the start, not the first save).
[[nodiscard]] tl::expected<Config, util::Diagnostics> parse_config(
    std::string_view yaml_text, const std::string& file_name, const FileReader& read,
    const util::ZoneSource& zones, const OutputPathCheck& check_output = {});

/// Reads `path` and parses it with the real file system (`output_path_problem` included).
[[nodiscard]] tl::expected<Config, util::Diagnostics> load_config(const std::string& path,
                                                                  const util::ZoneSource& zones);

/// The effective config as YAML in the file schema: every default filled in, every path
/// absolute, each service's policy as a shipped name or an absolute file with the policy's
/// `metadata.name` in a comment. Unset optional keys appear as comments saying what applies.
/// `parse_config(to_yaml(c))` gives back the same config.
[[nodiscard]] std::string to_yaml(const Config& config);

/// With the Prometheus source: the services sizing for a service level (`target.slo`) whose
/// query's span cannot be read (no rate, increase or avg_over_time range, demand/promql_span.h)
/// while `metrics.prometheus.span` is unset, so their burstiness would be read as if each value
/// were one tick's mean. Empty otherwise.
[[nodiscard]] std::vector<model::ServiceId> services_without_span(const Config& config);

/// What `config check` and `run` print on stderr when `services_without_span` is not empty.
[[nodiscard]] std::optional<std::string> span_warning(const Config& config);

/// The keys whose new value in `loaded` a running controller cannot take: they are read once at
/// start (the endpoint, credentials file, CA file, client timeouts and retries, the metric source,
/// tick interval, listen address, state file and audit log). `running` is the config the process
/// started with. Services, instances, policies, `qianfan.concurrency` and `loop.dryRun` are
/// applied by a reload and never listed. E.g. {"qianfan.baseUrl", "loop.stateFile"}.
[[nodiscard]] std::vector<std::string_view> restart_only_changes(const Config& running,
                                                                 const Config& loaded);

/// The access key pair for the Qianfan API, read when the controller starts (never by the
/// loader). With `credentials_file` set: its `QIANFAN_ACCESS_KEY=...` and
/// `QIANFAN_SECRET_KEY=...` lines (`#` comments, blank lines and an `export ` prefix allowed;
/// values may be quoted); the file must not be accessible by group or others (mode & 077 == 0),
/// else InvalidInput naming the path and mode and advising `chmod 600`. Without it: the
/// QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY environment variables. Errors name files, lines and
/// variables, never a key's value. Thread-safety: reads the environment (not thread-safe
/// against setenv).
[[nodiscard]] Result<bce::Credentials> load_credentials(const QianfanConfig& config);

}  // namespace qfscale::controller
