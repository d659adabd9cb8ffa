#pragma once

/// The Prometheus exporter and qfscale's own HTTP endpoints.
///
/// `Exporter` is a `TelemetrySink` that turns tick reports into `qfscale_*` metric families
/// (every family is created up front by `create()`, listed in grafana/METRICS.md), keeps the last
/// decision of every service for `/api/v1/decisions`, and tracks readiness.
///
/// Per-service counter children (label values from closed enums only) are of two kinds:
/// - created at 0 when a service is configured (or first decided, without a config): the 8
///   `qfscale_scale_operations_total` (direction x result), `qfscale_decisions_limited_total`
///   with reason `capped_max`, and `qfscale_replica_count_mismatch_total`: 10 series. Alert
///   rules read these with `increase(...) > 0` (QfscaleFrequentFlapping,
///   QfscaleServiceAtMaxReplicas, the documented mismatch alert; a single failed or refused call
///   must show too), and `increase()`/`rate()` cannot see the sample that starts a series: a series
///   born at 1 reads as 0 increase, so the first scale-up of a service would be lost.
/// - created on first use: the other 18 reasons of `qfscale_decisions_limited_total` and the 10
///   stages of `qfscale_engine_stage_changes_total`. Only dashboards read them, as
///   `rate()` breakdowns; for a reason or stage that recurs, missing its first event in a rate
///   is harmless, and most of them never occur for a given service (a steady service uses 2-4
///   reasons and 1-3 stages).
/// With the 9 gauges a service has 19 series plus those it used, instead of 47 (9 + 8 + 19 + 10 +
/// 1). A service that leaves the config loses every child, pre-created or not. `add_routes` serves
/// them on our Beast server (never prometheus-cpp's civetweb Exposer):
///
/// | route | answer |
/// |---|---|
/// | GET /metrics | text exposition format 0.0.4 |
/// | GET /healthz | 200 "ok" while the process serves |
/// | GET /readyz | 503 until the first good tick, after a failed save, or stale (below); its first
/// line says the role | | GET /api/v1/status | `{"role": "leader" or "follower", "fencing_token": N
/// or null, "coordination": "etcd" or "none", "lease_remaining_seconds", "member", "last_error"}` |
/// | GET /api/v1/decisions | `{"decisions":[...]}`, the last decision of every service |
/// | GET /api/v1/decisions/{service} | that service's last decision; 404 JSON error if unknown |
///
/// /readyz is 200 on a follower (standing by is its job), else 503 before the first successful
/// tick, while the last tick could not save the state, and when no tick succeeded for
/// `ready_staleness`. Its body is the reason, then the last tick's errors, one `stage code:
/// message` line each (at most 20).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qfscale/http/server.h"
#include "qfscale/model/decision.h"
#include "qfscale/model/ids.h"
#include "qfscale/telemetry/decision_json.h"
#include "qfscale/telemetry/sink.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/result.h"

namespace qfscale::telemetry {

/// `Content-Type` of GET /metrics.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

/// Thread-safety: a plain value.
struct ExporterOptions {
  /// `version` label of qfscale_build_info; empty means this build's QFS_VERSION.
  std::string version;
  /// /readyz turns 503 when the last successful tick is older than this (monotonic clock).
  /// Zero disables the check: once ready, always ready.
  std::chrono::seconds ready_staleness{300};
};

/// Why /readyz says what it says. Thread-safety: a plain value.
struct Readiness {
  bool ready = false;
  /// "ok", "no successful reconcile yet", "the last tick could not save the controller state",
  /// "last successful reconcile 301s ago (limit 300s)".
  std::string message;
  std::vector<TickError> errors;  ///< the last tick's, ready or not
};

/// Where this controller stands among its peers (coordination/leader.h): `/api/v1/status`,
/// `/readyz` and the `qfscale_leader*` gauges. A controller without coordination acts alone and
/// is always the leader. Thread-safety: a plain value.
struct Leadership {
  bool coordinated = false;
  bool leader = true;
  /// Ours while leader, else the leader's last seen; 0: none (no coordination, or none seen).
  std::int64_t fencing_token = 0;
  /// Leader: seconds until it stops acting unless its lease is renewed; follower: of its own
  /// lease. 0 without one.
  double lease_remaining_seconds = 0;
  std::string member;      ///< this controller's name in the leader key
  std::string last_error;  ///< the last failed etcd call, empty after a success
  /// With sharding (coordination/sharding.h): the shard count (0: not sharded), the live members
  /// seen, and what this member owns and acts on.
  int shards = 0;
  int members = 0;
  int owned_shards = 0;
  int owned_services = 0;
  /// With sharding: shard claim and release transactions that failed since start (etcd
  /// unreachable or timing out); each is tried again on the next tick.
  std::int64_t claim_failures = 0;
  std::int64_t release_failures = 0;
  /// The other controllers under the prefix that run another config, so this one does not act
  /// (controller/shard_gate.h): "ctl-b (another config)", ...; empty while they agree.
  std::vector<std::string> disagreeing;
};

/// Thread-safety: every method is safe to call concurrently from any thread; `on_tick` and
/// `on_config` serialise on an internal mutex, readers see a tick either fully or not at all for
/// the decisions API (metric series are updated one by one).
class Exporter final : public TelemetrySink {
 public:
  /// Builds the registry and every metric family. Fails (InvalidInput) when prometheus-cpp
  /// rejects a name or label, e.g. a `version` that cannot be a label value; never throws.
  /// `clock` must outlive the exporter; it is read only for readiness (monotonic).
  [[nodiscard]] static Result<std::unique_ptr<Exporter>> create(ExporterOptions options,
                                                                const util::Clock& clock);

  ~Exporter() override;
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;
  Exporter(Exporter&&) = delete;
  Exporter& operator=(Exporter&&) = delete;

  void on_tick(const TickReport& report) override;
  void on_config(const ConfigReload& reload) override;
  /// One HTTP attempt of a Qianfan call, retries included (`qfscale_api_attempts_total`); may be
  /// called from any thread, between ticks or during one.
  void on_api_attempt(ApiAction action, ApiCode outcome);

  /// The text exposition of every family, families sorted by name and series by labels, so the
  /// output is deterministic.
  [[nodiscard]] std::string render_metrics() const;
  /// Names of every family the exporter created, sorted (for the docs cross-check).
  [[nodiscard]] std::vector<std::string> family_names() const;
  /// The last decision of every service that has one, sorted by service id.
  [[nodiscard]] std::vector<model::Decision> last_decisions() const;
  [[nodiscard]] std::optional<model::Decision> last_decision(const model::ServiceId& id) const;
  [[nodiscard]] Readiness readiness() const;
  /// Updates the leadership gauges and what /api/v1/status and /readyz say.
  void on_leadership(const Leadership& leadership);
  [[nodiscard]] Leadership leadership() const;

 private:
  /// readiness() without the role; the caller holds the lock.
  [[nodiscard]] Readiness readiness_alone() const;

  struct State;
  explicit Exporter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// Adds GET /metrics, /healthz, /readyz, /api/v1/status, /api/v1/decisions and
/// /api/v1/decisions/* to `router`.
/// `exporter` must outlive every server started with the router.
void add_routes(http::Router& router, const Exporter& exporter);

}  // namespace qfscale::telemetry
