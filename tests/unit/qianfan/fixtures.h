#pragma once

// Reads recorded replies from tests/data/qianfan.

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include <doctest/doctest.h>

#include "qfscale/http/message.h"

#include "support/fake_http_client.h"

namespace qfscale::qianfan::test {

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
