// A real Prometheus server (Debian package `prometheus`) on 127.0.0.1 scrapes a tiny exporter
// served by our http::Server; PrometheusQpsSource then reads rate() through our http::Client.
// Every wait is on an event (a scrape arriving) with a bound; nothing sleeps. The test is
// skipped with a message when /usr/bin/prometheus is absent.

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qfscale/demand/prometheus_source.h"
#include "qfscale/http/client.h"
#include "qfscale/http/server.h"
#include "qfscale/util/file.h"

#include "support/temp_dir.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, for posix_spawn

namespace qfscale::demand {
namespace {

using namespace std::chrono_literals;
using model::ServiceId;

constexpr const char* kPrometheus = "/usr/bin/prometheus";

/// A port that was free a moment ago: bind 127.0.0.1:0, read the port, close. Another process
/// may take it before Prometheus binds it; the caller retries on "address already in use".
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  auto* generic = reinterpret_cast<sockaddr*>(&addr);
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, generic, sizeof addr) == 0 && ::getsockname(fd, generic, &len) == 0;
  ::close(fd);
  REQUIRE(ok);
  return ntohs(addr.sin_port);
}

/// Counts scrapes of the exporter, so the test can wait for "the next scrape" with a bound.
class ScrapeEvents {
 public:
  void record() {
    {
      const std::lock_guard lock(mutex_);
      ++count_;
    }
    cv_.notify_all();
  }
  [[nodiscard]] int count() const {
    const std::lock_guard lock(mutex_);
    return count_;
  }
  /// Waits until more than `seen` scrapes happened, at most `bound`.
  bool wait_beyond(int seen, std::chrono::milliseconds bound) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, bound, [&] { return count_ > seen; });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  int count_ = 0;
};

/// The Prometheus child process; SIGTERM and reaped (bounded) on destruction.
class PrometheusProcess {
 public:
  PrometheusProcess(const std::vector<std::string>& args, const std::string& log_file) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> argv;
    std::vector<std::string> storage = args;
    argv.reserve(storage.size() + 1);
    for (auto& a : storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, kPrometheus, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) pid_ = -1;
  }
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;
  PrometheusProcess(PrometheusProcess&&) = delete;
  PrometheusProcess& operator=(PrometheusProcess&&) = delete;
  ~PrometheusProcess() { stop(); }

  [[nodiscard]] bool started() const { return pid_ > 0; }

  /// True when the child has exited (reaps it).
  bool exited() {
    if (pid_ <= 0) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    return false;
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const pid_t pid = pid_;
    auto reaped = std::async(std::launch::async, [pid] {
      int status = 0;
      return ::waitpid(pid, &status, 0);
    });
    if (reaped.wait_for(20s) != std::future_status::ready) {
      ::kill(pid, SIGKILL);
      reaped.wait();
    }
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

/// Exposition text: counters growing linearly with time, 7/s for svco-a and 3/s for svco-b.
std::string exposition(std::chrono::steady_clock::time_point start) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return fmt::format(
      "# HELP qfscale_test_requests_total Requests served.\n"
      "# TYPE qfscale_test_requests_total counter\n"
      "qfscale_test_requests_total{{service=\"svco-a\"}} {:.6f}\n"
      "qfscale_test_requests_total{{service=\"svco-b\"}} {:.6f}\n"
      "qfscale_test_requests_total{{service=\"svco-unmanaged\"}} {:.6f}\n",
      1000 + 7 * elapsed, 3 * elapsed, 11 * elapsed);
}

TEST_SUITE("prometheus") {
  TEST_CASE("prometheus: PrometheusQpsSource reads rate() from a real Prometheus server") {
    if (!std::filesystem::exists(kPrometheus)) {
      MESSAGE("skipped: " << kPrometheus << " is not installed (Debian package prometheus)");
      return;
    }
    test::TempDir dir("qfscale-prometheus-");
    ScrapeEvents scrapes;
    const auto start = std::chrono::steady_clock::now();
    http::Router router;
    router.add("GET", "/metrics", [&](const http::Request&) {
      scrapes.record();
      return http::text_response(200, exposition(start));
    });
    auto exporter = http::start_server(http::ServerOptions{}, std::move(router));
    REQUIRE_MESSAGE(exporter.has_value(), (exporter ? "" : exporter.error().to_string()));

    const std::string prometheus_yml = fmt::format(
        "global:\n"
        "  scrape_interval: 1s\n"
        "  evaluation_interval: 1s\n"
        "scrape_configs:\n"
        "  - job_name: qfscale_test\n"
        "    static_configs:\n"
        "      - targets: ['{}']\n",
        (*exporter)->address());
    REQUIRE(util::write_file_atomic(dir.file("prometheus.yml"), prometheus_yml).has_value());

    // Start Prometheus on a free port; retry when another process took the port first.
    std::unique_ptr<PrometheusProcess> prometheus;
    std::uint16_t port = 0;
    for (int attempt = 0; attempt < 3 && !prometheus; ++attempt) {
      port = free_port();
      auto p = std::make_unique<PrometheusProcess>(
          std::vector<std::string>{kPrometheus, "--config.file=" + dir.file("prometheus.yml"),
                                   "--storage.tsdb.path=" + dir.file("data"),
                                   fmt::format("--web.listen-address=127.0.0.1:{}", port),
                                   "--log.level=warn"},
          dir.file("prometheus.log"));
      REQUIRE(p->started());
      // Ready means it scraped us once. Check every second whether it died instead.
      bool scraped = false;
      for (int second = 0; second < 60 && !scraped; ++second) {
        scraped = scrapes.wait_beyond(0, 1s);
        if (!scraped && p->exited()) break;
      }
      if (scraped) {
        prometheus = std::move(p);
        break;
      }
      const auto log = util::read_file(dir.file("prometheus.log")).value_or("");
      if (log.find("address already in use") == std::string::npos) {
        FAIL("Prometheus did not scrape within 60 s; its log:\n" << log);
      }
    }
    REQUIRE_MESSAGE(prometheus, "no free port for Prometheus after 3 attempts");

    auto client = http::make_client(http::ClientOptions{});
    REQUIRE(client.has_value());
    const PrometheusConfig base{
        .base_url = fmt::format("http://127.0.0.1:{}", port),
        .query = "sum by (service) (rate(qfscale_test_requests_total[10s]))",
        .timeout = 5s};
    auto source = make_prometheus_source(base, **client);
    REQUIRE(source.has_value());
    const std::vector<ServiceId> services = {ServiceId("svco-a"), ServiceId("svco-b"),
                                             ServiceId("svco-not-exported")};

    // rate(x[10s]) divides by the whole 10 s range, so it only reads 7/s once scrapes cover the
    // window: wait for 13 scrapes (12 one-second intervals), each wait bounded. Then read after
    // each further scrape until both services have a sample, for at most 30 scrapes.
    while (scrapes.count() < 13) REQUIRE(scrapes.wait_beyond(scrapes.count(), 10s));
    std::vector<QpsReading> readings;
    for (int i = 0; i < 30; ++i) {
      readings = (*source)->read(services, std::chrono::system_clock::now());
      if (readings[0].has_value() && readings[1].has_value()) break;
      REQUIRE(scrapes.wait_beyond(scrapes.count(), 10s));
    }
    REQUIRE(readings.size() == 3);
    REQUIRE_MESSAGE(readings[0].has_value(), readings[0].error().message);
    REQUIRE_MESSAGE(readings[1].has_value(), readings[1].error().message);
    // Linear counters: 7/s and 3/s; scrape jitter and rate() extrapolation stay within 15 %
    // once the window is covered.
    MESSAGE("svco-a " << readings[0]->qps << " /s, svco-b " << readings[1]->qps << " /s");
    CHECK(readings[0]->qps == doctest::Approx(7.0).epsilon(0.15));
    CHECK(readings[1]->qps == doctest::Approx(3.0).epsilon(0.15));
    REQUIRE(!readings[2].has_value());
    CHECK(readings[2].error().kind == FailureKind::Missing);

    // One Prometheus serves every check below; SUBCASEs would restart it per subcase.
    {
      INFO("a per-service query override is read with its own request");
      auto config = base;
      config.per_service_queries.emplace(
          ServiceId("svco-b"), R"(sum(rate(qfscale_test_requests_total{service="svco-a"}[10s])))");
      auto overridden = make_prometheus_source(config, **client);
      REQUIRE(overridden.has_value());
      const auto r = (*overridden)->read(services, std::chrono::system_clock::now());
      REQUIRE(r[1].has_value());
      CHECK(r[1]->qps == doctest::Approx(7.0).epsilon(0.15));
    }
    {
      INFO("a PromQL syntax error is a query error with Prometheus's errorType");
      auto config = base;
      config.query = "sum by (service) (rate(qfscale_test_requests_total[10s])";
      auto bad = make_prometheus_source(config, **client);
      REQUIRE(bad.has_value());
      const auto r = (*bad)->read(services, std::chrono::system_clock::now());
      REQUIRE(!r[0].has_value());
      CHECK(r[0].error().kind == FailureKind::QueryError);
      CHECK(r[0].error().error_type == "bad_data");
      CHECK(r[0].error().http_status == 400);
    }
    {
      INFO("a range selector returns a matrix, which is malformed for us");
      auto config = base;
      config.query = "qfscale_test_requests_total[5s]";
      auto matrix = make_prometheus_source(config, **client);
      REQUIRE(matrix.has_value());
      const auto r = (*matrix)->read(services, std::chrono::system_clock::now());
      REQUIRE(!r[0].has_value());
      CHECK(r[0].error().kind == FailureKind::Malformed);
      CHECK(r[0].error().message.find("matrix") != std::string::npos);
    }
    {
      INFO("a port nobody listens on is a transport failure");
      auto config = base;
      config.base_url = fmt::format("http://127.0.0.1:{}", free_port());
      auto closed = make_prometheus_source(config, **client);
      REQUIRE(closed.has_value());
      const auto r = (*closed)->read(services, std::chrono::system_clock::now());
      REQUIRE(!r[0].has_value());
      CHECK(r[0].error().kind == FailureKind::Transport);
    }

    prometheus->stop();
    (*exporter)->stop();
  }
}

}  // namespace
}  // namespace qfscale::demand
