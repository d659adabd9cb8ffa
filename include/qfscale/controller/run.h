#pragma once

/// The thin loop around `Controller::tick` (docs/CONVENTIONS.md 5.5): ticks on a steady timer at a
/// fixed rate, SIGHUP reloads the config between ticks, SIGTERM/SIGINT end it. All the work is
/// in `tick`; this only decides when.
///
/// Signals are caught on a thread of their own, so they are acknowledged at once even during a
/// slow tick: SIGTERM logs "stopping on SIGTERM" and calls `on_stop_requested` right away (the
/// CLI cancels the HTTP calls in flight and the retry waits there), the tick in flight then
/// ends quickly, saves its state and reports, and the loop returns.
///
/// Ticks are aligned to `start + k x interval` on the monotonic clock. A tick that overruns its
/// slot is followed at once by the next one, and slots missed meanwhile are skipped rather than
/// run in a burst (a reconcile acts on the present; catching up would only repeat it).
///
/// A reload that fails keeps the running config and is reported through `on_reload` (the CLI
/// logs each diagnostic and feeds the failure to the metrics and the audit log), as Prometheus
/// does with a bad configuration.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <tl/expected.hpp>

#include "qfscale/controller/config.h"
#include "qfscale/controller/controller.h"
#include "qfscale/telemetry/sink.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/diagnostic.h"

namespace qfscale::controller {

struct RunOptions {
  std::chrono::milliseconds interval{15'000};
  /// Reads the config again (SIGHUP). Empty: SIGHUP is ignored with a log line.
  std::function<tl::expected<Config, util::Diagnostics>()> load_config;
  /// After each reload attempt: the loaded config or the diagnostics of a file that did not
  /// load, and whether the controller took a loaded config (it refuses an inconsistent one and
  /// reports that to its sinks itself; a file that did not load never reached it).
  std::function<void(const tl::expected<Config, util::Diagnostics>&, const Status& applied)>
      on_reload;
  /// Before each tick: false skips it (a follower under coordination: no observation, no call,
  /// no save, no report). Empty: every tick runs.
  std::function<bool()> before_tick;
  /// After each tick (the CLI prints the per-service lines from it).
  std::function<void(const telemetry::TickReport&)> on_tick;
  /// One line per loop event ("reloading", "stopping on SIGTERM"). Called from the loop's thread
  /// and from its signal thread.
  std::function<void(const std::string&)> log;
  /// On SIGTERM/SIGINT, at once, from the signal thread (possibly while a tick runs): make the
  /// calls in flight fail fast. Must be thread-safe.
  std::function<void()> on_stop_requested;
  /// Stop after this many ticks, or after this long (monotonic) — for demos and tests.
  std::optional<int> max_ticks;
  std::optional<std::chrono::milliseconds> max_duration;
};

/// Why `run_loop` returned.
enum class StopReason { Signal, MaxTicks, MaxDuration };

/// Runs ticks until a stop condition. Wall time for each tick comes from `clock.system_now()`;
/// the schedule is an Asio steady timer (real time: run_loop is for real runs, tests call
/// `tick`). Handles SIGHUP, SIGTERM and SIGINT while it runs (Asio signal_set) and restores the
/// default actions on return.
/// Thread-safety: call from one thread; it owns `controller` while it runs.
[[nodiscard]] StopReason run_loop(Controller& controller, const util::Clock& clock,
                                  const RunOptions& options);

}  // namespace qfscale::controller
