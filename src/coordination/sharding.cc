#include "qfscale/coordination/sharding.h"

#include <algorithm>
#include <numeric>
#include <string>

namespace qfscale::coordination {
namespace {

// Union-find over instance names, so that services sharing instances form one group.
class Groups {
 public:
  std::size_t id(const std::string& instance) {
    const auto [it, inserted] = index_.try_emplace(instance, parent_.size());
    if (inserted) {
      parent_.push_back(it->second);
      name_.push_back(instance);
    }
    return it->second;
  }
  std::size_t root(std::size_t x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];
      x = parent_[x];
    }
    return x;
  }
  // The smaller name stays the root, so a group is named by its smallest instance.
  void join(std::size_t a, std::size_t b) {
    a = root(a);
    b = root(b);
    if (a == b) return;
    if (name_[b] < name_[a]) std::swap(a, b);
    parent_[b] = a;
  }
  const std::string& name(std::size_t x) { return name_[root(x)]; }

 private:
  std::map<std::string, std::size_t, std::less<>> index_;
  std::vector<std::size_t> parent_;
  std::vector<std::string> name_;
};

}  // namespace

std::uint64_t rendezvous_weight(std::string_view key, std::string_view candidate) {
  std::uint64_t h = 14695981039346656037ULL;  // FNV-1a offset basis
  const auto feed = [&h](unsigned char byte) {
    h ^= byte;
    h *= 1099511628211ULL;  // FNV-1a prime
  };
  for (const char c : key) feed(static_cast<unsigned char>(c));
  feed(0);
  for (const char c : candidate) feed(static_cast<unsigned char>(c));
  // splitmix64's finaliser: FNV alone leaves similar keys with correlated high bits.
  h ^= h >> 30U;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27U;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31U;
  return h;
}

std::string rendezvous_pick(std::string_view key, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  std::uint64_t best_weight = 0;
  for (const auto& candidate : candidates) {
    const auto weight = rendezvous_weight(key, candidate);
    if (best == nullptr || weight > best_weight || (weight == best_weight && candidate < *best)) {
      best = &candidate;
      best_weight = weight;
    }
  }
  return best == nullptr ? std::string() : *best;
}

Assignment assign(const std::vector<std::string>& members,
                  const std::vector<ShardedService>& services, int shards) {
  shards = std::max(shards, 1);
  Assignment out;
  Groups groups;
  for (const auto& service : services) {
    for (std::size_t i = 1; i < service.instances.size(); ++i) {
      groups.join(groups.id(service.instances[0]), groups.id(service.instances[i]));
    }
    if (!service.instances.empty()) (void)groups.id(service.instances[0]);
  }
  std::vector<std::string> shard_names(static_cast<std::size_t>(shards));
  for (int k = 0; k < shards; ++k) shard_names[static_cast<std::size_t>(k)] = std::to_string(k);
  for (const auto& service : services) {
    std::string group = service.instances.empty()
                            ? "service:" + service.id
                            : "instance:" + groups.name(groups.id(service.instances[0]));
    out.shard_of[service.id] = std::stoi(rendezvous_pick(group, shard_names));
    out.group_of[service.id] = std::move(group);
  }
  std::vector<std::string> live = members;
  std::sort(live.begin(), live.end());
  live.erase(std::unique(live.begin(), live.end()), live.end());
  out.owner_of_shard.resize(static_cast<std::size_t>(shards));
  for (int k = 0; k < shards; ++k) {
    out.owner_of_shard[static_cast<std::size_t>(k)] =
        rendezvous_pick("shard:" + shard_names[static_cast<std::size_t>(k)], live);
  }
  return out;
}

std::vector<std::string> services_of(const Assignment& assignment, std::string_view member) {
  std::vector<std::string> out;
  for (const auto& [service, shard] : assignment.shard_of) {
    if (assignment.owner_of_shard[static_cast<std::size_t>(shard)] == member) {
      out.push_back(service);
    }
  }
  return out;
}

}  // namespace qfscale::coordination

namespace qfscale::coordination {

ClaimPlan plan_claims(const Assignment& assignment, const std::map<int, ShardClaim>& claims,
                      std::string_view member, std::int64_t lease) {
  ClaimPlan plan;
  // No lease, no claim: a key put without one would never expire, and no member would count it
  // as held (its lease 0 matches nobody's), so its shard would stay unmanaged until deleted.
  if (lease == 0) return plan;
  const int shards = static_cast<int>(assignment.owner_of_shard.size());
  for (int k = 0; k < shards; ++k) {
    const bool mine = assignment.owner_of_shard[static_cast<std::size_t>(k)] == member;
    const auto it = claims.find(k);
    const bool held = it != claims.end() && it->second.member == member &&
                      it->second.lease == lease && lease != 0;
    if (held && !mine) plan.release.push_back(k);
    if (!mine) continue;
    if (held) {
      plan.keep.push_back(k);
    } else if (it == claims.end()) {
      plan.claim.push_back(k);
    } else {
      plan.waiting.push_back(k);
    }
  }
  return plan;
}

}  // namespace qfscale::coordination

namespace qfscale::coordination {

std::string config_fingerprint(const std::vector<ShardedService>& services, int shards) {
  std::uint64_t h = 14695981039346656037ULL;  // FNV-1a 64
  const auto feed = [&h](std::string_view bytes) {
    for (const char c : bytes) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
  };
  // Separators that no id contains, so "a","bc" and "ab","c" hash apart.
  feed("shards=" + std::to_string(std::max(shards, 1)) + "\n");
  std::vector<ShardedService> sorted = services;
  for (auto& s : sorted) std::sort(s.instances.begin(), s.instances.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const ShardedService& a, const ShardedService& b) { return a.id < b.id; });
  for (const auto& s : sorted) {
    feed(s.id);
    for (const auto& i : s.instances) {
      feed(std::string_view("\0", 1));
      feed(i);
    }
    feed("\n");
  }
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4U) out[static_cast<std::size_t>(i)] = kHex[h & 15U];
  return out;
}

namespace {
constexpr std::string_view kFingerprintTag = " config=";
}  // namespace

std::string member_value(std::string_view member, std::string_view fingerprint) {
  return std::string(member) + std::string(kFingerprintTag) + std::string(fingerprint);
}

std::string fingerprint_in(std::string_view value) {
  const auto at = value.rfind(kFingerprintTag);
  if (at == std::string_view::npos) return {};
  return std::string(value.substr(at + kFingerprintTag.size()));
}

Agreement agree(std::string_view member, std::string_view fingerprint,
                const std::vector<PeerConfig>& peers, std::string_view leader) {
  Agreement out;
  for (const auto& peer : peers) {
    if (peer.member == member) continue;
    if (peer.fingerprint.empty()) {
      out.disagreeing.push_back(peer.member + " (no config fingerprint: an older version)");
    } else if (peer.fingerprint != fingerprint) {
      out.disagreeing.push_back(peer.member + " (another config)");
    }
  }
  if (!leader.empty()) out.disagreeing.push_back(std::string(leader) + " (leader key: shards: 1)");
  std::sort(out.disagreeing.begin(), out.disagreeing.end());
  out.act = out.disagreeing.empty();
  return out;
}

}  // namespace qfscale::coordination
