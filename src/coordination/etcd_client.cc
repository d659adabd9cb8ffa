// The etcd v3 client over the JSON gateway: endpoints with failover, retries with backoff and
// jitter, optional user/password authentication (coordination/etcd.h).

#include <algorithm>
#include <mutex>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "qfscale/coordination/etcd.h"

#include "coordination/wire.h"

namespace qfscale::coordination {
namespace {

/// Thread-safety: see Etcd; `mutex_` guards the preferred endpoint, the token and `random_`.
class EtcdClient final : public Etcd {
 public:
  EtcdClient(EtcdOptions options, http::Client& http, util::Random& random, SleepFunction sleep)
      : options_(std::move(options)), http_(http), random_(random), sleep_(std::move(sleep)) {
    if (!sleep_) sleep_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
    options_.retry.max_attempts = std::max(options_.retry.max_attempts, 1);
    for (auto& e : options_.endpoints) {
      while (!e.empty() && e.back() == '/') e.pop_back();
    }
  }

  Result<RangeResult> range(const RangeRequest& request) override {
    return call<RangeResult>("/v3/kv/range", fmt::format("range {}", printable(request.key)),
                             detail::range_body(request),
                             [](const std::string& body) { return detail::decode_range(body); });
  }

  Result<std::int64_t> put(const PutRequest& request) override {
    return call<std::int64_t>("/v3/kv/put", fmt::format("put {}", printable(request.key)),
                              detail::put_body(request),
                              [](const std::string& body) { return detail::decode_put(body); });
  }

  Result<DeleteResult> delete_range(const DeleteRequest& request) override {
    return call<DeleteResult>("/v3/kv/deleterange",
                              fmt::format("deleterange {}", printable(request.key)),
                              detail::delete_body(request),
                              [](const std::string& body) { return detail::decode_delete(body); });
  }

  Result<TxnResult> txn(const TxnRequest& request) override {
    const std::string first =
        request.compare.empty() ? std::string() : printable(request.compare.front().key);
    return call<TxnResult>("/v3/kv/txn", fmt::format("txn {}", first), detail::txn_body(request),
                           [](const std::string& body) { return detail::decode_txn(body); });
  }

  Result<Lease> lease_grant(std::chrono::seconds ttl) override {
    return call<Lease>("/v3/lease/grant", fmt::format("lease grant {}s", ttl.count()),
                       detail::grant_body(ttl),
                       [](const std::string& body) { return detail::decode_grant(body); });
  }

  Result<Lease> lease_keep_alive(std::int64_t id) override {
    return call<Lease>(
        "/v3/lease/keepalive", fmt::format("lease keepalive {}", id), detail::lease_body(id),
        [id](const std::string& body) { return detail::decode_keep_alive(body, id); });
  }

  Status lease_revoke(std::int64_t id) override {
    auto revoked =
        call<bool>("/v3/lease/revoke", fmt::format("lease revoke {}", id), detail::lease_body(id),
                   [](const std::string&) { return Result<bool>(true); });
    if (!revoked && !is_not_found(revoked.error())) return fail(std::move(revoked).error());
    return util::ok();
  }

  Result<LeaseTimeToLive> lease_time_to_live(std::int64_t id) override {
    return call<LeaseTimeToLive>(
        "/v3/lease/timetolive", fmt::format("lease timetolive {}", id), detail::lease_body(id),
        [](const std::string& body) { return detail::decode_time_to_live(body); });
  }

 private:
  // Keys are bytes; messages show them only when they are plain text.
  static std::string printable(std::string_view key) {
    const bool plain =
        std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
    return plain ? std::string(key.substr(0, 200)) : fmt::format("<{} bytes>", key.size());
  }

  std::chrono::milliseconds backoff(int attempt) {
    const auto cap = std::max<std::int64_t>(options_.retry.max_delay.count(), 0);
    std::int64_t bound = std::max<std::int64_t>(options_.retry.base_delay.count(), 0);
    for (int i = 0; i < attempt && bound < cap; ++i) bound *= 2;
    bound = std::min(bound, cap);
    double u = 0;
    {
      const std::lock_guard lock(mutex_);
      u = random_.uniform01();
    }
    return std::chrono::milliseconds{
        std::min(static_cast<std::int64_t>(u * static_cast<double>(bound + 1)), bound)};
  }

  Result<http::Response> post(std::size_t endpoint, std::string_view path, const std::string& body,
                              const std::string& token) {
    http::ClientRequest request;
    request.method = "POST";
    request.url = options_.endpoints[endpoint] + std::string(path);
    request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    if (!token.empty()) request.headers.push_back({"Authorization", token});
    request.body = body;
    request.timeout = options_.request_timeout;
    return http_.send(request);
  }

  // A token for `endpoint`, authenticating when there is none yet (or `refresh`).
  Result<std::string> token(std::size_t endpoint, bool refresh) {
    if (options_.username.empty()) return std::string();
    {
      const std::lock_guard lock(mutex_);
      if (!refresh && !token_.empty()) return token_;
    }
    auto response = post(endpoint, "/v3/auth/authenticate",
                         detail::authenticate_body(options_.username, options_.password), {});
    if (!response) return fail(std::move(response).error());
    if (auto error = detail::error_from_reply(*response, "authenticate")) {
      return fail(std::move(*error).with_context(
          fmt::format("authenticating to etcd as user {}", options_.username)));
    }
    auto decoded = detail::decode_token(response->body);
    if (!decoded) return decoded;
    const std::lock_guard lock(mutex_);
    token_ = *decoded;
    return token_;
  }

  template <class T, class Decode>
  Result<T> call(std::string_view path, const std::string& what, const std::string& body,
                 Decode&& decode) {
    if (options_.endpoints.empty()) {
      return fail(ErrorCode::InvalidInput, "etcd client has no endpoints");
    }
    std::size_t endpoint = 0;
    {
      const std::lock_guard lock(mutex_);
      endpoint = preferred_;
    }
    Error last;
    bool reauthenticated = false;
    int attempts = 0;
    while (true) {
      ++attempts;
      Result<T> out = [&]() -> Result<T> {
        auto auth = token(endpoint, false);
        if (!auth) return fail(std::move(auth).error());
        auto response = post(endpoint, path, body, *auth);
        if (!response) return fail(std::move(response).error());
        if (auto error = detail::error_from_reply(*response, what)) {
          if (error->remote_code == "Unauthenticated" && !options_.username.empty() &&
              !reauthenticated) {
            // The token expired (simple tokens live 5 minutes by default): once more, freshly.
            reauthenticated = true;
            auto fresh = token(endpoint, true);
            if (!fresh) return fail(std::move(fresh).error());
            response = post(endpoint, path, body, *fresh);
            if (!response) return fail(std::move(response).error());
            if (auto again = detail::error_from_reply(*response, what)) return fail(*again);
          } else {
            return fail(std::move(*error));
          }
        }
        return decode(response->body);
      }();
      if (out) {
        const std::lock_guard lock(mutex_);
        preferred_ = endpoint;
        return out;
      }
      last = std::move(out).error().with_context(
          fmt::format("etcd endpoint {}", options_.endpoints[endpoint]));
      if (!last.retryable() || attempts >= options_.retry.max_attempts) break;
      // The next endpoint: a member that lost its quorum or its network answers the same way
      // again, another member may not.
      endpoint = (endpoint + 1) % options_.endpoints.size();
      sleep_(backoff(attempts - 1));
    }
    if (attempts > 1) {
      return fail(std::move(last).with_context(fmt::format("{} ({} attempts)", what, attempts)));
    }
    return fail(std::move(last).with_context(what));
  }

  EtcdOptions options_;
  http::Client& http_;
  std::mutex mutex_;
  util::Random& random_;
  SleepFunction sleep_;
  std::size_t preferred_ = 0;
  std::string token_;
};

}  // namespace

TxnOp range_op(std::string key) {
  return TxnOp{.kind = OpKind::Range, .range = {.key = std::move(key)}};
}

TxnOp put_op(std::string key, std::string value, std::int64_t lease) {
  return TxnOp{.kind = OpKind::Put,
               .put = {.key = std::move(key), .value = std::move(value), .lease = lease}};
}

TxnOp delete_op(std::string key) {
  return TxnOp{.kind = OpKind::Delete, .del = {.key = std::move(key)}};
}

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = end.back();
    if (static_cast<unsigned char>(last) < 0xFF) {
      last = static_cast<char>(static_cast<unsigned char>(last) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

bool is_not_found(const Error& error) { return error.remote_code == "NotFound"; }

Result<std::unique_ptr<Etcd>> make_etcd_client(EtcdOptions options, http::Client& http,
                                               util::Random& random, SleepFunction sleep) {
  if (options.endpoints.empty()) {
    return fail(ErrorCode::InvalidInput, "etcd: at least one endpoint is needed");
  }
  for (const auto& endpoint : options.endpoints) {
    auto parsed = http::parse_url(endpoint);
    if (!parsed) {
      return fail(
          std::move(parsed).error().with_context(fmt::format("etcd endpoint {}", endpoint)));
    }
  }
  return std::unique_ptr<Etcd>(
      std::make_unique<EtcdClient>(std::move(options), http, random, std::move(sleep)));
}

}  // namespace qfscale::coordination
