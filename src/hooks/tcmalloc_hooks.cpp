// tcmalloc's own entry points (gperftools' tc_* functions), recorded where the program calls
// them: the C family, operator new/delete's (plain, array, nothrow, sized, aligned) and the
// aligned allocations. tc_malloc_size, tc_mallinfo, tc_mallopt, tc_malloc_stats, tc_version and
// tc_set_new_mode only answer or configure, and are not replaced. Each forwards to tcmalloc's
// definition (foreign_entry.hpp). Outside the sealed object, taken from libdhat.a only by a
// program that names one of them (jemalloc_hooks.cpp says why).
#include <cerrno>
#include <cstddef>
#include <new>

#include "hooks/foreign_entry.hpp"

using dhat::hooks::allocate_via;
using dhat::hooks::free_via;
using dhat::hooks::keep_entry_frame;
using dhat::hooks::NextEntryPoint;
using dhat::hooks::records;

namespace {

using Malloc = void* (*)(std::size_t);
using MallocNothrow = void* (*)(std::size_t, const std::nothrow_t&);
using MallocAligned = void* (*)(std::size_t, std::align_val_t);
using MallocAlignedNothrow = void* (*)(std::size_t, std::align_val_t, const std::nothrow_t&);
using Free = void (*)(void*);
using FreeSized = void (*)(void*, std::size_t);
using FreeNothrow = void (*)(void*, const std::nothrow_t&);
using FreeAligned = void (*)(void*, std::align_val_t);
using FreeSizedAligned = void (*)(void*, std::size_t, std::align_val_t);
using FreeAlignedNothrow = void (*)(void*, std::align_val_t, const std::nothrow_t&);

#define DHAT_ENTRY(name) NextEntryPoint g_##name(#name);
DHAT_ENTRY(tc_malloc)
DHAT_ENTRY(tc_malloc_skip_new_handler)
DHAT_ENTRY(tc_free)
DHAT_ENTRY(tc_free_sized)
DHAT_ENTRY(tc_realloc)
DHAT_ENTRY(tc_malloc_size)  // not replaced: a query, for a handler's tc_realloc (move_held)
DHAT_ENTRY(tc_calloc)
DHAT_ENTRY(tc_cfree)
DHAT_ENTRY(tc_memalign)
DHAT_ENTRY(tc_posix_memalign)
DHAT_ENTRY(tc_valloc)
DHAT_ENTRY(tc_pvalloc)
DHAT_ENTRY(tc_new)
DHAT_ENTRY(tc_new_nothrow)
DHAT_ENTRY(tc_delete)
DHAT_ENTRY(tc_delete_sized)
DHAT_ENTRY(tc_delete_nothrow)
DHAT_ENTRY(tc_newarray)
DHAT_ENTRY(tc_newarray_nothrow)
DHAT_ENTRY(tc_deletearray)
DHAT_ENTRY(tc_deletearray_sized)
DHAT_ENTRY(tc_deletearray_nothrow)
DHAT_ENTRY(tc_new_aligned)
DHAT_ENTRY(tc_new_aligned_nothrow)
DHAT_ENTRY(tc_delete_aligned)
DHAT_ENTRY(tc_delete_sized_aligned)
DHAT_ENTRY(tc_delete_aligned_nothrow)
DHAT_ENTRY(tc_newarray_aligned)
DHAT_ENTRY(tc_newarray_aligned_nothrow)
DHAT_ENTRY(tc_deletearray_aligned)
DHAT_ENTRY(tc_deletearray_sized_aligned)
DHAT_ENTRY(tc_deletearray_aligned_nothrow)
#undef DHAT_ENTRY

}  // namespace

// An allocation of `bytes` through the hook's own entry (`g_NAME`), its arguments after `bytes`'s.
#define DHAT_TC_ALLOC(name, Function, bytes, ...)                                                          \
  keep_entry_frame(allocate_via<Function>(g_##name, records(g_##name, __builtin_return_address(0)), bytes, \
                                          DHAT_ENTRY_FRAME(), __VA_ARGS__))
#define DHAT_TC_FREE(name, Function, ...) \
  free_via<Function>(g_##name, records(g_##name, __builtin_return_address(0)), __VA_ARGS__)

// NOLINTBEGIN(bugprone-macro-parentheses): the macros' arguments are types and argument lists
extern "C" {
DHAT_HOOK void* tc_malloc(std::size_t size) noexcept { return DHAT_TC_ALLOC(tc_malloc, Malloc, size, size); }
DHAT_HOOK void* tc_malloc_skip_new_handler(std::size_t size) noexcept {
  return DHAT_TC_ALLOC(tc_malloc_skip_new_handler, Malloc, size, size);
}
DHAT_HOOK void tc_free(void* block) noexcept { DHAT_TC_FREE(tc_free, Free, block); }
DHAT_HOOK void tc_free_sized(void* block, std::size_t size) noexcept {
  DHAT_TC_FREE(tc_free_sized, FreeSized, block, size);
}
DHAT_HOOK void tc_cfree(void* block) noexcept { DHAT_TC_FREE(tc_cfree, Free, block); }
DHAT_HOOK void* tc_calloc(std::size_t count, std::size_t size) noexcept {
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  return DHAT_TC_ALLOC(tc_calloc, void* (*)(std::size_t, std::size_t), bytes, count, size);
}
DHAT_HOOK void* tc_realloc(void* block, std::size_t size) noexcept {
  const bool recorded = records(g_tc_realloc, __builtin_return_address(0));
  using Function = void* (*)(void*, std::size_t);
  if (recorded && block != nullptr && size == 0) {
    // tcmalloc frees the block and returns NULL, as glibc does: a free (held: see release_via).
    const Function function = g_tc_realloc.get<Function>();
    if (dhat::core::record_free_before_release(block, dhat::hooks::release_later_by(function, size))) {
      return nullptr;
    }
    return dhat::hooks::call_next<Function>(g_tc_realloc, static_cast<void*>(nullptr), block, size);
  }
  return keep_entry_frame(dhat::hooks::reallocate_via(
      recorded, block, size, DHAT_ENTRY_FRAME(),
      [&]() DHAT_INLINE_LAMBDA {
        return dhat::hooks::call_next<Function>(g_tc_realloc, static_cast<void*>(nullptr), block, size);
      },
      [&]() DHAT_INLINE_LAMBDA {
        return dhat::hooks::move_held(
            block, size,
            [&]() DHAT_INLINE_LAMBDA {
              return dhat::hooks::call_next<void* (*)(std::size_t)>(g_tc_malloc, static_cast<void*>(nullptr), size);
            },
            [&]() DHAT_INLINE_LAMBDA {
              return dhat::hooks::call_next<std::size_t (*)(void*)>(g_tc_malloc_size, std::size_t{0}, block);
            },
            [&]() DHAT_INLINE_LAMBDA { return dhat::hooks::release_later_by(g_tc_free.get<void (*)(void*)>()); });
      }));
}
DHAT_HOOK void* tc_memalign(std::size_t alignment, std::size_t size) noexcept {
  return DHAT_TC_ALLOC(tc_memalign, void* (*)(std::size_t, std::size_t), size, alignment, size);
}
DHAT_HOOK int tc_posix_memalign(void** out, std::size_t alignment, std::size_t size) noexcept {
  return keep_entry_frame(dhat::hooks::posix_memalign_via<int (*)(void**, std::size_t, std::size_t)>(
      g_tc_posix_memalign, records(g_tc_posix_memalign, __builtin_return_address(0)), out, alignment, size,
      DHAT_ENTRY_FRAME()));
}
DHAT_HOOK void* tc_valloc(std::size_t size) noexcept { return DHAT_TC_ALLOC(tc_valloc, Malloc, size, size); }
DHAT_HOOK void* tc_pvalloc(std::size_t size) noexcept { return DHAT_TC_ALLOC(tc_pvalloc, Malloc, size, size); }

// operator new/delete's: they throw (std::bad_alloc) or not as tcmalloc's do.
DHAT_HOOK void* tc_new(std::size_t size) { return DHAT_TC_ALLOC(tc_new, Malloc, size, size); }
DHAT_HOOK void* tc_new_nothrow(std::size_t size, const std::nothrow_t& tag) noexcept {
  return DHAT_TC_ALLOC(tc_new_nothrow, MallocNothrow, size, size, tag);
}
DHAT_HOOK void tc_delete(void* block) noexcept { DHAT_TC_FREE(tc_delete, Free, block); }
DHAT_HOOK void tc_delete_sized(void* block, std::size_t size) noexcept {
  DHAT_TC_FREE(tc_delete_sized, FreeSized, block, size);
}
DHAT_HOOK void tc_delete_nothrow(void* block, const std::nothrow_t& tag) noexcept {
  DHAT_TC_FREE(tc_delete_nothrow, FreeNothrow, block, tag);
}
DHAT_HOOK void* tc_newarray(std::size_t size) { return DHAT_TC_ALLOC(tc_newarray, Malloc, size, size); }
DHAT_HOOK void* tc_newarray_nothrow(std::size_t size, const std::nothrow_t& tag) noexcept {
  return DHAT_TC_ALLOC(tc_newarray_nothrow, MallocNothrow, size, size, tag);
}
DHAT_HOOK void tc_deletearray(void* block) noexcept { DHAT_TC_FREE(tc_deletearray, Free, block); }
DHAT_HOOK void tc_deletearray_sized(void* block, std::size_t size) noexcept {
  DHAT_TC_FREE(tc_deletearray_sized, FreeSized, block, size);
}
DHAT_HOOK void tc_deletearray_nothrow(void* block, const std::nothrow_t& tag) noexcept {
  DHAT_TC_FREE(tc_deletearray_nothrow, FreeNothrow, block, tag);
}
DHAT_HOOK void* tc_new_aligned(std::size_t size, std::align_val_t alignment) {
  return DHAT_TC_ALLOC(tc_new_aligned, MallocAligned, size, size, alignment);
}
DHAT_HOOK void* tc_new_aligned_nothrow(std::size_t size, std::align_val_t alignment,
                                       const std::nothrow_t& tag) noexcept {
  return DHAT_TC_ALLOC(tc_new_aligned_nothrow, MallocAlignedNothrow, size, size, alignment, tag);
}
DHAT_HOOK void tc_delete_aligned(void* block, std::align_val_t alignment) noexcept {
  DHAT_TC_FREE(tc_delete_aligned, FreeAligned, block, alignment);
}
DHAT_HOOK void tc_delete_sized_aligned(void* block, std::size_t size, std::align_val_t alignment) noexcept {
  DHAT_TC_FREE(tc_delete_sized_aligned, FreeSizedAligned, block, size, alignment);
}
DHAT_HOOK void tc_delete_aligned_nothrow(void* block, std::align_val_t alignment, const std::nothrow_t& tag) noexcept {
  DHAT_TC_FREE(tc_delete_aligned_nothrow, FreeAlignedNothrow, block, alignment, tag);
}
DHAT_HOOK void* tc_newarray_aligned(std::size_t size, std::align_val_t alignment) {
  return DHAT_TC_ALLOC(tc_newarray_aligned, MallocAligned, size, size, alignment);
}
DHAT_HOOK void* tc_newarray_aligned_nothrow(std::size_t size, std::align_val_t alignment,
                                            const std::nothrow_t& tag) noexcept {
  return DHAT_TC_ALLOC(tc_newarray_aligned_nothrow, MallocAlignedNothrow, size, size, alignment, tag);
}
DHAT_HOOK void tc_deletearray_aligned(void* block, std::align_val_t alignment) noexcept {
  DHAT_TC_FREE(tc_deletearray_aligned, FreeAligned, block, alignment);
}
DHAT_HOOK void tc_deletearray_sized_aligned(void* block, std::size_t size, std::align_val_t alignment) noexcept {
  DHAT_TC_FREE(tc_deletearray_sized_aligned, FreeSizedAligned, block, size, alignment);
}
DHAT_HOOK void tc_deletearray_aligned_nothrow(void* block, std::align_val_t alignment,
                                              const std::nothrow_t& tag) noexcept {
  DHAT_TC_FREE(tc_deletearray_aligned_nothrow, FreeAlignedNothrow, block, alignment, tag);
}
}  // extern "C"
// NOLINTEND(bugprone-macro-parentheses)
