#pragma once

/// HTTP(S) client interface. The Beast implementation verifies peers and host names by default,
/// reuses keep-alive connections, enforces deadlines and a response size limit, and refuses
/// redirects (a 3xx is returned as a response, never followed).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "qfscale/http/message.h"
#include "qfscale/util/result.h"

namespace qfscale::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url;  ///< absolute: "https://host[:port]/path?query"
  Headers headers;  ///< Host is added from the URL when absent
  std::string body;
  /// Overrides ClientOptions::request_timeout for this call when set.
  std::optional<std::chrono::milliseconds> timeout;
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds request_timeout{30'000};  ///< whole exchange: write + read
  std::size_t max_response_bytes = 16u << 20;
  bool verify_peer = true;  ///< TLS peer and host-name verification
  std::string ca_file;      ///< extra trust anchor (PEM), e.g. a test CA; system CAs otherwise
  std::size_t max_idle_per_host = 64;
};

/// Thread-safety: `send` may be called concurrently from any number of threads.
class Client {
 public:
  virtual ~Client() = default;
  /// Returns the response for any status code. Errors: Transient for connect failures,
  /// timeouts, resets and oversized or malformed responses; InvalidInput for a bad URL.
  [[nodiscard]] virtual Result<Response> send(const ClientRequest& request) = 0;
};

/// The Beast implementation.
[[nodiscard]] Result<std::unique_ptr<Client>> make_client(ClientOptions options);

/// Host header value for a URL: "host" for default ports, "host:port" otherwise.
struct ParsedUrl {
  std::string scheme;  ///< "http" or "https"
  std::string host;
  std::string port;    ///< always filled: "443", "80" or explicit
  std::string target;  ///< path and query, at least "/"
  [[nodiscard]] std::string host_header() const;
};
[[nodiscard]] Result<ParsedUrl> parse_url(std::string_view url);

}  // namespace qfscale::http
