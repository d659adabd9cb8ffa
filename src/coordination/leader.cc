#include "qfscale/coordination/leader.h"

#include <utility>

#include <fmt/format.h>

namespace qfscale::coordination {

LeaderElector::LeaderElector(Etcd& etcd, const util::Clock& clock, LeaderOptions options)
    : etcd_(etcd), clock_(clock), options_(std::move(options)), value_(options_.name) {}

void LeaderElector::set_value(std::string value) {
  const std::lock_guard lock(mutex_);
  value_ = std::move(value);
}

std::string LeaderElector::value() const {
  const std::lock_guard lock(mutex_);
  return value_;
}

LeaderElector::~LeaderElector() { stop(); }

ElectionStep LeaderElector::feed(const ElectionInput& input) {
  const std::lock_guard lock(mutex_);
  auto result = elect(options_.election, input, state_);
  state_ = result.state;
  return result.step;
}

// Sends what `next` asks for and returns what happened, as an input for `elect`.
ElectionInput LeaderElector::perform(Next next) {
  ElectionInput in{.sent_at = clock_.monotonic_now()};
  std::int64_t lease = 0;
  std::string value;
  {
    const std::lock_guard lock(mutex_);
    lease = state_.lease_id;
    value = value_;
  }
  const auto failed = [&](const Error& error, Event event) {
    in.event = event;
    in.lease_id = lease;
    const std::lock_guard lock(mutex_);
    last_error_ = error.to_string();
  };
  switch (next) {
    case Next::Wait:
      break;
    case Next::GrantLease: {
      auto granted = etcd_.lease_grant(options_.election.lease_ttl);
      if (!granted) {
        failed(std::move(granted).error(), Event::LeaseFailed);
        break;
      }
      in.event = Event::LeaseGranted;
      in.lease_id = granted->id;
      in.ttl = granted->ttl;
      break;
    }
    case Next::RenewLease: {
      auto renewed = etcd_.lease_keep_alive(lease);
      if (!renewed) {
        const bool gone = is_not_found(renewed.error());
        failed(std::move(renewed).error(), gone ? Event::LeaseGone : Event::LeaseFailed);
        break;
      }
      // Who holds the key now, so that a leader notices a key deleted under it.
      auto leader = etcd_.range({.key = options_.key});
      if (!leader) {
        failed(std::move(leader).error(), Event::LeaseFailed);
        break;
      }
      in.event = Event::LeaseRenewed;
      in.lease_id = lease;
      in.ttl = renewed->ttl;
      in.leader_revision = leader->kvs.empty() ? 0 : leader->kvs.front().create_revision;
      break;
    }
    case Next::Campaign: {
      auto answer = etcd_.txn({
          .compare = {{.key = options_.key,
                       .target = CompareTarget::Create,
                       .result = CompareResult::Equal,
                       .number = 0}},
          .success = {put_op(options_.key, value, lease)},
          .failure = {range_op(options_.key)},
      });
      if (!answer) {
        failed(std::move(answer).error(), Event::Poll);
        break;
      }
      if (answer->succeeded) {
        in.event = Event::CampaignWon;
        in.leader_revision =
            answer->responses.empty() ? answer->revision : answer->responses.front().revision;
      } else {
        in.event = Event::CampaignLost;
        if (!answer->responses.empty() && !answer->responses.front().range.kvs.empty()) {
          const auto& kv = answer->responses.front().range.kvs.front();
          in.leader_revision = kv.create_revision;
          in.leader_lease = kv.lease;
        }
      }
      break;
    }
  }
  if (in.event != Event::Poll && in.event != Event::LeaseFailed) {
    const std::lock_guard lock(mutex_);
    last_error_.clear();
  }
  in.now = clock_.monotonic_now();
  return in;
}

void LeaderElector::poll() {
  const std::lock_guard poll_lock(poll_mutex_);
  ElectionInput input{.now = clock_.monotonic_now()};
  // Each step marks its attempt, so `elect` asks for at most a grant, a renewal and a campaign.
  for (int round = 0; round < 8; ++round) {
    const auto step = feed(input);
    if (step.next == Next::Wait) return;
    input = perform(step.next);
  }
}

void LeaderElector::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(stop_mutex_);
    while (!stopping_) {
      lock.unlock();
      poll();
      lock.lock();
      stop_cv_.wait_for(lock, options_.poll_every, [this] { return stopping_; });
    }
  });
}

void LeaderElector::stop() {
  {
    const std::lock_guard lock(stop_mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::int64_t lease = 0;
  {
    const std::lock_guard lock(mutex_);
    lease = state_.lease_id;
  }
  if (lease != 0) {
    (void)etcd_.lease_revoke(lease);  // best effort: the TTL ends it anyway
    feed({.now = clock_.monotonic_now(), .event = Event::Resigned});
  }
}

ActDecision LeaderElector::may_act(MonotonicTime tick_started) const {
  const std::lock_guard lock(mutex_);
  return coordination::may_act(options_.election, state_, tick_started, clock_.monotonic_now());
}

LeaderView LeaderElector::view() const {
  const std::lock_guard lock(mutex_);
  LeaderView view{
      .role = state_.role,
      .fencing_token = state_.role == Role::Leader ? state_.token : state_.observed_leader,
      .lease_id = state_.lease_id,
      .last_error = last_error_};
  if (state_.lease_id != 0) {
    view.lease_remaining_seconds =
        std::chrono::duration<double>(safe_until(options_.election, state_) -
                                      clock_.monotonic_now())
            .count();
  }
  return view;
}

ElectionState LeaderElector::state() const {
  const std::lock_guard lock(mutex_);
  return state_;
}

}  // namespace qfscale::coordination
