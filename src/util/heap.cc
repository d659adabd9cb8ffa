#include "qfscale/util/heap.h"

#if __has_include(<malloc.h>)
#include <malloc.h>
#endif

namespace qfscale::util {

void keep_freed_heap() {
#if defined(__GLIBC__) && defined(M_TOP_PAD)
  // Sbrk 16 MiB beyond each need and trim only above that, so what one tick freed is still mapped
  // for the next.
  mallopt(M_TOP_PAD, 16 << 20);
#endif
}

void reuse_large_blocks() {
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

}  // namespace qfscale::util
