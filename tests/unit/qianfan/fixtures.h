#pragma once

// Reads recorded replies from tests/data/qianfan.

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "qfscale/http/message.h"

namespace qfscale::qianfan::test {

inline std::string read_fixture(std::string_view name) {
  const std::string path = std::string(QFS_TEST_DATA_DIR) + "/qianfan/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing fixture " << path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline http::Response reply(int status, std::string body, http::Headers extra = {}) {
  http::Response r;
  r.status = status;
  r.headers.push_back({"Content-Type", "application/json"});
  for (auto& h : extra) r.headers.push_back(std::move(h));
  r.body = std::move(body);
  return r;
}

inline http::Response fixture_reply(std::string_view name, int status = 200) {
  return reply(status, read_fixture(name));
}

}  // namespace qfscale::qianfan::test
