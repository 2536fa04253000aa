// Memory for the profiler's own data structures.
//
// Contract: these functions never reach the malloc hooks, so the profiler's own allocations are
// never recorded and never recurse; they are also the sealed object's operator new
// (src/hooks/profiler_new.cpp), so a signal handler that allocates with the program's allocator
// never re-enters the allocator it interrupted. The hooked library defines them on the profiler's own pages
// (src/hooks/internal_alloc_pages.cpp), never the program's allocator; the core unit tests
// define them on top of plain malloc so that ASan and TSan can see every byte (tests/unit/).
#pragma once

#include <cstddef>

namespace dhat::core {

[[nodiscard]] void* internal_malloc(std::size_t bytes) noexcept;
[[nodiscard]] void* internal_realloc(void* block, std::size_t bytes) noexcept;
void internal_free(void* block) noexcept;

// fork() with another thread inside the allocator would leave the child's copy of its lock
// held: the recorder's fork handlers take it last before fork and give it back first after.
void internal_alloc_before_fork() noexcept;
void internal_alloc_after_fork() noexcept;

}  // namespace dhat::core
