// Every replaceable operator new/delete form (plain, array, nothrow, sized, align_val_t).
// Defining them here replaces libstdc++'s for the whole process, so each C++ allocation is
// recorded once, here, and never a second time through malloc.
//
// Compiled once per form (DHAT_NEW_DELETE_FORM, 1-20: src/hooks/CMakeLists.txt), one object
// each, so that a program that replaces some forms itself links: the linker takes from the
// archive only the forms the program does not define (all of them in one object collided with
// the program's: "multiple definition of operator new"). A form that the standard defines in
// terms of another (new[] calls new, sized delete calls delete, ...) does the work itself only
// when that other form is ours too; when the program replaced it, it calls the program's, as
// libstdc++'s would. Whether a form is ours is a hidden weak marker its object defines.
#include <new>

#include "hooks/hook_support.hpp"

namespace {

// The standard's loop: try, call the new-handler, retry; throw bad_alloc when there is none.
// A zero-byte request gets a unique block, but is recorded as the 0 bytes asked for.
[[maybe_unused]] DHAT_CAPTURE_PATH void* new_or_throw(std::size_t bytes, std::size_t alignment,
                                                      dhat::core::EntryFrame entry_frame) {
  const std::size_t real_bytes = bytes == 0 ? 1 : bytes;
  for (;;) {
    void* block =
        alignment == 0 ? dhat::hooks::real_malloc(real_bytes) : dhat::hooks::real_memalign(alignment, real_bytes);
    if (block != nullptr) {
      return dhat::hooks::note_alloc(block, bytes, entry_frame);
    }
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) {
      throw std::bad_alloc();
    }
    handler();
  }
}

[[maybe_unused]] DHAT_CAPTURE_PATH void* new_or_null(std::size_t bytes, std::size_t alignment,
                                                     dhat::core::EntryFrame entry_frame) noexcept {
  try {
    return new_or_throw(bytes, alignment, entry_frame);
  } catch (...) {
    return nullptr;
  }
}

[[maybe_unused]] std::size_t to_size(std::align_val_t alignment) { return static_cast<std::size_t>(alignment); }

}  // namespace

#define DHAT_NEW DHAT_CAPTURE_PATH __attribute__((visibility("default")))
// The marker of a form that others are defined in terms of, defined where the form is ...
#define DHAT_OWNS(form) extern "C" __attribute__((visibility("hidden"), used)) const char dhat_owns_##form = 1;
// ... and looked at by the forms defined in terms of it (null when the program has its own).
#define DHAT_MARKER(form) extern "C" __attribute__((visibility("hidden"), weak)) const char dhat_owns_##form;
#define DHAT_IS_OURS(form) (&dhat_owns_##form != nullptr)

// Each object defines some forms without their sized or unsized partner, on purpose.
#if !defined(__clang__)  // GCC only: Clang has no such warning
#pragma GCC diagnostic ignored "-Wsized-deallocation"
#endif
// NOLINTBEGIN(cert-dcl54-cpp,misc-new-delete-overloads,hicpp-new-delete-operators)
#if DHAT_NEW_DELETE_FORM == 1
DHAT_OWNS(new)
DHAT_NEW void* operator new(std::size_t bytes) {
  return dhat::hooks::keep_entry_frame(new_or_throw(bytes, 0, DHAT_ENTRY_FRAME()));
}
#elif DHAT_NEW_DELETE_FORM == 2
DHAT_OWNS(new_array)
DHAT_MARKER(new)
DHAT_NEW void* operator new[](std::size_t bytes) {
  if (!DHAT_IS_OURS(new)) {
    return ::operator new(bytes);
  }
  return dhat::hooks::keep_entry_frame(new_or_throw(bytes, 0, DHAT_ENTRY_FRAME()));
}
#elif DHAT_NEW_DELETE_FORM == 3
DHAT_MARKER(new)
DHAT_NEW void* operator new(std::size_t bytes, const std::nothrow_t&) noexcept {
  if (!DHAT_IS_OURS(new)) {
    try {
      return ::operator new(bytes);
    } catch (...) {
      return nullptr;
    }
  }
  return dhat::hooks::keep_entry_frame(new_or_null(bytes, 0, DHAT_ENTRY_FRAME()));
}
#elif DHAT_NEW_DELETE_FORM == 4
DHAT_MARKER(new)
DHAT_MARKER(new_array)
DHAT_NEW void* operator new[](std::size_t bytes, const std::nothrow_t&) noexcept {
  if (!DHAT_IS_OURS(new_array) || !DHAT_IS_OURS(new)) {
    try {
      return ::operator new[](bytes);
    } catch (...) {
      return nullptr;
    }
  }
  return dhat::hooks::keep_entry_frame(new_or_null(bytes, 0, DHAT_ENTRY_FRAME()));
}
#elif DHAT_NEW_DELETE_FORM == 5
DHAT_OWNS(new_aligned)
DHAT_NEW void* operator new(std::size_t bytes, std::align_val_t alignment) {
  return dhat::hooks::keep_entry_frame(new_or_throw(bytes, to_size(alignment), DHAT_ENTRY_FRAME()));
}
#elif DHAT_NEW_DELETE_FORM == 6
DHAT_OWNS(new_array_aligned)
DHAT_MARKER(new_aligned)
DHAT_NEW void* operator new[](std::size_t bytes, std::align_val_t alignment) {
  if (!DHAT_IS_OURS(new_aligned)) {
    return ::operator new(bytes, alignment);
  }
  return dhat::hooks::keep_entry_frame(new_or_throw(bytes, to_size(alignment), DHAT_ENTRY_FRAME()));
}
#elif DHAT_NEW_DELETE_FORM == 7
DHAT_MARKER(new_aligned)
DHAT_NEW void* operator new(std::size_t bytes, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  if (!DHAT_IS_OURS(new_aligned)) {
    try {
      return ::operator new(bytes, alignment);
    } catch (...) {
      return nullptr;
    }
  }
  return dhat::hooks::keep_entry_frame(new_or_null(bytes, to_size(alignment), DHAT_ENTRY_FRAME()));
}
#elif DHAT_NEW_DELETE_FORM == 8
DHAT_MARKER(new_aligned)
DHAT_MARKER(new_array_aligned)
DHAT_NEW void* operator new[](std::size_t bytes, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  if (!DHAT_IS_OURS(new_array_aligned) || !DHAT_IS_OURS(new_aligned)) {
    try {
      return ::operator new[](bytes, alignment);
    } catch (...) {
      return nullptr;
    }
  }
  return dhat::hooks::keep_entry_frame(new_or_null(bytes, to_size(alignment), DHAT_ENTRY_FRAME()));
}
#elif DHAT_NEW_DELETE_FORM == 9
DHAT_OWNS(delete)
DHAT_NEW void operator delete(void* block) noexcept { dhat::hooks::release(block); }
#elif DHAT_NEW_DELETE_FORM == 10
DHAT_OWNS(delete_array)
DHAT_MARKER(delete)
DHAT_NEW void operator delete[](void* block) noexcept {
  if (!DHAT_IS_OURS(delete)) {
    ::operator delete(block);
    return;
  }
  dhat::hooks::release(block);
}
#elif DHAT_NEW_DELETE_FORM == 11
DHAT_MARKER(delete)
DHAT_NEW void operator delete(void* block, std::size_t) noexcept {
  if (!DHAT_IS_OURS(delete)) {
    ::operator delete(block);
    return;
  }
  dhat::hooks::release(block);
}
#elif DHAT_NEW_DELETE_FORM == 12
DHAT_MARKER(delete)
DHAT_MARKER(delete_array)
DHAT_NEW void operator delete[](void* block, std::size_t) noexcept {
  if (!DHAT_IS_OURS(delete_array) || !DHAT_IS_OURS(delete)) {
    ::operator delete[](block);
    return;
  }
  dhat::hooks::release(block);
}
#elif DHAT_NEW_DELETE_FORM == 13
DHAT_MARKER(delete)
DHAT_NEW void operator delete(void* block, const std::nothrow_t&) noexcept {
  if (!DHAT_IS_OURS(delete)) {
    ::operator delete(block);
    return;
  }
  dhat::hooks::release(block);
}
#elif DHAT_NEW_DELETE_FORM == 14
DHAT_MARKER(delete)
DHAT_MARKER(delete_array)
DHAT_NEW void operator delete[](void* block, const std::nothrow_t&) noexcept {
  if (!DHAT_IS_OURS(delete_array) || !DHAT_IS_OURS(delete)) {
    ::operator delete[](block);
    return;
  }
  dhat::hooks::release(block);
}
#elif DHAT_NEW_DELETE_FORM == 15
DHAT_OWNS(delete_aligned)
DHAT_NEW void operator delete(void* block, std::align_val_t) noexcept { dhat::hooks::release(block); }
#elif DHAT_NEW_DELETE_FORM == 16
DHAT_OWNS(delete_array_aligned)
DHAT_MARKER(delete_aligned)
DHAT_NEW void operator delete[](void* block, std::align_val_t alignment) noexcept {
  if (!DHAT_IS_OURS(delete_aligned)) {
    ::operator delete(block, alignment);
    return;
  }
  dhat::hooks::release(block);
}
#elif DHAT_NEW_DELETE_FORM == 17
DHAT_MARKER(delete_aligned)
DHAT_NEW void operator delete(void* block, std::size_t, std::align_val_t alignment) noexcept {
  if (!DHAT_IS_OURS(delete_aligned)) {
    ::operator delete(block, alignment);
    return;
  }
  dhat::hooks::release(block);
}
#elif DHAT_NEW_DELETE_FORM == 18
DHAT_MARKER(delete_aligned)
DHAT_MARKER(delete_array_aligned)
DHAT_NEW void operator delete[](void* block, std::size_t, std::align_val_t alignment) noexcept {
  if (!DHAT_IS_OURS(delete_array_aligned) || !DHAT_IS_OURS(delete_aligned)) {
    ::operator delete[](block, alignment);
    return;
  }
  dhat::hooks::release(block);
}
#elif DHAT_NEW_DELETE_FORM == 19
DHAT_MARKER(delete_aligned)
DHAT_NEW void operator delete(void* block, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  if (!DHAT_IS_OURS(delete_aligned)) {
    ::operator delete(block, alignment);
    return;
  }
  dhat::hooks::release(block);
}
#elif DHAT_NEW_DELETE_FORM == 20
DHAT_MARKER(delete_aligned)
DHAT_MARKER(delete_array_aligned)
DHAT_NEW void operator delete[](void* block, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  if (!DHAT_IS_OURS(delete_array_aligned) || !DHAT_IS_OURS(delete_aligned)) {
    ::operator delete[](block, alignment);
    return;
  }
  dhat::hooks::release(block);
}
#else
#error "DHAT_NEW_DELETE_FORM must be 1-20: this file is compiled once per form (src/hooks/CMakeLists.txt)"
#endif
// NOLINTEND(cert-dcl54-cpp,misc-new-delete-overloads,hicpp-new-delete-operators)
