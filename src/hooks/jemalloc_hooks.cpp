// jemalloc's own entry points (its "non-standard API"), recorded where the program calls them:
// mallocx, rallocx, xallocx, dallocx and sdallocx. nallocx and sallocx only answer questions and
// are not replaced; neither are mallctl and malloc_usable_size. Each forwards to jemalloc's
// definition (foreign_entry.hpp). Outside the sealed object, like the operator new/delete forms:
// a program takes this object from libdhat.a only if it names one of these functions (so a
// program without jemalloc never gets a `mallocx` that would make it think it has jemalloc).
#include <cstddef>

#include "hooks/foreign_entry.hpp"

using dhat::hooks::call_next;
using dhat::hooks::keep_entry_frame;
using dhat::hooks::NextEntryPoint;
using dhat::hooks::records;

namespace {

NextEntryPoint g_mallocx("mallocx");
NextEntryPoint g_rallocx("rallocx");
NextEntryPoint g_xallocx("xallocx");
NextEntryPoint g_dallocx("dallocx");
NextEntryPoint g_sdallocx("sdallocx");
NextEntryPoint g_sallocx("sallocx");  // not replaced: a query, for a handler's rallocx (move_held)

}  // namespace

DHAT_HOOK void* mallocx(std::size_t size, int flags) noexcept {
  const bool recorded = records(g_mallocx, __builtin_return_address(0));
  void* block = call_next<void* (*)(std::size_t, int)>(g_mallocx, static_cast<void*>(nullptr), size, flags);
  return keep_entry_frame(recorded ? dhat::hooks::note_alloc(block, size, DHAT_ENTRY_FRAME()) : block);
}

DHAT_HOOK void* rallocx(void* block, std::size_t size, int flags) noexcept {
  const bool recorded = records(g_rallocx, __builtin_return_address(0));
  return keep_entry_frame(dhat::hooks::reallocate_via(
      recorded, block, size, DHAT_ENTRY_FRAME(),
      [&]() DHAT_INLINE_LAMBDA {
        return call_next<void* (*)(void*, std::size_t, int)>(g_rallocx, static_cast<void*>(nullptr), block, size,
                                                             flags);
      },
      [&]() DHAT_INLINE_LAMBDA {
        return dhat::hooks::move_held(
            block, size,
            [&]() DHAT_INLINE_LAMBDA {
              return call_next<void* (*)(std::size_t, int)>(g_mallocx, static_cast<void*>(nullptr), size, flags);
            },
            [&]() DHAT_INLINE_LAMBDA {
              return call_next<std::size_t (*)(const void*, int)>(g_sallocx, std::size_t{0}, block, flags);
            },
            [&]() DHAT_INLINE_LAMBDA {
              return dhat::hooks::release_later_by(g_dallocx.get<void (*)(void*, int)>(), flags);
            });
      }));
}

// Resizes in place to at least `size` (up to size + extra if it can) and returns the real size;
// below `size`, nothing changed. Recorded as a realloc of the block to itself at the bytes the
// program may now use, as far as it asked (size, up to size + extra), or as a failed one.
DHAT_HOOK std::size_t xallocx(void* block, std::size_t size, std::size_t extra, int flags) noexcept {
  const bool recorded = records(g_xallocx, __builtin_return_address(0));
  using Function = std::size_t (*)(void*, std::size_t, std::size_t, int);
  if (!recorded || block == nullptr) {
    return call_next<Function>(g_xallocx, std::size_t{0}, block, size, extra, flags);
  }
  const dhat::core::ReallocTicket ticket = dhat::core::realloc_detach(block);
  const std::size_t real = call_next<Function>(g_xallocx, std::size_t{0}, block, size, extra, flags);
  const std::size_t asked = extra > static_cast<std::size_t>(-1) - size ? static_cast<std::size_t>(-1) : size + extra;
  const bool resized = real >= size;
  dhat::core::realloc_attach(ticket, block, resized ? block : nullptr, real < asked ? real : asked, DHAT_ENTRY_FRAME());
  return keep_entry_frame(real);
}

DHAT_HOOK void dallocx(void* block, int flags) noexcept {
  const bool recorded = records(g_dallocx, __builtin_return_address(0));
  dhat::hooks::free_via<void (*)(void*, int)>(g_dallocx, recorded, block, flags);
}

DHAT_HOOK void sdallocx(void* block, std::size_t size, int flags) noexcept {
  const bool recorded = records(g_sdallocx, __builtin_return_address(0));
  dhat::hooks::free_via<void (*)(void*, std::size_t, int)>(g_sdallocx, recorded, block, size, flags);
}
