// The real Beast server and client against each other over loopback, plain and TLS, plus raw
// bytes from a plain Asio socket for what a well-behaved client never sends.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <doctest/doctest.h>
#include <sys/resource.h>

#include "qfscale/http/client.h"
#include "qfscale/http/server.h"

#include "support/test_tls.h"
#include "support/within.h"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using qfscale::ErrorCode;
using qfscale::http::Client;
using qfscale::http::ClientOptions;
using qfscale::http::ClientRequest;
using qfscale::http::Request;
using qfscale::http::Response;
using qfscale::http::Router;
using qfscale::http::Server;
using qfscale::http::ServerOptions;
using qfscale::testing::within;

std::unique_ptr<Server> start(Router router, ServerOptions options = {}) {
  auto server = qfscale::http::start_server(std::move(options), std::move(router));
  REQUIRE_MESSAGE(server.has_value(), (server ? "" : server.error().to_string()));
  return std::move(*server);
}

std::unique_ptr<Client> make(ClientOptions options = {}) {
  auto client = qfscale::http::make_client(std::move(options));
  REQUIRE_MESSAGE(client.has_value(), (client ? "" : client.error().to_string()));
  return std::move(*client);
}

ClientOptions trusting_test_ca() {
  ClientOptions o;
  o.ca_file = qfscale::test::test_pki().ca_file;
  return o;
}

ServerOptions tls_server() {
  ServerOptions o;
  o.tls = qfscale::test::test_pki().server_tls();
  return o;
}

std::string url(const Server& server, std::string_view path, std::string_view host = "127.0.0.1") {
  return std::string(server.tls() ? "https://" : "http://") + std::string(host) + ":" +
         std::to_string(server.port()) + std::string(path);
}

ClientRequest get(std::string u) {
  ClientRequest r;
  r.url = std::move(u);
  return r;
}

/// Writes `bytes` on a fresh connection and returns everything the server sends until it
/// closes (or 10 s pass).
std::string raw_exchange(std::uint16_t port, const std::string& bytes) {
  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  boost::system::error_code ec;
  socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  REQUIRE_MESSAGE(!ec, ec.message());
  std::string received;
  bool closed = false;
  // Read while writing: a server that answers early must not leave the write blocked.
  asio::async_write(socket, asio::buffer(bytes), [](boost::system::error_code, std::size_t) {});
  asio::async_read(socket, asio::dynamic_buffer(received),
                   [&](boost::system::error_code, std::size_t) { closed = true; });
  ioc.run_for(10s);
  CHECK_MESSAGE(closed, "server did not close the connection");
  return received;
}

/// A keep-alive connection held open by the test, asking GET /hello on demand.
class HeldConnection {
 public:
  explicit HeldConnection(std::uint16_t port) : socket_(ioc_) {
    boost::system::error_code ec;
    socket_.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    REQUIRE_MESSAGE(!ec, ec.message());
  }
  /// The status line of the answer to one GET /hello, or "" when the server closed.
  std::string hello() {
    return within(10s, [this] {
      boost::system::error_code ec;
      const std::string request = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
      asio::write(socket_, asio::buffer(request), ec);
      if (ec) return std::string();
      std::string received;
      // The body is {"hello":"world"}: its last byte ends the answer.
      asio::read_until(socket_, asio::dynamic_buffer(received), "}", ec);
      if (ec) return std::string();
      return received.substr(0, received.find("\r\n"));
    });
  }

 private:
  asio::io_context ioc_;
  asio::ip::tcp::socket socket_;
};

Router echo_router() {
  Router router;
  router.add("POST", "/echo", [](const Request& req) {
    Response res = qfscale::http::text_response(200, req.body);
    res.headers.push_back({"X-Method", req.method});
    res.headers.push_back({"X-Path", std::string(req.path())});
    res.headers.push_back({"X-Query", std::string(req.query())});
    res.headers.push_back({"X-Test-Echo", std::string(req.header("x-test").value_or(""))});
    res.headers.push_back({"X-Remote", req.remote_address});
    return res;
  });
  router.add("GET", "/hello", [](const Request&) {
    return qfscale::http::json_response(200, R"({"hello":"world"})");
  });
  return router;
}

/// A GET /hang route that answers only after `delay`, and a way to wait until a request has
/// reached its handler (so a test acts while the request is surely in flight).
class HangingRoute {
 public:
  void add_to(Router& router, std::chrono::milliseconds delay) {
    router.add("GET", "/hang", [this, delay](const Request&) {
      std::call_once(once_, [this] { entered_.set_value(); });
      Response res = qfscale::http::text_response(200, "late");
      res.delay = delay;
      return res;
    });
  }
  [[nodiscard]] bool entered_within(std::chrono::seconds bound) {
    return entered_future_.wait_for(bound) == std::future_status::ready;
  }

 private:
  std::promise<void> entered_;
  std::future<void> entered_future_ = entered_.get_future();
  std::once_flag once_;
};

}  // namespace

TEST_SUITE("http") {
  TEST_CASE("http: a request round-trips over plain HTTP") {
    auto server = start(echo_router());
    auto client = make();
    ClientRequest req;
    req.method = "POST";
    req.url = url(*server, "/echo?a=1&b=2");
    req.headers = {{"X-Test", "yes"}, {"Content-Type", "text/plain"}};
    req.body = "ping";
    auto res = client->send(req);
    REQUIRE_MESSAGE(res.has_value(), (res ? "" : res.error().to_string()));
    CHECK(res->status == 200);
    CHECK(res->body == "ping");
    CHECK(res->header("x-method") == "POST");
    CHECK(res->header("X-Path") == "/echo");
    CHECK(res->header("X-Query") == "a=1&b=2");
    CHECK(res->header("X-Test-Echo") == "yes");
    CHECK(res->header("Content-Type") == "text/plain; charset=utf-8");
    CHECK(res->header("X-Remote").value_or("").starts_with("127.0.0.1:"));
    server->stop();
  }

  TEST_CASE("http: sequential requests reuse one keep-alive connection") {
    std::mutex mu;
    std::vector<std::string> remotes;
    Router router;
    router.add("GET", "/who", [&](const Request& req) {
      std::lock_guard lock(mu);
      remotes.push_back(req.remote_address);
      return qfscale::http::text_response(200, "ok");
    });
    for (const bool tls : {false, true}) {
      CAPTURE(tls);
      remotes.clear();
      auto server = start(router, tls ? tls_server() : ServerOptions{});
      auto client = make(trusting_test_ca());
      for (int i = 0; i < 3; ++i) {
        auto res = client->send(get(url(*server, "/who")));
        REQUIRE_MESSAGE(res.has_value(), (res ? "" : res.error().to_string()));
        CHECK(res->status == 200);
      }
      std::lock_guard lock(mu);
      REQUIRE(remotes.size() == 3);
      // One client port for all three: the connection went back to the pool and came out again.
      CHECK(std::set<std::string>(remotes.begin(), remotes.end()).size() == 1);
    }
  }

  TEST_CASE("http: concurrent requests from several threads all succeed") {
    for (const bool tls : {false, true}) {
      CAPTURE(tls);
      ServerOptions options = tls ? tls_server() : ServerOptions{};
      options.threads = 2;
      auto server = start(echo_router(), options);
      auto client = make(trusting_test_ca());
      constexpr int kThreads = 6;
      constexpr int kPerThread = 20;
      std::vector<std::future<int>> workers;
      for (int t = 0; t < kThreads; ++t) {
        workers.push_back(std::async(std::launch::async, [&, t] {
          int ok = 0;
          for (int i = 0; i < kPerThread; ++i) {
            ClientRequest req;
            req.method = "POST";
            req.url = url(*server, "/echo");
            req.body = std::to_string(t) + "/" + std::to_string(i);
            auto res = client->send(req);
            if (res && res->status == 200 && res->body == req.body) ++ok;
          }
          return ok;
        }));
      }
      int total = 0;
      for (auto& w : workers) {
        REQUIRE(w.wait_for(60s) == std::future_status::ready);
        total += w.get();
      }
      CHECK(total == kThreads * kPerThread);
      server->stop();
    }
  }

  TEST_CASE("http: HTTPS round trip verifies the server against the test CA") {
    auto server = start(echo_router(), tls_server());
    CHECK(server->tls());
    auto client = make(trusting_test_ca());
    for (const std::string_view host : {"127.0.0.1", "localhost"}) {
      CAPTURE(host);
      auto res = client->send(get(url(*server, "/hello", host)));
      REQUIRE_MESSAGE(res.has_value(), (res ? "" : res.error().to_string()));
      CHECK(res->status == 200);
      CHECK(res->body == R"({"hello":"world"})");
      CHECK(res->header("Content-Type") == "application/json");
    }
  }

  TEST_CASE("http: a server certificate from an untrusted CA is rejected, as permanent") {
    auto server = start(echo_router(), tls_server());
    ClientOptions options;
    options.ca_file = qfscale::test::test_pki().untrusted_ca_file;
    auto client = make(options);
    auto res = client->send(get(url(*server, "/hello")));
    REQUIRE_FALSE(res.has_value());
    // Not Transient: the same certificate fails the same way on every retry.
    CHECK(res.error().code == ErrorCode::InvalidInput);
    CHECK_FALSE(res.error().retryable());
    CHECK_MESSAGE(res.error().message.find("certificate verify failed") != std::string::npos,
                  res.error().message);
    const bool cause_named =
        res.error().message.find("self-signed certificate in certificate chain") !=
            std::string::npos ||
        res.error().message.find("unable to get local issuer certificate") != std::string::npos;
    CHECK_MESSAGE(cause_named, res.error().message);
    CHECK(res.error().message.find("check the CA file (caFile) and the server certificate") !=
          std::string::npos);
    CHECK(res.error().message.find("retry") == std::string::npos);
    CHECK(res.error().message.find("TLS handshake with 127.0.0.1:") != std::string::npos);

    SUBCASE("unless verification is switched off") {
      ClientOptions insecure;
      insecure.verify_peer = false;
      auto res2 = make(insecure)->send(get(url(*server, "/hello")));
      REQUIRE_MESSAGE(res2.has_value(), (res2 ? "" : res2.error().to_string()));
      CHECK(res2->status == 200);
    }
  }

  TEST_CASE("http: the host name dialled must be in the certificate") {
    // The certificate names DNS:localhost only: dialling the IP must fail even though the chain
    // is trusted, and dialling "localhost" must work.
    ServerOptions options;
    options.tls = qfscale::test::test_pki().localhost_only_tls();
    auto server = start(echo_router(), options);
    auto client = make(trusting_test_ca());

    auto by_ip = client->send(get(url(*server, "/hello", "127.0.0.1")));
    REQUIRE_FALSE(by_ip.has_value());
    CHECK(by_ip.error().code == ErrorCode::InvalidInput);
    CHECK_MESSAGE(by_ip.error().message.find("mismatch") != std::string::npos,
                  by_ip.error().message);

    auto by_name = client->send(get(url(*server, "/hello", "localhost")));
    REQUIRE_MESSAGE(by_name.has_value(), (by_name ? "" : by_name.error().to_string()));
    CHECK(by_name->status == 200);
  }

  TEST_CASE("http: plain HTTP to a TLS server is a transient error") {
    auto server = start(echo_router(), tls_server());
    auto res = make()->send(get("http://127.0.0.1:" + std::to_string(server->port()) + "/hello"));
    REQUIRE_FALSE(res.has_value());
    CHECK(res.error().code == ErrorCode::Transient);
  }

  TEST_CASE("http: connection refused names the address") {
    std::uint16_t port = 0;
    {
      auto server = start(Router{});
      port = server->port();
    }  // stopped and destroyed: nothing listens on the port any more
    auto res = make()->send(get("http://127.0.0.1:" + std::to_string(port) + "/"));
    REQUIRE_FALSE(res.has_value());
    CHECK(res.error().code == ErrorCode::Transient);
    const std::string want = "connect to 127.0.0.1:" + std::to_string(port) + ": ";
    CHECK_MESSAGE(res.error().message.starts_with(want), res.error().message);
    CHECK(res.error().message.find("refused") != std::string::npos);
  }

  TEST_CASE("http: a delayed response arrives intact after the delay") {
    Router router;
    router.add("GET", "/later", [](const Request&) {
      Response res = qfscale::http::text_response(200, "worth the wait");
      res.headers.push_back({"X-Delayed", "yes"});
      res.delay = 150ms;
      return res;
    });
    auto server = start(std::move(router));
    auto client = make();
    for (int i = 0; i < 2; ++i) {  // the second one on the kept-alive connection
      CAPTURE(i);
      const auto began = std::chrono::steady_clock::now();
      auto res = within(10s, [&] { return client->send(get(url(*server, "/later"))); });
      REQUIRE_MESSAGE(res.has_value(), (res ? "" : res.error().to_string()));
      CHECK(std::chrono::steady_clock::now() - began >= 150ms);
      CHECK(res->status == 200);
      CHECK(res->body == "worth the wait");
      CHECK(res->header("X-Delayed") == "yes");
    }
  }

  TEST_CASE("http: a response slower than the request timeout fails in time") {
    Router router;
    router.add("GET", "/slow", [](const Request&) {
      Response res = qfscale::http::text_response(200, "late");
      res.delay = 20s;
      return res;
    });
    auto server = start(std::move(router));
    ClientOptions options;
    options.request_timeout = 30s;
    auto client = make(options);
    ClientRequest req = get(url(*server, "/slow"));
    req.timeout = 200ms;  // the per-request override wins over the 30 s default
    const auto began = std::chrono::steady_clock::now();
    auto res = within(10s, [&] { return client->send(req); });
    const auto took = std::chrono::steady_clock::now() - began;
    REQUIRE_FALSE(res.has_value());
    CHECK(res.error().code == ErrorCode::Transient);
    CHECK_MESSAGE(res.error().message.find("timed out after 200 ms") != std::string::npos,
                  res.error().message);
    CHECK(took >= 200ms);
    CHECK(took < 5s);
    // stop() must not wait for the 20 s delay either.
    within(10s, [&] { server->stop(); });
  }

  TEST_CASE("http: a TLS handshake that never completes fails within connect_timeout") {
    // A listener that never accepts: the kernel completes the TCP handshake from the backlog,
    // but nobody ever answers the ClientHello.
    asio::io_context ioc;
    asio::ip::tcp::acceptor silent(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = silent.local_endpoint().port();
    ClientOptions options = trusting_test_ca();
    options.connect_timeout = 200ms;
    auto client = make(options);
    const auto began = std::chrono::steady_clock::now();
    auto res = within(
        10s, [&] { return client->send(get("https://127.0.0.1:" + std::to_string(port) + "/")); });
    const auto took = std::chrono::steady_clock::now() - began;
    REQUIRE_FALSE(res.has_value());
    CHECK(res.error().code == ErrorCode::Transient);
    CHECK_MESSAGE(res.error().message == "TLS handshake with 127.0.0.1:" + std::to_string(port) +
                                             ": timed out after 200 ms",
                  res.error().message);
    CHECK(took >= 200ms);
    CHECK(took < 5s);
  }

  TEST_CASE("http: a response body over max_response_bytes is refused") {
    Router router;
    router.add("GET", "/big", [](const Request&) {
      return qfscale::http::text_response(200, std::string(4096, 'x'));
    });
    router.add("GET", "/fits", [](const Request&) {
      return qfscale::http::text_response(200, std::string(1024, 'x'));
    });
    auto server = start(std::move(router));
    ClientOptions options;
    options.max_response_bytes = 1024;
    auto client = make(options);

    auto big = client->send(get(url(*server, "/big")));
    REQUIRE_FALSE(big.has_value());
    CHECK(big.error().code == ErrorCode::Transient);
    CHECK_MESSAGE(big.error().message.find("max_response_bytes (1024 bytes)") != std::string::npos,
                  big.error().message);

    auto fits = client->send(get(url(*server, "/fits")));  // exactly at the limit
    REQUIRE(fits.has_value());
    CHECK(fits->body.size() == 1024);
  }

  TEST_CASE("http: a redirect is returned, not followed") {
    std::atomic<int> followed{0};
    Router router;
    router.add("GET", "/old", [](const Request&) {
      Response res = qfscale::http::text_response(302, "moved");
      res.headers.push_back({"Location", "/new"});
      return res;
    });
    router.add("GET", "/new", [&](const Request&) {
      ++followed;
      return qfscale::http::text_response(200, "new");
    });
    auto server = start(std::move(router));
    auto res = make()->send(get(url(*server, "/old")));
    REQUIRE(res.has_value());
    CHECK(res->status == 302);
    CHECK(res->header("Location") == "/new");
    CHECK(followed.load() == 0);
  }

  TEST_CASE("http: unknown paths get 404 and wrong methods 405 with Allow") {
    Router router;
    router.add("GET", "/thing",
               [](const Request&) { return qfscale::http::text_response(200, ""); });
    router.add("PUT", "/thing",
               [](const Request&) { return qfscale::http::text_response(200, ""); });
    auto server = start(std::move(router));
    auto client = make();

    auto missing = client->send(get(url(*server, "/nothing")));
    REQUIRE(missing.has_value());
    CHECK(missing->status == 404);

    ClientRequest post = get(url(*server, "/thing"));
    post.method = "POST";
    auto wrong = client->send(post);
    REQUIRE(wrong.has_value());
    CHECK(wrong->status == 405);
    CHECK(wrong->header("Allow") == "GET, PUT");
  }

  TEST_CASE("http: a handler that throws gets a 500, and the server keeps serving") {
    Router router;
    router.add("GET", "/throw",
               [](const Request&) -> Response { throw std::runtime_error("boom"); });
    router.add("GET", "/ok",
               [](const Request&) { return qfscale::http::text_response(200, "ok"); });
    auto server = start(std::move(router));
    auto client = make();
    auto res = client->send(get(url(*server, "/throw")));
    REQUIRE(res.has_value());
    CHECK(res->status == 500);
    auto ok = client->send(get(url(*server, "/ok")));
    REQUIRE(ok.has_value());
    CHECK(ok->status == 200);
  }

  TEST_CASE("http: beyond max_connections a new connection gets 503 at once, open ones work") {
    ServerOptions options;
    options.max_connections = 3;
    auto server = start(echo_router(), options);
    CHECK(server->max_connections() == 3);
    std::vector<std::unique_ptr<HeldConnection>> held;
    for (int i = 0; i < 3; ++i) {
      held.push_back(std::make_unique<HeldConnection>(server->port()));
      CHECK(held.back()->hello() == "HTTP/1.1 200 OK");
    }

    // raw_exchange sends nothing here: the answer comes without a request, then the close.
    const std::string refused = raw_exchange(server->port(), "");
    CHECK_MESSAGE(refused.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), refused);
    CHECK(refused.find("too many open connections") != std::string::npos);
    for (auto& connection : held) CHECK(connection->hello() == "HTTP/1.1 200 OK");

    // Once one closes, the server has room again as soon as it has seen the close.
    held.pop_back();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    std::string reply;
    while (std::chrono::steady_clock::now() < deadline) {
      reply = raw_exchange(server->port(),
                           "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      if (!reply.starts_with("HTTP/1.1 503")) break;
      std::this_thread::yield();
    }
    CHECK_MESSAGE(reply.starts_with("HTTP/1.1 200 OK\r\n"), reply);
  }

  TEST_CASE("http: by default a server takes a quarter of the descriptor limit, at most 256") {
    rlimit limit{};
    REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
    auto server = start(echo_router());
    const auto quarter = limit.rlim_cur == RLIM_INFINITY ? 256 : limit.rlim_cur / 4;
    CHECK(server->max_connections() == std::min<std::uint64_t>(256, quarter));
  }

  TEST_CASE("http: raw malformed, oversized and over-long requests get 400, 413 and 431") {
    ServerOptions options;
    options.max_body_bytes = 16;
    options.max_header_bytes = 1024;
    auto server = start(echo_router(), options);

    SUBCASE("malformed request line") {
      const auto reply = raw_exchange(server->port(), "GARBAGE\r\n\r\n");
      CHECK_MESSAGE(reply.starts_with("HTTP/1.1 400 "), reply);
      CHECK(reply.find("Connection: close") != std::string::npos);
    }
    SUBCASE("body over max_body_bytes") {
      const std::string body(100, 'b');
      const auto reply = raw_exchange(
          server->port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + body);
      CHECK_MESSAGE(reply.starts_with("HTTP/1.1 413 "), reply);
    }
    SUBCASE("body exactly at max_body_bytes is fine") {
      const auto reply = raw_exchange(server->port(),
                                      "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                      "Content-Length: 16\r\n\r\n0123456789abcdef");
      CHECK_MESSAGE(reply.starts_with("HTTP/1.1 200 "), reply);
      CHECK(reply.ends_with("0123456789abcdef"));
    }
    SUBCASE("headers over max_header_bytes") {
      const auto reply = raw_exchange(server->port(), "GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " +
                                                          std::string(2048, 'h') + "\r\n\r\n");
      CHECK_MESSAGE(reply.starts_with("HTTP/1.1 431 "), reply);
    }
    server->stop();
  }

  TEST_CASE("http: drop_connection makes the client fail with a transient error") {
    Router router;
    router.add("GET", "/drop", [](const Request&) {
      Response res;
      res.drop_connection = true;
      return res;
    });
    auto server = start(std::move(router));
    auto res = make()->send(get(url(*server, "/drop")));
    REQUIRE_FALSE(res.has_value());
    CHECK(res.error().code == ErrorCode::Transient);
    CHECK_MESSAGE(res.error().message.starts_with("read response from 127.0.0.1:"),
                  res.error().message);
  }

  TEST_CASE("http: stop() while a request is in flight closes it promptly") {
    HangingRoute hang;
    Router router;
    hang.add_to(router, 60s);
    auto server = start(std::move(router));
    auto client = make();
    auto pending =
        std::async(std::launch::async, [&] { return client->send(get(url(*server, "/hang"))); });
    REQUIRE(hang.entered_within(10s));
    within(10s, [&] { server->stop(); });
    within(10s, [&] { server->stop(); });  // idempotent
    REQUIRE(pending.wait_for(10s) == std::future_status::ready);
    auto res = pending.get();
    REQUIRE_FALSE(res.has_value());
    CHECK(res.error().code == ErrorCode::Transient);
  }

  TEST_CASE("http: cancel_all fails the request in flight at once and refuses later ones") {
    HangingRoute hang;
    Router router;
    hang.add_to(router, 20s);
    router.add("GET", "/quick",
               [](const Request&) { return qfscale::http::text_response(200, "ok"); });
    auto server = start(std::move(router));
    ClientOptions options;
    options.request_timeout = 30s;
    auto client = make(options);
    // A pooled keep-alive connection exists too: cancelling must not leave it usable.
    REQUIRE(client->send(get(url(*server, "/quick"))).has_value());
    const auto began = std::chrono::steady_clock::now();
    auto pending =
        std::async(std::launch::async, [&] { return client->send(get(url(*server, "/hang"))); });
    REQUIRE(hang.entered_within(10s));
    client->cancel_all();
    REQUIRE(pending.wait_for(10s) == std::future_status::ready);
    CHECK(std::chrono::steady_clock::now() - began < 5s);  // not the 20 s delay nor the timeout
    auto res = pending.get();
    REQUIRE_FALSE(res.has_value());
    CHECK(res.error().code == ErrorCode::Transient);
    CHECK_MESSAGE(res.error().message.starts_with("cancelled, qfscale is stopping: "),
                  res.error().message);
    auto later = within(10s, [&] { return client->send(get(url(*server, "/quick"))); });
    REQUIRE_FALSE(later.has_value());
    CHECK(later.error().message.starts_with("cancelled, qfscale is stopping: "));
    within(10s, [&] { server->stop(); });
  }

  TEST_CASE("http: a pooled connection the server closed is retried on a fresh one") {
    std::atomic<int> second_calls{0};
    auto first = start(echo_router());
    const std::uint16_t port = first->port();
    auto client = make();
    REQUIRE(client->send(get(url(*first, "/hello"))).has_value());  // leaves one idle connection
    first->stop();  // closes it from the server side

    Router router;
    router.add("GET", "/hello", [&](const Request&) {
      ++second_calls;
      return qfscale::http::text_response(200, "second");
    });
    ServerOptions options;
    options.listen = "127.0.0.1:" + std::to_string(port);
    auto second = start(std::move(router), options);
    auto res = client->send(get(url(*second, "/hello")));
    REQUIRE_MESSAGE(res.has_value(), (res ? "" : res.error().to_string()));
    CHECK(res->body == "second");
    CHECK(second_calls.load() == 1);
  }

  TEST_CASE("http: bad URLs and bad headers are invalid input, not network errors") {
    auto client = make();
    for (const char* bad : {"", "ftp://127.0.0.1/", "http:///nohost", "not a url"}) {
      CAPTURE(bad);
      auto res = client->send(get(bad));
      REQUIRE_FALSE(res.has_value());
      CHECK(res.error().code == ErrorCode::InvalidInput);
    }
    ClientRequest injected = get("http://127.0.0.1:1/");
    injected.headers = {{"X-Evil", "a\r\nHost: other"}};
    auto res = client->send(injected);
    REQUIRE_FALSE(res.has_value());
    CHECK(res.error().code == ErrorCode::InvalidInput);
  }

  TEST_CASE("http: start_server reports a bad listen address and bad TLS files") {
    ServerOptions bad_listen;
    bad_listen.listen = "nonsense";
    auto s1 = qfscale::http::start_server(bad_listen, Router{});
    REQUIRE_FALSE(s1.has_value());
    CHECK(s1.error().code == ErrorCode::InvalidInput);

    ServerOptions bad_tls;
    bad_tls.tls = qfscale::http::TlsFiles{"/nonexistent/cert.pem", "/nonexistent/key.pem"};
    auto s2 = qfscale::http::start_server(bad_tls, Router{});
    REQUIRE_FALSE(s2.has_value());
    CHECK(s2.error().code == ErrorCode::InvalidInput);
    CHECK(s2.error().message.find("/nonexistent/cert.pem") != std::string::npos);
  }
}
