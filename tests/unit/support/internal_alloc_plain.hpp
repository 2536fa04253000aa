// What the unit tests' internal allocator (internal_alloc_plain.cpp) can tell them.
#pragma once

#include <cstddef>

namespace dhat::core {

// Bytes of internal memory currently held (allocated and not yet freed), by every table.
std::size_t internal_bytes_held_for_tests() noexcept;

// While `fail` is true, internal_malloc and internal_realloc return null (out of memory).
void fail_internal_allocations_for_tests(bool fail) noexcept;

}  // namespace dhat::core
