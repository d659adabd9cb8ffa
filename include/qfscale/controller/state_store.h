#pragma once

/// The persisted engine state of every service, so a restart inside a stabilization window or a
/// rate-limit period behaves as if the controller had never stopped (docs/DESIGN.md "Report").
///
/// The file is one JSON document: `{"version": 1, "savedAt": "<RFC 3339>", "services":
/// {"<id>": {samples, recommendations, scaleEvents, lastObservedAt, lastObserved, panicLastOver,
/// panicMax, metricFailures, idleSince}}}`, times as Unix milliseconds (sub-millisecond parts
/// are floored), absent optionals as null, every key always present. It is written to a
/// temporary file in the same directory, fsynced, renamed over the old one, and the directory is
/// fsynced: after a crash at any point the file is either the old or the new state, never a torn
/// one.

#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "qfscale/model/ids.h"
#include "qfscale/policy/engine.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/result.h"

namespace qfscale::controller {

using EngineStates = std::map<model::ServiceId, policy::EngineState>;

/// The document as text (exposed for tests and the fuzz target).
[[nodiscard]] std::string encode_states(const EngineStates& states, util::SystemTime saved_at);
/// InvalidInput naming what is wrong and its JSON path (`services["svc-1"].samples[3].qps:
/// expected a number, got a string`) for anything but a document `encode_states` could have
/// written from an engine's state: version other than 1, missing, unknown or duplicate keys,
/// wrong types, negative counts or QPS, times out of range. Unknown services are kept: the
/// controller drops what it does not manage.
[[nodiscard]] Result<EngineStates> decode_states(std::string_view text);

/// The state file. `EtcdStateStore` (etcd_state_store.h) keeps the same states in etcd instead.
/// Thread-safety: not synchronised; the controller's loop thread owns it.
class StateStore {
 public:
  explicit StateStore(std::string path) : path_(std::move(path)) {}
  virtual ~StateStore() = default;
  StateStore(const StateStore&) = default;
  StateStore& operator=(const StateStore&) = default;
  StateStore(StateStore&&) = default;
  StateStore& operator=(StateStore&&) = default;

  /// The saved states; an empty map when the file does not exist (first start). A file that
  /// exists but cannot be read or decoded is an error: the caller decides (the controller
  /// refuses to start rather than forget stabilization history silently).
  [[nodiscard]] virtual Result<EngineStates> load() const;
  /// Atomically replaces the file (see above).
  [[nodiscard]] virtual Status save(const EngineStates& states, util::SystemTime now) const;

  /// Where the states are, for messages ("/var/lib/qfscale/state.json", "etcd /qfscale/state/").
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace qfscale::controller
