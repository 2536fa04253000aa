/* A library that the dlclose test loads, allocates through, and unloads before the profile ends. */
#include <stdlib.h>

__attribute__((noinline)) void* victim_alloc(size_t bytes) {
  void* block = malloc(bytes);
  __asm__ volatile("" : : "r"(block) : "memory");
  return block;
}
