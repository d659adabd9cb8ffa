#pragma once

/// A bound on a call that might hang (a server that never answers, a lock never released).

#include <chrono>
#include <cstdlib>
#include <future>
#include <utility>

#include <doctest/doctest.h>

namespace qfscale::testing {

/// Runs `f` on another thread and waits at most `bound` for it. A hang is a failed test, not a
/// stuck CI job: abort with a message rather than wait forever (the future's destructor would
/// wait for the hung call too).
template <class F>
auto within(std::chrono::seconds bound, F f) -> decltype(f()) {
  auto future = std::async(std::launch::async, std::move(f));
  if (future.wait_for(bound) != std::future_status::ready) {
    FAIL_CHECK("operation did not finish within ", bound.count(), " s");
    std::abort();
  }
  return future.get();
}

}  // namespace qfscale::testing
