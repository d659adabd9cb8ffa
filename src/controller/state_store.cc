// The state file: encode/decode of every service's EngineState, and its atomic save/load.
//
// Decoding is strict on purpose: the file is only ever written by encode_states, so anything
// else (a hand edit gone wrong, a torn copy, a file from a future version) is refused with the
// JSON path of the first problem rather than half-loaded. Starting with a wrong history would
// make the engine scale on a stabilization window it never saw.

#include "qfscale/controller/state_store.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <simdjson.h>
#include <sys/stat.h>

#include "qfscale/util/file.h"
#include "qfscale/util/json_writer.h"
#include "qfscale/util/time_text.h"

#include "util/simdjson_names.h"

namespace qfscale::controller {
namespace {

namespace dom = simdjson::dom;
using util::JsonWriter;

constexpr std::int64_t kVersion = 1;

std::int64_t to_unix_ms(util::SystemTime t) {
  return std::chrono::floor<std::chrono::milliseconds>(t).time_since_epoch().count();
}

void write_time(JsonWriter& w, std::string_view key, util::SystemTime t) {
  w.key(key).integer(to_unix_ms(t));
}

void write_optional_time(JsonWriter& w, std::string_view key,
                         const std::optional<util::SystemTime>& t) {
  w.key(key);
  if (t) {
    w.integer(to_unix_ms(*t));
  } else {
    w.null();
  }
}

void write_state(JsonWriter& w, const policy::EngineState& s) {
  w.begin_object();
  w.key("samples").begin_array();
  for (const auto& sample : s.samples) {
    w.begin_object();
    write_time(w, "at", sample.at);
    w.key("qps").number(sample.qps);
    w.end_object();
  }
  w.end_array();
  w.key("recommendations").begin_array();
  for (const auto& r : s.recommendations) {
    w.begin_object();
    write_time(w, "at", r.at);
    w.key("replicas").integer(r.replicas.value);
    w.end_object();
  }
  w.end_array();
  w.key("scaleEvents").begin_array();
  for (const auto& e : s.scale_events) {
    w.begin_object();
    write_time(w, "at", e.at);
    w.key("change").integer(e.change);
    w.end_object();
  }
  w.end_array();
  write_optional_time(w, "lastObservedAt", s.last_observed_at);
  w.key("lastObserved");
  if (s.last_observed) {
    w.integer(s.last_observed->value);
  } else {
    w.null();
  }
  write_optional_time(w, "panicLastOver", s.panic_last_over);
  w.key("panicMax").integer(s.panic_max.value);
  w.key("metricFailures").integer(s.metric_failures);
  write_optional_time(w, "idleSince", s.idle_since);
  w.end_object();
}

// --- decoding ---------------------------------------------------------------------------------

using util::detail::json_type_name;

// A service id as a path segment: `["svc-1"]`, with quotes, backslashes and control bytes
// escaped so a hostile key cannot forge a different path in the message.
std::string key_segment(std::string_view key) {
  std::string out = "[\"";
  for (const char c : key) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte == 0x7f) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out.push_back(c);
    }
  }
  out += "\"]";
  return out;
}

tl::unexpected<Error> bad(std::string_view path, std::string_view what) {
  return fail(ErrorCode::InvalidInput, fmt::format("{}: {}", path, what));
}

tl::unexpected<Error> wrong_type(std::string_view path, std::string_view want, dom::element got) {
  return bad(path, fmt::format("expected {}, got {}", want, json_type_name(got.type())));
}

// `path.key`, or `path["k e y"]` for a key that is not a plain name (an unknown key in the file
// can hold anything).
std::string member(std::string_view path, std::string_view key) {
  const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!plain) return fmt::format("{}{}", path.empty() ? "document" : path, key_segment(key));
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

// Unix milliseconds that a SystemTime can hold without overflow.
constexpr std::int64_t kMinMs =
    std::chrono::duration_cast<std::chrono::milliseconds>(util::SystemTime::duration::min())
        .count();
constexpr std::int64_t kMaxMs =
    std::chrono::duration_cast<std::chrono::milliseconds>(util::SystemTime::duration::max())
        .count();

Result<std::int64_t> read_int(std::string_view path, dom::element e, std::int64_t min,
                              std::int64_t max, std::string_view want) {
  std::int64_t v = 0;
  if (std::uint64_t big = 0;
      e.type() == dom::element_type::UINT64 && e.get_uint64().get(big) == simdjson::SUCCESS) {
    return bad(path, fmt::format("expected {}, got {}", want, big));  // above int64
  }
  if (e.type() != dom::element_type::INT64 || e.get_int64().get(v) != simdjson::SUCCESS) {
    return wrong_type(path, want, e);
  }
  if (v < min || v > max) return bad(path, fmt::format("expected {}, got {}", want, v));
  return v;
}

Result<util::SystemTime> read_time(std::string_view path, dom::element e) {
  auto ms = read_int(path, e, kMinMs, kMaxMs, "a time in Unix milliseconds");
  if (!ms) return tl::unexpected(std::move(ms).error());
  return util::SystemTime{std::chrono::milliseconds{*ms}};
}

Result<int> read_count(std::string_view path, dom::element e) {
  auto v = read_int(path, e, 0, std::numeric_limits<int>::max(), "a non-negative integer");
  if (!v) return tl::unexpected(std::move(v).error());
  return static_cast<int>(*v);
}

// An object whose keys must be exactly `keys`: each present once, nothing else.
class Fields {
 public:
  static Result<Fields> of(std::string_view path, dom::element e,
                           std::initializer_list<std::string_view> keys) {
    dom::object object;
    if (e.get(object) != simdjson::SUCCESS) return wrong_type(path, "an object", e);
    std::set<std::string_view> seen;
    for (const auto kv : object) {
      if (std::find(keys.begin(), keys.end(), kv.key) == keys.end()) {
        return bad(member(path, kv.key), "unknown key");
      }
      if (!seen.insert(kv.key).second) return bad(member(path, kv.key), "duplicate key");
    }
    for (const auto key : keys) {
      if (seen.count(key) == 0) return bad(member(path, key), "required key is missing");
    }
    return Fields(std::string(path), object);
  }

  [[nodiscard]] dom::element operator[](std::string_view key) const {
    return object_.at_key(key).value_unsafe();  // present: checked in of()
  }
  [[nodiscard]] std::string path(std::string_view key) const { return member(path_, key); }

 private:
  Fields(std::string path, dom::object object) : path_(std::move(path)), object_(object) {}
  std::string path_;
  dom::object object_;
};

// Propagates the error of a Result expression, binding its value to `var` (a declared name,
// which cannot be parenthesised).
// NOLINTBEGIN(bugprone-macro-parentheses)
#define QFS_STATE_ASSIGN(var, expr)                         \
  auto var##_result = (expr);                               \
  if (!var##_result) {                                      \
    return tl::unexpected(std::move(var##_result).error()); \
  }                                                         \
  auto var = std::move(*var##_result)
// NOLINTEND(bugprone-macro-parentheses)

template <class T, class ReadItem>
Status read_array(std::string_view path, dom::element e, std::vector<T>& out, ReadItem read_item) {
  dom::array array;
  if (e.get(array) != simdjson::SUCCESS) return wrong_type(path, "an array", e);
  std::size_t i = 0;
  for (const auto item : array) {
    auto value = read_item(fmt::format("{}[{}]", path, i), item);
    if (!value) return tl::unexpected(std::move(value).error());
    out.push_back(std::move(*value));
    ++i;
  }
  return util::ok();
}

Result<policy::QpsSample> read_sample(const std::string& path, dom::element e) {
  QFS_STATE_ASSIGN(f, Fields::of(path, e, {"at", "qps"}));
  QFS_STATE_ASSIGN(at, read_time(f.path("at"), f["at"]));
  double qps = 0;
  const auto type = f["qps"].type();
  if ((type != dom::element_type::DOUBLE && type != dom::element_type::INT64 &&
       type != dom::element_type::UINT64) ||
      f["qps"].get_double().get(qps) != simdjson::SUCCESS) {
    return wrong_type(f.path("qps"), "a number", f["qps"]);
  }
  // The engine keeps only usable samples (NaN and negatives count as missing).
  if (qps < 0) {
    return bad(f.path("qps"), fmt::format("expected a non-negative number, got {}", qps));
  }
  // -0 is a zero rate; adding +0.0 makes it +0, so the file round-trips to the same bytes ("-0"
  // would come back from simdjson as the integer 0 and be written as "0").
  return policy::QpsSample{.at = at, .qps = qps + 0.0};
}

Result<policy::TimedRecommendation> read_recommendation(const std::string& path, dom::element e) {
  QFS_STATE_ASSIGN(f, Fields::of(path, e, {"at", "replicas"}));
  QFS_STATE_ASSIGN(at, read_time(f.path("at"), f["at"]));
  QFS_STATE_ASSIGN(replicas, read_count(f.path("replicas"), f["replicas"]));
  return policy::TimedRecommendation{.at = at, .replicas = model::Replicas{replicas}};
}

Result<policy::ScaleEvent> read_event(const std::string& path, dom::element e) {
  QFS_STATE_ASSIGN(f, Fields::of(path, e, {"at", "change"}));
  QFS_STATE_ASSIGN(at, read_time(f.path("at"), f["at"]));
  QFS_STATE_ASSIGN(change, read_int(f.path("change"), f["change"], std::numeric_limits<int>::min(),
                                    std::numeric_limits<int>::max(), "an integer"));
  return policy::ScaleEvent{.at = at, .change = static_cast<int>(change)};
}

template <class T, class Read>
Result<std::optional<T>> read_nullable(const std::string& path, dom::element e, Read read) {
  if (e.is_null()) return std::optional<T>{};
  auto v = read(path, e);
  if (!v) return tl::unexpected(std::move(v).error());
  return std::optional<T>{std::move(*v)};
}

Result<policy::EngineState> read_state(const std::string& path, dom::element e) {
  QFS_STATE_ASSIGN(
      f, Fields::of(path, e,
                    {"samples", "recommendations", "scaleEvents", "lastObservedAt", "lastObserved",
                     "panicLastOver", "panicMax", "metricFailures", "idleSince"}));
  policy::EngineState s;
  if (auto r = read_array(f.path("samples"), f["samples"], s.samples, read_sample); !r) {
    return tl::unexpected(std::move(r).error());
  }
  if (auto r = read_array(f.path("recommendations"), f["recommendations"], s.recommendations,
                          read_recommendation);
      !r) {
    return tl::unexpected(std::move(r).error());
  }
  if (auto r = read_array(f.path("scaleEvents"), f["scaleEvents"], s.scale_events, read_event);
      !r) {
    return tl::unexpected(std::move(r).error());
  }
  auto read_replicas = [](const std::string& p, dom::element v) -> Result<model::Replicas> {
    auto n = read_count(p, v);
    if (!n) return tl::unexpected(std::move(n).error());
    return model::Replicas{*n};
  };
  auto time = [](const std::string& p, dom::element v) { return read_time(p, v); };
  QFS_STATE_ASSIGN(last_at, read_nullable<util::SystemTime>(f.path("lastObservedAt"),
                                                            f["lastObservedAt"], time));
  QFS_STATE_ASSIGN(last, read_nullable<model::Replicas>(f.path("lastObserved"), f["lastObserved"],
                                                        read_replicas));
  QFS_STATE_ASSIGN(panic_over, read_nullable<util::SystemTime>(f.path("panicLastOver"),
                                                               f["panicLastOver"], time));
  QFS_STATE_ASSIGN(panic_max, read_count(f.path("panicMax"), f["panicMax"]));
  QFS_STATE_ASSIGN(failures, read_count(f.path("metricFailures"), f["metricFailures"]));
  QFS_STATE_ASSIGN(idle,
                   read_nullable<util::SystemTime>(f.path("idleSince"), f["idleSince"], time));
  s.last_observed_at = last_at;
  s.last_observed = last;
  s.panic_last_over = panic_over;
  s.panic_max = model::Replicas{panic_max};
  s.metric_failures = failures;
  s.idle_since = idle;
  return s;
}

}  // namespace

std::string encode_states(const EngineStates& states, util::SystemTime saved_at) {
  JsonWriter w;
  w.begin_object();
  w.key("version").integer(kVersion);
  w.key("savedAt").string(util::format_rfc3339(saved_at));
  w.key("services").begin_object();
  for (const auto& [id, state] : states) {
    w.key(id.value);
    write_state(w, state);
  }
  w.end_object();
  w.end_object();
  std::string out = w.take();
  out.push_back('\n');
  return out;
}

Result<EngineStates> decode_states(std::string_view text) {
  dom::parser parser;
  dom::element root;
  if (const auto err = parser.parse(text.data(), text.size()).get(root); err != simdjson::SUCCESS) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("document: not valid JSON: {}", simdjson::error_message(err)));
  }
  if (!root.is_object()) return wrong_type("document", "an object", root);
  QFS_STATE_ASSIGN(f, Fields::of("", root, {"version", "savedAt", "services"}));
  std::int64_t version = 0;
  if (f["version"].type() != dom::element_type::INT64 ||
      f["version"].get_int64().get(version) != simdjson::SUCCESS) {
    return wrong_type("version", "an integer", f["version"]);
  }
  if (version != kVersion) {
    return bad("version", fmt::format("expected {} (the only version this build reads), got {}",
                                      kVersion, version));
  }
  if (!f["savedAt"].is_string()) return wrong_type("savedAt", "a string", f["savedAt"]);
  dom::object services;
  if (f["services"].get(services) != simdjson::SUCCESS) {
    return wrong_type("services", "an object", f["services"]);
  }
  EngineStates out;
  for (const auto kv : services) {
    const std::string path = "services" + key_segment(kv.key);
    model::ServiceId id{std::string(kv.key)};
    if (out.count(id) != 0) return bad(path, "duplicate service");
    QFS_STATE_ASSIGN(state, read_state(path, kv.value));
    out.emplace(std::move(id), std::move(state));
  }
  return out;
}

#undef QFS_STATE_ASSIGN

Result<EngineStates> StateStore::load() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0 && errno == ENOENT) return EngineStates{};
  auto text = util::read_file(path_, util::kMaxStateFileBytes);
  if (!text) return tl::unexpected(std::move(text).error().with_context("load state"));
  auto states = decode_states(*text);
  if (!states) {
    return tl::unexpected(
        std::move(states).error().with_context(fmt::format("load state {}", path_)));
  }
  return states;
}

Status StateStore::save(const EngineStates& states, util::SystemTime now) const {
  if (auto r = util::write_file_atomic(path_, encode_states(states, now)); !r) {
    return tl::unexpected(std::move(r).error().with_context("save state"));
  }
  return util::ok();
}

}  // namespace qfscale::controller
