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
    CHECK(refused.error().message.find("changed in etcd since this leader read it") !=
          std::string::npos);
    // The revisions were read again: the next save goes through.
    CHECK(a.save({{ServiceId{"svc-1"}, state_with(2)}}, kNow + 2s).has_value());
  }
}

}  // namespace
}  // namespace qfscale::controller
