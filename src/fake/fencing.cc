#include "fake/fencing.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "qfscale/util/json_string.h"

namespace qfscale::fake::detail {

std::optional<FencingRefusal> FencingLedger::check(std::string_view action,
                                                   std::string_view service,
                                                   std::optional<std::string_view> header) {
  FencedCall call{.action = std::string(action), .service = std::string(service)};
  std::optional<FencingRefusal> refusal;
  if (!header) {
    refusal = FencingRefusal{"FencingTokenMissing",
                             fmt::format("{} without the x-qfscale-fencing-token header; this fake "
                                         "runs with --fencing and needs one on every write",
                                         action)};
  } else {
    std::int64_t token = 0;
    const auto* end = header->data() + header->size();
    const auto [ptr, ec] = std::from_chars(header->data(), end, token);
    if (ec != std::errc() || ptr != end || token <= 0) {
      refusal = FencingRefusal{
          "FencingTokenMissing",
          fmt::format("x-qfscale-fencing-token must be a positive integer, got \"{}\"",
                      header->substr(0, 40))};
    } else {
      call.token = token;
      auto& newest = newest_of_[std::string(service)];
      if (token < newest) {
        refusal = FencingRefusal{
            "FencingTokenStale",
            fmt::format("fencing token {} is older than {}, which this server has already seen: "
                        "a newer leader acts now, so this {} is refused",
                        token, newest, action)};
      } else {
        newest = token;
        newest_ = std::max(newest_, token);
      }
    }
  }
  call.accepted = !refusal;
  calls_.push_back(std::move(call));
  return refusal;
}

std::string FencingLedger::to_json() const {
  std::string out = fmt::format("{{\"newest\":{},\"calls\":[", newest_);
  for (std::size_t i = 0; i < calls_.size(); ++i) {
    const auto& c = calls_[i];
    if (i > 0) out += ',';
    out += "{\"action\":";
    util::append_json_string(out, c.action);
    out += ",\"service\":";
    util::append_json_string(out, c.service);
    out += fmt::format(",\"token\":{},\"accepted\":{}}}", c.token, c.accepted);
  }
  out += "]}\n";
  return out;
}

}  // namespace qfscale::fake::detail
