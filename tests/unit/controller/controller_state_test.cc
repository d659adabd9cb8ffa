// The controller and its state file: a restart keeps stabilization history, a start without it
// (or with a clock stepped either way) holds a scale-down for a window, a file that cannot be
// read stops the start, a failed save is reported and the loop goes on.

#include <fstream>
#include <iterator>
#include <string>

#include <doctest/doctest.h>

#include "qfscale/controller/audit_log.h"
#include "qfscale/controller/controller.h"
#include "qfscale/controller/state_store.h"
#include "qfscale/policy/loader.h"
#include "qfscale/util/file.h"

#include "support/temp_dir.h"
#include "unit/controller/fixture.h"

namespace qfscale::controller::test {
namespace {

policy::Policy load_shipped(const std::string& name) {
  const auto path = std::string(QFS_SOURCE_DIR) + "/policies/" + name + ".yaml";
  auto text = util::read_file(path);
  REQUIRE_MESSAGE(text.has_value(), (text ? std::string() : text.error().to_string()));
  auto p = policy::load_policy(*text, path, util::system_zone_source());
  REQUIRE_MESSAGE(p.has_value(), (p ? std::string() : util::to_string(p.error())));
  return *p;
}

TEST_SUITE("controller") {
  TEST_CASE("controller: a restart inside the stabilization window keeps the window") {
    // kFast: 60 s scale-down window. 10 replicas recommended at t=0, load drops at t=30.
    qfscale::test::TempDir dir("qfscale-controller-");
    StateStore store(dir.file("state.json"));
    Harness first;
    first.add_instance("cu-a", 40);
    first.add_service("svc-a", {"cu-a"});
    first.place("svc-a", "cu-a", 10);
    first.start(&store);
    first.qps.set(ServiceId{"svc-a"}, 50);
    first.tick_at(0s);
    first.qps.set(ServiceId{"svc-a"}, 10);
    first.tick_at(30s);
    CHECK(first.new_scales() == "");
    const EngineStates saved = first.controller->states();
    first.controller.reset();

    // The same world, a new process: at t=59 the t=0 recommendation is still in the window.
    Harness second;
    second.add_instance("cu-a", 40);
    second.add_service("svc-a", {"cu-a"});
    second.place("svc-a", "cu-a", 10);
    second.start(&store);
    CHECK(second.controller->states() == saved);
    second.qps.set(ServiceId{"svc-a"}, 10);
    auto r = second.tick_at(59s);
    CHECK(second.new_scales() == "");
    CHECK(decision(r, "svc-a").reason == Reason::Stabilized);
    r = second.tick_at(61s);
    CHECK(second.new_scales() == "svc-a@cu-a=2");

    // Without the saved state the window starts again at t=59 (the current 10 seeds it): the
    // scale-down waits until t=119 instead of t=61.
    Harness amnesiac;
    amnesiac.add_instance("cu-a", 40);
    amnesiac.add_service("svc-a", {"cu-a"});
    amnesiac.place("svc-a", "cu-a", 10);
    amnesiac.start();
    amnesiac.qps.set(ServiceId{"svc-a"}, 10);
    amnesiac.tick_at(59s);
    CHECK(amnesiac.new_scales() == "");
    amnesiac.tick_at(118s);
    CHECK(amnesiac.new_scales() == "");
    amnesiac.tick_at(119s);
    CHECK(amnesiac.new_scales() == "svc-a@cu-a=2");
  }

  TEST_CASE(
      "controller: a fresh start with no state file does not scale 5 -> 2 on the first tick") {
    struct Case {
      std::string policy;
      std::chrono::seconds window;  // its scaleDown.stabilizationWindow
    };
    // 10 qps on 5 replicas of 10 qps: raw ceil(10 / (10 x utilization)) = 2 for hpa-default and
    // cost-saver; balanced sizes for its SLO, 10.44 qps (slo_sizing.h, Poisson at 10 qps), also
    // 2. Each one's scale-down rate limit lets 5 -> 2 through in one step.
    const Case cases[] = {{"balanced", 180s}, {"hpa-default", 300s}, {"cost-saver", 120s}};
    for (const auto& c : cases) {
      CAPTURE(c.policy);
      qfscale::test::TempDir dir("qfscale-controller-");
      StateStore store(dir.file("state.json"));  // no such file: starts with no state
      Harness h;
      h.add_instance("cu-a", 40);
      h.add_service("svc-a", {"cu-a"}).policy = load_shipped(c.policy);
      h.place("svc-a", "cu-a", 5);
      h.start(&store);
      h.qps.set(ServiceId{"svc-a"}, 10);
      auto r = h.tick_at(0s);
      CHECK(h.new_scales() == "");
      CHECK(decision(r, "svc-a").reason == Reason::Stabilized);
      h.tick_at(c.window - 1s);
      CHECK(h.new_scales() == "");
      h.tick_at(c.window);
      CHECK(h.new_scales() == "svc-a@cu-a=2");
    }
  }

  TEST_CASE("controller: a clock step either way keeps the scale-down window") {
    // kFast: 60 s scale-down window. The first process saw 40 qps on 8 replicas (it recommends
    // 8) at `saved_at`; the restarted one sees 5 qps (raw 1) from `restarted_at`. Stepped back,
    // the saved 8 is clamped to now; stepped forward, everything saved is older than the window
    // and the current 8 seeds it. Either way 8 holds for a whole window.
    struct ClockStep {
      const char* name;
      std::chrono::seconds saved_at;
      std::chrono::seconds restarted_at;
    };
    const ClockStep steps[] = {
        {"back: the state was stamped 10 min ahead", 600s, 0s},
        {"forward: the restart comes an hour later", 0s, 3600s},
    };
    for (const auto& step : steps) {
      SUBCASE(step.name) {
        qfscale::test::TempDir dir("qfscale-controller-");
        StateStore store(dir.file("state.json"));
        const auto start_on_eight = [&store](Harness& h) {
          h.add_instance("cu-a", 40);
          h.add_service("svc-a", {"cu-a"});
          h.place("svc-a", "cu-a", 8);
          h.start(&store);
        };
        Harness before;
        start_on_eight(before);
        before.qps.set(ServiceId{"svc-a"}, 40);
        before.tick_at(step.saved_at);
        CHECK(before.new_scales() == "");
        before.controller.reset();

        Harness h;
        start_on_eight(h);
        h.qps.set(ServiceId{"svc-a"}, 5);
        auto r = h.tick_at(step.restarted_at);
        CHECK(h.new_scales() == "");
        CHECK(decision(r, "svc-a").reason == Reason::Stabilized);
        h.tick_at(step.restarted_at + 59s);
        CHECK(h.new_scales() == "");
        h.tick_at(step.restarted_at + 60s);
        CHECK(h.new_scales() == "svc-a@cu-a=1");
      }
    }
  }

  TEST_CASE("controller: a state file that cannot be decoded stops the start") {
    qfscale::test::TempDir dir("qfscale-controller-");
    const auto path = dir.file("state.json");
    std::ofstream(path) << "{\"version\": 1, \"services\": ";  // torn
    StateStore store(path);
    Harness h;
    h.add_instance("cu-a", 40);
    h.add_service("svc-a", {"cu-a"});
    auto made = Controller::create(
        h.config,
        Dependencies{.api = &h.api, .qps = &h.qps, .clock = &h.clock, .state_store = &store});
    REQUIRE_FALSE(made.has_value());
    const auto text = made.error().to_string();
    CHECK(text.find(path) != std::string::npos);
    CHECK(text.find("move the file away") != std::string::npos);
  }

  TEST_CASE("controller: a store read later (etcd) does not stop the start; the reload fails") {
    qfscale::test::TempDir dir("qfscale-controller-");
    const auto path = dir.file("state.json");
    std::ofstream(path) << "{\"version\": 1, \"services\": ";  // unreadable, like etcd down
    StateStore store(path);
    Harness h;
    h.add_instance("cu-a", 40);
    h.add_service("svc-a", {"cu-a"});
    auto made = Controller::create(h.config, Dependencies{.api = &h.api,
                                                          .qps = &h.qps,
                                                          .clock = &h.clock,
                                                          .state_store = &store,
                                                          .load_states_on_create = false});
    REQUIRE(made.has_value());
    CHECK((*made)->states().empty());
    const auto reloaded = (*made)->reload_states();
    REQUIRE_FALSE(reloaded.has_value());
    CHECK(reloaded.error().to_string().find(path) != std::string::npos);
  }

  TEST_CASE("controller: saved states of services no longer configured are dropped at start") {
    qfscale::test::TempDir dir("qfscale-controller-");
    StateStore store(dir.file("state.json"));
    policy::EngineState kept;
    kept.metric_failures = 2;
    kept.last_observed = Replicas{3};
    kept.last_observed_at = kT0;
    REQUIRE(store.save({{ServiceId{"svc-a"}, kept}, {ServiceId{"svc-gone"}, {}}}, kT0).has_value());
    Harness h;
    h.add_instance("cu-a", 40);
    h.add_service("svc-a", {"cu-a"});
    h.start(&store);
    REQUIRE(h.controller->states().size() == 1);
    CHECK(h.controller->states().at(ServiceId{"svc-a"}) == kept);
    // The next save no longer has it either.
    h.qps.set(ServiceId{"svc-a"}, 10);
    h.tick_at(15s);
    const auto reloaded = store.load();
    REQUIRE(reloaded.has_value());
    CHECK_FALSE(reloaded->contains(ServiceId{"svc-gone"}));
    CHECK(reloaded->contains(ServiceId{"svc-a"}));
  }

  TEST_CASE("controller: a failed state save is reported, the tick acts but is unsuccessful") {
    qfscale::test::TempDir dir("qfscale-controller-");
    StateStore store(dir.file("missing-dir/state.json"));  // loads as empty, cannot be saved
    Harness h;
    h.add_instance("cu-a", 40);
    h.add_service("svc-a", {"cu-a"});
    h.place("svc-a", "cu-a", 2);
    h.start(&store);
    h.qps.set(ServiceId{"svc-a"}, 50);
    const auto r = h.tick_at(0s);
    CHECK(h.new_scales() == "svc-a@cu-a=10");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].stage == telemetry::TickStage::Save);
    CHECK(r.errors[0].code == telemetry::TickErrorCode::Io);
    CHECK(r.errors[0].message.find("saving the controller state") != std::string::npos);
    CHECK(r.errors[0].message.find("missing-dir") != std::string::npos);
    CHECK_FALSE(r.success);  // a restart now would forget the windows
    REQUIRE(h.sink.ticks.size() == 1);
    CHECK(h.sink.ticks[0].errors == r.errors);  // saved before the sinks hear of the tick
  }

  TEST_CASE("controller: the audit log gets each tick's errors, and its own failure is reported") {
    qfscale::test::TempDir dir("qfscale-controller-");
    StateStore store(dir.file("missing-dir/state.json"));
    auto audit = AuditLog::open({.path = dir.file("audit.jsonl")});
    REQUIRE(audit.has_value());
    Harness h;
    h.add_instance("cu-a", 40);
    h.add_service("svc-a", {"cu-a"});
    h.place("svc-a", "cu-a", 2);
    h.start(&store, audit->get());
    h.qps.set(ServiceId{"svc-a"}, 50);
    h.tick_at(0s);
    std::ifstream in(dir.file("audit.jsonl"));
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // The last line is the tick's: the failed save with its stage, code and cause.
    CHECK(all.find(R"({"type":"tick","at":"2024-01-01T00:00:00Z","success":false,"errors":[)"
                   R"({"stage":"save","code":"io","message":"saving the controller state to )") !=
          std::string::npos);
    CHECK(all.find("missing-dir") != std::string::npos);

    // An audit log that cannot be written (a full disk): the report the sinks get says so.
    auto full = AuditLog::open({.path = "/dev/full"});
    REQUIRE(full.has_value());
    Harness h2;
    h2.add_instance("cu-a", 40);
    h2.add_service("svc-a", {"cu-a"});
    h2.start(nullptr, full->get());
    h2.qps.set(ServiceId{"svc-a"}, 50);
    const auto r = h2.tick_at(0s);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].stage == telemetry::TickStage::Audit);
    CHECK(r.errors[0].code == telemetry::TickErrorCode::Io);
    CHECK(r.errors[0].message.find("/dev/full") != std::string::npos);
    CHECK(r.success);  // the tick itself reconciled
    REQUIRE(h2.sink.ticks.size() == 1);
    CHECK(h2.sink.ticks[0].errors == r.errors);
  }
}

}  // namespace
}  // namespace qfscale::controller::test
