#pragma once

/// The thin hook between the loop and the leader election (`coordination.etcd`): only the
/// leader acts, every call it makes carries its fencing token, and a new leader starts from the
/// engine states its predecessor saved.
///
/// `begin_tick` runs before every tick (RunOptions::before_tick). It asks the elector whether
/// this tick may act (coordination::may_act: leader, tick not begun before the election, lease
/// safely alive); a follower skips the tick. On the first tick of a new term it sets the token
/// on the state store and the audit log and reloads the states from etcd; a term whose states
/// cannot be read skips the tick (acting on empty history could scale down inside a
/// stabilization window). `api()` wraps the Qianfan client: ScaleService and ModifyService ask
/// the elector again right before sending, and go out with `x-qfscale-fencing-token` only
/// while the tick's term is still safely on; otherwise the call is not sent (Remote
/// "NotLeader", re-planned by whoever leads next).
///
/// A leader also stands down while any `<prefix>/members/` key exists: a controller with
/// `coordination.etcd.shards` >= 2 on the same prefix (a rolling change of `shards`) acts on its
/// shards' services without looking at the leader key, and its shard gate stands down while the
/// leader key exists, so neither acts until all run the same mode. One keys range per tick.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "qfscale/controller/audit_log.h"
#include "qfscale/controller/controller.h"
#include "qfscale/controller/etcd_state_store.h"
#include "qfscale/coordination/leader.h"
#include "qfscale/qianfan/api.h"
#include "qfscale/telemetry/exporter.h"
#include "qfscale/util/clock.h"

namespace qfscale::controller {

/// Thread-safety: `begin_tick` from the loop thread; the wrapped API from any thread.
class LeaderGate {
 public:
  /// Everything must outlive the gate; `audit` and `exporter` may be null.
  /// `prefix`: the etcd prefix, e.g. "/qfscale", whose members/ keys are looked for.
  LeaderGate(coordination::LeaderElector& elector, coordination::Etcd& etcd, std::string prefix,
             qianfan::QianfanApi& api, EtcdStateStore& store, const util::Clock& clock,
             AuditLog* audit, telemetry::Exporter* exporter,
             std::function<void(const std::string&)> log);
  ~LeaderGate();
  LeaderGate(const LeaderGate&) = delete;
  LeaderGate& operator=(const LeaderGate&) = delete;
  LeaderGate(LeaderGate&&) = delete;
  LeaderGate& operator=(LeaderGate&&) = delete;

  /// The API to give the controller.
  [[nodiscard]] qianfan::QianfanApi& api();
  /// Whether the tick starting now may run (see above); reports the role to the exporter.
  [[nodiscard]] bool begin_tick(Controller& controller);
  /// Reports the role to the exporter (between ticks too, e.g. from a timer).
  void report() const;
  /// This tick does not act: calls get no token; the status is reported. Returns false, what
  /// begin_tick returns then.
  bool skip_tick(util::MonotonicTime started);

 private:
  class FencedApi;
  /// Whether no shard member is registered under the prefix (logs a change).
  bool alone_in_mode();

  coordination::LeaderElector& elector_;
  coordination::Etcd& etcd_;
  std::string prefix_;
  EtcdStateStore& store_;
  const util::Clock& clock_;
  AuditLog* audit_;
  telemetry::Exporter* exporter_;
  std::function<void(const std::string&)> log_;
  std::unique_ptr<FencedApi> fenced_;
  std::int64_t term_ = 0;                 ///< the token whose states were loaded
  std::vector<std::string> disagreeing_;  ///< shard members seen, as last logged
};

}  // namespace qfscale::controller
