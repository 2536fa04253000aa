// internal_alloc.hpp for the hook-free unit tests: plain malloc, so ASan and TSan see it all.
#include <cstdlib>

#include "core/internal_alloc.hpp"

namespace dhat::core {

void* internal_malloc(std::size_t bytes) noexcept { return std::malloc(bytes); }
void* internal_realloc(void* block, std::size_t bytes) noexcept { return std::realloc(block, bytes); }
void internal_free(void* block) noexcept { std::free(block); }

}  // namespace dhat::core
