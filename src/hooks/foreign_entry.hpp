// What the hooks of other allocators' own entry points share (jemalloc's mallocx family,
// tcmalloc's tc_* functions, mimalloc's mi_* functions: jemalloc_hooks.cpp, tcmalloc_hooks.cpp,
// mimalloc_hooks.cpp).
//
// Contract: each hook forwards to the next definition of its own name (dlsym(RTLD_NEXT), found at
// its first call) and records what the program asked for with the same DHAT rules as malloc's
// hooks: an allocation once, at the bytes requested; a free; a realloc as detach and attach. Two
// kinds of call are forwarded without being recorded: calls the allocator makes to its own
// exported names from inside its own code (mimalloc's posix_memalign calls mi_malloc_aligned
// through its PLT, which reaches these hooks: that is part of an allocation some other hook
// records), and every call the forwarded one makes (inside a ReentrancyGuard). A name with no
// definition after the hooks (the allocator is not in the process) makes one `dhat:` line and
// fails the way the function fails (a null block, ENOMEM), and a free of it does nothing.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "core/allocator_code.hpp"
#include "hooks/hook_support.hpp"

namespace dhat::hooks {

class NextEntryPoint {
 public:
  explicit constexpr NextEntryPoint(const char* name) noexcept : name_(name) {}

  // The next definition (null if there is none; found at the first call).
  template <typename Function>
  Function get() noexcept {
    if (state_.load(std::memory_order_acquire) != kFound) {
      resolve();
    }
    return reinterpret_cast<Function>(function_);
  }
  // Whether `caller` (a return address) lies in the code of the object that defines it.
  bool called_from_inside(const void* caller) const noexcept {
    return reinterpret_cast<std::uintptr_t>(caller) - text_begin_ < text_end_ - text_begin_;
  }

 private:
  static constexpr int kUnresolved = 0, kResolving = 1, kFound = 2;
  // One thread looks (dlsym, the object's code range); the others wait for it. Out of line
  // (foreign_entry.cpp).
  void resolve() noexcept;

  const char* name_;
  std::atomic<int> state_{kUnresolved};
  void* function_ = nullptr;  // written before state_ says kFound, read after
  std::uintptr_t text_begin_ = 0, text_end_ = 0;
};

// A lambda that calls into the allocator (through call_next, or a function the hook found): always
// inlined, even in a Debug build, so that the call is made from the hook's own code, in the hooks'
// code section. An allocator function that jumps to another of its exported names (mimalloc's)
// reaches the hooks with a return address at that call, which must count as the hooks' own
// (core/allocator_code.hpp); from a lambda left out of line it was in plain .text and taken for
// a signal handler's (every mimalloc test failed in the Debug build). Not a helper function: a
// section attribute on a template is ignored (its instantiations go to COMDAT .text sections).
#define DHAT_INLINE_LAMBDA __attribute__((always_inline))

// Calls the next definition inside an AllocatorCall; `failed` when there is none.
template <typename Function, typename Result, typename... Args>
__attribute__((always_inline)) inline Result call_next(NextEntryPoint& entry, Result failed, Args... args) {
  const Function function = entry.get<Function>();
  if (function == nullptr) {
    return failed;
  }
  const core::AllocatorCall inside_the_allocator;
  return function(args...);
}

// Bounds of the hooks' own code (core/stack_capture.hpp's `dhat_text`; weak, as there).
extern "C" const char __start_dhat_text[] __attribute__((weak));  // NOLINT(bugprone-reserved-identifier)
extern "C" const char __stop_dhat_text[] __attribute__((weak));   // NOLINT(bugprone-reserved-identifier)

// Whether a call from `caller` is the program's, to record. Not when it comes from the
// allocator's own code, nor from the hooks' (an allocator's malloc that ends in a jump to another
// of its exported names, as mimalloc's realloc jumps to mi_heap_realloc through its PLT, arrives
// here with the return address of the malloc hook that called it), nor while the thread is inside
// the profiler, nor inside the allocator unless the call comes from elsewhere (a signal handler's:
// core/allocator_code.hpp). The entry point is found first: its code range decides.
__attribute__((always_inline)) inline bool records(NextEntryPoint& entry, const void* caller) noexcept {
  if (__builtin_expect(!core::is_recording(), 1)) {
    return false;
  }
  if (__builtin_expect(core::t_inside_profiler != core::kOutsideProfiler, 0) &&
      !core::interrupts_allocator(reinterpret_cast<std::uintptr_t>(caller))) {
    return false;
  }
  const auto address = reinterpret_cast<std::uintptr_t>(caller);
  const auto hooks_begin = reinterpret_cast<std::uintptr_t>(__start_dhat_text);
  const auto hooks_end = reinterpret_cast<std::uintptr_t>(__stop_dhat_text);
  return (entry.get<void*>(), !entry.called_from_inside(caller)) && !(address >= hooks_begin && address < hooks_end);
}

// An allocation of `bytes` by the next definition (called with `args`).
template <typename Function, typename... Args>
__attribute__((always_inline)) inline void* allocate_via(NextEntryPoint& entry, bool recorded, std::size_t bytes,
                                                         core::EntryFrame entry_frame, Args... args) {
  void* block = call_next<Function>(entry, static_cast<void*>(nullptr), args...);
  return recorded ? note_alloc(block, bytes, entry_frame) : block;
}

// A free's arguments after the block, kept in a DeferredRelease's words: integers, enums
// (std::align_val_t) and tags (std::nothrow_t, which carries nothing).
template <typename T>
std::uintptr_t to_word(T value) noexcept {
  if constexpr (std::is_integral_v<T> || std::is_enum_v<T>) {
    return static_cast<std::uintptr_t>(value);
  } else {
    static_assert(std::is_empty_v<T>, "a free's argument that a word cannot keep");
    return 0;
  }
}
template <typename T>
T from_word(std::uintptr_t word) noexcept {
  if constexpr (std::is_integral_v<T> || std::is_enum_v<T>) {
    return static_cast<T>(word);
  } else {
    return T{};
  }
}

// A held free's release: the function the hook found, with the arguments it was given.
template <typename Function, typename... Args, std::size_t... I>
void call_with_words(Function function, void* block, const std::uintptr_t (&words)[2],
                     std::index_sequence<I...> /*indices*/) noexcept {
  function(block, from_word<Args>(words[I])...);
}
// Inside a ReentrancyGuard (the replay's): every signal is blocked, so whatever comes back into
// the hooks is the allocator's own.
template <typename Function, typename... Args>
void release_later(void* block, const core::DeferredRelease& how) noexcept {
  const core::ReentrancyGuard inside_the_allocator;
  const std::uintptr_t words[2] = {how.arg1, how.arg2};
  call_with_words<Function, Args...>(reinterpret_cast<Function>(how.function), block, words,
                                     std::index_sequence_for<Args...>{});
}

// How to call `function(block, args...)` later (nothing, when there is no function).
template <typename Function, typename... Args>
core::DeferredRelease release_later_by(Function function, Args... args) noexcept {
  static_assert(sizeof...(Args) <= 2, "a DeferredRelease keeps two arguments after the block");
  if (function == nullptr) {
    return {};
  }
  const std::uintptr_t words[2] = {to_word(args)...};
  return {&release_later<Function, Args...>, reinterpret_cast<std::uintptr_t>(function), words[0], words[1]};
}

// A free of `block` by the next definition (called with `block` and `args`).
template <typename Function, typename... Args>
__attribute__((always_inline)) inline void free_via(NextEntryPoint& entry, bool recorded, void* block, Args... args) {
  const Function function = entry.get<Function>();  // found now: a held free's release may not look
  release_via(
      recorded, block, [&] { return release_later_by(function, args...); },
      [&]() DHAT_INLINE_LAMBDA {
        if (function != nullptr) {
          const core::AllocatorCall inside_the_allocator;
          function(block, args...);
        }
      });
}

// A posix_memalign-like call: `*out` gets a block of `bytes` when the result is 0.
template <typename Function>
__attribute__((always_inline)) inline int posix_memalign_via(NextEntryPoint& entry, bool recorded, void** out,
                                                             std::size_t alignment, std::size_t bytes,
                                                             core::EntryFrame entry_frame) {
  const int result = call_next<Function>(entry, ENOMEM, out, alignment, bytes);
  if (result == 0 && recorded) {
    note_alloc(*out, bytes, entry_frame);
  }
  return result;
}

// A signal handler's realloc while its thread is inside the recorder (ReallocTicket::held), made
// as malloc_hooks.cpp's realloc_held makes glibc's: a new block from `allocate()` (the family's
// allocation of the same kind: alignment, zeroing, heap), the old block's contents copied (at
// most `usable()` bytes, the allocator's own answer), and the old block handed back by
// `free_old()` (a DeferredRelease) only once the realloc is recorded. The allocator's realloc
// would let the old address go at once, and another thread could be handed it before the move
// is recorded. Null when `allocate()` failed: the caller then reallocates the allocator's own way
// (its failure, its exception), as before.
template <typename Allocate, typename Usable, typename FreeOld>
__attribute__((always_inline)) inline void* move_held(void* old_block, std::size_t bytes, Allocate&& allocate,
                                                      Usable&& usable, FreeOld&& free_old) {
  void* moved = allocate();
  if (moved == nullptr) {
    return nullptr;
  }
  const std::size_t old_bytes = usable();
  std::memcpy(moved, old_block, old_bytes < bytes ? old_bytes : bytes);
  const core::DeferredRelease release = free_old();
  if (!core::realloc_attach_held(old_block, moved, bytes, release) && release.release != nullptr) {
    release.release(old_block, release);  // not held (the pool was full): freed now
  }
  return moved;
}

// For a realloc that never moves its block (in place or not at all): a held one keeps its
// address, so nothing is handed back early; it is held as it is.
inline void* no_held_move() noexcept { return nullptr; }

// A realloc-like call (`reallocate` returns the new block or null, leaving the old one): detach,
// call, attach, as malloc_hooks.cpp's realloc; a signal handler's inside the recorder is made by
// `held_move` (move_held, or no_held_move).
template <typename Reallocate, typename HeldMove>
__attribute__((always_inline)) inline void* reallocate_via(bool recorded, void* old_block, std::size_t bytes,
                                                           core::EntryFrame entry_frame, Reallocate&& reallocate,
                                                           HeldMove&& held_move) {
  if (!recorded) {
    return reallocate();
  }
  if (old_block == nullptr) {
    return note_alloc(reallocate(), bytes, entry_frame);
  }
  const core::ReallocTicket ticket = core::realloc_detach(old_block);
  if (__builtin_expect(ticket.held, 0)) {
    if (void* moved = held_move()) {
      return moved;
    }
  }
  void* new_block = reallocate();
  core::realloc_attach(ticket, old_block, new_block, bytes, entry_frame);
  return new_block;
}

}  // namespace dhat::hooks
