// What Swift cannot say itself: small C helpers, inlined into the Swift code that calls them.
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

/// Asks the core to start loading the cache line at `address`, which will be written soon:
/// a hint that lets a loop over hash-table slots overlap the slots' cache misses.
static inline void cp_prefetch_for_write(const void *address) {
  __builtin_prefetch(address, 1, 3);
}
