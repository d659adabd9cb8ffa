#pragma once

// Shared helpers for the controller config tests: an in-memory file system, a compact config
// template whose sections sit on known lines, and diagnostics as comparable strings.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "qfscale/controller/config.h"
#include "qfscale/util/file.h"

namespace qfscale::controller::test {

/// A FileReader over a map of absolute path -> content; a missing path is InvalidInput like
/// util::read_file's "cannot open".
struct MemoryFiles {
  std::map<std::string, std::string> files;
  mutable std::vector<std::string> reads;  ///< every path read, in order
  [[nodiscard]] FileReader reader() const {
    return [this](const std::string& path) -> Result<std::string> {
      reads.push_back(path);
      auto it = files.find(path);
      if (it == files.end()) {
        return fail(ErrorCode::InvalidInput,
                    fmt::format("cannot open {}: No such file or directory", path));
      }
      return it->second;
    };
  }
};

inline const util::ZoneSource& zones() {
  static const util::ZoneSource z = util::system_zone_source();
  return z;
}

/// The one-line sections of the template config; lines 3..7 hold qianfan, metrics, instances,
/// services and loop. `instance` is added to the second instance (cu-b), `service` to svc-1.
struct Parts {
  std::string qianfan;
  std::string metrics = "prometheus: {url: http://prom:9090, query: q}";
  std::string instance;
  std::string service;
  std::string loop;
};
inline constexpr int kQianfanLine = 3;
inline constexpr int kMetricsLine = 4;
inline constexpr int kInstancesLine = 5;
inline constexpr int kServicesLine = 6;
inline constexpr int kLoopLine = 7;

inline std::string make_config(const Parts& p) {
  const auto more = [](const std::string& s) { return s.empty() ? s : ", " + s; };
  return fmt::format(
      "apiVersion: qfscale/v1\n"
      "kind: ControllerConfig\n"
      "qianfan: {{{}}}\n"
      "metrics: {{{}}}\n"
      "instances: [{{id: cu-a}}, {{id: cu-b{}}}]\n"
      "services: [{{id: svc-1, instances: [cu-a]{}}}]\n"
      "loop: {{{}}}\n",
      p.qianfan, p.metrics, more(p.instance), more(p.service), p.loop);
}

/// Diagnostics as "line:col: path: message" (file omitted).
inline std::vector<std::string> lines_of(const util::Diagnostics& ds) {
  std::vector<std::string> out;
  for (const auto& d : ds) {
    out.push_back(fmt::format("{}:{}: {}: {}", d.line, d.column, d.path, d.message));
  }
  return out;
}

/// Lines joined with newlines, so that a failed comparison prints every line.
inline std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

inline constexpr std::string_view kConfigFile = "/etc/qfscale/qfscale.yaml";

inline tl::expected<Config, util::Diagnostics> parse(std::string_view text,
                                                     const MemoryFiles& files = {}) {
  return parse_config(text, std::string(kConfigFile), files.reader(), zones());
}

}  // namespace qfscale::controller::test
