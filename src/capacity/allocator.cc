#include "qfscale/capacity/allocator.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "qfscale/util/check.h"

#include "capacity/detail/id_index.h"
#include "capacity/detail/radix_sort.h"
#include "capacity/detail/sort_keys.h"

namespace qfscale::capacity {

std::string_view to_string(Shortfall shortfall) {
  switch (shortfall) {
    case Shortfall::None:
      return "none";
    case Shortfall::CappedCapacity:
      return "capped_capacity";
    case Shortfall::MinNotMet:
      return "min_not_met";
  }
  return "none";
}

model::Reason to_reason(Shortfall shortfall) {
  return shortfall == Shortfall::None ? model::Reason::None : model::Reason::CappedCapacity;
}

/// Sets the placement positions `ServiceAllocation` keeps private: only the allocator writes them.
struct detail::AllocationAccess {
  static void set_placements(ServiceAllocation& service, std::size_t begin, std::size_t count) {
    service.placement_begin_ = begin;
    service.placement_count_ = count;
  }
};

namespace {

using detail::IdIndex;
using detail::Index;
constexpr Index kNone = detail::kNoIndex;
constexpr double kInf = std::numeric_limits<double>::infinity();
/// Fluid amounts within this of a whole replica count as that replica (floating-point slack).
constexpr double kWholeSlack = 1e-7;

Index to_index(std::size_t i) { return static_cast<Index>(i); }

/// One allowed (service, instance) pair.
struct Slot {
  Index instance = 0;
  int current = 0;   ///< replicas there now
  int granted = 0;   ///< whole replicas granted so far
  int added = 0;     ///< whole replicas granted in the class being filled
  double fluid = 0;  ///< fluid replicas poured in the class being filled
};

/// A step of a service's fill order: keep (capped at current) or grow (uncapped) on a slot.
struct Segment {
  Index slot = 0;
  bool keep = false;
};

enum class Phase : std::uint8_t { Waiting, Pouring, Done };

struct Svc {
  Index input = 0;  ///< position in input.services
  int units = 1;
  int weight = 1;
  int demand = 0;
  int min = 0;
  int priority = 0;
  int total = 0;  ///< whole replicas granted so far
  bool min_met = false;
  Index slot_begin = 0;
  Index slot_end = 0;
  Index seg_begin = 0;
  Index seg_end = 0;
  // Fluid state while its class is filled.
  Phase phase = Phase::Waiting;
  Index seg = kNone;      ///< segment being poured into
  double seg_start = 0;   ///< level at which it started
  double seg_cap = kInf;  ///< replicas that segment may take
  double poured = 0;      ///< fluid replicas poured into earlier segments of this class
  bool ends_at_demand = false;
};

struct Inst {
  int usable = 0;  ///< max(0, capacity - foreign)
  int free = 0;    ///< usable minus whole replicas granted
  // Fluid state, reset lazily when first touched in a class (`epoch`).
  std::uint32_t epoch = 0;
  double room = 0;  ///< `free` when the class started
  double used = 0;  ///< fluid units used at level `last`
  double last = 0;
  std::int64_t rate = 0;  ///< units per level step of the services pouring here
  double queued = kInf;   ///< earliest live event queued for this instance
  bool full = false;
  /// Services that entered, in order, as a list in `Allocator::pour_nodes_` (kNone = empty);
  /// may hold stale entries.
  Index pour_head = kNone;
  Index pour_tail = kNone;
};

/// A point on the level axis where something happens. 16 bytes: the heap moves many of these.
/// Order: lower level first; at one level services before instances, then by index and tag,
/// which is the order of the pair (`level_bits`, `id`) of unsigned words (detail::level_bits).
constexpr Index kInstanceBit = Index{1} << 31;
struct Event {
  std::uint64_t level_bits = 0;
  std::uint64_t id = 0;  ///< who << 32 | tag

  /// `who`: service index, or kInstanceBit | instance index. `tag`: for a service, the segment
  /// the event was computed for; kNone = activation. Levels are >= 0, never NaN.
  static Event make(double level, Index who, Index tag = kNone) {
    return Event{.level_bits = detail::level_bits(level), .id = std::uint64_t{who} << 32 | tag};
  }
  [[nodiscard]] double level() const { return std::bit_cast<double>(level_bits); }
  [[nodiscard]] Index who() const { return static_cast<Index>(id >> 32); }
  [[nodiscard]] Index tag() const { return static_cast<Index>(id); }
};

/// Heap order: `a` comes after `b`; detail::level_less(b, a), written out, as GCC compiles this
/// form of the heap's hottest comparison into fewer instructions.
bool later(const Event& a, const Event& b) {
  if (a.level_bits != b.level_bits) return a.level_bits > b.level_bits;
  return a.id > b.id;
}
/// `later` as a type: std::push_heap / pop_heap given the function itself call it through a
/// pointer on every comparison; a function object is inlined.
struct Later {
  bool operator()(const Event& a, const Event& b) const { return later(a, b); }
};

/// A service's place in the (priority desc, id asc) order while it is being ranked.
struct Rank {  // no default values: the scratch array is written before it is read
  std::uint64_t key;
  Index input;
};

/// `n` elements of `v` to be written before they are read: grown when too small, never cleared,
/// so a reused buffer is not filled again.
template <typename T>
T* overwrite(std::vector<T>& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

/// One allocation's state. Its buffers outlive a call (see `allocate`): everything a call reads
/// is reset or written first by `build`, and the per-class state by `fill_class`.
class Allocator {
 public:
  /// Reads `input`, which must outlive the other calls of this allocation.
  Status build(const AllocationInput& input);
  void reserve_mins();
  void fill_classes();
  [[nodiscard]] Allocation result() const;

 private:
  void fill_class(Index begin, Index end);
  void mark_safe(Index begin, Index end);
  bool pour_alone(Index k);
  void touch(Index i);
  void sync(Inst& inst, double level) {
    inst.used += static_cast<double>(inst.rate) * (level - inst.last);
    inst.last = level;
  }
  /// Queues `e`: into the batch while a class starts, else into the heap. The batch path is
  /// inline (it is most calls); the heap path is out of line.
  void queue(Event e) {
    if (batch_) {
      sorted_.push_back(e);
    } else {
      push(e);
    }
  }
  void push(Event e);
  void enter_next(Index k, double level, Index from_seg);
  void leave(Index k, double level, double amount);
  void on_instance_event(const Event& e);
  void on_service_event(const Event& e);
  void make_whole(Index begin, Index end);
  void top_up(Index begin, Index end);

  const AllocationInput* in_ = nullptr;
  IdIndex inst_index_;
  std::vector<std::uint64_t> keys_;  ///< per input service: its order key
  std::vector<Index> class_index_;   ///< per input service: its priority class
  std::vector<Rank> ranks_;
  std::vector<Svc> svcs_;  ///< sorted by (priority desc, id asc): the index is the tie rank
  std::vector<Index> rank_of_input_;
  std::vector<Slot> slots_;
  std::vector<Segment> segs_;
  std::vector<Inst> insts_;
  // Events known when a class starts are sorted once and read in order (`sorted_`, `next_`);
  // events found while filling go through a heap. The next event is the earlier of the two.
  std::vector<Event> sorted_;
  std::size_t next_ = 0;
  std::vector<Event> heap_;
  bool batch_ = false;  ///< pushes go to `sorted_`
  bool pop(Event& out);
  std::uint32_t epoch_ = 0;
  std::vector<Event> sort_scratch_;
  std::vector<std::uint32_t> sort_counts_;
  std::vector<Index> unmet_;    ///< top_up's heap
  std::vector<Index> batched_;  ///< instances entered during the batch
  /// The per-instance lists of pouring services, for the class being filled.
  struct PourNode {
    Index svc = 0;
    Index next = kNone;
  };
  std::vector<PourNode> pour_nodes_;
  /// Per instance, for the class being filled: remaining demand and load in units, and whether
  /// it is safe (see mark_safe).
  std::vector<std::int64_t> potential_;
  std::vector<std::int64_t> load_;
  std::vector<std::uint8_t> safe_;  ///< bytes, not std::vector<bool>: read per slot
};

Status Allocator::build(const AllocationInput& input) {
  in_ = &input;
  std::vector<std::string> problems;
  auto& inst_index = inst_index_;
  inst_index.reset(input.instances.size());
  epoch_ = 0;
  insts_.assign(input.instances.size(), Inst{});
  for (std::size_t i = 0; i < input.instances.size(); ++i) {
    const auto& spec = input.instances[i];
    if (!inst_index.add(spec.id.value, to_index(i))) {
      problems.push_back(fmt::format("instances[{}]: duplicate id {}", i, spec.id));
    }
    if (spec.capacity.value < 0 || spec.foreign.value < 0) {
      problems.push_back(fmt::format("instances[{}] ({}): capacity {} and foreign {} must be >= 0",
                                     i, spec.id, spec.capacity, spec.foreign));
    }
    insts_[i].usable = std::max(0, spec.capacity.value - spec.foreign.value);
    insts_[i].free = insts_[i].usable;
  }

  // Rank services by (priority desc, id asc). Ids usually share a prefix ("svco-"), so compare
  // an 8-byte key taken after the common prefix and fall back to the strings only on a tie.
  const auto& services = input.services;
  std::size_t common = services.empty() ? 0 : services.front().id.value.size();
  for (const auto& r : services) {
    common = detail::common_prefix(services.front().id.value, r.id.value, common);
  }
  std::uint64_t* const keys = overwrite(keys_, services.size());
  for (std::size_t i = 0; i < services.size(); ++i) {
    keys[i] = detail::order_key(services[i].id.value, common);
  }
  auto id_less = [&](std::size_t a, std::size_t b) {
    if (keys[a] != keys[b]) return keys[a] < keys[b];
    return services[a].id.value < services[b].id.value;
  };
  // Ids strictly increasing (or decreasing) in input order are unique. Callers usually list
  // services by id, so the hash index (its table alone is 1 MiB at 10,000 services) is built only
  // for other orders, and then reports every duplicate as before.
  bool increasing = true;
  bool decreasing = true;
  for (std::size_t i = 1; i < services.size() && (increasing || decreasing); ++i) {
    increasing = increasing && id_less(i - 1, i);
    decreasing = decreasing && id_less(i, i - 1);
  }
  if (!increasing && !decreasing) {
    IdIndex service_index(services.size());
    for (std::size_t i = 0; i < services.size(); ++i) {
      if (!service_index.add(services[i].id.value, to_index(i))) {
        problems.push_back(fmt::format("services: duplicate id {}", services[i].id));
      }
    }
  }
  // Priorities are few: order the distinct ones, then sort each class by id key.
  std::vector<int> priorities;
  for (const auto& r : services) {
    if (priorities.size() < 64) {
      if (std::find(priorities.begin(), priorities.end(), r.priority) == priorities.end()) {
        priorities.push_back(r.priority);
      }
    } else {
      priorities.push_back(r.priority);  // many classes: sort and dedupe below
    }
  }
  std::sort(priorities.begin(), priorities.end(), std::greater<>{});
  priorities.erase(std::unique(priorities.begin(), priorities.end()), priorities.end());
  std::vector<std::size_t> class_start(priorities.size() + 1, 0);
  auto class_of = [&](int priority) {
    return static_cast<std::size_t>(
        std::lower_bound(priorities.begin(), priorities.end(), priority, std::greater<>{}) -
        priorities.begin());
  };
  Index* const class_index = overwrite(class_index_, services.size());
  for (std::size_t i = 0; i < services.size(); ++i) {
    class_index[i] = to_index(class_of(services[i].priority));
    ++class_start[class_index[i] + 1];
  }
  for (std::size_t c = 1; c < class_start.size(); ++c) class_start[c] += class_start[c - 1];
  Rank* const ranks = overwrite(ranks_, services.size());
  {
    std::vector<std::size_t> fill(class_start.begin(), class_start.end() - 1);
    for (std::size_t i = 0; i < services.size(); ++i) {
      ranks[fill[class_index[i]]++] = Rank{.key = keys[i], .input = to_index(i)};
    }
  }
  auto by_id = [&](const Rank& a, const Rank& b) {
    if (a.key != b.key) return a.key < b.key;
    return services[a.input].id.value < services[b.input].id.value;
  };
  for (std::size_t c = 0; c + 1 < class_start.size(); ++c) {
    Rank* const first = ranks + class_start[c];
    Rank* const last = ranks + class_start[c + 1];
    // Callers usually list services by id already: a linear check saves the sort.
    if (!std::is_sorted(first, last, by_id)) std::sort(first, last, by_id);
  }
  svcs_.assign(services.size(), Svc{});
  rank_of_input_.resize(services.size());  // every element is written below
  slots_.clear();
  segs_.clear();
  std::size_t edges = 0;
  for (const auto& s : services) edges += s.instances.size();
  slots_.reserve(edges);
  segs_.reserve(edges * 2);
  struct Allowed {
    Index instance = kNone;  ///< kNone: unknown id
    int current = 0;         ///< replicas there now
  };
  std::vector<Allowed> allowed;  ///< per entry of `instances`
  for (std::size_t rank = 0; rank < services.size(); ++rank) {
    const Index at = ranks[rank].input;
    const auto& req = services[at];
    if (req.units_per_replica.value < 1 || req.weight < 1 || req.desired.value < 0 ||
        req.min.value < 0) {
      problems.push_back(fmt::format(
          "service {}: units_per_replica {} and weight {} must be >= 1, desired {} and min {} "
          ">= 0",
          req.id, req.units_per_replica, req.weight, req.desired, req.min));
    }
    rank_of_input_[at] = to_index(rank);
    auto& s = svcs_[rank];
    s.input = at;
    s.units = std::max(1, req.units_per_replica.value);
    s.weight = std::max(1, req.weight);
    s.demand = std::max(0, req.desired.value);
    s.min = std::min(std::max(0, req.min.value), s.demand);
    s.priority = req.priority;

    // Allowed instances first; their problems are reported after those of the current ones.
    allowed.clear();
    for (const auto& id : req.instances) allowed.push_back({.instance = inst_index.find(id.value)});
    for (std::size_t c = 0; c < req.current.size(); ++c) {
      const auto& p = req.current[c];
      // A current instance is nearly always an allowed one: two 8-byte compares per allowed id
      // are cheaper than hashing it again. Equal ids have the same index, and different ids
      // different ones, so this finds what the index would.
      std::size_t k = 0;
      while (k < allowed.size() && !detail::same_id(req.instances[k].value, p.instance.value)) ++k;
      const Index found =
          k < allowed.size() ? allowed[k].instance : inst_index.find(p.instance.value);
      if (found == kNone) {
        problems.push_back(
            fmt::format("service {}: current instance {} is not known", req.id, p.instance));
        continue;
      }
      // Known ids have the same index exactly when they are equal.
      bool twice = false;
      for (std::size_t e = 0; e < c && !twice; ++e) {
        twice = detail::same_id(req.current[e].instance.value, p.instance.value);
      }
      if (twice) {
        problems.push_back(
            fmt::format("service {}: current instance {} listed twice", req.id, p.instance));
      }
      if (p.replicas.value < 0) {
        problems.push_back(fmt::format("service {}: current replicas on {} must be >= 0, got {}",
                                       req.id, p.instance, p.replicas));
      }
      // `k` is the first allowed entry with this id, the one that gets the slot; the last
      // current entry for an instance counts.
      if (k < allowed.size()) allowed[k].current = std::max(0, p.replicas.value);
    }

    s.slot_begin = to_index(slots_.size());
    for (std::size_t k = 0; k < allowed.size(); ++k) {
      const Index inst = allowed[k].instance;
      if (inst == kNone) {
        problems.push_back(
            fmt::format("service {}: instance {} is not known", req.id, req.instances[k]));
        continue;
      }
      const bool dup = std::any_of(slots_.begin() + s.slot_begin, slots_.end(),
                                   [inst](const Slot& slot) { return slot.instance == inst; });
      if (dup) {
        problems.push_back(
            fmt::format("service {}: instance {} listed twice", req.id, req.instances[k]));
        continue;
      }
      slots_.push_back(Slot{.instance = inst, .current = allowed[k].current});
    }
    s.slot_end = to_index(slots_.size());

    s.seg_begin = to_index(segs_.size());
    for (Index j = s.slot_begin; j < s.slot_end; ++j) {
      if (slots_[j].current > 0) segs_.push_back(Segment{.slot = j, .keep = true});
    }
    for (Index j = s.slot_begin; j < s.slot_end; ++j) {
      segs_.push_back(Segment{.slot = j, .keep = false});
    }
    s.seg_end = to_index(segs_.size());
  }

  if (!problems.empty()) {
    std::string message = "allocation input is invalid: ";
    for (std::size_t i = 0; i < problems.size() && i < 20; ++i) {
      if (i > 0) message += "; ";
      message += problems[i];
    }
    if (problems.size() > 20) message += fmt::format("; and {} more", problems.size() - 20);
    return fail(ErrorCode::InvalidInput, std::move(message));
  }
  return util::ok();
}

// Step 1: all-or-nothing mins in (priority desc, id asc) order, through the segments.
void Allocator::reserve_mins() {
  std::vector<int> take;
  for (auto& s : svcs_) {
    if (s.min == 0) {
      s.min_met = true;
      continue;
    }
    take.assign(s.slot_end - s.slot_begin, 0);
    int left = s.min;
    for (Index j = s.seg_begin; j < s.seg_end && left > 0; ++j) {
      const auto& seg = segs_[j];
      const auto& slot = slots_[seg.slot];
      int& t = take[seg.slot - s.slot_begin];
      int room = (insts_[slot.instance].free - t * s.units) / s.units;
      if (seg.keep) room = std::min(room, slot.current - t);
      const int n = std::max(0, std::min(left, room));
      t += n;
      left -= n;
    }
    if (left > 0) continue;  // does not fit in full: reserve nothing (MinNotMet unless step 2)
    for (Index j = s.slot_begin; j < s.slot_end; ++j) {
      const int t = take[j - s.slot_begin];
      slots_[j].granted += t;
      insts_[slots_[j].instance].free -= t * s.units;
      s.total += t;
    }
    s.min_met = true;
  }
}

void Allocator::fill_classes() {
  Index begin = 0;
  while (begin < svcs_.size()) {
    Index end = begin;
    while (end < svcs_.size() && svcs_[end].priority == svcs_[begin].priority) ++end;
    fill_class(begin, end);
#ifndef NDEBUG
    for (Index k = begin; k < end; ++k) {
      for (Index j = svcs_[k].slot_begin; j < svcs_[k].slot_end; ++j) {
        const auto& inst = insts_[slots_[j].instance];
        QFS_ASSERT(inst.used <= inst.room + 1e-6 * std::max(1.0, inst.room),
                   "progressive filling overfilled an instance");
      }
    }
#endif
    make_whole(begin, end);
    top_up(begin, end);
    begin = end;
  }
}

void Allocator::touch(Index i) {
  auto& inst = insts_[i];
  if (inst.epoch == epoch_) return;
  inst.epoch = epoch_;
  inst.room = static_cast<double>(inst.free);
  inst.used = 0;
  inst.last = 0;
  inst.rate = 0;
  inst.queued = kInf;
  inst.full = inst.free <= 0;
  inst.pour_head = kNone;
  inst.pour_tail = kNone;
}

void Allocator::push(Event e) {
  heap_.push_back(e);
  std::push_heap(heap_.begin(), heap_.end(), Later{});
}

bool Allocator::pop(Event& out) {
  const bool have_sorted = next_ < sorted_.size();
  if (!heap_.empty() && (!have_sorted || later(sorted_[next_], heap_.front()))) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    out = heap_.back();
    heap_.pop_back();
    return true;
  }
  if (!have_sorted) return false;
  out = sorted_[next_++];
  return true;
}

// Step 2: progressive filling of one priority class (see the header). Levels are replicas per
// unit of weight; a pouring service holds `weight x level` replicas in total.
void Allocator::fill_class(Index begin, Index end) {
  ++epoch_;
  heap_.clear();
  sorted_.clear();
  pour_nodes_.clear();
  next_ = 0;
  batch_ = true;
  mark_safe(begin, end);
  for (Index k = begin; k < end; ++k) {
    auto& s = svcs_[k];
    s.phase = Phase::Waiting;
    s.seg = kNone;
    s.poured = 0;
    if (s.total >= s.demand || pour_alone(k)) {
      s.phase = Phase::Done;
    } else if (s.total == 0) {
      enter_next(k, 0.0, s.seg_begin);
    } else {
      queue(Event::make(static_cast<double>(s.total) / s.weight, k));
    }
  }
  // The batch holds one event per service, in service order; instance events follow in
  // instance order, so the batch is in `id` order, which keeps radix_sort's run sorts short.
  std::sort(batched_.begin(), batched_.end());
  for (const Index i : batched_) {
    auto& inst = insts_[i];
    inst.queued = inst.last + (inst.room - inst.used) / static_cast<double>(inst.rate);
    queue(Event::make(inst.queued, kInstanceBit | i));
  }
  batched_.clear();
  detail::radix_sort(sorted_, sort_scratch_, sort_counts_);
  batch_ = false;
  Event e;
  while (pop(e)) {
    if ((e.who() & kInstanceBit) == 0) {
      on_service_event(e);
    } else {
      on_instance_event(e);
    }
  }
}

// Fast path. An instance is *safe* in a class when every service of the class that may use it
// could pour all of its remaining demand there and still leave a unit free (and the amounts are
// small enough, under 2^20 units, that the fill tests' slack of 1e-7 x level or room stays below
// one unit). A safe instance never tests as full, so a service whose keep instances and most
// preferred instance are safe fills exactly as if alone: its keep segments up to what it runs
// there, then the rest on its first grow segment, which it never leaves. It meets no full instance
// and makes none full, so leaving it out of the event simulation changes nothing for the others;
// what it pours is put in `fluid`, as the simulation would, and make_whole then treats it like any
// other.
void Allocator::mark_safe(Index begin, Index end) {
  constexpr std::int64_t kSmall = std::int64_t{1} << 20;
  potential_.assign(insts_.size(), 0);
  load_.assign(insts_.size(), 0);
  for (Index k = begin; k < end; ++k) {
    const auto& s = svcs_[k];
    if (s.total >= s.demand) continue;
    for (Index j = s.slot_begin; j < s.slot_end; ++j) {
      const Index i = slots_[j].instance;
      potential_[i] += std::int64_t{s.demand - s.total} * s.units;
      load_[i] += (std::int64_t{s.demand} + s.weight) * s.units;
    }
  }
  safe_.resize(insts_.size());
  for (std::size_t i = 0; i < insts_.size(); ++i) {
    const std::int64_t free = insts_[i].free;
    safe_[i] = potential_[i] < free && free < kSmall && load_[i] < kSmall;
  }
}

bool Allocator::pour_alone(Index k) {
  auto& s = svcs_[k];
  // It pours into its keep instances, then its most preferred one; when those are safe, it
  // never gets further.
  if (s.slot_begin == s.slot_end || !safe_[slots_[s.slot_begin].instance]) return false;
  for (Index j = s.slot_begin; j < s.slot_end; ++j) {
    if (slots_[j].current > 0 && !safe_[slots_[j].instance]) return false;
  }
  int left = s.demand - s.total;
  for (Index j = s.seg_begin; j < s.seg_end && left > 0; ++j) {
    auto& slot = slots_[segs_[j].slot];
    const int take = segs_[j].keep ? std::min(left, slot.current - slot.granted) : left;
    if (take <= 0) continue;
    slot.fluid += take;
    left -= take;
  }
  return true;
}

void Allocator::enter_next(Index k, double level, Index from_seg) {
  auto& s = svcs_[k];
  for (Index j = from_seg; j < s.seg_end; ++j) {
    const auto& seg = segs_[j];
    const auto& slot = slots_[seg.slot];
    touch(slot.instance);
    auto& inst = insts_[slot.instance];
    if (inst.full) continue;
    double cap = kInf;
    if (seg.keep) {
      cap = static_cast<double>(slot.current - slot.granted) - slot.fluid;
      if (cap <= kWholeSlack) continue;
    }
    sync(inst, level);
    if (inst.room - inst.used <= kWholeSlack * std::max(1.0, inst.room)) {
      // Full now. With services still pouring, its queued event (at this level) moves them
      // on; marking it here would make that event look stale and let them overfill it.
      if (inst.rate == 0) inst.full = true;
      continue;
    }
    s.phase = Phase::Pouring;
    s.seg = j;
    s.seg_start = level;
    s.seg_cap = cap;
    inst.rate += std::int64_t{s.weight} * s.units;
    const auto node = to_index(pour_nodes_.size());
    pour_nodes_.push_back(PourNode{.svc = k});
    if (inst.pour_tail == kNone) {
      inst.pour_head = node;
    } else {
      pour_nodes_[inst.pour_tail].next = node;
    }
    inst.pour_tail = node;
    const double full_at = inst.last + (inst.room - inst.used) / static_cast<double>(inst.rate);
    if (batch_) {
      if (inst.queued == kInf) batched_.push_back(slot.instance);
      inst.queued = 0;  // placeholder: one event per instance is queued after the batch
    } else if (full_at < inst.queued) {
      inst.queued = full_at;
      queue(Event::make(full_at, kInstanceBit | slot.instance));
    }
    const double demand_at = static_cast<double>(s.demand) / s.weight;
    const double cap_at = level + cap / s.weight;
    s.ends_at_demand = demand_at <= cap_at;
    queue(Event::make(std::min(demand_at, cap_at), k, j));
    return;
  }
  s.phase = Phase::Done;  // no segment left: capped by capacity
  s.seg = kNone;
}

void Allocator::leave(Index k, double level, double amount) {
  auto& s = svcs_[k];
  auto& slot = slots_[segs_[s.seg].slot];
  auto& inst = insts_[slot.instance];
  slot.fluid += amount;
  s.poured += amount;
  sync(inst, level);
  inst.rate -= std::int64_t{s.weight} * s.units;
  s.seg = kNone;
}

void Allocator::on_service_event(const Event& e) {
  const Index k = e.who();
  const Index tag = e.tag();
  const double level = e.level();
  auto& s = svcs_[k];
  if (tag == kNone) {
    if (s.phase == Phase::Waiting) enter_next(k, level, s.seg_begin);
    return;
  }
  if (s.phase != Phase::Pouring || s.seg != tag) return;  // stale
  if (s.ends_at_demand) {
    leave(k, level, static_cast<double>(s.demand - s.total) - s.poured);
    s.phase = Phase::Done;
  } else {
    leave(k, level, s.seg_cap);
    enter_next(k, level, tag + 1);
  }
}

void Allocator::on_instance_event(const Event& e) {
  const Index i = e.who() & ~kInstanceBit;
  const double level = e.level();
  auto& inst = insts_[i];
  if (inst.full || level != inst.queued) return;  // stale
  sync(inst, level);
  if (inst.rate == 0) {
    inst.queued = kInf;
    return;
  }
  // Services left since this was queued, so the instance may fill later than planned.
  const double full_at = level + (inst.room - inst.used) / static_cast<double>(inst.rate);
  if (full_at > level + kWholeSlack * std::max(1.0, level)) {
    inst.queued = full_at;
    queue(Event::make(full_at, e.who()));
    return;
  }
  inst.full = true;
  inst.queued = kInf;
  // Nothing enters a full instance, so its list stays as it is while it is walked.
  for (Index node = inst.pour_head; node != kNone; node = pour_nodes_[node].next) {
    const Index k = pour_nodes_[node].svc;
    auto& s = svcs_[k];
    if (s.phase != Phase::Pouring || slots_[segs_[s.seg].slot].instance != i) continue;
    const Index seg = s.seg;
    leave(k, level, s.weight * (level - s.seg_start));
    enter_next(k, level, seg + 1);
  }
}

// Step 3a: floor the fluid answer to whole replicas. Floors cannot exceed demand or capacity
// beyond floating-point slack; the trims below make that hold exactly, by construction.
void Allocator::make_whole(Index begin, Index end) {
  for (Index k = begin; k < end; ++k) {
    auto& s = svcs_[k];
    int room = s.demand - s.total;
    // Met before the class started (its min is its demand, or it wants none): it poured
    // nothing, so every `add` below would be 0.
    if (room == 0) continue;
    for (Index j = s.slot_begin; j < s.slot_end; ++j) {
      auto& slot = slots_[j];
      // Truncation, not std::floor (a long sequence without SSE4.1): they differ only below 0,
      // where both give an `add` <= 0 (room >= 0) that the max below turns into 0.
      const int add = std::min(room, static_cast<int>(slot.fluid + kWholeSlack));
      slot.added = std::max(0, add);
      slot.fluid = 0;
      slot.granted += slot.added;
      room -= slot.added;
      s.total += slot.added;
      insts_[slot.instance].free -= slot.added * s.units;
    }
  }
  // Usually no instance went over: one pass over the instances saves the walk over the slots.
  if (std::none_of(insts_.begin(), insts_.end(), [](const Inst& inst) { return inst.free < 0; })) {
    return;
  }
  for (Index k = begin; k < end; ++k) {
    const auto& s = svcs_[k];
    for (Index j = s.slot_begin; j < s.slot_end; ++j) {
      const Index i = slots_[j].instance;
      while (insts_[i].free < 0) {
        // Take back the replica added in this class from the service furthest above its share.
        Index worst = kNone;
        Index worst_slot = kNone;
        for (Index o = begin; o < end; ++o) {
          for (Index m = svcs_[o].slot_begin; m < svcs_[o].slot_end; ++m) {
            if (slots_[m].instance != i || slots_[m].added == 0) continue;
            const auto& w = svcs_[o];
            if (worst == kNone || std::int64_t{w.total} * svcs_[worst].weight >=
                                      std::int64_t{svcs_[worst].total} * w.weight) {
              worst = o;
              worst_slot = m;
            }
          }
        }
        QFS_CHECK(worst != kNone, "instance over capacity with nothing added this class");
        --slots_[worst_slot].added;
        --slots_[worst_slot].granted;
        --svcs_[worst].total;
        insts_[i].free += svcs_[worst].units;
      }
    }
  }
}

// Step 3b: hand out what flooring left, one replica at a time, lowest total/weight first.
void Allocator::top_up(Index begin, Index end) {
  auto less_urgent = [this](Index a, Index b) {
    const auto& sa = svcs_[a];
    const auto& sb = svcs_[b];
    const auto la = std::int64_t{sa.total} * sb.weight;
    const auto lb = std::int64_t{sb.total} * sa.weight;
    if (la != lb) return la > lb;
    return a > b;
  };
  // Free units only go down here, so a service that fits on none of its instances never will;
  // popping it would change nothing, and leaving it out keeps the others' order: the heap is
  // built in one make_heap and `less_urgent` is a strict total order (ties by index), so the
  // pops come in the same order however the heap was built.
  auto wants_and_fits = [this](const Svc& s) {
    if (s.total >= s.demand) return false;
    for (Index j = s.slot_begin; j < s.slot_end; ++j) {
      if (insts_[slots_[j].instance].free >= s.units) return true;
    }
    return false;
  };
  unmet_.clear();
  for (Index k = begin; k < end; ++k) {
    if (wants_and_fits(svcs_[k])) unmet_.push_back(k);
  }
  // std::priority_queue's operations, on the reused buffer.
  std::make_heap(unmet_.begin(), unmet_.end(), less_urgent);
  while (!unmet_.empty()) {
    std::pop_heap(unmet_.begin(), unmet_.end(), less_urgent);
    const Index k = unmet_.back();
    unmet_.pop_back();
    auto& s = svcs_[k];
    for (Index j = s.seg_begin; j < s.seg_end; ++j) {
      auto& slot = slots_[segs_[j].slot];
      auto& inst = insts_[slot.instance];
      if (inst.free < s.units) continue;
      inst.free -= s.units;
      ++slot.granted;
      ++s.total;
      if (wants_and_fits(s)) {
        unmet_.push_back(k);
        std::push_heap(unmet_.begin(), unmet_.end(), less_urgent);
      }
      break;
    }
  }
}

Allocation Allocator::result() const {
  Allocation out;
  out.services.reserve(in_->services.size());
  std::size_t placed = 0;
  for (const auto& slot : slots_) placed += slot.granted > 0 ? std::size_t{1} : 0;
  out.placements.reserve(placed);
  for (std::size_t input = 0; input < in_->services.size(); ++input) {
    const auto& req = in_->services[input];
    const auto& s = svcs_[rank_of_input_[input]];
    // Built in place: moving a finished ServiceAllocation in costs a string move.
    ServiceAllocation& a = out.services.emplace_back();
    a.id = req.id;
    a.desired = req.desired;
    a.granted = model::Replicas{s.total};
    a.unmet = model::Replicas{s.demand - s.total};
    if (s.total < s.min) {
      a.shortfall = Shortfall::MinNotMet;
    } else if (s.total < s.demand) {
      a.shortfall = Shortfall::CappedCapacity;
    }
    const std::size_t begin = out.placements.size();
    for (Index j = s.slot_begin; j < s.slot_end; ++j) {
      if (slots_[j].granted > 0) {
        auto& placement = out.placements.emplace_back();  // in place, as above
        placement.instance = in_->instances[slots_[j].instance].id;
        placement.replicas = model::Replicas{slots_[j].granted};
      }
    }
    detail::AllocationAccess::set_placements(a, begin, out.placements.size() - begin);
  }
  out.instances.reserve(in_->instances.size());
  for (std::size_t i = 0; i < in_->instances.size(); ++i) {
    const auto& spec = in_->instances[i];
    const model::ComputeUnits managed{insts_[i].usable - insts_[i].free};
    QFS_CHECK(insts_[i].free >= 0, "allocator left an instance over capacity");
    out.instances.push_back(InstanceUsage{.id = spec.id,
                                          .capacity = spec.capacity,
                                          .foreign = spec.foreign,
                                          .managed = managed,
                                          .free = spec.capacity - spec.foreign - managed});
  }
  return out;
}

}  // namespace

Result<Allocation> allocate(const AllocationInput& input) {
  // The scratch buffers (about 2.5 MB at 10,000 services) stay with the thread for its next call:
  // fresh memory costs a page fault per 4 KiB page on first touch, which on a VM can cost more
  // than the allocation itself.
  thread_local Allocator allocator;
  if (auto status = allocator.build(input); !status) return fail(std::move(status.error()));
  allocator.reserve_mins();
  allocator.fill_classes();
  return allocator.result();
}

}  // namespace qfscale::capacity
