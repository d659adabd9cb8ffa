// EtcdStateStore: engine states in etcd, written only when changed, only by the current leader,
// compare-and-swap on each key's mod revision.

#include "qfscale/controller/etcd_state_store.h"

#include <chrono>

#include <doctest/doctest.h>

#include "support/fake_etcd.h"

namespace qfscale::controller {
namespace {

using namespace std::chrono_literals;
using model::ServiceId;

const util::SystemTime kNow{std::chrono::seconds{1'700'000'000}};

policy::EngineState state_with(double qps) {
  policy::EngineState s;
  s.samples.push_back({.at = kNow, .qps = qps});
  return s;
}

// The leader key created at some revision: that revision is the token.
std::int64_t lead(testing::FakeEtcd& etcd) {
  auto rev = etcd.put({.key = "/q/leader", .value = "a"});
  REQUIRE(rev.has_value());
  return *rev;
}

TEST_SUITE("controller") {
  TEST_CASE("etcd state: saved by the leader, read back by the next one, unchanged not rewritten") {
    testing::FakeEtcd etcd;
    const auto token = lead(etcd);
    EtcdStateStore a(etcd, "/q");
    CHECK_FALSE(a.save({{ServiceId{"svc-1"}, state_with(1)}}, kNow).has_value());  // no term yet
    a.set_fencing_token(token);
    const EngineStates states = {{ServiceId{"svc-1"}, state_with(1)},
                                 {ServiceId{"svc-2"}, state_with(2)}};
    REQUIRE(a.save(states, kNow).has_value());
    CHECK(etcd.txns() == 1);  // both in one txn
    REQUIRE(a.save(states, kNow + 1s).has_value());
    CHECK(etcd.txns() == 1);  // nothing changed, nothing written
    auto changed = states;
    changed[ServiceId{"svc-2"}] = state_with(3);
    REQUIRE(a.save(changed, kNow + 2s).has_value());
    CHECK(etcd.txns() == 2);

    EtcdStateStore b(etcd, "/q");
    auto loaded = b.load();
    REQUIRE(loaded.has_value());
    CHECK(*loaded == changed);
  }

  TEST_CASE("etcd state: a deposed leader cannot write, and says so") {
    testing::FakeEtcd etcd;
    const auto old_token = lead(etcd);
    EtcdStateStore a(etcd, "/q");
    a.set_fencing_token(old_token);
    REQUIRE(a.save({{ServiceId{"svc-1"}, state_with(1)}}, kNow).has_value());
    REQUIRE(etcd.delete_range({.key = "/q/leader"}).has_value());
    const auto new_token = lead(etcd);
    auto refused = a.save({{ServiceId{"svc-1"}, state_with(9)}}, kNow + 1s);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().message ==
          fmt::format("engine states not written: this controller is no longer the leader (the "
                      "leader key's revision is {}, ours {})",
                      new_token, old_token));
    EtcdStateStore b(etcd, "/q");
    CHECK(b.load()->at(ServiceId{"svc-1"}) == state_with(1));
  }

  TEST_CASE("etcd state: a key changed behind the leader's back is not overwritten blindly") {
    testing::FakeEtcd etcd;
    const auto token = lead(etcd);
    EtcdStateStore a(etcd, "/q");
    a.set_fencing_token(token);
    REQUIRE(a.save({{ServiceId{"svc-1"}, state_with(1)}}, kNow).has_value());
    REQUIRE(etcd.put({.key = "/q/state/svc-1", .value = etcd.get("/q/state/svc-1")->value})
                .has_value());
    auto refused = a.save({{ServiceId{"svc-1"}, state_with(2)}}, kNow + 1s);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().message.find("changed in etcd since this controller read it") !=
          std::string::npos);
    // The revisions were read again: the next save goes through.
    CHECK(a.save({{ServiceId{"svc-1"}, state_with(2)}}, kNow + 2s).has_value());
  }

  TEST_CASE("etcd state: the last actuation is saved when it changed and read by the next owner") {
    testing::FakeEtcd etcd;
    const auto token = lead(etcd);
    EtcdStateStore a(etcd, "/q");
    a.set_fencing_token(token);
    const EngineStates states = {{ServiceId{"svc-1"}, state_with(1)}};
    const LastActuation sent{
        .instance = model::InstanceId{"cu-1"}, .replicas = 5, .at = kNow, .fencing_token = token};
    a.record_actuation(ServiceId{"svc-1"}, sent);
    REQUIRE(a.save(states, kNow).has_value());
    CHECK(etcd.txns() == 1);  // state and actuation in one txn
    CHECK(
        etcd.get("/q/actuation/svc-1")->value ==
        fmt::format(R"({{"instanceId":"cu-1","replicas":5,"at":1700000000000,"fencingToken":{}}})",
                    token));
    REQUIRE(a.save(states, kNow + 1s).has_value());
    CHECK(etcd.txns() == 1);  // the same actuation is not written again
    a.record_actuation(ServiceId{"svc-1"}, sent);
    REQUIRE(a.save(states, kNow + 2s).has_value());
    CHECK(etcd.txns() == 1);  // recorded again, but unchanged

    EtcdStateStore b(etcd, "/q");
    REQUIRE(b.load().has_value());
    CHECK(b.actuations() == std::map<ServiceId, LastActuation>{{ServiceId{"svc-1"}, sent}});
    // The new owner's next call replaces it, compare-and-swap on the revision b read.
    b.set_fencing_token(token);
    auto next = sent;
    next.replicas = 1;
    b.record_actuation(ServiceId{"svc-1"}, next);
    REQUIRE(b.save(states, kNow + 3s).has_value());
    CHECK(decode_actuation(etcd.get("/q/actuation/svc-1")->value)->replicas == 1);
    // The previous owner, still holding the old revision, cannot overwrite it blindly.
    auto late = sent;
    late.replicas = 7;
    a.record_actuation(ServiceId{"svc-1"}, late);
    CHECK_FALSE(a.save(states, kNow + 4s).has_value());
    CHECK(decode_actuation(etcd.get("/q/actuation/svc-1")->value)->replicas == 1);
  }

  TEST_CASE("etcd state: with sharding, the member key guards the writes") {
    testing::FakeEtcd etcd;
    auto member = etcd.put({.key = "/q/members/a", .value = "a"});
    REQUIRE(member.has_value());
    EtcdStateStore a(etcd, "/q");
    a.set_member_guard("/q/members/a", *member);
    REQUIRE(a.save({{ServiceId{"svc-1"}, state_with(1)}}, kNow).has_value());
    REQUIRE(etcd.delete_range({.key = "/q/members/a"}).has_value());  // its lease ended
    auto refused = a.save({{ServiceId{"svc-1"}, state_with(2)}}, kNow + 1s);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().message ==
          fmt::format("engine states not written: this controller is no longer the registered "
                      "member (the member key's revision is 0, ours {})",
                      *member));
  }

  TEST_CASE("etcd state: a last actuation that is not what encode writes is refused on load") {
    CHECK(decode_actuation(R"({"instanceId":"cu","replicas":-1,"at":0,"fencingToken":1})")
              .error()
              .message == "last actuation: replicas: -1 is out of range");
    CHECK(decode_actuation(R"({"instanceId":"cu","replicas":1,"at":0})").error().message ==
          "last actuation: expected exactly instanceId, replicas, at and fencingToken");
    testing::FakeEtcd etcd;
    REQUIRE(etcd.put({.key = "/q/actuation/svc-1", .value = "{}"}).has_value());
    EtcdStateStore a(etcd, "/q");
    auto loaded = a.load();
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error().to_string().find("/q/actuation/svc-1") != std::string::npos);
  }
}

}  // namespace
}  // namespace qfscale::controller
