#pragma once

/// The glue around `elect` (election.h): performs the steps it asks for against etcd and feeds
/// the answers back. `poll()` runs until `elect` says Wait; `start()` polls on a thread of its own
/// every `poll_every` until `stop()`. The controller asks `may_act` at the start of a tick and
/// before every call, and reads `view()` for /api/v1/status, /metrics and /readyz.
///
/// The leader key holds the member's name; its lease is the member's lease; campaigning is
/// `txn(if create_revision(key) == 0 then put(key, name, lease) else range(key))`, and the
/// winning put's revision is the fencing token.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "qfscale/coordination/election.h"
#include "qfscale/coordination/etcd.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/result.h"

namespace qfscale::coordination {

struct LeaderOptions {
  std::string key;   ///< e.g. "/qfscale/leader"
  std::string name;  ///< this member, stored as the key's value unless `set_value` says else
  ElectionConfig election;
  std::chrono::milliseconds poll_every{100};
};

/// What the endpoints show. Plain data.
struct LeaderView {
  Role role = Role::Follower;
  std::int64_t fencing_token = 0;  ///< ours while leader, else the leader's last seen (0: none)
  std::int64_t lease_id = 0;
  /// Seconds until this member stops acting (leader) or until its lease may lapse; <= 0: none.
  double lease_remaining_seconds = 0;
  std::string last_error;  ///< the last failed etcd call, empty after a success
};

/// Thread-safety: every public method may be called from any thread.
class LeaderElector {
 public:
  LeaderElector(Etcd& etcd, const util::Clock& clock, LeaderOptions options);
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;
  LeaderElector(LeaderElector&&) = delete;
  LeaderElector& operator=(LeaderElector&&) = delete;

  /// One round: asks `elect` and performs its steps until it says Wait.
  void poll();
  /// Polls every `poll_every` on a background thread.
  void start();
  /// Stops the thread (if any) and, when holding a lease, revokes it so that another member
  /// takes over at once instead of after the TTL.
  void stop();

  /// What later campaigns put as the key's value (default: the name). The key already held keeps
  /// its value: whoever changes it rewrites the key (sharding: the shard gate, after a reload).
  void set_value(std::string value);
  [[nodiscard]] std::string value() const;

  [[nodiscard]] ActDecision may_act(MonotonicTime tick_started) const;
  [[nodiscard]] LeaderView view() const;
  [[nodiscard]] ElectionState state() const;
  [[nodiscard]] const LeaderOptions& options() const { return options_; }

 private:
  ElectionStep feed(const ElectionInput& input);
  ElectionInput perform(Next next);

  Etcd& etcd_;
  const util::Clock& clock_;
  LeaderOptions options_;
  mutable std::mutex mutex_;
  ElectionState state_;
  std::string last_error_;
  std::string value_;
  std::mutex poll_mutex_;  ///< one poll at a time
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace qfscale::coordination
