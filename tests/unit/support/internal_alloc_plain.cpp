// internal_alloc.hpp for the hook-free unit tests: plain malloc, so ASan and TSan see it all.
// It also counts the bytes held, so tests can check that clearing a table gives them back, and
// can be told to fail, so tests can check what the recorder does when its memory runs out.
#include <malloc.h>

#include <atomic>
#include <cstdlib>

#include "core/internal_alloc.hpp"
#include "internal_alloc_plain.hpp"

namespace dhat::core {

namespace {
std::atomic<std::size_t> g_bytes_held{0};
std::atomic<bool> g_failing{false};
std::size_t usable(void* block) { return block == nullptr ? 0 : malloc_usable_size(block); }
}  // namespace

void* internal_malloc(std::size_t bytes) noexcept {
  if (g_failing.load()) {
    return nullptr;
  }
  void* block = std::malloc(bytes);
  g_bytes_held += usable(block);
  return block;
}

void* internal_realloc(void* block, std::size_t bytes) noexcept {
  if (g_failing.load()) {
    return nullptr;
  }
  const std::size_t before = usable(block);
  void* grown = std::realloc(block, bytes);
  if (grown != nullptr) {
    g_bytes_held -= before;
    g_bytes_held += usable(grown);
  }
  return grown;
}

void internal_free(void* block) noexcept {
  g_bytes_held -= usable(block);
  std::free(block);
}

std::size_t internal_bytes_held_for_tests() noexcept { return g_bytes_held.load(); }

void fail_internal_allocations_for_tests(bool fail) noexcept { g_failing.store(fail); }

void internal_alloc_before_fork() noexcept {}
void internal_alloc_after_fork() noexcept {}

}  // namespace dhat::core
