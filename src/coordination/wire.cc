#include "coordination/wire.h"

#include <array>
#include <charconv>
#include <utility>

#include <fmt/format.h>
#include <simdjson.h>

#include "qfscale/util/json_string.h"

#include "util/simdjson_names.h"

namespace qfscale::coordination::detail {
namespace {

namespace dom = simdjson::dom;

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// gRPC status codes by number (the gateway's "code").
constexpr std::array<std::string_view, 17> kGrpcCodes = {
    "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
    "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
    "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
    "DataLoss", "Unauthenticated"};

bool transient_grpc(std::string_view code) {
  return code == "Unavailable" || code == "DeadlineExceeded" || code == "ResourceExhausted" ||
         code == "Aborted" || code == "Internal" || code == "Unknown";
}

Error malformed(std::string_view what, std::string_view path, std::string_view why) {
  return util::make_error(ErrorCode::Remote,
                          fmt::format("malformed etcd {} reply: {}: {}", what, path, why));
}

// A JSON body parsed once; every decoder walks it with a path for its messages.
struct Doc {
  explicit Doc(std::string_view w) : what(w) {}
  std::string_view what;
  dom::parser parser;
  dom::element root;
};

Result<dom::object> parse_object(Doc& doc, std::string_view body) {
  if (doc.parser.parse(body.data(), body.size()).get(doc.root) != simdjson::SUCCESS) {
    return fail(malformed(doc.what, "$", "not JSON"));
  }
  dom::object object;
  if (doc.root.get_object().get(object) != simdjson::SUCCESS) {
    return fail(malformed(
        doc.what, "$",
        fmt::format("expected an object, got {}", util::detail::json_type_name(doc.root.type()))));
  }
  return object;
}

std::optional<dom::element> member(const dom::object& o, std::string_view key) {
  dom::element value;
  if (o.at_key(key).get(value) != simdjson::SUCCESS) return std::nullopt;
  if (value.type() == dom::element_type::NULL_VALUE) return std::nullopt;
  return value;
}

// int64 fields: the gateway writes them as decimal strings; a bare integer is accepted too.
// Absent means 0 (proto3 omits defaults).
Result<std::int64_t> number(std::string_view what, const dom::object& o, std::string_view key,
                            const std::string& path) {
  const auto value = member(o, key);
  if (!value) return std::int64_t{0};
  std::int64_t out = 0;
  if (value->get_int64().get(out) == simdjson::SUCCESS) return out;
  std::string_view text;
  if (value->get_string().get(text) == simdjson::SUCCESS) {
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, out);
    if (ec == std::errc() && ptr == end && !text.empty()) return out;
    return fail(
        malformed(what, fmt::format("{}.{}", path, key),
                  fmt::format("expected a 64-bit integer, got \"{}\"", text.substr(0, 32))));
  }
  return fail(malformed(
      what, fmt::format("{}.{}", path, key),
      fmt::format("expected an integer, got {}", util::detail::json_type_name(value->type()))));
}

Result<std::string> bytes(std::string_view what, const dom::object& o, std::string_view key,
                          const std::string& path) {
  const auto value = member(o, key);
  if (!value) return std::string();
  std::string_view text;
  if (value->get_string().get(text) != simdjson::SUCCESS) {
    return fail(malformed(
        what, fmt::format("{}.{}", path, key),
        fmt::format("expected a string, got {}", util::detail::json_type_name(value->type()))));
  }
  auto decoded = base64_decode(text);
  if (!decoded) return fail(malformed(what, fmt::format("{}.{}", path, key), "not base64"));
  return std::move(*decoded);
}

Result<bool> boolean(std::string_view what, const dom::object& o, std::string_view key,
                     const std::string& path) {
  const auto value = member(o, key);
  if (!value) return false;
  bool out = false;
  if (value->get_bool().get(out) != simdjson::SUCCESS) {
    return fail(malformed(
        what, fmt::format("{}.{}", path, key),
        fmt::format("expected a boolean, got {}", util::detail::json_type_name(value->type()))));
  }
  return out;
}

Result<std::optional<dom::object>> object_member(std::string_view what, const dom::object& o,
                                                 std::string_view key, const std::string& path) {
  const auto value = member(o, key);
  if (!value) return std::optional<dom::object>();
  dom::object out;
  if (value->get_object().get(out) != simdjson::SUCCESS) {
    return fail(malformed(
        what, fmt::format("{}.{}", path, key),
        fmt::format("expected an object, got {}", util::detail::json_type_name(value->type()))));
  }
  return std::optional<dom::object>(out);
}

Result<std::optional<dom::array>> array_member(std::string_view what, const dom::object& o,
                                               std::string_view key, const std::string& path) {
  const auto value = member(o, key);
  if (!value) return std::optional<dom::array>();
  dom::array out;
  if (value->get_array().get(out) != simdjson::SUCCESS) {
    return fail(malformed(
        what, fmt::format("{}.{}", path, key),
        fmt::format("expected an array, got {}", util::detail::json_type_name(value->type()))));
  }
  return std::optional<dom::array>(out);
}

// The revision in `header`, which every answer carries.
Result<std::int64_t> header_revision(std::string_view what, const dom::object& o,
                                     const std::string& path) {
  auto header = object_member(what, o, "header", path);
  if (!header) return fail(std::move(header).error());
  if (!*header) return std::int64_t{0};
  return number(what, **header, "revision", path + ".header");
}

// `var` is a declared name, which cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define QFS_ETCD_TRY(var, expr) \
  auto var = (expr);            \
  if (!var) return tl::unexpected<Error>(std::move(var).error())
// NOLINTEND(bugprone-macro-parentheses)

Result<RangeResult> range_from(std::string_view what, const dom::object& o,
                               const std::string& path) {
  RangeResult out;
  QFS_ETCD_TRY(revision, header_revision(what, o, path));
  out.revision = *revision;
  QFS_ETCD_TRY(count, number(what, o, "count", path));
  out.count = *count;
  QFS_ETCD_TRY(kvs, array_member(what, o, "kvs", path));
  std::size_t i = 0;
  if (*kvs)
    for (dom::element item : **kvs) {
      const std::string at = fmt::format("{}.kvs[{}]", path, i++);
      dom::object kv;
      if (item.get_object().get(kv) != simdjson::SUCCESS) {
        return fail(malformed(what, at, "expected an object"));
      }
      KeyValue k;
      QFS_ETCD_TRY(key, bytes(what, kv, "key", at));
      QFS_ETCD_TRY(value, bytes(what, kv, "value", at));
      QFS_ETCD_TRY(create, number(what, kv, "create_revision", at));
      QFS_ETCD_TRY(mod, number(what, kv, "mod_revision", at));
      QFS_ETCD_TRY(version, number(what, kv, "version", at));
      QFS_ETCD_TRY(lease, number(what, kv, "lease", at));
      k.key = std::move(*key);
      k.value = std::move(*value);
      k.create_revision = *create;
      k.mod_revision = *mod;
      k.version = *version;
      k.lease = *lease;
      out.kvs.push_back(std::move(k));
    }
  return out;
}

void append_bytes(std::string& out, std::string_view name, std::string_view bytes) {
  out += fmt::format("\"{}\":\"{}\"", name, base64_encode(bytes));
}

void append_range(std::string& out, const RangeRequest& r) {
  out += '{';
  append_bytes(out, "key", r.key);
  if (!r.range_end.empty()) {
    out += ',';
    append_bytes(out, "range_end", r.range_end);
  }
  if (r.limit > 0) out += fmt::format(",\"limit\":\"{}\"", r.limit);
  out += '}';
}

void append_put(std::string& out, const PutRequest& r) {
  out += '{';
  append_bytes(out, "key", r.key);
  out += ',';
  append_bytes(out, "value", r.value);
  if (r.lease != 0) out += fmt::format(",\"lease\":\"{}\"", r.lease);
  out += '}';
}

void append_delete(std::string& out, const DeleteRequest& r) {
  out += '{';
  append_bytes(out, "key", r.key);
  if (!r.range_end.empty()) {
    out += ',';
    append_bytes(out, "range_end", r.range_end);
  }
  out += '}';
}

void append_ops(std::string& out, const std::vector<TxnOp>& ops) {
  out += '[';
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (i > 0) out += ',';
    const auto& op = ops[i];
    switch (op.kind) {
      case OpKind::Range:
        out += "{\"request_range\":";
        append_range(out, op.range);
        break;
      case OpKind::Put:
        out += "{\"request_put\":";
        append_put(out, op.put);
        break;
      case OpKind::Delete:
        out += "{\"request_delete_range\":";
        append_delete(out, op.del);
        break;
    }
    out += '}';
  }
  out += ']';
}

std::string_view target_name(CompareTarget t) {
  switch (t) {
    case CompareTarget::Version:
      return "VERSION";
    case CompareTarget::Create:
      return "CREATE";
    case CompareTarget::Mod:
      return "MOD";
    case CompareTarget::Value:
      return "VALUE";
    case CompareTarget::Lease:
      return "LEASE";
  }
  return "MOD";
}

std::string_view result_name(CompareResult r) {
  switch (r) {
    case CompareResult::Equal:
      return "EQUAL";
    case CompareResult::Greater:
      return "GREATER";
    case CompareResult::Less:
      return "LESS";
    case CompareResult::NotEqual:
      return "NOT_EQUAL";
  }
  return "EQUAL";
}

std::string_view operand_name(CompareTarget t) {
  switch (t) {
    case CompareTarget::Version:
      return "version";
    case CompareTarget::Create:
      return "create_revision";
    case CompareTarget::Mod:
      return "mod_revision";
    case CompareTarget::Value:
      return "value";
    case CompareTarget::Lease:
      return "lease";
  }
  return "mod_revision";
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned n = (at(i) << 16U) | (at(i + 1) << 8U) | at(i + 2);
    out += kAlphabet[(n >> 18U) & 63U];
    out += kAlphabet[(n >> 12U) & 63U];
    out += kAlphabet[(n >> 6U) & 63U];
    out += kAlphabet[n & 63U];
  }
  if (i < bytes.size()) {
    const bool two = i + 1 < bytes.size();
    const unsigned n = (at(i) << 16U) | (two ? at(i + 1) << 8U : 0U);
    out += kAlphabet[(n >> 18U) & 63U];
    out += kAlphabet[(n >> 12U) & 63U];
    out += two ? kAlphabet[(n >> 6U) & 63U] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    unsigned n = 0;
    int pad = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      unsigned v = 0;
      if (c == '=') {
        // Padding only in the last group's last two places.
        if (i + 4 != text.size() || k < 2) return std::nullopt;
        ++pad;
      } else {
        if (pad > 0) return std::nullopt;
        const auto pos = kAlphabet.find(c);
        if (pos == std::string_view::npos) return std::nullopt;
        v = static_cast<unsigned>(pos);
      }
      n = (n << 6U) | v;
    }
    out += static_cast<char>((n >> 16U) & 0xFFU);
    if (pad < 2) out += static_cast<char>((n >> 8U) & 0xFFU);
    if (pad < 1) out += static_cast<char>(n & 0xFFU);
  }
  return out;
}

std::string range_body(const RangeRequest& request) {
  std::string out;
  append_range(out, request);
  return out;
}

std::string put_body(const PutRequest& request) {
  std::string out;
  append_put(out, request);
  return out;
}

std::string delete_body(const DeleteRequest& request) {
  std::string out;
  append_delete(out, request);
  return out;
}

std::string txn_body(const TxnRequest& request) {
  std::string out = "{\"compare\":[";
  for (std::size_t i = 0; i < request.compare.size(); ++i) {
    const auto& c = request.compare[i];
    if (i > 0) out += ',';
    out += '{';
    append_bytes(out, "key", c.key);
    out += fmt::format(",\"target\":\"{}\",\"result\":\"{}\",", target_name(c.target),
                       result_name(c.result));
    if (c.target == CompareTarget::Value) {
      append_bytes(out, "value", c.value);
    } else {
      out += fmt::format("\"{}\":\"{}\"", operand_name(c.target), c.number);
    }
    out += '}';
  }
  out += "],\"success\":";
  append_ops(out, request.success);
  out += ",\"failure\":";
  append_ops(out, request.failure);
  out += '}';
  return out;
}

std::string lease_body(std::int64_t id) { return fmt::format("{{\"ID\":\"{}\"}}", id); }

std::string grant_body(std::chrono::seconds ttl) {
  return fmt::format("{{\"TTL\":\"{}\"}}", ttl.count());
}

std::string authenticate_body(std::string_view name, std::string_view password) {
  std::string out = "{\"name\":";
  util::append_json_string(out, name);
  out += ",\"password\":";
  util::append_json_string(out, password);
  out += '}';
  return out;
}

std::optional<Error> error_from_reply(const http::Response& response, std::string_view what) {
  if (response.status >= 200 && response.status < 300) return std::nullopt;
  // The gateway's error body: {"error": "...", "message": "...", "code": <gRPC code>}.
  std::string message;
  std::string code;
  dom::parser parser;
  dom::element root;
  dom::object o;
  if (parser.parse(response.body).get(root) == simdjson::SUCCESS &&
      root.get_object().get(o) == simdjson::SUCCESS) {
    std::int64_t n = -1;
    if (auto c = member(o, "code"); c && c->get_int64().get(n) == simdjson::SUCCESS && n >= 0 &&
                                    n < static_cast<std::int64_t>(kGrpcCodes.size())) {
      code = kGrpcCodes[static_cast<std::size_t>(n)];
    }
    std::string_view text;
    for (const auto* key : {"message", "error"}) {
      if (auto m = member(o, key); m && m->get_string().get(text) == simdjson::SUCCESS) {
        message = std::string(text.substr(0, 300));
        break;
      }
    }
  }
  const bool transient =
      code.empty() ? (response.status >= 500 || response.status == 429 || response.status == 408)
                   : transient_grpc(code);
  Error e = util::make_error(
      transient ? ErrorCode::Transient : ErrorCode::Remote,
      fmt::format("etcd {} answered HTTP {}{}{}", what, response.status,
                  code.empty() ? "" : " " + code, message.empty() ? "" : ": " + message));
  e.remote_code = code;
  e.http_status = response.status;
  return e;
}

Result<RangeResult> decode_range(std::string_view body) {
  Doc doc("range");
  QFS_ETCD_TRY(o, parse_object(doc, body));
  return range_from(doc.what, *o, "$");
}

Result<std::int64_t> decode_put(std::string_view body) {
  Doc doc("put");
  QFS_ETCD_TRY(o, parse_object(doc, body));
  return header_revision(doc.what, *o, "$");
}

Result<DeleteResult> decode_delete(std::string_view body) {
  Doc doc("deleterange");
  QFS_ETCD_TRY(o, parse_object(doc, body));
  QFS_ETCD_TRY(revision, header_revision(doc.what, *o, "$"));
  QFS_ETCD_TRY(deleted, number(doc.what, *o, "deleted", "$"));
  return DeleteResult{.revision = *revision, .deleted = *deleted};
}

Result<TxnResult> decode_txn(std::string_view body) {
  Doc doc("txn");
  QFS_ETCD_TRY(o, parse_object(doc, body));
  TxnResult out;
  QFS_ETCD_TRY(revision, header_revision(doc.what, *o, "$"));
  QFS_ETCD_TRY(succeeded, boolean(doc.what, *o, "succeeded", "$"));
  QFS_ETCD_TRY(responses, array_member(doc.what, *o, "responses", "$"));
  out.revision = *revision;
  out.succeeded = *succeeded;
  std::size_t i = 0;
  if (*responses)
    for (dom::element item : **responses) {
      const std::string at = fmt::format("$.responses[{}]", i++);
      dom::object r;
      if (item.get_object().get(r) != simdjson::SUCCESS) {
        return fail(malformed(doc.what, at, "expected an object"));
      }
      OpResult op;
      QFS_ETCD_TRY(range, object_member(doc.what, r, "response_range", at));
      QFS_ETCD_TRY(put, object_member(doc.what, r, "response_put", at));
      QFS_ETCD_TRY(del, object_member(doc.what, r, "response_delete_range", at));
      if (*range) {
        op.kind = OpKind::Range;
        QFS_ETCD_TRY(result, range_from(doc.what, **range, at + ".response_range"));
        op.range = std::move(*result);
        op.revision = op.range.revision;
      } else if (*put) {
        op.kind = OpKind::Put;
        QFS_ETCD_TRY(rev, header_revision(doc.what, **put, at + ".response_put"));
        op.revision = *rev;
      } else if (*del) {
        op.kind = OpKind::Delete;
        QFS_ETCD_TRY(rev, header_revision(doc.what, **del, at + ".response_delete_range"));
        QFS_ETCD_TRY(deleted, number(doc.what, **del, "deleted", at + ".response_delete_range"));
        op.revision = *rev;
        op.deleted = *deleted;
      } else {
        return fail(malformed(doc.what, at,
                              "no response_range, response_put or "
                              "response_delete_range"));
      }
      out.responses.push_back(std::move(op));
    }
  return out;
}

Result<Lease> decode_grant(std::string_view body) {
  Doc doc("lease grant");
  QFS_ETCD_TRY(o, parse_object(doc, body));
  QFS_ETCD_TRY(id, number(doc.what, *o, "ID", "$"));
  QFS_ETCD_TRY(ttl, number(doc.what, *o, "TTL", "$"));
  if (auto error = member(*o, "error")) {
    std::string_view text;
    if (error->get_string().get(text) != simdjson::SUCCESS) text = "?";
    return fail(ErrorCode::Remote, fmt::format("etcd refused the lease: {}", text.substr(0, 300)));
  }
  if (*id == 0 || *ttl <= 0) return fail(malformed(doc.what, "$", "no lease ID or TTL"));
  return Lease{.id = *id, .ttl = std::chrono::seconds{*ttl}};
}

Result<Lease> decode_keep_alive(std::string_view body, std::int64_t id) {
  Doc doc("lease keepalive");
  // A stream of {"result": ...} objects, one per line; one request gives one answer.
  const auto newline = body.find('\n');
  if (newline != std::string_view::npos) body = body.substr(0, newline);
  QFS_ETCD_TRY(o, parse_object(doc, body));
  QFS_ETCD_TRY(result, object_member(doc.what, *o, "result", "$"));
  if (!*result) {
    if (auto error = object_member(doc.what, *o, "error", "$"); error && *error) {
      return fail(ErrorCode::Transient, "etcd lease keepalive stream answered an error");
    }
    return fail(malformed(doc.what, "$", "no result"));
  }
  QFS_ETCD_TRY(ttl, number(doc.what, **result, "TTL", "$.result"));
  if (*ttl <= 0) {
    Error e = util::make_error(ErrorCode::Remote,
                               fmt::format("etcd lease {} not found (expired or revoked)", id));
    e.remote_code = "NotFound";
    return fail(std::move(e));
  }
  return Lease{.id = id, .ttl = std::chrono::seconds{*ttl}};
}

Result<LeaseTimeToLive> decode_time_to_live(std::string_view body) {
  Doc doc("lease timetolive");
  QFS_ETCD_TRY(o, parse_object(doc, body));
  QFS_ETCD_TRY(id, number(doc.what, *o, "ID", "$"));
  QFS_ETCD_TRY(ttl, number(doc.what, *o, "TTL", "$"));
  QFS_ETCD_TRY(granted, number(doc.what, *o, "grantedTTL", "$"));
  return LeaseTimeToLive{
      .id = *id, .ttl = std::chrono::seconds{*ttl}, .granted_ttl = std::chrono::seconds{*granted}};
}

Result<std::string> decode_token(std::string_view body) {
  Doc doc("authenticate");
  QFS_ETCD_TRY(o, parse_object(doc, body));
  const auto token = member(*o, "token");
  std::string_view text;
  if (!token || token->get_string().get(text) != simdjson::SUCCESS || text.empty()) {
    return fail(malformed(doc.what, "$.token", "expected a non-empty string"));
  }
  return std::string(text);
}

}  // namespace qfscale::coordination::detail
