#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "qfscale/http/server.h"

namespace qfscale::http {

namespace {

/// How specifically `pattern` matches `path`: 0 for no match, otherwise larger is more
/// specific. Exact patterns beat every prefix pattern, and longer prefixes beat shorter ones,
/// so "/v2/service" wins over "/v2/*" wins over "/*" regardless of registration order.
std::size_t match_rank(std::string_view pattern, std::string_view path) {
  constexpr std::string_view kWildcard = "/*";
  if (pattern.size() >= kWildcard.size() &&
      pattern.substr(pattern.size() - kWildcard.size()) == kWildcard) {
    const std::string_view prefix = pattern.substr(0, pattern.size() - 1);  // keeps the '/'
    return path.substr(0, prefix.size()) == prefix ? prefix.size() + 1 : 0;
  }
  return pattern == path ? std::string_view::npos : 0;
}

}  // namespace

Router& Router::add(std::string method, std::string path_pattern, Handler handler) {
  routes_.push_back(Route{std::move(method), std::move(path_pattern), std::move(handler)});
  return *this;
}

Response Router::dispatch(const Request& request) const {
  const std::string_view path = request.path();
  std::size_t best = 0;
  for (const auto& r : routes_) best = std::max(best, match_rank(r.pattern, path));
  if (best == 0) return text_response(404, "not found: " + std::string(path) + "\n");

  std::vector<std::string_view> allowed;
  for (const auto& r : routes_) {
    if (match_rank(r.pattern, path) != best) continue;
    if (r.method == request.method) return r.handler(request);
    if (std::find(allowed.begin(), allowed.end(), r.method) == allowed.end()) {
      allowed.push_back(r.method);
    }
  }
  std::string allow;
  for (const auto m : allowed) {
    if (!allow.empty()) allow += ", ";
    allow += m;
  }
  Response res = text_response(
      405, "method " + request.method + " not allowed for " + std::string(path) + "\n");
  res.headers.push_back({"Allow", allow});
  return res;
}

}  // namespace qfscale::http
