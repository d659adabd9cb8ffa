#pragma once

/// HTTP(S) client interface. The Beast implementation verifies peers and host names by default,
/// reuses keep-alive connections, enforces deadlines and a response size limit, and refuses
/// redirects (a 3xx is returned as a response, never followed).

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

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
  std::chrono::milliseconds connect_timeout{5'000};   ///< resolve + TCP connect + TLS handshake
  std::chrono::milliseconds request_timeout{30'000};  ///< whole exchange: write + read
  std::size_t max_response_bytes = 16u << 20;
  bool verify_peer = true;  ///< TLS peer and host-name verification
  /// PEM bundle of the CAs to trust instead of the system store (a private or test CA);
  /// empty: the system store
  std::string ca_file;
  /// PEM client certificate chain and private key presented to servers that ask for one
  /// (etcd with --client-cert-auth); both or neither.
  std::string cert_file;
  std::string key_file;
  std::size_t max_idle_per_host = 64;
};

/// Thread-safety: `send` may be called concurrently from any number of threads.
class Client {
 public:
  virtual ~Client() = default;
  /// Returns the response for any status code. Errors: InvalidInput when the peer's certificate
  /// fails verification (chain or host name): retrying cannot help until the trust settings
  /// (ca_file) or the certificate change; Transient for connect failures, timeouts, resets,
  /// other TLS failures and oversized or malformed responses, with a message that
  /// names the peer and the step ("connect to 127.0.0.1:1234: Connection refused"); InvalidInput
  /// for a bad URL, method or header. A request that fails on a pooled keep-alive connection
  /// before any response byte arrives (the server closed it while idle) is sent once more on a
  /// fresh connection — also for POST, since that is how an idle close shows up.
  [[nodiscard]] virtual Result<Response> send(const ClientRequest& request) = 0;
  /// For a process that is stopping: every request in flight fails at once and every later one
  /// fails without being sent (Transient, "cancelled, qfscale is stopping: ..."). Safe from any
  /// thread. A host name still being resolved is not interrupted (getaddrinfo cannot be).
  virtual void cancel_all() {}
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
