#pragma once

// The etcd JSON gateway's wire format: request bodies and reply decoding (private to the module;
// exposed here for the unit tests and the fuzz target).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "qfscale/coordination/etcd.h"
#include "qfscale/http/message.h"

namespace qfscale::coordination::detail {

[[nodiscard]] std::string base64_encode(std::string_view bytes);
/// Standard alphabet with padding; empty when `text` is not valid base64.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);

[[nodiscard]] std::string range_body(const RangeRequest& request);
[[nodiscard]] std::string put_body(const PutRequest& request);
[[nodiscard]] std::string delete_body(const DeleteRequest& request);
[[nodiscard]] std::string txn_body(const TxnRequest& request);
[[nodiscard]] std::string lease_body(std::int64_t id);
[[nodiscard]] std::string grant_body(std::chrono::seconds ttl);
[[nodiscard]] std::string authenticate_body(std::string_view name, std::string_view password);

/// The error an answer carries (non-2xx), classified (etcd.h); empty for a 2xx answer. `what`
/// names the call ("range /qfscale/leader").
[[nodiscard]] std::optional<Error> error_from_reply(const http::Response& response,
                                                    std::string_view what);

// Decoders of a 2xx body. Remote "malformed etcd <what> reply: <path>: <why>" for anything that
// is not what the gateway sends.
[[nodiscard]] Result<RangeResult> decode_range(std::string_view body);
[[nodiscard]] Result<std::int64_t> decode_put(std::string_view body);
[[nodiscard]] Result<DeleteResult> decode_delete(std::string_view body);
[[nodiscard]] Result<TxnResult> decode_txn(std::string_view body);
[[nodiscard]] Result<Lease> decode_grant(std::string_view body);
/// The keep-alive stream's first message `{"result": {...}}`; NotFound when it has no TTL (the
/// lease is gone).
[[nodiscard]] Result<Lease> decode_keep_alive(std::string_view body, std::int64_t id);
[[nodiscard]] Result<LeaseTimeToLive> decode_time_to_live(std::string_view body);
[[nodiscard]] Result<std::string> decode_token(std::string_view body);

}  // namespace qfscale::coordination::detail
