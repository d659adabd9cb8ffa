#include "qfscale/controller/last_actuation.h"

#include <chrono>
#include <limits>
#include <string>

#include <fmt/format.h>
#include <simdjson.h>

#include "qfscale/util/json_string.h"

namespace qfscale::controller {
namespace {

namespace dom = simdjson::dom;

Error bad(std::string_view what) {
  return util::make_error(ErrorCode::InvalidInput, fmt::format("last actuation: {}", what));
}

Result<std::int64_t> integer(dom::object& object, std::string_view key, std::int64_t min,
                             std::int64_t max) {
  std::int64_t v = 0;
  if (object.at_key(key).get_int64().get(v) != simdjson::SUCCESS) {
    return fail(bad(fmt::format("{}: expected an integer", key)));
  }
  if (v < min || v > max) return fail(bad(fmt::format("{}: {} is out of range", key, v)));
  return v;
}

}  // namespace

std::string encode_actuation(const LastActuation& actuation) {
  std::string out = "{\"instanceId\":";
  util::append_json_string(out, actuation.instance.value);
  out += fmt::format(
      ",\"replicas\":{},\"at\":{},\"fencingToken\":{}}}", actuation.replicas,
      std::chrono::floor<std::chrono::milliseconds>(actuation.at.time_since_epoch()).count(),
      actuation.fencing_token);
  return out;
}

Result<LastActuation> decode_actuation(std::string_view text) {
  dom::parser parser;
  dom::element root;
  if (parser.parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) {
    return fail(bad("not JSON"));
  }
  dom::object object;
  if (root.get(object) != simdjson::SUCCESS) return fail(bad("not a JSON object"));
  if (object.size() != 4) {
    return fail(bad("expected exactly instanceId, replicas, at and fencingToken"));
  }
  std::string_view instance;
  if (object.at_key("instanceId").get_string().get(instance) != simdjson::SUCCESS) {
    return fail(bad("instanceId: expected a string"));
  }
  auto replicas = integer(object, "replicas", 0, std::numeric_limits<int>::max());
  if (!replicas) return fail(std::move(replicas).error());
  auto at = integer(object, "at", 0, std::numeric_limits<std::int64_t>::max() / 1'000'000);
  if (!at) return fail(std::move(at).error());
  auto token = integer(object, "fencingToken", 0, std::numeric_limits<std::int64_t>::max());
  if (!token) return fail(std::move(token).error());
  return LastActuation{.instance = model::InstanceId{std::string(instance)},
                       .replicas = static_cast<int>(*replicas),
                       .at = util::SystemTime{std::chrono::milliseconds{*at}},
                       .fencing_token = *token};
}

}  // namespace qfscale::controller
