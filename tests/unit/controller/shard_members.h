#pragma once

// What the shard-gate tests share: a fleet of one-instance services, a clock step, and one
// controller process (`Member`) with its membership, state store, gate and controller, all on the
// in-memory etcd and the fixture's fake Qianfan.

#include <chrono>
#include <initializer_list>
#include <memory>
#include <string>

#include "qfscale/controller/shard_gate.h"

#include "support/fake_etcd.h"
#include "unit/controller/fixture.h"

namespace qfscale::controller::test {

inline std::string svc(int i) { return fmt::format("svc-{:02}", i); }
inline std::string cu(int i) { return fmt::format("cu-{:02}", i); }

// `n` services, each on an instance of its own with 1 replica, at `qps` (5: 1 replica, 50: 10).
inline void fleet(Harness& h, int n, int qps) {
  for (int i = 0; i < n; ++i) {
    h.add_instance(cu(i), 100);
    h.add_service(svc(i), {cu(i)});  // kFast: scale up at once, 60 s scale-down window
    h.place(svc(i), cu(i), 1);
    h.qps.set(ServiceId{svc(i)}, qps);
  }
}

inline util::SystemTime at(Harness& h, int seconds) {
  h.clock.set(kT0 + std::chrono::seconds{seconds});
  return kT0 + std::chrono::seconds{seconds};
}

// A controller on the harness whose calls go through `api` (a gate's) and state to `store`.
inline std::unique_ptr<Controller> make_controller(Harness& h, qianfan::QianfanApi& api,
                                                   EtcdStateStore& store) {
  auto c = Controller::create(h.config, Dependencies{.api = &api,
                                                     .qps = &h.qps,
                                                     .clock = &h.clock,
                                                     .sinks = {},
                                                     .state_store = &store,
                                                     .audit_log = nullptr});
  REQUIRE(c.has_value());
  return std::move(*c);
}

// One controller process. `ttl`: its lease (short to let a test end it by time). `exporter`:
// where it reports (its /metrics), if anywhere.
struct Member {
  Member(std::string name, coordination::Etcd& etcd, Harness& h, int shards = 32,
         std::chrono::seconds ttl = 60s, telemetry::Exporter* exporter = nullptr)
      : elector(etcd, h.clock,
                {.key = member_key("/q", name), .name = name, .election = {.lease_ttl = ttl}}),
        store(etcd, "/q"),
        gate(elector, etcd, h.api, store, h.clock, nullptr, exporter,
             [this](const std::string& line) { log += line + "\n"; },
             {.prefix = "/q", .member = name, .shards = shards}) {
    controller = make_controller(h, gate.api(), store);
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

// Steps `members`, in that order, at every 5 s from `from` to `to` seconds, inclusive.
inline void step_all(Harness& h, std::initializer_list<Member*> members, int from, int to) {
  for (int t = from; t <= to; t += 5) {
    const auto now = at(h, t);
    for (Member* m : members) m->step(now);
  }
}

}  // namespace qfscale::controller::test
