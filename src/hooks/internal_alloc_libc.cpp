// internal_alloc.hpp for the hooked library: straight to glibc, never through the hooks.
#include "core/internal_alloc.hpp"
#include "hooks/libc_entry_points.hpp"

namespace dhat::core {

void* internal_malloc(std::size_t bytes) noexcept { return __libc_malloc(bytes); }
void* internal_realloc(void* block, std::size_t bytes) noexcept { return __libc_realloc(block, bytes); }
void internal_free(void* block) noexcept { __libc_free(block); }

}  // namespace dhat::core
