// The pure shard assignment: deterministic, instance groups kept whole, and a membership change
// moving only about 1 / (n + 1) of the services.

#include "qfscale/coordination/sharding.h"

#include <algorithm>
#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace qfscale::coordination {
namespace {

// 1000 services, each on an instance of its own.
std::vector<ShardedService> fleet(int count) {
  std::vector<ShardedService> services;
  for (int i = 0; i < count; ++i) {
    services.push_back(
        {.id = "svc-" + std::to_string(i), .instances = {"cu-" + std::to_string(i)}});
  }
  return services;
}

std::string owner(const Assignment& a, const std::string& service) {
  return a.owner_of_shard[static_cast<std::size_t>(a.shard_of.at(service))];
}

int moved(const Assignment& before, const Assignment& after) {
  int count = 0;
  for (const auto& [service, shard] : before.shard_of) {
    if (owner(before, service) != owner(after, service)) ++count;
  }
  return count;
}

TEST_SUITE("coordination") {
  TEST_CASE("sharding: the same input gives the same answer, whatever the member order") {
    const auto services = fleet(200);
    const auto a = assign({"ctl-a", "ctl-b", "ctl-c"}, services, 64);
    const auto b = assign({"ctl-c", "ctl-a", "ctl-b", "ctl-a"}, services, 64);
    CHECK(a == b);
    // Pinned (computed independently): every controller, whatever its build, must compute the
    // same weights, and a changed hash would reshuffle every running fleet on upgrade.
    CHECK(rendezvous_weight("instance:cu-1", "7") == 10183836076833782958ULL);
    CHECK(rendezvous_weight("shard:0", "ctl-a") == 12227969652283276539ULL);
    // Every member gets some of 200 services over 64 shards.
    for (const std::string m : {"ctl-a", "ctl-b", "ctl-c"}) {
      CHECK(services_of(a, m).size() > 30);
    }
    std::size_t total = 0;
    for (const std::string m : {"ctl-a", "ctl-b", "ctl-c"}) total += services_of(a, m).size();
    CHECK(total == services.size());  // disjoint and covering
  }

  TEST_CASE("sharding: adding a fourth member moves about a quarter, all to the newcomer") {
    const auto services = fleet(1000);
    const auto three = assign({"ctl-a", "ctl-b", "ctl-c"}, services, 256);
    const auto four = assign({"ctl-a", "ctl-b", "ctl-c", "ctl-d"}, services, 256);
    const int count = moved(three, four);
    MESSAGE("moved " << count << " of 1000");
    CHECK(count > 180);  // 1 / 4 = 250, give or take the spread of 256 shards
    CHECK(count < 320);
    for (const auto& service : services) {
      if (owner(three, service.id) != owner(four, service.id)) {
        CHECK(owner(four, service.id) == "ctl-d");  // nothing moves between the old members
      }
    }
    // The shards themselves do not depend on the members.
    CHECK(three.shard_of == four.shard_of);
  }

  TEST_CASE("sharding: a member that leaves gives away only its own services") {
    const auto services = fleet(1000);
    const auto four = assign({"ctl-a", "ctl-b", "ctl-c", "ctl-d"}, services, 256);
    const auto three = assign({"ctl-a", "ctl-c", "ctl-d"}, services, 256);
    for (const auto& service : services) {
      if (owner(four, service.id) != "ctl-b") {
        CHECK(owner(three, service.id) == owner(four, service.id));
      }
    }
    CHECK(moved(four, three) == static_cast<int>(services_of(four, "ctl-b").size()));
  }

  TEST_CASE("sharding: services sharing an instance, even through a chain, stay together") {
    // a and b share cu-1, b and c share cu-2: one group, named by cu-1. d is alone; e has none.
    const std::vector<ShardedService> services{
        {.id = "a", .instances = {"cu-1"}}, {.id = "b", .instances = {"cu-2", "cu-1"}},
        {.id = "c", .instances = {"cu-2"}}, {.id = "d", .instances = {"cu-3"}},
        {.id = "e", .instances = {}},
    };
    const auto a = assign({"m1", "m2", "m3"}, services, 16);
    CHECK(a.group_of.at("a") == "instance:cu-1");
    CHECK(a.group_of.at("b") == "instance:cu-1");
    CHECK(a.group_of.at("c") == "instance:cu-1");
    CHECK(a.group_of.at("d") == "instance:cu-3");
    CHECK(a.group_of.at("e") == "service:e");
    CHECK(a.shard_of.at("a") == a.shard_of.at("b"));
    CHECK(a.shard_of.at("b") == a.shard_of.at("c"));

    // Cohesion holds in a large fleet too: 10 services per instance, every member set.
    std::vector<ShardedService> many;
    for (int i = 0; i < 500; ++i) {
      many.push_back(
          {.id = "s" + std::to_string(i), .instances = {"cu-" + std::to_string(i / 10)}});
    }
    for (const auto& members : std::vector<std::vector<std::string>>{
             {"m1"}, {"m1", "m2"}, {"m1", "m2", "m3"}, {"m1", "m2", "m3", "m4"}}) {
      const auto x = assign(members, many, 32);
      for (int i = 0; i < 500; ++i) {
        const auto first = "s" + std::to_string(i - i % 10);
        CHECK(owner(x, "s" + std::to_string(i)) == owner(x, first));
      }
    }
  }

  TEST_CASE("sharding: no members owns nothing; one shard is one owner") {
    const auto services = fleet(10);
    const auto none = assign({}, services, 4);
    for (const auto& o : none.owner_of_shard) CHECK(o.empty());
    const auto one = assign({"m1", "m2"}, services, 1);
    CHECK(services_of(one, one.owner_of_shard[0]).size() == 10);
  }
}

}  // namespace
}  // namespace qfscale::coordination

namespace qfscale::coordination {
namespace {

TEST_SUITE("coordination") {
  TEST_CASE("sharding: plan_claims, the worked example of the header") {
    Assignment a;
    a.owner_of_shard = {"m1", "m2", "m2", "m1"};
    const std::map<int, ShardClaim> claims{{0, {.member = "m2", .lease = 7, .revision = 10}},
                                           {1, {.member = "m2", .lease = 7, .revision = 11}},
                                           {3, {.member = "m1", .lease = 5, .revision = 12}}};
    CHECK(plan_claims(a, claims, "m2", 7) ==
          ClaimPlan{.release = {0}, .claim = {2}, .keep = {1}, .waiting = {}});
    CHECK(plan_claims(a, claims, "m1", 5) ==
          ClaimPlan{.release = {}, .claim = {}, .keep = {3}, .waiting = {0}});
    // A key of this member's previous lease is not ours to act on: it waits for it to end.
    CHECK(plan_claims(a, claims, "m2", 8) ==
          ClaimPlan{.release = {}, .claim = {2}, .keep = {}, .waiting = {1}});
    // Without a lease (the member's has just ended) nothing is claimed: a key put with lease 0
    // would never expire, and no member would ever count it as held.
    CHECK(plan_claims(a, {}, "m1", 0) == ClaimPlan{});
    CHECK(plan_claims(a, claims, "m1", 0) == ClaimPlan{});
  }
}

}  // namespace
}  // namespace qfscale::coordination

namespace qfscale::coordination {
namespace {

TEST_SUITE("coordination") {
  TEST_CASE("sharding: the config fingerprint sees shards and instances, not file order") {
    const std::vector<ShardedService> one{{.id = "a", .instances = {"cu-1", "cu-2"}},
                                          {.id = "b", .instances = {"cu-3"}}};
    const auto f = config_fingerprint(one, 32);
    CHECK(f.size() == 16);
    CHECK(f.find_first_not_of("0123456789abcdef") == std::string::npos);
    // The same services in another order, instances too: the same assignment, the same print.
    CHECK(config_fingerprint(
              {{.id = "b", .instances = {"cu-3"}}, {.id = "a", .instances = {"cu-2", "cu-1"}}},
              32) == f);
    CHECK(config_fingerprint(one, 16) != f);
    CHECK(config_fingerprint({{.id = "a", .instances = {"cu-1", "cu-2"}}}, 32) != f);
    CHECK(config_fingerprint(
              {{.id = "a", .instances = {"cu-1"}}, {.id = "b", .instances = {"cu-3"}}}, 32) != f);
    // Separators keep ids apart: "ab" on "c" is not "a" on "bc".
    CHECK(config_fingerprint({{.id = "ab", .instances = {"c"}}}, 2) !=
          config_fingerprint({{.id = "a", .instances = {"bc"}}}, 2));
    CHECK(fingerprint_in(member_value("ctl-a", f)) == f);
    CHECK(member_value("ctl-a", "00ff") == "ctl-a config=00ff");
    CHECK(fingerprint_in("ctl-a").empty());  // a member of a version before fingerprints
  }

  TEST_CASE("sharding: agree, a member acts only while every other runs its config") {
    struct Row {
      const char* name;
      std::vector<PeerConfig> peers;
      std::string leader;
      Agreement want;
    };
    const std::vector<Row> rows{
        {"alone", {{"ctl-a", "f1"}}, "", {.act = true, .disagreeing = {}}},
        {"all the same", {{"ctl-a", "f1"}, {"ctl-b", "f1"}, {"ctl-c", "f1"}}, "", {true, {}}},
        // Our own key may still carry the print from before a reload: it is ours, not a peer's.
        {"own key stale", {{"ctl-a", "f0"}, {"ctl-b", "f1"}}, "", {true, {}}},
        {"another shards or services",
         {{"ctl-a", "f1"}, {"ctl-b", "f2"}},
         "",
         {false, {"ctl-b (another config)"}}},
        {"an older version",
         {{"ctl-b", ""}},
         "",
         {false, {"ctl-b (no config fingerprint: an older version)"}}},
        {"a leader-mode member",
         {{"ctl-b", "f1"}},
         "ctl-x",
         {false, {"ctl-x (leader key: shards: 1)"}}},
        {"several, sorted",
         {{"ctl-d", "f2"}, {"ctl-b", ""}, {"ctl-c", "f1"}},
         "ctl-x",
         {false,
          {"ctl-b (no config fingerprint: an older version)", "ctl-d (another config)",
           "ctl-x (leader key: shards: 1)"}}},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      CHECK(agree("ctl-a", "f1", row.peers, row.leader) == row.want);
    }
  }
}

}  // namespace
}  // namespace qfscale::coordination
