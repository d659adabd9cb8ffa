#pragma once

/// Which controller acts on which service (`coordination.etcd.shards` >= 2), as a pure function.
///
/// Two levels of rendezvous (highest random weight) hashing:
/// 1. service -> shard. The services that share a compute-unit instance, directly or through a
///    chain of services, form one group; the group is named by its smallest instance id and
///    goes to the shard k in [0, shards) with the highest weight(group, k). This level never
///    looks at members, so a service's shard only changes when the config changes.
/// 2. shard -> member. Each shard goes to the live member with the highest weight(shard, member)
///    (ties: the smaller name). When a member joins, a shard moves only if the newcomer outbids
///    its owner, which happens for about 1 / (n + 1) of the shards; when a member leaves, only
///    its own shards move, spread over the others. Nothing else moves.
///
/// Why instances are hashed, not services: the allocator (capacity/allocate.h) decides how the
/// units of one instance are shared among its services. With every service of an instance in one
/// shard, that decision stays local to one controller, exactly as with one controller, and costs
/// no etcd write per tick. Reserving capacity in etcd instead would need a txn per tick and
/// instance, and a controller that died holding a reservation would strand units until its lease
/// ended. The price: an instance shared by many services is one unit of balance, so a fleet of a
/// few huge instances spreads unevenly (a group cannot be split).
///
/// Worked example (weights are whatever the hash gives; the shape is what matters): services
/// a on {i1}, b on {i1, i2}, c on {i2}, d on {i3}, e on no instance. Groups: {a, b, c} named
/// "instance:i1" (i1 < i2), {d} "instance:i3", {e} "service:e". With shards = 4 the groups land
/// on, say, shards 2, 0 and 2; with members [m1, m2] shard 0 goes to m1 and shard 2 to m2, so m1
/// acts on d, m2 on a, b, c and e. Adding m3 moves shard 2 only if m3 outbids m2 for it.
///
/// The weight is a 64-bit FNV-1a hash of "<key>\0<candidate>", finished with the splitmix64
/// mixer: deterministic across processes, builds and platforms, which matters because every
/// controller must compute the same answer.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace qfscale::coordination {

/// A service and the compute-unit instances it may use (any order).
struct ShardedService {
  std::string id;
  std::vector<std::string> instances;
};

struct Assignment {
  /// Every service's shard, in [0, shards).
  std::map<std::string, int, std::less<>> shard_of;
  /// Every service's group name ("instance:<smallest id>" or "service:<id>").
  std::map<std::string, std::string, std::less<>> group_of;
  /// Each shard's member; empty when there are no members.
  std::vector<std::string> owner_of_shard;
  friend bool operator==(const Assignment&, const Assignment&) = default;
};

/// The rendezvous weight of `candidate` for `key`.
[[nodiscard]] std::uint64_t rendezvous_weight(std::string_view key, std::string_view candidate);

/// The candidate with the highest weight for `key` (ties: the smaller); empty when none.
[[nodiscard]] std::string rendezvous_pick(std::string_view key,
                                          const std::vector<std::string>& candidates);

/// The shard ("0", "1", ...) and owner of every service (see the header comment). `members` in
/// any order, duplicates ignored; `shards` < 1 counts as 1.
[[nodiscard]] Assignment assign(const std::vector<std::string>& members,
                                const std::vector<ShardedService>& services, int shards);

/// The services `member` acts on under `assignment`, sorted.
[[nodiscard]] std::vector<std::string> services_of(const Assignment& assignment,
                                                   std::string_view member);

}  // namespace qfscale::coordination

namespace qfscale::coordination {

/// A shard's owner key (`<prefix>/shards/<k>`) as read from etcd: the member in its value, the
/// lease it was put with, and its create revision, which is the fencing token of every call on
/// the shard's services (a later owner always has a larger one).
struct ShardClaim {
  std::string member;
  std::int64_t lease = 0;
  std::int64_t revision = 0;
  friend bool operator==(const ShardClaim&, const ShardClaim&) = default;
};

/// What a member does about the owner keys at the start of a tick, before it acts.
struct ClaimPlan {
  /// Held by this member (its name and its current lease) but assigned elsewhere: delete the key
  /// now, while no call of ours is in flight, so the new owner can take it.
  std::vector<int> release;
  /// Assigned to this member and unowned: create the key (txn on create revision 0).
  std::vector<int> claim;
  /// Assigned to this member and held already: act on their services.
  std::vector<int> keep;
  /// Assigned to this member but held by someone else (an owner that has not released yet, a dead
  /// one whose lease has not ended, or this member's own previous lease): not acted on this tick.
  std::vector<int> waiting;
  friend bool operator==(const ClaimPlan&, const ClaimPlan&) = default;
};

/// Compares the assignment with the owner keys. Worked: shards 0..3 assigned to [m1, m2, m2, m1]
/// and keys {0: m2 (lease 7), 1: m2 (lease 7), 3: m1 (lease 5)}; for m2 with lease 7: release
/// [0], claim [2], keep [1], waiting []; for m1 with lease 5: release [], claim [], keep [3],
/// waiting [0] (m2 still holds it; m1 takes it on the tick after m2 has let go). With lease 0
/// (no live lease) the plan is empty: nothing is claimed, kept or released.
[[nodiscard]] ClaimPlan plan_claims(const Assignment& assignment,
                                    const std::map<int, ShardClaim>& claims,
                                    std::string_view member, std::int64_t lease);

/// Members must agree on what decides the assignment: `shards` and every service's instances.
/// Shard keys fence shards, not services, so two members computing `assign` from different
/// configs (a rolling change of `shards`, one member's SIGHUP ahead of the others) would both
/// act on a service whose group lands in a shard of each. So every member writes a fingerprint
/// of its config into its membership key and acts only while every live member's matches.
///
/// The fingerprint is 16 hex digits of FNV-1a 64 over `shards` and the services sorted by id,
/// each with its instances sorted (the order in the file changes nothing, as in `assign`).
[[nodiscard]] std::string config_fingerprint(const std::vector<ShardedService>& services,
                                             int shards);

/// A membership key's value: "<member> config=<fingerprint>".
[[nodiscard]] std::string member_value(std::string_view member, std::string_view fingerprint);

/// The fingerprint in a membership key's value; empty when it has none (a version before
/// fingerprints wrote the bare name).
[[nodiscard]] std::string fingerprint_in(std::string_view value);

/// A live member as read from its membership key.
struct PeerConfig {
  std::string member;
  std::string fingerprint;  ///< empty: none
};

struct Agreement {
  bool act = true;
  /// Why not, one entry per member in the way, sorted: "ctl-b (another config)",
  /// "ctl-c (no config fingerprint: an older version)", "ctl-x (leader key: shards: 1)".
  std::vector<std::string> disagreeing;
  friend bool operator==(const Agreement&, const Agreement&) = default;
};

/// Whether `member`, whose config has `fingerprint`, may act next to `peers` (its own entry is
/// skipped) and the holder of a `<prefix>/leader` key (`leader`: empty when there is none, or a
/// placeholder name when the key has no value). Worked: ctl-a with "f1" among {ctl-a "f1",
/// ctl-b "f1"} acts; with ctl-b "f2" or ctl-b "" it does not, and neither does ctl-b; with a
/// leader key held by ctl-x nobody in shard mode acts. During a rolling change every member
/// stands down from the first restarted one until the last, then all act again.
[[nodiscard]] Agreement agree(std::string_view member, std::string_view fingerprint,
                              const std::vector<PeerConfig>& peers, std::string_view leader);

}  // namespace qfscale::coordination
