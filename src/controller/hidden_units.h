#pragma once

// Compute units an instance holds that no reply shows, learned from ScaleService refusals.
// DescribeComputeUnit's usage list leaves out uses such as another team's services, and
// `availableComputeUnitCount` (which accounts for them) may be absent. Then a scale-up into those
// units is refused, and without a memory the same plan would be sent, and refused, every tick.
//
// What a refusal proves: before this tick's scale-ups the controller believed `F` units free on
// the instance; its ups there add `N`, leaving `free_after = F - N >= 0` (the allocator's `free`).
// An up of `n` units was refused, so fewer than `n` units were really free when it arrived,
// although at most `N - n` of the other ups had landed before it: fewer than `N` were really free
// before the ups, so more than `F - N = free_after` units are held unseen, whatever order the
// concurrent ups landed in. The memory adds `free_after + 1` to what it already knew (that part
// was already counted as used in `F`).
//
// The memory only ever holds back growth: what it counts on an instance is capped by the room the
// instance has beyond what the managed services already run there, so it never makes the
// allocator shrink a service. And units that become visible are not counted twice: when the
// foreign units the replies show have grown by D since the refusal, D of the remembered units are
// taken to be those.
//
// Worked example: unit-b, capacity 16, 10 units listed, 2 held unseen. The allocator believes 6
// free and plans code-gen 2 -> 5 (+6 units) there: free_after 0. Refused -> unit-b holds 1 unseen.
// Next tick 5 units are believed free; code-gen 2 -> 4 (+4, free_after 1) fits the 6 really free
// and is applied: one refusal instead of one every tick. An entry is forgotten
// `kHiddenUnitsMemory` after it last grew, so units given back are used again after at most one
// more refusal. Pure: the time is passed in. Not persisted: a restart relearns with one refusal.

#include <chrono>
#include <map>
#include <span>

#include "qfscale/model/ids.h"
#include "qfscale/model/units.h"
#include "qfscale/util/clock.h"

namespace qfscale::controller::detail {

inline constexpr std::chrono::minutes kHiddenUnitsMemory{10};

struct HiddenUnits {
  model::ComputeUnits units;
  model::ComputeUnits foreign_seen;  ///< the foreign units the replies showed when it was learned
  util::SystemTime since;            ///< when it last grew; forgotten kHiddenUnitsMemory later
  friend bool operator==(const HiddenUnits&, const HiddenUnits&) = default;
};

using HiddenUnitsMemory = std::map<model::InstanceId, HiddenUnits>;

/// An instance where a scale-up was refused for capacity this tick.
struct RefusedUp {
  model::InstanceId instance;
  model::ComputeUnits free_after;    ///< what the allocation left free there
  model::ComputeUnits counted;       ///< the hidden units this tick counted there (`counted`)
  model::ComputeUnits foreign_seen;  ///< the foreign units the replies showed this tick
};

/// The units of `hidden` to count as foreign this tick, given the foreign units the replies show
/// now and the `room` left beyond what the managed services run there:
/// min(max(0, units - max(0, foreign_now - foreign_seen)), max(0, room)).
/// E.g. 21 remembered at foreign 0; now foreign 26 (someone's service appeared): 0.
/// 1 remembered at foreign 0, still 0, room 2: 1.
[[nodiscard]] model::ComputeUnits counted(const HiddenUnits& hidden,
                                          model::ComputeUnits foreign_now,
                                          model::ComputeUnits room);

/// `memory` without the entries older than kHiddenUnitsMemory at `now`.
[[nodiscard]] HiddenUnitsMemory recall(HiddenUnitsMemory memory, util::SystemTime now);

/// `memory` after this tick's refusals: an instance refused holds `counted + free_after + 1`
/// unseen, as of `foreign_seen` and `now` (one entry per instance is enough; more add nothing).
[[nodiscard]] HiddenUnitsMemory learn(HiddenUnitsMemory memory, std::span<const RefusedUp> refused,
                                      util::SystemTime now);

}  // namespace qfscale::controller::detail
