// Where the next allocator's code is: to tell its own calls into the hooks from a signal
// handler's, while a hook runs it.
//
// Contract: a hook that calls the next allocator's functions marks the thread with an
// AllocatorCall (t_inside_profiler == kInsideAllocator; reentrancy_guard.hpp). A call that
// reaches the hooks again meanwhile is the allocator's own when it returns into the allocator's
// code (its own exported names, called through its PLT) or into the hooks' (one of its functions
// that jumps to another: mimalloc's realloc); from anywhere else, only a signal handler that
// interrupted the allocator can make it, and it is the program's to record
// (`interrupts_allocator`). `add_allocator_code` registers the executable segment of the object
// that defines a function (once per object; at most kAllocatorObjects). Reading is lock-free and
// async-signal-safe; nothing here allocates.
//
// Why not a ReentrancyGuard over the allocator's call (as before): every call during it was
// taken for the allocator's own, so a handler that interrupted jemalloc's malloc and allocated
// was not recorded.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/reentrancy_guard.hpp"

namespace dhat::core {

inline constexpr std::size_t kAllocatorObjects = 8;

// The executable segment of the loaded object that holds `address` (false: none).
[[nodiscard]] bool code_range_of(std::uintptr_t address, std::uintptr_t* begin, std::uintptr_t* end) noexcept;

// Registers the code of the object that defines `function` (nothing if already known or full).
void add_allocator_code(const void* function) noexcept;

// Whether `return_address` lies in a registered allocator's code or in the hooks' own.
[[nodiscard]] bool is_allocator_code(std::uintptr_t return_address) noexcept;

// Whether a call into the hooks that returns to `return_address` is a signal handler's that
// interrupted this thread inside the next allocator (see the contract).
[[nodiscard]] inline bool interrupts_allocator(std::uintptr_t return_address) noexcept {
  return t_inside_profiler == kInsideAllocator && !is_allocator_code(return_address);
}

}  // namespace dhat::core
