// The Beast server behind start_server: one acceptor, an io_context run by `threads` threads, and
// one Session object per connection (shared_ptr kept alive by its pending handlers, the pattern
// of Beast's async examples). Each connection runs on its own strand, so a session's handlers
// never run concurrently and need no locks. The accept loop counts open sessions against the
// connection cap and backs off when the process runs out of descriptors (accept_policy.h).

#include "qfscale/http/server.h"

#include <atomic>
#include <charconv>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/resource.h>

#include "qfscale/util/check.h"

#include "http/accept_policy.h"
#include "http/request_parser.h"

namespace qfscale::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using BeastResponse = bhttp::response<bhttp::string_body>;

/// After an error response we stop reading requests but keep draining what the client is still
/// sending for this long, so closing does not turn into a reset that destroys our response.
constexpr std::chrono::milliseconds kLingerTimeout{2'000};

/// What every session needs, shared so that sessions never point into the server object.
/// Read-only once the server has started (the TLS context is only used to create sessions).
struct ServerState {
  Router router;
  detail::RequestLimits limits;
  std::chrono::milliseconds read_timeout{};
  std::optional<ssl::context> tls;
  std::size_t max_connections = 1;
  std::atomic<std::size_t> open_connections{0};
};

/// Counts a session as open for as long as it lives.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(std::atomic<std::size_t>& open) : open_(open) { ++open_; }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  ConnectionSlot(ConnectionSlot&&) = delete;
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ~ConnectionSlot() { --open_; }

 private:
  std::atomic<std::size_t>& open_;
};

std::string endpoint_string(const tcp::endpoint& ep) {
  const auto addr = ep.address();
  std::string host = addr.to_string();
  if (addr.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

/// Our Response as a Beast message. Never throws: a response Beast cannot represent (bad status,
/// header text it rejects) becomes a 500 so the client still gets an answer.
BeastResponse to_beast(Response&& response, unsigned version, bool keep_alive) {
  BeastResponse res;
  res.version(version);
  try {
    if (response.status < 100 || response.status > 999) {
      throw std::invalid_argument("status out of range");
    }
    res.result(static_cast<unsigned>(response.status));
    for (const auto& h : response.headers) res.insert(h.name, h.value);
    res.body() = std::move(response.body);
  } catch (const std::exception& e) {
    res = BeastResponse{};
    res.version(version);
    res.result(bhttp::status::internal_server_error);
    res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    res.body() = std::string("handler produced an invalid response: ") + e.what() + "\n";
  }
  if (res.find(bhttp::field::server) == res.end()) res.set(bhttp::field::server, "qfscale");
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  Session(std::shared_ptr<ServerState> state, tcp::socket&& socket)
      : state_(std::move(state)),
        slot_(state_->open_connections),
        stream_(make_stream(std::move(socket))),
        delay_timer_(stream_.get_executor()) {
    boost::system::error_code ec;
    const auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    remote_ = ec ? std::string("unknown") : endpoint_string(ep);
  }

  void start() {
    // Run on the connection's strand from the first step on.
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        self->handshake();
      } else {
        self->read_request();
      }
    });
  }

 private:
  Stream make_stream(tcp::socket&& socket) {
    if constexpr (kTls) {
      // state_->tls is set whenever a TLS session is created (see ServerImpl::accept).
      return Stream(std::move(socket), *state_->tls);
    } else {
      return Stream(std::move(socket));
    }
  }

  void handshake() {
    beast::get_lowest_layer(stream_).expires_after(state_->read_timeout);
    stream_.async_handshake(ssl::stream_base::server,
                            [self = this->shared_from_this()](beast::error_code ec) {
                              if (ec) return self->close_now();
                              self->read_request();
                            });
  }

  void read_request() {
    parser_.emplace();
    detail::apply_limits(*parser_, state_->limits);
    // The read timeout also bounds how long an idle keep-alive connection is kept.
    beast::get_lowest_layer(stream_).expires_after(state_->read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        self->on_read(ec);
                      });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      const int status = detail::status_for_parse_error(ec);
      if (status == 0) return close_now();  // closed by peer, timed out, reset: nobody to tell
      std::string why;
      if (status == 413) {
        why = fmt::format("request body exceeds {} bytes", state_->limits.max_body_bytes);
      } else if (status == 431) {
        why = fmt::format("request header exceeds {} bytes", state_->limits.max_header_bytes);
      } else {
        why = "malformed request: " + ec.message();
      }
      Response res = text_response(status, why + "\n");
      return write(to_beast(std::move(res), 11, false), /*close_after=*/true, /*linger=*/true);
    }
    const detail::BeastRequest& message = parser_->get();
    const bool keep_alive = message.keep_alive();
    const unsigned version = message.version();
    Request request = detail::to_request(message);
    request.remote_address = remote_;

    Response response;
    try {
      response = state_->router.dispatch(request);
    } catch (const std::exception& e) {
      response = text_response(500, std::string("handler failed: ") + e.what() + "\n");
    } catch (...) {
      response = text_response(500, "handler failed\n");
    }
    if (response.drop_connection) return close_now();

    const auto delay = response.delay;
    auto beast_res = to_beast(std::move(response), version, keep_alive);
    if (delay.count() <= 0) return write(std::move(beast_res), !keep_alive, false);

    // Fault injection: answer later without holding a thread. The read timeout must not cut the
    // connection meanwhile, so the stream has no expiry while we wait.
    beast::get_lowest_layer(stream_).expires_never();
    pending_ = std::move(beast_res);
    delay_timer_.expires_after(delay);
    delay_timer_.async_wait([self = this->shared_from_this(), keep_alive](beast::error_code wec) {
      if (wec) return self->close_now();
      self->write_pending(!keep_alive, false);
    });
  }

  void write(BeastResponse&& res, bool close_after, bool linger) {
    pending_ = std::move(res);
    write_pending(close_after, linger);
  }

  void write_pending(bool close_after, bool linger) {
    beast::get_lowest_layer(stream_).expires_after(state_->read_timeout);
    bhttp::async_write(
        stream_, pending_,
        [self = this->shared_from_this(), close_after, linger](beast::error_code ec, std::size_t) {
          if (ec) return self->close_now();
          if (!close_after) return self->read_request();
          if (linger) return self->linger_close();
          self->close_gracefully();
        });
  }

  void close_gracefully() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(kLingerTimeout);
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->close_now(); });
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      close_now();
    }
  }

  /// Half-closes, then reads and discards until the client closes or kLingerTimeout passes.
  void linger_close() {
    if constexpr (kTls) {
      close_gracefully();
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      beast::get_lowest_layer(stream_).expires_after(kLingerTimeout);
      drain();
    }
  }

  void drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close_now();
                              self->drain();
                            });
  }

  void close_now() {
    beast::error_code ec;
    delay_timer_.cancel();
    beast::get_lowest_layer(stream_).socket().close(ec);
  }

  std::shared_ptr<ServerState> state_;
  ConnectionSlot slot_;
  Stream stream_;
  asio::steady_timer delay_timer_;
  beast::flat_buffer buffer_;
  std::optional<detail::BeastRequestParser> parser_;
  BeastResponse pending_;  ///< the response being written; must outlive async_write
  std::string remote_;
};

/// Splits "host:port" or "[v6]:port".
Result<tcp::endpoint> parse_listen(const std::string& listen) {
  auto bad = [&](std::string_view why) {
    return fail(ErrorCode::InvalidInput, "listen \"" + listen + "\": " + std::string(why));
  };
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return bad("expected host:port");
  std::string host = listen.substr(0, colon);
  const std::string port_text = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  unsigned port = 0;
  const auto [end, pec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || pec != std::errc{} || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return bad("port must be 0..65535");
  }
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(host, ec);
  if (ec) return bad("host must be an IP address or localhost");
  return tcp::endpoint(addr, static_cast<std::uint16_t>(port));
}

std::string openssl_error_text() {
  const unsigned long e = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

Result<void> configure_tls(ssl::context& ctx, const TlsFiles& files) {
  boost::system::error_code ec;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                  ec);
  if (ec) return fail(ErrorCode::Internal, "TLS options: " + ec.message());
  ctx.use_certificate_chain_file(files.certificate_chain_file, ec);
  if (ec) {
    return fail(ErrorCode::InvalidInput,
                "TLS certificate chain \"" + files.certificate_chain_file + "\": " + ec.message());
  }
  ctx.use_private_key_file(files.private_key_file, ssl::context::pem, ec);
  if (ec) {
    return fail(ErrorCode::InvalidInput,
                "TLS private key \"" + files.private_key_file + "\": " + ec.message());
  }
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return fail(ErrorCode::InvalidInput,
                "TLS private key does not match the certificate: " + openssl_error_text());
  }
  return {};
}

class ServerImpl final : public Server {
 public:
  ServerImpl(std::shared_ptr<ServerState> state, int threads)
      : state_(std::move(state)), threads_wanted_(threads < 1 ? 1 : threads) {}

  ServerImpl(const ServerImpl&) = delete;
  ServerImpl& operator=(const ServerImpl&) = delete;
  ServerImpl(ServerImpl&&) = delete;
  ServerImpl& operator=(ServerImpl&&) = delete;
  ~ServerImpl() override { stop(); }

  Status listen(const tcp::endpoint& endpoint) {
    ioc_ = std::make_unique<asio::io_context>(threads_wanted_);
    acceptor_ = std::make_unique<tcp::acceptor>(asio::make_strand(*ioc_));
    boost::system::error_code ec;
    auto failed = [&](std::string_view step) {
      return fail(ErrorCode::Transient,
                  fmt::format("{} {}: {}", step, endpoint_string(endpoint), ec.message()));
    };
    acceptor_->open(endpoint.protocol(), ec);
    if (ec) return failed("open");
    // Lets a restarted server take its port back while old connections sit in TIME_WAIT.
    acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) return failed("set SO_REUSEADDR on");
    acceptor_->bind(endpoint, ec);
    if (ec) return failed("bind");
    acceptor_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return failed("listen on");
    const auto local = acceptor_->local_endpoint(ec);
    if (ec) return failed("local endpoint of");
    address_ = endpoint_string(local);
    port_ = local.port();
    accept_timer_ = std::make_unique<asio::steady_timer>(acceptor_->get_executor());

    accept();
    threads_.reserve(static_cast<std::size_t>(threads_wanted_));
    for (int i = 0; i < threads_wanted_; ++i) {
      threads_.emplace_back([this] { run(); });
    }
    return {};
  }

  [[nodiscard]] std::string address() const override { return address_; }
  [[nodiscard]] std::uint16_t port() const override { return port_; }
  [[nodiscard]] bool tls() const override { return state_->tls.has_value(); }
  [[nodiscard]] std::size_t max_connections() const override { return state_->max_connections; }

  void stop() override {
    std::lock_guard lock(stop_mu_);
    if (stopped_) return;
    stopped_ = true;
    if (!ioc_) return;
    // Stopping the io_context abandons every pending operation; destroying it below then
    // destroys their handlers, and with them the last references to each Session, whose
    // sockets close. No session can outlive this call.
    for (const auto& t : threads_) {
      QFS_CHECK(t.get_id() != std::this_thread::get_id(),
                "http::Server::stop called from one of the server's own threads");
    }
    ioc_->stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    threads_.clear();
    accept_timer_.reset();
    acceptor_.reset();
    ioc_.reset();
  }

 private:
  void run() {
    for (;;) {
      try {
        ioc_->run();
        return;
      } catch (const std::exception& e) {
        // Handlers catch their own errors; this is a last resort so a thread never dies
        // silently and takes the process with it.
        std::fprintf(stderr, "qfscale http server: unexpected exception: %s\n", e.what());
      }
    }
  }

  // The accept handlers and the backoff timer run on the acceptor's strand, one at a time, so
  // backoff_ and at_cap_ need no lock.
  void accept() {
    acceptor_->async_accept(
        asio::make_strand(*ioc_), [this](beast::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted) return;
          const auto step = detail::next_accept_step(classify_accept(ec), backoff_);
          backoff_ = step.state;
          if (step.episode_started) {
            log(
                fmt::format("cannot accept connections: {} ({} open, limit {}); retrying in {} ms, "
                            "then every {} ms",
                            ec.message(), state_->open_connections.load(), state_->max_connections,
                            detail::kFirstAcceptBackoff.count(), detail::kAcceptBackoff.count()));
          }
          if (step.episode_ended) log("accepting connections again");
          if (!ec) serve(std::move(socket));
          if (step.wait.count() == 0) return accept();
          accept_timer_->expires_after(step.wait);
          accept_timer_->async_wait([this](beast::error_code wec) {
            if (wec != asio::error::operation_aborted) accept();
          });
        });
  }

  static detail::AcceptResult classify_accept(const beast::error_code& ec) {
    if (!ec) return detail::AcceptResult::Accepted;
    // The peer gave up while queued, or the handshake failed: only this connection is lost.
    if (ec == asio::error::connection_aborted || ec == asio::error::connection_reset ||
        ec == beast::error_code(EPROTO, boost::system::system_category())) {
      return detail::AcceptResult::ConnectionFailed;
    }
    // EMFILE, ENFILE, ENOBUFS, ENOMEM and anything unforeseen: retrying at once would spin.
    return detail::AcceptResult::Exhausted;
  }

  void serve(tcp::socket socket) {
    if (state_->open_connections.load() >= state_->max_connections) return refuse(socket);
    at_cap_ = false;
    if (state_->tls) {
      std::make_shared<Session<TlsStream>>(state_, std::move(socket))->start();
    } else {
      std::make_shared<Session<PlainStream>>(state_, std::move(socket))->start();
    }
  }

  /// Over the cap: answer without reading and close at once, so that the descriptor is free
  /// again before the next accept. A plain client reads the 503; a TLS client sees the
  /// connection close during its handshake.
  void refuse(tcp::socket& socket) {
    if (!at_cap_) {
      at_cap_ = true;
      log(fmt::format("{} connections open, the limit: refusing new connections until some close",
                      state_->max_connections));
    }
    static constexpr std::string_view kBusy =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: 25\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
        "too many open connections";
    beast::error_code ignored;
    if (!state_->tls) {
      socket.non_blocking(true, ignored);
      socket.write_some(asio::buffer(kBusy.data(), kBusy.size()), ignored);
      socket.shutdown(tcp::socket::shutdown_send, ignored);
    }
    socket.close(ignored);
  }

  void log(const std::string& line) const {
    std::fprintf(stderr, "qfscale http server %s: %s\n", address_.c_str(), line.c_str());
  }

  std::shared_ptr<ServerState> state_;
  int threads_wanted_;
  std::unique_ptr<asio::io_context> ioc_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::unique_ptr<asio::steady_timer> accept_timer_;  ///< the pause after a failed accept
  detail::AcceptBackoffState backoff_;
  bool at_cap_ = false;  ///< refusing connections; logged when it starts
  std::vector<std::thread> threads_;
  std::string address_;
  std::uint16_t port_ = 0;
  std::mutex stop_mu_;
  bool stopped_ = false;
};

}  // namespace

Result<std::unique_ptr<Server>> start_server(ServerOptions options, Router router) {
  auto endpoint = parse_listen(options.listen);
  if (!endpoint) return fail(std::move(endpoint.error()));

  auto state = std::make_shared<ServerState>();
  state->router = std::move(router);
  state->limits.max_body_bytes = options.max_body_bytes;
  state->limits.max_header_bytes = options.max_header_bytes;
  state->read_timeout = options.read_timeout;
  state->max_connections = options.max_connections;
  if (state->max_connections == 0) {
    rlimit limit{};
    const bool known = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY;
    state->max_connections = known ? detail::default_max_connections(limit.rlim_cur) : 256;
  }
  if (options.tls) {
    state->tls.emplace(ssl::context::tls_server);
    if (auto st = configure_tls(*state->tls, *options.tls); !st) return fail(std::move(st.error()));
  }

  try {
    auto server = std::make_unique<ServerImpl>(std::move(state), options.threads);
    if (auto st = server->listen(*endpoint); !st) return fail(std::move(st.error()));
    return std::unique_ptr<Server>(std::move(server));
  } catch (const std::exception& e) {
    // io_context and thread creation report resource exhaustion by throwing.
    return fail(ErrorCode::Transient, std::string("start server: ") + e.what());
  }
}

}  // namespace qfscale::http
