#pragma once

/// Coordination (module `coordination`): an etcd v3 client over qfscale's own HTTP client, the
/// leader election built on it (`election.h`), and nothing that knows about Qianfan.
///
/// `Etcd` speaks etcd 3.4's JSON gateway (`POST {endpoint}/v3/kv/range`, `/v3/kv/put`,
/// `/v3/kv/deleterange`, `/v3/kv/txn`, `/v3/lease/grant`, `/v3/lease/keepalive`,
/// `/v3/lease/revoke`, `/v3/lease/timetolive`, `/v3/auth/authenticate`). Keys and values are bytes
/// (base64 on the wire), 64-bit numbers travel as JSON strings, and fields at their default value
/// are omitted by the gateway (a failed txn has no `succeeded`, an empty range no `kvs`), so the
/// decoder treats a missing number as 0 and a missing array as empty, and is strict about types
/// otherwise.
///
/// Errors say what to do next, like the Qianfan client's (`qianfan/errors.h`):
/// - `Transient`: no answer (connect, timeout), HTTP 5xx without a gateway body, and the gRPC
///   codes Unavailable (no leader, leader changed), DeadlineExceeded, ResourceExhausted, Aborted,
///   Internal and Unknown. Retried with capped exponential backoff and full jitter; each retry
///   goes to the next endpoint, and the endpoint that last answered is tried first next time.
/// - `Remote`: any other gRPC code (`remote_code` is its name, e.g. "NotFound" for a lease that
///   is gone, "PermissionDenied", "InvalidArgument"), and replies that cannot be decoded.
/// - `InvalidInput`: a request that cannot be sent (no endpoints, an unusable URL).
/// With a user name, the client authenticates (`/v3/auth/authenticate`) before its first call
/// and again once when the server says the token is no longer valid (Unauthenticated).
///
/// Retrying a put or txn after a lost answer may apply it twice; callers make that harmless by
/// comparing revisions (a campaign that finds its own lease on the leader key has won; a state
/// write that finds its own value has been written).
///
/// TLS: an https endpoint is verified against the HTTP client's `ca_file` (or the system store);
/// its `cert_file` and `key_file` are presented to an etcd started with --client-cert-auth.
/// Not here (TODO(etcd-ha)): watches.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qfscale/http/client.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/random.h"
#include "qfscale/util/result.h"

namespace qfscale::coordination {

/// One key as etcd stores it. Revisions are etcd's cluster-wide counters: `create_revision` is
/// the revision of the put that created the key (the fencing token of a leader key),
/// `mod_revision` that of its last change (what compare-and-swap compares).
struct KeyValue {
  std::string key;
  std::string value;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t version = 0;
  std::int64_t lease = 0;  ///< 0: no lease
  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

/// `key` alone, or the half-open range [key, range_end). `prefix_end(p)` ranges over a prefix.
struct RangeRequest {
  std::string key;
  std::string range_end;
  std::int64_t limit = 0;  ///< 0: no limit
};

struct RangeResult {
  std::int64_t revision = 0;  ///< the store's revision when it answered
  std::vector<KeyValue> kvs;
  std::int64_t count = 0;
  friend bool operator==(const RangeResult&, const RangeResult&) = default;
};

struct PutRequest {
  std::string key;
  std::string value;
  std::int64_t lease = 0;  ///< the key goes when the lease does; 0: no lease
};

struct DeleteRequest {
  std::string key;
  std::string range_end;
};

struct DeleteResult {
  std::int64_t revision = 0;
  std::int64_t deleted = 0;
  friend bool operator==(const DeleteResult&, const DeleteResult&) = default;
};

enum class CompareTarget { Version, Create, Mod, Value, Lease };
enum class CompareResult { Equal, Greater, Less, NotEqual };

/// `target(key) result operand`: a number for Version/Create/Mod/Lease, `value` for Value. A key
/// that does not exist has create and mod revision 0.
struct Compare {
  std::string key;
  CompareTarget target = CompareTarget::Mod;
  CompareResult result = CompareResult::Equal;
  std::int64_t number = 0;
  std::string value;
};

enum class OpKind { Range, Put, Delete };

/// One operation of a txn branch: exactly the request its `kind` names is used.
struct TxnOp {
  OpKind kind = OpKind::Range;
  RangeRequest range;
  PutRequest put;
  DeleteRequest del;
};

[[nodiscard]] TxnOp range_op(std::string key);
[[nodiscard]] TxnOp put_op(std::string key, std::string value, std::int64_t lease = 0);
[[nodiscard]] TxnOp delete_op(std::string key);

struct TxnRequest {
  std::vector<Compare> compare;
  std::vector<TxnOp> success;
  std::vector<TxnOp> failure;
};

/// The answer to one op of the branch that ran: `range` for Range, `revision` for Put (the
/// revision the put created), `deleted` for Delete.
struct OpResult {
  OpKind kind = OpKind::Range;
  RangeResult range;
  std::int64_t revision = 0;
  std::int64_t deleted = 0;
  friend bool operator==(const OpResult&, const OpResult&) = default;
};

struct TxnResult {
  bool succeeded = false;     ///< every compare held: the success branch ran
  std::int64_t revision = 0;  ///< the store's revision after the txn
  std::vector<OpResult> responses;
  friend bool operator==(const TxnResult&, const TxnResult&) = default;
};

/// A lease as granted or renewed: `ttl` is what the server gave (it may round a short request
/// up to its minimum, 1.5 x the election timeout; 2 s on a default etcd).
struct Lease {
  std::int64_t id = 0;
  std::chrono::seconds ttl{0};
  friend bool operator==(const Lease&, const Lease&) = default;
};

struct LeaseTimeToLive {
  std::int64_t id = 0;
  std::chrono::seconds ttl{0};  ///< remaining; negative when the lease is gone
  std::chrono::seconds granted_ttl{0};
  friend bool operator==(const LeaseTimeToLive&, const LeaseTimeToLive&) = default;
};

/// Thread-safety: every method may be called concurrently from any number of threads.
class Etcd {
 public:
  virtual ~Etcd() = default;
  [[nodiscard]] virtual Result<RangeResult> range(const RangeRequest& request) = 0;
  /// The revision the put created.
  [[nodiscard]] virtual Result<std::int64_t> put(const PutRequest& request) = 0;
  [[nodiscard]] virtual Result<DeleteResult> delete_range(const DeleteRequest& request) = 0;
  [[nodiscard]] virtual Result<TxnResult> txn(const TxnRequest& request) = 0;
  [[nodiscard]] virtual Result<Lease> lease_grant(std::chrono::seconds ttl) = 0;
  /// One renewal. Remote "NotFound" when the lease is gone (expired or revoked).
  [[nodiscard]] virtual Result<Lease> lease_keep_alive(std::int64_t id) = 0;
  /// A lease that is already gone is not an error.
  [[nodiscard]] virtual Status lease_revoke(std::int64_t id) = 0;
  [[nodiscard]] virtual Result<LeaseTimeToLive> lease_time_to_live(std::int64_t id) = 0;
};

/// The end of the range holding every key that starts with `prefix` (the prefix with its last
/// byte below 0xff incremented, shorter bytes dropped; "\0" for an empty prefix or all 0xff:
/// every key).
[[nodiscard]] std::string prefix_end(std::string_view prefix);

/// True when `error` says a lease (or key) does not exist (gRPC NotFound).
[[nodiscard]] bool is_not_found(const Error& error);

struct EtcdRetryPolicy {
  int max_attempts = 3;  ///< total tries over all endpoints; 1 disables retries
  std::chrono::milliseconds base_delay{100};
  std::chrono::milliseconds max_delay{1'000};
};

struct EtcdOptions {
  /// "http://127.0.0.1:2379" or "https://host:2379"; tried in order, the last one that answered
  /// first.
  std::vector<std::string> endpoints;
  /// Empty: no authentication. Otherwise `/v3/auth/authenticate` with `password`.
  std::string username;
  std::string password;
  EtcdRetryPolicy retry;
  /// Per HTTP request. Short: a renewal must not wait out a lease.
  std::chrono::milliseconds request_timeout{2'000};
};

/// How the client waits between retries; empty: std::this_thread::sleep_for. Thread-safe.
using SleepFunction = std::function<void(std::chrono::milliseconds)>;

/// The real client. `http` and `random` must outlive it (`random` is used under the client's
/// lock). InvalidInput when there is no endpoint or one is not an http(s) URL.
[[nodiscard]] Result<std::unique_ptr<Etcd>> make_etcd_client(EtcdOptions options,
                                                             http::Client& http,
                                                             util::Random& random,
                                                             SleepFunction sleep = {});

}  // namespace qfscale::coordination
