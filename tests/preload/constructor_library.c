/* A shared library whose constructor allocates (as libLLVM's static initializers do): under
 * dhat-run, the loader runs it before the preload library's own constructor, and its blocks must
 * be in the profile all the same. */
#include <stdlib.h>

void* constructor_blocks[10];

__attribute__((noinline)) void* constructor_site(size_t n) { return malloc(n); }

__attribute__((constructor)) static void allocate_at_load(void) {
  for (int i = 0; i < 10; ++i) {
    constructor_blocks[i] = constructor_site(1000);
  }
}

int constructor_library_blocks(void) { return constructor_blocks[9] != 0 ? 10 : 0; }
