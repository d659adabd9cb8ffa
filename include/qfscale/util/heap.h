#pragma once

/// Process-wide heap tuning for the long-running commands (`qfscale run`, the benchmarks).

namespace qfscale::util {

/// Keeps up to 16 MiB of freed heap in the process instead of handing it back to the kernel after
/// every large free. A reconcile tick allocates and frees the same few MiB (allocator scratch,
/// the plan, API replies) every few seconds; with glibc's default trimming each tick page-faults
/// them in again, and on a VM a fault costs 15-20 µs: at 10,000 services that was more than the
/// allocator's own work (bench/RESULTS.md, "Allocator, fourth pass"). No effect off glibc.
void keep_freed_heap();

}  // namespace qfscale::util
