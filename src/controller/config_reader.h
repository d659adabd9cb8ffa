#pragma once

// Private: the controller config loader (config.h). One ConfigReader per load: it reads the
// sections in dependency order (metrics before services, so that per-service `query`/`trace`
// can be checked against the source kind), then cross-checks, then loads the policies.
// Split over config.cc (root, qianfan, instances, services, loop), config_metrics.cc and
// config_policies.cc.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qfscale/controller/config.h"

#include "util/yaml_reader.h"

namespace qfscale::controller::detail {

using util::yaml::Fields;

/// A service as read, before its policy is loaded (a Policy has no empty state).
struct ServiceDraft {
  std::string path;  ///< "services[2]"
  model::ServiceId id;
  std::string policy_ref{kDefaultPolicy};
  std::string policy_file;  ///< set when the policy loads from a file
  std::vector<model::InstanceId> instances;
  int priority = 0;
  int weight = 1;
  std::optional<model::ComputeUnits> units_per_replica;
  std::optional<std::string> query;  ///< Prometheus only
  std::optional<std::string> trace;  ///< trace only, absolute
};

class ConfigReader : public util::yaml::YamlReader {
 public:
  ConfigReader(const std::string& file_name, const FileReader& read, const util::ZoneSource& zones,
               const OutputPathCheck& check_output);

  tl::expected<Config, util::Diagnostics> load(std::string_view text);

  /// `p` against the config file's directory, absolute and normalised.
  [[nodiscard]] std::string resolve(const std::string& p) const;

 private:
  // config.cc
  void read_root(const YAML::Node& root);
  void read_qianfan(const YAML::Node& node);
  void read_instances(const YAML::Node& node);
  void read_services(const YAML::Node& node);
  /// False when the service has no usable id (it is then left out of the cross-checks).
  bool read_service(const YAML::Node& node, ServiceDraft& s);
  void read_service_instances(const YAML::Node& node, ServiceDraft& s);
  void read_loop(const YAML::Node& node);
  // config_coordination.cc
  void read_coordination(const YAML::Node& node);
  /// A non-empty string resolved against the config's directory.
  bool read_path(const YAML::Node& node, const std::string& path, std::string& out);
  /// read_path, then `check_output_` on the result.
  void read_output_path(const YAML::Node& node, const std::string& path, std::string& out);
  /// read_path, then the file must be readable and hold at least one PEM certificate.
  void read_ca_file(const YAML::Node& node, const std::string& path, std::string& out);
  /// An integer in [lo, hi], reported as "v is out of range, must be in [lo, hi]".
  void read_int(const Fields& f, const std::string& path, std::string_view key, int lo, int hi,
                int& out);
  /// A duration in [lo, hi].
  void read_seconds(const Fields& f, const std::string& path, std::string_view key,
                    std::chrono::seconds lo, std::chrono::seconds hi, std::chrono::seconds& out);
  void read_bytes(const YAML::Node& node, const std::string& path, std::uint64_t& out);

  // config_metrics.cc
  void read_metrics(const YAML::Node& node);
  void read_prometheus(const YAML::Node& node);
  void read_trace(const YAML::Node& node);
  void read_synthetic(const YAML::Node& node);
  /// After the services: per-service queries and traces, then each source's own validation.
  void check_metrics();
  /// Reports `problems` ("<prefix>field: text; field: text") at `section.<key>` for the fields
  /// in `keys` (C++ name -> YAML key), else at `section`.
  void report_problems(const std::string& section, std::string_view prefix,
                       std::string_view problems,
                       const std::vector<std::pair<std::string_view, std::string_view>>& keys);

  // config_policies.cc
  /// Each service's policy, in `services_` order (nullopt where it failed, reported). Each
  /// distinct policy is read and loaded once.
  std::vector<std::optional<policy::Policy>> load_policies();

  std::string file_name_;
  std::filesystem::path dir_;
  const FileReader& read_file_;
  const util::ZoneSource& zones_;
  const OutputPathCheck& check_output_;
  Config config_;
  std::optional<MetricSourceKind> kind_;  ///< set when exactly one source parsed
  std::vector<ServiceDraft> services_;
  util::Diagnostics policy_diagnostics_;  ///< from policy files, in order of first use
};

}  // namespace qfscale::controller::detail
