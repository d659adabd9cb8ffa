#include "http/accept_policy.h"

#include <chrono>

#include <doctest/doctest.h>

namespace qfscale::http::detail {

using std::chrono::milliseconds;

TEST_SUITE("http") {
  TEST_CASE("an accept that runs out of descriptors waits 100 ms, then 1 s, and logs once") {
    AcceptBackoffState state;
    auto step = next_accept_step(AcceptResult::Exhausted, state);
    CHECK(step.wait == milliseconds{100});
    CHECK(step.episode_started);
    CHECK_FALSE(step.episode_ended);
    for (int i = 0; i < 3; ++i) {
      step = next_accept_step(AcceptResult::Exhausted, step.state);
      CHECK(step.wait == milliseconds{1'000});
      CHECK_FALSE(step.episode_started);
    }
    CHECK(step.state.failed_attempts == 4);

    step = next_accept_step(AcceptResult::Accepted, step.state);
    CHECK(step.wait == milliseconds{0});
    CHECK(step.episode_ended);
    CHECK(step.state.failed_attempts == 0);

    // A new episode starts over at 100 ms and is logged again.
    step = next_accept_step(AcceptResult::Exhausted, step.state);
    CHECK(step.wait == milliseconds{100});
    CHECK(step.episode_started);
  }

  TEST_CASE("a failed single connection is retried at once and neither starts nor ends episodes") {
    auto step = next_accept_step(AcceptResult::ConnectionFailed, {});
    CHECK(step.wait == milliseconds{0});
    CHECK_FALSE(step.episode_started);
    CHECK_FALSE(step.episode_ended);

    step = next_accept_step(AcceptResult::ConnectionFailed, {.failed_attempts = 2});
    CHECK(step.state.failed_attempts == 2);  // still in the episode: no "accepting again" yet
    CHECK_FALSE(step.episode_ended);
  }

  TEST_CASE("plain accepts never log") {
    const auto step = next_accept_step(AcceptResult::Accepted, {});
    CHECK_FALSE(step.episode_started);
    CHECK_FALSE(step.episode_ended);
  }

  TEST_CASE("the default connection cap is a quarter of the descriptor limit, 1 to 256") {
    CHECK(default_max_connections(64) == 16);
    CHECK(default_max_connections(200) == 50);
    CHECK(default_max_connections(1024) == 256);
    CHECK(default_max_connections(1'048'576) == 256);
    CHECK(default_max_connections(3) == 1);
    CHECK(default_max_connections(0) == 1);
  }
}

}  // namespace qfscale::http::detail
