#include <stdlib.h>
#if defined(__linux__)
#include <malloc.h>
#endif

/// Gives the allocator's free pages back to the kernel: glibc keeps what a thread freed in
/// that thread's arena, so a process whose threads allocate and free a day's worth of memory
/// in turn holds the sum of their high-water marks. Returns 1 if memory was released; a no-op
/// returning 0 where the C library has no `malloc_trim`.
static inline int cp_release_free_memory(void) {
#if defined(__GLIBC__)
  return malloc_trim(0);
#else
  return 0;
#endif
}
