// `qfscale sign`: prints the headers that make a request pass bce-auth-v1, so an operator can
// call the Qianfan API with curl. The URL is split here rather than with the http module: only
// scheme://host[:port]/path?query is needed, and `sign` must not pull in the network stack.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "qfscale/bce/signer.h"
#include "qfscale/http/client.h"
#include "qfscale/http/url.h"
#include "qfscale/policy/duration.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/time_text.h"

#include "cli/command.h"

namespace qfscale::cli {
namespace {

struct SignArgs {
  std::string method = "POST";
  std::string url;
  std::vector<std::string> headers;
  std::string body_file;
  std::string timestamp;
  std::string expiration = "30m";
  bool show_canonical = false;
};

struct Target {
  std::string host;  ///< Host header value: the port only when it is not the scheme's default
  std::string path;  ///< percent-decoded
  bce::KeyValues query;
};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) out.push_back(lower(c));
  return out;
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// The URL is parsed once, by http::parse_url (Boost.URL), and its path and query decoded with
// http/url.h: '+' stays '+', as the signer follows RFC 3986.
Result<Target> parse_url(std::string_view url) {
  auto parsed = http::parse_url(url);
  if (!parsed) {
    return fail(ErrorCode::InvalidInput, fmt::format("--url: {}", parsed.error().message));
  }
  Target target;
  // The port only when it is not the scheme's default, as the JS SDK's url.host has it.
  target.host = to_lower(parsed->host_header());
  const std::string_view rest = parsed->target;
  const auto query_start = rest.find('?');
  auto path = http::percent_decode(rest.substr(0, query_start));
  auto query = http::parse_query(
      query_start == std::string_view::npos ? std::string_view{} : rest.substr(query_start + 1));
  if (!path || !query) {
    return fail(ErrorCode::InvalidInput, "--url: '%' must be followed by two hex digits");
  }
  target.path = std::move(*path);
  target.query = std::move(*query);
  return target;
}

Result<std::size_t> body_size(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(ErrorCode::InvalidInput, fmt::format("--body-file {}: cannot open", file));
  const std::string body{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad())
    return fail(ErrorCode::InvalidInput, fmt::format("--body-file {}: read error", file));
  return body.size();
}

Result<bce::SysSeconds> signing_time(const std::string& text) {
  if (text.empty()) {
    return std::chrono::floor<std::chrono::seconds>(util::SystemClock{}.system_now());
  }
  const auto parsed = util::parse_wall_time(text);
  if (!parsed) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("--timestamp '{}' must be {}", text, util::kTimeFormats));
  }
  return bce::SysSeconds{std::chrono::seconds{*parsed}};
}

// Everything the command prints, or the first problem with the input.
Result<std::string> run_sign(const SignArgs& args) {
  if (args.url.empty()) return fail(ErrorCode::InvalidInput, "--url is required");
  if (args.method.empty()) return fail(ErrorCode::InvalidInput, "--method must not be empty");
  auto target = parse_url(args.url);
  if (!target) return fail(std::move(target.error()));
  const auto expiration = policy::parse_duration(args.expiration);
  if (!expiration || expiration->count() <= 0 ||
      expiration->count() > std::numeric_limits<int>::max()) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("--expiration '{}' {}", args.expiration,
                            expiration ? "must be longer than 0s" : expiration.error()));
  }
  auto timestamp = signing_time(args.timestamp);
  if (!timestamp) return fail(std::move(timestamp.error()));

  bce::CanonicalInput request{.method = args.method,
                              .path = std::move(target->path),
                              .query = std::move(target->query),
                              .headers = {}};
  for (const auto& header : args.headers) {
    const auto colon = header.find(':');
    const std::string name = colon == std::string::npos
                                 ? std::string{}
                                 : to_lower(trim(std::string_view(header).substr(0, colon)));
    if (name.empty()) {
      return fail(ErrorCode::InvalidInput, "--header must look like Name:value");
    }
    if (name == "host" || name == "content-length" || name == "x-bce-date" ||
        name == "authorization") {
      return fail(ErrorCode::InvalidInput,
                  fmt::format("--header {}: set by the command (use --url, --body-file or "
                              "--timestamp)",
                              name));
    }
    request.headers.emplace_back(name,
                                 std::string(trim(std::string_view(header).substr(colon + 1))));
  }

  std::string out;
  const std::string date = bce::format_timestamp(*timestamp);
  request.headers.emplace_back("host", target->host);
  request.headers.emplace_back("x-bce-date", date);
  std::optional<std::size_t> length;
  if (!args.body_file.empty()) {
    auto size = body_size(args.body_file);
    if (!size) return fail(std::move(size.error()));
    length = *size;
    request.headers.emplace_back("content-length", std::to_string(*size));
  }

  auto credentials = bce::Credentials::from_environment();
  if (!credentials) return fail(std::move(credentials.error()));
  const bce::Signature signature =
      bce::sign(*credentials, request,
                bce::SigningOptions{.timestamp = *timestamp,
                                    .expiration_seconds = static_cast<int>(expiration->count())});
  if (args.show_canonical) {
    std::fprintf(stderr, "canonical request:\n%s\n", signature.canonical_request.c_str());
  }
  out += fmt::format("Authorization: {}\n", signature.authorization);
  out += fmt::format("x-bce-date: {}\n", date);
  out += fmt::format("Host: {}\n", target->host);
  if (length) out += fmt::format("Content-Length: {}\n", *length);
  return out;
}

}  // namespace

void add_sign_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<SignArgs>();
  auto* cmd = app.add_subcommand(
      "sign",
      "Print Authorization, x-bce-date, Host and Content-Length header lines for a request,\n"
      "signed with bce-auth-v1 using QIANFAN_ACCESS_KEY / QIANFAN_SECRET_KEY. Signed: host,\n"
      "content-length, content-type, content-md5 and every x-bce-* header.");
  cmd->add_option("--method", args->method, "HTTP method")->capture_default_str();
  cmd->add_option("--url", args->url,
                  "scheme://host[:port]/path?query, e.g. "
                  "https://qianfan.baidubce.com/v2/service?Action=DescribeService");
  cmd->add_option("--header", args->headers,
                  "Name:value sent with the request (repeatable); Content-Type and x-bce-* are "
                  "signed");
  cmd->add_option("--body-file", args->body_file,
                  "file holding the exact body bytes; signs its Content-Length");
  cmd->add_option("--timestamp", args->timestamp,
                  fmt::format("signing time: {} (default: now)", util::kTimeFormats));
  cmd->add_option("--expiration", args->expiration, "validity of the signature (e.g. 30m, 1800s)")
      ->capture_default_str();
  cmd->add_flag("--show-canonical", args->show_canonical,
                "also print the canonical request to stderr (to debug SignatureDoesNotMatch)");
  cmd->callback([args, &context] {
    auto printed = run_sign(*args);
    if (!printed) {
      std::fprintf(stderr, "qfscale sign: %s\n", printed.error().to_string().c_str());
      context.exit_code = 2;
      return;
    }
    std::fputs(printed->c_str(), stdout);
  });
}

}  // namespace qfscale::cli
