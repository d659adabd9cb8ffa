// The Beast client behind make_client. It is synchronous for callers but drives Beast's
// asynchronous operations underneath, because only those honour tcp_stream's timeouts. Each
// pooled connection owns a small io_context that is run only by the thread currently borrowing
// the connection, so concurrent `send` calls share nothing but the pool and the TLS context.

#include "qfscale/http/client.h"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace qfscale::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

/// Response headers larger than this are treated as a malformed response. Beast's default
/// (8 KiB) is tight for APIs that return long request ids and tracing headers.
constexpr std::uint32_t kMaxResponseHeaderBytes = 64u << 10;

/// One keep-alive connection. Used by one thread at a time: the pool hands it out under a lock.
struct Connection {
  explicit Connection(ssl::context* tls_context) : ioc(1) {
    if (tls_context != nullptr) {
      tls.emplace(ioc, *tls_context);
    } else {
      plain.emplace(ioc);
    }
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&&) = delete;
  Connection& operator=(Connection&&) = delete;
  ~Connection() {
    // Destroy the streams before the io_context they were created on.
    tls.reset();
    plain.reset();
  }

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  asio::io_context ioc;
  std::optional<beast::tcp_stream> plain;
  std::optional<TlsStream> tls;
  beast::flat_buffer buffer;
  bool reused = false;  ///< came from the pool, so the server may have closed it meanwhile
};

/// Runs the connection's io_context until the operation started by `initiate` completes and
/// returns its error code. `initiate` receives the completion handler.
template <class Initiate>
beast::error_code run_until_done(asio::io_context& ioc, Initiate&& initiate) {
  beast::error_code result = asio::error::would_block;
  std::forward<Initiate>(initiate)([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

Error transient(std::string message) {
  return util::make_error(ErrorCode::Transient, std::move(message));
}

// The server sent a TLS alert about this client's certificate (missing, unknown CA, bad,
// expired, revoked): retrying cannot help until someone changes the certificate or the server.
bool refused_client_certificate(const boost::system::error_code& ec) {
  if (ec.category() != asio::error::get_ssl_category()) return false;
  switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {  // NOLINT(google-runtime-int)
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
      return true;
    default:
      return false;
  }
}

// A failed read or handshake: InvalidInput when the server refused our certificate, else
// Transient.
Error exchange_error(const boost::system::error_code& ec, std::string message) {
  if (refused_client_certificate(ec)) {
    return util::make_error(ErrorCode::InvalidInput,
                            message +
                                ": the server refused this client's certificate; check "
                                "the client certificate and key (certFile, keyFile)");
  }
  return transient(std::move(message));
}

bool valid_token(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 32 || u >= 127 ||
        std::string_view("()<>@,;:\\\"/[]?={}").find(c) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool valid_header_value(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

class ClientImpl final : public Client {
 public:
  explicit ClientImpl(ClientOptions options) : options_(std::move(options)) {}
  ClientImpl(const ClientImpl&) = delete;
  ClientImpl& operator=(const ClientImpl&) = delete;
  ClientImpl(ClientImpl&&) = delete;
  ClientImpl& operator=(ClientImpl&&) = delete;
  ~ClientImpl() override {
    // Connections must go before the TLS context their streams reference.
    std::lock_guard lock(mu_);
    idle_.clear();
  }

  Status init() {
    boost::system::error_code ec;
    tls_.emplace(ssl::context::tls_client);
    tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1,
                      ec);
    if (ec) return fail(ErrorCode::Internal, "TLS options: " + ec.message());
    if (!options_.cert_file.empty() || !options_.key_file.empty()) {
      if (options_.cert_file.empty() || options_.key_file.empty()) {
        return fail(ErrorCode::InvalidInput,
                    "TLS client certificate: cert_file and key_file go together");
      }
      tls_->use_certificate_chain_file(options_.cert_file, ec);
      if (ec) {
        return fail(ErrorCode::InvalidInput,
                    "TLS cert_file \"" + options_.cert_file + "\": " + ec.message());
      }
      tls_->use_private_key_file(options_.key_file, ssl::context::pem, ec);
      if (ec) {
        return fail(ErrorCode::InvalidInput,
                    "TLS key_file \"" + options_.key_file + "\": " + ec.message());
      }
    }
    if (!options_.verify_peer) {
      tls_->set_verify_mode(ssl::verify_none, ec);
      return {};
    }
    tls_->set_verify_mode(ssl::verify_peer, ec);
    if (ec) return fail(ErrorCode::Internal, "TLS verify mode: " + ec.message());
    if (options_.ca_file.empty()) {
      tls_->set_default_verify_paths(ec);
      if (ec) return fail(ErrorCode::Internal, "TLS default verify paths: " + ec.message());
      return {};
    }
    // A CA bundle replaces the system store: a private CA should not widen trust to every
    // public CA, and a public endpoint behind a corporate proxy names its CA here.
    tls_->load_verify_file(options_.ca_file, ec);
    if (ec) {
      return fail(ErrorCode::InvalidInput,
                  "TLS ca_file \"" + options_.ca_file + "\": " + ec.message());
    }
    return {};
  }

  Result<Response> send(const ClientRequest& request) override {
    try {
      auto result = send_checked(request);
      if (!result && cancelled()) {
        result.error().message = "cancelled, qfscale is stopping: " + result.error().message;
      }
      return result;
    } catch (const std::system_error& e) {
      // Only resource exhaustion (e.g. no file descriptors for an io_context) gets here.
      return fail(ErrorCode::Transient, std::string("HTTP client: ") + e.what());
    } catch (const std::exception& e) {
      return fail(ErrorCode::Internal, std::string("HTTP client: ") + e.what());
    }
  }

 public:
  void cancel_all() override {
    const std::lock_guard lock(mu_);
    cancelled_ = true;
    // Each connection's io_context is run by the thread using it: the close runs there, and
    // fails the operation in flight (or the next one) at once.
    for (Connection* conn : in_flight_) {
      asio::post(conn->ioc, [conn] {
        beast::error_code ignored;
        conn->lowest().socket().close(ignored);
      });
    }
    idle_.clear();
  }

 private:
  /// Registers a connection as in use for the scope, so cancel_all can reach it; `tracked` is
  /// false once cancel_all has been called (nothing new starts then).
  struct InFlight {
    InFlight(ClientImpl& c, Connection* p) : client(c), conn(p) {
      const std::lock_guard lock(client.mu_);
      tracked = !client.cancelled_;
      if (tracked) client.in_flight_.insert(conn);
    }
    ~InFlight() {
      const std::lock_guard lock(client.mu_);
      client.in_flight_.erase(conn);
    }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;
    InFlight(InFlight&&) = delete;
    InFlight& operator=(InFlight&&) = delete;
    ClientImpl& client;
    Connection* conn;
    bool tracked = false;
  };

  bool cancelled() {
    const std::lock_guard lock(mu_);
    return cancelled_;
  }

  struct Outcome {
    Result<Response> result;
    /// The request failed before any response byte arrived on a pooled connection: the server
    /// most likely closed it while idle, so one retry on a fresh connection is safe to try.
    bool stale = false;
    /// The connection is cleanly between messages and the server agreed to keep it open.
    bool keep_alive = false;
  };

  Result<Response> send_checked(const ClientRequest& request) {
    auto url = parse_url(request.url);
    if (!url) return fail(std::move(url.error()));
    if (!valid_token(request.method)) {
      return fail(ErrorCode::InvalidInput, "bad HTTP method \"" + request.method + "\"");
    }
    bhttp::request<bhttp::string_body> req;
    req.version(11);
    req.method_string(request.method);
    req.target(url->target);
    for (const auto& h : request.headers) {
      if (!valid_token(h.name) || !valid_header_value(h.value)) {
        return fail(ErrorCode::InvalidInput, "bad HTTP header \"" + h.name + "\"");
      }
      req.insert(h.name, h.value);
    }
    if (req.find(bhttp::field::host) == req.end()) req.set(bhttp::field::host, url->host_header());
    if (req.find(bhttp::field::user_agent) == req.end()) {
      req.set(bhttp::field::user_agent, "qfscale/" QFS_VERSION);
    }
    req.body() = request.body;
    req.prepare_payload();
    req.keep_alive(true);

    const auto timeout = request.timeout.value_or(options_.request_timeout);
    const std::string key = url->scheme + "://" + url->host + ":" + url->port;
    const std::string where = url->host + ":" + url->port;

    std::unique_ptr<Connection> conn = borrow(key);
    for (int attempt = 0;; ++attempt) {
      if (!conn) {
        auto fresh = connect(*url, where);
        if (!fresh) return fail(std::move(fresh.error()));
        conn = std::move(*fresh);
      }
      Outcome out = [&] {
        const InFlight in_flight(*this, conn.get());
        if (!in_flight.tracked) return Outcome{fail(transient("request to " + where))};
        return exchange(*conn, req, timeout, where);
      }();
      if (out.result) {
        if (out.keep_alive && !cancelled()) give_back(key, std::move(conn));
        return std::move(out.result);
      }
      conn.reset();
      if (!out.stale || attempt > 0) return std::move(out.result);
    }
  }

  std::unique_ptr<Connection> borrow(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = idle_.find(key);
    if (it == idle_.end() || it->second.empty()) return nullptr;
    auto conn = std::move(it->second.back());
    it->second.pop_back();
    conn->reused = true;
    return conn;
  }

  void give_back(const std::string& key, std::unique_ptr<Connection> conn) {
    if (!conn) return;
    std::lock_guard lock(mu_);
    auto& list = idle_[key];
    if (list.size() < options_.max_idle_per_host) list.push_back(std::move(conn));
  }

  Result<std::unique_ptr<Connection>> connect(const ParsedUrl& url, const std::string& where) {
    const bool https = url.scheme == "https";
    auto conn = std::make_unique<Connection>(https ? &*tls_ : nullptr);
    const InFlight in_flight(*this, conn.get());
    if (!in_flight.tracked) return fail(transient("connect to " + where));
    const auto deadline = Clock::now() + options_.connect_timeout;
    const auto timeout_text =
        fmt::format("timed out after {} ms", options_.connect_timeout.count());

    std::vector<tcp::endpoint> endpoints;
    boost::system::error_code rec;
    if (const auto address = asio::ip::make_address(url.host, rec); !rec) {
      // Address literals need no resolver (and no resolver thread). parse_url checked the port.
      std::uint16_t port = 0;
      std::from_chars(url.port.data(), url.port.data() + url.port.size(), port);
      endpoints.emplace_back(address, port);
    } else {
      // A throwaway io_context: Asio runs getaddrinfo on a helper thread per io_context, which
      // would otherwise live as long as the pooled connection. getaddrinfo cannot be
      // interrupted, so resolution is bounded by the system resolver's own timeouts, not by
      // connect_timeout.
      asio::io_context resolve_ioc(1);
      tcp::resolver resolver(resolve_ioc);
      rec = run_until_done(resolve_ioc, [&](auto handler) {
        resolver.async_resolve(url.host, url.port,
                               [&, handler](beast::error_code ec, tcp::resolver::results_type r) {
                                 for (const auto& entry : r) endpoints.push_back(entry.endpoint());
                                 handler(ec);
                               });
      });
      if (rec) return fail(transient("resolve " + where + ": " + rec.message()));
    }

    auto& lowest = conn->lowest();
    lowest.expires_at(deadline);
    const auto cec = run_until_done(
        conn->ioc, [&](auto handler) { lowest.async_connect(endpoints, std::move(handler)); });
    if (cec == beast::error::timeout)
      return fail(transient("connect to " + where + ": " + timeout_text));
    if (cec) return fail(transient("connect to " + where + ": " + cec.message()));
    beast::error_code ignored;
    lowest.socket().set_option(tcp::no_delay(true), ignored);

    if (https) {
      if (auto st = handshake(*conn, url, where, timeout_text); !st)
        return fail(std::move(st.error()));
    }
    lowest.expires_never();
    return conn;
  }

  Status handshake(Connection& conn, const ParsedUrl& url, const std::string& where,
                   const std::string& timeout_text) {
    SSL* ssl_handle = conn.tls->native_handle();
    const bool ip = is_ip_literal(url.host);
    // SNI carries host names only (RFC 6066 section 3 forbids IP literals).
    // SSL_set_tlsext_host_name is a macro with a C cast; this is its expansion, cast-free.
    std::string sni = url.host;
    if (!ip && SSL_ctrl(ssl_handle, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                        sni.data()) != 1) {
      return fail(ErrorCode::Internal, "TLS: cannot set SNI for " + url.host);
    }
    if (options_.verify_peer) {
      // Check the name we dialled against the certificate: DNS SANs for names, IP SANs for
      // address literals (SSL_set1_host alone would compare an IP against DNS names).
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      const int rc = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str())
                        : SSL_set1_host(ssl_handle, url.host.c_str());
      if (rc != 1) return fail(ErrorCode::Internal, "TLS: cannot set expected host " + url.host);
    }
    const auto ec = run_until_done(conn.ioc, [&](auto handler) {
      conn.tls->async_handshake(ssl::stream_base::client, std::move(handler));
    });
    if (!ec) return {};
    if (ec == beast::error::timeout)
      return fail(transient("TLS handshake with " + where + ": " + timeout_text));
    // Asio's message for OpenSSL errors appends the library name ("... (SSL routines)"); the
    // reason alone reads better next to the verification detail.
    std::string detail = ec.message();
    if (ec.category() == asio::error::get_ssl_category()) {
      if (const char* reason =
              ERR_reason_error_string(static_cast<unsigned long>(ec.value()));  // NOLINT
          reason != nullptr) {
        detail = reason;
      }
    }
    const long verify = SSL_get_verify_result(ssl_handle);  // NOLINT(google-runtime-int)
    ERR_clear_error();
    if (verify != X509_V_OK) {
      // Retrying cannot help: the same certificate fails the same check until someone changes
      // the trust settings or the certificate.
      return fail(ErrorCode::InvalidInput,
                  fmt::format("TLS handshake with {}: {} ({}): the server certificate is not "
                              "trusted; check the CA file (caFile) and the server certificate",
                              where, detail, X509_verify_cert_error_string(verify)));
    }
    return fail(exchange_error(ec, "TLS handshake with " + where + ": " + detail));
  }

  template <class Stream>
  Outcome exchange_on(Connection& conn, Stream& stream, bhttp::request<bhttp::string_body>& req,
                      std::chrono::milliseconds timeout, const std::string& where) {
    auto& lowest = conn.lowest();
    const auto timeout_text = fmt::format("timed out after {} ms", timeout.count());
    // One deadline for the whole exchange: write and read together.
    lowest.expires_after(timeout);
    auto wec = run_until_done(
        conn.ioc, [&](auto handler) { bhttp::async_write(stream, req, std::move(handler)); });
    if (wec) {
      const bool timed_out = wec == beast::error::timeout;
      return {fail(transient(fmt::format("send request to {}: {}", where,
                                         timed_out ? timeout_text : wec.message()))),
              conn.reused && !timed_out};
    }

    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(options_.max_response_bytes);
    parser.header_limit(kMaxResponseHeaderBytes);
    if (req.method() == bhttp::verb::head) parser.skip(true);
    auto rec = run_until_done(conn.ioc, [&](auto handler) {
      bhttp::async_read(stream, conn.buffer, parser, std::move(handler));
    });
    lowest.expires_never();
    if (rec) {
      if (rec == bhttp::error::body_limit) {
        return {fail(transient(fmt::format("response from {} exceeds max_response_bytes ({} bytes)",
                                           where, options_.max_response_bytes))),
                false};
      }
      const bool timed_out = rec == beast::error::timeout;
      const bool nothing_read = !parser.got_some() && conn.buffer.size() == 0;
      return {fail(exchange_error(rec, fmt::format("read response from {}: {}", where,
                                                   timed_out ? timeout_text : rec.message()))),
              conn.reused && nothing_read && !timed_out};
    }

    auto message = parser.release();
    Response out;
    out.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      out.headers.push_back(Header{std::string(field.name_string()), std::string(field.value())});
    }
    out.body = std::move(message.body());
    // Reuse only a connection that is cleanly between messages.
    const bool keep_alive = message.keep_alive() && conn.buffer.size() == 0;
    return {std::move(out), false, keep_alive};
  }

  Outcome exchange(Connection& conn, bhttp::request<bhttp::string_body>& req,
                   std::chrono::milliseconds timeout, const std::string& where) {
    return conn.tls ? exchange_on(conn, *conn.tls, req, timeout, where)
                    : exchange_on(conn, *conn.plain, req, timeout, where);
  }

  ClientOptions options_;
  std::optional<ssl::context> tls_;
  std::mutex mu_;  ///< guards idle_, in_flight_ and cancelled_
  std::unordered_map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
  std::set<Connection*> in_flight_;
  bool cancelled_ = false;
};

}  // namespace

Result<std::unique_ptr<Client>> make_client(ClientOptions options) {
  try {
    auto client = std::make_unique<ClientImpl>(std::move(options));
    if (auto st = client->init(); !st) return fail(std::move(st.error()));
    return std::unique_ptr<Client>(std::move(client));
  } catch (const std::exception& e) {
    return fail(ErrorCode::Internal, std::string("make_client: ") + e.what());
  }
}

}  // namespace qfscale::http
