#pragma once

/// Leader election on an etcd lease, as pure decision logic (`elect`, `may_act`) plus thin glue
/// (`leader.h`) that performs the steps it asks for.
///
/// The protocol: a member holds a lease and renews it; a follower campaigns with one txn,
/// "if the leader key does not exist (create revision 0), put it with my lease". The winner's
/// fencing token is the leader key's create revision: etcd's revision counter only grows, so a
/// later leader always has a larger token, and a server that refuses tokens older than one it
/// has seen refuses a deposed leader's late calls. When the lease expires etcd deletes the key
/// and the next campaign wins.
///
/// When a leader must stop acting. The server starts a renewal's TTL when it processes it, which
/// is after the member sent it, so measured on the member's monotonic clock the lease lives at
/// least until `sent + ttl`. The member's clock may run fast or slow against the server's, and
/// a thread may be descheduled between looking at the clock and sending a call, so it stops
/// earlier, at
///
///     safe_until = sent_of_last_good_renewal + ttl - (ttl x clock_drift + margin)
///
/// With the defaults (ttl 10 s, drift 5 %, margin 500 ms): 10 - (0.5 + 0.5) = 9 s after the
/// last good renewal was sent. Renewals are sent every ttl / 3 = 3.33 s, so two can fail in a
/// row (at 3.33 s and 6.67 s) and the leader still acts; when the third (due at 10 s) has not
/// succeeded by 9 s, it steps down, drops the lease and campaigns again from scratch (a new
/// lease, a new token). A call already sent when the window closes is the fencing token's
/// business.
///
/// Never on a tick that began before the election: a tick observes, then acts; one that started
/// while this member was a follower observed a world the old leader was still changing. `may_act`
/// takes the tick's start and refuses when it precedes `leader_since` (when the winning answer
/// arrived). Worked: a member wins at t = 12.4 s; the tick that started at 12.0 s does not act,
/// the one at 13.0 s does.
///
/// Failover: a leader killed just after renewing at t = 0 keeps its key until the server expires
/// the lease, at about t = 10 s (etcd checks expiries every 500 ms); followers campaign every
/// `campaign_every` (1 s), so one wins by about t = 11.5 s and acts from its next tick.

#include <chrono>
#include <cstdint>
#include <string_view>

#include "qfscale/util/clock.h"

namespace qfscale::coordination {

using util::MonotonicTime;

enum class Role { Follower, Leader };
/// "follower", "leader".
[[nodiscard]] std::string_view to_string(Role role);

struct ElectionConfig {
  std::chrono::seconds lease_ttl{10};
  /// The tolerated rate difference between this member's clock and the etcd server's.
  double clock_drift = 0.05;
  /// Fixed part of the safety margin: scheduling delays between a check and a call.
  std::chrono::milliseconds margin{500};
  /// How often a follower campaigns (and a failed grant or renewal is retried).
  std::chrono::milliseconds campaign_every{1'000};
};

/// What the glue observed; every answer carries `sent_at`, when its request was sent.
enum class Event {
  Poll,          ///< nothing new: what next?
  LeaseGranted,  ///< `lease_id`, `ttl`
  LeaseRenewed,  ///< `lease_id`, `ttl`, and `leader_revision`: the leader key's create revision
                 ///< read right after the renewal (0: no leader key)
  LeaseFailed,   ///< a grant or renewal got no answer (transient): keep going, the window shrinks
  LeaseGone,     ///< the server says the lease does not exist: expired or revoked
  CampaignWon,   ///< `leader_revision`: the leader key's create revision, ours
  CampaignLost,  ///< `leader_revision`, `leader_lease`: the key someone (maybe us) holds
  Resigned,      ///< this member revoked its lease (shutdown)
};

struct ElectionInput {
  MonotonicTime now;
  Event event = Event::Poll;
  MonotonicTime sent_at;
  std::int64_t lease_id = 0;
  std::chrono::seconds ttl{0};
  std::int64_t leader_revision = 0;
  std::int64_t leader_lease = 0;
};

/// Everything the election remembers. Plain data; tests build it directly.
struct ElectionState {
  Role role = Role::Follower;
  std::int64_t lease_id = 0;  ///< 0: none
  std::chrono::seconds lease_ttl{0};
  MonotonicTime renewal_sent;  ///< when the last good grant or renewal was sent
  std::int64_t token = 0;      ///< the leader key's create revision while leader
  MonotonicTime leader_since;  ///< when the winning answer arrived
  /// The leader key's create revision last seen (ours while leader; 0: none seen).
  std::int64_t observed_leader = 0;
  MonotonicTime last_grant_try;
  MonotonicTime last_renew_try;
  MonotonicTime last_campaign;
  bool tried_grant = false;
  bool tried_renew = false;
  bool campaigned = false;
  friend bool operator==(const ElectionState&, const ElectionState&) = default;
};

enum class Next { Wait, GrantLease, RenewLease, Campaign };

struct ElectionStep {
  Next next = Next::Wait;
  bool elected = false;       ///< became leader on this input
  bool stepped_down = false;  ///< stopped being leader on this input
};

struct ElectionResult {
  ElectionStep step;
  ElectionState state;
};

/// One step of the protocol: applies `input`, steps down when the lease may have expired
/// (`now >= safe_until`) or the leader key is no longer ours, and says what to do next: grant
/// a lease when there is none, renew when ttl / 3 has passed since the last good renewal,
/// campaign as a follower every `campaign_every`; a failed grant or renewal is retried after
/// `campaign_every`. A lost campaign that finds our own lease on the key (a retried txn whose
/// first try had won) counts as won.
[[nodiscard]] ElectionResult elect(const ElectionConfig& config, const ElectionInput& input,
                                   ElectionState state);

/// The end of the window in which a leader may act (see the header comment); the epoch when
/// there is no lease.
[[nodiscard]] MonotonicTime safe_until(const ElectionConfig& config, const ElectionState& state);

struct ActDecision {
  bool act = false;
  std::int64_t token = 0;   ///< the fencing token to send when `act`
  std::string_view reason;  ///< why not: "follower", "tick began before the election", ...
};

/// Whether a tick that began at `tick_started` may send a call at `now`.
[[nodiscard]] ActDecision may_act(const ElectionConfig& config, const ElectionState& state,
                                  MonotonicTime tick_started, MonotonicTime now);

}  // namespace qfscale::coordination
