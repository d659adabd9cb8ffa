#include "qfscale/controller/audit_log.h"

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <simdjson.h>
#include <sys/stat.h>

#include "qfscale/model/decision.h"
#include "qfscale/telemetry/exporter.h"
#include "qfscale/telemetry/sink.h"
#include "qfscale/util/file.h"

#include "support/temp_dir.h"

namespace qfscale::controller {
namespace {

using model::ActuationOutcome;
using model::InstanceId;
using model::Replicas;
using model::ServiceId;
using std::chrono::seconds;

/// 2023-11-14T22:13:20Z.
const util::SystemTime kT0{seconds{1'700'000'000}};

model::ScaleCall call(std::string instance, int from, int to, ActuationOutcome outcome,
                      std::string request_id = "", std::string error = "") {
  return {.instance = InstanceId{std::move(instance)},
          .from = Replicas{from},
          .to = Replicas{to},
          .outcome = outcome,
          .request_id = std::move(request_id),
          .error = std::move(error)};
}

model::Decision decision(std::string service, util::SystemTime at,
                         std::vector<model::ScaleCall> calls = {}) {
  model::Decision d;
  d.service = ServiceId{std::move(service)};
  d.at = at;
  d.qps = 30.0;
  d.replica_qps = 10.0;
  d.current = Replicas{2};
  d.steps = {{.stage = model::Stage::RawDesired,
              .output = Replicas{4},
              .changed = true,
              .reason = model::Reason::ScaleUp,
              .detail = "ceil(30 / (10 x 0.75)) = 4"}};
  d.recommended = Replicas{4};
  d.reason = model::Reason::ScaleUp;
  d.granted = Replicas{4};
  d.outcome = calls.empty() ? ActuationOutcome::NotNeeded : calls.front().outcome;
  d.calls = std::move(calls);
  return d;
}

telemetry::TickReport tick(std::vector<model::Decision> decisions) {
  telemetry::TickReport r;
  r.finished_at = decisions.empty() ? kT0 : decisions.front().at;
  for (auto& d : decisions) r.services.push_back({.decision = std::move(d)});
  return r;
}

std::vector<std::string> lines_of(const std::string& path) {
  const auto text = util::read_file(path);
  REQUIRE_MESSAGE(text.has_value(), text.error().to_string());
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text->size()) {
    const auto end = text->find('\n', start);
    REQUIRE_MESSAGE(end != std::string::npos, "the last line has no newline");
    out.push_back(text->substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string get_string(simdjson::dom::element line, const char* key) {
  std::string_view v;
  REQUIRE_MESSAGE(line[key].get(v) == simdjson::SUCCESS, key);
  return std::string(v);
}

std::int64_t get_int(simdjson::dom::element line, const char* key) {
  std::int64_t v = 0;
  REQUIRE_MESSAGE(line[key].get(v) == simdjson::SUCCESS, key);
  return v;
}

bool get_bool(simdjson::dom::element line, const char* key) {
  bool v = false;
  REQUIRE_MESSAGE(line[key].get(v) == simdjson::SUCCESS, key);
  return v;
}

std::set<std::string> names_in(const std::filesystem::path& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out.insert(e.path().filename().string());
  }
  return out;
}

std::uintmax_t size_of(const std::string& path) { return std::filesystem::file_size(path); }

/// The bytes one decision's line takes: `{"type":"decision",` replaces decision_to_json's `{`,
/// plus the newline.
std::uint64_t decision_line_size(const model::Decision& d) {
  return telemetry::decision_to_json(d).size() - 1 +
         std::string_view(R"({"type":"decision",)").size() + 1;
}

TEST_SUITE("controller") {
  TEST_CASE("audit log: one decision line per service, then a scale line per call made") {
    test::TempDir dir("qfscale-audit-");
    const auto path = dir.file("audit.jsonl");
    auto log = AuditLog::open({.path = path});
    REQUIRE(log.has_value());
    (*log)->on_tick(tick({
        decision("svc-a", kT0,
                 {call("unit-1", 2, 4, ActuationOutcome::Applied, "req-1"),
                  call("unit-2", 1, 0, ActuationOutcome::Failed, "req-2", "InternalError: boom"),
                  call("unit-3", 1, 1, ActuationOutcome::NotNeeded),
                  call("unit-4", 3, 1, ActuationOutcome::Skipped)}),
        decision("svc-b", kT0, {call("unit-1", 4, 8, ActuationOutcome::DryRun)}),
        decision("svc-c", kT0,
                 {call("unit-2", 2, 5, ActuationOutcome::Refused, "req-3",
                       "capacity: ComputeUnitNotEnough")}),
    }));
    CHECK((*log)->last_status().has_value());

    const auto lines = lines_of(path);
    // svc-a: decision + applied + failed (not_needed and skipped are no calls); svc-b: decision +
    // dry run; svc-c: decision + refused.
    REQUIRE(lines.size() == 7);
    simdjson::dom::parser parser;
    struct Want {
      std::string_view type;
      std::string_view service;
      std::string_view instance;  ///< scale lines
      std::string_view outcome;
      std::string_view request_id;
      std::string_view error;
    };
    const Want want[] = {
        {.type = "decision", .service = "svc-a", .outcome = "applied"},
        {"scale", "svc-a", "unit-1", "applied", "req-1", ""},
        {"scale", "svc-a", "unit-2", "failed", "req-2", "InternalError: boom"},
        {.type = "decision", .service = "svc-b", .outcome = "dry_run"},
        {"scale", "svc-b", "unit-1", "dry_run", "", ""},
        {.type = "decision", .service = "svc-c", .outcome = "refused"},
        {"scale", "svc-c", "unit-2", "refused", "req-3", "capacity: ComputeUnitNotEnough"},
    };
    for (std::size_t i = 0; i < lines.size(); ++i) {
      CAPTURE(lines[i]);
      simdjson::dom::element line;
      REQUIRE(parser.parse(lines[i]).get(line) == simdjson::SUCCESS);
      CHECK(get_string(line, "type") == want[i].type);
      CHECK(get_string(line, "at") == "2023-11-14T22:13:20Z");
      CHECK(get_string(line, "service") == want[i].service);
      CHECK(get_string(line, "outcome") == want[i].outcome);
      if (want[i].type == "decision") {
        CHECK(get_int(line, "recommended") == 4);
        CHECK(get_string(line, "reason") == "scale_up");
        simdjson::dom::array steps;
        REQUIRE(line["steps"].get(steps) == simdjson::SUCCESS);
        CHECK(steps.size() == 1);
        continue;
      }
      CHECK(get_string(line, "instanceId") == want[i].instance);
      CHECK(get_string(line, "requestId") == want[i].request_id);
      CHECK(get_string(line, "error") == want[i].error);
      CHECK(get_bool(line, "dryRun") == (want[i].outcome == "dry_run"));
    }
    // The decision line is decision_to_json's object with "type" in front.
    CHECK(lines[0] == R"({"type":"decision",)" +
                          telemetry::decision_to_json(
                              decision("svc-a", kT0,
                                       {call("unit-1", 2, 4, ActuationOutcome::Applied, "req-1"),
                                        call("unit-2", 1, 0, ActuationOutcome::Failed, "req-2",
                                             "InternalError: boom"),
                                        call("unit-3", 1, 1, ActuationOutcome::NotNeeded),
                                        call("unit-4", 3, 1, ActuationOutcome::Skipped)}))
                              .substr(1));
    CHECK(lines[1] ==
          R"({"type":"scale","at":"2023-11-14T22:13:20Z","service":"svc-a","instanceId":"unit-1",)"
          R"("from":2,"to":4,"outcome":"applied","requestId":"req-1","error":"","dryRun":false})");
  }

  TEST_CASE("audit log: config lines from record_config; on_config writes nothing") {
    test::TempDir dir("qfscale-audit-");
    const auto path = dir.file("audit.jsonl");
    auto log = AuditLog::open({.path = path});
    REQUIRE(log.has_value());
    (*log)->on_config({.success = true, .services = {ServiceId{"svc-a"}}});
    (*log)->record_config(kT0, true, "/etc/qfscale/qfscale.yaml", "");
    (*log)->record_config(kT0 + seconds{1}, false, "/etc/qfscale/qfscale.yaml",
                          "qfscale.yaml:3:5: loop.interval: \"0s\" is below 1s");
    const auto lines = lines_of(path);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == R"({"type":"config","at":"2023-11-14T22:13:20Z","success":true,)"
                      R"("file":"/etc/qfscale/qfscale.yaml","error":""})");
    simdjson::dom::parser parser;
    simdjson::dom::element line;
    REQUIRE(parser.parse(lines[1]).get(line) == simdjson::SUCCESS);
    CHECK(get_string(line, "type") == "config");
    CHECK(get_string(line, "at") == "2023-11-14T22:13:21Z");
    CHECK_FALSE(get_bool(line, "success"));
    CHECK(get_string(line, "error") == "qfscale.yaml:3:5: loop.interval: \"0s\" is below 1s");
  }

  TEST_CASE("audit log: under a leader term every line ends with its fencing token") {
    test::TempDir dir("qfscale-audit-");
    const auto path = dir.file("audit.jsonl");
    auto log = AuditLog::open({.path = path});
    REQUIRE(log.has_value());
    (*log)->record_config(kT0, true, "/q.yaml", "");
    (*log)->set_fencing_token(42);
    (*log)->record_config(kT0, true, "/q.yaml", "");
    auto report = tick({decision("svc-a", kT0)});
    report.errors.push_back({.message = "x"});
    (*log)->on_tick(report);
    const auto lines = lines_of(path);
    REQUIRE(lines.size() == 4);
    CHECK(lines[0].find("fencingToken") == std::string::npos);
    for (std::size_t i = 1; i < lines.size(); ++i) {
      CAPTURE(lines[i]);
      CHECK(lines[i].ends_with(",\"fencingToken\":42}"));
      simdjson::dom::parser parser;
      simdjson::dom::element line;
      CHECK(parser.parse(lines[i]).get(line) == simdjson::SUCCESS);
    }
  }

  TEST_CASE("audit log: with sharding each service's lines carry its own shard's token") {
    test::TempDir dir("qfscale-audit-");
    const auto path = dir.file("audit.jsonl");
    auto log = AuditLog::open({.path = path});
    REQUIRE(log.has_value());
    (*log)->set_fencing_token(7);
    (*log)->set_service_tokens({{"svc-a", 41}, {"svc-b", 57}});
    (*log)->on_tick(tick({decision("svc-a", kT0), decision("svc-b", kT0)}));
    const auto lines = lines_of(path);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find("\"service\":\"svc-a\"") != std::string::npos);
    CHECK(lines[0].ends_with(",\"fencingToken\":41}"));
    CHECK(lines[1].ends_with(",\"fencingToken\":57}"));
  }

  TEST_CASE("audit log: a tick with no services writes nothing") {
    test::TempDir dir("qfscale-audit-");
    const auto path = dir.file("audit.jsonl");
    auto log = AuditLog::open({.path = path});
    REQUIRE(log.has_value());
    (*log)->on_tick(tick({}));
    CHECK(size_of(path) == 0);
    CHECK((*log)->last_status().has_value());
  }

  TEST_CASE("audit log: reopening appends; the file is created 0640") {
    test::TempDir dir("qfscale-audit-");
    const auto path = dir.file("audit.jsonl");
    {
      auto log = AuditLog::open({.path = path});
      REQUIRE(log.has_value());
      (*log)->on_tick(tick({decision("svc-a", kT0)}));
    }
    {
      auto log = AuditLog::open({.path = path});
      REQUIRE(log.has_value());
      (*log)->on_tick(tick({decision("svc-a", kT0 + seconds{15})}));
    }
    const auto lines = lines_of(path);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find("2023-11-14T22:13:20Z") != std::string::npos);
    CHECK(lines[1].find("2023-11-14T22:13:35Z") != std::string::npos);
    const mode_t mask = ::umask(0);
    ::umask(mask);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777U) == (0640U & ~mask));
  }

  TEST_CASE("audit log: rotates when a write takes the file past max_bytes") {
    // Two ticks of one line of L bytes each leave 2L bytes in the file; it rotates only when
    // that is more than max_bytes.
    const auto line_size = decision_line_size(decision("svc-a", kT0));
    struct Case {
      std::string_view name;
      std::uint64_t max_bytes;
      bool rotated;
    };
    const Case cases[] = {
        {.name = "just below: 2L > 2L - 1", .max_bytes = 2 * line_size - 1, .rotated = true},
        {.name = "at: 2L is not more than 2L", .max_bytes = 2 * line_size, .rotated = false},
        {.name = "above: 2L < 2L + 1", .max_bytes = 2 * line_size + 1, .rotated = false},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      test::TempDir dir("qfscale-audit-");
      const auto path = dir.file("audit.jsonl");
      auto log = AuditLog::open({.path = path, .max_bytes = c.max_bytes, .keep = 2});
      REQUIRE(log.has_value());
      (*log)->on_tick(tick({decision("svc-a", kT0)}));
      CHECK(size_of(path) == line_size);
      (*log)->on_tick(tick({decision("svc-a", kT0)}));
      CHECK((*log)->last_status().has_value());
      if (c.rotated) {
        CHECK(names_in(dir.path()) == std::set<std::string>{"audit.jsonl", "audit.jsonl.1"});
        CHECK(size_of(path) == 0);
        CHECK(size_of(path + ".1") == 2 * line_size);
      } else {
        CHECK(names_in(dir.path()) == std::set<std::string>{"audit.jsonl"});
        CHECK(size_of(path) == 2 * line_size);
      }
    }
  }

  TEST_CASE("audit log: keep=2 keeps the newest two rotated files") {
    test::TempDir dir("qfscale-audit-");
    const auto path = dir.file("audit.jsonl");
    // Every tick's line is over max_bytes, so every tick rotates.
    auto log = AuditLog::open({.path = path, .max_bytes = 10, .keep = 2});
    REQUIRE(log.has_value());
    for (int i = 0; i < 5; ++i) (*log)->on_tick(tick({decision("svc-a", kT0 + seconds{i})}));
    CHECK((*log)->last_status().has_value());
    CHECK(names_in(dir.path()) ==
          std::set<std::string>{"audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"});
    CHECK(lines_of(path).empty());
    // Tick 5 (at +4 s) is the newest rotated file, tick 4 (at +3 s) the oldest kept.
    const auto newest = lines_of(path + ".1");
    const auto oldest = lines_of(path + ".2");
    REQUIRE(newest.size() == 1);
    REQUIRE(oldest.size() == 1);
    CHECK(newest[0].find("2023-11-14T22:13:24Z") != std::string::npos);
    CHECK(oldest[0].find("2023-11-14T22:13:23Z") != std::string::npos);
  }

  TEST_CASE("audit log: a rotation that fails keeps logging and is retried after the next write") {
    test::TempDir dir("qfscale-audit-");
    const auto path = dir.file("audit.jsonl");
    // A non-empty directory where audit.jsonl.1 goes: rename(2) cannot replace it, even as root.
    std::filesystem::create_directories(dir.path() / "audit.jsonl.1" / "inside");
    auto log = AuditLog::open({.path = path, .max_bytes = 10, .keep = 1});
    REQUIRE(log.has_value());
    (*log)->on_tick(tick({decision("svc-a", kT0)}));
    const auto failed = (*log)->last_status();
    REQUIRE_FALSE(failed.has_value());
    CHECK(failed.error().message.find("rotate") != std::string::npos);
    CHECK(lines_of(path).size() == 1);

    std::filesystem::remove_all(dir.path() / "audit.jsonl.1");
    (*log)->on_tick(tick({decision("svc-a", kT0 + seconds{15})}));
    CHECK((*log)->last_status().has_value());
    CHECK(lines_of(path).empty());
    CHECK(lines_of(path + ".1").size() == 2);
  }

  TEST_CASE("audit log: a write error is reported and never thrown") {
    if (!std::filesystem::exists("/dev/full")) {
      MESSAGE("skipped: no /dev/full");
      return;
    }
    auto log = AuditLog::open({.path = "/dev/full"});
    REQUIRE(log.has_value());
    (*log)->on_tick(tick({decision("svc-a", kT0)}));
    auto status = (*log)->last_status();
    REQUIRE_FALSE(status.has_value());
    CHECK(status.error().message.find("/dev/full") != std::string::npos);
    CHECK(status.error().message.find("No space left on device") != std::string::npos);
    // The next tick tries again (and fails again on this device).
    (*log)->on_tick(tick({decision("svc-a", kT0 + seconds{15})}));
    CHECK_FALSE((*log)->last_status().has_value());
  }

  TEST_CASE("audit log: open errors") {
    test::TempDir dir("qfscale-audit-");
    const auto missing_dir = dir.file("no/such/audit.jsonl");
    auto r = AuditLog::open({.path = missing_dir});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::InvalidInput);
    CHECK(r.error().message.find(missing_dir) != std::string::npos);
    auto keep0 = AuditLog::open({.path = dir.file("audit.jsonl"), .keep = 0});
    REQUIRE_FALSE(keep0.has_value());
    CHECK(keep0.error().message.find("keep must be >= 1, got 0") != std::string::npos);
  }
}

}  // namespace
}  // namespace qfscale::controller
