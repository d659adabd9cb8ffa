// bce-auth-v1 throughput for the DescribeService request of docs/QIANFAN-API.md §3: how many
// requests per second one core can sign (client) and verify (fake server). Both are two
// HMAC-SHA256s plus canonicalisation; verification adds parsing the Authorization header.

#include <chrono>
#include <optional>
#include <string>

#include <benchmark/benchmark.h>

#include "qfscale/bce/signer.h"

namespace {

using qfscale::bce::CanonicalInput;
using qfscale::bce::Credentials;
using qfscale::bce::SysSeconds;

const Credentials kCredentials{.access_key = "ak-test-0123456789abcdef",
                               .secret_key = "sk-test-fedcba9876543210"};
const SysSeconds kTime{std::chrono::seconds{1735787045}};  // 2025-01-02T03:04:05Z

CanonicalInput describe_service() {
  return CanonicalInput{.method = "POST",
                        .path = "/v2/service",
                        .query = {{"Action", "DescribeService"}},
                        .headers = {{"Content-Type", "application/json"},
                                    {"Content-Length", "30"},
                                    {"Host", "qianfan.baidubce.com"},
                                    {"x-bce-date", "2025-01-02T03:04:05Z"},
                                    {"User-Agent", "qfscale/0.1.0"}}};
}

void BM_SignDescribeService(benchmark::State& state) {
  const CanonicalInput request = describe_service();
  const qfscale::bce::SigningOptions options{.timestamp = kTime};
  for (auto _ : state) {
    auto signature = qfscale::bce::sign(kCredentials, request, options);
    benchmark::DoNotOptimize(signature);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SignDescribeService);

void BM_VerifyDescribeService(benchmark::State& state) {
  const CanonicalInput request = describe_service();
  const std::string authorization =
      qfscale::bce::sign(kCredentials, request, {.timestamp = kTime}).authorization;
  const qfscale::bce::SecretLookup lookup = [](std::string_view ak) -> std::optional<std::string> {
    if (ak == kCredentials.access_key) return kCredentials.secret_key;
    return std::nullopt;
  };
  const qfscale::bce::VerifyOptions options{.now = kTime};
  if (!qfscale::bce::verify(request, authorization, lookup, options)) {
    state.SkipWithError("the signed request does not verify");
    return;
  }
  for (auto _ : state) {
    auto result = qfscale::bce::verify(request, authorization, lookup, options);
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyDescribeService);

}  // namespace
