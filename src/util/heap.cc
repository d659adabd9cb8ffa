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

}  // namespace qfscale::util
