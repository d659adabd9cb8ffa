// `qfscale fake-qianfan`: runs the local Qianfan fake (src/fake) on our HTTP(S) server until
// SIGINT or SIGTERM. Wiring only: scenario, credentials, clock, server.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <pthread.h>

#include "qfscale/fake/fake_qianfan.h"
#include "qfscale/http/server.h"
#include "qfscale/util/clock.h"

#include "cli/command.h"

namespace qfscale::cli {
namespace {

struct FakeOptions {
  std::string scenario;
  std::string listen = "127.0.0.1:8765";
  std::string tls_cert;
  std::string tls_key;
  int threads = 2;
  std::size_t max_connections = 0;  ///< 0: the server's default (from RLIMIT_NOFILE)
  bool fencing = false;
};

std::string env(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): before any thread
  return value == nullptr ? std::string() : std::string(value);
}

int run_fake(const FakeOptions& options) {
  fake::Scenario scenario;
  if (options.scenario.empty()) {
    scenario = fake::default_scenario();
  } else {
    auto loaded = fake::load_scenario(options.scenario);
    if (!loaded) {
      fmt::print(stderr, "qfscale fake-qianfan: invalid scenario:\n{}",
                 util::to_string(loaded.error()));
      return 2;
    }
    scenario = std::move(*loaded);
  }
  scenario.fencing = options.fencing;

  // Credentials: the environment, else the scenario, else a fresh throwaway pair.
  const std::string access_key = env("QIANFAN_ACCESS_KEY");
  const std::string secret_key = env("QIANFAN_SECRET_KEY");
  bool generated = false;
  if (!access_key.empty() && !secret_key.empty()) {
    scenario.credentials = bce::Credentials{.access_key = access_key, .secret_key = secret_key};
  } else if (!access_key.empty() || !secret_key.empty()) {
    fmt::print(stderr,
               "qfscale fake-qianfan: set both QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY, or "
               "neither (then the scenario's or generated credentials are used)\n");
    return 2;
  } else if (!scenario.credentials) {
    scenario.credentials = fake::generate_credentials();
    generated = true;
  }

  static const util::SystemClock clock;
  auto created = fake::FakeQianfan::create(std::move(scenario), clock);
  if (!created) {
    fmt::print(stderr, "qfscale fake-qianfan: {}\n", created.error().to_string());
    return 2;
  }
  auto& qianfan = **created;

  // Block the stop signals before the server threads start so that they inherit the mask and
  // only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  http::ServerOptions server_options;
  server_options.listen = options.listen;
  server_options.threads = options.threads;
  server_options.max_connections = options.max_connections;
  if (!options.tls_cert.empty()) {
    server_options.tls = http::TlsFiles{options.tls_cert, options.tls_key};
  }
  auto server = http::start_server(server_options, qianfan.router());
  if (!server) {
    fmt::print(stderr, "qfscale fake-qianfan: cannot listen on {}: {}\n", options.listen,
               server.error().to_string());
    return 2;
  }
  qianfan.serve_at((*server)->address());
  const std::string base_url =
      fmt::format("{}://{}", (*server)->tls() ? "https" : "http", (*server)->address());
  // First line: machine-readable address. The generated credentials are throwaway keys of this
  // fake, printed on purpose so that a client can be pointed at it.
  fmt::print("listening on {}\n", base_url);
  if (generated) {
    fmt::print("export QIANFAN_ACCESS_KEY={}\n", qianfan.credentials().access_key);
    fmt::print("export QIANFAN_SECRET_KEY={}\n", qianfan.credentials().secret_key);
  }
  fmt::print("export QIANFAN_CONSOLE_API_BASE_URL={}\n", base_url);
  for (const auto& line : qianfan.inventory()) fmt::print("{}\n", line);
  std::fflush(stdout);
  fmt::print(stderr,
             "qfscale fake-qianfan: console API at {0}/v2/service, traffic at "
             "{0}/traffic/<serviceId>, metrics at {0}/metrics, faults at {0}/admin/faults. "
             "Stop with Ctrl-C.\n",
             base_url);

  int received = 0;
  sigwait(&stop_signals, &received);
  fmt::print(stderr, "qfscale fake-qianfan: stopping on signal {}\n", received);
  (*server)->stop();
  return 0;
}

}  // namespace

void add_fake_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<FakeOptions>();
  auto* cmd = app.add_subcommand(
      "fake-qianfan",
      "Run a local fake of the Qianfan console API (DescribeService, ScaleService, ...) with "
      "signature checks, capacity, startup delays, fault injection and a traffic endpoint");
  cmd->add_option("--scenario", options->scenario,
                  "Scenario file (YAML or JSON); the built-in demo scenario when absent")
      ->check(CLI::ExistingFile);
  cmd->add_option("--listen", options->listen, "HOST:PORT to listen on; port 0 picks a free one")
      ->capture_default_str();
  auto* cert = cmd->add_option("--tls-cert", options->tls_cert,
                               "PEM certificate chain: serve HTTPS instead of HTTP")
                   ->check(CLI::ExistingFile);
  auto* key = cmd->add_option("--tls-key", options->tls_key, "PEM private key for --tls-cert")
                  ->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  cmd->add_flag(
      "--fencing", options->fencing,
      "Refuse ScaleService/ModifyService without x-qfscale-fencing-token or with one older "
      "than the newest seen (409 FencingTokenStale); GET /admin/fencing lists them");
  cmd->add_option("--threads", options->threads, "Server threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--max-connections", options->max_connections,
                  "Connections served at once; more are refused with 503 [a quarter of the "
                  "descriptor limit, at most 256]")
      ->check(CLI::Range(1, 1'000'000));
  cmd->callback([options, &context] { context.exit_code = run_fake(*options); });
}

}  // namespace qfscale::cli
