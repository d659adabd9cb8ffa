// ShardGate against the in-memory etcd and one fake Qianfan: two members split the services,
// every service is scaled by exactly one of them, and when the second member joins, the services
// it takes over keep their stabilization windows (their state comes from etcd) and the old
// owner can no longer call for them.

#include "qfscale/controller/shard_gate.h"

#include <map>
#include <optional>
#include <set>

#include "qfscale/controller/leadership.h"
#include "qfscale/telemetry/exporter.h"

#include "support/fake_etcd.h"
#include "unit/controller/fixture.h"
#include "unit/controller/shard_members.h"
#include "unit/telemetry/fixtures.h"

namespace qfscale::controller::test {
namespace {

constexpr int kServices = 12;

// Disjoint and covering: every service owned by exactly one of `members`.
bool partition(const std::vector<std::set<std::string>>& members, int services) {
  std::set<std::string> all;
  std::size_t total = 0;
  for (const auto& m : members) {
    all.insert(m.begin(), m.end());
    total += m.size();
  }
  return total == all.size() && static_cast<int>(all.size()) == services;
}

/// The in-memory etcd, but shard claims (txns putting an owner key) or releases (txns deleting
/// one) fail as if etcd were unreachable while the switch is on.
class FlakyShardTxns final : public coordination::Etcd {
 public:
  explicit FlakyShardTxns(testing::FakeEtcd& etcd) : etcd_(etcd) {}
  bool fail_claims = false;
  bool fail_releases = false;

  Result<coordination::TxnResult> txn(const coordination::TxnRequest& request) override {
    for (const auto& op : request.success) {
      const bool claim = op.kind == coordination::OpKind::Put && is_shard(op.put.key);
      const bool release = op.kind == coordination::OpKind::Delete && is_shard(op.del.key);
      if ((claim && fail_claims) || (release && fail_releases)) {
        return fail(ErrorCode::Transient, "injected: etcd unreachable");
      }
    }
    return etcd_.txn(request);
  }
  Result<coordination::RangeResult> range(const coordination::RangeRequest& r) override {
    return etcd_.range(r);
  }
  Result<std::int64_t> put(const coordination::PutRequest& r) override { return etcd_.put(r); }
  Result<coordination::DeleteResult> delete_range(const coordination::DeleteRequest& r) override {
    return etcd_.delete_range(r);
  }
  Result<coordination::Lease> lease_grant(std::chrono::seconds ttl) override {
    return etcd_.lease_grant(ttl);
  }
  Result<coordination::Lease> lease_keep_alive(std::int64_t id) override {
    return etcd_.lease_keep_alive(id);
  }
  Status lease_revoke(std::int64_t id) override { return etcd_.lease_revoke(id); }
  Result<coordination::LeaseTimeToLive> lease_time_to_live(std::int64_t id) override {
    return etcd_.lease_time_to_live(id);
  }

 private:
  static bool is_shard(const std::string& key) { return key.starts_with("/q/shards/"); }
  testing::FakeEtcd& etcd_;
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

  TEST_CASE("shard gate: failed claim and release txns are retried and counted in /metrics") {
    Harness h;
    fleet(h, 6, 5);
    testing::FakeEtcd memory;
    FlakyShardTxns etcd(memory);
    auto exporter = telemetry::Exporter::create({}, h.clock);
    REQUIRE(exporter.has_value());
    const auto failures = [&](std::string_view operation) {
      return telemetry::test::value_of(
          (*exporter)->render_metrics(),
          fmt::format(R"(qfscale_shard_txn_failures_total{{operation="{}"}})", operation));
    };
    Member a("ctl-a", etcd, h, 32, 60s, exporter->get());

    // etcd refuses every claim: A owns nothing, says so once a tick, and counts each txn.
    etcd.fail_claims = true;
    a.step(at(h, 0));
    CHECK(a.gate.owned_services().empty());
    CHECK(a.log.find("sharding: could not claim") != std::string::npos);
    const auto refused = failures("claim");
    REQUIRE(refused.has_value());
    CHECK(*refused > 0);
    CHECK(failures("release") == 0);
    // etcd is back: the next tick claims them all; nothing more is counted.
    etcd.fail_claims = false;
    a.step(at(h, 5));
    CHECK(a.gate.owned_services().size() == 6);
    CHECK(failures("claim") == refused);

    // B joins; A's releases fail: B cannot claim what A still holds, A no longer acts on it,
    // and both ends see why. Once etcd lets the deletes through, B owns its share.
    Member b("ctl-b", etcd, h);
    etcd.fail_releases = true;
    step_all(h, {&b, &a}, 10, 15);
    CHECK(*failures("release") > 0);
    CHECK(a.log.find("sharding: could not release shard") != std::string::npos);
    CHECK(b.gate.owned_services().empty());
    CHECK(a.gate.owned_services().size() < 6);
    etcd.fail_releases = false;
    step_all(h, {&b, &a}, 20, 30);
    CHECK_FALSE(b.gate.owned_services().empty());
    CHECK(a.gate.owned_services().size() + b.gate.owned_services().size() == 6);
  }

  // The review's case: A restarted with shards: 32 next to B still on 16 would compute different
  // assignments (with 12 services, "a 7, b 4, both 1": one service acted on by both, one by
  // nobody). They stand down instead until B runs 32 too.
  TEST_CASE("shard gate: members with different shard counts stand down until they agree") {
    Harness h;
    fleet(h, 12, 50);  // every service wants 10 replicas
    testing::FakeEtcd etcd;
    Member a("ctl-a", etcd, h, 32);
    std::optional<Member> b;
    b.emplace("ctl-b", etcd, h, 16);
    a.elector.poll();  // both registered before either ticks
    b->elector.poll();
    for (int t = 0; t <= 10; t += 5) {
      const auto now = at(h, t);
      a.step(now);
      b->step(now);
    }
    CHECK(a.gate.owned_services().empty());
    CHECK(b->gate.owned_services().empty());
    CHECK(h.api.count(QianfanAction::ScaleService) == 0);
    CHECK(a.log.find("members disagree on the config: ctl-b (another config)") !=
          std::string::npos);
    CHECK(b->log.find("members disagree on the config: ctl-a (another config)") !=
          std::string::npos);
    // Nothing held that the other would have to wait for.
    CHECK(etcd.range({.key = "/q/shards/", .range_end = coordination::prefix_end("/q/shards/")})
              ->kvs.empty());

    // B restarts on 32: the members agree, split the services and act.
    b->elector.stop();
    b.emplace("ctl-b", etcd, h, 32);
    for (int t = 15; t <= 25; t += 5) {
      const auto now = at(h, t);
      a.step(now);
      b->step(now);
    }
    const auto owned_a = a.gate.owned_services();
    const auto owned_b = b->gate.owned_services();
    CHECK_FALSE(owned_a.empty());
    CHECK_FALSE(owned_b.empty());
    CHECK(partition({owned_a, owned_b}, 12));
    for (int i = 0; i < 12; ++i) CHECK(h.replicas(svc(i), cu(i)) == 10);
    CHECK(a.log.find("the members agree on the config again") != std::string::npos);
    // One ScaleService per service: nobody acted twice on one.
    CHECK(h.api.count(QianfanAction::ScaleService) == 12);
  }

  TEST_CASE("shard gate: a reload on one member stands all down until the others have it") {
    Harness h;
    fleet(h, 12, 5);
    testing::FakeEtcd etcd;
    Member a("ctl-a", etcd, h);
    Member b("ctl-b", etcd, h);
    step_all(h, {&a, &b}, 0, 10);
    REQUIRE(partition({a.gate.owned_services(), b.gate.owned_services()}, 12));
    // A new service on a new instance; B is sent SIGHUP first.
    h.add_instance(cu(12), 100);
    h.add_service(svc(12), {cu(12)});
    h.place(svc(12), cu(12), 1);
    for (int i = 0; i <= 12; ++i) h.qps.set(ServiceId{svc(i)}, 50);
    const auto scales = h.api.count(QianfanAction::ScaleService);
    b.gate.set_config(h.config);
    // B rewrites its key with the new fingerprint and sees A's old one.
    step_all(h, {&b, &a}, 15, 25);
    CHECK(a.gate.owned_services().empty());
    CHECK(b.gate.owned_services().empty());
    CHECK(h.api.count(QianfanAction::ScaleService) == scales);
    CHECK(a.log.find("members disagree on the config: ctl-b (another config)") !=
          std::string::npos);
    // A gets it too: both act again, each service by one of them.
    a.gate.set_config(h.config);
    step_all(h, {&a, &b}, 30, 40);
    CHECK(partition({a.gate.owned_services(), b.gate.owned_services()}, 13));
    for (int i = 0; i <= 12; ++i) CHECK(h.replicas(svc(i), cu(i)) == 10);
    CHECK(h.api.count(QianfanAction::ScaleService) == scales + 13);
  }

  // A reload that joins two instance groups moves a service to another shard, whose key may be
  // older than its old shard's: its token would go backwards. Every member releases all on the
  // tick it takes a changed config in, so every key claimed afterwards is newer.
  TEST_CASE("shard gate: after a reload every owner key is newer than any token sent before") {
    Harness h;
    fleet(h, 12, 50);
    testing::FakeEtcd etcd;
    Member a("ctl-a", etcd, h);
    Member b("ctl-b", etcd, h);
    step_all(h, {&a, &b}, 0, 10);
    REQUIRE(partition({a.gate.owned_services(), b.gate.owned_services()}, 12));
    const auto keys = [&] {
      return etcd.range({.key = "/q/shards/", .range_end = coordination::prefix_end("/q/shards/")})
          ->kvs;
    };
    std::int64_t newest = 0;
    for (const auto& kv : keys()) newest = std::max(newest, kv.create_revision);
    // svc-01 may now also use cu-00: its group joins svc-00's, in svc-00's shard.
    h.config.services[1].instances.emplace_back("cu-00");
    for (int i = 0; i < 12; ++i) h.qps.set(ServiceId{svc(i)}, 100);
    a.gate.set_config(h.config);
    b.gate.set_config(h.config);
    const auto scales = h.api.count(QianfanAction::ScaleService);
    const auto now = at(h, 15);
    a.step(now);
    b.step(now);
    CHECK(h.api.count(QianfanAction::ScaleService) == scales);  // the tick that takes it in
    // A, first, still sees B on the old config; B sees A agree, and releases for its change.
    CHECK(b.log.find("this member's config changed: releasing its shards") != std::string::npos);
    for (int t = 20; t <= 30; t += 5) {
      const auto later = at(h, t);
      a.step(later);
      b.step(later);
    }
    CHECK(partition({a.gate.owned_services(), b.gate.owned_services()}, 12));
    CHECK(h.api.count(QianfanAction::ScaleService) > scales);
    const auto claimed = keys();
    CHECK_FALSE(claimed.empty());
    for (const auto& kv : claimed) CHECK(kv.create_revision > newest);
    std::map<std::string, std::int64_t> last;
    for (const auto& call : h.api.calls()) {
      if (!call.scale) continue;
      auto& seen = last[call.scale->service.value];
      CHECK(call.scale->fencing_token >= seen);
      seen = call.scale->fencing_token;
    }
  }

  TEST_CASE("shard gate: a leader-mode member and a shard member stand each other down") {
    Harness h;
    fleet(h, 6, 50);
    testing::FakeEtcd etcd;
    // A controller still on shards: 1 holds the leader key and acts on everything.
    coordination::LeaderElector elector(
        etcd, h.clock, {.key = "/q/leader", .name = "ctl-l", .election = {.lease_ttl = 60s}});
    EtcdStateStore store(etcd, "/q");
    std::string leader_log;
    LeaderGate leader(elector, etcd, "/q", h.api, store, h.clock, nullptr, nullptr,
                      [&](const std::string& line) { leader_log += line + "\n"; });
    auto c = make_controller(h, leader.api(), store);
    const auto step = [&](util::SystemTime now) {
      elector.poll();
      if (leader.begin_tick(*c)) (void)c->tick(now);
    };
    step(at(h, 0));
    step(at(h, 5));
    for (int i = 0; i < 6; ++i) REQUIRE(h.replicas(svc(i), cu(i)) == 10);
    for (int i = 0; i < 6; ++i) h.qps.set(ServiceId{svc(i)}, 100);  // 20 replicas, if acted on

    // A member restarted with shards: 32 registers: neither acts while both are there.
    std::optional<Member> a;
    a.emplace("ctl-a", etcd, h);
    const auto scales = h.api.count(QianfanAction::ScaleService);
    for (int t = 10; t <= 20; t += 5) {
      const auto now = at(h, t);
      a->step(now);
      step(now);
    }
    CHECK(a->gate.owned_services().empty());
    CHECK(h.api.count(QianfanAction::ScaleService) == scales);
    for (int i = 0; i < 6; ++i) CHECK(h.replicas(svc(i), cu(i)) == 10);
    CHECK(a->log.find("members disagree on the config: ctl-l (leader key: shards: 1)") !=
          std::string::npos);
    CHECK(leader_log.find("members disagree on the config: ctl-a (shard member: shards >= 2)") !=
          std::string::npos);

    // The shard member goes (the rollout is undone): the leader acts again, from etcd's states.
    a->elector.stop();
    a.reset();
    leader_log.clear();
    step(at(h, 25));
    CHECK(leader_log.find("the controllers agree on the coordination mode again") !=
          std::string::npos);
    CHECK(leader_log.find("resuming from the engine states in etcd") != std::string::npos);
    for (int i = 0; i < 6; ++i) CHECK(h.replicas(svc(i), cu(i)) == 20);
  }
}

}  // namespace
}  // namespace qfscale::controller::test
