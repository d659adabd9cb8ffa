#pragma once

// Request parsing shared by the server's sessions and the fuzz target, so that both enforce the
// same limits and map the same failures to the same status codes.

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>
#include <tl/expected.hpp>

#include "qfscale/http/message.h"

namespace qfscale::http::detail {

struct RequestLimits {
  std::size_t max_header_bytes = 16u << 10;
  std::size_t max_body_bytes = 1u << 20;
};

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastRequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

/// Applies our limits to a fresh parser (Beast's defaults differ: 8 KiB headers, 1 MiB body).
void apply_limits(BeastRequestParser& parser, const RequestLimits& limits);

/// The status a server answers a failed read with: 413 for a body over the limit, 431 for
/// headers over the limit, 400 for anything else the parser rejects. 0 for errors that are not
/// parse errors (I/O, timeouts), which get no response at all.
[[nodiscard]] int status_for_parse_error(const boost::system::error_code& ec);

/// Our plain message from Beast's, without the remote address.
[[nodiscard]] Request to_request(const BeastRequest& message);

struct ParseFailure {
  int status = 400;
  std::string message;
};

/// Parses the first complete request in `raw`. Bytes after it (a pipelined request) are
/// ignored. An incomplete request is a 400: there is no more input to wait for.
/// Thread-safety: pure function.
[[nodiscard]] tl::expected<Request, ParseFailure> parse_request(std::string_view raw,
                                                                const RequestLimits& limits);

}  // namespace qfscale::http::detail
