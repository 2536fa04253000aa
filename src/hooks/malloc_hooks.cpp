// The C allocation functions. glibc documents that a program may replace malloc and friends;
// these definitions win over glibc's for the whole process (glibc's own internal calls, C
// libraries and libstdc++ included), and forward to the allocator the process would have used
// without them (next_allocator.hpp: glibc's, or jemalloc's, tcmalloc's, mimalloc's).
// malloc_usable_size, malloc_trim, mallinfo and the allocators' other queries are deliberately
// not replaced: the blocks are that allocator's, so its own versions answer for them.
#include <malloc.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "hooks/hook_support.hpp"
#include "hooks/link_anchor.hpp"

// See link_anchor.hpp: naming this symbol on the link line pulls this file, and with it every
// malloc hook, out of libdhat.a.
extern "C" DHAT_LINK_ANCHOR_VISIBILITY const char DHAT_HOOKS_LINK_ANCHOR = 0;

using dhat::hooks::keep_entry_frame;
using dhat::hooks::note_alloc;
using dhat::hooks::real_calloc;
using dhat::hooks::real_malloc;
using dhat::hooks::real_memalign;
using dhat::hooks::real_pvalloc;
using dhat::hooks::real_realloc;
using dhat::hooks::real_valloc;
using dhat::hooks::release;

namespace {

// A signal handler's realloc while its thread is inside the recorder (the ticket is held): made
// as a new block and a copy, and the old block handed back once the realloc is recorded. A
// realloc that moved the block would free it at once, and another thread could be handed its
// address before the move is recorded (see core::record_free_before_release). Realloc may always
// move a block; the contents are the same.
DHAT_CAPTURE_PATH void* realloc_held(void* old_block, std::size_t bytes) {
  void* moved = real_malloc(bytes);
  if (moved == nullptr) {
    return nullptr;  // as a failed realloc: the old block is untouched
  }
  // The allocator's own answer (not replaced by the hooks): the bytes the old block can hold.
  const std::size_t old_bytes = malloc_usable_size(old_block);
  std::memcpy(moved, old_block, old_bytes < bytes ? old_bytes : bytes);
  if (!dhat::core::realloc_attach_held(old_block, moved, bytes,
                                       dhat::core::DeferredRelease{&dhat::hooks::free_later})) {
    dhat::hooks::real_free(old_block);
  }
  return moved;
}

DHAT_CAPTURE_PATH void* realloc_recorded(void* old_block, std::size_t bytes, dhat::core::EntryFrame entry_frame) {
  if (old_block == nullptr) {
    return note_alloc(real_malloc(bytes), bytes, entry_frame);
  }
  if (bytes == 0) {
    // glibc frees the block and returns NULL: account it as a free (a signal handler's, held
    // inside the recorder: freed once recorded, see release_via).
    if (dhat::core::record_free_before_release(old_block, dhat::core::DeferredRelease{&dhat::hooks::free_later})) {
      return nullptr;
    }
    return real_realloc(old_block, 0);
  }
  const dhat::core::ReallocTicket ticket = dhat::core::realloc_detach(old_block);
  if (__builtin_expect(ticket.held, 0)) {
    return realloc_held(old_block, bytes);
  }
  void* new_block = real_realloc(old_block, bytes);
  dhat::core::realloc_attach(ticket, old_block, new_block, bytes, entry_frame);
  return new_block;
}

bool is_power_of_two(std::size_t value) { return value != 0 && (value & (value - 1)) == 0; }

}  // namespace

DHAT_HOOK void* malloc(std::size_t bytes) noexcept { return note_alloc(real_malloc(bytes), bytes, DHAT_ENTRY_FRAME()); }

DHAT_HOOK void free(void* block) noexcept { release(block); }

DHAT_HOOK void* calloc(std::size_t count, std::size_t size) noexcept {
  // calloc rejects count * size overflow with NULL/ENOMEM; only a success is recorded.
  void* block = real_calloc(count, size);
  return note_alloc(block, count * size, DHAT_ENTRY_FRAME());
}

DHAT_HOOK void* realloc(void* old_block, std::size_t bytes) noexcept {
  if (__builtin_expect(!dhat::core::is_recording(), 1)) {
    return real_realloc(old_block, bytes);
  }
  return keep_entry_frame(realloc_recorded(old_block, bytes, DHAT_ENTRY_FRAME()));
}

DHAT_HOOK void* reallocarray(void* old_block, std::size_t count, std::size_t size) noexcept {
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  if (__builtin_expect(!dhat::core::is_recording(), 1)) {
    return real_realloc(old_block, bytes);
  }
  return keep_entry_frame(realloc_recorded(old_block, bytes, DHAT_ENTRY_FRAME()));
}

DHAT_HOOK int posix_memalign(void** out, std::size_t alignment, std::size_t bytes) noexcept {
  if (alignment % sizeof(void*) != 0 || !is_power_of_two(alignment)) {
    return EINVAL;
  }
  void* block = real_memalign(alignment, bytes);
  if (block == nullptr) {
    return ENOMEM;
  }
  *out = note_alloc(block, bytes, DHAT_ENTRY_FRAME());
  return 0;
}

DHAT_HOOK void* aligned_alloc(std::size_t alignment, std::size_t bytes) noexcept {
  return note_alloc(real_memalign(alignment, bytes), bytes, DHAT_ENTRY_FRAME());
}

DHAT_HOOK void* memalign(std::size_t alignment, std::size_t bytes) noexcept {
  return note_alloc(real_memalign(alignment, bytes), bytes, DHAT_ENTRY_FRAME());
}

DHAT_HOOK void* valloc(std::size_t bytes) noexcept { return note_alloc(real_valloc(bytes), bytes, DHAT_ENTRY_FRAME()); }

DHAT_HOOK void* pvalloc(std::size_t bytes) noexcept {
  return note_alloc(real_pvalloc(bytes), bytes, DHAT_ENTRY_FRAME());
}
