// `qfscale loadgen`: replays a trace or synthetic traffic as real HTTP requests at a target, e.g.
// the fake's traffic endpoint. Wiring only: schedules from loadgen/load_schedule.h, the run from
// loadgen/load_generator.h, signals, printing.

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <pthread.h>

#include "qfscale/demand/synthetic.h"
#include "qfscale/http/client.h"
#include "qfscale/loadgen/load_generator.h"
#include "qfscale/loadgen/load_schedule.h"
#include "qfscale/policy/duration.h"
#include "qfscale/trace/trace.h"
#include "qfscale/util/duration.h"

#include "cli/command.h"

namespace qfscale::cli {
namespace {

using std::chrono::milliseconds;

struct LoadgenOptions {
  std::string target;
  std::string trace;
  bool synthetic = false;
  double speedup = 1.0;
  std::vector<std::string> services;
  std::string duration;
  int concurrency = 32;
  std::string report_every = "10s";
  std::string timeout = "10s";
  std::string max_lag = "1s";
  std::string method = "GET";
  std::vector<std::string> headers;
  std::string body;
  std::string ca_file;
  // Synthetic traffic (demand/synthetic.h); durations as text.
  demand::SyntheticConfig synth;
  std::string period = "24h";
  std::string peak_at = "20h";
  std::string burst_duration = "60s";
};

/// qfscale's duration grammar with milliseconds: "250ms", "10s", "1m30s", "1s500ms".
tl::expected<milliseconds, std::string> parse_cli_duration(std::string_view option,
                                                           std::string_view text) {
  auto parsed = util::parse_duration(text, util::DurationPrecision::Milliseconds);
  if (!parsed) return tl::unexpected(fmt::format("{}: '{}' {}", option, text, parsed.error()));
  return *parsed;
}

tl::expected<std::chrono::seconds, std::string> parse_seconds(std::string_view option,
                                                              std::string_view text) {
  auto parsed = policy::parse_duration(text);
  if (!parsed) return tl::unexpected(fmt::format("{}: '{}' {}", option, text, parsed.error()));
  return *parsed;
}

std::string rate(std::uint64_t count, std::chrono::microseconds over) {
  const double seconds = std::chrono::duration<double>(over).count();
  return fmt::format("{:.1f}/s", seconds > 0 ? static_cast<double>(count) / seconds : 0.0);
}

void print_line(std::string_view head, std::chrono::microseconds elapsed,
                const loadgen::LoadCounts& counts, std::chrono::microseconds over) {
  fmt::print("loadgen: {}{:.1f}s: {} rate={} target={}\n", head,
             std::chrono::duration<double>(elapsed).count(), loadgen::format_counts(counts),
             rate(counts.sent, over), rate(counts.scheduled, over));
  std::fflush(stdout);
}

/// The streams: one per service (each with its own synthetic stream), else one at the target.
tl::expected<std::vector<loadgen::LoadStream>, std::string> build_streams(const LoadgenOptions& o) {
  std::optional<trace::Trace> trace;
  std::optional<demand::SyntheticTraffic> synthetic;
  if (!o.trace.empty()) {
    auto loaded = trace::load_trace(o.trace);
    if (!loaded) return tl::unexpected("invalid trace:\n" + util::to_string(loaded.error()));
    trace = std::move(*loaded);
  } else {
    demand::SyntheticConfig config = o.synth;
    for (auto [option, text, out] :
         {std::tuple{"--period", &o.period, &config.period},
          std::tuple{"--peak-at", &o.peak_at, &config.peak_at},
          std::tuple{"--burst-duration", &o.burst_duration, &config.burst_duration}}) {
      auto parsed = parse_seconds(option, *text);
      if (!parsed) return tl::unexpected(parsed.error());
      *out = *parsed;
    }
    auto created = demand::SyntheticTraffic::create(config);
    if (!created) return tl::unexpected(created.error().to_string());
    synthetic = *created;
  }

  std::vector<std::pair<std::string, std::string>> targets;  // name, url
  if (o.services.empty()) {
    targets.emplace_back(o.target, o.target);
  } else {
    std::string base = o.target;
    while (!base.empty() && base.back() == '/') base.pop_back();
    for (const auto& id : o.services) targets.emplace_back(id, fmt::format("{}/{}", base, id));
  }
  std::vector<loadgen::LoadStream> streams;
  for (const auto& [name, url] : targets) {
    Result<loadgen::LoadSchedule> schedule =
        trace ? loadgen::LoadSchedule::for_trace(*trace, o.speedup)
              : loadgen::LoadSchedule::create(
                    [traffic = *synthetic,
                     stream = o.services.empty() ? 0 : demand::SyntheticTraffic::stream_for(name)](
                        std::int64_t second) { return traffic.rate_at(second, stream); },
                    std::nullopt, o.speedup);
    if (!schedule) return tl::unexpected(schedule.error().to_string());
    streams.push_back(loadgen::LoadStream{.name = name, .url = url, .schedule = *schedule});
  }
  return streams;
}

int run_loadgen(const LoadgenOptions& o) {
  const auto fail_usage = [](std::string_view message) {
    fmt::print(stderr, "qfscale loadgen: {}\n", message);
    return 2;
  };
  auto streams = build_streams(o);
  if (!streams) return fail_usage(streams.error());

  loadgen::LoadOptions options{.streams = std::move(*streams),
                               .method = o.method,
                               .body = o.body,
                               .concurrency = o.concurrency};
  for (const auto& header : o.headers) {
    const auto colon = header.find(':');
    if (colon == std::string::npos || colon == 0) {
      return fail_usage(fmt::format("--header: '{}' is not 'Name: value'", header));
    }
    std::string value = header.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    options.headers.push_back({header.substr(0, colon), value});
  }
  milliseconds timeout{};
  for (auto [option, text, out] :
       {std::tuple{"--report-every", &o.report_every, &options.report_every},
        std::tuple{"--max-lag", &o.max_lag, &options.max_lag},
        std::tuple{"--timeout", &o.timeout, &timeout}}) {
    auto parsed = parse_cli_duration(option, *text);
    if (!parsed) return fail_usage(parsed.error());
    *out = *parsed;
  }
  if (timeout <= milliseconds{0}) return fail_usage("--timeout: must be above 0, e.g. 10s");
  if (!o.duration.empty()) {
    auto parsed = parse_cli_duration("--duration", o.duration);
    if (!parsed) return fail_usage(parsed.error());
    options.duration = *parsed;
  }
  if (auto valid = loadgen::validate(options); !valid) return fail_usage(valid.error().to_string());

  // Block the stop signals before any thread starts, so that only the watcher below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);  // our own "run finished" wake-up for the watcher
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto client = http::make_client(
      http::ClientOptions{.connect_timeout = std::min(timeout, milliseconds{5'000}),
                          .request_timeout = timeout,
                          .ca_file = o.ca_file,
                          .max_idle_per_host = static_cast<std::size_t>(o.concurrency)});
  if (!client) return fail_usage(client.error().to_string());

  std::stop_source stop;
  std::thread watcher([&stop, &signals] {
    int received = 0;
    sigwait(&signals, &received);
    if (received != SIGUSR1) {
      fmt::print(stderr, "qfscale loadgen: stopping on signal {}\n", received);
      stop.request_stop();
    }
  });

  fmt::print(stderr, "qfscale loadgen: {} stream(s) to {}, concurrency {}. Stop with Ctrl-C.\n",
             options.streams.size(), o.target, o.concurrency);
  std::vector<std::string> names;
  for (const auto& s : options.streams) names.push_back(s.name);
  auto report = loadgen::run_load(
      std::move(options), **client, stop.get_token(), [](const loadgen::LoadProgress& p) {
        if (p.final) return;
        print_line(fmt::format("last {:.1f}s to ",
                               std::chrono::duration<double>(p.interval_length).count()),
                   p.elapsed, p.interval, p.interval_length);
      });
  pthread_kill(watcher.native_handle(), SIGUSR1);
  watcher.join();
  if (!report) return fail_usage(report.error().to_string());

  print_line(report->stopped ? "stopped after " : "done after ", report->elapsed, report->total,
             report->elapsed);
  if (report->per_stream.size() > 1) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      fmt::print("loadgen:   {}: {}\n", names[i], loadgen::format_counts(report->per_stream[i]));
    }
  }
  if (!report->last_error.empty()) fmt::print("loadgen: last error: {}\n", report->last_error);
  // Nothing but errors means the target is wrong or down: worth a failing exit for scripts.
  const auto& t = report->total;
  return t.sent > 0 && t.errors == t.sent ? 1 : 0;
}

}  // namespace

void add_loadgen_command(CLI::App& app, Context& context) {
  auto o = std::make_shared<LoadgenOptions>();
  auto* cmd = app.add_subcommand(
      "loadgen",
      "Replay a trace or synthetic traffic as real HTTP requests (open loop, keep-alive), e.g. "
      "at the fake's /traffic/<serviceId> endpoint");
  cmd->add_option("--target", o->target,
                  "URL to send to, e.g. http://127.0.0.1:8765/traffic/svco-chatsmall001; with "
                  "--service, the base that each service id is appended to")
      ->required();
  auto* trace = cmd->add_option("--trace", o->trace, "Trace CSV (t_seconds,qps) to replay")
                    ->check(CLI::ExistingFile);
  auto* synthetic = cmd->add_flag("--synthetic", o->synthetic,
                                  "Seeded synthetic traffic (daily cycle, noise, bursts)");
  trace->excludes(synthetic);
  synthetic->excludes(trace);
  cmd->add_option("--speedup", o->speedup,
                  "Trace (or synthetic) seconds per wall second, 0.001 to 1e6")
      ->capture_default_str();
  cmd->add_option("--service", o->services,
                  "Service id (repeatable): one stream each, at TARGET/ID; synthetic traffic "
                  "gives each its own stream");
  cmd->add_option("--duration", o->duration,
                  "Stop after this long (e.g. 30s, 5m); default: the trace's length, or until "
                  "Ctrl-C for --synthetic");
  cmd->add_option("--concurrency", o->concurrency, "Requests in flight at most")
      ->capture_default_str();
  cmd->add_option("--report-every", o->report_every, "Progress period, e.g. 10s or 500ms")
      ->capture_default_str();
  cmd->add_option("--timeout", o->timeout, "Per-request timeout")->capture_default_str();
  cmd->add_option("--max-lag", o->max_lag,
                  "Drop a request that cannot start this long after its due time")
      ->capture_default_str();
  cmd->add_option("--method", o->method, "HTTP method")->capture_default_str();
  cmd->add_option("--header", o->headers, "Request header 'Name: value' (repeatable)");
  cmd->add_option("--body", o->body, "Request body");
  cmd->add_option("--ca-file", o->ca_file, "Extra CA certificate (PEM) to trust")
      ->check(CLI::ExistingFile);
  const char* const group = "Synthetic traffic";
  cmd->add_option("--seed", o->synth.seed, "Random seed")->capture_default_str()->group(group);
  cmd->add_option("--base-qps", o->synth.base_qps, "Mean QPS")->capture_default_str()->group(group);
  cmd->add_option("--amplitude", o->synth.amplitude, "Daily swing relative to the mean, 0..1")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--period", o->period, "Cycle length")->capture_default_str()->group(group);
  cmd->add_option("--peak-at", o->peak_at, "Offset of the peak within the cycle")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--noise", o->synth.noise, "Log-sigma of per-second noise, 0..2")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--bursts-per-hour", o->synth.bursts_per_hour, "Expected burst starts per hour")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--burst-height", o->synth.burst_height, "Rate multiplier during a burst")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--burst-duration", o->burst_duration, "Length of a burst")
      ->capture_default_str()
      ->group(group);
  cmd->callback([o, &context] {
    if (o->trace.empty() && !o->synthetic) {
      fmt::print(stderr, "qfscale loadgen: give --trace FILE or --synthetic\n");
      context.exit_code = 2;
      return;
    }
    context.exit_code = run_loadgen(*o);
  });
}

}  // namespace qfscale::cli
