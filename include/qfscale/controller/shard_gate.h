#pragma once

/// The thin hook between the loop and sharding (`coordination.etcd.shards` >= 2): each live
/// controller acts only on the services of the shards it owns (coordination/sharding.h), every
/// call carries the owning shard's fencing token, and a controller never acts on a service whose
/// state it has not read from etcd since it took the service over.
///
/// Membership: the member's LeaderElector campaigns on its own key `<prefix>/members/<name>`,
/// so registering is winning that key under the member's lease, and `may_act` says whether the
/// lease is still safely alive (election.h: never past ttl minus the drift margin, never on a
/// tick that began before the registration).
///
/// `begin_tick`, before every tick: reads the members and the owner keys `<prefix>/shards/<k>`,
/// computes the assignment, and follows `plan_claims`: deletes the owner keys it holds but no
/// longer should (no call of its own is in flight between ticks), creates those of its newly
/// assigned shards that are free (txn on create revision 0, under its lease: the key's create
/// revision is the shard's fencing token). A shard the previous owner has not let go of yet is
/// waited for: the old owner releases at the start of its next tick, and only once the states
/// and last actuations of its services are in etcd (it saves again first if its last save
/// failed, and keeps the shards while that fails; its lease bounds the wait). When the owned
/// set or the token of an owned service changes (a member that lost its lease and registered
/// again retakes its shards under new tokens, after another member may have acted on them), the
/// controller is given the config restricted to the owned services (and their instances), and
/// the engine states of the services taken over (new, or under a new token) are read again from
/// etcd; retained services keep their in-memory state, unsaved ticks included. A failed read
/// skips the tick and retries on the next. A member that owns nothing skips it.
/// A handover therefore takes one or two ticks, and the new owner starts from the old owner's
/// last saved state, so stabilization windows resume exactly.
///
/// Members must agree on the config (coordination::agree): the membership key's value carries
/// the fingerprint of `shards` and the service -> instances map (rewritten under the same lease
/// when `set_config` changes it). While any other live member's differs, or a `<prefix>/leader`
/// key exists (a leader-mode controller on the same prefix), the member is assigned nothing: it
/// releases what it holds and does not act, and says so once per change (log, status, gauge).
/// The first tick after a reload that changed the fingerprint does the same, so that every
/// owner key claimed afterwards, hence every token sent, is newer than any sent before it (a
/// reload that joins two instance groups moves a service to a shard whose key may be older).
///
/// `api()` wraps the Qianfan client: ScaleService and ModifyService go out only for a service of
/// an owned shard, while the member's lease is safely alive, with that shard's token; each sent
/// ScaleService is recorded as the service's last actuation (etcd_state_store.h).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "qfscale/controller/audit_log.h"
#include "qfscale/controller/controller.h"
#include "qfscale/controller/etcd_state_store.h"
#include "qfscale/coordination/etcd.h"
#include "qfscale/coordination/leader.h"
#include "qfscale/qianfan/api.h"
#include "qfscale/telemetry/exporter.h"
#include "qfscale/util/clock.h"

namespace qfscale::controller {

struct ShardGateOptions {
  std::string prefix;  ///< "/qfscale"
  std::string member;  ///< this member's name, as in its membership key
  int shards = 2;
};

/// The membership key of `member` under `prefix`: "<prefix>/members/<member>".
[[nodiscard]] std::string member_key(std::string_view prefix, std::string_view member);

/// Thread-safety: `begin_tick` and `set_config` from the loop thread; the API from any thread.
class ShardGate {
 public:
  /// Everything must outlive the gate; `audit` and `exporter` may be null. `membership` is an
  /// elector whose key is member_key(prefix, member).
  ShardGate(coordination::LeaderElector& membership, coordination::Etcd& etcd,
            qianfan::QianfanApi& api, EtcdStateStore& store, const util::Clock& clock,
            AuditLog* audit, telemetry::Exporter* exporter,
            std::function<void(const std::string&)> log, ShardGateOptions options);
  ~ShardGate();
  ShardGate(const ShardGate&) = delete;
  ShardGate& operator=(const ShardGate&) = delete;
  ShardGate(ShardGate&&) = delete;
  ShardGate& operator=(ShardGate&&) = delete;

  [[nodiscard]] qianfan::QianfanApi& api();
  /// The whole fleet's config: at start and after every reload (the controller then holds the
  /// whole config until the next `begin_tick` restricts it again).
  void set_config(Config config);
  /// Whether the tick starting now may run (see above); reports to the exporter.
  [[nodiscard]] bool begin_tick(Controller& controller);
  void report() const;
  /// This tick does not act: calls get no token; the status is reported. Returns false, what
  /// begin_tick returns then.
  bool skip_tick(util::MonotonicTime started);
  /// The services this member acts on now, sorted.
  [[nodiscard]] std::set<std::string> owned_services() const;

 private:
  class FencedApi;
  bool apply(Controller& controller, std::int64_t member_token,
             const std::set<std::string>& services, const std::set<std::string>& fresh);
  void drop(Controller& controller, std::string_view reason);
  /// Whether every other live member (and no leader key) has this member's config fingerprint;
  /// on the tick that rewrites this member's own key after a reload changed it, false.
  bool agreed_with(const std::vector<coordination::KeyValue>& members,
                   const std::vector<coordination::KeyValue>& leader_key, std::int64_t lease);

  coordination::LeaderElector& membership_;
  coordination::Etcd& etcd_;
  EtcdStateStore& store_;
  const util::Clock& clock_;
  AuditLog* audit_;
  telemetry::Exporter* exporter_;
  std::function<void(const std::string&)> log_;
  ShardGateOptions options_;
  std::unique_ptr<FencedApi> fenced_;
  Config full_;
  bool config_changed_ = true;
  std::set<std::string> owned_services_;  ///< applied to the controller, states loaded
  /// The shard token of each owned service when its state was last read: a service whose token
  /// changes has been taken over again, by this member, perhaps after another one acted on it.
  std::map<std::string, std::int64_t, std::less<>> applied_tokens_;
  int owned_shards_ = 0;
  int members_ = 0;
  std::int64_t claim_failures_ = 0;       ///< claim txns that failed, since start
  std::int64_t release_failures_ = 0;     ///< release txns that failed, since start
  std::string fingerprint_;               ///< of full_ and options_.shards
  std::vector<std::string> disagreeing_;  ///< why not acting on the config, as last logged
};

}  // namespace qfscale::controller
