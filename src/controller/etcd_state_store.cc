#include "qfscale/controller/etcd_state_store.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace qfscale::controller {
namespace {

// At most this many services per transaction: 61 compares and 60 puts stay under etcd's
// default --max-txn-ops of 128.
constexpr std::size_t kServicesPerTxn = 60;

}  // namespace

EtcdStateStore::EtcdStateStore(coordination::Etcd& etcd, std::string prefix)
    : StateStore(fmt::format("etcd {}/state/", prefix)),
      etcd_(etcd),
      prefix_(std::move(prefix)),
      leader_key_(prefix_ + "/leader") {}

std::string EtcdStateStore::key_of(const model::ServiceId& id) const {
  return fmt::format("{}/state/{}", prefix_, id.value);
}

Result<EngineStates> EtcdStateStore::load() const {
  const std::string prefix = prefix_ + "/state/";
  auto range = etcd_.range({.key = prefix, .range_end = coordination::prefix_end(prefix)});
  if (!range) return fail(std::move(range).error().with_context("reading the engine states"));
  EngineStates states;
  known_.clear();
  for (const auto& kv : range->kvs) {
    auto decoded = decode_states(kv.value);
    if (!decoded) {
      return fail(std::move(decoded).error().with_context(fmt::format("etcd key {}", kv.key)));
    }
    const model::ServiceId expected{kv.key.substr(prefix.size())};
    for (auto& [id, state] : *decoded) {
      if (id != expected) {
        return fail(ErrorCode::InvalidInput,
                    fmt::format("etcd key {} holds the state of service {}", kv.key, id));
      }
      known_[id] = Known{.mod_revision = kv.mod_revision, .state = state};
      states[id] = std::move(state);
    }
  }
  return states;
}

void EtcdStateStore::refresh(const std::vector<model::ServiceId>& services) const {
  for (const auto& id : services) {
    auto got = etcd_.range({.key = key_of(id)});
    if (!got) return;
    known_[id].mod_revision = got->kvs.empty() ? 0 : got->kvs.front().mod_revision;
  }
}

Status EtcdStateStore::save(const EngineStates& states, util::SystemTime now) const {
  if (token_ == 0) {
    return fail(ErrorCode::Internal, "no leader term: engine states are written only by a leader");
  }
  std::vector<const EngineStates::value_type*> changed;
  for (const auto& entry : states) {
    const auto it = known_.find(entry.first);
    if (it == known_.end() || !(it->second.state == entry.second)) changed.push_back(&entry);
  }
  for (std::size_t first = 0; first < changed.size(); first += kServicesPerTxn) {
    const auto last = std::min(changed.size(), first + kServicesPerTxn);
    coordination::TxnRequest txn;
    txn.compare.push_back({.key = leader_key_,
                           .target = coordination::CompareTarget::Create,
                           .result = coordination::CompareResult::Equal,
                           .number = token_});
    std::vector<model::ServiceId> ids;
    std::vector<std::string> values;
    for (std::size_t i = first; i < last; ++i) {
      const auto& [id, state] = *changed[i];
      const auto it = known_.find(id);
      txn.compare.push_back({.key = key_of(id),
                             .target = coordination::CompareTarget::Mod,
                             .result = coordination::CompareResult::Equal,
                             .number = it == known_.end() ? 0 : it->second.mod_revision});
      values.push_back(encode_states({{id, state}}, now));
      bytes_ += static_cast<std::int64_t>(values.back().size());
      txn.success.push_back(coordination::put_op(key_of(id), values.back()));
      ids.push_back(id);
    }
    txn.failure.push_back(coordination::range_op(leader_key_));
    ++writes_;
    auto result = etcd_.txn(txn);
    if (!result) {
      return fail(std::move(result).error().with_context(
          fmt::format("writing the engine states of {} services", ids.size())));
    }
    if (!result->succeeded) {
      std::int64_t holder = 0;
      if (!result->responses.empty() && !result->responses.front().range.kvs.empty()) {
        holder = result->responses.front().range.kvs.front().create_revision;
      }
      if (holder != token_) {
        return fail(ErrorCode::Remote,
                    fmt::format("engine states not written: this controller is no longer the "
                                "leader (the leader key's revision is {}, ours {})",
                                holder, token_));
      }
      refresh(ids);
      return fail(ErrorCode::Remote,
                  fmt::format("engine states not written: the state of a service among {} "
                              "changed in etcd since this leader read it; written next tick",
                              fmt::join(ids, ", ")));
    }
    for (std::size_t i = first; i < last; ++i) {
      const auto& [id, state] = *changed[i];
      known_[id] = Known{.mod_revision = result->revision, .state = state};
    }
  }
  return util::ok();
}

}  // namespace qfscale::controller
