#include "core/allocator_code.hpp"

#include <link.h>

#include <atomic>

#include "core/stack_capture.hpp"

namespace dhat::core {

namespace {

struct CodeRange {
  std::uintptr_t address;  // in: an address in the object
  std::uintptr_t begin = 0, end = 0;
};

int find_code_range(dl_phdr_info* info, std::size_t /*size*/, void* data) noexcept {
  auto* range = static_cast<CodeRange*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_LOAD || (segment.p_flags & PF_X) == 0) {
      continue;
    }
    const std::uintptr_t begin = info->dlpi_addr + segment.p_vaddr;
    if (range->address - begin < segment.p_memsz) {
      range->begin = begin;
      range->end = begin + segment.p_memsz;
      return 1;
    }
  }
  return 0;
}

// A slot is taken by one writer (g_taken), written, then marked ready (release); readers look at
// ready slots only. No lock: a signal handler may resolve an entry point while its thread was
// registering another. Two threads may register one object twice: harmless.
struct Registered {
  std::atomic<bool> ready{false};
  std::uintptr_t begin = 0;
  std::uintptr_t end = 0;
};
Registered g_objects[kAllocatorObjects];
std::atomic<std::size_t> g_taken{0};
// An allocator whose code could not be registered (no room, or in no loaded object): every call
// during an AllocatorCall is then taken for the allocator's own (not recorded), never the reverse
// (its own calls recorded as the program's, twice).
std::atomic<bool> g_unregistered{false};

}  // namespace

bool code_range_of(std::uintptr_t address, std::uintptr_t* begin, std::uintptr_t* end) noexcept {
  CodeRange range{address};
  dl_iterate_phdr(&find_code_range, &range);
  *begin = range.begin;
  *end = range.end;
  return range.begin < range.end;
}

void add_allocator_code(const void* function) noexcept {
  std::uintptr_t begin = 0;
  std::uintptr_t end = 0;
  if (function == nullptr) {
    return;
  }
  if (!code_range_of(reinterpret_cast<std::uintptr_t>(function), &begin, &end)) {
    g_unregistered.store(true, std::memory_order_relaxed);
    return;
  }
  if (is_allocator_code(begin)) {
    return;  // known
  }
  const std::size_t slot = g_taken.fetch_add(1, std::memory_order_relaxed);
  if (slot >= kAllocatorObjects) {
    g_unregistered.store(true, std::memory_order_relaxed);
    return;
  }
  g_objects[slot].begin = begin;
  g_objects[slot].end = end;
  g_objects[slot].ready.store(true, std::memory_order_release);
}

bool is_allocator_code(std::uintptr_t return_address) noexcept {
  if (in_capture_path(return_address) || g_unregistered.load(std::memory_order_relaxed)) {
    return true;
  }
  for (const Registered& object : g_objects) {
    if (object.ready.load(std::memory_order_acquire) && return_address - object.begin < object.end - object.begin) {
      return true;
    }
  }
  return false;
}

}  // namespace dhat::core
