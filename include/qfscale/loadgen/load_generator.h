#pragma once

/// The core of `qfscale loadgen`: replays request rates (`LoadSchedule`) as real HTTP requests.
///
/// Open loop: a pacer thread hands each request to a pool of `concurrency` senders at the time
/// the schedule says, whatever the target answers; the senders share one keep-alive
/// `http::Client`. A request that no sender could start within `max_lag` of its due time is
/// dropped and counted, so a slow target never stretches the schedule. Answers count as `ok`
/// (2xx), `rejected` (429 or 503: the target shed load, as Qianfan does over its QPS limit) or
/// `errors` (any other status, or no answer at all).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "qfscale/http/client.h"
#include "qfscale/loadgen/load_schedule.h"
#include "qfscale/util/result.h"

namespace qfscale::loadgen {

/// One stream of requests: where they go and when.
struct LoadStream {
  std::string name;  ///< for reports, e.g. the service id
  std::string url;   ///< absolute http(s) URL every request of the stream goes to
  LoadSchedule schedule;
};

struct LoadOptions {
  std::vector<LoadStream> streams;  ///< at least one
  std::string method = "GET";
  http::Headers headers;
  std::string body;
  int concurrency = 32;  ///< requests in flight at most, 1..4096
  /// A request not started this long after its due time is dropped.
  std::chrono::milliseconds max_lag{1'000};
  /// Stop after this much wall time; empty = when every schedule has ended (or on stop).
  std::optional<std::chrono::milliseconds> duration;
  /// Progress callback period; zero disables progress reports (the final one still comes).
  std::chrono::milliseconds report_every{10'000};
};

/// Request outcomes. `scheduled` = `sent` + `dropped` once a run has ended.
struct LoadCounts {
  std::uint64_t scheduled = 0;  ///< came due
  std::uint64_t sent = 0;       ///< handed to the HTTP client
  std::uint64_t ok = 0;         ///< 2xx
  std::uint64_t rejected = 0;   ///< 429 or 503
  std::uint64_t errors = 0;   ///< other status, or transport failure (`sent` = ok+rejected+errors)
  std::uint64_t dropped = 0;  ///< not started within max_lag, never sent
  friend bool operator==(const LoadCounts&, const LoadCounts&) = default;
  LoadCounts& operator+=(const LoadCounts& o);
  friend LoadCounts operator-(LoadCounts a, const LoadCounts& b);
};

/// A progress report: totals since the start, and what happened in the last interval.
/// `sent` and outcomes of the interval count requests that finished in it.
struct LoadProgress {
  std::chrono::microseconds elapsed{0};
  LoadCounts total;
  LoadCounts interval;
  std::chrono::microseconds interval_length{0};
  bool final = false;
};

struct LoadReport {
  LoadCounts total;
  std::vector<LoadCounts> per_stream;  ///< in `LoadOptions::streams` order
  std::chrono::microseconds elapsed{0};
  bool stopped = false;    ///< ended by the stop token rather than by schedule or duration
  std::string last_error;  ///< the most recent error answer or transport failure, for display
};

/// Called on the pacer thread every `report_every`, and once more with `final` set.
using ProgressCallback = std::function<void(const LoadProgress&)>;

/// Checks what `run_load` would refuse: no streams, a URL that is not absolute http(s), an
/// empty method, concurrency or max_lag out of range. InvalidInput naming the option.
[[nodiscard]] Status validate(const LoadOptions& options);

/// Runs the load until every schedule has ended, `duration` has passed, or `stop` is requested;
/// then waits for requests in flight (bounded by the client's timeout). Requests due but not
/// yet started when `stop` comes are not counted at all. Reads the steady clock: pacing is
/// real time by nature; the schedule itself is the pure, tested part.
/// Thread-safety: runs on the calling thread plus `concurrency` threads of its own; `client`
/// must be safe to call concurrently (every `http::Client` is).
[[nodiscard]] Result<LoadReport> run_load(LoadOptions options, http::Client& client,
                                          std::stop_token stop,
                                          const ProgressCallback& progress = {});

/// "sent=30 ok=28 rejected=2 errors=0 dropped=0": the counts as a report line fragment.
[[nodiscard]] std::string format_counts(const LoadCounts& counts);

}  // namespace qfscale::loadgen
