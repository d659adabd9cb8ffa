// Issue 14 item 7 for the data readers: a trace or `policy eval` steps path that points at the
// credentials file is reported without the keys.

#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "qfscale/policy/eval.h"
#include "qfscale/trace/trace.h"
#include "qfscale/util/redact.h"

namespace qfscale::trace {
namespace {

constexpr std::string_view kAccessKey = "9d3c0e5b1a7f4e2d8c6b0a9f1e3d5c7b";
constexpr std::string_view kSecretKey = "e41f0c9d8b7a6f5e4d3c2b1a0f9e8d7c";

std::string credentials_file() {
  return fmt::format("QIANFAN_ACCESS_KEY={}\nQIANFAN_SECRET_KEY={}\n", kAccessKey, kSecretKey);
}

void check_no_key(const util::Diagnostics& ds) {
  const auto text = util::to_string(ds);
  CHECK(text.find(kAccessKey) == std::string::npos);
  CHECK(text.find(kSecretKey) == std::string::npos);
  CHECK(text.find(util::kHiddenSecret) != std::string::npos);
}

TEST_SUITE("trace") {
  TEST_CASE("trace: the credentials file as a trace is reported without the keys") {
    const auto got = parse_trace(credentials_file(), "creds");
    REQUIRE_FALSE(got.has_value());
    check_no_key(got.error());
  }

  TEST_CASE("policy eval: the credentials file as steps is reported without the keys") {
    const auto got = policy::parse_eval_steps(credentials_file(), "creds");
    REQUIRE_FALSE(got.has_value());
    check_no_key(got.error());
    // As JSON lines too: keys and values are quoted in messages only through the excerpt.
    const auto json = policy::parse_eval_steps(
        fmt::format("{{\"t_seconds\": 0, \"current_replicas\": 1, \"{}\": 1}}\n"
                    "{{\"t_seconds\": \"{}\", \"current_replicas\": 1}}\n",
                    kAccessKey, kSecretKey),
        "steps.jsonl");
    REQUIRE_FALSE(json.has_value());
    check_no_key(json.error());
  }
}

}  // namespace
}  // namespace qfscale::trace
