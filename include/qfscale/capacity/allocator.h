#pragma once

/// The capacity allocator: step 3 ("Allocate") of a reconcile tick. It turns every service's
/// recommended replica count into replica counts per (service, compute-unit instance) so that,
/// on every instance, `sum(replicas x units per replica) + foreign <= capacity`. It is pure: no
/// I/O, no clock, no logging; the controller and the simulator call the same function.
///
/// ## Algorithm
///
/// Inputs per service: units per replica `u`, desired `D` (the engine's answer), min `m`,
/// priority, weight `w`, current replicas per instance, and the instances it may use in
/// preference order. Per instance: capacity and foreign usage; the usable part is
/// `max(0, capacity - foreign)`. Every count is decided afresh each tick; only placement looks at
/// the current counts (stickiness). A service that wants fewer replicas than it has thus gives its
/// units back before anyone grows: its target is at most `D`, and the plan (plan.h) issues every
/// scale-down before any scale-up.
///
/// Each service fills its instances through a list of *segments*: first a "keep" segment on each
/// instance where it already runs, capped at the replicas it has there (in preference order),
/// then a "grow" segment on every allowed instance in preference order, uncapped. So a service
/// keeps replicas where they are, shrinks from its least preferred instance first, and grows on
/// its most preferred instance that has room.
///
/// 1. **Mins.** In order (priority desc, id asc), reserve `min(m, D)` replicas through the
///    segments. All or nothing: a min that does not fit in full reserves nothing and is reported
///    `MinNotMet`, so it does not starve lower-priority services of their own mins; the service
///    still competes for what is left in step 2.
/// 2. **Priority classes**, highest first. Inside a class, weighted max-min fair share by
///    progressive filling (water-filling): a level `L` rises from 0; an active service holds
///    `w x L` replicas in total (it joins once `w x L` passes what it already holds), poured into
///    its current segment. A service stops at `D`; it moves to its next segment when the segment's
///    cap is reached or the segment's instance fills up; with no segment left it is capped by
///    capacity. This is an event simulation over "service reaches demand / cap" and "instance
///    fills" events in a heap: O((S + I + segments) log), no per-replica loop.
/// 3. **Whole replicas.** The fluid answer is floored to whole replicas; then, lowest
///    `total / w` first (ties by id), a service gets one more replica on the first of its segments
///    whose instance still has `u` free units, until no one with unmet demand fits. No units are
///    left unused when some unmet service could use them.
///
/// Ties are broken by service id, so the answer does not depend on input order.
///
/// Known limit: placement is greedy by preference, not a max-flow. A service allowed on `x` then
/// `y` pours into `x` first even when a service that may only use `x` then gets less than it
/// could have (a test pins this down). Preference order is the operator's word, and the result
/// is still within capacity and deterministic.
///
/// ## Result
///
/// `Allocation::services` and `Allocation::instances` follow the input order. The targets per
/// instance of all services are one array, `Allocation::placements`, service after service;
/// `placements_of(service)` gives one service's part as a span (replicas > 0 only, in its
/// preference order). One array rather than a vector per service, as 10,000 small vectors cost a
/// good part of the call to build and free. `ServiceAllocationText` prints a service with its
/// placements.
///
/// ## Worked example
///
/// Instance `X`: capacity 12, foreign 0. Services, all min 0, one instance `X`:
///   a: u=1, w=2, D=10, priority 1;  b: u=1, w=1, D=10, priority 1;  c: u=2, w=1, D=1, priority 2.
/// - Mins: none.
/// - Class 2 (c alone): c reaches D=1 at L=1 -> c = 1 replica = 2 units; X has 12 - 2 = 10 left.
/// - Class 1: a and b consume `2 x 1 + 1 x 1 = 3` units per level step; X fills at
///   L = 10 / 3 = 3.33: a = 2 x 3.33 = 6.67, b = 3.33.
/// - Whole replicas: floors a = 6, b = 3 (9 units, 1 left). Lowest total/w first:
///   b = 3/1 = 3 vs a = 6/2 = 3, tie -> id: a gets 1 -> a = 7, 0 units left.
/// - Result: a 7 (unmet 3, CappedCapacity), b 3 (unmet 7, CappedCapacity), c 1; X managed 12,
///   free 0.

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "qfscale/model/ids.h"
#include "qfscale/model/reason.h"
#include "qfscale/model/units.h"
#include "qfscale/util/result.h"

namespace qfscale::capacity {

/// Replicas of one service on one instance.
struct Placement {
  model::InstanceId instance;
  model::Replicas replicas;
  friend bool operator==(const Placement&, const Placement&) = default;
};

/// A compute-unit instance. `foreign` is used by services qfscale does not manage.
struct InstanceSpec {
  model::InstanceId id;
  model::ComputeUnits capacity;
  model::ComputeUnits foreign;
  friend bool operator==(const InstanceSpec&, const InstanceSpec&) = default;
};

/// One managed service's request for this tick.
struct ServiceRequest {
  model::ServiceId id;
  /// From the resource type (`model::units_per_replica("GPU-I-2")` = 2) unless overridden.
  model::ComputeUnits units_per_replica{1};
  model::Replicas desired;  ///< the engine's recommendation; never granted more
  model::Replicas min;      ///< reserved first; `min(min, desired)` is what is reserved
  int priority = 0;         ///< higher is served first
  int weight = 1;           ///< share within a priority class; >= 1
  std::vector<model::InstanceId> instances;  ///< allowed, most preferred first
  /// Replicas it runs now. An instance listed here but not in `instances` is drained to 0.
  std::vector<Placement> current;
  friend bool operator==(const ServiceRequest&, const ServiceRequest&) = default;
};

struct AllocationInput {
  std::vector<ServiceRequest> services;
  std::vector<InstanceSpec> instances;
  friend bool operator==(const AllocationInput&, const AllocationInput&) = default;
};

/// Why a service got less than desired.
enum class Shortfall {
  None,            ///< granted == desired
  CappedCapacity,  ///< min met, but capacity ran out before desired
  MinNotMet,       ///< not even min(min, desired) fits
};

/// "none", "capped_capacity", "min_not_met".
[[nodiscard]] std::string_view to_string(Shortfall shortfall);
/// The decision-record reason: both shortfalls are `Reason::CappedCapacity`.
[[nodiscard]] model::Reason to_reason(Shortfall shortfall);

namespace detail {
struct AllocationAccess;  // the allocator's write access to the placement positions below
}  // namespace detail

/// One service's answer. Its placements are read through `Allocation::placements_of`.
struct ServiceAllocation {
  model::ServiceId id;
  model::Replicas desired;
  model::Replicas granted;
  model::Replicas unmet;  ///< desired - granted
  Shortfall shortfall = Shortfall::None;
  /// Equal also in where the placements are in `Allocation::placements`, which depends on the
  /// input order: compare services of differently ordered inputs with their placements, e.g. as
  /// `ServiceAllocationText`.
  friend bool operator==(const ServiceAllocation&, const ServiceAllocation&) = default;

 private:
  friend struct Allocation;
  friend struct detail::AllocationAccess;
  std::size_t placement_begin_ = 0;
  std::size_t placement_count_ = 0;
};

struct InstanceUsage {
  model::InstanceId id;
  model::ComputeUnits capacity;
  model::ComputeUnits foreign;
  /// Granted to the managed services (the ones in the input), after this allocation. Not
  /// telemetry's `allocated`, which is foreign + managed.
  model::ComputeUnits managed;
  model::ComputeUnits free;  ///< capacity - foreign - managed (< 0 only if foreign > capacity)
  friend bool operator==(const InstanceUsage&, const InstanceUsage&) = default;
};

struct Allocation {
  std::vector<ServiceAllocation> services;  ///< same order as the input
  std::vector<InstanceUsage> instances;     ///< same order as the input
  /// Every service's placements, service after service in `services` order (one array: see the
  /// header comment).
  std::vector<Placement> placements;

  /// Target per instance of `service` (an element of `services`): replicas > 0 only, in the
  /// service's preference order. Instances absent here (and present in `current`) are to be
  /// scaled to 0. Valid while this Allocation is alive and unchanged.
  [[nodiscard]] std::span<const Placement> placements_of(const ServiceAllocation& service) const {
    return std::span<const Placement>(placements)
        .subspan(service.placement_begin_, service.placement_count_);
  }
  friend bool operator==(const Allocation&, const Allocation&) = default;
};

/// One service's allocation with its placements, for printing:
/// `fmt::format("{}", ServiceAllocationText{s, allocation.placements_of(s)})` gives
/// "a: desired 10 granted 7 unmet 3 (capped_capacity) [x=7]".
struct ServiceAllocationText {
  const ServiceAllocation& service;
  std::span<const Placement> placements;
};

/// Allocates every service at once (see the header comment). Fails with `InvalidInput` on
/// duplicate ids, unknown instances, units per replica or weight < 1, or negative counts.
/// Thread-safety: safe to call from several threads at once; the answer depends on `input` only.
/// Each calling thread keeps its scratch buffers (about 2.5 MB at 10,000 services) for its next
/// call, as fresh memory costs page faults.
[[nodiscard]] Result<Allocation> allocate(const AllocationInput& input);

}  // namespace qfscale::capacity

template <>
struct fmt::formatter<qfscale::capacity::Shortfall> : fmt::formatter<std::string_view> {
  auto format(qfscale::capacity::Shortfall s, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(to_string(s), ctx);
  }
};

template <>
struct fmt::formatter<qfscale::capacity::Placement> : fmt::formatter<std::string_view> {
  auto format(const qfscale::capacity::Placement& p, format_context& ctx) const {
    return fmt::format_to(ctx.out(), "{}={}", p.instance, p.replicas);
  }
};

template <>
struct fmt::formatter<qfscale::capacity::ServiceAllocationText> : fmt::formatter<std::string_view> {
  auto format(const qfscale::capacity::ServiceAllocationText& t, format_context& ctx) const {
    const auto& s = t.service;
    auto out = fmt::format_to(ctx.out(), "{}: desired {} granted {} unmet {} ({}) [", s.id,
                              s.desired, s.granted, s.unmet, s.shortfall);
    for (std::size_t i = 0; i < t.placements.size(); ++i) {
      out = fmt::format_to(out, "{}{}", i == 0 ? "" : " ", t.placements[i]);
    }
    return fmt::format_to(out, "]");
  }
};

template <>
struct fmt::formatter<qfscale::capacity::InstanceUsage> : fmt::formatter<std::string_view> {
  auto format(const qfscale::capacity::InstanceUsage& u, format_context& ctx) const {
    return fmt::format_to(ctx.out(), "{}: capacity {} foreign {} managed {} free {}", u.id,
                          u.capacity, u.foreign, u.managed, u.free);
  }
};
