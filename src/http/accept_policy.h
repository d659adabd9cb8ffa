#pragma once

// Private: what the server's accept loop does after each accept, as pure functions (the glue in
// server.cc owns the sockets, the timer and the log).
//
// Out of file descriptors (EMFILE, ENFILE) or kernel memory, accept fails at once and the
// pending connection stays queued, so accepting again at once spins a core (7-13 s of CPU in
// 10 s, measured). The loop waits instead, briefly at first, then at a slower steady pace, and
// says so once per episode:
//
//   results      Exhausted  Exhausted  Exhausted  Accepted
//   wait before  100 ms     1 s        1 s        0
//   next accept
//   log          "start"    -          -          "end" (after 3 failed attempts)
//
// Errors that concern only the one connection (the peer reset it while queued) are retried at
// once and never start an episode.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace qfscale::http::detail {

enum class AcceptResult {
  Accepted,
  ConnectionFailed,  ///< this connection is gone (ECONNABORTED, ...); the next may be fine
  Exhausted,         ///< no descriptor or memory for any connection (EMFILE, ENFILE, ENOBUFS, ...)
};

inline constexpr std::chrono::milliseconds kFirstAcceptBackoff{100};
inline constexpr std::chrono::milliseconds kAcceptBackoff{1'000};

struct AcceptBackoffState {
  int failed_attempts = 0;  ///< consecutive Exhausted results in the current episode
};

struct AcceptStep {
  std::chrono::milliseconds wait{0};  ///< before the next accept
  bool episode_started = false;       ///< log: accepting is paused
  bool episode_ended = false;         ///< log: accepting works again
  AcceptBackoffState state;
};

[[nodiscard]] constexpr AcceptStep next_accept_step(AcceptResult result, AcceptBackoffState state) {
  switch (result) {
    case AcceptResult::Accepted:
      return {.episode_ended = state.failed_attempts > 0, .state = {}};
    case AcceptResult::ConnectionFailed:
      return {.state = state};
    case AcceptResult::Exhausted:
      return {.wait = state.failed_attempts == 0 ? kFirstAcceptBackoff : kAcceptBackoff,
              .episode_started = state.failed_attempts == 0,
              .state = {.failed_attempts = state.failed_attempts + 1}};
  }
  return {.state = state};
}

/// Connections one server serves at once when ServerOptions::max_connections is 0: a quarter
/// of the process's descriptor limit, so that the rest stays free for outbound calls, files and
/// the other servers, and at most 256. A limit of 64 gives 16, 1024 gives 256, 200 gives 50;
/// at least 1 even for absurdly low limits.
[[nodiscard]] constexpr std::size_t default_max_connections(std::uint64_t fd_soft_limit) {
  constexpr std::uint64_t kCeiling = 256;
  const std::uint64_t quarter = fd_soft_limit / 4;
  const std::uint64_t chosen = quarter < kCeiling ? quarter : kCeiling;
  return static_cast<std::size_t>(chosen < 1 ? 1 : chosen);
}

}  // namespace qfscale::http::detail
