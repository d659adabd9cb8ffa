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
/// process is entitled to write.

#include <cstdint>
#include <map>
#include <string>

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

  /// Every service's state under the prefix; remembers their mod revisions for the next save.
  [[nodiscard]] Result<EngineStates> load() const override;
  [[nodiscard]] Status save(const EngineStates& states, util::SystemTime now) const override;

  /// etcd writes (transactions) and bytes of values sent so far, for benchmarks and tests.
  [[nodiscard]] std::int64_t writes() const { return writes_; }
  [[nodiscard]] std::int64_t bytes_written() const { return bytes_; }

 private:
  struct Known {
    std::int64_t mod_revision = 0;
    policy::EngineState state;
  };
  [[nodiscard]] std::string key_of(const model::ServiceId& id) const;
  void refresh(const std::vector<model::ServiceId>& services) const;

  coordination::Etcd& etcd_;
  std::string prefix_;
  std::string leader_key_;
  std::int64_t token_ = 0;
  mutable std::map<model::ServiceId, Known> known_;
  mutable std::int64_t writes_ = 0;
  mutable std::int64_t bytes_ = 0;
};

}  // namespace qfscale::controller
