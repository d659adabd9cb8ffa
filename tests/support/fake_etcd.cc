#include "support/fake_etcd.h"

#include <fmt/format.h>

namespace qfscale::testing {

using namespace coordination;

Status FakeEtcd::fault() {
  if (failures_ > 0) {
    --failures_;
    return fail(ErrorCode::Transient, "fake etcd: injected failure");
  }
  return util::ok();
}

RangeResult FakeEtcd::range_locked(const RangeRequest& request) const {
  RangeResult out{.revision = revision_};
  if (request.range_end.empty()) {
    if (auto it = kvs_.find(request.key); it != kvs_.end()) out.kvs.push_back(it->second);
  } else {
    for (auto it = kvs_.lower_bound(request.key); it != kvs_.end() && it->first < request.range_end;
         ++it) {
      out.kvs.push_back(it->second);
    }
  }
  out.count = static_cast<std::int64_t>(out.kvs.size());
  return out;
}

std::int64_t FakeEtcd::put_locked(const PutRequest& request) {
  auto& kv = kvs_[request.key];
  if (kv.create_revision == 0) {
    kv.key = request.key;
    kv.create_revision = revision_;
  }
  kv.value = request.value;
  kv.mod_revision = revision_;
  kv.version += 1;
  kv.lease = request.lease;
  return revision_;
}

Result<RangeResult> FakeEtcd::range(const RangeRequest& request) {
  const std::lock_guard lock(mutex_);
  if (auto f = fault(); !f) return fail(f.error());
  return range_locked(request);
}

Result<std::int64_t> FakeEtcd::put(const PutRequest& request) {
  const std::lock_guard lock(mutex_);
  if (auto f = fault(); !f) return fail(f.error());
  ++revision_;
  return put_locked(request);
}

Result<DeleteResult> FakeEtcd::delete_range(const DeleteRequest& request) {
  const std::lock_guard lock(mutex_);
  if (auto f = fault(); !f) return fail(f.error());
  ++revision_;
  const auto deleted = kvs_.erase(request.key);
  return DeleteResult{.revision = revision_, .deleted = static_cast<std::int64_t>(deleted)};
}

Result<TxnResult> FakeEtcd::txn(const TxnRequest& request) {
  const std::lock_guard lock(mutex_);
  if (auto f = fault(); !f) return fail(f.error());
  ++txns_;
  bool held = true;
  for (const auto& c : request.compare) {
    const auto it = kvs_.find(c.key);
    const KeyValue none;
    const KeyValue& kv = it == kvs_.end() ? none : it->second;
    std::int64_t have = 0;
    switch (c.target) {
      case CompareTarget::Version:
        have = kv.version;
        break;
      case CompareTarget::Create:
        have = kv.create_revision;
        break;
      case CompareTarget::Mod:
        have = kv.mod_revision;
        break;
      case CompareTarget::Lease:
        have = kv.lease;
        break;
      case CompareTarget::Value:
        break;
    }
    const int order = c.target == CompareTarget::Value ? kv.value.compare(c.value)
                                                       : (have < c.number ? -1 : have > c.number);
    switch (c.result) {
      case CompareResult::Equal:
        held = held && order == 0;
        break;
      case CompareResult::NotEqual:
        held = held && order != 0;
        break;
      case CompareResult::Greater:
        held = held && order > 0;
        break;
      case CompareResult::Less:
        held = held && order < 0;
        break;
    }
  }
  const auto& ops = held ? request.success : request.failure;
  bool writes = false;
  for (const auto& op : ops) writes = writes || op.kind != OpKind::Range;
  if (writes) ++revision_;
  TxnResult out{.succeeded = held};
  for (const auto& op : ops) {
    OpResult r{.kind = op.kind};
    switch (op.kind) {
      case OpKind::Range:
        r.range = range_locked(op.range);
        break;
      case OpKind::Put:
        r.revision = put_locked(op.put);
        break;
      case OpKind::Delete:
        r.deleted = static_cast<std::int64_t>(kvs_.erase(op.del.key));
        r.revision = revision_;
        break;
    }
    out.responses.push_back(std::move(r));
  }
  out.revision = revision_;
  if (lose_answer_) {
    lose_answer_ = false;
    return fail(ErrorCode::Transient, "fake etcd: the answer was lost");
  }
  return out;
}

Result<Lease> FakeEtcd::lease_grant(std::chrono::seconds ttl) {
  const std::lock_guard lock(mutex_);
  if (auto f = fault(); !f) return fail(f.error());
  const auto id = ++next_lease_;
  leases_[id] = ttl;
  return Lease{.id = id, .ttl = ttl};
}

Result<Lease> FakeEtcd::lease_keep_alive(std::int64_t id) {
  const std::lock_guard lock(mutex_);
  if (auto f = fault(); !f) return fail(f.error());
  const auto it = leases_.find(id);
  if (it == leases_.end()) {
    Error e = util::make_error(ErrorCode::Remote, fmt::format("lease {} not found", id));
    e.remote_code = "NotFound";
    return fail(std::move(e));
  }
  return Lease{.id = id, .ttl = it->second};
}

Status FakeEtcd::lease_revoke(std::int64_t id) {
  {
    const std::lock_guard lock(mutex_);
    if (auto f = fault(); !f) return fail(f.error());
  }
  expire(id);
  return util::ok();
}

Result<LeaseTimeToLive> FakeEtcd::lease_time_to_live(std::int64_t id) {
  const std::lock_guard lock(mutex_);
  const auto it = leases_.find(id);
  if (it == leases_.end()) return LeaseTimeToLive{.id = id, .ttl = std::chrono::seconds{-1}};
  return LeaseTimeToLive{.id = id, .ttl = it->second, .granted_ttl = it->second};
}

void FakeEtcd::expire(std::int64_t lease) {
  const std::lock_guard lock(mutex_);
  if (leases_.erase(lease) == 0) return;
  ++revision_;
  std::erase_if(kvs_, [&](const auto& entry) { return entry.second.lease == lease; });
}

void FakeEtcd::fail_next(int calls) {
  const std::lock_guard lock(mutex_);
  failures_ = calls;
}

void FakeEtcd::apply_then_fail_next() {
  const std::lock_guard lock(mutex_);
  lose_answer_ = true;
}

std::int64_t FakeEtcd::revision() const {
  const std::lock_guard lock(mutex_);
  return revision_;
}

std::int64_t FakeEtcd::txns() const {
  const std::lock_guard lock(mutex_);
  return txns_;
}

std::optional<KeyValue> FakeEtcd::get(const std::string& key) const {
  const std::lock_guard lock(mutex_);
  const auto it = kvs_.find(key);
  if (it == kvs_.end()) return std::nullopt;
  return it->second;
}

}  // namespace qfscale::testing
