// `qfscale run`: the controller. Wiring only: concrete clients, metric source, sinks, server and
// the loop; the work is in src/controller.

#include "cli/run_command.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include "qfscale/controller/api_attempts.h"
#include "qfscale/controller/audit_log.h"
#include "qfscale/controller/controller.h"
#include "qfscale/controller/etcd_state_store.h"
#include "qfscale/controller/leadership.h"
#include "qfscale/controller/run.h"
#include "qfscale/controller/shard_gate.h"
#include "qfscale/controller/state_store.h"
#include "qfscale/coordination/etcd.h"
#include "qfscale/coordination/leader.h"
#include "qfscale/demand/prometheus_source.h"
#include "qfscale/demand/qianfan_metric_source.h"
#include "qfscale/demand/synthetic.h"
#include "qfscale/demand/trace_source.h"
#include "qfscale/http/client.h"
#include "qfscale/http/server.h"
#include "qfscale/policy/duration.h"
#include "qfscale/qianfan/api.h"
#include "qfscale/telemetry/exporter.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/file.h"
#include "qfscale/util/file_lock.h"
#include "qfscale/util/random.h"
#include "qfscale/util/stop.h"

#include "cli/command.h"

namespace qfscale::cli {
namespace {

void log_line(const std::string& line) {
  fmt::print(stderr, "qfscale run: {}\n", line);
  std::fflush(stderr);
}

Result<std::unique_ptr<demand::QpsSource>> make_qps_source(const controller::Config& config,
                                                           http::Client& http,
                                                           qianfan::QianfanApi& api,
                                                           util::SystemTime start) {
  const auto& m = config.metrics;
  switch (m.kind) {
    case controller::MetricSourceKind::Prometheus:
      if (const auto warning = controller::span_warning(config)) log_line(*warning);
      return demand::make_prometheus_source(m.prometheus, http);
    case controller::MetricSourceKind::QianfanMetric:
      return demand::make_qianfan_metric_source({.window = m.qianfan_window}, api);
    case controller::MetricSourceKind::Trace: {
      std::map<model::ServiceId, trace::Trace> traces;
      for (const auto& service : config.services) {
        const auto it = m.service_traces.find(service.id);
        const std::string& file = it != m.service_traces.end() ? it->second : m.trace_file;
        if (file.empty()) continue;  // no trace: the source reports it missing
        auto trace = trace::load_trace(file);
        if (!trace) {
          return tl::unexpected(
              Error{.code = ErrorCode::InvalidInput, .message = util::to_string(trace.error())});
        }
        traces.emplace(service.id, std::move(*trace));
      }
      auto options = m.trace_options;
      options.start = start;
      return std::unique_ptr<demand::QpsSource>(
          std::make_unique<demand::TraceQpsSource>(std::move(traces), options));
    }
    case controller::MetricSourceKind::Synthetic: {
      auto traffic = demand::SyntheticTraffic::create(m.synthetic);
      if (!traffic) return tl::unexpected(traffic.error());
      return std::unique_ptr<demand::QpsSource>(
          std::make_unique<demand::SyntheticQpsSource>(*traffic, start));
    }
  }
  return tl::unexpected(Error{.code = ErrorCode::Internal, .message = "unknown metric source"});
}

/// What `--changes-only` compares: the last printed key per service or instance.
using PrintedKeys = std::map<std::string, std::string, std::less<>>;

/// True when `key` differs from what was last printed for `name` (and records it); always true
/// without `printed`.
bool changed(PrintedKeys* printed, const std::string& name, std::string key) {
  if (printed == nullptr) return true;
  auto [it, inserted] = printed->try_emplace(name, key);
  if (inserted) return true;
  if (it->second == key) return false;
  it->second = std::move(key);
  return true;
}

/// "14:03:05 svc-1  qps 31.2 (7.0/replica)  replicas 4 -> 6  scale_up  applied"; a service
/// whose DescribeService failed: "qps 31.2 (?/replica)  replicas   ? -> ?". With `printed`
/// (--changes-only) a line only when the replicas, reason or outcome changed since the last.
void print_tick(const telemetry::TickReport& report, PrintedKeys* printed) {
  const auto seconds = std::chrono::time_point_cast<std::chrono::seconds>(report.finished_at);
  for (const auto& s : report.services) {
    const auto& d = s.decision;
    const std::string qps = d.qps ? fmt::format("{:7.1f}", *d.qps) : "    n/a";
    const std::string per_replica = s.observed ? fmt::format("{:.1f}", d.replica_qps) : "?";
    const std::string replicas =
        s.observed ? fmt::format("{:>3} -> {:<3}", d.current.value, d.granted.value) : "  ? -> ?  ";
    if (!changed(printed, "service " + d.service.value,
                 fmt::format("{}|{}|{}|{}|{}", replicas, model::to_string(d.reason),
                             model::to_string(d.outcome), d.unmet.value, d.errors.size()))) {
      continue;
    }
    fmt::print("{:%H:%M:%S} {:<18} qps {} ({}/replica)  replicas {} {:<16} {}{}\n", seconds,
               d.service.value, qps, per_replica, replicas, model::to_string(d.reason),
               model::to_string(d.outcome),
               d.unmet.value > 0 ? fmt::format("  unmet {}", d.unmet.value) : "");
  }
  for (const auto& i : report.instances) {
    if (!changed(printed, "instance " + i.instance.value,
                 fmt::format("{}|{}|{}", i.allocated.value, i.capacity.value, i.free.value))) {
      continue;
    }
    fmt::print("{:%H:%M:%S} {:<18} compute units {:>3} of {:>3} allocated, {} free\n", seconds,
               i.instance.value, i.allocated.value, i.capacity.value, i.free.value);
  }
  std::fflush(stdout);
}

/// Every error of the tick on stderr, -q or not: "tick error: observe SignatureDoesNotMatch: ...".
void log_tick_errors(const telemetry::TickReport& report) {
  for (const auto& e : report.errors) {
    log_line(fmt::format("tick error: {} {}: {}", telemetry::to_string(e.stage),
                         telemetry::to_string(e.code), e.message));
  }
}

/// Locks `<path>.lock` for the life of the process (FileLock), so that a second controller on
/// the same state file or audit log is refused instead of acting too.
Result<util::FileLock> lock_beside(const std::string& path) {
  return util::FileLock::acquire(path + ".lock");
}

/// This controller's name in the leader key: the configured one, else "<host>:<pid>".
std::string member_name(const controller::EtcdConfig& etcd) {
  if (!etcd.name.empty()) return etcd.name;
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '0';
  return fmt::format("{}:{}", host.data(), ::getpid());
}

/// Everything `coordination.etcd` adds to a run: the etcd client, the elector polling on its own
/// thread, the states in etcd and the gate in front of the Qianfan API.
struct Coordination {
  std::unique_ptr<http::Client> http;
  std::unique_ptr<coordination::Etcd> etcd;
  std::unique_ptr<coordination::LeaderElector> elector;
  std::unique_ptr<controller::EtcdStateStore> store;
  std::unique_ptr<controller::LeaderGate> gate;   ///< one leader (shards: 1)
  std::unique_ptr<controller::ShardGate> shards;  ///< or each member on its shards

  [[nodiscard]] qianfan::QianfanApi& api() { return shards ? shards->api() : gate->api(); }
  [[nodiscard]] bool begin_tick(controller::Controller& controller) {
    return shards ? shards->begin_tick(controller) : gate->begin_tick(controller);
  }
};

Result<Coordination> start_coordination(const controller::EtcdConfig& e, const util::Clock& clock,
                                        util::Random& random, qianfan::QianfanApi& api,
                                        controller::AuditLog* audit,
                                        telemetry::Exporter& exporter) {
  Coordination c;
  auto http = http::make_client(http::ClientOptions{.connect_timeout = std::chrono::seconds{2},
                                                    .request_timeout = std::chrono::seconds{2},
                                                    .ca_file = e.ca_file,
                                                    .cert_file = e.cert_file,
                                                    .key_file = e.key_file});
  if (!http) return fail(std::move(http).error());
  c.http = std::move(*http);
  // Read once at start; never logged.
  const char* password = std::getenv("QFSCALE_ETCD_PASSWORD");  // NOLINT(concurrency-mt-unsafe)
  auto etcd = coordination::make_etcd_client({.endpoints = e.endpoints,
                                              .username = e.username,
                                              .password = password != nullptr ? password : ""},
                                             *c.http, random);
  if (!etcd) return fail(std::move(etcd).error());
  c.etcd = std::move(*etcd);
  const std::string name = member_name(e);
  // Sharded, each member "leads" its own membership key: registered while its lease lives.
  c.elector = std::make_unique<coordination::LeaderElector>(
      *c.etcd, clock,
      coordination::LeaderOptions{
          .key = e.shards > 1 ? controller::member_key(e.prefix, name) : e.prefix + "/leader",
          .name = name,
          .election = {.lease_ttl = e.lease_ttl}});
  c.store = std::make_unique<controller::EtcdStateStore>(*c.etcd, e.prefix);
  if (e.shards > 1) {
    c.shards = std::make_unique<controller::ShardGate>(
        *c.elector, *c.etcd, api, *c.store, clock, audit, &exporter, log_line,
        controller::ShardGateOptions{.prefix = e.prefix, .member = name, .shards = e.shards});
    c.shards->report();
    return c;
  }
  c.gate = std::make_unique<controller::LeaderGate>(*c.elector, *c.etcd, e.prefix, api, *c.store,
                                                    clock, audit, &exporter, log_line);
  c.gate->report();
  return c;
}

}  // namespace

int run_controller(controller::Config config, const bce::Credentials& credentials,
                   const RunFlags& flags) {
  static const util::SystemClock clock;
  util::Random random(std::random_device{}());
  if (flags.dry_run) config.loop.dry_run = true;
  if (!flags.listen.empty()) config.loop.listen = flags.listen;

  // Before anything acts or writes: a second controller on the same files is refused.
  std::vector<util::FileLock> locks;
  for (const std::string* path : {&config.loop.state_file, &config.loop.audit_log}) {
    if (path->empty()) continue;
    auto lock = lock_beside(*path);
    if (!lock) {
      log_line(lock.error().to_string());
      return 2;
    }
    locks.push_back(std::move(*lock));
  }

  // SIGTERM ends the retry waits at once (the HTTP calls themselves are cancelled below).
  util::StopSignal stop;
  auto http_client = http::make_client(http::ClientOptions{.ca_file = config.qianfan.ca_file});
  // Its own client: the metrics endpoint may trust other CAs than the Qianfan endpoint.
  auto metrics_http_client =
      http::make_client(http::ClientOptions{.ca_file = config.metrics.prometheus.ca_file});
  if (!http_client || !metrics_http_client) {
    log_line((http_client ? metrics_http_client : http_client).error().to_string());
    return 2;
  }
  auto exporter = telemetry::Exporter::create({}, clock);
  if (!exporter) {
    log_line(exporter.error().to_string());
    return 2;
  }
  qianfan::ClientConfig client_config{
      .credentials = credentials,
      .base_url = config.qianfan.base_url,
      .retry = {.max_attempts = config.qianfan.max_attempts,
                .max_retry_after = config.qianfan.max_retry_after},
      .request_timeout = config.qianfan.timeout,
      .on_attempt = controller::count_api_attempts(**exporter),
  };
  auto api =
      qianfan::make_qianfan_client(client_config, **http_client, clock, random,
                                   [&stop](std::chrono::milliseconds d) { stop.sleep_for(d); });
  if (!api) {
    log_line(api.error().to_string());
    return 2;
  }
  auto qps = make_qps_source(config, **metrics_http_client, **api, clock.system_now());
  if (!qps) {
    log_line(fmt::format("metric source: {}", qps.error().to_string()));
    return 2;
  }
  std::unique_ptr<controller::AuditLog> audit;
  if (!config.loop.audit_log.empty()) {
    auto opened = controller::AuditLog::open({.path = config.loop.audit_log,
                                              .max_bytes = config.loop.audit_log_max_bytes,
                                              .keep = config.loop.audit_log_keep});
    if (!opened) {
      log_line(opened.error().to_string());
      return 2;
    }
    audit = std::move(*opened);
  }
  std::optional<controller::StateStore> store;
  if (!config.loop.state_file.empty()) store.emplace(config.loop.state_file);

  std::optional<Coordination> coordination;
  if (const auto& etcd = config.coordination.etcd) {
    auto started_coordination =
        start_coordination(*etcd, clock, random, **api, audit.get(), **exporter);
    if (!started_coordination) {
      log_line(fmt::format("coordination: {}", started_coordination.error().to_string()));
      return 2;
    }
    coordination = std::move(*started_coordination);
    // Read once to tell a configuration problem (a refused certificate or password: stop here)
    // from etcd being down (start anyway: stand by and campaign once it answers). The states
    // themselves are read when this member becomes leader.
    if (auto probe = coordination->store->load(); !probe) {
      const auto what = fmt::format("loading the controller state from {}: {}",
                                    coordination->store->path(), probe.error().to_string());
      if (!probe.error().retryable()) {
        log_line(what);
        return 2;
      }
      log_line(what + "; starting anyway: standing by until etcd answers");
    }
  }

  http::Router router;
  telemetry::add_routes(router, **exporter);
  auto server = http::start_server({.listen = config.loop.listen}, std::move(router));
  if (!server) {
    log_line(
        fmt::format("cannot listen on {}: {}", config.loop.listen, server.error().to_string()));
    return 2;
  }

  controller::StateStore* state_store = store ? &*store : nullptr;
  if (coordination) state_store = coordination->store.get();
  controller::Dependencies deps{.api = coordination ? &coordination->api() : api->get(),
                                .qps = qps->get(),
                                .clock = &clock,
                                .sinks = {exporter->get()},
                                .state_store = state_store,
                                .audit_log = audit.get(),
                                .load_states_on_create = !coordination};
  const auto interval = config.loop.interval;
  const bool dry_run = config.loop.dry_run;
  const std::string file = config.file;
  const controller::Config started = config;  // what restart-only keys stay at
  auto created = controller::Controller::create(std::move(config), deps);
  if (!created) {
    log_line(created.error().to_string());
    return 2;
  }
  auto& controller = **created;

  if (audit) audit->record_config(clock.system_now(), true, file, "");

  // The first line is machine-readable, like the fake's: tests and scripts wait for it.
  fmt::print("listening on http://{}\n", (*server)->address());
  std::fflush(stdout);
  log_line(fmt::format(
      "{} services, tick every {}{}; /metrics, /healthz, /readyz and /api/v1/decisions at "
      "http://{}",
      controller.config().services.size(), policy::format_duration(interval),
      dry_run ? ", DRY RUN: no ScaleService is sent" : "", (*server)->address()));

  controller::RunOptions options{.interval = interval};
  options.log = log_line;
  auto printed = std::make_shared<PrintedKeys>();
  options.on_tick = [quiet = flags.quiet, changes_only = flags.changes_only,
                     printed](const telemetry::TickReport& report) {
    if (!quiet) print_tick(report, changes_only ? printed.get() : nullptr);
    log_tick_errors(report);
  };
  options.on_stop_requested = [&] {
    stop.request_stop();
    (*http_client)->cancel_all();
    (*metrics_http_client)->cancel_all();
  };
  if (flags.ticks) options.max_ticks = *flags.ticks;
  if (flags.run_for) options.max_duration = *flags.run_for;
  if (!file.empty()) {
    options.load_config = [&] {
      auto loaded = controller::load_config(file, util::system_zone_source());
      if (loaded) {
        if (flags.dry_run) loaded->loop.dry_run = true;
        if (!flags.listen.empty()) loaded->loop.listen = flags.listen;
      }
      return loaded;
    };
    options.on_reload = [&](const tl::expected<controller::Config, util::Diagnostics>& loaded,
                            const Status& applied) {
      if (loaded && applied) {
        log_line(fmt::format("reloaded {}: {} services", file, loaded->services.size()));
        if (coordination && coordination->shards) coordination->shards->set_config(*loaded);
        for (const auto key : controller::restart_only_changes(started, *loaded)) {
          log_line(fmt::format("{} changed: takes effect on restart", key));
        }
        if (audit) audit->record_config(clock.system_now(), true, file, "");
        return;
      }
      std::string error;
      if (!loaded) {
        log_line(fmt::format("reload of {} failed; keeping the running config:", file));
        for (const auto& d : loaded.error()) log_line("  " + d.to_string());
        error = util::to_string(loaded.error());
        // The controller never saw this file, so the metrics learn of it here.
        (*exporter)->on_config({.success = false});
      } else {
        error = applied.error().to_string();
      }
      if (audit) audit->record_config(clock.system_now(), false, file, error);
    };
  }
  if (coordination) {
    options.before_tick = [&] { return coordination->begin_tick(controller); };
    if (coordination->shards) coordination->shards->set_config(controller.config());
    coordination->elector->start();
    const auto& e = *controller.config().coordination.etcd;
    log_line(fmt::format("coordination: etcd at {}, {} key {}, this member {}",
                         fmt::join(e.endpoints, ", "), e.shards > 1 ? "member" : "leader",
                         coordination->elector->options().key,
                         coordination->elector->options().name));
    if (e.shards > 1) {
      log_line(fmt::format("sharding: {} shards over the live members under {}/members/", e.shards,
                           e.prefix));
    }
  }
  const auto reason = controller::run_loop(controller, clock, options);
  // Hand over at once: revoking the lease deletes the leader key, so a follower takes over
  // now instead of after the TTL.
  if (coordination) coordination->elector->stop();
  (*server)->stop();
  log_line(reason == controller::StopReason::Signal     ? "stopped"
           : reason == controller::StopReason::MaxTicks ? "stopped after --ticks"
                                                        : "stopped after --for");
  return 0;
}

namespace {

int run_command(const RunFlags& flags) {
  if (flags.config.empty()) return run_demo(flags);
  auto config = controller::load_config(flags.config, util::system_zone_source());
  if (!config) {
    fmt::print(stderr, "qfscale run: invalid config:\n{}\n", util::to_string(config.error()));
    return 2;
  }
  auto credentials = controller::load_credentials(config->qianfan);
  if (!credentials) {
    log_line(credentials.error().to_string());
    return 2;
  }
  return run_controller(std::move(*config), *credentials, flags);
}

}  // namespace

void add_run_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<RunFlags>();
  auto* cmd = app.add_subcommand(
      "run",
      "Run the autoscaling controller: every tick, read each service's QPS and DescribeService,\n"
      "let its policy recommend replicas, fit them into the compute-unit instances, and call\n"
      "ScaleService (scale-downs first). Serves /metrics, /healthz, /readyz and\n"
      "/api/v1/decisions. SIGHUP reloads the config; SIGTERM or Ctrl-C cancels the calls in\n"
      "flight, saves the state and stops. Tick errors go to stderr (and do not end the run).\n"
      "With no --config it runs a built-in demo: an in-process fake Qianfan with three\n"
      "services on two instances, driven by synthetic traffic.\n"
      "Exit status: 0 stopped (signal, --for or --ticks); 2 usage, configuration or network\n"
      "error at start (invalid config, no credentials, cannot listen, another qfscale holds\n"
      "the state file or audit log).");
  cmd->add_option("--config,-c", flags->config, "Controller config (qfscale.yaml)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--dry-run", flags->dry_run,
                "Decide and report everything, but send no ScaleService");
  cmd->add_option("--listen", flags->listen,
                  "HOST:PORT for the HTTP endpoints (overrides loop.listen; port 0 picks one)");
  auto* run_for = cmd->add_option_function<std::string>(
      "--for",
      [flags](const std::string& text) {
        auto parsed = policy::parse_duration(text);
        if (!parsed) throw CLI::ValidationError("--for", parsed.error());
        flags->run_for = *parsed;
      },
      "Stop after this long (e.g. 90s, 5m); default: run until stopped");
  run_for->type_name("DURATION");
  cmd->add_option_function<int>(
         "--ticks", [flags](int ticks) { flags->ticks = ticks; }, "Stop after this many ticks")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--quiet,-q", flags->quiet, "No per-tick lines (the endpoints still report)");
  cmd->add_flag("--changes-only", flags->changes_only,
                "Per-tick lines only for a service whose replicas, reason or outcome changed "
                "since its last line (tick errors are always logged)");
  cmd->callback([flags, &context] { context.exit_code = run_command(*flags); });
}

}  // namespace qfscale::cli
