// `qfscale describe | scale | modify | services | compute-unit`: the Qianfan console actions by
// hand. Wiring only: the real HTTP client, the system clock and the Qianfan client; output as
// text for people or JSON for scripts. Exit codes: 0 ok, 1 the API refused, 2 usage, config or
// network.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "qfscale/bce/signer.h"
#include "qfscale/http/client.h"
#include "qfscale/model/units.h"
#include "qfscale/policy/duration.h"
#include "qfscale/qianfan/api.h"
#include "qfscale/qianfan/errors.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/json_writer.h"
#include "qfscale/util/random.h"

#include "cli/command.h"
#include "cli/usage.h"

namespace qfscale::cli {
namespace {

using util::JsonObjectWriter;

/// Bounds a whole command, retries included, when --timeout is not given.
constexpr std::chrono::seconds kDefaultCommandTimeout{30};

struct ApiOptions {
  std::string endpoint;
  std::string ca_file;
  std::string output = "text";
  std::chrono::seconds timeout = kDefaultCommandTimeout;
};

void add_common_options(CLI::App* cmd, ApiOptions& options) {
  cmd->add_option("--endpoint", options.endpoint,
                  "Qianfan console API base URL (default: $QIANFAN_CONSOLE_API_BASE_URL, else "
                  "https://qianfan.baidubce.com)");
  cmd->add_option("--ca-file", options.ca_file, "Extra CA certificate (PEM) to trust")
      ->check(CLI::ExistingFile);
  cmd->add_option("--output,-o", options.output, "Output format")
      ->check(CLI::IsMember({"text", "json"}));
  add_positive_duration_option(
      *cmd, "--timeout", options.timeout,
      fmt::format("Give up on the whole command, retries included, after this long "
                  "(e.g. 10s, 2m) [{}]",
                  policy::format_duration(kDefaultCommandTimeout)));
  cmd->footer(
      "Credentials come from QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY.\n"
      "Exit status: 0 ok, 1 the API refused the request, 2 usage, configuration or network.");
}

// Everything a command needs to call the API; owns the HTTP client the API borrows.
struct Session {
  std::unique_ptr<http::Client> http;
  util::SystemClock clock;
  util::Random random{std::random_device{}()};
  std::unique_ptr<qianfan::QianfanApi> api;
};

void print_error(std::string_view what, const Error& error) {
  std::fprintf(stderr, "qfscale: %s failed: %s\n", std::string(what).c_str(),
               error.to_string().c_str());
  if (!error.request_id.empty()) {
    std::fprintf(stderr, "  requestId: %s (quote it when asking Baidu support)\n",
                 error.request_id.c_str());
  }
  if (const auto hint = qianfan::advice(error); !hint.empty()) {
    std::fprintf(stderr, "  hint: %s\n", std::string(hint).c_str());
  }
}

int exit_code_for(const Error& error) { return error.code == ErrorCode::Remote ? 1 : 2; }

// Builds the session, or prints why not and returns empty.
std::unique_ptr<Session> open_session(const ApiOptions& options) {
  auto credentials = bce::Credentials::from_environment();
  if (!credentials) {
    std::fprintf(stderr,
                 "qfscale: %s\n  hint: export QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY (an access "
                 "key pair from the Baidu AI Cloud console)\n",
                 credentials.error().to_string().c_str());
    return nullptr;
  }
  auto session = std::make_unique<Session>();
  auto http =
      http::make_client(http::ClientOptions{.connect_timeout = std::min<std::chrono::milliseconds>(
                                                std::chrono::seconds{5}, options.timeout),
                                            .ca_file = options.ca_file});
  if (!http) {
    std::fprintf(stderr, "qfscale: cannot create the HTTP client: %s\n",
                 http.error().to_string().c_str());
    return nullptr;
  }
  session->http = std::move(*http);
  auto api =
      qianfan::make_qianfan_client(qianfan::ClientConfig{.credentials = std::move(*credentials),
                                                         .base_url = options.endpoint,
                                                         .request_timeout = options.timeout},
                                   *session->http, session->clock, session->random);
  if (!api) {
    std::fprintf(stderr, "qfscale: %s\n", api.error().to_string().c_str());
    return nullptr;
  }
  session->api = std::move(*api);
  return session;
}

// Runs `body(api)` with a session within options.timeout; sets the exit code. The body runs on
// a worker thread because nothing else bounds every step (name resolution cannot be cancelled,
// retries add up): at the deadline the command reports the timeout and the process exits with
// 2, abandoning the call in flight.
template <class F>
void run(Context& context, std::string_view what, const ApiOptions& options, F&& body) {
  auto session = open_session(options);
  if (!session) {
    context.exit_code = 2;
    return;
  }
  std::packaged_task<int()> task([&] { return body(*session->api); });
  auto result = task.get_future();
  std::thread worker(std::move(task));
  if (result.wait_for(options.timeout) == std::future_status::ready) {
    worker.join();
    context.exit_code = result.get();
    return;
  }
  std::fprintf(stderr,
               "qfscale: %s timed out after %s (--timeout): the Qianfan endpoint did not answer "
               "in time\n  hint: check network access to the endpoint, or allow longer with "
               "--timeout\n",
               std::string(what).c_str(), policy::format_duration(options.timeout).c_str());
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(2);  // the worker is blocked in the call; returning would wait for it
}

std::string service_json(const qianfan::ServiceInfo& s) {
  const auto& rc = s.resource_config;
  const std::string resource = JsonObjectWriter{}
                                   .string("region", rc.region)
                                   .string("type", rc.type)
                                   .integer("replicasCount", rc.replicas.value)
                                   .number("qps", rc.qps)
                                   .finish();
  return JsonObjectWriter{}
      .string("serviceId", s.service_id.value)
      .string("baseModel", s.base_model)
      .string("modelSetId", s.model_set_id)
      .string("modelId", s.model_id)
      .string("name", s.name)
      .string("description", s.description)
      .string("url", s.url)
      .string("serviceType", s.service_type)
      .string("runStatus", s.run_status_text)
      .string("chargeType", s.charge_type)
      .string("payType", s.pay_type)
      .string("chargeStatus", s.charge_status)
      .raw("resourceConfig", resource)
      .boolean("isModelUpdating", s.is_model_updating)
      .string("creator", s.creator)
      .string("createTime", s.create_time)
      .finish();
}

std::string or_dash(std::string_view s) { return s.empty() ? std::string("-") : std::string(s); }

void print_service_text(const qianfan::ServiceInfo& s) {
  const auto& rc = s.resource_config;
  fmt::print("Service     {} ({})\n", s.service_id, or_dash(s.name));
  fmt::print("Status      {}{}\n", or_dash(s.run_status_text),
             s.is_model_updating ? " (model update in progress: autoscaling pauses)" : "");
  fmt::print("Model       {} / {}{}\n", or_dash(s.model_set_id), or_dash(s.model_id),
             s.base_model.empty() ? "" : fmt::format(" (base {})", s.base_model));
  const auto per = model::units_per_replica(rc.type);
  fmt::print("Replicas    {} x {}{}, sized for {} QPS each ({} QPS in total)\n", rc.replicas,
             or_dash(rc.type),
             per ? fmt::format(" = {} compute units", rc.replicas * *per) : std::string(), rc.qps,
             rc.qps * rc.replicas.value);
  if (!rc.region.empty()) fmt::print("Region      {}\n", rc.region);
  fmt::print("Type        {}\n", or_dash(s.service_type));
  fmt::print("Billing     {} / {} / {}\n", or_dash(s.charge_type), or_dash(s.pay_type),
             or_dash(s.charge_status));
  if (!s.url.empty()) fmt::print("URL         {}\n", s.url);
  fmt::print("Created     {}{}\n", or_dash(s.create_time),
             s.creator.empty() ? "" : fmt::format(" by {}", s.creator));
}

void add_describe(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("describe", "Show one service (DescribeService)");
  auto service = std::make_shared<std::string>();
  auto options = std::make_shared<ApiOptions>();
  cmd->add_option("SERVICE", *service, "Service id, e.g. svco-ktth9mkb5cqn")->required();
  add_common_options(cmd, *options);
  cmd->callback([&context, service, options] {
    run(context, "describe", *options, [&](qianfan::QianfanApi& api) {
      auto got = api.describe_service(model::ServiceId{*service});
      if (!got) {
        print_error("describe", got.error());
        return exit_code_for(got.error());
      }
      if (options->output == "json") {
        fmt::print("{}\n", service_json(*got));
      } else {
        print_service_text(*got);
      }
      return 0;
    });
  });
}

void print_ack(const ApiOptions& options, const qianfan::Ack& ack, const std::string& text) {
  if (options.output == "json") {
    fmt::print(
        "{}\n",
        JsonObjectWriter{}.string("requestId", ack.request_id).boolean("result", true).finish());
  } else {
    fmt::print("{} (requestId {})\n", text, or_dash(ack.request_id));
  }
}

void add_scale(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand(
      "scale", "Set a service's replica count on one compute-unit instance (ScaleService)");
  struct Args {
    std::string service;
    std::string instance;
    int replicas = 0;
    ApiOptions options;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("SERVICE", args->service, "Service id")->required();
  cmd->add_option("--instance", args->instance, "Compute-unit instance id, e.g. unit-gdqb1Fot")
      ->required();
  cmd->add_option("--replicas", args->replicas,
                  "Absolute replica count on that instance (0 removes the instance)")
      ->required()
      ->check(CLI::Range(0, 100000));
  add_common_options(cmd, args->options);
  cmd->callback([&context, args] {
    run(context, "scale", args->options, [&](qianfan::QianfanApi& api) {
      auto got = api.scale_service({.service = model::ServiceId{args->service},
                                    .instance = model::InstanceId{args->instance},
                                    .replicas = model::Replicas{args->replicas}});
      if (!got) {
        print_error("scale", got.error());
        return exit_code_for(got.error());
      }
      print_ack(args->options, *got,
                fmt::format("{} now has {} replicas on {}", args->service, args->replicas,
                            args->instance));
      return 0;
    });
  });
}

void add_modify(CLI::App& app, Context& context) {
  auto* cmd =
      app.add_subcommand("modify", "Move a service to another model version (ModifyService)");
  struct Args {
    std::string service;
    std::string model_set;
    std::string model;
    ApiOptions options;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("SERVICE", args->service, "Service id")->required();
  cmd->add_option("--model-set", args->model_set, "Model set id, e.g. am-bg7n2rn2gsbb")->required();
  cmd->add_option("--model", args->model, "Model version id, e.g. amv-nsjesf4ez6q5")->required();
  add_common_options(cmd, args->options);
  cmd->callback([&context, args] {
    run(context, "modify", args->options, [&](qianfan::QianfanApi& api) {
      auto got = api.modify_service({.service = model::ServiceId{args->service},
                                     .model_set_id = args->model_set,
                                     .model_id = args->model});
      if (!got) {
        print_error("modify", got.error());
        return exit_code_for(got.error());
      }
      print_ack(args->options, *got,
                fmt::format("{} is moving to {} / {}; it reports isModelUpdating until the new "
                            "version is live",
                            args->service, args->model_set, args->model));
      return 0;
    });
  });
}

void add_services(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("services", "List services, all pages (DescribeServices)");
  struct Args {
    std::string name;
    std::vector<std::string> status;
    ApiOptions options;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--name", args->name, "Only names containing this text");
  cmd->add_option("--status", args->status, "Only these runStatus values (repeatable)")
      ->check(CLI::IsMember({"New", "Deploying", "Serving", "Failed", "Stopped"}));
  add_common_options(cmd, args->options);
  cmd->callback([&context, args] {
    run(context, "services", args->options, [&](qianfan::QianfanApi& api) {
      // A page limit guards against a server that never stops saying isTruncated.
      constexpr int kMaxPages = 1000;
      std::vector<qianfan::ServiceInfo> all;
      qianfan::DescribeServicesRequest request{
          .max_keys = 100, .name = args->name, .run_status = args->status};
      for (int page = 0; page < kMaxPages; ++page) {
        auto got = api.describe_services(request);
        if (!got) {
          print_error("services", got.error());
          return exit_code_for(got.error());
        }
        for (auto& s : got->services) all.push_back(std::move(s));
        if (!got->is_truncated) break;
        request.marker = got->next_marker;
      }
      if (args->options.output == "json") {
        std::string list = "[";
        for (std::size_t i = 0; i < all.size(); ++i) {
          if (i > 0) list += ',';
          list += service_json(all[i]);
        }
        list += ']';
        fmt::print("{}\n", JsonObjectWriter{}.raw("serviceList", list).finish());
        return 0;
      }
      fmt::print("{:<20} {:<24} {:<10} {:<9} {:>8} {:>11}\n", "SERVICE", "NAME", "STATUS", "TYPE",
                 "REPLICAS", "QPS/REPLICA");
      for (const auto& s : all) {
        fmt::print("{:<20} {:<24} {:<10} {:<9} {:>8} {:>11}\n", s.service_id.value, or_dash(s.name),
                   or_dash(s.run_status_text), or_dash(s.resource_config.type),
                   s.resource_config.replicas.value, s.resource_config.qps);
      }
      fmt::print("{} service(s)\n", all.size());
      return 0;
    });
  });
}

void add_compute_unit(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand(
      "compute-unit", "Show a compute-unit instance and the services on it (DescribeComputeUnit)");
  auto instance = std::make_shared<std::string>();
  auto options = std::make_shared<ApiOptions>();
  cmd->add_option("INSTANCE", *instance, "Compute-unit instance id, e.g. unit-gdqb1Fot")
      ->required();
  add_common_options(cmd, *options);
  cmd->callback([&context, instance, options] {
    run(context, "compute-unit", *options, [&](qianfan::QianfanApi& api) {
      auto got = api.describe_compute_unit(model::InstanceId{*instance});
      if (!got) {
        print_error("compute-unit", got.error());
        return exit_code_for(got.error());
      }
      const auto& i = got->instance;
      if (options->output == "json") {
        std::string usage = "[";
        for (std::size_t k = 0; k < got->usage.size(); ++k) {
          const auto& u = got->usage[k];
          if (k > 0) usage += ',';
          usage += JsonObjectWriter{}
                       .string("serviceId", u.service_id.value)
                       .integer("deploymentReplicasCount", u.deployment_replicas_count.value)
                       .integer("computeUnitCount", u.compute_unit_count.value)
                       .finish();
        }
        usage += ']';
        fmt::print("{}\n", JsonObjectWriter{}
                               .raw("computeUnitInstance",
                                    JsonObjectWriter{}
                                        .string("instanceId", i.instance_id.value)
                                        .string("region", i.region)
                                        .string("type", i.type)
                                        .string("status", i.status)
                                        .integer("computeUnitCount", i.compute_unit_count.value)
                                        .finish())
                               .raw("serviceUsageList", usage)
                               .integer("freeComputeUnitCount", got->free().value)
                               .finish());
        return 0;
      }
      fmt::print("Instance    {} ({}, {}, region {})\n", i.instance_id, or_dash(i.status),
                 or_dash(i.type), or_dash(i.region));
      fmt::print("Capacity    {} compute units: {} used, {} free\n", i.compute_unit_count,
                 got->used(), got->free());
      if (got->usage.empty()) {
        fmt::print("No service uses this instance.\n");
        return 0;
      }
      fmt::print("{:<20} {:>8} {:>13}\n", "SERVICE", "REPLICAS", "COMPUTE UNITS");
      for (const auto& u : got->usage) {
        fmt::print("{:<20} {:>8} {:>13}\n", u.service_id.value, u.deployment_replicas_count,
                   u.compute_unit_count);
      }
      return 0;
    });
  });
}

}  // namespace

void add_api_commands(CLI::App& app, Context& context) {
  add_describe(app, context);
  add_scale(app, context);
  add_modify(app, context);
  add_services(app, context);
  add_compute_unit(app, context);
}

}  // namespace qfscale::cli
