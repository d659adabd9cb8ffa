#include "cli/sim_inputs.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "qfscale/policy/duration.h"
#include "qfscale/policy/loader.h"
#include "qfscale/util/concurrency.h"
#include "qfscale/util/file.h"
#include "qfscale/util/time_text.h"

#include "cli/policy_ref.h"

namespace qfscale::cli {

void print_problem(std::string_view command, std::string_view message) {
  fmt::print(stderr, "qfscale {}: {}\n", command, message);
}

OrExit<std::chrono::seconds> duration_option(std::string_view command, std::string_view option,
                                             const std::string& text) {
  auto d = policy::parse_duration(text);
  if (!d) {
    print_problem(command, fmt::format("{} '{}' {}", option, text, d.error()));
    return tl::unexpected(2);
  }
  return *d;
}

namespace {

/// The SLO wait and --abandon-after: both longer than 0s, abandon after longer than the SLO
/// wait (a request abandoned before it could be late would never count as late), and within
/// sim::kMaxAbandonAfter.
OrExit<sim::QueueOptions> queue_options(std::string_view command, const ModelFlags& f) {
  const auto slo = duration_option(command, f.slo_wait_flag, f.slo_wait);
  if (!slo) return tl::unexpected(slo.error());
  const auto abandon = duration_option(command, "--abandon-after", f.abandon_after);
  if (!abandon) return tl::unexpected(abandon.error());
  if (slo->count() <= 0) {
    print_problem(command,
                  fmt::format("{} '{}' must be longer than 0s", f.slo_wait_flag, f.slo_wait));
    return tl::unexpected(2);
  }
  if (*abandon <= *slo) {
    print_problem(command, fmt::format("--abandon-after '{}' must be longer than {} '{}'",
                                       f.abandon_after, f.slo_wait_flag, f.slo_wait));
    return tl::unexpected(2);
  }
  if (*abandon > sim::kMaxAbandonAfter) {
    print_problem(command, fmt::format("--abandon-after '{}' must be at most {}", f.abandon_after,
                                       policy::format_duration(sim::kMaxAbandonAfter)));
    return tl::unexpected(2);
  }
  return sim::QueueOptions{.slo_wait = *slo, .abandon_after = *abandon};
}

}  // namespace

OrExit<Model> check_model(std::string_view command, const ModelFlags& f) {
  if (!std::isfinite(f.replica_qps) || f.replica_qps <= 0) {
    print_problem(command,
                  fmt::format("--replica-qps {} must be a finite number > 0", f.replica_qps));
    return tl::unexpected(2);
  }
  const auto units = model::units_per_replica(f.type);
  if (!units) {
    print_problem(
        command,
        fmt::format("--type '{}' must end in its compute units per replica, e.g. GPU-I-2", f.type));
    return tl::unexpected(2);
  }
  const auto delay = duration_option(command, "--startup-delay", f.startup_delay);
  if (!delay) return tl::unexpected(delay.error());
  const auto tick = duration_option(command, "--tick", f.tick);
  if (!tick) return tl::unexpected(tick.error());
  if (tick->count() <= 0) {
    print_problem(command, fmt::format("--tick '{}' must be longer than 0s", f.tick));
    return tl::unexpected(2);
  }
  std::chrono::seconds span{0};
  if (!f.metric_span.empty()) {
    const auto parsed = duration_option(command, "--metric-span", f.metric_span);
    if (!parsed) return tl::unexpected(parsed.error());
    if (parsed->count() <= 0) {
      print_problem(command,
                    fmt::format("--metric-span '{}' must be longer than 0s", f.metric_span));
      return tl::unexpected(2);
    }
    span = *parsed;
  }
  const auto queue = queue_options(command, f);
  if (!queue) return tl::unexpected(queue.error());
  std::int64_t start = 0;
  if (!f.start.empty()) {
    auto parsed = util::parse_wall_time(f.start);
    if (!parsed) {
      print_problem(command, fmt::format("--start '{}' must be {}", f.start, util::kTimeFormats));
      return tl::unexpected(2);
    }
    start = *parsed;
  }
  return Model{.replica_qps = f.replica_qps,
               .units_per_replica = *units,
               .startup_delay = *delay,
               .tick = *tick,
               .metric_span = span,
               .queue = *queue,
               .start_unix_seconds = start};
}

std::vector<model::ServiceId> service_ids(const std::vector<std::string>& files) {
  std::vector<model::ServiceId> ids;
  std::set<std::string> used;
  for (const auto& f : files) {
    std::string stem = std::filesystem::path(f).stem().string();
    if (stem.empty()) stem = "service";
    std::string id = stem;
    for (int k = 2; !used.insert(id).second; ++k) id = fmt::format("{}-{}", stem, k);
    ids.push_back(model::ServiceId{id});
  }
  return ids;
}

OrExit<std::vector<policy::Policy>> load_policies(std::string_view command,
                                                  const std::vector<std::string>& refs) {
  const auto zones = util::system_zone_source();
  std::vector<policy::Policy> out;
  bool bad = false;
  bool usage_error = false;  // an unknown shipped name: reported with the rest, then exit 2
  for (const auto& ref : refs) {
    auto source = read_policy_ref(ref);
    if (!source) {
      print_problem(command, fmt::format("--policy {}", source.error().message));
      (source.error().unknown_name ? usage_error : bad) = true;
      continue;
    }
    auto p = policy::load_policy(source->text, source->label, zones);
    if (!p) {
      for (const auto& d : p.error()) fmt::print(stderr, "{}\n", d.to_string());
      bad = true;
      continue;
    }
    out.push_back(std::move(*p));
  }
  if (usage_error) return tl::unexpected(2);
  if (bad) return tl::unexpected(1);
  return out;
}

OrExit<std::vector<std::shared_ptr<const trace::Trace>>> load_traces(
    const std::vector<std::string>& files, unsigned workers) {
  std::vector<tl::expected<trace::Trace, util::Diagnostics>> loaded(files.size());
  util::for_each_concurrently(files.size(), static_cast<int>(workers),
                              [&](std::size_t i) { loaded[i] = trace::load_trace(files[i]); });
  std::vector<std::shared_ptr<const trace::Trace>> out;
  bool bad = false;
  for (auto& t : loaded) {
    if (!t) {
      for (const auto& d : t.error()) fmt::print(stderr, "{}\n", d.to_string());
      bad = true;
      continue;
    }
    out.push_back(std::make_shared<const trace::Trace>(std::move(*t)));
  }
  if (bad) return tl::unexpected(1);
  return out;
}

OrExit<sim::SweepRange> sweep_option(std::string_view command,
                                     const std::vector<std::string>& flags) {
  if (flags.size() > 1) {
    print_problem(command, fmt::format("--sweep is given {} times; one field is swept per run "
                                       "(run once per field)",
                                       flags.size()));
    return tl::unexpected(2);
  }
  auto range = sim::parse_sweep(flags.front());
  if (!range) {
    print_problem(command, fmt::format("--sweep {}", range.error().message));
    return tl::unexpected(2);
  }
  return *range;
}

}  // namespace qfscale::cli
