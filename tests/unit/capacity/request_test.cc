#include "qfscale/capacity/request.h"

#include <vector>

#include <doctest/doctest.h>

namespace qfscale::capacity {
namespace {

using model::ComputeUnits;
using model::InstanceId;
using model::Replicas;
using model::ServiceId;

TEST_SUITE("capacity") {
  TEST_CASE("service_request: desired is the recommendation, min the floor the engine applied") {
    const std::vector<InstanceId> allowed{InstanceId{"cu-a"}, InstanceId{"cu-b"}};
    const ServiceTerms terms{.id = ServiceId{"svc"},
                             .units_per_replica = ComputeUnits{2},
                             .priority = 5,
                             .weight = 3,
                             .instances = allowed};
    const std::vector<Placement> current{{InstanceId{"cu-b"}, Replicas{2}}};
    struct Row {
      const char* name;
      policy::Recommendation rec;
      bool requested;
      int desired;
      int min;
    };
    const Row rows[] = {
        // business-hours at 10:00 on a Monday: demand for 3, the schedule's floor 4 in force
        {"schedule floor", {.replicas = Replicas{4}, .floor = Replicas{4}}, true, 4, 4},
        // at 03:00 the floor is replicas.min 1
        {"replicas.min", {.replicas = Replicas{3}, .floor = Replicas{1}}, true, 3, 1},
        // a model update in progress: no request, the caller counts its units as foreign
        {"frozen", {.replicas = Replicas{2}, .floor = Replicas{4}, .frozen = true}, false, 0, 0},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      const auto request = service_request(terms, row.rec, current);
      REQUIRE(request.has_value() == row.requested);
      if (!request) continue;
      CHECK(*request == ServiceRequest{.id = ServiceId{"svc"},
                                       .units_per_replica = ComputeUnits{2},
                                       .desired = Replicas{row.desired},
                                       .min = Replicas{row.min},
                                       .priority = 5,
                                       .weight = 3,
                                       .instances = allowed,
                                       .current = current});
    }
  }
}

}  // namespace
}  // namespace qfscale::capacity
