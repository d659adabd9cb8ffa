#include "fake/auth.h"

#include <algorithm>

#include <fmt/format.h>

#include "fake/wire.h"

namespace qfscale::fake::detail {
namespace {

using util::SystemTime;

constexpr int kMaxSignatureExpiration = 3600;  ///< seconds

bool iequals(std::string_view a, std::string_view b) {
  const auto lower = [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

/// What a valid signature must also satisfy here: a bounded lifetime, and the Host signed
/// and naming this server.
std::optional<ApiError> check_scope(const http::Request& request, std::string_view authorization,
                                    const std::vector<std::string>& accepted) {
  const auto parsed = bce::parse_authorization(authorization);
  if (!parsed) return ApiError{"InvalidHTTPAuthHeader", parsed.error().message};
  if (parsed->expiration_seconds > kMaxSignatureExpiration) {
    return ApiError{"InvalidHTTPAuthHeader",
                    fmt::format("expirationPeriodInSeconds {} is above {}: sign for a shorter "
                                "period (the SDKs use 1800)",
                                parsed->expiration_seconds, kMaxSignatureExpiration)};
  }
  if (accepted.empty()) return std::nullopt;
  const auto& listed = parsed->signed_headers;
  const bool host_signed =
      listed.empty() || std::any_of(listed.begin(), listed.end(),
                                    [](const auto& name) { return iequals(name, "host"); });
  const auto host = request.header("Host");
  const bool ours = host && std::any_of(accepted.begin(), accepted.end(),
                                        [&](const auto& h) { return iequals(h, *host); });
  if (!host_signed || !ours) {
    return ApiError{"SignatureDoesNotMatch",
                    fmt::format("the request must be signed for this endpoint: sign the Host "
                                "header with the value {}",
                                accepted.front())};
  }
  return std::nullopt;
}

}  // namespace

/// Checks the signature; the error (code, message) when it does not verify.
std::optional<ApiError> authenticate(const http::Request& request, const AuthConfig& config,
                                     SystemTime now) {
  const auto authorization = request.header("Authorization");
  if (!authorization || authorization->empty()) {
    return ApiError{"InvalidHTTPAuthHeader",
                    "missing Authorization header: sign the request with bce-auth-v1 using the "
                    "fake's access key"};
  }
  bce::CanonicalInput input;
  input.method = request.method;
  input.path = percent_decode(request.path());
  input.query = parse_query(request.query());
  for (const auto& header : request.headers) input.headers.emplace_back(header.name, header.value);
  const bce::SecretLookup lookup =
      [&config](std::string_view access_key) -> std::optional<std::string> {
    if (access_key == config.credentials.access_key) return config.credentials.secret_key;
    return std::nullopt;
  };
  const bce::VerifyOptions options{.now = std::chrono::floor<std::chrono::seconds>(now),
                                   .allowed_future_skew = config.allowed_skew};
  auto verified = bce::verify(input, *authorization, lookup, options);
  if (verified) return check_scope(request, *authorization, config.hosts);
  switch (verified.error().failure) {
    case bce::VerifyFailure::Malformed:
      return ApiError{"InvalidHTTPAuthHeader", verified.error().message};
    case bce::VerifyFailure::UnknownAccessKey:
      return ApiError{"InvalidAccessKeyId", verified.error().message};
    case bce::VerifyFailure::SignatureMismatch:
      return ApiError{"SignatureDoesNotMatch", verified.error().message};
    case bce::VerifyFailure::Expired:
      return ApiError{"RequestExpired", verified.error().message};
  }
  return ApiError{"InvalidHTTPAuthHeader", verified.error().message};
}

}  // namespace qfscale::fake::detail
