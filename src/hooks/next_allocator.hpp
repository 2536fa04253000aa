// Where the hooks send the real work: the allocator the process would have used without
// dhat-cpp, i.e. the next definition of each C allocation function after the hooks' own
// (glibc's, or jemalloc's, tcmalloc's or mimalloc's when one is linked or preloaded).
//
// Contract: `real_malloc` and the others are what the hooks call instead of glibc's `__libc_*`.
// The route is found once, at the first call from any thread (before constructors, inside the
// loader, wherever that is), by dlsym(RTLD_NEXT): no recursion, because an allocation made while
// the route is being found (dlsym's own, on a failed lookup) is served from a static arena, and
// a block of the arena is never handed to an allocator (free ignores it, realloc copies it out).
// When the next definitions are the ones the `__libc_*` names reach (glibc's, or an allocator's
// that defines those names too, as tcmalloc and mimalloc do), the hooks keep calling those names
// directly: one relaxed load and a predicted branch more than a plain call. Otherwise (jemalloc)
// they call the next definitions through pointers, inside a ReentrancyGuard: an allocator that
// calls its own exported entry points (mimalloc does) reaches the hooks again, and those nested
// calls are part of the outer one, recorded once, by it.
#pragma once

#include <atomic>
#include <cstddef>

#include "core/reentrancy_guard.hpp"
#include "hooks/libc_entry_points.hpp"

namespace dhat::hooks {

enum class Route : int {
  unresolved = 0,
  libc = 1,       // the `__libc_*` names (the fast path)
  next = 2,       // the next definitions, through pointers
  resolving = 3,  // being found: allocations come from the arena
  libc_arena = 4  // as libc, but the arena handed out blocks: frees must look first
};

extern std::atomic<int> g_route DHAT_HIDDEN;

// The slow paths, out of line: find the route if needed, then the arena or the next allocator.
void* slow_malloc(std::size_t bytes) noexcept;
void* slow_calloc(std::size_t count, std::size_t size) noexcept;
void* slow_realloc(void* block, std::size_t bytes) noexcept;
void* slow_memalign(std::size_t alignment, std::size_t bytes) noexcept;
void* slow_valloc(std::size_t bytes) noexcept;
void* slow_pvalloc(std::size_t bytes) noexcept;
void slow_free(void* block) noexcept;

// Which route the hooks take (found now if it was not yet). For tests and messages.
[[nodiscard]] Route current_route() noexcept;
// The file the next malloc comes from ("" if glibc's own names are used), for messages.
[[nodiscard]] const char* next_allocator_name() noexcept;

__attribute__((always_inline)) inline bool on_libc_route() noexcept {
  return g_route.load(std::memory_order_relaxed) == static_cast<int>(Route::libc);
}

__attribute__((always_inline)) inline void* real_malloc(std::size_t bytes) noexcept {
  return __builtin_expect(on_libc_route(), 1) ? __libc_malloc(bytes) : slow_malloc(bytes);
}
__attribute__((always_inline)) inline void* real_calloc(std::size_t count, std::size_t size) noexcept {
  return __builtin_expect(on_libc_route(), 1) ? __libc_calloc(count, size) : slow_calloc(count, size);
}
__attribute__((always_inline)) inline void* real_realloc(void* block, std::size_t bytes) noexcept {
  return __builtin_expect(on_libc_route(), 1) ? __libc_realloc(block, bytes) : slow_realloc(block, bytes);
}
__attribute__((always_inline)) inline void* real_memalign(std::size_t alignment, std::size_t bytes) noexcept {
  return __builtin_expect(on_libc_route(), 1) ? __libc_memalign(alignment, bytes) : slow_memalign(alignment, bytes);
}
__attribute__((always_inline)) inline void* real_valloc(std::size_t bytes) noexcept {
  return __builtin_expect(on_libc_route(), 1) ? __libc_valloc(bytes) : slow_valloc(bytes);
}
__attribute__((always_inline)) inline void* real_pvalloc(std::size_t bytes) noexcept {
  return __builtin_expect(on_libc_route(), 1) ? __libc_pvalloc(bytes) : slow_pvalloc(bytes);
}
__attribute__((always_inline)) inline void real_free(void* block) noexcept {
  if (__builtin_expect(on_libc_route(), 1)) {
    __libc_free(block);
  } else {
    slow_free(block);
  }
}

}  // namespace dhat::hooks
