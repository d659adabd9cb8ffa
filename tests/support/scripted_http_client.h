#pragma once

/// A scripted `http::Client` double: every `send` is recorded and answered by a test-supplied
/// function, so tests can serve recorded replies, inject transport errors and inspect the
/// requests. (Named apart from the general `FakeHttpClient`.)

#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "qfscale/http/client.h"
#include "qfscale/util/result.h"

namespace qfscale::testing {

/// Thread-safety: `send`, `requests` and `set_responder` are safe from any thread.
class ScriptedHttpClient final : public http::Client {
 public:
  using Responder = std::function<Result<http::Response>(const http::ClientRequest&)>;

  explicit ScriptedHttpClient(Responder responder) : responder_(std::move(responder)) {}

  /// Answers every request with `status` and `body` (Content-Type application/json).
  static ScriptedHttpClient replying(int status, std::string body) {
    return ScriptedHttpClient([status, body = std::move(body)](const http::ClientRequest&) {
      http::Response r;
      r.status = status;
      r.headers.push_back({"Content-Type", "application/json"});
      r.body = body;
      return Result<http::Response>(std::move(r));
    });
  }

  Result<http::Response> send(const http::ClientRequest& request) override {
    Responder responder;
    {
      const std::lock_guard lock(mutex_);
      requests_.push_back(request);
      responder = responder_;
    }
    return responder(request);
  }

  [[nodiscard]] std::vector<http::ClientRequest> requests() const {
    const std::lock_guard lock(mutex_);
    return requests_;
  }

  void set_responder(Responder responder) {
    const std::lock_guard lock(mutex_);
    responder_ = std::move(responder);
  }

  ScriptedHttpClient(ScriptedHttpClient&& other) noexcept
      : responder_(std::move(other.responder_)) {}
  ScriptedHttpClient(const ScriptedHttpClient&) = delete;
  ScriptedHttpClient& operator=(const ScriptedHttpClient&) = delete;
  ScriptedHttpClient& operator=(ScriptedHttpClient&&) = delete;
  ~ScriptedHttpClient() override = default;

 private:
  mutable std::mutex mutex_;
  Responder responder_;
  std::vector<http::ClientRequest> requests_;
};

}  // namespace qfscale::testing
