// ShardGate against the in-memory etcd and one fake Qianfan: two members split the services,
// every service is scaled by exactly one of them, and when the second member joins, the services
// it takes over keep their stabilization windows (their state comes from etcd) and the old
// owner can no longer call for them.

#include "qfscale/controller/shard_gate.h"

#include <map>
#include <set>

#include "support/fake_etcd.h"
#include "unit/controller/fixture.h"

namespace qfscale::controller::test {
namespace {

constexpr int kServices = 12;

std::string svc(int i) { return fmt::format("svc-{:02}", i); }

// One controller process: its membership, state store, gate and controller.
struct Member {
  Member(std::string name, testing::FakeEtcd& etcd, Harness& h)
      : elector(etcd, h.clock,
                {.key = member_key("/q", name), .name = name, .election = {.lease_ttl = 60s}}),
        store(etcd, "/q"),
        gate(elector, etcd, h.api, store, h.clock, nullptr, nullptr,
             [this](const std::string& line) { log += line + "\n"; },
             {.prefix = "/q", .member = name, .shards = 32}) {
    auto c = Controller::create(h.config, Dependencies{.api = &gate.api(),
                                                       .qps = &h.qps,
                                                       .clock = &h.clock,
                                                       .sinks = {},
                                                       .state_store = &store,
                                                       .audit_log = nullptr});
    REQUIRE(c.has_value());
    controller = std::move(*c);
    gate.set_config(h.config);
  }
  // What the loop does: poll the election (its own thread in a real run), then maybe tick.
  void step(util::SystemTime now) {
    elector.poll();
    if (gate.begin_tick(*controller)) (void)controller->tick(now);
  }
  coordination::LeaderElector elector;
  EtcdStateStore store;
  ShardGate gate;
  std::unique_ptr<Controller> controller;
  std::string log;
};

TEST_SUITE("controller") {
  TEST_CASE("shard gate: a joining member takes over its shards with their state") {
    Harness h;
    for (int i = 0; i < kServices; ++i) {
      const auto unit = fmt::format("cu-{:02}", i);
      h.add_instance(unit, 100);
      h.add_service(svc(i), {unit});  // kFast: 60 s scale-down window
      h.place(svc(i), unit, 1);
    }
    testing::FakeEtcd etcd;
    Member a("ctl-a", etcd, h);
    for (int i = 0; i < kServices; ++i) h.qps.set(ServiceId{svc(i)}, 50);  // 10 replicas

    // A alone owns everything and scales it up.
    for (int t = 0; t <= 30; t += 5) {
      h.clock.set(kT0 + std::chrono::seconds{t});
      a.step(kT0 + std::chrono::seconds{t});
    }
    CHECK(a.gate.owned_services().size() == kServices);
    for (int i = 0; i < kServices; ++i) CHECK(h.replicas(svc(i), fmt::format("cu-{:02}", i)) == 10);
    // The traffic drops after t = 30: the window holds 10 replicas until t = 90.
    for (int i = 0; i < kServices; ++i) h.qps.set(ServiceId{svc(i)}, 5);

    // B joins at t = 40. Its first tick finds its shards still held by A and waits; A lets
    // them go on its next tick; B takes them on the one after, reading their state from etcd.
    Member b("ctl-b", etcd, h);
    for (int t = 40; t <= 85; t += 5) {
      h.clock.set(kT0 + std::chrono::seconds{t});
      b.step(kT0 + std::chrono::seconds{t});
      a.step(kT0 + std::chrono::seconds{t});
      if (t == 40) CHECK(b.gate.owned_services().empty());
    }
    const auto owned_a = a.gate.owned_services();
    const auto owned_b = b.gate.owned_services();
    MESSAGE("a owns " << owned_a.size() << ", b owns " << owned_b.size());
    CHECK_FALSE(owned_b.empty());
    CHECK(owned_a.size() + owned_b.size() == kServices);  // disjoint and covering
    for (const auto& s : owned_b) CHECK(owned_a.count(s) == 0);
    CHECK(b.log.find("taken over with their state from etcd") != std::string::npos);
    // Nobody scaled down inside the window: B resumed A's, it did not start from scratch.
    for (int i = 0; i < kServices; ++i) CHECK(h.replicas(svc(i), fmt::format("cu-{:02}", i)) == 10);

    // At t = 95 the window (last high recommendation at t = 30, + 60 s) has ended: both scale
    // down their own services. A fresh window from B's take-over (t >= 45) would still hold.
    h.clock.set(kT0 + 95s);
    b.step(kT0 + 95s);
    a.step(kT0 + 95s);
    for (int i = 0; i < kServices; ++i) CHECK(h.replicas(svc(i), fmt::format("cu-{:02}", i)) == 1);

    // Every call carried its shard's token; per service the tokens never go backwards, and a
    // moved service's calls after the take-over carry B's (larger) token.
    std::map<std::string, std::int64_t> last;
    for (const auto& call : h.api.calls()) {
      if (!call.scale) continue;
      CHECK(call.scale->fencing_token > 0);
      auto& newest = last[call.scale->service.value];
      CHECK(call.scale->fencing_token >= newest);
      newest = call.scale->fencing_token;
    }
    // The last actuation of a moved service is B's, in etcd.
    const auto moved = *owned_b.begin();
    auto actuation = decode_actuation(etcd.get("/q/actuation/" + moved)->value);
    REQUIRE(actuation.has_value());
    CHECK(actuation->replicas == 1);
    CHECK(actuation->fencing_token == last[moved]);

    // A cannot call for a service it handed over.
    auto refused = a.gate.api().scale_service(
        {.service = ServiceId{moved}, .instance = InstanceId{"cu-00"}, .replicas = Replicas{3}});
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().remote_code == "NotOwner");
  }

  TEST_CASE("shard gate: a member whose lease ended stops acting; the other takes over") {
    Harness h;
    for (int i = 0; i < 6; ++i) {
      const auto unit = fmt::format("cu-{:02}", i);
      h.add_instance(unit, 100);
      h.add_service(svc(i), {unit});
      h.place(svc(i), unit, 1);
      h.qps.set(ServiceId{svc(i)}, 5);
    }
    testing::FakeEtcd etcd;
    Member a("ctl-a", etcd, h);
    Member b("ctl-b", etcd, h);
    for (int t = 0; t <= 10; t += 5) {
      h.clock.set(kT0 + std::chrono::seconds{t});
      a.step(kT0 + std::chrono::seconds{t});
      b.step(kT0 + std::chrono::seconds{t});
    }
    REQUIRE(a.gate.owned_services().size() + b.gate.owned_services().size() == 6);
    // A's lease ends in etcd (say it was paused): its membership and owner keys go; B takes all.
    etcd.expire(a.elector.state().lease_id);
    for (int t = 15; t <= 25; t += 5) {
      h.clock.set(kT0 + std::chrono::seconds{t});
      b.step(kT0 + std::chrono::seconds{t});
    }
    CHECK(b.gate.owned_services().size() == 6);
    // A, back, finds its lease gone: it owns nothing until it has registered again.
    h.clock.set(kT0 + 30s);
    a.step(kT0 + 30s);
    CHECK(a.gate.owned_services().empty());
  }
}

}  // namespace
}  // namespace qfscale::controller::test
