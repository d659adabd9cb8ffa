#pragma once

/// Plain HTTP messages shared by our client and server. No Beast types leak out of `src/http`.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qfscale::http {

struct Header {
  std::string name;
  std::string value;
  friend bool operator==(const Header&, const Header&) = default;
};

using Headers = std::vector<Header>;

/// Case-insensitive lookup of the first header named `name`.
[[nodiscard]] std::optional<std::string_view> find_header(const Headers& headers,
                                                          std::string_view name);

struct Request {
  std::string method = "GET";  ///< upper case
  std::string target = "/";    ///< raw request target: path plus optional "?query"
  Headers headers;
  std::string body;
  std::string remote_address;  ///< filled by the server: "127.0.0.1:54321"

  [[nodiscard]] std::string_view path() const;   ///< target before '?'
  [[nodiscard]] std::string_view query() const;  ///< target after '?', empty if none
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  /// Server side only: wait this long before answering (fault injection; does not block a thread).
  std::chrono::milliseconds delay{0};
  /// Server side only: close the connection without writing anything (fault injection).
  bool drop_connection = false;

  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

/// A JSON response with `Content-Type: application/json`.
[[nodiscard]] Response json_response(int status, std::string body);
/// A plain-text response with `Content-Type: text/plain; charset=utf-8`.
[[nodiscard]] Response text_response(int status, std::string body);

}  // namespace qfscale::http
