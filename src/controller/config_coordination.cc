// The `coordination` section of the controller config (config.h).

#include <fmt/format.h>

#include "qfscale/http/client.h"
#include "qfscale/policy/duration.h"

#include "controller/config_reader.h"

namespace qfscale::controller::detail {

using util::yaml::child;
using util::yaml::show;

void ConfigReader::read_coordination(const YAML::Node& node) {
  const std::string path = "coordination";
  const auto f = mapping(node, path, {"etcd"});
  if (!f) return;
  const auto* etcd = get(*f, "etcd");
  if (etcd == nullptr) return;
  const std::string at = child(path, "etcd");
  const auto e = mapping(*etcd, at,
                         {"endpoints", "prefix", "leaseTtl", "shards", "username", "name", "caFile",
                          "certFile", "keyFile"});
  if (!e) return;
  EtcdConfig c;
  require(*e, *etcd, at, "endpoints", "a list of etcd client URLs such as http://127.0.0.1:2379");
  if (const auto* n = get(*e, "endpoints")) {
    const auto p = child(at, "endpoints");
    if (!n->IsSequence() || n->size() == 0) {
      error(*n, p,
            n->IsSequence()
                ? std::string("is empty, must list at least one http(s) URL")
                : fmt::format("{} is not allowed, must be a list of http(s) URLs", show(*n)));
    } else {
      for (std::size_t i = 0; i < n->size(); ++i) {
        const auto item = (*n)[i];
        const auto ip = fmt::format("{}[{}]", p, i);
        std::string url;
        const auto before = failure_count();
        read(item, ip, url);
        if (failure_count() != before) continue;
        auto parsed = http::parse_url(url);
        if (!parsed) {
          error(item, ip,
                fmt::format("{} is not an http(s) URL such as http://127.0.0.1:2379", show(item)));
          continue;
        }
        c.endpoints.push_back(url);
      }
    }
  }
  if (const auto* n = get(*e, "prefix")) {
    const auto p = child(at, "prefix");
    std::string prefix;
    const auto before = failure_count();
    read(*n, p, prefix);
    if (failure_count() == before) {
      if (!prefix.starts_with('/') || prefix.size() < 2 || prefix.ends_with('/')) {
        error(*n, p,
              fmt::format("{} is not allowed, must start with / and not end with / "
                          "(e.g. /qfscale)",
                          show(*n)));
      } else {
        c.prefix = std::move(prefix);
      }
    }
  }
  read_seconds(*e, at, "leaseTtl", kMinLeaseTtl, kMaxLeaseTtl, c.lease_ttl);
  read_int(*e, at, "shards", 1, kMaxShards, c.shards);
  optional_field(*e, at, "username", c.username);
  optional_field(*e, at, "name", c.name);
  if (const auto* n = get(*e, "caFile")) read_ca_file(*n, child(at, "caFile"), c.ca_file);
  if (const auto* n = get(*e, "certFile")) read_path(*n, child(at, "certFile"), c.cert_file);
  if (const auto* n = get(*e, "keyFile")) read_path(*n, child(at, "keyFile"), c.key_file);
  if (c.cert_file.empty() != c.key_file.empty()) {
    const auto* n = get(*e, c.cert_file.empty() ? "keyFile" : "certFile");
    error(*n, child(at, c.cert_file.empty() ? "keyFile" : "certFile"),
          "needs its partner: set both certFile and keyFile, or neither");
  }
  config_.coordination.etcd = std::move(c);
}

}  // namespace qfscale::controller::detail
