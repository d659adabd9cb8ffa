#pragma once

// The fake's fencing check (`qfscale fake-qianfan --fencing`): every ScaleService and
// ModifyService must carry `x-qfscale-fencing-token`; one older than the newest token seen for
// that service is refused with 409 FencingTokenStale, so a deposed owner's late call cannot undo
// its successor's. Per service because with sharding (coordination/sharding.h) each shard has
// its own owner and token: one shard's newer token says nothing about another shard's services.
// Every call is recorded, accepted or not, for GET /admin/fencing.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qfscale::fake::detail {

struct FencedCall {
  std::string action;
  std::string service;
  std::int64_t token = 0;  ///< 0: none sent
  bool accepted = false;
};

struct FencingRefusal {
  std::string code;  ///< FencingTokenMissing or FencingTokenStale
  std::string message;
};

/// Thread-safety: none; the fake calls it under its lock.
class FencingLedger {
 public:
  /// Records the call; the refusal when its token is missing, malformed or older than the
  /// newest seen.
  std::optional<FencingRefusal> check(std::string_view action, std::string_view service,
                                      std::optional<std::string_view> header);
  /// `{"newest": N (over all services), "calls": [{"action", "service", "token", "accepted"},
  /// ...]}`, oldest first.
  [[nodiscard]] std::string to_json() const;

 private:
  std::int64_t newest_ = 0;
  std::map<std::string, std::int64_t, std::less<>> newest_of_;
  std::vector<FencedCall> calls_;
};

}  // namespace qfscale::fake::detail
