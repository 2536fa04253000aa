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
// that defines those names too, as tcmalloc and mimalloc do), the hooks call those functions, as
// they always did. Otherwise (jemalloc) they call the next definitions, inside a ReentrancyGuard: an allocator that
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
  libc_arena = 4  // as libc, but the arena handed out blocks: free and realloc look first
};

// The functions the hooks call, one pointer each: until the route is found, functions that find
// it; then the `__libc_*` functions themselves (an indirect call through this pointer instead of
// a direct call through the PLT's: no more loads or branches than before), or functions that
// call the next allocator inside a ReentrancyGuard, or check for arena blocks first.
extern std::atomic<void* (*)(std::size_t)> g_malloc DHAT_HIDDEN;
extern std::atomic<void* (*)(std::size_t, std::size_t)> g_calloc DHAT_HIDDEN;
extern std::atomic<void* (*)(void*, std::size_t)> g_realloc DHAT_HIDDEN;
extern std::atomic<void* (*)(std::size_t, std::size_t)> g_memalign DHAT_HIDDEN;
extern std::atomic<void* (*)(std::size_t)> g_valloc DHAT_HIDDEN;
extern std::atomic<void* (*)(std::size_t)> g_pvalloc DHAT_HIDDEN;
extern std::atomic<void (*)(void*)> g_free DHAT_HIDDEN;

// Which route the hooks take (found now if it was not yet). For tests and messages.
[[nodiscard]] Route current_route() noexcept;
// The file the next malloc comes from ("" if the `__libc_*` names are used), for messages.
[[nodiscard]] const char* next_allocator_name() noexcept;

__attribute__((always_inline)) inline void* real_malloc(std::size_t bytes) noexcept {
  return g_malloc.load(std::memory_order_relaxed)(bytes);
}
__attribute__((always_inline)) inline void* real_calloc(std::size_t count, std::size_t size) noexcept {
  return g_calloc.load(std::memory_order_relaxed)(count, size);
}
__attribute__((always_inline)) inline void* real_realloc(void* block, std::size_t bytes) noexcept {
  return g_realloc.load(std::memory_order_relaxed)(block, bytes);
}
__attribute__((always_inline)) inline void* real_memalign(std::size_t alignment, std::size_t bytes) noexcept {
  return g_memalign.load(std::memory_order_relaxed)(alignment, bytes);
}
__attribute__((always_inline)) inline void* real_valloc(std::size_t bytes) noexcept {
  return g_valloc.load(std::memory_order_relaxed)(bytes);
}
__attribute__((always_inline)) inline void* real_pvalloc(std::size_t bytes) noexcept {
  return g_pvalloc.load(std::memory_order_relaxed)(bytes);
}
__attribute__((always_inline)) inline void real_free(void* block) noexcept {
  g_free.load(std::memory_order_relaxed)(block);
}

}  // namespace dhat::hooks
