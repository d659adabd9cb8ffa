#include "qfscale/controller/leadership.h"

#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "controller/fencing_api.h"

namespace qfscale::controller {

class LeaderGate::FencedApi final : public FencingApi {
 public:
  FencedApi(qianfan::QianfanApi& inner, const coordination::LeaderElector& elector)
      : FencingApi(inner), elector_(elector) {}

  void begin(util::MonotonicTime started, std::int64_t token) {
    const std::lock_guard lock(mutex_);
    started_ = started;
    token_ = token;
  }

 private:
  // The tick's token, if this member may still act on it right now.
  Result<std::int64_t> token_for(std::string_view action,
                                 const model::ServiceId& /*service*/) const override {
    util::MonotonicTime started;
    std::int64_t token = 0;
    {
      const std::lock_guard lock(mutex_);
      started = started_;
      token = token_;
    }
    const auto decision = elector_.may_act(started);
    if (decision.act && decision.token == token && token != 0) return token;
    Error e = util::make_error(
        ErrorCode::Remote,
        fmt::format("{} not sent: {}", action,
                    decision.act ? std::string_view("the leader term changed during the tick")
                                 : decision.reason));
    e.remote_code = "NotLeader";
    return fail(std::move(e));
  }

  const coordination::LeaderElector& elector_;
  mutable std::mutex mutex_;
  util::MonotonicTime started_;
  std::int64_t token_ = 0;
};

LeaderGate::LeaderGate(coordination::LeaderElector& elector, coordination::Etcd& etcd,
                       std::string prefix, qianfan::QianfanApi& api, EtcdStateStore& store,
                       const util::Clock& clock, AuditLog* audit, telemetry::Exporter* exporter,
                       std::function<void(const std::string&)> log)
    : elector_(elector),
      etcd_(etcd),
      prefix_(std::move(prefix)),
      store_(store),
      clock_(clock),
      audit_(audit),
      exporter_(exporter),
      log_(std::move(log)),
      fenced_(std::make_unique<FencedApi>(api, elector)) {}

LeaderGate::~LeaderGate() = default;

qianfan::QianfanApi& LeaderGate::api() { return *fenced_; }

void LeaderGate::report() const {
  if (exporter_ == nullptr) return;
  const auto view = elector_.view();
  exporter_->on_leadership({.coordinated = true,
                            .leader = view.role == coordination::Role::Leader,
                            .fencing_token = view.fencing_token,
                            .lease_remaining_seconds = view.lease_remaining_seconds,
                            .member = elector_.options().name,
                            .last_error = view.last_error,
                            .disagreeing = disagreeing_});
}

bool LeaderGate::skip_tick(util::MonotonicTime started) {
  fenced_->begin(started, 0);
  report();
  return false;
}

bool LeaderGate::alone_in_mode() {
  const auto members = prefix_ + "/members/";
  // A few names for the message; `count` says how many there are.
  auto found =
      etcd_.range({.key = members, .range_end = coordination::prefix_end(members), .limit = 8});
  if (!found) {
    if (log_) {
      log_(fmt::format("cannot read {}, so this tick does not act: {}", members, found.error()));
    }
    return false;
  }
  std::vector<std::string> disagreeing;
  for (const auto& kv : found->kvs) {
    disagreeing.push_back(kv.key.substr(members.size()) + " (shard member: shards >= 2)");
  }
  if (found->count > static_cast<std::int64_t>(found->kvs.size())) {
    disagreeing.push_back(
        fmt::format("{} more", found->count - static_cast<std::int64_t>(found->kvs.size())));
  }
  if (disagreeing != disagreeing_ && log_) {
    log_(disagreeing.empty()
             ? std::string("the controllers agree on the coordination mode again")
             : fmt::format("members disagree on the config: {}; the leader does not act until "
                           "all run with the same coordination.etcd.shards",
                           fmt::join(disagreeing, ", ")));
  }
  disagreeing_ = std::move(disagreeing);
  return disagreeing_.empty();
}

bool LeaderGate::begin_tick(Controller& controller) {
  const auto started = clock_.monotonic_now();
  const auto decision = elector_.may_act(started);
  if (!decision.act) {
    if (term_ != 0 && log_) {
      log_(
          fmt::format("no longer acting as leader (fencing token {}): {}", term_, decision.reason));
    }
    term_ = 0;
    return skip_tick(started);
  }
  if (!alone_in_mode()) {
    // Shard members may change the states meanwhile: read them again when acting again.
    term_ = 0;
    return skip_tick(started);
  }
  if (decision.token != term_) {
    store_.set_fencing_token(decision.token);
    if (auto loaded = controller.reload_states(); !loaded) {
      if (log_) {
        log_(
            fmt::format("leader with fencing token {}, but the engine states could not be read "
                        "from etcd, so this tick does not act: {}",
                        decision.token, loaded.error()));
      }
      report();
      return false;
    }
    term_ = decision.token;
    if (audit_ != nullptr) audit_->set_fencing_token(term_);
    if (log_) {
      log_(fmt::format("leader with fencing token {}: resuming from the engine states in etcd",
                       term_));
    }
  }
  // A save refused because someone else wrote a state key: read those states before acting.
  if (const auto stale = store_.take_conflicts(); !stale.empty()) {
    if (auto loaded = controller.reload_states(stale); !loaded) {
      if (log_) {
        log_(
            fmt::format("the engine states of {} services changed in etcd and could not be read "
                        "again, so this tick does not act: {}",
                        stale.size(), loaded.error()));
      }
      term_ = 0;  // the next tick reads every state again
      return skip_tick(started);
    }
  }
  fenced_->begin(started, term_);
  report();
  return true;
}

}  // namespace qfscale::controller
