// mimalloc's own entry points (mi_*), recorded where the program calls them: the C family, the
// zeroing and counted forms, strdup/strndup/realpath, the aligned forms, the C++ helpers
// (mi_new*, which mimalloc's mi_stl_allocator uses) and the mi_heap_* forms that allocate in a
// heap of the program's. Queries (mi_usable_size, mi_good_size, ...) and heap management are not
// replaced. Not seen: blocks that mi_heap_destroy releases all at once (they stay live in the
// profile); use mi_heap_delete, which keeps them. Each forwards to mimalloc's definition
// (foreign_entry.hpp). Outside the sealed object, taken from libdhat.a only by a program that
// names one of them (jemalloc_hooks.cpp says why).
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "hooks/foreign_entry.hpp"

using dhat::hooks::allocate_via;
using dhat::hooks::call_next;
using dhat::hooks::free_via;
using dhat::hooks::keep_entry_frame;
using dhat::hooks::NextEntryPoint;
using dhat::hooks::reallocate_via;
using dhat::hooks::records;

namespace {

struct Heap;  // mi_heap_t, opaque

using Malloc = void* (*)(std::size_t);
using MallocN = void* (*)(std::size_t, std::size_t);
using MallocAligned = void* (*)(std::size_t, std::size_t);
using MallocAlignedAt = void* (*)(std::size_t, std::size_t, std::size_t);
using Realloc = void* (*)(void*, std::size_t);
using ReallocN = void* (*)(void*, std::size_t, std::size_t);
using HeapMalloc = void* (*)(Heap*, std::size_t);
using HeapMallocN = void* (*)(Heap*, std::size_t, std::size_t);
using HeapRealloc = void* (*)(Heap*, void*, std::size_t);
using Free = void (*)(void*);

#define DHAT_ENTRY(name) NextEntryPoint g_##name(#name);
DHAT_ENTRY(mi_malloc)
DHAT_ENTRY(mi_calloc)
DHAT_ENTRY(mi_realloc)
DHAT_ENTRY(mi_reallocf)
DHAT_ENTRY(mi_expand)
DHAT_ENTRY(mi_free)
DHAT_ENTRY(mi_cfree)
DHAT_ENTRY(mi_free_size)
DHAT_ENTRY(mi_free_aligned)
DHAT_ENTRY(mi_free_size_aligned)
DHAT_ENTRY(mi_zalloc)
DHAT_ENTRY(mi_malloc_small)
DHAT_ENTRY(mi_zalloc_small)
DHAT_ENTRY(mi_mallocn)
DHAT_ENTRY(mi_reallocn)
DHAT_ENTRY(mi_rezalloc)
DHAT_ENTRY(mi_recalloc)
DHAT_ENTRY(mi_reallocarray)
DHAT_ENTRY(mi_strdup)
DHAT_ENTRY(mi_strndup)
DHAT_ENTRY(mi_realpath)
DHAT_ENTRY(mi_malloc_aligned)
DHAT_ENTRY(mi_malloc_aligned_at)
DHAT_ENTRY(mi_zalloc_aligned)
DHAT_ENTRY(mi_zalloc_aligned_at)
DHAT_ENTRY(mi_calloc_aligned)
DHAT_ENTRY(mi_realloc_aligned)
DHAT_ENTRY(mi_memalign)
DHAT_ENTRY(mi_aligned_alloc)
DHAT_ENTRY(mi_posix_memalign)
DHAT_ENTRY(mi_valloc)
DHAT_ENTRY(mi_pvalloc)
DHAT_ENTRY(mi_new)
DHAT_ENTRY(mi_new_nothrow)
DHAT_ENTRY(mi_new_aligned)
DHAT_ENTRY(mi_new_aligned_nothrow)
DHAT_ENTRY(mi_new_n)
DHAT_ENTRY(mi_new_realloc)
DHAT_ENTRY(mi_new_reallocn)
DHAT_ENTRY(mi_heap_malloc)
DHAT_ENTRY(mi_heap_zalloc)
DHAT_ENTRY(mi_heap_calloc)
DHAT_ENTRY(mi_heap_mallocn)
DHAT_ENTRY(mi_heap_malloc_small)
DHAT_ENTRY(mi_heap_realloc)
DHAT_ENTRY(mi_heap_reallocn)
DHAT_ENTRY(mi_heap_reallocf)
DHAT_ENTRY(mi_heap_strdup)
DHAT_ENTRY(mi_heap_strndup)
DHAT_ENTRY(mi_heap_malloc_aligned)
DHAT_ENTRY(mi_heap_zalloc_aligned)
DHAT_ENTRY(mi_usable_size)  // not replaced: a query, for a handler's realloc (move_held)
#undef DHAT_ENTRY

// count * size, or false when it does not fit (the call then fails without us).
bool product(std::size_t count, std::size_t size, std::size_t* bytes) {
  return !__builtin_mul_overflow(count, size, bytes);
}

}  // namespace

#define DHAT_MI_RECORDS(name) records(g_##name, __builtin_return_address(0))
// An allocation of `bytes` through the hook's own entry (`g_NAME`) called with the arguments.
#define DHAT_MI_ALLOC(name, Function, bytes, ...) \
  keep_entry_frame(allocate_via<Function>(g_##name, DHAT_MI_RECORDS(name), bytes, DHAT_ENTRY_FRAME(), __VA_ARGS__))
#define DHAT_MI_FREE(name, Function, ...) free_via<Function>(g_##name, DHAT_MI_RECORDS(name), __VA_ARGS__)
// A signal handler's realloc inside the recorder, made as `allocate` (an expression: the new block
// of the same kind), a copy and mi_free (foreign_entry.hpp: move_held).
#define DHAT_MI_HELD_MOVE(block, bytes, allocate)                                                   \
  [&]() DHAT_INLINE_LAMBDA {                                                                        \
    return dhat::hooks::move_held(                                                                  \
        block, bytes, [&]() DHAT_INLINE_LAMBDA { return allocate; },                                \
        [&]() DHAT_INLINE_LAMBDA {                                                                  \
          return call_next<std::size_t (*)(const void*)>(g_mi_usable_size, std::size_t{0}, block);  \
        },                                                                                          \
        [&]() DHAT_INLINE_LAMBDA { return dhat::hooks::release_later_by(g_mi_free.get<Free>()); }); \
  }
// A new block through mimalloc's own `name` (not recorded: the held realloc is).
#define DHAT_MI_NEW(Function, name, ...) call_next<Function>(g_##name, static_cast<void*>(nullptr), __VA_ARGS__)
// A realloc of `block` to `bytes`; a handler's inside the recorder is made with `allocate`.
#define DHAT_MI_REALLOC(name, Function, block, bytes, allocate, ...)                                                \
  keep_entry_frame(reallocate_via(                                                                                  \
      DHAT_MI_RECORDS(name), block, bytes, DHAT_ENTRY_FRAME(),                                                      \
      [&]() DHAT_INLINE_LAMBDA { return call_next<Function>(g_##name, static_cast<void*>(nullptr), __VA_ARGS__); }, \
      DHAT_MI_HELD_MOVE(block, bytes, allocate)))

// NOLINTBEGIN(bugprone-macro-parentheses): the macros' arguments are types and argument lists
extern "C" {
DHAT_HOOK void* mi_malloc(std::size_t size) noexcept { return DHAT_MI_ALLOC(mi_malloc, Malloc, size, size); }
DHAT_HOOK void* mi_zalloc(std::size_t size) noexcept { return DHAT_MI_ALLOC(mi_zalloc, Malloc, size, size); }
DHAT_HOOK void* mi_malloc_small(std::size_t size) noexcept {
  return DHAT_MI_ALLOC(mi_malloc_small, Malloc, size, size);
}
DHAT_HOOK void* mi_zalloc_small(std::size_t size) noexcept {
  return DHAT_MI_ALLOC(mi_zalloc_small, Malloc, size, size);
}
DHAT_HOOK void* mi_calloc(std::size_t count, std::size_t size) noexcept {
  std::size_t bytes = 0;
  return product(count, size, &bytes) ? DHAT_MI_ALLOC(mi_calloc, MallocN, bytes, count, size) : nullptr;
}
DHAT_HOOK void* mi_mallocn(std::size_t count, std::size_t size) noexcept {
  std::size_t bytes = 0;
  return product(count, size, &bytes) ? DHAT_MI_ALLOC(mi_mallocn, MallocN, bytes, count, size) : nullptr;
}
DHAT_HOOK void* mi_realloc(void* block, std::size_t size) noexcept {
  return DHAT_MI_REALLOC(mi_realloc, Realloc, block, size, DHAT_MI_NEW(Malloc, mi_malloc, size), block, size);
}
DHAT_HOOK void* mi_rezalloc(void* block, std::size_t size) noexcept {
  return DHAT_MI_REALLOC(mi_rezalloc, Realloc, block, size, DHAT_MI_NEW(Malloc, mi_zalloc, size), block, size);
}
DHAT_HOOK void* mi_reallocn(void* block, std::size_t count, std::size_t size) noexcept {
  std::size_t bytes = 0;
  return product(count, size, &bytes) ? DHAT_MI_REALLOC(mi_reallocn, ReallocN, block, bytes,
                                                        DHAT_MI_NEW(Malloc, mi_malloc, bytes), block, count, size)
                                      : nullptr;
}
DHAT_HOOK void* mi_recalloc(void* block, std::size_t count, std::size_t size) noexcept {
  std::size_t bytes = 0;
  return product(count, size, &bytes) ? DHAT_MI_REALLOC(mi_recalloc, ReallocN, block, bytes,
                                                        DHAT_MI_NEW(Malloc, mi_zalloc, bytes), block, count, size)
                                      : nullptr;
}
DHAT_HOOK void* mi_reallocarray(void* block, std::size_t count, std::size_t size) noexcept {
  std::size_t bytes = 0;
  if (!product(count, size, &bytes)) {
    errno = EOVERFLOW;  // as mimalloc: the block is untouched
    return nullptr;
  }
  return DHAT_MI_REALLOC(mi_reallocarray, ReallocN, block, bytes, DHAT_MI_NEW(Malloc, mi_malloc, bytes), block, count,
                         size);
}
// On failure mimalloc frees the block: re-attached by the failed realloc, then freed here.
DHAT_HOOK void* mi_reallocf(void* block, std::size_t size) noexcept {
  const bool recorded = DHAT_MI_RECORDS(mi_reallocf);
  void* moved = keep_entry_frame(reallocate_via(
      recorded, block, size, DHAT_ENTRY_FRAME(),
      [&]() DHAT_INLINE_LAMBDA { return call_next<Realloc>(g_mi_reallocf, static_cast<void*>(nullptr), block, size); },
      DHAT_MI_HELD_MOVE(block, size, DHAT_MI_NEW(Malloc, mi_malloc, size))));
  if (moved == nullptr && block != nullptr && recorded) {
    dhat::core::record_free(block);
  }
  return moved;
}
// In place or not at all: a realloc of the block to itself when it grew (never moved: a
// handler's keeps its address, nothing to hand back later).
DHAT_HOOK void* mi_expand(void* block, std::size_t size) noexcept {
  return keep_entry_frame(reallocate_via(
      DHAT_MI_RECORDS(mi_expand), block, size, DHAT_ENTRY_FRAME(),
      [&]() DHAT_INLINE_LAMBDA { return call_next<Realloc>(g_mi_expand, static_cast<void*>(nullptr), block, size); },
      &dhat::hooks::no_held_move));
}
DHAT_HOOK void mi_free(void* block) noexcept { DHAT_MI_FREE(mi_free, Free, block); }
DHAT_HOOK void mi_cfree(void* block) noexcept { DHAT_MI_FREE(mi_cfree, Free, block); }
DHAT_HOOK void mi_free_size(void* block, std::size_t size) noexcept {
  DHAT_MI_FREE(mi_free_size, void (*)(void*, std::size_t), block, size);
}
DHAT_HOOK void mi_free_aligned(void* block, std::size_t alignment) noexcept {
  DHAT_MI_FREE(mi_free_aligned, void (*)(void*, std::size_t), block, alignment);
}
DHAT_HOOK void mi_free_size_aligned(void* block, std::size_t size, std::size_t alignment) noexcept {
  DHAT_MI_FREE(mi_free_size_aligned, void (*)(void*, std::size_t, std::size_t), block, size, alignment);
}
DHAT_HOOK char* mi_strdup(const char* text) noexcept {
  const std::size_t bytes = text == nullptr ? 0 : std::strlen(text) + 1;
  return static_cast<char*>(DHAT_MI_ALLOC(mi_strdup, void* (*)(const char*), bytes, text));
}
DHAT_HOOK char* mi_strndup(const char* text, std::size_t most) noexcept {
  const std::size_t bytes = text == nullptr ? 0 : strnlen(text, most) + 1;
  return static_cast<char*>(DHAT_MI_ALLOC(mi_strndup, void* (*)(const char*, std::size_t), bytes, text, most));
}
// Allocates only without a buffer of the caller's: then the block holds the path.
DHAT_HOOK char* mi_realpath(const char* name, char* resolved) noexcept {
  const bool recorded = DHAT_MI_RECORDS(mi_realpath) && resolved == nullptr;
  auto* path = static_cast<char*>(
      call_next<void* (*)(const char*, char*)>(g_mi_realpath, static_cast<void*>(nullptr), name, resolved));
  if (recorded && path != nullptr) {
    dhat::hooks::note_alloc(path, std::strlen(path) + 1, DHAT_ENTRY_FRAME());
  }
  return keep_entry_frame(path);
}
DHAT_HOOK void* mi_malloc_aligned(std::size_t size, std::size_t alignment) noexcept {
  return DHAT_MI_ALLOC(mi_malloc_aligned, MallocAligned, size, size, alignment);
}
DHAT_HOOK void* mi_malloc_aligned_at(std::size_t size, std::size_t alignment, std::size_t offset) noexcept {
  return DHAT_MI_ALLOC(mi_malloc_aligned_at, MallocAlignedAt, size, size, alignment, offset);
}
DHAT_HOOK void* mi_zalloc_aligned(std::size_t size, std::size_t alignment) noexcept {
  return DHAT_MI_ALLOC(mi_zalloc_aligned, MallocAligned, size, size, alignment);
}
DHAT_HOOK void* mi_zalloc_aligned_at(std::size_t size, std::size_t alignment, std::size_t offset) noexcept {
  return DHAT_MI_ALLOC(mi_zalloc_aligned_at, MallocAlignedAt, size, size, alignment, offset);
}
DHAT_HOOK void* mi_calloc_aligned(std::size_t count, std::size_t size, std::size_t alignment) noexcept {
  std::size_t bytes = 0;
  return product(count, size, &bytes) ? DHAT_MI_ALLOC(mi_calloc_aligned, MallocAlignedAt, bytes, count, size, alignment)
                                      : nullptr;
}
DHAT_HOOK void* mi_realloc_aligned(void* block, std::size_t size, std::size_t alignment) noexcept {
  return DHAT_MI_REALLOC(mi_realloc_aligned, void* (*)(void*, std::size_t, std::size_t), block, size,
                         DHAT_MI_NEW(MallocAligned, mi_malloc_aligned, size, alignment), block, size, alignment);
}
DHAT_HOOK void* mi_memalign(std::size_t alignment, std::size_t size) noexcept {
  return DHAT_MI_ALLOC(mi_memalign, MallocAligned, size, alignment, size);
}
DHAT_HOOK void* mi_aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  return DHAT_MI_ALLOC(mi_aligned_alloc, MallocAligned, size, alignment, size);
}
DHAT_HOOK int mi_posix_memalign(void** out, std::size_t alignment, std::size_t size) noexcept {
  return keep_entry_frame(dhat::hooks::posix_memalign_via<int (*)(void**, std::size_t, std::size_t)>(
      g_mi_posix_memalign, records(g_mi_posix_memalign, __builtin_return_address(0)), out, alignment, size,
      DHAT_ENTRY_FRAME()));
}
DHAT_HOOK void* mi_valloc(std::size_t size) noexcept { return DHAT_MI_ALLOC(mi_valloc, Malloc, size, size); }
DHAT_HOOK void* mi_pvalloc(std::size_t size) noexcept { return DHAT_MI_ALLOC(mi_pvalloc, Malloc, size, size); }

// The C++ helpers: they throw std::bad_alloc (or return null, _nothrow) as mimalloc's do.
DHAT_HOOK void* mi_new(std::size_t size) { return DHAT_MI_ALLOC(mi_new, Malloc, size, size); }
DHAT_HOOK void* mi_new_nothrow(std::size_t size) noexcept { return DHAT_MI_ALLOC(mi_new_nothrow, Malloc, size, size); }
DHAT_HOOK void* mi_new_aligned(std::size_t size, std::size_t alignment) {
  return DHAT_MI_ALLOC(mi_new_aligned, MallocAligned, size, size, alignment);
}
DHAT_HOOK void* mi_new_aligned_nothrow(std::size_t size, std::size_t alignment) noexcept {
  return DHAT_MI_ALLOC(mi_new_aligned_nothrow, MallocAligned, size, size, alignment);
}
DHAT_HOOK void* mi_new_n(std::size_t count, std::size_t size) {
  std::size_t bytes = 0;
  product(count, size, &bytes);  // on overflow mimalloc throws before anything is allocated
  return DHAT_MI_ALLOC(mi_new_n, MallocN, bytes, count, size);
}
DHAT_HOOK void* mi_new_realloc(void* block, std::size_t size) {
  return DHAT_MI_REALLOC(mi_new_realloc, Realloc, block, size, DHAT_MI_NEW(Malloc, mi_malloc, size), block, size);
}
DHAT_HOOK void* mi_new_reallocn(void* block, std::size_t count, std::size_t size) {
  std::size_t bytes = 0;
  product(count, size, &bytes);
  return DHAT_MI_REALLOC(mi_new_reallocn, ReallocN, block, bytes, DHAT_MI_NEW(Malloc, mi_malloc, bytes), block, count,
                         size);
}

// In a heap of the program's.
DHAT_HOOK void* mi_heap_malloc(Heap* heap, std::size_t size) noexcept {
  return DHAT_MI_ALLOC(mi_heap_malloc, HeapMalloc, size, heap, size);
}
DHAT_HOOK void* mi_heap_zalloc(Heap* heap, std::size_t size) noexcept {
  return DHAT_MI_ALLOC(mi_heap_zalloc, HeapMalloc, size, heap, size);
}
DHAT_HOOK void* mi_heap_malloc_small(Heap* heap, std::size_t size) noexcept {
  return DHAT_MI_ALLOC(mi_heap_malloc_small, HeapMalloc, size, heap, size);
}
DHAT_HOOK void* mi_heap_calloc(Heap* heap, std::size_t count, std::size_t size) noexcept {
  std::size_t bytes = 0;
  return product(count, size, &bytes) ? DHAT_MI_ALLOC(mi_heap_calloc, HeapMallocN, bytes, heap, count, size) : nullptr;
}
DHAT_HOOK void* mi_heap_mallocn(Heap* heap, std::size_t count, std::size_t size) noexcept {
  std::size_t bytes = 0;
  return product(count, size, &bytes) ? DHAT_MI_ALLOC(mi_heap_mallocn, HeapMallocN, bytes, heap, count, size) : nullptr;
}
DHAT_HOOK void* mi_heap_realloc(Heap* heap, void* block, std::size_t size) noexcept {
  return DHAT_MI_REALLOC(mi_heap_realloc, HeapRealloc, block, size, DHAT_MI_NEW(HeapMalloc, mi_heap_malloc, heap, size),
                         heap, block, size);
}
DHAT_HOOK void* mi_heap_reallocn(Heap* heap, void* block, std::size_t count, std::size_t size) noexcept {
  std::size_t bytes = 0;
  return product(count, size, &bytes)
             ? DHAT_MI_REALLOC(mi_heap_reallocn, void* (*)(Heap*, void*, std::size_t, std::size_t), block, bytes,
                               DHAT_MI_NEW(HeapMalloc, mi_heap_malloc, heap, bytes), heap, block, count, size)
             : nullptr;
}
DHAT_HOOK void* mi_heap_reallocf(Heap* heap, void* block, std::size_t size) noexcept {
  const bool recorded = DHAT_MI_RECORDS(mi_heap_reallocf);
  void* moved = keep_entry_frame(reallocate_via(
      recorded, block, size, DHAT_ENTRY_FRAME(),
      [&]() DHAT_INLINE_LAMBDA {
        return call_next<HeapRealloc>(g_mi_heap_reallocf, static_cast<void*>(nullptr), heap, block, size);
      },
      DHAT_MI_HELD_MOVE(block, size, DHAT_MI_NEW(HeapMalloc, mi_heap_malloc, heap, size))));
  if (moved == nullptr && block != nullptr && recorded) {
    dhat::core::record_free(block);  // as mi_reallocf
  }
  return moved;
}
DHAT_HOOK char* mi_heap_strdup(Heap* heap, const char* text) noexcept {
  const std::size_t bytes = text == nullptr ? 0 : std::strlen(text) + 1;
  return static_cast<char*>(DHAT_MI_ALLOC(mi_heap_strdup, void* (*)(Heap*, const char*), bytes, heap, text));
}
DHAT_HOOK char* mi_heap_strndup(Heap* heap, const char* text, std::size_t most) noexcept {
  const std::size_t bytes = text == nullptr ? 0 : strnlen(text, most) + 1;
  return static_cast<char*>(
      DHAT_MI_ALLOC(mi_heap_strndup, void* (*)(Heap*, const char*, std::size_t), bytes, heap, text, most));
}
DHAT_HOOK void* mi_heap_malloc_aligned(Heap* heap, std::size_t size, std::size_t alignment) noexcept {
  return DHAT_MI_ALLOC(mi_heap_malloc_aligned, HeapMallocN, size, heap, size, alignment);
}
DHAT_HOOK void* mi_heap_zalloc_aligned(Heap* heap, std::size_t size, std::size_t alignment) noexcept {
  return DHAT_MI_ALLOC(mi_heap_zalloc_aligned, HeapMallocN, size, heap, size, alignment);
}
}  // extern "C"
// NOLINTEND(bugprone-macro-parentheses)
