// LeaderElector, the glue around `elect`, against an in-memory etcd: one leader at a time,
// tokens that only grow, takeover after the leader's lease ends, and a retried campaign whose
// first answer was lost.

#include "qfscale/coordination/leader.h"

#include <chrono>

#include <doctest/doctest.h>

#include "support/fake_etcd.h"

namespace qfscale::coordination {
namespace {

using namespace std::chrono_literals;

LeaderOptions options(std::string name) {
  return {.key = "/q/leader", .name = std::move(name), .election = {.lease_ttl = 3s}};
}

TEST_SUITE("coordination") {
  TEST_CASE("leader: one of two members leads; the other takes over when its lease ends") {
    testing::FakeEtcd etcd;
    util::ManualClock clock;
    LeaderElector a(etcd, clock, options("a"));
    LeaderElector b(etcd, clock, options("b"));
    a.poll();
    b.poll();
    const auto first = a.view();
    CHECK(first.role == Role::Leader);
    CHECK(b.view().role == Role::Follower);
    CHECK(b.view().fencing_token == first.fencing_token);  // the follower knows the leader's
    CHECK(etcd.get("/q/leader")->value == "a");

    // A tick that starts now may act; one that started before the election may not.
    const auto now = clock.monotonic_now();
    CHECK(a.may_act(now).act);
    CHECK(a.may_act(now).token == first.fencing_token);
    CHECK_FALSE(a.may_act(now - 1ms).act);
    CHECK_FALSE(b.may_act(now).act);

    // a dies (no more renewals); its lease ends on the server; b campaigns a second later.
    etcd.expire(a.state().lease_id);
    clock.advance(1s);
    b.poll();
    CHECK(b.view().role == Role::Leader);
    CHECK(b.view().fencing_token > first.fencing_token);
    // a wakes up: its renewal finds the lease gone and it stops at once.
    clock.advance(1s);
    a.poll();
    CHECK(a.view().role == Role::Follower);
    CHECK_FALSE(a.may_act(clock.monotonic_now()).act);
  }

  TEST_CASE("leader: a leader that cannot renew stops acting before its lease can expire") {
    testing::FakeEtcd etcd;
    util::ManualClock clock;
    LeaderElector a(etcd, clock, options("a"));
    a.poll();
    const auto started = clock.monotonic_now();
    REQUIRE(a.may_act(started).act);
    // ttl 3 s: safe until 3 - (0.15 + 0.5) = 2.35 s after the grant was sent.
    etcd.fail_next(1000);
    clock.advance(2340ms);
    a.poll();
    CHECK(a.may_act(started).act);
    clock.advance(10ms);
    CHECK_FALSE(a.may_act(started).act);
    a.poll();
    CHECK(a.view().role == Role::Follower);
    CHECK_FALSE(a.view().last_error.empty());
  }

  TEST_CASE("leader: a campaign whose answer was lost is won on the retry") {
    testing::FakeEtcd etcd;
    util::ManualClock clock;
    LeaderElector a(etcd, clock, options("a"));
    etcd.apply_then_fail_next();  // the next txn is applied but its answer is lost
    a.poll();                     // grant, then campaign: applied, answer lost
    REQUIRE(etcd.get("/q/leader").has_value());
    CHECK(a.view().role == Role::Follower);
    clock.advance(1s);
    a.poll();  // campaign again: the key holds our lease, so we have won
    CHECK(a.view().role == Role::Leader);
    CHECK(a.view().fencing_token == etcd.get("/q/leader")->create_revision);
  }

  TEST_CASE("leader: stop revokes the lease so that a follower takes over at once") {
    testing::FakeEtcd etcd;
    util::ManualClock clock;
    LeaderElector a(etcd, clock, options("a"));
    LeaderElector b(etcd, clock, options("b"));
    a.poll();
    b.poll();
    REQUIRE(a.view().role == Role::Leader);
    a.stop();
    CHECK_FALSE(etcd.get("/q/leader").has_value());
    clock.advance(1s);
    b.poll();
    CHECK(b.view().role == Role::Leader);
  }
}

}  // namespace
}  // namespace qfscale::coordination
