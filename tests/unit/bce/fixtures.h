#pragma once

// Inputs of the docs/QIANFAN-API.md §3 Qianfan rows, shared by the bce tests.

#include <chrono>
#include <string>
#include <string_view>

#include "qfscale/bce/signer.h"

namespace qfscale::bce::testing {

/// AKq/SKq of §3.
inline const Credentials kQianfan{.access_key = "ak-test-0123456789abcdef",
                                  .secret_key = "sk-test-fedcba9876543210"};
/// 2025-01-02T03:04:05Z as Unix seconds (Python calendar.timegm).
inline const SysSeconds kQianfanTime{std::chrono::seconds{1735787045}};

inline constexpr std::string_view kDescribeBody = R"({"serviceId":"svco-abc123xyz"})";

/// What consoleAction sends (§2.2): the four signed headers plus two it never signs.
inline CanonicalInput console_request(std::string action, std::string host, std::string_view body) {
  return CanonicalInput{
      .method = "POST",
      .path = "/v2/service",
      .query = {{"Action", std::move(action)}},
      .headers = {{"Content-Type", "application/json"},
                  {"Content-Length", std::to_string(body.size())},
                  {"Host", std::move(host)},
                  {"x-bce-date", "2025-01-02T03:04:05Z"},
                  {"User-Agent", "Qianfan-Node-SDK/0.2.4"},
                  {"Accept", "application/json"}},
  };
}

}  // namespace qfscale::bce::testing
