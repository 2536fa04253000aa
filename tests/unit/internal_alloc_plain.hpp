// What the unit tests' internal allocator (internal_alloc_plain.cpp) can tell them.
#pragma once

#include <cstddef>

namespace dhat::core {

// Bytes of internal memory currently held (allocated and not yet freed), by every table.
std::size_t internal_bytes_held_for_tests() noexcept;

}  // namespace dhat::core
