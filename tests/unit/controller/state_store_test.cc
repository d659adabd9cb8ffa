#include "qfscale/controller/state_store.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <string>
#include <string_view>

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qfscale/util/file.h"

#include "support/temp_dir.h"

namespace qfscale::controller {
namespace {

using model::Replicas;
using model::ServiceId;
using std::chrono::milliseconds;
using std::chrono::seconds;

/// 2023-11-14T22:13:20Z.
const util::SystemTime kT0{seconds{1'700'000'000}};

/// Every field set, with values that stress the number formatting (thirds, tiny, huge).
policy::EngineState rich_state() {
  policy::EngineState s;
  s.samples = {{.at = kT0 - seconds{45}, .qps = 0.1},
               {.at = kT0 - seconds{30}, .qps = 1.0 / 3.0},
               {.at = kT0 - seconds{15} + milliseconds{250}, .qps = 1e-300},
               {.at = kT0, .qps = 123456789.125},
               {.at = kT0 + milliseconds{1}, .qps = 5e20}};
  s.recommendations = {{.at = kT0 - seconds{15}, .replicas = Replicas{4}},
                       {.at = kT0, .replicas = Replicas{7}}};
  s.scale_events = {{.at = kT0 - seconds{30}, .change = 3},
                    {.at = kT0 - seconds{15}, .change = -2}};
  s.last_observed_at = kT0;
  s.last_observed = Replicas{5};
  s.panic_last_over = kT0 - seconds{5};
  s.panic_max = Replicas{9};
  s.metric_failures = 2;
  s.idle_since = kT0 - seconds{600};
  return s;
}

EngineStates rich_states() {
  EngineStates states;
  states[ServiceId{"svc-1"}] = rich_state();
  states[ServiceId{"svc-empty"}] = policy::EngineState{};  // every optional absent, no history
  policy::EngineState zero;
  zero.samples = {{.at = kT0, .qps = 0}};
  zero.last_observed_at = kT0;
  zero.last_observed = Replicas{0};
  states[ServiceId{"svc-\"quoted\"/\u00e9"}] = zero;
  return states;
}

std::size_t count_files(const std::filesystem::path& dir) {
  return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir),
                                                std::filesystem::directory_iterator{}));
}

/// A valid one-service document; the error table below edits one piece of it per row.
constexpr std::string_view kValid =
    R"({"version":1,"savedAt":"2023-11-14T22:13:20Z","services":{"svc-1":{)"
    R"("samples":[{"at":1699999955000,"qps":1.5},{"at":1699999970000,"qps":2},)"
    R"({"at":1699999985000,"qps":2.5},{"at":1700000000000,"qps":3}],)"
    R"("recommendations":[{"at":1700000000000,"replicas":3}],)"
    R"("scaleEvents":[{"at":1699999985000,"change":-1}],)"
    R"("lastObservedAt":1700000000000,"lastObserved":3,"panicLastOver":null,"panicMax":0,)"
    R"("metricFailures":0,"idleSince":null}}})";

/// `base` with the first `from` replaced by `to` (the row is void if `from` is not there).
std::string edit(std::string_view from, std::string_view to, std::string_view base = kValid) {
  std::string out(base);
  const auto at = out.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  out.replace(at, from.size(), to);
  return out;
}

TEST_SUITE("controller") {
  TEST_CASE("state store: encode then decode gives back every field of every service") {
    const auto states = rich_states();
    const auto text = encode_states(states, kT0);
    const auto decoded = decode_states(text);
    REQUIRE_MESSAGE(decoded.has_value(), decoded.error().to_string());
    CHECK(*decoded == states);
    // Encoding is deterministic, so the decoded value encodes to the same bytes.
    CHECK(encode_states(*decoded, kT0) == text);
  }

  TEST_CASE("state store: the document format") {
    EngineStates states;
    policy::EngineState s;
    s.samples = {{.at = kT0, .qps = 12.5}};
    s.recommendations = {{.at = kT0, .replicas = Replicas{3}}};
    s.scale_events = {{.at = kT0 - seconds{15}, .change = 2}};
    s.last_observed_at = kT0;
    s.last_observed = Replicas{3};
    states[ServiceId{"svc-1"}] = s;
    CHECK(encode_states(states, kT0 + milliseconds{250}) ==
          R"({"version":1,"savedAt":"2023-11-14T22:13:20.250Z","services":{"svc-1":{)"
          R"("samples":[{"at":1700000000000,"qps":12.5}],)"
          R"("recommendations":[{"at":1700000000000,"replicas":3}],)"
          R"("scaleEvents":[{"at":1699999985000,"change":2}],)"
          R"("lastObservedAt":1700000000000,"lastObserved":3,"panicLastOver":null,"panicMax":0,)"
          R"("metricFailures":0,"idleSince":null}}})"
          "\n");
    CHECK(decode_states(kValid).has_value());
  }

  TEST_CASE("state store: a negative zero rate is stored as zero, so the file round-trips") {
    // Found by state_fuzz: "-0e300" decodes to -0.0; written back as "-0", that came back as
    // the integer 0 and was written as "0" — two saves of one state gave different bytes.
    const std::string text =
        R"({"version":1,"savedAt":"2023-11-14T22:13:20Z","services":{"svc-1":{)"
        R"("samples":[{"at":1700000000000,"qps":-0e300}],"recommendations":[],"scaleEvents":[],)"
        R"("lastObservedAt":null,"lastObserved":null,"panicLastOver":null,"panicMax":0,)"
        R"("metricFailures":0,"idleSince":null}}})";
    auto decoded = decode_states(text);
    REQUIRE(decoded.has_value());
    const double qps = decoded->at(ServiceId{"svc-1"}).samples.at(0).qps;
    CHECK(qps == 0.0);
    CHECK_FALSE(std::signbit(qps));
    const auto encoded = encode_states(*decoded, kT0);
    CHECK(encoded.find(R"("qps":0})") != std::string::npos);
    auto again = decode_states(encoded);
    REQUIRE(again.has_value());
    CHECK(encode_states(*again, kT0) == encoded);
  }

  TEST_CASE("state store: times are kept to the millisecond, floored") {
    struct Case {
      std::string_view name;
      util::SystemTime at;
      util::SystemTime want;
    };
    using std::chrono::microseconds;
    const Case cases[] = {
        {.name = "whole millisecond", .at = kT0 + milliseconds{7}, .want = kT0 + milliseconds{7}},
        {.name = "999 us down to 0", .at = kT0 + microseconds{999}, .want = kT0},
        {.name = "1001 us down to 1 ms",
         .at = kT0 + microseconds{1001},
         .want = kT0 + milliseconds{1}},
        // -1 us before the epoch floors to -1 ms, not 0.
        {.name = "before the epoch",
         .at = util::SystemTime{} - microseconds{1},
         .want = util::SystemTime{} - milliseconds{1}},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      EngineStates states;
      states[ServiceId{"svc-1"}].idle_since = c.at;
      const auto decoded = decode_states(encode_states(states, kT0));
      REQUIRE(decoded.has_value());
      CHECK(decoded->at(ServiceId{"svc-1"}).idle_since == c.want);
    }
  }

  TEST_CASE("state store: decode refuses anything encode could not have written") {
    struct Case {
      std::string_view name;
      std::string text;
      std::string_view want;  ///< a part of the message, with the JSON path
    };
    const Case cases[] = {
        {.name = "version 2",
         .text = edit(R"("version":1)", R"("version":2)"),
         .want = "version: expected 1"},
        {.name = "version 0",
         .text = edit(R"("version":1)", R"("version":0)"),
         .want = "version: expected 1"},
        {.name = "version as a string",
         .text = edit(R"("version":1)", R"("version":"1")"),
         .want = "version: expected an integer, got a string"},
        {.name = "version as a decimal",
         .text = edit(R"("version":1)", R"("version":1.0)"),
         .want = "version: expected an integer, got a decimal number"},
        {.name = "version missing",
         .text = edit(R"("version":1,)", ""),
         .want = "version: required key is missing"},
        {.name = "unknown top-level key",
         .text = edit(R"("version":1,)", R"("version":1,"extra":true,)"),
         .want = "extra: unknown key"},
        {.name = "savedAt a number",
         .text = edit(R"("2023-11-14T22:13:20Z")", "5"),
         .want = "savedAt: expected a string, got an integer"},
        {.name = "not an object",
         .text = "[1,2]",
         .want = "document: expected an object, got an array"},
        {.name = "a bare string", .text = R"("state")", .want = "document: expected an object"},
        {.name = "truncated",
         .text = std::string(kValid.substr(0, kValid.size() / 2)),
         .want = "document: not valid JSON"},
        {.name = "empty file", .text = "", .want = "document: not valid JSON"},
        {.name = "trailing garbage",
         .text = std::string(kValid) + "}",
         .want = "document: not valid JSON"},
        {.name = "services an array",
         .text = R"({"version":1,"savedAt":"x","services":[]})",
         .want = "services: expected an object, got an array"},
        {.name = "service null",
         .text = R"({"version":1,"savedAt":"x","services":{"svc-1":null}})",
         .want = R"(services["svc-1"]: expected an object, got null)"},
        {.name = "service listed twice",
         .text = edit(R"("idleSince":null})", R"("idleSince":null},"svc-1":{})"),
         .want = R"(services["svc-1"]: duplicate service)"},
        {.name = "quote in a service id is escaped in the path",
         .text = R"({"version":1,"savedAt":"x","services":{"a\"b":1}})",
         .want = R"(services["a\"b"]: expected an object, got an integer)"},
        {.name = "samples an object",
         .text =
             edit(R"("qps":3}],)", R"("qps":3}]},)", edit(R"("samples":[)", R"("samples":{"a":[)")),
         .want = R"(services["svc-1"].samples: expected an array, got an object)"},
        {.name = "the fourth sample's qps a string",
         .text = edit(R"("qps":3})", R"("qps":"3"})"),
         .want = R"(services["svc-1"].samples[3].qps: expected a number, got a string)"},
        {.name = "negative qps",
         .text = edit(R"("qps":1.5)", R"("qps":-0.5)"),
         .want = R"(services["svc-1"].samples[0].qps: expected a non-negative number, got -0.5)"},
        {.name = "sample without qps",
         .text = edit(R"(,"qps":1.5)", ""),
         .want = R"(services["svc-1"].samples[0].qps: required key is missing)"},
        {.name = "sample with a duplicate key",
         .text = edit(R"("qps":1.5)", R"("qps":1.5,"qps":1.5)"),
         .want = R"(services["svc-1"].samples[0].qps: duplicate key)"},
        {.name = "time as a decimal",
         .text = edit(R"("at":1699999955000)", R"("at":1699999955000.5)"),
         .want =
             R"(services["svc-1"].samples[0].at: expected a time in Unix milliseconds, got a decimal number)"},
        // 9223372036854 ms is the last one nanoseconds since the epoch can hold in 64 bits.
        {.name = "time past what a SystemTime holds",
         .text = edit(R"("at":1699999955000)", R"("at":9223372036855)"),
         .want =
             R"(services["svc-1"].samples[0].at: expected a time in Unix milliseconds, got 9223372036855)"},
        {.name = "time above int64",
         .text = edit(R"("at":1699999955000)", R"("at":18446744073709551615)"),
         .want =
             R"(services["svc-1"].samples[0].at: expected a time in Unix milliseconds, got 18446744073709551615)"},
        {.name = "negative replicas",
         .text = edit(R"("replicas":3)", R"("replicas":-1)"),
         .want =
             R"(services["svc-1"].recommendations[0].replicas: expected a non-negative integer, got -1)"},
        {.name = "fractional replicas",
         .text = edit(R"("replicas":3)", R"("replicas":2.5)"),
         .want =
             R"(services["svc-1"].recommendations[0].replicas: expected a non-negative integer, got a decimal number)"},
        // 2^31 does not fit the int the engine counts in.
        {.name = "change above int",
         .text = edit(R"("change":-1)", R"("change":2147483648)"),
         .want = R"(services["svc-1"].scaleEvents[0].change: expected an integer, got 2147483648)"},
        {.name = "lastObservedAt a string",
         .text = edit(R"("lastObservedAt":1700000000000)", R"("lastObservedAt":"now")"),
         .want =
             R"(services["svc-1"].lastObservedAt: expected a time in Unix milliseconds, got a string)"},
        {.name = "negative lastObserved",
         .text = edit(R"("lastObserved":3)", R"("lastObserved":-3)"),
         .want = R"(services["svc-1"].lastObserved: expected a non-negative integer, got -3)"},
        {.name = "panicMax negative",
         .text = edit(R"("panicMax":0)", R"("panicMax":-1)"),
         .want = R"(services["svc-1"].panicMax: expected a non-negative integer, got -1)"},
        {.name = "panicMax null",
         .text = edit(R"("panicMax":0)", R"("panicMax":null)"),
         .want = R"(services["svc-1"].panicMax: expected a non-negative integer, got null)"},
        {.name = "metricFailures a boolean",
         .text = edit(R"("metricFailures":0)", R"("metricFailures":false)"),
         .want =
             R"(services["svc-1"].metricFailures: expected a non-negative integer, got a boolean)"},
        {.name = "idleSince missing",
         .text = edit(R"(,"idleSince":null)", ""),
         .want = R"(services["svc-1"].idleSince: required key is missing)"},
        {.name = "an unknown key that is not a plain name is quoted",
         .text = edit(R"("idleSince":null)", R"("idleSince":null,"a.b":1)"),
         .want = R"(services["svc-1"]["a.b"]: unknown key)"},
        {.name = "unknown service key",
         .text = edit(R"("idleSince":null)", R"("idleSince":null,"panicking":true)"),
         .want = R"(services["svc-1"].panicking: unknown key)"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto r = decode_states(c.text);
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().code == ErrorCode::InvalidInput);
      CHECK_MESSAGE(r.error().to_string().find(c.want) != std::string::npos, r.error().to_string());
    }
  }

  TEST_CASE("state store: load of a missing file is an empty state") {
    test::TempDir dir("qfscale-state-");
    const StateStore store(dir.file("state.json"));
    const auto r = store.load();
    REQUIRE(r.has_value());
    CHECK(r->empty());
  }

  TEST_CASE("state store: load of a corrupt or unreadable file is an error naming the file") {
    test::TempDir dir("qfscale-state-");
    const auto path = dir.file("state.json");
    REQUIRE(util::write_file_atomic(path, R"({"version":1,"savedAt":)").has_value());
    const auto corrupt = StateStore(path).load();
    REQUIRE_FALSE(corrupt.has_value());
    CHECK(corrupt.error().code == ErrorCode::InvalidInput);
    CHECK(corrupt.error().to_string().find(path) != std::string::npos);
    CHECK(corrupt.error().to_string().find("not valid JSON") != std::string::npos);

    const auto a_directory = StateStore(dir.path().string()).load();
    REQUIRE_FALSE(a_directory.has_value());
    CHECK(a_directory.error().to_string().find("directory") != std::string::npos);
  }

  TEST_CASE("state store: save then load; save replaces and leaves no temporary file") {
    test::TempDir dir("qfscale-state-");
    const StateStore store(dir.file("state.json"));
    REQUIRE(store.save(rich_states(), kT0).has_value());
    auto loaded = store.load();
    REQUIRE(loaded.has_value());
    CHECK(*loaded == rich_states());

    EngineStates smaller;
    smaller[ServiceId{"svc-2"}].metric_failures = 1;
    REQUIRE(store.save(smaller, kT0 + seconds{15}).has_value());
    loaded = store.load();
    REQUIRE(loaded.has_value());
    CHECK(*loaded == smaller);
    CHECK(count_files(dir.path()) == 1);
  }

  TEST_CASE("state store: a failed save leaves the old file intact") {
    struct Case {
      std::string_view name;
      bool needs_non_root;  ///< root ignores permission bits
    };
    const Case cases[] = {
        {.name = "directory read-only", .needs_non_root = true},
        // A directory where the temporary file would go: fails even for root.
        {.name = "temporary name taken by a directory", .needs_non_root = false},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      if (c.needs_non_root && ::geteuid() == 0) {
        MESSAGE("skipped as root: ", c.name);
        continue;
      }
      test::TempDir dir("qfscale-state-");
      const auto path = dir.file("state.json");
      const StateStore store(path);
      REQUIRE(store.save(rich_states(), kT0).has_value());
      const auto before = util::read_file(path);
      REQUIRE(before.has_value());

      const auto blocker = std::filesystem::path(path + ".tmp." + std::to_string(::getpid()));
      if (c.needs_non_root) {
        REQUIRE(::chmod(dir.path().c_str(), 0555) == 0);
      } else {
        std::filesystem::create_directories(blocker / "inside");
      }
      const auto r = store.save(EngineStates{}, kT0 + seconds{15});
      CHECK_FALSE(r.has_value());
      if (!r) CHECK(r.error().to_string().find(path) != std::string::npos);
      if (c.needs_non_root) REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);

      CHECK(util::read_file(path) == before);
      const auto loaded = store.load();
      REQUIRE(loaded.has_value());
      CHECK(*loaded == rich_states());
      // Nothing new besides what the test itself put there.
      CHECK(count_files(dir.path()) == (c.needs_non_root ? 1U : 2U));
    }
  }
}

}  // namespace
}  // namespace qfscale::controller
