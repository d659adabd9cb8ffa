#pragma once

/// An in-memory `coordination::Etcd` with etcd's revision semantics (one revision counter;
/// create/mod revisions; leases that own keys and can be expired by the test; compares on
/// version, create, mod, value, lease). Faults: `fail_next` makes the next N calls fail
/// Transient, `apply_then_fail_next` applies the next write but reports it failed (a lost
/// answer). Thread-safety: every method is safe from any thread.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "qfscale/coordination/etcd.h"

namespace qfscale::testing {

class FakeEtcd final : public coordination::Etcd {
 public:
  Result<coordination::RangeResult> range(const coordination::RangeRequest& request) override;
  Result<std::int64_t> put(const coordination::PutRequest& request) override;
  Result<coordination::DeleteResult> delete_range(
      const coordination::DeleteRequest& request) override;
  Result<coordination::TxnResult> txn(const coordination::TxnRequest& request) override;
  Result<coordination::Lease> lease_grant(std::chrono::seconds ttl) override;
  Result<coordination::Lease> lease_keep_alive(std::int64_t id) override;
  Status lease_revoke(std::int64_t id) override;
  Result<coordination::LeaseTimeToLive> lease_time_to_live(std::int64_t id) override;

  /// The lease ends as if its TTL ran out: its keys are deleted.
  void expire(std::int64_t lease);
  void fail_next(int calls);
  void apply_then_fail_next();
  [[nodiscard]] std::int64_t revision() const;
  [[nodiscard]] std::int64_t txns() const;
  [[nodiscard]] std::optional<coordination::KeyValue> get(const std::string& key) const;

 private:
  Status fault();
  std::int64_t put_locked(const coordination::PutRequest& request);
  coordination::RangeResult range_locked(const coordination::RangeRequest& request) const;

  mutable std::mutex mutex_;
  std::int64_t revision_ = 1;
  std::int64_t next_lease_ = 1000;
  std::int64_t txns_ = 0;
  int failures_ = 0;
  bool lose_answer_ = false;
  std::map<std::string, coordination::KeyValue> kvs_;
  std::map<std::int64_t, std::chrono::seconds> leases_;
};

}  // namespace qfscale::testing
