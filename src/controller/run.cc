#include "qfscale/controller/run.h"

#include <csignal>
#include <thread>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

namespace qfscale::controller {
namespace {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

class Loop {
 public:
  Loop(Controller& controller, const util::Clock& clock, const RunOptions& options)
      : controller_(controller),
        clock_(clock),
        options_(options),
        timer_(io_),
        signals_(signal_io_, SIGHUP, SIGTERM, SIGINT),
        start_(SteadyClock::now()) {}

  StopReason run() {
    wait_for_signal();
    // Signals are handled on their own thread so that a slow tick cannot delay them; what they
    // do to the controller (reload, stop) is posted to this thread and runs between ticks.
    std::thread signal_thread([this] { signal_io_.run(); });
    schedule(start_);
    io_.run();
    signal_io_.stop();
    signal_thread.join();
    return reason_;
  }

 private:
  void log(const std::string& line) const {
    if (options_.log) options_.log(line);
  }

  void stop(StopReason reason) {
    reason_ = reason;
    stopping_ = true;
    timer_.cancel();
  }

  void schedule(SteadyClock::time_point at) {
    timer_.expires_at(at);
    timer_.async_wait([this](const boost::system::error_code& error) {
      if (!error && !stopping_) on_timer();
    });
  }

  void on_timer() {
    if (!options_.before_tick || options_.before_tick()) {
      const auto report = controller_.tick(clock_.system_now());
      if (options_.on_tick) options_.on_tick(report);
    }
    ++ticks_;
    if (stopping_) return;
    if (options_.max_ticks && ticks_ >= *options_.max_ticks) return stop(StopReason::MaxTicks);
    const auto now = SteadyClock::now();
    if (options_.max_duration && now - start_ >= *options_.max_duration) {
      return stop(StopReason::MaxDuration);
    }
    // The next slot after now on the fixed grid: an overrun skips the slots it covered.
    const auto interval = SteadyClock::duration{options_.interval};
    const auto slots = (now - start_) / interval + 1;
    auto next = start_ + slots * interval;
    if (options_.max_duration) next = std::min(next, start_ + *options_.max_duration);
    schedule(next);
  }

  /// Runs on the signal thread.
  void wait_for_signal() {
    signals_.async_wait([this](const boost::system::error_code& error, int signal) {
      if (error) return;
      if (signal == SIGHUP) {
        asio::post(io_, [this] {
          if (!stopping_) reload();
        });
        return wait_for_signal();
      }
      // At once, even mid-tick: the calls in flight fail now, so the tick ends, saves its state
      // and reports; then the loop stops.
      log(fmt::format("stopping on {}: cancelling the calls in flight",
                      signal == SIGTERM ? "SIGTERM" : "SIGINT"));
      if (options_.on_stop_requested) options_.on_stop_requested();
      asio::post(io_, [this] { stop(StopReason::Signal); });
    });
  }

  void reload() {
    if (!options_.load_config) {
      log("SIGHUP ignored: there is no config file to reload");
      return;
    }
    log("SIGHUP: reloading the config");
    auto loaded = options_.load_config();
    Status applied = util::ok();
    if (loaded) {
      applied = controller_.reload(*loaded);
      if (!applied) {
        log(fmt::format("reload refused, the running config stays: {}", applied.error()));
      }
    }
    if (options_.on_reload) options_.on_reload(loaded, applied);
  }

  Controller& controller_;
  const util::Clock& clock_;
  const RunOptions& options_;
  asio::io_context io_;         ///< ticks and reloads: the calling thread
  asio::io_context signal_io_;  ///< signals: their own thread
  asio::steady_timer timer_;
  asio::signal_set signals_;
  SteadyClock::time_point start_;
  int ticks_ = 0;
  bool stopping_ = false;  ///< only touched on the calling thread
  StopReason reason_ = StopReason::Signal;
};

}  // namespace

StopReason run_loop(Controller& controller, const util::Clock& clock, const RunOptions& options) {
  StopReason reason = StopReason::Signal;
  {
    Loop loop(controller, clock, options);
    reason = loop.run();
  }
  // signal_set restores nothing by itself once destroyed; give the defaults back so a second
  // SIGTERM after the loop ends the process as usual. std::signal fails only for an invalid
  // signal number, and the previous handlers are not wanted back, so the results are dropped.
  static_cast<void>(std::signal(SIGHUP, SIG_DFL));
  static_cast<void>(std::signal(SIGTERM, SIG_DFL));
  static_cast<void>(std::signal(SIGINT, SIG_DFL));
  return reason;
}

}  // namespace qfscale::controller
