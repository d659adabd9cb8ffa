#pragma once

/// Process-wide heap tuning for the long-running commands (`qfscale run`, the benchmarks).

namespace qfscale::util {

/// Keeps up to 16 MiB of freed heap in the process instead of handing it back to the kernel after
/// every large free. A reconcile tick allocates and frees the same few MiB (allocator scratch,
/// the plan, API replies) every few seconds; with glibc's default trimming each tick page-faults
/// them in again, and on a VM a fault costs 15-20 µs: at 10,000 services that was more than the
/// allocator's own work (bench/RESULTS.md, "Allocator, fourth pass"). No effect off glibc.
void keep_freed_heap();

/// For batch work that allocates and frees many large per-second arrays (`qfscale simulate`):
/// serves allocations up to 32 MiB from the heap instead of fresh mappings, and keeps up to
/// 64 MiB of freed heap. glibc would raise its 128 KiB mmap threshold by itself after the first
/// such free, but any mallopt (keep_freed_heap's M_TOP_PAD, which main() sets) switches that off:
/// every block over 128 KiB was then mapped anew and zero-filled page by page by the kernel, and
/// 1,000 services for a day spent 12-18 s in system time (bench/RESULTS.md, "Simulator at 1,000
/// services, end to end"). No effect off glibc.
void reuse_large_blocks();

}  // namespace qfscale::util
