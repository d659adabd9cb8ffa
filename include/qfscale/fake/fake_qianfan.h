#pragma once

/// A local fake of the Qianfan console API v2 (docs/QIANFAN-API.md), for development, end-to-end
/// tests and demos. It keeps services and compute-unit instances in a `fake::Cloud` (cloud.h)
/// and answers
///
///   POST /v2/service?Action=DescribeService|DescribeServices|ScaleService|ModifyService|
///                           DescribeServiceMetric
///   POST /v2/computeunit?Action=DescribeComputeUnit
///
/// with the BCE envelope, after verifying the `bce-auth-v1` signature against its credentials
/// and the injected clock. ScaleService enforces compute-unit capacity exactly; new replicas
/// become ready after a startup delay; ModifyService opens a model-update window. Faults
/// (latency, error codes, throttling, dropped connections) come from the scenario or from
/// `/admin/faults` at run time. A traffic endpoint, `/traffic/<serviceId>`, serves at most
/// ready replicas x qps requests per wall-clock second and rejects the rest with 429; its
/// counters are exported at `/metrics` and feed DescribeServiceMetric.
///
/// Every time reading comes from the injected `util::Clock` (a `ManualClock` in tests), and every
/// random decision from a `util::Random` seeded by the scenario, so runs are reproducible.
///
/// Error codes the fake chooses where the documents are silent (ASSUMPTIONS, also listed in
/// `src/fake/fake_qianfan.cc`): unknown or missing `Action` -> 400 `InvalidURI`; unknown service
/// or instance -> 404 `ResourceNotFound`; ScaleService beyond capacity -> 400
/// `InsufficientComputeUnits`; a GPU service on a CPU instance or the reverse -> 400
/// `ResourceTypeMismatch`; ModifyService during a running model update -> 409
/// `ModelUpdateInProgress`; wrong HTTP method -> 405 `MethodNotAllowed`; fault-injected
/// throttling -> 429 `RequestLimitExceeded` with `Retry-After: 1` (the throttling window is one
/// second).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include "qfscale/bce/signer.h"
#include "qfscale/fake/cloud.h"
#include "qfscale/http/message.h"
#include "qfscale/http/server.h"
#include "qfscale/model/ids.h"
#include "qfscale/model/service.h"
#include "qfscale/model/units.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/diagnostic.h"
#include "qfscale/util/result.h"

namespace qfscale::fake {

/// Faults for one action (or for every action without its own entry, under the key "*").
struct ActionFaults {
  std::chrono::milliseconds latency{0};  ///< added to every answer of this action
  /// BCE error code -> probability per request; probabilities sum to at most 1. Known codes
  /// only (see `fault_error_status`), in the order given.
  std::vector<std::pair<std::string, double>> error_rates;
  double drop_rate = 0;  ///< probability of closing the connection without an answer
  /// More than this many requests of this action within one wall-clock second get
  /// 429 RequestLimitExceeded with `Retry-After: 1`. Empty = no throttling.
  std::optional<int> throttle_qps;
  friend bool operator==(const ActionFaults&, const ActionFaults&) = default;
};

/// Action name (or "*") -> faults, in the order given.
struct Faults {
  std::vector<std::pair<std::string, ActionFaults>> actions;
  [[nodiscard]] bool empty() const { return actions.empty(); }
  /// The entry for `action`, else the "*" entry, else nullptr.
  [[nodiscard]] const ActionFaults* find(std::string_view action) const;
  friend bool operator==(const Faults&, const Faults&) = default;
};

/// Everything the fake starts from. Build one in code, take `default_scenario()`, or load a file
/// with `load_scenario`.
struct Scenario {
  std::optional<bce::Credentials> credentials;  ///< required by `FakeQianfan::create`
  std::chrono::milliseconds startup_delay{std::chrono::seconds{30}};
  std::chrono::milliseconds model_update_duration{std::chrono::seconds{60}};
  std::chrono::seconds allowed_clock_skew{300};  ///< how far x-bce-date may be in the future
  std::uint64_t seed = 1;                        ///< fault decisions and request ids
  /// Refuse ScaleService / ModifyService without a fencing token or with one older than the
  /// newest seen (`--fencing`; src/fake/fencing.h); GET /admin/fencing lists every such call.
  bool fencing = false;
  std::vector<InstanceSpec> instances;
  std::vector<ServiceSpec> services;
  Faults faults;
};

/// Three instances and five services of types GPU-I-2, GPU-I-4 and CPU-I-2 sharing them; no
/// credentials (the caller supplies them).
[[nodiscard]] Scenario default_scenario();

/// Problems with a scenario built in code. Each diagnostic has a field `path` such as
/// "services[1].deployments[0].instanceId" and no line (the loader adds lines).
[[nodiscard]] util::Diagnostics validate(const Scenario& scenario);

/// Parses a scenario in YAML or JSON (documented in `src/fake/scenario.cc`). Unknown keys, wrong
/// types and out-of-range values are all reported, each with file:line:column.
[[nodiscard]] tl::expected<Scenario, util::Diagnostics> parse_scenario(std::string_view text,
                                                                       std::string_view file_name);
[[nodiscard]] tl::expected<Scenario, util::Diagnostics> load_scenario(const std::string& path);

/// Parses the fault map (the scenario's `faults` value, or the body of POST /admin/faults).
[[nodiscard]] tl::expected<Faults, util::Diagnostics> parse_faults(std::string_view text,
                                                                   std::string_view source);
/// The JSON form `parse_faults` accepts; what GET /admin/faults returns.
[[nodiscard]] std::string to_json(const Faults& faults);

/// HTTP status of an error code the fault injector may return; empty for codes it does not know.
[[nodiscard]] std::optional<int> fault_error_status(std::string_view code);

/// A fresh random access/secret key pair (from std::random_device) for a fake run.
[[nodiscard]] bce::Credentials generate_credentials();

/// The fake server's logic. Thread-safety: `handle` and every public method may be called
/// concurrently from any number of threads (one internal mutex).
class FakeQianfan {
 public:
  /// InvalidInput when the scenario does not validate or has no credentials.
  [[nodiscard]] static Result<std::unique_ptr<FakeQianfan>> create(Scenario scenario,
                                                                   const util::Clock& clock);
  ~FakeQianfan();
  FakeQianfan(const FakeQianfan&) = delete;
  FakeQianfan& operator=(const FakeQianfan&) = delete;
  FakeQianfan(FakeQianfan&&) = delete;
  FakeQianfan& operator=(FakeQianfan&&) = delete;

  /// Answers one request: the API routes, `/traffic/<serviceId>` (any method), `GET /metrics`,
  /// `GET|POST|DELETE /admin/faults`, `GET /healthz`; anything else 404.
  [[nodiscard]] http::Response handle(const http::Request& request);

  /// A router sending every route above to `handle`. The fake must outlive it.
  [[nodiscard]] http::Router router();

  /// One line per instance ("instance unit-gpua0001 type gpu-1 capacity 16 used 12", foreign
  /// usage included), then per service ("service svco-chatsmall001 type GPU-I-2 replicas
  /// unit-gpua0001=2 unit-gpub0002=1", or "replicas none"), sorted by id: what
  /// `qfscale fake-qianfan` prints at start.
  [[nodiscard]] std::vector<std::string> inventory() const;

  void set_faults(Faults faults);
  [[nodiscard]] Faults faults() const;
  [[nodiscard]] const bce::Credentials& credentials() const;

  /// The address the fake is served on ("127.0.0.1:43211", http::Server::address): from then
  /// on an API request must sign its Host header and send that address or localhost:<port>,
  /// else 400 SignatureDoesNotMatch. Until then any Host is accepted (tests that call `handle`
  /// directly).
  void serve_at(std::string_view address);

 private:
  struct Impl;
  explicit FakeQianfan(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace qfscale::fake
