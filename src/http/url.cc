// parse_url and ParsedUrl::host_header, on Boost.URL so that odd inputs (IPv6 literals,
// percent-encoding, userinfo) are handled by a real RFC 3986 parser; percent_decode and
// parse_query (url.h).

#include "qfscale/http/url.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "qfscale/http/client.h"
#include "qfscale/util/redact.h"

namespace qfscale::http {

std::string ParsedUrl::host_header() const {
  const bool default_port =
      (scheme == "http" && port == "80") || (scheme == "https" && port == "443");
  // An IPv6 literal needs its brackets back in the Host header (RFC 7230 section 5.4).
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (!default_port) {
    h += ':';
    h += port;
  }
  return h;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_dns_name(std::string_view host) {
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    const int hi = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(
    std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq));
    auto value =
        percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!key || !value) return std::nullopt;
    out.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

Result<ParsedUrl> parse_url(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return fail(ErrorCode::InvalidInput,
                "bad URL \"" + util::redact_url(url) + "\": " + std::string(why));
  };
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return bad(parsed.error().message());
  const boost::urls::url_view& u = *parsed;

  ParsedUrl out;
  if (u.scheme_id() == boost::urls::scheme::http) {
    out.scheme = "http";
  } else if (u.scheme_id() == boost::urls::scheme::https) {
    out.scheme = "https";
  } else {
    return bad("scheme must be http or https");
  }
  if (u.has_userinfo()) return bad("credentials in the URL are not supported");

  switch (u.host_type()) {
    case boost::urls::host_type::ipv6:
      out.host = u.host_ipv6_address().to_string();
      break;
    case boost::urls::host_type::ipv4:
      out.host = u.host();
      break;
    case boost::urls::host_type::name:
      // A reg-name may percent-encode any byte, and the decoded host becomes the Host header and
      // the name resolved: "a%0d%0aX-Injected:1" would split the request. Endpoints are DNS names.
      if (!is_dns_name(u.encoded_host())) {
        return bad("host must be a DNS name (letters, digits, '-', '_' and '.') or an IP address");
      }
      out.host = u.host();
      break;
    default:
      return bad("unsupported host");
  }
  if (out.host.empty()) return bad("missing host");

  if (u.has_port()) {
    const std::string_view p = u.port();
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
    if (p.empty() || ec != std::errc{} || end != p.data() + p.size() || value == 0 ||
        value > 65535) {
      return bad("port must be 1..65535");
    }
    out.port = std::to_string(value);
  } else {
    out.port = out.scheme == "https" ? "443" : "80";
  }

  out.target = std::string(u.encoded_path());
  if (out.target.empty()) out.target = "/";
  if (out.target.front() != '/') return bad("path must be absolute");
  if (u.has_query()) {
    out.target += '?';
    out.target += std::string_view(u.encoded_query());
  }
  // The fragment is never sent to the server (RFC 7230 section 5.1).
  return out;
}

}  // namespace qfscale::http
