#include "hooks/next_allocator.hpp"

#include <dlfcn.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "core/allocator_code.hpp"
#include "core/signals_blocked.hpp"
#include "core/stack_capture.hpp"

// Defined by the preload library's entry (src/preload/preload_entry.cpp), which starts recording
// at the process's first allocation (true: started, or never will be; false: ask again at the
// next allocation); absent (null) in the linked library, where the program's Profiler starts it.
// Weak and hidden: resolved inside the sealed object, never by the program.
extern "C" bool dhat_preload_first_allocation() noexcept __attribute__((weak, visibility("hidden")));

namespace dhat::hooks {

namespace {

std::atomic<int> g_route{static_cast<int>(Route::unresolved)};

struct NextFunctions {
  void* (*malloc)(std::size_t) = nullptr;
  void (*free)(void*) = nullptr;
  void* (*calloc)(std::size_t, std::size_t) = nullptr;
  void* (*realloc)(void*, std::size_t) = nullptr;
  void* (*memalign)(std::size_t, std::size_t) = nullptr;
  void* (*valloc)(std::size_t) = nullptr;
  void* (*pvalloc)(std::size_t) = nullptr;
};

// Written once, before the route says "next" (release), read after it (acquire).
NextFunctions g_next;
const char* g_next_name = "";

// What the hooks call once the route is found (resolve_functions), and once the gate is open
// (open_the_gate) through the pointers of next_allocator.hpp.
struct Functions {
  void* (*malloc)(std::size_t);
  void* (*calloc)(std::size_t, std::size_t);
  void* (*realloc)(void*, std::size_t);
  void* (*memalign)(std::size_t, std::size_t);
  void* (*valloc)(std::size_t);
  void* (*pvalloc)(std::size_t);
  void (*free)(void*);
};
Functions g_resolved{};

// ---- The arena: allocations made while the route is being found ----
// Only dlsym's own (its error message, on a failed lookup; glibc before 2.34 also took a block
// on a thread's first dlsym), so a little is plenty; untouched pages cost nothing.
constexpr std::size_t kArenaBytes = std::size_t{1} << 20;
alignas(4096) char g_arena[kArenaBytes];
std::atomic<std::size_t> g_arena_used{0};
std::atomic<bool> g_arena_handed_out{false};

struct ArenaHeader {
  std::size_t bytes;  // what was asked for (realloc copies that much out)
  std::size_t unused;
};
static_assert(sizeof(ArenaHeader) == 16, "keeps blocks 16-byte aligned");

bool in_arena(const void* block) noexcept {
  return reinterpret_cast<std::uintptr_t>(block) - reinterpret_cast<std::uintptr_t>(g_arena) < kArenaBytes;
}

void* arena_alloc(std::size_t alignment, std::size_t bytes) noexcept {
  alignment = alignment < 16 ? 16 : alignment;
  if (bytes > kArenaBytes || alignment > 4096) {
    errno = ENOMEM;
    return nullptr;
  }
  std::size_t used = g_arena_used.load(std::memory_order_relaxed);
  for (;;) {
    const std::size_t start = (used + sizeof(ArenaHeader) + alignment - 1) & ~(alignment - 1);
    const std::size_t end = start + ((bytes + 15) & ~std::size_t{15});
    if (end > kArenaBytes) {
      errno = ENOMEM;
      return nullptr;
    }
    if (g_arena_used.compare_exchange_weak(used, end, std::memory_order_relaxed)) {
      g_arena_handed_out.store(true, std::memory_order_relaxed);
      auto* header = reinterpret_cast<ArenaHeader*>(g_arena + start - sizeof(ArenaHeader));
      header->bytes = bytes;
      return g_arena + start;  // never handed out before: already zero (calloc needs nothing more)
    }
  }
}

std::size_t arena_bytes(const void* block) noexcept {
  return reinterpret_cast<const ArenaHeader*>(static_cast<const char*>(block) - sizeof(ArenaHeader))->bytes;
}

// The thread that is finding the route (its nested allocations take the arena).
DHAT_CONSTINIT thread_local bool t_resolving DHAT_TLS = false;

// ---- Finding the route ----

template <typename Function>
Function next_definition(const char* name) noexcept {
  return reinterpret_cast<Function>(dlsym(RTLD_NEXT, name));
}

// Whether `function` lives in the object that `malloc` does: an allocator's functions are used
// only together (jemalloc has no pvalloc: glibc's would hand jemalloc's free a glibc block).
bool same_object(const void* function, const void* malloc_function) noexcept {
  if (function == nullptr) {
    return false;
  }
  Dl_info a{}, b{};
  return dladdr(function, &a) != 0 && dladdr(malloc_function, &b) != 0 && a.dli_fbase == b.dli_fbase;
}

void resolve_functions(Route route) noexcept;
void open_the_gate() noexcept;

// Finds the route, unless it is found or being found by another thread.
void resolve() noexcept {
  int expected = static_cast<int>(Route::unresolved);
  if (!g_route.compare_exchange_strong(expected, static_cast<int>(Route::resolving), std::memory_order_acq_rel)) {
    return;
  }
  t_resolving = true;
  const int saved_errno = errno;
  NextFunctions next;
  next.malloc = next_definition<decltype(next.malloc)>("malloc");
  next.free = next_definition<decltype(next.free)>("free");
  next.calloc = next_definition<decltype(next.calloc)>("calloc");
  next.realloc = next_definition<decltype(next.realloc)>("realloc");
  next.memalign = next_definition<decltype(next.memalign)>("memalign");
  next.valloc = next_definition<decltype(next.valloc)>("valloc");
  next.pvalloc = next_definition<decltype(next.pvalloc)>("pvalloc");
  // The `__libc_*` names reach these (whoever defines them first: glibc, or tcmalloc and
  // mimalloc, which define them too). If each next definition is the one its name reaches, the
  // hooks call the names directly, as they always did.
  const std::pair<const void*, const char*> pairs[] = {
      {reinterpret_cast<const void*>(next.malloc), "__libc_malloc"},
      {reinterpret_cast<const void*>(next.free), "__libc_free"},
      {reinterpret_cast<const void*>(next.calloc), "__libc_calloc"},
      {reinterpret_cast<const void*>(next.realloc), "__libc_realloc"},
      {reinterpret_cast<const void*>(next.memalign), "__libc_memalign"},
      {reinterpret_cast<const void*>(next.valloc), "__libc_valloc"},
      {reinterpret_cast<const void*>(next.pvalloc), "__libc_pvalloc"}};
  bool libc_names_reach_it = true;
  for (const auto& [function, libc_name] : pairs) {
    libc_names_reach_it = libc_names_reach_it && function == dlsym(RTLD_DEFAULT, libc_name);
  }
  Route route = Route::libc;
  // No next malloc at all (a fully static program, a plugin the loader knows nothing of): the
  // `__libc_*` names are all there is.
  if (next.malloc != nullptr && next.free != nullptr && next.realloc != nullptr && !libc_names_reach_it) {
    const void* malloc_function = reinterpret_cast<const void*>(next.malloc);
    // What the allocator lacks is made from what it has (below), never taken from another one.
    for (auto* function : {reinterpret_cast<void**>(&next.calloc), reinterpret_cast<void**>(&next.memalign),
                           reinterpret_cast<void**>(&next.valloc), reinterpret_cast<void**>(&next.pvalloc)}) {
      if (!same_object(*function, malloc_function)) {
        *function = nullptr;
      }
    }
    if (next.memalign == nullptr) {
      next.memalign = next_definition<decltype(next.memalign)>("aligned_alloc");
      if (!same_object(reinterpret_cast<const void*>(next.memalign), malloc_function)) {
        next.memalign = nullptr;
      }
    }
    Dl_info info{};
    if (dladdr(malloc_function, &info) != 0 && info.dli_fname != nullptr) {
      g_next_name = info.dli_fname;
    }
    g_next = next;
    route = Route::next;
  } else if (g_arena_handed_out.load(std::memory_order_relaxed)) {
    route = Route::libc_arena;
  }
  resolve_functions(route);
  errno = saved_errno;
  t_resolving = false;
  g_route.store(static_cast<int>(route), std::memory_order_release);
}

Route route_now() noexcept {
  int route = g_route.load(std::memory_order_acquire);
  if (route == static_cast<int>(Route::unresolved)) {
    resolve();
    route = g_route.load(std::memory_order_acquire);
  }
  return static_cast<Route>(route);
}

// A block this thread may not touch yet: another thread is still finding the route.
void wait_for_route() noexcept {
  while (!t_resolving && g_route.load(std::memory_order_acquire) == static_cast<int>(Route::resolving)) {
    sched_yield();
  }
}

std::size_t page_size() noexcept { return static_cast<std::size_t>(getpagesize()); }

// ---- The functions behind the pointers ----

// Until the route is found: find it, then call what it says (the arena while it is being found).
// Then, until the gate opens (below), the resolved functions are called from here.
void* first_malloc(std::size_t bytes) noexcept {
  if (route_now() == Route::resolving) {
    return arena_alloc(0, bytes);
  }
  open_the_gate();
  return g_resolved.malloc(bytes);
}
void* first_calloc(std::size_t count, std::size_t size) noexcept {
  if (route_now() != Route::resolving) {
    open_the_gate();
    return g_resolved.calloc(count, size);
  }
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  return arena_alloc(0, bytes);  // never handed out before: zero already
}
void* first_memalign(std::size_t alignment, std::size_t bytes) noexcept {
  if (route_now() == Route::resolving) {
    return arena_alloc(alignment, bytes);
  }
  open_the_gate();
  return g_resolved.memalign(alignment, bytes);
}
void* first_valloc(std::size_t bytes) noexcept {
  if (route_now() == Route::resolving) {
    return arena_alloc(page_size(), bytes);
  }
  open_the_gate();
  return g_resolved.valloc(bytes);
}
void* first_pvalloc(std::size_t bytes) noexcept {
  const std::size_t page = page_size();
  if (route_now() == Route::resolving) {
    return arena_alloc(page, (bytes + page - 1) & ~(page - 1));
  }
  open_the_gate();
  return g_resolved.pvalloc(bytes);
}

// Whether a block not of the arena may be handed to the allocator now: not while another thread
// is still finding which one it is (this thread waits), nor while this one is (it never frees or
// grows a block it did not take from the arena: such a block is left alone).
bool allocator_known() noexcept {
  if (route_now() != Route::resolving) {
    return true;
  }
  if (t_resolving) {
    return false;
  }
  wait_for_route();
  return true;
}

void first_free(void* block) noexcept {
  if (block == nullptr || in_arena(block)) {
    return;  // arena blocks are never given back: the arena only grows, and only while resolving
  }
  if (allocator_known()) {
    g_resolved.free(block);
  }
}

// A block of the arena moves out into the allocator (or into another arena block, while the
// route is still being found).
void* realloc_out_of_arena(void* block, std::size_t bytes) noexcept {
  void* moved = real_malloc(bytes == 0 ? 1 : bytes);
  if (moved != nullptr) {
    const std::size_t old_bytes = arena_bytes(block);
    std::memcpy(moved, block, old_bytes < bytes ? old_bytes : bytes);
  }
  return moved;
}

void* first_realloc(void* block, std::size_t bytes) noexcept {
  if (block != nullptr && in_arena(block)) {
    return realloc_out_of_arena(block, bytes);
  }
  if (block == nullptr) {
    return first_malloc(bytes);
  }
  if (!allocator_known()) {
    errno = ENOMEM;
    return nullptr;
  }
  open_the_gate();
  return g_resolved.realloc(block, bytes);
}

// The libc route once the arena has handed out blocks: they may still come back.
void libc_free_after_arena(void* block) noexcept {
  if (!in_arena(block)) {
    __libc_free(block);
  }
}
void* libc_realloc_after_arena(void* block, std::size_t bytes) noexcept {
  return block != nullptr && in_arena(block) ? realloc_out_of_arena(block, bytes) : __libc_realloc(block, bytes);
}

// The next allocator's functions, inside an AllocatorCall (what it calls of ours is its own; a
// signal handler's call meanwhile is told apart: core/allocator_code.hpp). In the hooks' code
// section: an allocator function that jumps to another of its exported names arrives in the hooks
// with a return address in these, which must count as the hooks' own.
DHAT_CAPTURE_PATH void* next_malloc(std::size_t bytes) noexcept {
  const core::AllocatorCall inside_the_allocator;
  return g_next.malloc(bytes);
}
DHAT_CAPTURE_PATH void* next_calloc(std::size_t count, std::size_t size) noexcept {
  const core::AllocatorCall inside_the_allocator;
  if (g_next.calloc != nullptr) {
    return g_next.calloc(count, size);
  }
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  void* block = g_next.malloc(bytes);
  if (block != nullptr) {
    std::memset(block, 0, bytes);
  }
  return block;
}
DHAT_CAPTURE_PATH void* next_realloc(void* block, std::size_t bytes) noexcept {
  if (block != nullptr && in_arena(block)) {
    return realloc_out_of_arena(block, bytes);
  }
  const core::AllocatorCall inside_the_allocator;
  return g_next.realloc(block, bytes);
}
DHAT_CAPTURE_PATH void* next_memalign(std::size_t alignment, std::size_t bytes) noexcept {
  const core::AllocatorCall inside_the_allocator;
  if (g_next.memalign != nullptr) {
    return g_next.memalign(alignment, bytes);
  }
  errno = ENOMEM;  // an allocator without any aligned allocation has none to give
  return nullptr;
}
DHAT_CAPTURE_PATH void* next_valloc(std::size_t bytes) noexcept {
  if (g_next.valloc != nullptr) {
    const core::AllocatorCall inside_the_allocator;
    return g_next.valloc(bytes);
  }
  return next_memalign(page_size(), bytes);
}
DHAT_CAPTURE_PATH void* next_pvalloc(std::size_t bytes) noexcept {
  if (g_next.pvalloc != nullptr) {
    const core::AllocatorCall inside_the_allocator;
    return g_next.pvalloc(bytes);
  }
  const std::size_t page = page_size();
  if (bytes > SIZE_MAX - page) {
    errno = ENOMEM;
    return nullptr;
  }
  return next_memalign(page, bytes == 0 ? page : (bytes + page - 1) & ~(page - 1));
}
DHAT_CAPTURE_PATH void next_free(void* block) noexcept {
  if (in_arena(block)) {
    return;
  }
  const core::AllocatorCall inside_the_allocator;
  g_next.free(block);
}

// The functions of the route found (before the route is published: release).
void resolve_functions(Route route) noexcept {
  if (route == Route::next) {
    for (void* function : {reinterpret_cast<void*>(g_next.malloc), reinterpret_cast<void*>(g_next.free)}) {
      core::add_allocator_code(function);
    }
    g_resolved =
        Functions{&next_malloc, &next_calloc, &next_realloc, &next_memalign, &next_valloc, &next_pvalloc, &next_free};
    return;
  }
  const bool arena = route == Route::libc_arena;
  g_resolved =
      Functions{&__libc_malloc, &__libc_calloc,  arena ? &libc_realloc_after_arena : &__libc_realloc, &__libc_memalign,
                &__libc_valloc, &__libc_pvalloc, arena ? &libc_free_after_arena : &__libc_free};
}

// The gate: the hooks call the resolved functions through their pointers only once the preload
// library has started recording (in the linked library, at once). Until then, every allocation
// comes through the first_* functions, which ask it again: the one that starts recording is
// recorded, and so is everything after it.
enum class Gate : int { closed, opening, open };
std::atomic<int> g_gate{static_cast<int>(Gate::closed)};

void open_the_gate() noexcept {
  if (g_gate.load(std::memory_order_acquire) == static_cast<int>(Gate::open)) {
    return;
  }
  int expected = static_cast<int>(Gate::closed);
  if (!g_gate.compare_exchange_strong(expected, static_cast<int>(Gate::opening), std::memory_order_acq_rel)) {
    return;  // being opened (by this thread's start, or another thread's): go on through first_*
  }
  bool open = true;
  if (&dhat_preload_first_allocation != nullptr) {
    const core::OwnLibcCall not_recorded;  // the start's own allocations are not the program's
    open = dhat_preload_first_allocation();
  }
  if (!open) {
    g_gate.store(static_cast<int>(Gate::closed), std::memory_order_release);
    return;
  }
  const auto relaxed = std::memory_order_relaxed;
  g_malloc.store(g_resolved.malloc, relaxed);
  g_calloc.store(g_resolved.calloc, relaxed);
  g_realloc.store(g_resolved.realloc, relaxed);
  g_memalign.store(g_resolved.memalign, relaxed);
  g_valloc.store(g_resolved.valloc, relaxed);
  g_pvalloc.store(g_resolved.pvalloc, relaxed);
  g_free.store(g_resolved.free, relaxed);
  g_gate.store(static_cast<int>(Gate::open), std::memory_order_release);
}

}  // namespace

std::atomic<void* (*)(std::size_t)> g_malloc{&first_malloc};
std::atomic<void* (*)(std::size_t, std::size_t)> g_calloc{&first_calloc};
std::atomic<void* (*)(void*, std::size_t)> g_realloc{&first_realloc};
std::atomic<void* (*)(std::size_t, std::size_t)> g_memalign{&first_memalign};
std::atomic<void* (*)(std::size_t)> g_valloc{&first_valloc};
std::atomic<void* (*)(std::size_t)> g_pvalloc{&first_pvalloc};
std::atomic<void (*)(void*)> g_free{&first_free};

Route current_route() noexcept { return route_now(); }

const char* next_allocator_name() noexcept { return route_now() == Route::next ? g_next_name : ""; }

}  // namespace dhat::hooks
