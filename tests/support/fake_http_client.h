#pragma once

// An http::Client that answers from a script and records what it was asked. For unit tests of
// anything that talks HTTP through the interface (the Qianfan client, metric sources).

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "qfscale/http/client.h"

namespace qfscale::testing {

/// Thread-safety: every method may be called concurrently; replies are handed out in FIFO order.
class FakeHttpClient final : public http::Client {
 public:
  using Reply = Result<http::Response>;
  using Handler = std::function<Reply(const http::ClientRequest&)>;

  /// Queues a reply (a response or a transport error) for the next `send`.
  void push(Reply reply);
  /// Queues a response with `Content-Type: application/json` plus `extra` headers.
  void push_json(int status, std::string body, http::Headers extra = {});
  /// Queues a transport failure (what the real client returns for a timeout or refused connect).
  void push_transport_error(std::string message);
  /// Answers when the queue is empty. Without one, an empty queue answers Internal
  /// "FakeHttpClient: no scripted reply", which fails the test that forgot to script it.
  void set_handler(Handler handler);

  Reply send(const http::ClientRequest& request) override;

  [[nodiscard]] std::vector<http::ClientRequest> requests() const;
  [[nodiscard]] std::size_t request_count() const;
  /// Replies still queued.
  [[nodiscard]] std::size_t pending() const;

 private:
  mutable std::mutex mutex_;
  std::deque<Reply> replies_;
  Handler handler_;
  std::vector<http::ClientRequest> requests_;
};

/// A JSON response (no dependency on the http module's implementation).
[[nodiscard]] http::Response json_reply(int status, std::string body, http::Headers extra = {});

}  // namespace qfscale::testing
