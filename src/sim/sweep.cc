#include "qfscale/sim/sweep.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "qfscale/util/concurrency.h"
#include "qfscale/util/json_string.h"
#include "qfscale/util/json_writer.h"

namespace qfscale::sim {
namespace {

using util::json_number;

constexpr std::string_view kSyntax =
    "must be FIELD=FROM:TO:STEP, e.g. target.utilization=0.30:0.95:0.05";

/// A finite number as written, and how many decimals it was written with.
struct Written {
  double value = 0;
  int decimals = 0;
};

std::optional<Written> parse_number(std::string_view text) {
  double v = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end || !std::isfinite(v)) return std::nullopt;
  // Exponents are accepted; their decimals do not count (1e-3 rounds like 0.001 would not).
  const auto dot = text.find('.');
  const auto exp = text.find_first_of("eE");
  int decimals = 0;
  if (dot != std::string_view::npos) {
    decimals = static_cast<int>((exp == std::string_view::npos ? text.size() : exp) - dot - 1);
  }
  if (exp != std::string_view::npos) decimals = 15;
  return Written{v, std::min(decimals, 15)};
}

/// `v` rounded to `decimals` decimal places, as the nearest double to that decimal.
double round_to(double v, int decimals) {
  const auto text = fmt::format("{:.{}f}", v, decimals);
  double out = v;
  std::from_chars(text.data(), text.data() + text.size(), out);
  return out;
}

/// The figures of one run at one point.
CurvePoint point_of(double value, const SimulationResult& result) {
  CurvePoint p{.value = value};
  double requests = 0;
  double late = 0;
  for (const auto& s : result.services) {
    const auto& q = s.summary.queue;
    requests += q.requests;
    late += q.late;
    p.compute_unit_hours += s.summary.compute_unit_hours;
    p.services.push_back({.slo_attainment_pct = q.attainment_pct(),
                          .compute_unit_hours = s.summary.compute_unit_hours});
  }
  // The same formula as QueueStats::attainment_pct, over the sums.
  p.slo_attainment_pct = requests > 0 ? 100.0 * (requests - late) / requests : 100.0;
  return p;
}

}  // namespace

Result<SweepRange> parse_sweep(std::string_view text) {
  const auto bad = [&](std::string why) {
    return fail(ErrorCode::InvalidInput, fmt::format("'{}' {}", text, why));
  };
  const auto eq = text.find('=');
  if (eq == std::string_view::npos) return bad(std::string(kSyntax));
  const auto field = policy::numeric_field(text.substr(0, eq));
  if (!field) return fail(ErrorCode::InvalidInput, field.error());
  const auto range = text.substr(eq + 1);
  const auto c1 = range.find(':');
  const auto c2 = c1 == std::string_view::npos ? c1 : range.find(':', c1 + 1);
  if (c2 == std::string_view::npos || range.find(':', c2 + 1) != std::string_view::npos) {
    return bad(std::string(kSyntax));
  }
  const auto from = parse_number(range.substr(0, c1));
  const auto to = parse_number(range.substr(c1 + 1, c2 - c1 - 1));
  const auto step = parse_number(range.substr(c2 + 1));
  if (!from) return bad(fmt::format("FROM '{}' is not a number", range.substr(0, c1)));
  if (!to) return bad(fmt::format("TO '{}' is not a number", range.substr(c1 + 1, c2 - c1 - 1)));
  if (!step) return bad(fmt::format("STEP '{}' is not a number", range.substr(c2 + 1)));
  if (step->value <= 0) return bad(fmt::format("STEP {} must be > 0", step->value));
  if (to->value < from->value) {
    return bad(fmt::format("TO {} is below FROM {}", to->value, from->value));
  }
  SweepRange out{.field = *field,
                 .from = from->value,
                 .to = to->value,
                 .step = step->value,
                 .decimals = std::max({from->decimals, to->decimals, step->decimals})};
  const double count = std::floor((out.to - out.from) / out.step + 1e-6) + 1;
  if (count > static_cast<double>(kMaxSweepValues)) {
    return bad(fmt::format("gives {:.0f} values, at most {}", count, kMaxSweepValues));
  }
  return out;
}

std::vector<double> sweep_values(const SweepRange& range) {
  // Counted once, then each value computed from its index: no drift from adding steps.
  const auto count =
      static_cast<std::size_t>(std::floor((range.to - range.from) / range.step + 1e-6)) + 1;
  std::vector<double> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back(round_to(range.from + static_cast<double>(i) * range.step, range.decimals));
  }
  return out;
}

Result<std::vector<Curve>> sweep(std::span<const policy::Policy> policies,
                                 std::span<const ServiceSpec> services, const SweepRange& range,
                                 const util::ZoneSource& zones, const SweepOptions& options) {
  const auto values = sweep_values(range);
  std::vector<Curve> curves(policies.size());
  struct Run {
    std::size_t curve = 0;
    double value = 0;
  };
  std::vector<Run> runs;
  // The variants are built here, on the calling thread (the loader calls `zones`).
  for (std::size_t i = 0; i < policies.size(); ++i) {
    auto& c = curves[i];
    c.policy = policies[i].name();
    c.field = range.field.path;
    for (const double v : values) {
      auto variant = policy::with_field(policies[i].spec(), range.field, v, zones);
      if (!variant) {
        std::vector<std::string> why;
        for (const auto& d : variant.error()) {
          why.push_back(d.path.empty() ? d.message : fmt::format("{}: {}", d.path, d.message));
        }
        c.skipped.push_back({.value = v, .reason = fmt::format("{}", fmt::join(why, "; "))});
        continue;
      }
      c.variants.push_back(std::move(*variant));
      runs.push_back({.curve = i, .value = v});
    }
  }
  // Each run's variant: the k-th run of a curve is its k-th variant.
  std::vector<const policy::Policy*> variant_of(runs.size());
  {
    std::vector<std::size_t> next(curves.size(), 0);
    for (std::size_t r = 0; r < runs.size(); ++r) {
      variant_of[r] = &curves[runs[r].curve].variants[next[runs[r].curve]++];
    }
  }
  SimOptions sim = options.sim;
  sim.timeline = false;
  sim.progress = nullptr;
  std::vector<Result<SimulationResult>> results(runs.size(), fail(ErrorCode::Internal, "not run"));
  std::mutex progress_mutex;
  std::size_t done = 0;
  util::for_each_concurrently(
      runs.size(), static_cast<int>(std::max(1U, options.threads)), [&](std::size_t r) {
        results[r] = simulate(*variant_of[r], services, sim);
        if (options.progress) {
          const std::lock_guard lock(progress_mutex);
          options.progress(++done, runs.size(), curves[runs[r].curve].policy, runs[r].value);
        }
      });
  for (std::size_t r = 0; r < runs.size(); ++r) {
    if (!results[r]) {
      return fail(results[r].error().with_context(fmt::format(
          "{} with {}={}", curves[runs[r].curve].policy, range.field.path, runs[r].value)));
    }
    curves[runs[r].curve].points.push_back(point_of(runs[r].value, *results[r]));
  }
  return curves;
}

double worst_attainment(const CurvePoint& point) {
  double worst = point.slo_attainment_pct;
  if (!point.services.empty()) worst = point.services.front().slo_attainment_pct;
  for (const auto& s : point.services) worst = std::min(worst, s.slo_attainment_pct);
  return worst;
}

std::optional<std::size_t> cheapest_meeting(std::span<const CurvePoint> points, double target_pct) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    if (worst_attainment(p) < target_pct) continue;
    if (!best) {
      best = i;
      continue;
    }
    const auto& b = points[*best];
    if (p.compute_unit_hours < b.compute_unit_hours ||
        (p.compute_unit_hours == b.compute_unit_hours &&
         worst_attainment(p) > worst_attainment(b))) {
      best = i;
    }
  }
  return best;
}

std::optional<double> cost_at_attainment(std::span<const CurvePoint> points, double target_pct) {
  std::optional<double> best;
  const auto consider = [&](double cost) {
    if (!best || cost < *best) best = cost;
  };
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& a = points[i];
    if (a.slo_attainment_pct >= target_pct) consider(a.compute_unit_hours);
    if (i + 1 == points.size()) break;
    const auto& b = points[i + 1];
    // Straddling: one at or above the target, the other below it.
    if ((a.slo_attainment_pct >= target_pct) == (b.slo_attainment_pct >= target_pct)) continue;
    const double f =
        (target_pct - a.slo_attainment_pct) / (b.slo_attainment_pct - a.slo_attainment_pct);
    consider(a.compute_unit_hours + f * (b.compute_unit_hours - a.compute_unit_hours));
  }
  return best;
}

std::vector<AttainmentCosts> attainment_costs(std::span<const Curve> curves) {
  std::vector<AttainmentCosts> out;
  for (const auto& c : curves) {
    AttainmentCosts a{.name = c.policy, .costs = {}};
    for (const double target : kReportedAttainments) {
      a.costs.push_back(cost_at_attainment(c.points, target));
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::string sweep_json_members(std::span<const Curve> curves,
                               std::span<const AttainmentCosts> extra_costs) {
  std::string out = "  \"curves\": [";
  for (std::size_t i = 0; i < curves.size(); ++i) {
    const auto& c = curves[i];
    out += i == 0 ? "\n    {\"policy\": " : ",\n    {\"policy\": ";
    util::append_json_string(out, c.policy);
    out += ", \"field\": ";
    util::append_json_string(out, c.field);
    out += ", \"points\": [";
    for (std::size_t k = 0; k < c.points.size(); ++k) {
      const auto& p = c.points[k];
      out += fmt::format(
          "{}\n      {{\"value\": {}, \"slo_attainment_pct\": {}, \"compute_unit_hours\": {}}}",
          k == 0 ? "" : ",", json_number(p.value), json_number(p.slo_attainment_pct),
          json_number(p.compute_unit_hours));
    }
    out += c.points.empty() ? "], \"skipped\": [" : "\n    ], \"skipped\": [";
    for (std::size_t k = 0; k < c.skipped.size(); ++k) {
      out += fmt::format("{}\n      {{\"value\": {}, \"reason\": ", k == 0 ? "" : ",",
                         json_number(c.skipped[k].value));
      util::append_json_string(out, c.skipped[k].reason);
      out += "}";
    }
    out += c.skipped.empty() ? "]}" : "\n    ]}";
  }
  out += "\n  ],\n  \"cost_at_attainment\": {";
  auto entries = attainment_costs(curves);
  entries.insert(entries.end(), extra_costs.begin(), extra_costs.end());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    out += i == 0 ? "\n    " : ",\n    ";
    util::append_json_string(out, entries[i].name);
    out += ": {";
    for (std::size_t k = 0; k < std::size(kReportedAttainmentKeys); ++k) {
      const auto& cost = k < entries[i].costs.size() ? entries[i].costs[k] : std::nullopt;
      out += fmt::format("{}\"{}\": {}", k == 0 ? "" : ", ", kReportedAttainmentKeys[k],
                         cost ? json_number(*cost) : "null");
    }
    out += "}";
  }
  out += "\n  }";
  return out;
}

}  // namespace qfscale::sim
