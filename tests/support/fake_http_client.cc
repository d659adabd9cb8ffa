#include "support/fake_http_client.h"

#include <utility>

namespace qfscale::testing {

http::Response json_reply(int status, std::string body, http::Headers extra) {
  http::Response response;
  response.status = status;
  response.headers.push_back({"Content-Type", "application/json"});
  for (auto& h : extra) response.headers.push_back(std::move(h));
  response.body = std::move(body);
  return response;
}

void FakeHttpClient::push(Reply reply) {
  const std::lock_guard lock(mutex_);
  replies_.push_back(std::move(reply));
}

void FakeHttpClient::push_json(int status, std::string body, http::Headers extra) {
  push(json_reply(status, std::move(body), std::move(extra)));
}

void FakeHttpClient::push_transport_error(std::string message) {
  push(fail(ErrorCode::Transient, std::move(message)));
}

void FakeHttpClient::set_handler(Handler handler) {
  const std::lock_guard lock(mutex_);
  handler_ = std::move(handler);
}

FakeHttpClient::Reply FakeHttpClient::send(const http::ClientRequest& request) {
  Handler handler;
  {
    const std::lock_guard lock(mutex_);
    requests_.push_back(request);
    if (!replies_.empty()) {
      Reply reply = std::move(replies_.front());
      replies_.pop_front();
      return reply;
    }
    handler = handler_;
  }
  if (handler) return handler(request);
  return fail(ErrorCode::Internal, "FakeHttpClient: no scripted reply");
}

std::vector<http::ClientRequest> FakeHttpClient::requests() const {
  const std::lock_guard lock(mutex_);
  return requests_;
}

std::size_t FakeHttpClient::request_count() const {
  const std::lock_guard lock(mutex_);
  return requests_.size();
}

std::size_t FakeHttpClient::pending() const {
  const std::lock_guard lock(mutex_);
  return replies_.size();
}

}  // namespace qfscale::testing
