#pragma once

// A bounded fan-out over indices, shared by the controller (Describe*/ScaleService calls in
// flight) and the simulator (policies, oracles and floors on worker threads).

#include <cstddef>
#include <functional>

namespace qfscale::util {

/// Calls `each(i)` for every i in [0, n) on at most `concurrency` worker threads (each pulls the
/// next index from a shared counter), runs `meanwhile` (if set) on the calling thread in the
/// meantime, and returns when all are done. Falls back to the calling thread when no thread can
/// be started. `each` must only write state of its own index. If `each` throws, the other
/// indices still run and the exception of the lowest index is rethrown once all are done.
void for_each_concurrently(std::size_t n, int concurrency,
                           const std::function<void(std::size_t)>& each,
                           const std::function<void()>& meanwhile = {});

}  // namespace qfscale::util
