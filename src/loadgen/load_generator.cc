#include "qfscale/loadgen/load_generator.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include <fmt/format.h>

namespace qfscale::loadgen {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::microseconds;

constexpr int kMaxConcurrency = 4096;
/// Queued requests beyond this are dropped at once: with late requests dropped as they are
/// popped, the queue holds about rate x max_lag requests, far fewer in any sane run.
constexpr std::size_t kMaxQueued = std::size_t{1} << 18;
/// The pacer wakes at least this often to check the deadline and report.
constexpr microseconds kMaxPacerSleep{100'000};

struct AtomicCounts {
  std::atomic<std::uint64_t> scheduled{0};
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> ok{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> dropped{0};

  [[nodiscard]] LoadCounts load() const {
    return LoadCounts{.scheduled = scheduled.load(),
                      .sent = sent.load(),
                      .ok = ok.load(),
                      .rejected = rejected.load(),
                      .errors = errors.load(),
                      .dropped = dropped.load()};
  }
};

struct Item {
  std::size_t stream = 0;
  SteadyClock::time_point due;
};

/// The body of an error answer for display: at most 100 bytes, control characters as spaces.
std::string snippet(std::string_view body) {
  constexpr std::size_t kMax = 100;
  std::string out(body.substr(0, kMax));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (body.size() > kMax) out += "...";
  return out;
}

class Runner {
 public:
  Runner(LoadOptions options, http::Client& client, std::stop_token stop,
         const ProgressCallback& progress)
      : options_(std::move(options)),
        client_(client),
        stop_(std::move(stop)),
        progress_(progress),
        counts_(options_.streams.size()) {
    for (const auto& stream : options_.streams) {
      http::ClientRequest request;
      request.method = options_.method;
      request.url = stream.url;
      request.headers = options_.headers;
      request.body = options_.body;
      requests_.push_back(std::move(request));
    }
  }

  LoadReport run() {
    start_ = SteadyClock::now();
    std::vector<std::thread> senders;
    senders.reserve(static_cast<std::size_t>(options_.concurrency));
    for (int i = 0; i < options_.concurrency; ++i) senders.emplace_back([this] { send_loop(); });

    const auto end = run_end();
    const bool stopped = pace(end);
    {
      const std::lock_guard lock(mu_);
      if (stopped) {
        // Due but never started: the run ended before their turn, so they do not count.
        for (const auto& item : queue_) counts_[item.stream].scheduled.fetch_sub(1);
        queue_.clear();
      }
      closing_ = true;
    }
    cv_.notify_all();
    for (auto& t : senders) t.join();

    LoadReport report;
    report.elapsed = elapsed();
    report.stopped = stopped;
    for (const auto& c : counts_) {
      report.per_stream.push_back(c.load());
      report.total += report.per_stream.back();
    }
    {
      const std::lock_guard lock(error_mu_);
      report.last_error = last_error_;
    }
    if (progress_) {
      progress_(LoadProgress{.elapsed = report.elapsed,
                             .total = report.total,
                             .interval = report.total - reported_,
                             .interval_length = report.elapsed - reported_at_,
                             .final = true});
    }
    return report;
  }

 private:
  [[nodiscard]] microseconds elapsed() const {
    return std::chrono::duration_cast<microseconds>(SteadyClock::now() - start_);
  }

  /// When pacing ends: the duration, capped by the longest bounded schedule; empty = never.
  [[nodiscard]] std::optional<microseconds> run_end() const {
    std::optional<microseconds> longest = microseconds{0};
    for (const auto& stream : options_.streams) {
      const auto length = stream.schedule.wall_length();
      if (!length) {
        longest.reset();
        break;
      }
      longest = std::max(*longest, *length);
    }
    if (!options_.duration) return longest;
    const microseconds duration = *options_.duration;
    return longest ? std::min(*longest, duration) : duration;
  }

  /// Hands requests to the senders as they come due. True when stopped by the token.
  bool pace(std::optional<microseconds> end) {
    const microseconds report_every = options_.report_every;
    microseconds next_report = report_every;
    std::mutex sleep_mu;
    std::condition_variable_any sleeper;
    for (;;) {
      if (stop_.stop_requested()) return true;
      const microseconds now = elapsed();
      const bool over = end && now >= *end;
      // Everything due up to and including `now`, but nothing at or after the end.
      microseconds until = now + microseconds{1};
      if (end) until = std::min(until, *end);
      dispatch(until);
      if (over) return false;
      if (report_every.count() > 0 && now >= next_report) {
        report(now);
        next_report += report_every * ((now - next_report) / report_every + 1);
      }

      microseconds wake = now + kMaxPacerSleep;
      if (end) wake = std::min(wake, *end);
      if (report_every.count() > 0) wake = std::min(wake, next_report);
      for (auto& stream : options_.streams) {
        if (auto due = stream.schedule.next_due(wake)) wake = std::min(wake, *due);
      }
      std::unique_lock lock(sleep_mu);
      sleeper.wait_until(lock, stop_, start_ + wake, [] { return false; });
    }
  }

  void dispatch(microseconds until) {
    bool queued = false;
    for (std::size_t s = 0; s < options_.streams.size(); ++s) {
      auto& schedule = options_.streams[s].schedule;
      while (const auto due = schedule.next_due(until)) {
        const auto n = schedule.take(*due + microseconds{1});
        counts_[s].scheduled.fetch_add(n);
        const std::lock_guard lock(mu_);
        for (std::uint64_t i = 0; i < n; ++i) {
          if (queue_.size() >= kMaxQueued) {
            counts_[s].dropped.fetch_add(1);
            continue;
          }
          queue_.push_back(Item{.stream = s, .due = start_ + *due});
          queued = true;
        }
      }
    }
    if (queued) cv_.notify_all();
  }

  void report(microseconds now) {
    if (!progress_) return;
    LoadCounts total;
    for (const auto& c : counts_) total += c.load();
    progress_(LoadProgress{.elapsed = now,
                           .total = total,
                           .interval = total - reported_,
                           .interval_length = now - reported_at_});
    reported_ = total;
    reported_at_ = now;
  }

  void send_loop() {
    for (;;) {
      Item item;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return !queue_.empty() || closing_; });
        if (queue_.empty()) return;  // closing, and nothing left to send
        item = queue_.front();
        queue_.pop_front();
      }
      AtomicCounts& counts = counts_[item.stream];
      if (SteadyClock::now() - item.due > options_.max_lag) {
        counts.dropped.fetch_add(1);
        continue;
      }
      counts.sent.fetch_add(1);
      auto response = client_.send(requests_[item.stream]);
      if (!response) {
        counts.errors.fetch_add(1);
        remember(response.error().to_string());
      } else if (response->status >= 200 && response->status < 300) {
        counts.ok.fetch_add(1);
      } else if (response->status == 429 || response->status == 503) {
        counts.rejected.fetch_add(1);
      } else {
        counts.errors.fetch_add(1);
        remember(fmt::format("HTTP {} from {}: {}", response->status, requests_[item.stream].url,
                             snippet(response->body)));
      }
    }
  }

  void remember(std::string error) {
    const std::lock_guard lock(error_mu_);
    last_error_ = std::move(error);
  }

  LoadOptions options_;
  http::Client& client_;
  std::stop_token stop_;
  const ProgressCallback& progress_;
  std::vector<http::ClientRequest> requests_;  ///< one per stream, sent as is
  std::vector<AtomicCounts> counts_;           ///< one per stream
  SteadyClock::time_point start_;

  std::mutex mu_;  ///< guards queue_ and closing_
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool closing_ = false;

  std::mutex error_mu_;
  std::string last_error_;

  // Pacer thread only.
  LoadCounts reported_;
  microseconds reported_at_{0};
};

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

LoadCounts& LoadCounts::operator+=(const LoadCounts& o) {
  scheduled += o.scheduled;
  sent += o.sent;
  ok += o.ok;
  rejected += o.rejected;
  errors += o.errors;
  dropped += o.dropped;
  return *this;
}

LoadCounts operator-(LoadCounts a, const LoadCounts& b) {
  a.scheduled -= b.scheduled;
  a.sent -= b.sent;
  a.ok -= b.ok;
  a.rejected -= b.rejected;
  a.errors -= b.errors;
  a.dropped -= b.dropped;
  return a;
}

Status validate(const LoadOptions& options) {
  if (options.streams.empty()) {
    return fail(ErrorCode::InvalidInput, "load: no target to send requests to");
  }
  for (const auto& stream : options.streams) {
    auto url = http::parse_url(stream.url);
    if (!url) {
      return fail(std::move(url).error().with_context(fmt::format("target '{}'", stream.url)));
    }
  }
  if (options.method.empty() || !std::all_of(options.method.begin(), options.method.end(),
                                             [](char c) { return is_token_char(c); })) {
    return fail(
        ErrorCode::InvalidInput,
        fmt::format("method: '{}' is not an HTTP method such as GET or POST", options.method));
  }
  for (const auto& header : options.headers) {
    if (header.name.empty() || !std::all_of(header.name.begin(), header.name.end(),
                                            [](char c) { return is_token_char(c); })) {
      return fail(ErrorCode::InvalidInput,
                  fmt::format("header: '{}' is not a header name", header.name));
    }
    if (header.value.find_first_of("\r\n") != std::string::npos) {
      return fail(ErrorCode::InvalidInput,
                  fmt::format("header {}: the value must not contain line breaks", header.name));
    }
  }
  if (options.concurrency < 1 || options.concurrency > kMaxConcurrency) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("concurrency: {} is out of range, must be 1 to {}", options.concurrency,
                            kMaxConcurrency));
  }
  if (options.max_lag < std::chrono::milliseconds{1}) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("max lag: {} ms is out of range, must be at least 1 ms",
                            options.max_lag.count()));
  }
  if (options.duration && *options.duration <= std::chrono::milliseconds{0}) {
    return fail(
        ErrorCode::InvalidInput,
        fmt::format("duration: {} ms is out of range, must be above 0", options.duration->count()));
  }
  if (options.report_every < std::chrono::milliseconds{0}) {
    return fail(ErrorCode::InvalidInput, "report interval: must not be negative");
  }
  return util::ok();
}

Result<LoadReport> run_load(LoadOptions options, http::Client& client, std::stop_token stop,
                            const ProgressCallback& progress) {
  if (auto valid = validate(options); !valid) return fail(std::move(valid).error());
  Runner runner(std::move(options), client, std::move(stop), progress);
  return runner.run();
}

std::string format_counts(const LoadCounts& counts) {
  return fmt::format("sent={} ok={} rejected={} errors={} dropped={}", counts.sent, counts.ok,
                     counts.rejected, counts.errors, counts.dropped);
}

}  // namespace qfscale::loadgen
