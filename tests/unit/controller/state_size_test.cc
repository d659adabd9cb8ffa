// The state file as util::read_file reads it: only a regular file, and a size cap
// (util::kMaxStateFileBytes) above the largest state the controller writes for 10,000 services.

#include <chrono>
#include <filesystem>
#include <string>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qfscale/controller/state_store.h"
#include "qfscale/policy/policy.h"
#include "qfscale/util/file.h"

namespace qfscale::controller {
namespace {

using namespace std::chrono_literals;

TEST_SUITE("controller") {
  TEST_CASE("state size: a FIFO or a device as the state file fails the load at once") {
    // A FIFO hung the start for ever; /dev/zero allocated without bound.
    const auto dir =
        std::filesystem::temp_directory_path() / fmt::format("qfscale-state-fifo-{}", ::getpid());
    std::filesystem::create_directories(dir);
    const auto fifo = (dir / "state.json").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto fifo_load = StateStore(fifo).load();
    std::filesystem::remove_all(dir);
    REQUIRE_FALSE(fifo_load.has_value());
    CHECK(fifo_load.error().message.find("is a FIFO, must be a regular file") != std::string::npos);
    const auto zero_load = StateStore("/dev/zero").load();
    REQUIRE_FALSE(zero_load.has_value());
    CHECK(zero_load.error().message.find("character device") != std::string::npos);
  }

  TEST_CASE("state size: 10,000 services with full windows fit the state file cap") {
    // At a 15 s tick: metric and stabilization windows of 3600 s hold 240 samples and 240
    // recommendations, a 1800 s rate-limit period up to 120 scale events (one per tick).
    constexpr int kServices = 10'000;
    constexpr auto kTick = 15s;
    const util::SystemTime now{1'700'000'000'123ms};
    policy::EngineState full;
    for (auto t = kTick; t <= policy::kMaxMetricWindow; t += kTick) {
      full.samples.push_back({.at = now - t, .qps = 1234.567891});
    }
    for (auto t = kTick; t <= policy::kMaxStabilizationWindow; t += kTick) {
      full.recommendations.push_back({.at = now - t, .replicas = model::Replicas{1000}});
    }
    for (auto t = kTick; t <= policy::kMaxRateLimitPeriod; t += kTick) {
      full.scale_events.push_back({.at = now - t, .change = -100});
    }
    full.last_observed_at = now;
    full.last_observed = model::Replicas{1000};
    full.panic_last_over = now;
    full.panic_max = model::Replicas{1000};
    full.idle_since = now;
    // Encoding 100 services and scaling keeps the test fast; one service's share is the same.
    EngineStates hundred;
    for (int i = 0; i < 100; ++i) hundred[model::ServiceId(fmt::format("svco-{:012d}", i))] = full;
    const auto per_hundred = encode_states(hundred, now).size();
    const auto total = per_hundred * (kServices / 100);
    MESSAGE("10,000 services with full windows: ", total / (1 << 20), " MiB");
    // Room to spare for longer ids and more precise numbers, and still a bound.
    CHECK(total * 2 < util::kMaxStateFileBytes);
    CHECK(total * 8 > util::kMaxStateFileBytes);
  }
}

}  // namespace
}  // namespace qfscale::controller
