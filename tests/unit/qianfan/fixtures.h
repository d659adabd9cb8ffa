#pragma once

// Reads recorded replies from tests/data/qianfan; a fixed reply time and a fixed Random.

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include <doctest/doctest.h>

#include "qfscale/http/message.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/random.h"

#include "support/fake_http_client.h"

namespace qfscale::qianfan::test {

/// 2025-01-02T03:04:05Z: when the decoders' replies "arrive" (a Retry-After date is relative to
/// it).
inline constexpr util::SystemTime kNow{std::chrono::seconds{1'735'787'045}};

/// A Random whose uniform01 is fixed, to check the backoff formula exactly.
class FixedRandom final : public util::Random {
 public:
  explicit FixedRandom(double value) : util::Random(0), value_(value) {}
  double uniform01() override { return value_; }

 private:
  double value_;
};

inline std::string read_fixture(std::string_view name) {
  const std::string path = std::string(QFS_TEST_DATA_DIR) + "/qianfan/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing fixture " << path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// support's json_reply under the short name these tests use.
inline http::Response reply(int status, std::string body, http::Headers extra = {}) {
  return qfscale::testing::json_reply(status, std::move(body), std::move(extra));
}

inline http::Response fixture_reply(std::string_view name, int status = 200) {
  return reply(status, read_fixture(name));
}

}  // namespace qfscale::qianfan::test
