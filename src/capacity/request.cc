#include "qfscale/capacity/request.h"

#include <utility>

namespace qfscale::capacity {

std::optional<ServiceRequest> service_request(const ServiceTerms& terms,
                                              const policy::Recommendation& recommendation,
                                              std::vector<Placement> current) {
  if (recommendation.frozen) return std::nullopt;
  return ServiceRequest{.id = terms.id,
                        .units_per_replica = terms.units_per_replica,
                        .desired = recommendation.replicas,
                        .min = recommendation.floor,
                        .priority = terms.priority,
                        .weight = terms.weight,
                        .instances = {terms.instances.begin(), terms.instances.end()},
                        .current = std::move(current)};
}

}  // namespace qfscale::capacity
