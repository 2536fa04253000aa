// Every replaceable operator new/delete form (plain, array, nothrow, sized, align_val_t).
// Defining them here replaces libstdc++'s for the whole process, so each C++ allocation is
// recorded once, here, and never a second time through malloc.
#include <new>

#include "hooks/hook_support.hpp"

using dhat::hooks::keep_entry_frame;
using dhat::hooks::note_alloc;
using dhat::hooks::release;

namespace {

// The standard's loop: try, call the new-handler, retry; throw bad_alloc when there is none.
// A zero-byte request gets a unique block, but is recorded as the 0 bytes asked for.
DHAT_CAPTURE_PATH void* new_or_throw(std::size_t bytes, std::size_t alignment, const void* entry_frame) {
  const std::size_t real_bytes = bytes == 0 ? 1 : bytes;
  for (;;) {
    void* block = alignment == 0 ? __libc_malloc(real_bytes) : __libc_memalign(alignment, real_bytes);
    if (block != nullptr) {
      return note_alloc(block, bytes, entry_frame);
    }
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) {
      throw std::bad_alloc();
    }
    handler();
  }
}

DHAT_CAPTURE_PATH void* new_or_null(std::size_t bytes, std::size_t alignment, const void* entry_frame) noexcept {
  try {
    return new_or_throw(bytes, alignment, entry_frame);
  } catch (...) {
    return nullptr;
  }
}

std::size_t to_size(std::align_val_t alignment) { return static_cast<std::size_t>(alignment); }

}  // namespace

#define DHAT_NEW DHAT_CAPTURE_PATH __attribute__((visibility("default")))

// NOLINTBEGIN(cert-dcl54-cpp,misc-new-delete-overloads,hicpp-new-delete-operators)
DHAT_NEW void* operator new(std::size_t bytes) { return keep_entry_frame(new_or_throw(bytes, 0, DHAT_ENTRY_FRAME())); }
DHAT_NEW void* operator new[](std::size_t bytes) {
  return keep_entry_frame(new_or_throw(bytes, 0, DHAT_ENTRY_FRAME()));
}
DHAT_NEW void* operator new(std::size_t bytes, const std::nothrow_t&) noexcept {
  return keep_entry_frame(new_or_null(bytes, 0, DHAT_ENTRY_FRAME()));
}
DHAT_NEW void* operator new[](std::size_t bytes, const std::nothrow_t&) noexcept {
  return keep_entry_frame(new_or_null(bytes, 0, DHAT_ENTRY_FRAME()));
}
DHAT_NEW void* operator new(std::size_t bytes, std::align_val_t alignment) {
  return keep_entry_frame(new_or_throw(bytes, to_size(alignment), DHAT_ENTRY_FRAME()));
}
DHAT_NEW void* operator new[](std::size_t bytes, std::align_val_t alignment) {
  return keep_entry_frame(new_or_throw(bytes, to_size(alignment), DHAT_ENTRY_FRAME()));
}
DHAT_NEW void* operator new(std::size_t bytes, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return keep_entry_frame(new_or_null(bytes, to_size(alignment), DHAT_ENTRY_FRAME()));
}
DHAT_NEW void* operator new[](std::size_t bytes, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return keep_entry_frame(new_or_null(bytes, to_size(alignment), DHAT_ENTRY_FRAME()));
}

DHAT_NEW void operator delete(void* block) noexcept { release(block); }
DHAT_NEW void operator delete[](void* block) noexcept { release(block); }
DHAT_NEW void operator delete(void* block, std::size_t) noexcept { release(block); }
DHAT_NEW void operator delete[](void* block, std::size_t) noexcept { release(block); }
DHAT_NEW void operator delete(void* block, const std::nothrow_t&) noexcept { release(block); }
DHAT_NEW void operator delete[](void* block, const std::nothrow_t&) noexcept { release(block); }
DHAT_NEW void operator delete(void* block, std::align_val_t) noexcept { release(block); }
DHAT_NEW void operator delete[](void* block, std::align_val_t) noexcept { release(block); }
DHAT_NEW void operator delete(void* block, std::size_t, std::align_val_t) noexcept { release(block); }
DHAT_NEW void operator delete[](void* block, std::size_t, std::align_val_t) noexcept { release(block); }
DHAT_NEW void operator delete(void* block, std::align_val_t, const std::nothrow_t&) noexcept { release(block); }
DHAT_NEW void operator delete[](void* block, std::align_val_t, const std::nothrow_t&) noexcept { release(block); }
// NOLINTEND(cert-dcl54-cpp,misc-new-delete-overloads,hicpp-new-delete-operators)
