#include "qfscale/controller/etcd_state_store.h"

#include <algorithm>
#include <functional>
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
  conflicts_.clear();
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
  if (auto actuations = load_actuations(); !actuations) return fail(std::move(actuations).error());
  return states;
}

std::string EtcdStateStore::actuation_key_of(const model::ServiceId& id) const {
  return fmt::format("{}/actuation/{}", prefix_, id.value);
}

Status EtcdStateStore::load_actuations() const {
  const std::string prefix = prefix_ + "/actuation/";
  auto range = etcd_.range({.key = prefix, .range_end = coordination::prefix_end(prefix)});
  if (!range) return fail(std::move(range).error().with_context("reading the last actuations"));
  std::map<model::ServiceId, KnownActuation> loaded;
  for (const auto& kv : range->kvs) {
    auto decoded = decode_actuation(kv.value);
    if (!decoded) {
      return fail(std::move(decoded).error().with_context(fmt::format("etcd key {}", kv.key)));
    }
    loaded[model::ServiceId{kv.key.substr(prefix.size())}] =
        KnownActuation{.mod_revision = kv.mod_revision, .saved = *decoded, .latest = *decoded};
  }
  const std::lock_guard lock(actuations_mutex_);
  // A call sent but not yet saved (the save failed) stays the last actuation as long as nobody
  // has written the key since: a reshard reads the states again and must not lose it.
  for (auto& [id, known] : actuations_) {
    if (!known.latest || known.latest == known.saved) continue;
    const auto it = loaded.find(id);
    const std::int64_t in_etcd = it == loaded.end() ? 0 : it->second.mod_revision;
    if (in_etcd != known.mod_revision) continue;
    loaded[id].latest = std::move(known.latest);
  }
  actuations_ = std::move(loaded);
  return util::ok();
}

void EtcdStateStore::record_actuation(const model::ServiceId& service, LastActuation actuation) {
  const std::lock_guard lock(actuations_mutex_);
  actuations_[service].latest = std::move(actuation);
}

std::map<model::ServiceId, LastActuation> EtcdStateStore::actuations() const {
  const std::lock_guard lock(actuations_mutex_);
  std::map<model::ServiceId, LastActuation> out;
  for (const auto& [id, known] : actuations_) {
    if (known.latest) out.emplace(id, *known.latest);
  }
  return out;
}

std::set<model::ServiceId> EtcdStateStore::take_conflicts() {
  return std::exchange(conflicts_, {});
}

namespace {

// One compare-and-swap put: `key` if its mod revision is still `expected`.
struct Write {
  std::string key;
  std::int64_t expected = 0;
  std::string value;
  std::function<void(std::int64_t)> written;  ///< after the write, with its revision
  /// After a refused write, with etcd's key (null: absent).
  std::function<void(const coordination::KeyValue*)> refreshed;
};

}  // namespace

Status EtcdStateStore::save(const EngineStates& states, util::SystemTime now) const {
  if (token_ == 0) {
    return fail(ErrorCode::Internal, "no leader term: engine states are written only by a leader");
  }
  std::vector<Write> writes;
  for (const auto& [id, state] : states) {
    const auto it = known_.find(id);
    if (it != known_.end() && it->second.state == state) continue;
    writes.push_back({.key = key_of(id),
                      .expected = it == known_.end() ? 0 : it->second.mod_revision,
                      .value = encode_states({{id, state}}, now),
                      .written =
                          [this, id = id, state = state](std::int64_t revision) {
                            known_[id] = Known{.mod_revision = revision, .state = state};
                          },
                      .refreshed =
                          [this, id = id](const coordination::KeyValue* kv) {
                            // Adopt etcd's value: the next save then builds on it, never over it,
                            // and the loop reads it again before acting on the service
                            // (take_conflicts).
                            auto& known = known_[id];
                            const std::int64_t revision = kv == nullptr ? 0 : kv->mod_revision;
                            if (revision == known.mod_revision) return;
                            known.mod_revision = revision;
                            if (kv != nullptr) {
                              if (auto decoded = decode_states(kv->value);
                                  decoded && decoded->count(id) != 0) {
                                known.state = decoded->at(id);
                              }
                            }
                            conflicts_.insert(id);
                          }});
  }
  {
    const std::lock_guard lock(actuations_mutex_);
    for (const auto& [id, known] : actuations_) {
      if (!known.latest || known.saved == known.latest) continue;
      writes.push_back({.key = actuation_key_of(id),
                        .expected = known.mod_revision,
                        .value = encode_actuation(*known.latest),
                        .written =
                            [this, id = id, sent = *known.latest](std::int64_t rev) {
                              const std::lock_guard relock(actuations_mutex_);
                              auto& entry = actuations_[id];
                              entry.mod_revision = rev;
                              entry.saved = sent;
                            },
                        .refreshed =
                            [this, id = id](const coordination::KeyValue* kv) {
                              // A newer owner's call is the last one now, not ours.
                              const std::lock_guard relock(actuations_mutex_);
                              auto& entry = actuations_[id];
                              const std::int64_t rev = kv == nullptr ? 0 : kv->mod_revision;
                              if (rev == entry.mod_revision) return;
                              entry.mod_revision = rev;
                              if (kv == nullptr) return;
                              if (auto decoded = decode_actuation(kv->value)) {
                                entry.saved = *decoded;
                                entry.latest = *decoded;
                              }
                            }});
    }
  }
  for (std::size_t first = 0; first < writes.size(); first += kServicesPerTxn) {
    const auto last = std::min(writes.size(), first + kServicesPerTxn);
    coordination::TxnRequest txn;
    txn.compare.push_back({.key = leader_key_,
                           .target = coordination::CompareTarget::Create,
                           .result = coordination::CompareResult::Equal,
                           .number = token_});
    std::vector<std::string> keys;
    for (std::size_t i = first; i < last; ++i) {
      const auto& w = writes[i];
      txn.compare.push_back({.key = w.key,
                             .target = coordination::CompareTarget::Mod,
                             .result = coordination::CompareResult::Equal,
                             .number = w.expected});
      bytes_ += static_cast<std::int64_t>(w.value.size());
      txn.success.push_back(coordination::put_op(w.key, w.value));
      keys.push_back(w.key);
    }
    txn.failure.push_back(coordination::range_op(leader_key_));
    ++writes_;
    auto result = etcd_.txn(txn);
    if (!result) {
      return fail(std::move(result).error().with_context(
          fmt::format("writing the engine states of {} services", keys.size())));
    }
    if (!result->succeeded) {
      std::int64_t holder = 0;
      if (!result->responses.empty() && !result->responses.front().range.kvs.empty()) {
        holder = result->responses.front().range.kvs.front().create_revision;
      }
      if (holder != token_) {
        return fail(ErrorCode::Remote,
                    fmt::format("engine states not written: this controller is no longer the {} "
                                "(the {} key's revision is {}, ours {})",
                                guard_ == Guard::Leader ? "leader" : "registered member",
                                guard_ == Guard::Leader ? "leader" : "member", holder, token_));
      }
      for (std::size_t i = first; i < last; ++i) {
        auto got = etcd_.range({.key = writes[i].key});
        if (!got) break;
        writes[i].refreshed(got->kvs.empty() ? nullptr : &got->kvs.front());
      }
      return fail(ErrorCode::Remote,
                  fmt::format("engine states not written: a key among {} changed in etcd since "
                              "this controller read it; written next tick",
                              fmt::join(keys, ", ")));
    }
    for (std::size_t i = first; i < last; ++i) writes[i].written(result->revision);
  }
  return util::ok();
}

}  // namespace qfscale::controller
