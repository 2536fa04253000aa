// glibc's own allocator entry points, which the hooks forward to.
//
// Contract: calling these never reaches the hooks (they are not interposable names), so they
// are also what the profiler's internal memory uses. The blocks they return are ordinary glibc
// blocks: malloc_usable_size, malloc_trim and mallinfo keep working on them unhooked.
#pragma once

#include <cstddef>

extern "C" {
void* __libc_malloc(std::size_t bytes);                           // NOLINT(bugprone-reserved-identifier)
void* __libc_calloc(std::size_t count, std::size_t size);         // NOLINT(bugprone-reserved-identifier)
void* __libc_realloc(void* block, std::size_t bytes);             // NOLINT(bugprone-reserved-identifier)
void* __libc_memalign(std::size_t alignment, std::size_t bytes);  // NOLINT(bugprone-reserved-identifier)
void* __libc_valloc(std::size_t bytes);                           // NOLINT(bugprone-reserved-identifier)
void* __libc_pvalloc(std::size_t bytes);                          // NOLINT(bugprone-reserved-identifier)
void __libc_free(void* block);                                    // NOLINT(bugprone-reserved-identifier)
}
