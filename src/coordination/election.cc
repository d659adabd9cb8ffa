#include "qfscale/coordination/election.h"

#include <algorithm>

namespace qfscale::coordination {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

void step_down(ElectionState& state, ElectionStep& step) {
  if (state.role == Role::Leader) step.stepped_down = true;
  state.role = Role::Follower;
  state.token = 0;
}

void drop_lease(ElectionState& state, ElectionStep& step) {
  step_down(state, step);
  state.lease_id = 0;
  state.lease_ttl = std::chrono::seconds{0};
  state.tried_renew = false;
}

void win(ElectionState& state, ElectionStep& step, std::int64_t token, MonotonicTime now) {
  if (state.role != Role::Leader || state.token != token) step.elected = true;
  state.role = Role::Leader;
  state.token = token;
  state.observed_leader = token;
  state.leader_since = now;
}

bool due(bool tried, MonotonicTime last, milliseconds every, MonotonicTime now) {
  return !tried || now - last >= every;
}

}  // namespace

std::string_view to_string(Role role) { return role == Role::Leader ? "leader" : "follower"; }

MonotonicTime safe_until(const ElectionConfig& config, const ElectionState& state) {
  if (state.lease_id == 0) return MonotonicTime{};
  const auto ttl = duration_cast<milliseconds>(state.lease_ttl);
  const auto drift = milliseconds{
      static_cast<std::int64_t>(static_cast<double>(ttl.count()) * config.clock_drift)};
  return state.renewal_sent + ttl - drift - config.margin;
}

ElectionResult elect(const ElectionConfig& config, const ElectionInput& input,
                     ElectionState state) {
  ElectionStep step;
  const auto now = input.now;
  switch (input.event) {
    case Event::Poll:
      break;
    case Event::LeaseGranted:
      state.lease_id = input.lease_id;
      state.lease_ttl = input.ttl;
      state.renewal_sent = input.sent_at;
      state.tried_renew = false;
      break;
    case Event::LeaseRenewed:
      if (input.lease_id != state.lease_id || state.lease_id == 0) break;  // an old lease's
      state.lease_ttl = input.ttl;
      state.renewal_sent = std::max(state.renewal_sent, input.sent_at);
      state.tried_renew = false;
      state.observed_leader = input.leader_revision;
      // Someone deleted or replaced the key while our lease lived: it is not ours any more.
      if (state.role == Role::Leader && input.leader_revision != state.token) {
        step_down(state, step);
      }
      break;
    case Event::LeaseFailed:
      break;
    case Event::LeaseGone:
      if (input.lease_id == state.lease_id) drop_lease(state, step);
      break;
    case Event::CampaignWon:
      if (state.lease_id != 0) win(state, step, input.leader_revision, now);
      break;
    case Event::CampaignLost:
      state.observed_leader = input.leader_revision;
      if (state.lease_id != 0 && input.leader_lease == state.lease_id) {
        win(state, step, input.leader_revision, now);  // our own earlier try had won
      } else {
        step_down(state, step);
      }
      break;
    case Event::Resigned:
      drop_lease(state, step);
      state.observed_leader = 0;
      break;
  }

  // The lease may be gone on the server by now: stop acting and start over with a new one.
  if (state.lease_id != 0 && now >= safe_until(config, state)) drop_lease(state, step);

  const auto ttl = duration_cast<milliseconds>(state.lease_ttl);
  if (state.lease_id == 0) {
    if (due(state.tried_grant, state.last_grant_try, config.campaign_every, now)) {
      state.tried_grant = true;
      state.last_grant_try = now;
      step.next = Next::GrantLease;
    }
  } else if (now - state.renewal_sent >= ttl / 3 &&
             due(state.tried_renew, state.last_renew_try, config.campaign_every, now)) {
    state.tried_renew = true;
    state.last_renew_try = now;
    step.next = Next::RenewLease;
  } else if (state.role == Role::Follower &&
             due(state.campaigned, state.last_campaign, config.campaign_every, now)) {
    state.campaigned = true;
    state.last_campaign = now;
    step.next = Next::Campaign;
  }
  return ElectionResult{.step = step, .state = state};
}

ActDecision may_act(const ElectionConfig& config, const ElectionState& state,
                    MonotonicTime tick_started, MonotonicTime now) {
  if (state.role != Role::Leader) return {.reason = "follower"};
  if (tick_started < state.leader_since) return {.reason = "the tick began before the election"};
  if (now >= safe_until(config, state)) {
    return {.reason = "the lease was not renewed in time and may expire"};
  }
  return {.act = true, .token = state.token};
}

}  // namespace qfscale::coordination
