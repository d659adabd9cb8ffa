// Leader election decisions (coordination/election.h): ttl 10 s, drift 5 %, margin 500 ms, so a
// leader acts until 9 s after its last good renewal was sent; renewals every 3.33 s; followers
// campaign every 1 s.

#include "qfscale/coordination/election.h"

#include <chrono>

#include <doctest/doctest.h>

namespace qfscale::coordination {
namespace {

using namespace std::chrono_literals;

const ElectionConfig kConfig{};
const MonotonicTime t0{100s};

ElectionInput at(std::chrono::milliseconds t, Event event = Event::Poll) {
  return ElectionInput{.now = t0 + t, .event = event, .sent_at = t0 + t};
}

// A member that holds lease 7 (granted at 0 s) and won with token 42 at 0.1 s.
ElectionState leader() {
  return ElectionState{.role = Role::Leader,
                       .lease_id = 7,
                       .lease_ttl = 10s,
                       .renewal_sent = t0,
                       .token = 42,
                       .leader_since = t0 + 100ms,
                       .observed_leader = 42,
                       .last_campaign = t0,
                       .campaigned = true};
}

TEST_SUITE("coordination") {
  TEST_CASE("election: a new member grants a lease, then campaigns, then waits") {
    auto r = elect(kConfig, at(0ms), {});
    CHECK(r.step.next == Next::GrantLease);
    auto granted = at(20ms, Event::LeaseGranted);
    granted.sent_at = t0;
    granted.lease_id = 7;
    granted.ttl = 10s;
    r = elect(kConfig, granted, r.state);
    CHECK(r.step.next == Next::Campaign);
    auto won = at(30ms, Event::CampaignWon);
    won.leader_revision = 42;
    r = elect(kConfig, won, r.state);
    CHECK(r.step.elected);
    CHECK(r.step.next == Next::Wait);
    CHECK(r.state.role == Role::Leader);
    CHECK(r.state.token == 42);
    CHECK(r.state.leader_since == t0 + 30ms);
  }

  TEST_CASE("election: renewals are due a third of the TTL after the last good one") {
    struct Case {
      std::string_view name;
      std::chrono::milliseconds now;
      Next want;
    };
    // 10 s / 3 = 3333 ms.
    const Case cases[] = {
        {.name = "just below", .now = 3332ms, .want = Next::Wait},
        {.name = "at", .now = 3333ms, .want = Next::RenewLease},
        {.name = "above", .now = 3400ms, .want = Next::RenewLease},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      CHECK(elect(kConfig, at(c.now), leader()).step.next == c.want);
    }
  }

  TEST_CASE("election: a leader acts until 9 s after its last good renewal was sent") {
    struct Case {
      std::string_view name;
      std::chrono::milliseconds now;
      bool act;
    };
    // safe_until = 0 + 10 s - (10 s x 5 % + 500 ms) = 9 s.
    const Case cases[] = {
        {.name = "well inside", .now = 5s, .act = true},
        {.name = "just below", .now = 8999ms, .act = true},
        {.name = "at", .now = 9000ms, .act = false},
        {.name = "above, lease still alive on the server", .now = 9500ms, .act = false},
    };
    CHECK(safe_until(kConfig, leader()) == t0 + 9s);
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto d = may_act(kConfig, leader(), t0 + 1s, t0 + c.now);
      CHECK(d.act == c.act);
      if (d.act) CHECK(d.token == 42);
    }
  }

  TEST_CASE("election: never on a tick that began before the election") {
    // Elected at 0.1 s: the tick that began at 0.0 s observed the old leader's world.
    const auto before = may_act(kConfig, leader(), t0, t0 + 1s);
    CHECK_FALSE(before.act);
    CHECK(before.reason == "the tick began before the election");
    CHECK(may_act(kConfig, leader(), t0 + 100ms, t0 + 1s).act);
    CHECK_FALSE(may_act(kConfig, ElectionState{}, t0, t0).act);
  }

  TEST_CASE("election: a tick paused past the lease does not act after it, even if re-elected") {
    // SIGSTOP at 1.2 s, in a tick that began at 1 s; SIGCONT at 12 s. The tick resumes first:
    // its next call asks at 12 s, past safe_until (9 s).
    const auto tick = t0 + 1s;
    CHECK(may_act(kConfig, leader(), tick, t0 + 1200ms).act);
    const auto resumed = may_act(kConfig, leader(), tick, t0 + 12s);
    CHECK_FALSE(resumed.act);
    CHECK(resumed.reason == "the lease was not renewed in time and may expire");
    // The election thread resumes: it steps down, takes a new lease and wins again (nobody else
    // did meanwhile) with a newer token. The paused tick still may not act; the next one may.
    auto r = elect(kConfig, at(12s), leader());
    CHECK(r.step.stepped_down);
    CHECK(r.step.next == Next::GrantLease);
    auto granted = at(12010ms, Event::LeaseGranted);
    granted.sent_at = t0 + 12s;
    granted.lease_id = 8;
    granted.ttl = 10s;
    r = elect(kConfig, granted, r.state);
    REQUIRE(r.step.next == Next::Campaign);
    auto won = at(12020ms, Event::CampaignWon);
    won.leader_revision = 57;
    r = elect(kConfig, won, r.state);
    REQUIRE(r.state.role == Role::Leader);
    const auto again = may_act(kConfig, r.state, tick, t0 + 12030ms);
    CHECK_FALSE(again.act);
    CHECK(again.reason == "the tick began before the election");
    const auto next = may_act(kConfig, r.state, t0 + 13s, t0 + 13s);
    CHECK(next.act);
    CHECK(next.token == 57);
  }

  TEST_CASE("election: failed renewals are retried each second and the leader steps down at 9 s") {
    auto s = leader();
    auto r = elect(kConfig, at(3400ms), s);
    CHECK(r.step.next == Next::RenewLease);
    r = elect(kConfig, at(3900ms, Event::LeaseFailed), r.state);
    CHECK(r.step.next == Next::Wait);  // retried after campaign_every
    r = elect(kConfig, at(4400ms), r.state);
    CHECK(r.step.next == Next::RenewLease);
    r = elect(kConfig, at(8999ms, Event::LeaseFailed), r.state);
    CHECK(r.state.role == Role::Leader);
    r = elect(kConfig, at(9000ms), r.state);
    CHECK(r.step.stepped_down);
    CHECK(r.state.role == Role::Follower);
    CHECK(r.state.lease_id == 0);
    CHECK(r.step.next == Next::GrantLease);  // start over: new lease, new campaign, new token
  }

  TEST_CASE("election: a renewal extends the window from when it was sent") {
    auto renewed = at(3500ms, Event::LeaseRenewed);
    renewed.sent_at = t0 + 3400ms;
    renewed.lease_id = 7;
    renewed.ttl = 10s;
    renewed.leader_revision = 42;
    auto r = elect(kConfig, renewed, leader());
    CHECK(r.state.role == Role::Leader);
    CHECK(safe_until(kConfig, r.state) == t0 + 12400ms);
    // An answer for an older lease changes nothing.
    renewed.lease_id = 6;
    CHECK(safe_until(kConfig, elect(kConfig, renewed, leader()).state) == t0 + 9s);
  }

  TEST_CASE("election: a leader whose key was deleted or replaced steps down") {
    auto renewed = at(3500ms, Event::LeaseRenewed);
    renewed.lease_id = 7;
    renewed.ttl = 10s;
    renewed.leader_revision = 50;
    auto r = elect(kConfig, renewed, leader());
    CHECK(r.step.stepped_down);
    CHECK(r.state.role == Role::Follower);
    CHECK(r.state.observed_leader == 50);
  }

  TEST_CASE("election: a lost campaign that finds our own lease on the key has won") {
    auto s = leader();
    s.role = Role::Follower;
    s.token = 0;
    auto lost = at(200ms, Event::CampaignLost);
    lost.leader_revision = 42;
    lost.leader_lease = 7;
    auto r = elect(kConfig, lost, s);
    CHECK(r.step.elected);
    CHECK(r.state.token == 42);
    lost.leader_lease = 8;  // somebody else's
    r = elect(kConfig, lost, s);
    CHECK_FALSE(r.step.elected);
    CHECK(r.state.role == Role::Follower);
    CHECK(r.state.observed_leader == 42);
  }

  TEST_CASE("election: a follower campaigns every second, not more often") {
    auto s = leader();
    s.role = Role::Follower;
    s.renewal_sent = t0 + 2s;
    CHECK(elect(kConfig, at(999ms), s).step.next == Next::Wait);
    CHECK(elect(kConfig, at(1000ms), s).step.next == Next::Campaign);
  }

  TEST_CASE("election: a lease the server no longer knows ends the leadership at once") {
    auto gone = at(3500ms, Event::LeaseGone);
    gone.lease_id = 7;
    auto r = elect(kConfig, gone, leader());
    CHECK(r.step.stepped_down);
    CHECK(r.state.lease_id == 0);
    CHECK(r.step.next == Next::GrantLease);
  }
}

}  // namespace
}  // namespace qfscale::coordination
