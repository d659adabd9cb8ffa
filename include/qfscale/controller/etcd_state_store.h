#pragma once

/// The engine states in etcd (`coordination.etcd`), so that a new leader resumes its
/// predecessor's stabilization windows exactly. One key per service, `<prefix>/state/<id>`,
/// holding the state-file document (state_store.h) of that one service.
///
/// A save writes only the services whose state changed since this process last read or wrote
/// them, in transactions of at most 60 services, each guarded twice: the leader key's create
/// revision must still be this leader's fencing token (a deposed leader cannot overwrite its
/// successor's state), and each state key's mod revision must be the one this process last saw
/// (compare-and-swap: nobody else wrote it meanwhile). A refused save is an error naming which
/// guard failed; the revisions are read again so that the next save can succeed once this
/// process is entitled to write. A key refused because someone else wrote it has its value
/// adopted (state and last actuation) and its service listed in `take_conflicts`: the loop reads
/// that service's state again before acting on it, so no later save overwrites the newer one.
///
/// With sharding (`coordination.etcd.shards` >= 2) the guard is the member's own registration
/// key instead of the leader key (`set_guard`): a member whose lease has ended cannot write, and
/// the per-key compare-and-swap refuses a write over the state a newer owner of the service has
/// saved. Each owner writes only the services it owns (the controller's config holds no others).
///
/// The last actuation of each service (last_actuation.h) lives at `<prefix>/actuation/<id>`,
/// written in the same guarded transactions, compare-and-swap on its mod revision, only when it
/// changed: a steady service costs no write at all.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "qfscale/controller/last_actuation.h"
#include "qfscale/controller/state_store.h"
#include "qfscale/coordination/etcd.h"

namespace qfscale::controller {

/// Thread-safety: like StateStore, owned by the loop thread; `set_fencing_token` too.
class EtcdStateStore final : public StateStore {
 public:
  /// `prefix` as in the config ("/qfscale"); `etcd` must outlive the store.
  EtcdStateStore(coordination::Etcd& etcd, std::string prefix);

  /// The leader term the writes belong to (the leader key's create revision). Until set, every
  /// save is refused.
  void set_fencing_token(std::int64_t token) { token_ = token; }
  /// Guards the writes by this member's registration key (`key`, created at `token`) instead of
  /// the leader key.
  void set_member_guard(std::string key, std::int64_t token) {
    guard_ = Guard::Member;
    leader_key_ = std::move(key);
    token_ = token;
  }

  /// Remembers the last call sent for `service`; written with the next save. Thread-safe.
  void record_actuation(const model::ServiceId& service, LastActuation actuation);
  /// The last actuation of every service as last loaded, recorded or saved. Thread-safe.
  [[nodiscard]] std::map<model::ServiceId, LastActuation> actuations() const;

  /// Every service's state under the prefix; remembers their mod revisions for the next save.
  /// The last actuations are read again too, except a recorded one not yet saved whose key
  /// nobody has written since (a failed save must not lose it).
  [[nodiscard]] Result<EngineStates> load() const override;
  [[nodiscard]] Status save(const EngineStates& states, util::SystemTime now) const override;

  /// The services whose keys a refused save found written by someone else since the last
  /// load, to be read again before acting on them; cleared by this call and by `load`.
  [[nodiscard]] std::set<model::ServiceId> take_conflicts();

  /// etcd writes (transactions) and bytes of values sent so far, for benchmarks and tests.
  [[nodiscard]] std::int64_t writes() const { return writes_; }
  [[nodiscard]] std::int64_t bytes_written() const { return bytes_; }

 private:
  struct Known {
    std::int64_t mod_revision = 0;
    policy::EngineState state;
  };
  [[nodiscard]] std::string key_of(const model::ServiceId& id) const;
  [[nodiscard]] std::string actuation_key_of(const model::ServiceId& id) const;
  [[nodiscard]] Status load_actuations() const;

  coordination::Etcd& etcd_;
  std::string prefix_;
  std::string leader_key_;
  std::int64_t token_ = 0;
  enum class Guard { Leader, Member };
  Guard guard_ = Guard::Leader;
  mutable std::map<model::ServiceId, Known> known_;
  mutable std::set<model::ServiceId> conflicts_;
  struct KnownActuation {
    std::int64_t mod_revision = 0;
    std::optional<LastActuation> saved;   ///< as in etcd
    std::optional<LastActuation> latest;  ///< as recorded since
  };
  mutable std::mutex actuations_mutex_;
  mutable std::map<model::ServiceId, KnownActuation> actuations_;
  mutable std::int64_t writes_ = 0;
  mutable std::int64_t bytes_ = 0;
};

}  // namespace qfscale::controller
