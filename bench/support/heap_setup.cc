// The benchmarks run with the heap settings `qfscale` sets at start (util/heap.h), so that their
// figures are the daemon's. Set before main: Google Benchmark's main is the library's.

#include "qfscale/util/heap.h"

namespace {

const bool kHeapKept = [] {
  qfscale::util::keep_freed_heap();
  return true;
}();

}  // namespace
