#include "cli/sweep_output.h"

#include <cstdio>
#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "qfscale/util/file.h"

namespace qfscale::cli {

std::string sweep_help(std::string_view default_text) {
  // The field list wrapped at about 90 columns, like the rest of the help.
  std::string fields = "Fields:";
  std::size_t line = fields.size();
  for (const auto f : policy::numeric_field_patterns()) {
    if (line + f.size() + 2 > 90) {
      fields += "\n";
      line = 0;
    } else {
      fields += " ";
      ++line;
    }
    fields += f;
    line += f.size();
  }
  return fmt::format(
      "Run every policy at every value of one numeric policy field: FIELD=FROM:TO:STEP,\n"
      "e.g. target.utilization=0.30:0.95:0.05 (14 values). FIELD is the YAML path under\n"
      "spec; durations in seconds (metricWindow=30:300:30). A value a policy refuses is\n"
      "skipped with a note.{}\n{}",
      default_text, fields);
}

void add_sweep_options(CLI::App& cmd, std::vector<std::string>& sweeps, bool& quiet,
                       std::string_view default_text) {
  cmd.add_option("--sweep", sweeps, sweep_help(default_text));
  cmd.add_flag("--quiet,-q", quiet, "No progress on stderr");
}

OrExit<std::vector<sim::Curve>> run_sweep(std::string_view command,
                                          std::span<const policy::Policy> policies,
                                          std::span<const sim::ServiceSpec> services,
                                          const sim::SweepRange& range, const sim::SimOptions& sim,
                                          unsigned workers, bool quiet) {
  sim::SweepOptions options{.sim = sim, .threads = workers, .progress = nullptr};
  if (!quiet) {
    options.progress = [&range](std::size_t done, std::size_t total, const std::string& policy,
                                double value) {
      fmt::print(stderr, "sweep: {}/{} {} {}={}\n", done, total, policy, range.field.path,
                 policy::field_value_text(range.field, value));
      std::fflush(stderr);
    };
  }
  auto curves = sim::sweep(policies, services, range, util::system_zone_source(), options);
  if (!curves) {
    print_problem(command, curves.error().to_string());
    return tl::unexpected(2);
  }
  // A policy that refuses every value (balanced sizes for an SLO and has no utilization) keeps
  // its row as written and gets no curve; only when no policy has a curve is the sweep wrong.
  bool any_points = false;
  for (const auto& c : *curves) {
    if (c.points.empty()) {
      print_problem(command, fmt::format("--sweep: policy {} refuses every value of {}, so it has "
                                         "no curve: {}",
                                         c.policy, range.field.path,
                                         c.skipped.empty() ? "" : c.skipped.front().reason));
      continue;
    }
    any_points = true;
    for (const auto& s : c.skipped) {
      print_problem(command,
                    fmt::format("--sweep: skipped {} at {}={}: {}", c.policy, range.field.path,
                                policy::field_value_text(range.field, s.value), s.reason));
    }
  }
  if (!any_points) return tl::unexpected(2);
  return std::move(*curves);
}

std::string cost_at_attainment_table(std::span<const sim::Curve> curves) {
  std::vector<std::vector<std::string>> rows = {{"policy", "swept", "points"}};
  for (const auto& key : sim::kReportedAttainmentKeys) {
    rows[0].push_back(fmt::format("CU-h at {}%", key));
  }
  const auto costs = sim::attainment_costs(curves);
  for (std::size_t i = 0; i < curves.size(); ++i) {
    const auto& c = curves[i];
    std::vector<std::string> row = {c.policy, c.field, fmt::format("{}", c.points.size())};
    for (const auto& cost : costs[i].costs) {
      row.push_back(cost ? fmt::format("{:.2f}", *cost) : std::string("-"));
    }
    rows.push_back(std::move(row));
  }
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (std::size_t k = 0; k < r.size(); ++k) width[k] = std::max(width[k], r[k].size());
  }
  std::string out = "\n";
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t k = 0; k < r.size(); ++k) {
      line +=
          k < 2 ? fmt::format("{:<{}}  ", r[k], width[k]) : fmt::format("{:>{}}  ", r[k], width[k]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  out +=
      "CU-h at N%: the cheapest sweep point reaching N% SLO attainment, or the cost where the "
      "curve crosses N% between two adjacent points (linear); - when no point reaches it.\n";
  return out;
}

}  // namespace qfscale::cli
