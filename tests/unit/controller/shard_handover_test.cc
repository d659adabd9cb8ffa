// Handovers of shards between members, the cases a review found unsafe: a member that
// re-registers and retakes its shards must read their state again (a newer owner may have acted
// meanwhile), a reshard must not lose the in-memory state a failed save left unwritten, and a
// save refused because someone else wrote the key makes the member read it before acting again.

#include <set>

#include "qfscale/controller/leadership.h"
#include "qfscale/controller/shard_gate.h"

#include "support/fake_etcd.h"
#include "unit/controller/fixture.h"
#include "unit/controller/shard_members.h"

namespace qfscale::controller::test {
namespace {

TEST_SUITE("controller") {
  TEST_CASE("shard handover: a re-registered member reads the state of the shards it retakes") {
    Harness h;
    fleet(h, 8, 5);
    testing::FakeEtcd etcd;
    Member a("ctl-a", etcd, h, 32, 10s);
    Member b("ctl-b", etcd, h, 32, 10s);
    step_all(h, {&a, &b}, 0, 60);
    const auto mine = a.gate.owned_services();
    REQUIRE_FALSE(mine.empty());
    // A freezes after t = 60 (a VM pause) with no tick of it in between; at t = 70 the server
    // ends its lease and B takes every shard, reads their states and scales all up to 10.
    b.step(at(h, 65));
    etcd.expire(a.elector.state().lease_id);
    for (int i = 0; i < 8; ++i) h.qps.set(ServiceId{svc(i)}, 50);
    b.step(at(h, 70));
    for (int i = 0; i < 8; ++i) REQUIRE(h.replicas(svc(i), cu(i)) == 10);
    for (int i = 0; i < 8; ++i) h.qps.set(ServiceId{svc(i)}, 5);  // B's window holds 10 to t=130
    // A resumes: its election thread registers again (new lease), B lets A's shards go, and A
    // claims them with new tokens: the same owned set as at t = 60, but B has acted since.
    a.log.clear();
    at(h, 72);
    a.elector.poll();
    b.step(at(h, 73));
    a.step(at(h, 75));
    CHECK(a.gate.owned_services() == mine);
    CHECK(a.log.find("taken over with their state from etcd") != std::string::npos);
    for (const auto& s : mine) {  // inside the window B's scale-up opened
      const int i = std::stoi(s.substr(4));
      CHECK_MESSAGE(h.replicas(s, cu(i)) == 10, s << " scaled down inside B's window by A");
    }
  }

  TEST_CASE("shard handover: a reshard keeps the state and actuation a failed save left unsaved") {
    Harness h;
    fleet(h, 8, 5);
    testing::FakeEtcd etcd;
    Member a("ctl-a", etcd, h);
    a.step(at(h, 0));
    for (int i = 0; i < 8; ++i) h.qps.set(ServiceId{svc(i)}, 50);
    a.elector.poll();
    REQUIRE(a.gate.begin_tick(*a.controller));
    etcd.fail_next(1);  // the tick's state save fails (an etcd hiccup)
    CHECK_FALSE(a.controller->tick(at(h, 5)).success);
    for (int i = 0; i < 8; ++i) REQUIRE(h.replicas(svc(i), cu(i)) == 10);
    for (int i = 0; i < 8; ++i) h.qps.set(ServiceId{svc(i)}, 5);  // the window holds 10 to t=65
    // B joins: A's owned set shrinks (A keeps some services, hands the others over to B).
    Member b("ctl-b", etcd, h);
    step_all(h, {&b, &a}, 10, 30);
    const auto kept = a.gate.owned_services();
    const auto moved = b.gate.owned_services();
    REQUIRE(kept.size() < 8);
    REQUIRE(kept.size() + moved.size() == 8);
    // Neither A (its retained services) nor B (those it took over, from what A saved before
    // letting them go) scaled down inside the window of A's unsaved scale-up.
    for (int i = 0; i < 8; ++i) {
      CHECK_MESSAGE(h.replicas(svc(i), cu(i)) == 10, svc(i) << " scaled down inside its window");
      auto actuation = decode_actuation(etcd.get("/q/actuation/" + svc(i))->value);
      REQUIRE(actuation.has_value());
      CHECK(actuation->replicas == 10);
    }
  }

  TEST_CASE("shard handover: a refused state write makes the member read the newer state") {
    Harness h;
    fleet(h, 1, 5);
    testing::FakeEtcd etcd;
    Member a("ctl-a", etcd, h);
    a.step(at(h, 0));
    REQUIRE(a.gate.owned_services().size() == 1);
    // Another writer (a newer owner A could not see) saves a state holding 10 replicas: its
    // scale-up at t = 3 opens a window to t = 63.
    {
      Harness other;
      fleet(other, 1, 50);
      testing::FakeEtcd elsewhere;
      Member c("ctl-c", elsewhere, other);
      c.step(at(other, 3));
      REQUIRE(other.replicas(svc(0), cu(0)) == 10);
      REQUIRE(etcd.put({.key = "/q/state/" + svc(0),
                        .value = elsewhere.get("/q/state/" + svc(0))->value})
                  .has_value());
    }
    a.step(at(h, 5));            // A's save is refused: the key changed since A read it
    h.place(svc(0), cu(0), 10);  // the other writer's call lands
    a.step(at(h, 10));
    CHECK_MESSAGE(h.replicas(svc(0), cu(0)) == 10, "scaled down inside the newer owner's window");
    // The newer owner's window holds to t = 63, exactly: A resumed it.
    for (int t = 15; t <= 60; t += 5) a.step(at(h, t));
    CHECK(h.replicas(svc(0), cu(0)) == 10);
    a.step(at(h, 65));
    CHECK(h.replicas(svc(0), cu(0)) == 1);
  }

  TEST_CASE("shard handover: a failed claim is logged once and retried on the next tick") {
    Harness h;
    fleet(h, 4, 5);
    testing::FakeEtcd etcd;
    Member a("ctl-a", etcd, h);
    a.elector.poll();
    etcd.apply_then_fail_next();  // the first claim is made, but its answer is lost
    (void)a.gate.begin_tick(*a.controller);
    CHECK(a.log.find("sharding: could not claim 1 of 32 shards, tried again next tick") !=
          std::string::npos);
    a.step(at(h, 5));  // the key is ours (our lease): kept
    CHECK(a.gate.owned_services().size() == 4);
  }

  TEST_CASE("shard handover: the leader gate too reads a state whose write was refused") {
    Harness h;
    fleet(h, 1, 5);
    testing::FakeEtcd etcd;
    coordination::LeaderElector elector(
        etcd, h.clock, {.key = "/q/leader", .name = "ctl-a", .election = {.lease_ttl = 60s}});
    EtcdStateStore store(etcd, "/q");
    LeaderGate gate(elector, etcd, "/q", h.api, store, h.clock, nullptr, nullptr, nullptr);
    auto controller = make_controller(h, gate.api(), store);
    const auto step = [&](int t) {
      const auto now = at(h, t);
      elector.poll();
      if (gate.begin_tick(*controller)) (void)controller->tick(now);
    };
    step(0);
    {  // as in the shard gate's case: a state holding 10 replicas to t = 63 appears in etcd
      Harness other;
      fleet(other, 1, 50);
      testing::FakeEtcd elsewhere;
      Member c("ctl-c", elsewhere, other);
      c.step(at(other, 3));
      REQUIRE(etcd.put({.key = "/q/state/" + svc(0),
                        .value = elsewhere.get("/q/state/" + svc(0))->value})
                  .has_value());
    }
    step(5);  // the save is refused
    h.place(svc(0), cu(0), 10);
    for (int t = 10; t <= 60; t += 5) step(t);
    CHECK(h.replicas(svc(0), cu(0)) == 10);
    step(65);
    CHECK(h.replicas(svc(0), cu(0)) == 1);
  }
}

}  // namespace
}  // namespace qfscale::controller::test
