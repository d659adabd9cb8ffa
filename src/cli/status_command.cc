// `qfscale status [--watch] [-o json|wide] [--controller URL]`: a thin client of a running
// controller's /api/v1/decisions and /readyz, like `kubectl get hpa [-w]`. Wiring only: the
// project's HTTP client, simdjson for the decisions, a table for people. Exit codes: 0 ok,
// 1 the controller answered with an error status, 2 usage or the controller cannot be reached.

#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "qfscale/http/client.h"
#include "qfscale/policy/duration.h"

#include "cli/command.h"
#include "cli/usage.h"

namespace qfscale::cli {
namespace {

constexpr std::string_view kDefaultController = "http://127.0.0.1:9464";

struct StatusOptions {
  std::string controller{kDefaultController};
  std::string output = "table";
  bool watch = false;
  std::optional<int> count;
  std::chrono::seconds interval{2};
};

/// One service's row, from its last decision.
struct Row {
  std::string service;
  std::string at;  ///< the decision time (RFC 3339)
  std::string current;
  std::string recommended;
  std::string desired;
  std::string reason;
  std::string outcome;
  std::string qps;
  std::string replica_qps;
  std::string condition = "ok";  ///< "ok" or the first error's stage/code
  std::string error;             ///< the first error's message
  bool applied = false;          ///< a ScaleService call of this decision was applied

  /// The columns that make a --watch row "changed" (not the time or the QPS).
  [[nodiscard]] std::string key() const {
    return fmt::format("{}|{}|{}|{}|{}|{}", current, recommended, desired, reason, outcome,
                       condition);
  }
};

struct Fetched {
  std::string decisions_body;
  std::string readyz_body;
  std::vector<Row> rows;
};

std::string number_text(simdjson::dom::element e) {
  if (e.is_int64()) return std::to_string(e.get_int64().value());
  if (e.is_uint64()) return std::to_string(e.get_uint64().value());
  if (e.is_double()) return fmt::format("{:.1f}", e.get_double().value());
  return "-";
}

std::string string_at(simdjson::dom::object o, std::string_view key) {
  std::string_view s;
  if (o[key].get_string().get(s) != simdjson::SUCCESS) return "";
  return std::string(s);
}

std::string number_at(simdjson::dom::object o, std::string_view key) {
  simdjson::dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS) return "-";
  return number_text(e);
}

/// "stage code" of the /readyz line "stage code: message" whose message is `message`.
std::string condition_for(std::string_view readyz, std::string_view message) {
  std::size_t start = 0;
  while (start < readyz.size()) {
    auto end = readyz.find('\n', start);
    if (end == std::string_view::npos) end = readyz.size();
    const auto line = readyz.substr(start, end - start);
    start = end + 1;
    const auto colon = line.find(": ");
    if (colon == std::string_view::npos || line.substr(colon + 2) != message) continue;
    auto head = std::string(line.substr(0, colon));
    if (const auto space = head.find(' '); space != std::string::npos) head[space] = '/';
    return head;
  }
  return "error";
}

Result<std::vector<Row>> parse_rows(const std::string& body, std::string_view readyz) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(body).get(doc); err) {
    return tl::unexpected(Error{
        .code = ErrorCode::Remote,
        .message = fmt::format("the decisions are not JSON: {}", simdjson::error_message(err))});
  }
  simdjson::dom::array decisions;
  if (doc["decisions"].get_array().get(decisions) != simdjson::SUCCESS) {
    return tl::unexpected(Error{.code = ErrorCode::Remote,
                                .message = "the decisions JSON has no \"decisions\" array"});
  }
  std::vector<Row> rows;
  for (simdjson::dom::element e : decisions) {
    simdjson::dom::object d;
    if (e.get_object().get(d) != simdjson::SUCCESS) continue;
    Row row;
    row.service = string_at(d, "service");
    row.at = string_at(d, "at");
    simdjson::dom::object inputs;
    if (d["inputs"].get_object().get(inputs) == simdjson::SUCCESS) {
      row.current = number_at(inputs, "current");
      row.qps = number_at(inputs, "qps");
      row.replica_qps = number_at(inputs, "replicaQps");
    }
    row.recommended = number_at(d, "recommended");
    row.reason = string_at(d, "reason");
    row.outcome = string_at(d, "outcome");
    simdjson::dom::object allocation;
    row.desired = d["allocation"].get_object().get(allocation) == simdjson::SUCCESS
                      ? number_at(allocation, "desired")
                      : "-";
    simdjson::dom::array calls;
    if (d["calls"].get_array().get(calls) == simdjson::SUCCESS) {
      for (simdjson::dom::element c : calls) {
        simdjson::dom::object call;
        if (c.get_object().get(call) != simdjson::SUCCESS) continue;
        if (string_at(call, "outcome") == "applied") row.applied = true;
        const auto call_error = string_at(call, "error");
        if (!call_error.empty() && row.error.empty()) {
          row.error = call_error;
          row.condition = "scale/" + string_at(call, "outcome");
        }
      }
    }
    simdjson::dom::array errors;
    if (d["errors"].get_array().get(errors) == simdjson::SUCCESS) {
      for (simdjson::dom::element x : errors) {
        std::string_view message;
        if (x.get_string().get(message) != simdjson::SUCCESS) continue;
        row.error = std::string(message);
        row.condition = condition_for(readyz, message);
        break;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<http::Response> get(http::Client& client, const std::string& base, std::string_view path) {
  return client.send(
      http::ClientRequest{.url = base + std::string(path), .timeout = std::chrono::seconds{10}});
}

Result<Fetched> fetch(http::Client& client, const std::string& base) {
  auto decisions = get(client, base, "/api/v1/decisions");
  if (!decisions) return tl::unexpected(decisions.error());
  if (decisions->status != 200) {
    return tl::unexpected(
        Error{.code = ErrorCode::Remote,
              .message = fmt::format("GET /api/v1/decisions answered {}: {}", decisions->status,
                                     decisions->body.substr(0, 200))});
  }
  Fetched out;
  out.decisions_body = std::move(decisions->body);
  // 503 with the errors when not ready: still a body to read.
  if (auto readyz = get(client, base, "/readyz")) out.readyz_body = std::move(readyz->body);
  auto rows = parse_rows(out.decisions_body, out.readyz_body);
  if (!rows) return tl::unexpected(rows.error());
  out.rows = std::move(*rows);
  return out;
}

void print_header(bool wide) {
  if (wide) {
    fmt::print("{:<20} {:>7} {:>11} {:>7} {:<18} {:<24} {:<22} {:>8} {:>11} {}\n", "SERVICE",
               "CURRENT", "RECOMMENDED", "DESIRED", "REASON", "LAST-SCALE", "CONDITIONS", "QPS",
               "QPS/REPLICA", "ERROR");
  } else {
    fmt::print("{:<20} {:>7} {:>11} {:>7} {:<18} {:<24} {}\n", "SERVICE", "CURRENT", "RECOMMENDED",
               "DESIRED", "REASON", "LAST-SCALE", "CONDITIONS");
  }
}

void print_row(const Row& r, const std::string& last_scale, bool wide) {
  const std::string& scaled = last_scale.empty() ? std::string("-") : last_scale;
  if (wide) {
    fmt::print("{:<20} {:>7} {:>11} {:>7} {:<18} {:<24} {:<22} {:>8} {:>11} {}\n", r.service,
               r.current, r.recommended, r.desired, r.reason, scaled, r.condition, r.qps,
               r.replica_qps, r.error.empty() ? "-" : r.error);
  } else {
    fmt::print("{:<20} {:>7} {:>11} {:>7} {:<18} {:<24} {}\n", r.service, r.current, r.recommended,
               r.desired, r.reason, scaled, r.condition);
  }
}

volatile std::sig_atomic_t g_interrupted = 0;

int run_status(const StatusOptions& options) {
  auto client = http::make_client(
      http::ClientOptions{.connect_timeout = std::chrono::seconds{5}, .max_idle_per_host = 2});
  if (!client) {
    std::fprintf(stderr, "qfscale: cannot create the HTTP client: %s\n",
                 client.error().to_string().c_str());
    return 2;
  }
  std::string base = options.controller;
  while (!base.empty() && base.back() == '/') base.pop_back();

  const bool wide = options.output == "wide";
  const bool json = options.output == "json";
  std::map<std::string, std::string> last_scale;  // service -> decision time of an applied call
  std::map<std::string, std::string> last_key;    // service -> what --watch printed last
  bool header_printed = false;
  if (options.watch) {
    std::signal(SIGINT, [](int) { g_interrupted = 1; });
    std::signal(SIGTERM, [](int) { g_interrupted = 1; });
  }
  for (int polls = 0;; ++polls) {
    if (polls > 0) {
      // Sleep in small steps so Ctrl-C ends the watch at once.
      const auto until = std::chrono::steady_clock::now() + options.interval;
      while (!g_interrupted && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds{100});
      }
      if (g_interrupted) return 0;
    }
    auto fetched = fetch(**client, base);
    if (!fetched) {
      if (fetched.error().code == ErrorCode::Remote) {
        std::fprintf(stderr, "qfscale: %s\n", fetched.error().message.c_str());
        return 1;
      }
      std::fprintf(stderr, "qfscale: cannot reach the controller at %s: %s\n", base.c_str(),
                   fetched.error().message.c_str());
      return 2;
    }
    if (json) {
      std::fputs(fetched->decisions_body.c_str(), stdout);
      if (fetched->decisions_body.empty() || fetched->decisions_body.back() != '\n') {
        std::fputc('\n', stdout);
      }
    } else {
      if (!header_printed) {
        // Under coordination, who this controller is first: "member ctl-c of 3: owns 40
        // services in 21 of 64 shards", "leader (fencing token 57)", "follower: standing by".
        const std::string_view readyz = fetched->readyz_body;
        const auto line = readyz.substr(0, readyz.find('\n'));
        std::string_view role;
        if (line.starts_with("follower:")) role = line;
        if (line.starts_with("leader (")) role = line.substr(0, line.find(')') + 1);
        if (const auto end = line.find(" shards");
            line.starts_with("member ") && end != line.npos) {
          role = line.substr(0, end + 7);
        }
        if (!role.empty()) fmt::print("{}\n", role);
        print_header(wide);
        header_printed = true;
      }
      for (const auto& row : fetched->rows) {
        if (row.applied) last_scale[row.service] = row.at;
        const auto key = row.key();
        auto [it, inserted] = last_key.try_emplace(row.service, key);
        if (options.watch && !inserted && it->second == key) continue;
        it->second = key;
        print_row(row, last_scale[row.service], wide);
      }
      if (fetched->rows.empty() && polls == 0) std::fputs("(no decisions yet)\n", stdout);
    }
    std::fflush(stdout);
    if (!options.watch) return 0;
    if (options.count && polls + 1 >= *options.count) return 0;
  }
}

}  // namespace

void add_status_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<StatusOptions>();
  auto* cmd = app.add_subcommand(
      "status", "Show a running controller's last decision per service (like kubectl get hpa)");
  cmd->add_option(
      "--controller", options->controller,
      fmt::format("Base URL of the running controller's endpoints [{}]", kDefaultController));
  cmd->add_option("--output,-o", options->output,
                  "table (default); wide adds QPS, QPS/REPLICA and the error message; json "
                  "prints /api/v1/decisions as received")
      ->check(CLI::IsMember({"table", "wide", "json"}));
  cmd->add_flag("--watch,-w", options->watch,
                "Poll again every --interval and print a row only when it changed, until Ctrl-C");
  cmd->add_option_function<int>(
         "--count", [options](int n) { options->count = n; },
         "With --watch: stop after this many polls")
      ->check(CLI::PositiveNumber);
  add_positive_duration_option(
      *cmd, "--interval", options->interval,
      "With --watch: time between polls; use the controller's loop interval [2s]");
  cmd->footer(
      "Columns: CURRENT replicas observed, RECOMMENDED by the policy engine, DESIRED after the\n"
      "compute-unit allocation, REASON of the last decision, LAST-SCALE the decision time of the\n"
      "last tick seen by this command in which a ScaleService call was applied ('-' when none:\n"
      "the controller keeps only each service's last decision), CONDITIONS 'ok' or the first\n"
      "error's stage/code (from /readyz).\n"
      "Exit status: 0 ok, 1 the controller answered with an error, 2 usage or the controller\n"
      "cannot be reached.");
  cmd->callback([options, &context] { context.exit_code = run_status(*options); });
}

}  // namespace qfscale::cli
