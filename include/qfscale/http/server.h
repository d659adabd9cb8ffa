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

/// Routes by method and path. A pattern ending in "/*" matches that prefix.
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
  std::string listen = "127.0.0.1:0";  ///< host:port; port 0 picks a free one
  std::optional<TlsFiles> tls;
  std::size_t max_body_bytes = 1u << 20;
  std::size_t max_header_bytes = 16u << 10;
  std::chrono::milliseconds read_timeout{30'000};
  int threads = 2;
};

/// Thread-safety: `address`, `port` and `stop` are safe from any thread.
class Server {
 public:
  virtual ~Server() = default;
  [[nodiscard]] virtual std::string address() const = 0;  ///< "127.0.0.1:43211"
  [[nodiscard]] virtual std::uint16_t port() const = 0;
  [[nodiscard]] virtual bool tls() const = 0;
  /// Stops accepting, closes connections and joins the threads. Idempotent.
  virtual void stop() = 0;
};

/// Binds, listens and starts serving on its own threads before returning.
[[nodiscard]] Result<std::unique_ptr<Server>> start_server(ServerOptions options, Router router);

}  // namespace qfscale::http
