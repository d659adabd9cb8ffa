#pragma once

/// A small HTTP(S) server with a router, for our own endpoints: the fake Qianfan API, and later
/// /metrics, /healthz and the decisions API. Malformed requests get a clean 4xx; bodies over the
/// limit get 413; unknown paths 404; wrong methods 405.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "qfscale/http/message.h"
#include "qfscale/util/result.h"

namespace qfscale::http {

/// A handler must be safe to call concurrently when the server runs more than one thread.
using Handler = std::function<Response(const Request&)>;

/// Routes by method and path (the target without its query). A pattern ending in "/*" matches
/// every path starting with the pattern minus the "*" ("/v2/*" matches "/v2/" and "/v2/a/b", not
/// "/v2"). The most specific matching pattern wins whatever the registration order: an exact
/// path, then the longest prefix; among routes with that pattern the method decides, and the
/// first registration wins for duplicates. No matching pattern: 404. A matching pattern without
/// the method: 405 with an `Allow` header listing the methods that pattern has.
/// Thread-safety: build it before starting the server; `dispatch` is then const and safe.
class Router {
 public:
  Router& add(std::string method, std::string path_pattern, Handler handler);
  [[nodiscard]] Response dispatch(const Request& request) const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    Handler handler;
  };
  std::vector<Route> routes_;
};

struct TlsFiles {
  std::string certificate_chain_file;  ///< PEM
  std::string private_key_file;        ///< PEM
};

struct ServerOptions {
  /// "ip:port", "[v6]:port" or "localhost:port"; port 0 picks a free one (see Server::port).
  std::string listen = "127.0.0.1:0";
  std::optional<TlsFiles> tls;               ///< TLS 1.2+ when set
  std::size_t max_body_bytes = 1u << 20;     ///< larger bodies get 413 and the connection closes
  std::size_t max_header_bytes = 16u << 10;  ///< larger header blocks get 431
  /// Bounds the TLS handshake, reading each request, and how long an idle keep-alive
  /// connection is kept; writing a response gets the same budget.
  std::chrono::milliseconds read_timeout{30'000};
  int threads = 2;  ///< io threads; values below 1 mean 1
  /// Connections served at once. Beyond it a new connection is answered 503 (plain HTTP) or
  /// closed (TLS) at once, without reading it. 0: a quarter of the process's descriptor limit
  /// (RLIMIT_NOFILE, soft) at start, at most 256, so that a flood of clients cannot take the
  /// descriptors the process needs for its outbound calls and files.
  std::size_t max_connections = 0;
};

/// A running server. Handlers run on the server's threads; a handler that throws gets a 500.
/// Malformed requests get 400, and every 4xx from parsing closes the connection. When accept
/// fails for want of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) the server waits
/// 100 ms, then 1 s between attempts, instead of retrying at once, and logs one line on stderr
/// when that starts and one when accepting works again; reaching max_connections is logged once
/// per episode too.
/// Thread-safety: `address`, `port`, `tls` and `stop` are safe from any thread except the
/// server's own handler threads (`stop` joins them; calling it from a handler is a bug and
/// aborts).
class Server {
 public:
  virtual ~Server() = default;
  [[nodiscard]] virtual std::string address() const = 0;  ///< "127.0.0.1:43211"
  [[nodiscard]] virtual std::uint16_t port() const = 0;
  [[nodiscard]] virtual bool tls() const = 0;
  [[nodiscard]] virtual std::size_t max_connections() const = 0;  ///< the effective cap
  /// Stops accepting, closes every connection (pending delayed responses are abandoned) and
  /// joins the threads. Idempotent; the destructor calls it.
  virtual void stop() = 0;
};

/// Binds, listens and starts serving on its own threads before returning.
[[nodiscard]] Result<std::unique_ptr<Server>> start_server(ServerOptions options, Router router);

}  // namespace qfscale::http
