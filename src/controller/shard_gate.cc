#include "qfscale/controller/shard_gate.h"

#include <charconv>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "qfscale/coordination/sharding.h"

#include "controller/fencing_api.h"

namespace qfscale::controller {
namespace {

std::string shards_prefix(std::string_view prefix) { return fmt::format("{}/shards/", prefix); }
std::string members_prefix(std::string_view prefix) { return fmt::format("{}/members/", prefix); }

// The config with only `services` and the instances they may use.
Config restricted(const Config& full, const std::set<std::string>& services) {
  Config out = full;
  out.services.clear();
  std::set<std::string> instances;
  for (const auto& s : full.services) {
    if (services.count(s.id.value) == 0) continue;
    out.services.push_back(s);
    for (const auto& i : s.instances) instances.insert(i.value);
  }
  out.instances.clear();
  for (const auto& i : full.instances) {
    if (instances.count(i.id.value) != 0) out.instances.push_back(i);
  }
  return out;
}

// What `assign` looks at: every service and its instances.
std::vector<coordination::ShardedService> sharded(const Config& config) {
  std::vector<coordination::ShardedService> services;
  for (const auto& s : config.services) {
    coordination::ShardedService service{.id = s.id.value, .instances = {}};
    for (const auto& i : s.instances) service.instances.push_back(i.value);
    services.push_back(std::move(service));
  }
  return services;
}

}  // namespace

std::string member_key(std::string_view prefix, std::string_view member) {
  return members_prefix(prefix) + std::string(member);
}

class ShardGate::FencedApi final : public FencingApi {
 public:
  FencedApi(qianfan::QianfanApi& inner, const coordination::LeaderElector& membership,
            EtcdStateStore& store, const util::Clock& clock)
      : FencingApi(inner), membership_(membership), store_(store), clock_(clock) {}

  void begin(util::MonotonicTime started, std::int64_t member_token,
             std::map<std::string, std::int64_t, std::less<>> tokens) {
    const std::lock_guard lock(mutex_);
    started_ = started;
    member_token_ = member_token;
    tokens_ = std::move(tokens);
  }

 private:
  void on_scaled(const qianfan::ScaleServiceRequest& request, std::int64_t token) override {
    store_.record_actuation(request.service, {.instance = request.instance,
                                              .replicas = request.replicas.value,
                                              .at = clock_.system_now(),
                                              .fencing_token = token});
  }

  // The service's shard token, if this member may still act on it right now.
  Result<std::int64_t> token_for(std::string_view action,
                                 const model::ServiceId& service) const override {
    util::MonotonicTime started;
    std::int64_t member_token = 0;
    std::int64_t token = 0;
    {
      const std::lock_guard lock(mutex_);
      started = started_;
      member_token = member_token_;
      const auto it = tokens_.find(service.value);
      if (it != tokens_.end()) token = it->second;
    }
    const auto decision = membership_.may_act(started);
    std::string_view why;
    if (!decision.act) {
      why = decision.reason;
    } else if (decision.token != member_token || member_token == 0) {
      why = "this member's registration changed during the tick";
    } else if (token == 0) {
      why = "its shard is not owned by this member";
    } else {
      return token;
    }
    Error e = util::make_error(ErrorCode::Remote,
                               fmt::format("{} of {} not sent: {}", action, service, why));
    e.remote_code = "NotOwner";
    return fail(std::move(e));
  }

  const coordination::LeaderElector& membership_;
  EtcdStateStore& store_;
  const util::Clock& clock_;
  mutable std::mutex mutex_;
  util::MonotonicTime started_;
  std::int64_t member_token_ = 0;
  std::map<std::string, std::int64_t, std::less<>> tokens_;
};

ShardGate::ShardGate(coordination::LeaderElector& membership, coordination::Etcd& etcd,
                     qianfan::QianfanApi& api, EtcdStateStore& store, const util::Clock& clock,
                     AuditLog* audit, telemetry::Exporter* exporter,
                     std::function<void(const std::string&)> log, ShardGateOptions options)
    : membership_(membership),
      etcd_(etcd),
      store_(store),
      clock_(clock),
      audit_(audit),
      exporter_(exporter),
      log_(std::move(log)),
      options_(std::move(options)),
      fenced_(std::make_unique<FencedApi>(api, membership, store, clock)) {}

ShardGate::~ShardGate() = default;

qianfan::QianfanApi& ShardGate::api() { return *fenced_; }

void ShardGate::set_config(Config config) {
  full_ = std::move(config);
  config_changed_ = true;
  // Registered from now on with this value; a key already held is rewritten by begin_tick.
  fingerprint_ = coordination::config_fingerprint(sharded(full_), options_.shards);
  membership_.set_value(coordination::member_value(options_.member, fingerprint_));
}

std::set<std::string> ShardGate::owned_services() const { return owned_services_; }

void ShardGate::report() const {
  if (exporter_ == nullptr) return;
  const auto view = membership_.view();
  exporter_->on_leadership({.coordinated = true,
                            .leader = view.role == coordination::Role::Leader,
                            .fencing_token = view.fencing_token,
                            .lease_remaining_seconds = view.lease_remaining_seconds,
                            .member = options_.member,
                            .last_error = view.last_error,
                            .shards = options_.shards,
                            .members = members_,
                            .owned_shards = owned_shards_,
                            .owned_services = static_cast<int>(owned_services_.size()),
                            .claim_failures = claim_failures_,
                            .release_failures = release_failures_,
                            .disagreeing = disagreeing_});
}

bool ShardGate::skip_tick(util::MonotonicTime started) {
  fenced_->begin(started, 0, {});
  report();
  return false;
}

void ShardGate::drop(Controller& controller, std::string_view reason) {
  if (!owned_services_.empty() && log_) {
    log_(fmt::format("no longer acting on {} services: {}", owned_services_.size(), reason));
  }
  // Forget them: a later take-over must read their states from etcd again.
  if (!owned_services_.empty() || config_changed_) (void)apply(controller, 0, {}, {});
  applied_tokens_.clear();
  owned_shards_ = 0;
  fenced_->begin(clock_.monotonic_now(), 0, {});
  report();
}

bool ShardGate::apply(Controller& controller, std::int64_t member_token,
                      const std::set<std::string>& services, const std::set<std::string>& fresh) {
  if (auto reloaded = controller.reload(restricted(full_, services), ReloadKind::Reshard);
      !reloaded) {
    if (log_) log_(fmt::format("sharding: cannot apply the owned services: {}", reloaded.error()));
    return false;
  }
  config_changed_ = false;
  owned_services_.clear();
  if (services.empty()) return true;
  store_.set_member_guard(member_key(options_.prefix, options_.member), member_token);
  // Only the services taken over are read again: a retained one keeps its in-memory state,
  // which may hold a tick whose save failed (etcd has an older one).
  std::set<model::ServiceId> only;
  for (const auto& s : fresh) only.insert(model::ServiceId{s});
  if (!only.empty()) {
    if (auto loaded = controller.reload_states(only); !loaded) {
      if (log_) {
        log_(fmt::format(
            "the engine states of the owned services could not be read from etcd, so this tick "
            "does not act: {}",
            loaded.error()));
      }
      return false;
    }
  }
  owned_services_ = services;
  return true;
}

bool ShardGate::agreed_with(const std::vector<coordination::KeyValue>& members,
                            const std::vector<coordination::KeyValue>& leader_key,
                            std::int64_t lease) {
  const auto own = member_key(options_.prefix, options_.member);
  const auto value = coordination::member_value(options_.member, fingerprint_);
  std::vector<coordination::PeerConfig> peers;
  bool changed = false;
  for (const auto& kv : members) {
    if (kv.key == own) {
      // Registered before a reload changed the config: tell the others (same lease, so the
      // key's create revision, this member's token, stays).
      if (kv.value != value && kv.lease == lease && lease != 0) {
        changed = true;
        auto rewritten = etcd_.txn({.compare = {{.key = own,
                                                 .target = coordination::CompareTarget::Lease,
                                                 .result = coordination::CompareResult::Equal,
                                                 .number = lease}},
                                    .success = {coordination::put_op(own, value, lease)},
                                    .failure = {}});
        if (!rewritten && log_) {
          log_(fmt::format("sharding: cannot write this member's config fingerprint: {}",
                           rewritten.error()));
        }
      }
      continue;
    }
    peers.push_back({.member = kv.key.substr(members_prefix(options_.prefix).size()),
                     .fingerprint = coordination::fingerprint_in(kv.value)});
  }
  std::string leader;
  if (!leader_key.empty()) {
    leader = leader_key.front().value.empty() ? std::string("?") : leader_key.front().value;
  }
  const auto agreement = coordination::agree(options_.member, fingerprint_, peers, leader);
  if (agreement.disagreeing != disagreeing_ && log_) {
    log_(agreement.act
             ? std::string("sharding: the members agree on the config again")
             : fmt::format("sharding: members disagree on the config: {}; this member acts on "
                           "nothing until all run the same services, instances and shards",
                           fmt::join(agreement.disagreeing, ", ")));
  }
  disagreeing_ = agreement.disagreeing;
  if (changed && agreement.act && log_) {
    log_(
        "sharding: this member's config changed: releasing its shards to claim them again, so "
        "that a service moved to another shard never gets an older fencing token");
  }
  // A reload may move a group to a shard whose key is older than its old shard's: releasing
  // everything once makes every key claimed afterwards newer than any call made before.
  return agreement.act && !changed;
}

bool ShardGate::begin_tick(Controller& controller) {
  const auto started = clock_.monotonic_now();
  // A service whose state key a newer owner wrote (our save was refused) is read again before
  // this member acts on it, as if taken over anew.
  for (const auto& id : store_.take_conflicts()) applied_tokens_.erase(id.value);
  const auto decision = membership_.may_act(started);
  if (!decision.act) {
    drop(controller, decision.reason);
    return false;
  }
  // Read apart from may_act: the election thread may have dropped the lease in between. A claim
  // put under lease 0 would be a key that never expires; act on nothing this tick instead.
  const auto lease = membership_.state().lease_id;
  if (lease == 0) {
    return skip_tick(started);
  }
  auto members =
      etcd_.range({.key = members_prefix(options_.prefix),
                   .range_end = coordination::prefix_end(members_prefix(options_.prefix))});
  auto owners =
      etcd_.range({.key = shards_prefix(options_.prefix),
                   .range_end = coordination::prefix_end(shards_prefix(options_.prefix))});
  auto leader_key = etcd_.range({.key = options_.prefix + "/leader"});
  if (!members || !owners || !leader_key) {
    if (log_) {
      log_(
          fmt::format("sharding: cannot read the members and shard owners, so this tick does "
                      "not act: {}",
                      (!members  ? members.error()
                       : !owners ? owners.error()
                                 : leader_key.error())));
    }
    return skip_tick(started);
  }
  std::vector<std::string> names;
  for (const auto& kv : members->kvs) {
    names.push_back(kv.key.substr(members_prefix(options_.prefix).size()));
  }
  members_ = static_cast<int>(names.size());
  const bool agreed = agreed_with(members->kvs, leader_key->kvs, lease);
  std::map<int, coordination::ShardClaim> claims;
  for (const auto& kv : owners->kvs) {
    const auto digits = std::string_view(kv.key).substr(shards_prefix(options_.prefix).size());
    int shard = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), shard);
    if (ec != std::errc() || end != digits.data() + digits.size()) continue;
    claims[shard] = {.member = kv.value, .lease = kv.lease, .revision = kv.create_revision};
  }
  // Members that disagree on the config compute different assignments: nobody is assigned
  // anything, so this member releases all it holds and acts on nothing until they agree.
  const auto assignment = coordination::assign(agreed ? names : std::vector<std::string>{},
                                               sharded(full_), options_.shards);
  const auto plan = coordination::plan_claims(assignment, claims, options_.member, lease);

  // Before letting shards go, their services' last states and actuations must be in etcd, for
  // the next owner to resume from: save again (a no-op unless the last save failed), and keep
  // the shards while it fails (acting on them as before; the lease bounds the wait).
  std::vector<int> release = plan.release;
  std::map<int, std::int64_t> tokens;
  if (!release.empty()) {
    if (auto saved = store_.save(controller.states(), clock_.system_now()); !saved) {
      if (log_) {
        log_(
            fmt::format("sharding: not releasing {} shards yet: the last states of their "
                        "services are not saved: {}",
                        release.size(), saved.error()));
      }
      for (const int k : release) tokens[k] = claims[k].revision;
      release.clear();
    }
  }
  for (const int k : release) {
    const auto key = shards_prefix(options_.prefix) + std::to_string(k);
    auto released = etcd_.txn({.compare = {{.key = key,
                                            .target = coordination::CompareTarget::Lease,
                                            .result = coordination::CompareResult::Equal,
                                            .number = lease}},
                               .success = {coordination::delete_op(key)},
                               .failure = {}});
    if (!released) ++release_failures_;  // the key stays until the next try or its lease ends
    if (log_) {
      const auto& to = assignment.owner_of_shard[static_cast<std::size_t>(k)];
      log_(released ? fmt::format("sharding: released shard {} to {}", k,
                                  to.empty() ? std::string_view("nobody") : to)
                    : fmt::format("sharding: could not release shard {}: {}", k, released.error()));
    }
  }
  for (const int k : plan.keep) tokens[k] = claims[k].revision;
  int claims_failed = 0;
  std::optional<Error> claim_error;
  for (const int k : plan.claim) {
    const auto key = shards_prefix(options_.prefix) + std::to_string(k);
    auto claimed = etcd_.txn({.compare = {{.key = key,
                                           .target = coordination::CompareTarget::Create,
                                           .result = coordination::CompareResult::Equal,
                                           .number = 0}},
                              .success = {coordination::put_op(key, options_.member, lease)},
                              .failure = {coordination::range_op(key)}});
    if (!claimed) {  // tried again next tick
      if (!claim_error) claim_error = claimed.error();
      ++claims_failed;
      ++claim_failures_;
      continue;
    }
    if (claimed->succeeded && !claimed->responses.empty()) {
      tokens[k] = claimed->responses.front().revision;
    } else if (!claimed->responses.empty() && !claimed->responses.front().range.kvs.empty()) {
      const auto& kv = claimed->responses.front().range.kvs.front();
      if (kv.lease == lease) tokens[k] = kv.create_revision;  // a retried txn that had won
    }
  }
  if (claims_failed > 0 && log_) {  // one line a tick, however many failed
    log_(fmt::format("sharding: could not claim {} of {} shards, tried again next tick: {}",
                     claims_failed, plan.claim.size(), *claim_error));
  }
  std::set<std::string> owned;
  std::map<std::string, std::int64_t, std::less<>> service_tokens;
  for (const auto& [service, shard] : assignment.shard_of) {
    const auto it = tokens.find(shard);
    if (it == tokens.end()) continue;
    owned.insert(service);
    service_tokens[service] = it->second;
  }
  owned_shards_ = static_cast<int>(tokens.size());
  // A new token for a service means someone else may have owned it since this member last read
  // its state (say this member was paused, lost its lease and registered again): read it again
  // even when the owned set is the same.
  if (owned != owned_services_ || service_tokens != applied_tokens_ || config_changed_) {
    const auto before = owned_services_;
    const auto before_tokens = std::exchange(applied_tokens_, {});
    std::set<std::string> fresh;
    for (const auto& [s, token] : service_tokens) {
      const auto it = before_tokens.find(s);
      if (it == before_tokens.end() || it->second != token) fresh.insert(s);
    }
    if (!apply(controller, decision.token, owned, fresh)) {
      // The retained services' in-memory states are still good; the others are read next time.
      for (const auto& [s, token] : before_tokens) {
        const auto it = service_tokens.find(s);
        if (it != service_tokens.end() && it->second == token) applied_tokens_.emplace(s, token);
      }
      return skip_tick(started);
    }
    applied_tokens_ = service_tokens;
    if (log_) {
      const auto in = fresh.size();
      int out = 0;
      for (const auto& s : before) out += owned.count(s) == 0 ? 1 : 0;
      log_(fmt::format(
          "sharding: member {} of {} owns {} services in {} of {} shards ({} taken "
          "over with their state from etcd, {} handed over{})",
          options_.member, members_, owned.size(), owned_shards_, options_.shards, in, out,
          plan.waiting.empty() ? std::string()
                               : fmt::format("; {} shards still held by their previous owner",
                                             plan.waiting.size())));
    }
  }
  store_.set_member_guard(member_key(options_.prefix, options_.member), decision.token);
  if (audit_ != nullptr) {
    audit_->set_fencing_token(decision.token);
    audit_->set_service_tokens(service_tokens);
  }
  fenced_->begin(started, decision.token, std::move(service_tokens));
  report();
  return !owned_services_.empty();
}

}  // namespace qfscale::controller
