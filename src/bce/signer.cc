#include "qfscale/bce/signer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "qfscale/util/check.h"

#include "bce/detail.h"

namespace qfscale::bce {
namespace {

constexpr std::string_view kAuthVersion = "bce-auth-v1";
constexpr std::size_t kSignatureHexLength = 64;  // SHA-256 output, 32 bytes as hex

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char ascii_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

// JS String.prototype.trim and Python str.strip both drop these; header values are trimmed
// before signing on both sides (§2.1 step 3).
std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(kSpace);
  return s.substr(first, last - first + 1);
}

std::string join(const std::vector<std::string>& parts, char separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i != 0) out.push_back(separator);
    out += parts[i];
  }
  return out;
}

// The process-wide HMAC algorithm object. Fetching it costs a provider lookup, so it is done
// once; EVP_MAC objects are immutable and safe to share between threads. It is deliberately
// never freed: OpenSSL's own atexit cleanup may run before static destructors.
EVP_MAC* hmac_algorithm() {
  // EVP_MAC_CTX_new takes a non-const pointer, though it never modifies the algorithm.
  static EVP_MAC* const mac =  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)
      EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

[[noreturn]] void openssl_failed(std::string_view what) {
  std::array<char, 256> buf{};
  ERR_error_string_n(ERR_get_error(), buf.data(), buf.size());
  const std::string message = std::string(what) + ": " + buf.data();
  util::detail::check_failed("OpenSSL HMAC-SHA256", message, __FILE__, __LINE__);
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  constexpr std::string_view kHexLower = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kHexLower[data[i] >> 4U]);
    out.push_back(kHexLower[data[i] & 0x0FU]);
  }
  return out;
}

// Which headers go into CanonicalHeaders: `listed` holds lower-case names, or is null for the
// default set (§2.1 step 3).
bool selected(std::string_view lower_name, const std::vector<std::string>* listed) {
  if (listed != nullptr) {
    return std::find(listed->begin(), listed->end(), lower_name) != listed->end();
  }
  return lower_name == "host" || lower_name == "content-md5" || lower_name == "content-length" ||
         lower_name == "content-type" || lower_name.starts_with("x-bce-");
}

struct Canonical {
  std::string request;
  std::string signed_headers;
};

// `host_override` replaces the Host value: the verifier's second try without the port.
Canonical canonicalize(const CanonicalInput& input, const std::vector<std::string>* listed,
                       const std::string* host_override = nullptr) {
  std::string method(input.method);
  std::transform(method.begin(), method.end(), method.begin(), ascii_upper);

  std::vector<std::string> query;
  query.reserve(input.query.size());
  for (const auto& [key, value] : input.query) {
    if (iequals(key, "authorization")) continue;
    query.push_back(uri_encode(key) + "=" + uri_encode(value));
  }
  // The whole "k=v" strings are sorted, not the keys: "text10=…" sorts before "text1=…".
  std::sort(query.begin(), query.end());

  std::vector<std::string> lines;
  std::vector<std::string> names;
  for (const auto& [raw_name, raw_value] : input.headers) {
    std::string name = to_lower(raw_name);
    if (!selected(name, listed)) continue;
    const std::string_view value =
        (host_override != nullptr && name == "host") ? *host_override : trim(raw_value);
    if (value.empty()) continue;
    lines.push_back(uri_encode(name) + ":" + uri_encode(value));
    names.push_back(std::move(name));
  }
  std::sort(lines.begin(), lines.end());
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  Canonical out;
  out.request = method + "\n" + uri_encode(input.path.empty() ? "/" : input.path, true) + "\n" +
                join(query, '&') + "\n" + join(lines, '\n');
  out.signed_headers = join(names, ';');
  return out;
}

std::string auth_string_prefix(std::string_view access_key, SysSeconds timestamp,
                               int expiration_seconds) {
  return fmt::format("{}/{}/{}/{}", kAuthVersion, access_key, format_timestamp(timestamp),
                     expiration_seconds);
}

// "host:8765" -> "host", "[::1]:8765" -> "[::1]"; nullopt when there is no port to drop.
std::optional<std::string> host_without_port(std::string_view host) {
  const auto colon = host.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const auto port = host.substr(colon + 1);
  if (port.empty() || !std::all_of(port.begin(), port.end(), is_digit)) return std::nullopt;
  const auto name = host.substr(0, colon);
  const bool bracketed = name.front() == '[' && name.back() == ']';
  if (!bracketed && name.find(':') != std::string_view::npos) return std::nullopt;
  return std::string(name);
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  // The length of a signature is public (always 64); only the content must not leak via timing.
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

tl::unexpected<VerifyError> reject(VerifyFailure failure, std::string message) {
  return tl::unexpected<VerifyError>(VerifyError{failure, std::move(message)});
}

}  // namespace

namespace detail {

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  EVP_MAC* mac = hmac_algorithm();
  if (mac == nullptr) openssl_failed("EVP_MAC_fetch(HMAC)");
  const std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_new(mac),
                                                                      &EVP_MAC_CTX_free);
  if (!ctx) openssl_failed("EVP_MAC_CTX_new");
  std::string digest = "SHA256";  // OSSL_PARAM wants a mutable buffer
  const std::array<OSSL_PARAM, 2> params{
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest.data(), 0),
      OSSL_PARAM_construct_end()};
  // A null key means "keep the previous key" to EVP_MAC_init, so an empty key still needs a
  // non-null pointer.
  static constexpr unsigned char kEmpty = 0;
  const auto* key_bytes =
      key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_MAC_init(ctx.get(), key_bytes, key.size(), params.data()) != 1) {
    openssl_failed("EVP_MAC_init");
  }
  if (EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1) {
    openssl_failed("EVP_MAC_update");
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  std::size_t out_size = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &out_size, out.size()) != 1 || out_size != 32) {
    openssl_failed("EVP_MAC_final");
  }
  return to_hex(out.data(), out_size);
}

std::string signing_key(std::string_view secret_key, std::string_view auth_string_prefix) {
  return hmac_sha256_hex(secret_key, auth_string_prefix);
}

}  // namespace detail

Result<Credentials> Credentials::from_environment() {
  // The values are read, never formatted: only the variable names appear in errors.
  const char* access_key = std::getenv("QIANFAN_ACCESS_KEY");  // NOLINT(concurrency-mt-unsafe)
  if (access_key == nullptr || *access_key == '\0') {
    return fail(ErrorCode::InvalidInput, "QIANFAN_ACCESS_KEY is not set or empty");
  }
  const char* secret_key = std::getenv("QIANFAN_SECRET_KEY");  // NOLINT(concurrency-mt-unsafe)
  if (secret_key == nullptr || *secret_key == '\0') {
    return fail(ErrorCode::InvalidInput, "QIANFAN_SECRET_KEY is not set or empty");
  }
  return Credentials{.access_key = access_key, .secret_key = secret_key};
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  constexpr std::string_view kHexUpper = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out.push_back(c);
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    out.push_back('%');
    out.push_back(kHexUpper[byte >> 4U]);
    out.push_back(kHexUpper[byte & 0x0FU]);
  }
  return out;
}

std::string format_timestamp(SysSeconds t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

Result<SysSeconds> parse_timestamp(std::string_view text) {
  using namespace std::chrono;
  auto bad = [] {
    return fail(ErrorCode::InvalidInput,
                "timestamp must be UTC in the form 2025-01-02T03:04:05Z (no fraction)");
  };
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (text.size() != kShape.size()) return bad();
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    if (kShape[i] == 'd' ? !is_digit(text[i]) : text[i] != kShape[i]) return bad();
  }
  auto number = [&](std::size_t pos, std::size_t len) {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  const year_month_day ymd{year{number(0, 4)}, month{static_cast<unsigned>(number(5, 2))},
                           day{static_cast<unsigned>(number(8, 2))}};
  const int hh = number(11, 2);
  const int mm = number(14, 2);
  const int ss = number(17, 2);
  if (!ymd.ok() || hh > 23 || mm > 59 || ss > 59) return bad();
  return SysSeconds{sys_days{ymd}} + hours{hh} + minutes{mm} + seconds{ss};
}

Signature sign(const Credentials& credentials, const CanonicalInput& request,
               const SigningOptions& options) {
  std::vector<std::string> listed;
  listed.reserve(options.headers_to_sign.size());
  for (const auto& name : options.headers_to_sign) listed.push_back(to_lower(name));
  Canonical canonical = canonicalize(request, listed.empty() ? nullptr : &listed);

  const std::string prefix =
      auth_string_prefix(credentials.access_key, options.timestamp, options.expiration_seconds);
  Signature out;
  out.signature = detail::hmac_sha256_hex(detail::signing_key(credentials.secret_key, prefix),
                                          canonical.request);
  out.authorization = prefix + "/" + canonical.signed_headers + "/" + out.signature;
  out.signed_headers = std::move(canonical.signed_headers);
  out.canonical_request = std::move(canonical.request);
  return out;
}

Result<AuthorizationHeader> parse_authorization(std::string_view value) {
  auto bad = [](std::string_view why) {
    return fail(ErrorCode::InvalidInput, fmt::format("Authorization: {}", why));
  };
  std::array<std::string_view, 6> fields;
  std::size_t count = 0;
  std::size_t start = 0;
  while (true) {
    const auto slash = value.find('/', start);
    if (count == fields.size()) return bad("want 6 fields separated by '/'");
    fields[count++] = value.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (count != fields.size()) return bad("want 6 fields separated by '/'");
  if (fields[0] != kAuthVersion) return bad("version must be bce-auth-v1");

  AuthorizationHeader out;
  if (fields[1].empty()) return bad("access key is empty");
  out.access_key = std::string(fields[1]);

  auto timestamp = parse_timestamp(fields[2]);
  if (!timestamp) return bad("timestamp must look like 2025-01-02T03:04:05Z");
  out.timestamp = *timestamp;

  // Leading zeros or a sign would not survive re-formatting the prefix, which the signing key
  // covers byte for byte; no SDK sends them.
  const auto exp = fields[3];
  const bool canonical_digits = !exp.empty() && std::all_of(exp.begin(), exp.end(), is_digit) &&
                                (exp.size() == 1 || exp.front() != '0');
  const auto [end, ec] =
      std::from_chars(exp.data(), exp.data() + exp.size(), out.expiration_seconds);
  if (!canonical_digits || ec != std::errc{} || end != exp.data() + exp.size()) {
    return bad("expiration must be a non-negative decimal number of seconds");
  }

  if (!fields[4].empty()) {
    std::size_t pos = 0;
    while (true) {
      const auto semicolon = fields[4].find(';', pos);
      const auto name =
          fields[4].substr(pos, semicolon == std::string_view::npos ? semicolon : semicolon - pos);
      if (name.empty()) return bad("signed header list has an empty name");
      out.signed_headers.emplace_back(name);
      if (semicolon == std::string_view::npos) break;
      pos = semicolon + 1;
    }
  }

  const auto sig = fields[5];
  const bool hex = std::all_of(sig.begin(), sig.end(),
                               [](char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); });
  if (sig.size() != kSignatureHexLength || !hex) {
    return bad("signature must be 64 lower-case hex digits");
  }
  out.signature = std::string(sig);
  return out;
}

tl::expected<std::string, VerifyError> verify(const CanonicalInput& request,
                                              std::string_view authorization,
                                              const SecretLookup& lookup,
                                              const VerifyOptions& options) {
  auto parsed = parse_authorization(authorization);
  if (!parsed) return reject(VerifyFailure::Malformed, parsed.error().message);

  std::optional<std::string> secret;
  if (lookup) secret = lookup(parsed->access_key);
  if (!secret) return reject(VerifyFailure::UnknownAccessKey, "the access key is not known");

  const auto expires = parsed->timestamp + std::chrono::seconds{parsed->expiration_seconds};
  if (options.now > expires) {
    return reject(VerifyFailure::Expired,
                  fmt::format("request signed at {} for {}s has expired; server time is {}",
                              format_timestamp(parsed->timestamp), parsed->expiration_seconds,
                              format_timestamp(options.now)));
  }
  if (parsed->timestamp > options.now + options.allowed_future_skew) {
    return reject(VerifyFailure::Expired,
                  fmt::format("request signed at {} is more than {}s ahead of server time {}",
                              format_timestamp(parsed->timestamp),
                              options.allowed_future_skew.count(), format_timestamp(options.now)));
  }

  std::vector<std::string> listed;
  listed.reserve(parsed->signed_headers.size());
  for (const auto& name : parsed->signed_headers) listed.push_back(to_lower(name));
  const std::vector<std::string>* selection = listed.empty() ? nullptr : &listed;

  const std::string key = detail::signing_key(
      *secret,
      auth_string_prefix(parsed->access_key, parsed->timestamp, parsed->expiration_seconds));
  const auto matches = [&](const std::string* host_override) {
    const Canonical canonical = canonicalize(request, selection, host_override);
    return equal_constant_time(detail::hmac_sha256_hex(key, canonical.request), parsed->signature);
  };
  if (matches(nullptr)) return std::move(parsed->access_key);

  // Go clients sign the host without the port but send it with the port (§2.3).
  if (selected("host", selection)) {
    const auto host = std::find_if(request.headers.begin(), request.headers.end(),
                                   [](const auto& h) { return iequals(h.first, "host"); });
    if (host != request.headers.end()) {
      if (const auto bare = host_without_port(trim(host->second)); bare && matches(&*bare)) {
        return std::move(parsed->access_key);
      }
    }
  }
  return reject(VerifyFailure::SignatureMismatch,
                "the signature does not match the request (check the secret key, the signed "
                "headers, the path and the query)");
}

}  // namespace qfscale::bce
