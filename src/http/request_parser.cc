#include "http/request_parser.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

namespace qfscale::http::detail {

namespace bhttp = boost::beast::http;

void apply_limits(BeastRequestParser& parser, const RequestLimits& limits) {
  parser.header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(limits.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  parser.body_limit(limits.max_body_bytes);
}

int status_for_parse_error(const boost::system::error_code& ec) {
  if (ec == bhttp::error::body_limit) return 413;
  if (ec == bhttp::error::header_limit) return 431;
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
    // end_of_stream is a clean close between requests, not a malformed request.
    return ec == bhttp::error::end_of_stream ? 0 : 400;
  }
  return 0;
}

Request to_request(const BeastRequest& message) {
  Request out;
  out.method = std::string(message.method_string());
  out.target = std::string(message.target());
  out.headers.reserve(static_cast<std::size_t>(std::distance(message.begin(), message.end())));
  for (const auto& field : message) {
    out.headers.push_back(Header{std::string(field.name_string()), std::string(field.value())});
  }
  out.body = message.body();
  return out;
}

tl::expected<Request, ParseFailure> parse_request(std::string_view raw,
                                                  const RequestLimits& limits) {
  BeastRequestParser parser;
  apply_limits(parser, limits);
  boost::system::error_code ec;
  std::size_t offset = 0;
  while (!parser.is_done()) {
    const std::size_t used =
        parser.put(boost::asio::buffer(raw.data() + offset, raw.size() - offset), ec);
    offset += used;
    if (ec == bhttp::error::need_more) {
      if (offset < raw.size() && used > 0) {
        ec = {};
        continue;
      }
      // No more input will come: let the parser decide whether what it has is complete.
      // put_eof requires at least one byte (a Beast assertion), so an empty input stops here.
      if (!parser.got_some()) return tl::unexpected(ParseFailure{400, "empty request"});
      ec = {};
      parser.put_eof(ec);
      if (!ec && parser.is_done()) break;
      if (!ec) ec = bhttp::error::partial_message;
    }
    if (ec) {
      const int status = status_for_parse_error(ec);
      return tl::unexpected(ParseFailure{status == 0 ? 400 : status, ec.message()});
    }
    if (used == 0) {
      // Cannot progress without an error; treat as truncated rather than loop forever.
      return tl::unexpected(ParseFailure{400, "incomplete request"});
    }
  }
  return to_request(parser.get());
}

}  // namespace qfscale::http::detail
