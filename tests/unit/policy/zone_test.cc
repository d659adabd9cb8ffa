#include "qfscale/policy/zone.h"

#include <string>

#include <doctest/doctest.h>

#include "qfscale/util/file.h"

namespace qfscale::policy {
namespace {

using namespace std::chrono;
using std::chrono::seconds;

ZoneRules system_zone(const std::string& name) {
  auto bytes = util::read_file("/usr/share/zoneinfo/" + name);
  REQUIRE_MESSAGE(bytes.has_value(), "tzdata is needed (.ci/setup installs it)");
  auto rules = parse_tzif(name, *bytes);
  REQUIRE_MESSAGE(rules.has_value(), rules.error().to_string());
  return *rules;
}

SysSeconds at(sys_days day, hours h, minutes m = minutes{0}) { return SysSeconds{day + h + m}; }

/// Minimal TZif writer for hand-made files.
struct TzifWriter {
  std::string out;
  void be(std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
  }
  void header(char version, std::uint32_t timecnt, std::uint32_t typecnt, std::uint32_t charcnt) {
    out += "TZif";
    out += version;
    out += std::string(15, '\0');
    for (std::uint32_t c : {0U, 0U, 0U, timecnt, typecnt, charcnt}) be(c, 4);
  }
};

TEST_SUITE("policy") {
  TEST_CASE("zone: Asia/Shanghai is UTC+8 now and was UTC+9 in the 1988 summer") {
    const auto z = system_zone("Asia/Shanghai");
    CHECK(z.name == "Asia/Shanghai");
    CHECK(z.offset_at(at(sys_days{2024y / January / 15}, hours{0})) == hours{8});
    CHECK(z.offset_at(at(sys_days{2024y / July / 15}, hours{0})) == hours{8});
    // China observed daylight saving 1986-1991.
    CHECK(z.offset_at(at(sys_days{1988y / July / 1}, hours{0})) == hours{9});
    // Before the first transition: local mean time, +8:05:43.
    CHECK(z.initial_offset == hours{8} + minutes{5} + seconds{43});
  }

  TEST_CASE("zone: America/New_York offsets on both sides of the 2024 transitions") {
    const auto z = system_zone("America/New_York");
    // DST began 2024-03-10 02:00 EST = 07:00 UTC; ended 2024-11-03 02:00 EDT = 06:00 UTC.
    const auto spring = at(sys_days{2024y / March / 10}, hours{7});
    const auto autumn = at(sys_days{2024y / November / 3}, hours{6});
    CHECK(z.offset_at(spring - seconds{1}) == hours{-5});
    CHECK(z.offset_at(spring) == hours{-4});
    CHECK(z.offset_at(autumn - seconds{1}) == hours{-4});
    CHECK(z.offset_at(autumn) == hours{-5});
    // Beyond the last listed transition the footer rule (EST5EDT,M3.2.0,M11.1.0) applies:
    // 2090-03-12 is the second Sunday of March 2090.
    const auto spring_2090 = at(sys_days{2090y / March / 12}, hours{7});
    CHECK(z.offset_at(spring_2090 - seconds{1}) == hours{-5});
    CHECK(z.offset_at(spring_2090) == hours{-4});
  }

  TEST_CASE("zone: UTC needs no file") {
    const auto z = utc_zone();
    CHECK(z.name == "UTC");
    CHECK(z.transitions.empty());
    CHECK(z.offset_at(at(sys_days{2024y / June / 1}, hours{12})) == seconds{0});
  }

  TEST_CASE("zone: a version 1 file uses its 32-bit data") {
    TzifWriter w;
    w.header('\0', 1, 2, 4);
    w.be(1000, 4);                   // transition time
    w.out += '\1';                   // to type 1
    w.be(3600, 4), w.be(0, 2);       // type 0: +1h
    w.be(7200, 4), w.be(0x0100, 2);  // type 1: +2h, dst
    w.out += std::string("A\0B\0", 4);
    auto z = parse_tzif("Test/V1", w.out);
    REQUIRE_MESSAGE(z.has_value(), z.error().to_string());
    CHECK(z->initial_offset == hours{1});
    CHECK(z->offset_at(SysSeconds{seconds{999}}) == hours{1});
    CHECK(z->offset_at(SysSeconds{seconds{1000}}) == hours{2});
  }

  TEST_CASE("zone: a slim version 2 file is extended from its footer rule like the fat one") {
    // No transitions at all, only the footer: every DST change comes from the rule.
    TzifWriter w;
    for (int block = 0; block < 2; ++block) {
      w.header('2', 0, 1, 4);
      w.be(static_cast<std::uint64_t>(static_cast<std::int64_t>(-18000)) & 0xFFFFFFFF, 4);
      w.be(0, 2);
      w.out += std::string("EST\0", 4);
    }
    w.out += "\nEST5EDT,M3.2.0,M11.1.0\n";
    auto slim = parse_tzif("Test/Slim", w.out);
    REQUIRE_MESSAGE(slim.has_value(), slim.error().to_string());
    const auto fat = system_zone("America/New_York");
    for (int year = 1990; year <= 2036; ++year) {
      for (unsigned month = 1; month <= 12; ++month) {
        for (unsigned day : {1U, 8U, 15U}) {
          const auto t = at(
              sys_days{std::chrono::year{year} / std::chrono::month{month} / std::chrono::day{day}},
              hours{6}, minutes{30});
          CAPTURE(year);
          CAPTURE(month);
          if (year >= 2007) CHECK(slim->offset_at(t) == fat.offset_at(t));
        }
      }
    }
  }

  TEST_CASE("zone: malformed bytes are errors, not crashes") {
    const auto good = util::read_file("/usr/share/zoneinfo/America/New_York");
    REQUIRE(good.has_value());
    struct Case {
      std::string_view name;
      std::string bytes;
      std::string_view want;
    };
    const Case cases[] = {
        {"empty", "", "not a TZif file"},
        {"wrong magic", "TZab" + std::string(40, '\0'), "not a TZif file"},
        {"truncated", good->substr(0, 100), "truncated"},
        {"header only", good->substr(0, 44), "truncated"},
        {"bad version", "TZifx" + std::string(39, '\0'), "unknown TZif version"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto z = parse_tzif("Bad/Zone", c.bytes);
      CHECK_FALSE(z.has_value());
      if (!z) {
        CHECK(z.error().code == ErrorCode::InvalidInput);
        CHECK(z.error().message.find(c.want) != std::string::npos);
        CHECK(z.error().message.find("Bad/Zone") != std::string::npos);
      }
    }
    // Every prefix of a real file is either rejected or parsed; none may crash.
    for (std::size_t n = 0; n < good->size(); n += 7)
      (void)parse_tzif("Prefix", good->substr(0, n));
  }
}

}  // namespace
}  // namespace qfscale::policy
