#include "hooks/foreign_entry.hpp"

#include <dlfcn.h>
#include <link.h>
#include <sched.h>
#include <unistd.h>

#include <cstring>

namespace dhat::hooks {

namespace {

struct CodeRange {
  std::uintptr_t address;  // in: a function's address
  std::uintptr_t begin = 0, end = 0;
};

// The executable segment of the loaded object that holds `address`.
int find_code_range(dl_phdr_info* info, std::size_t, void* data) noexcept {
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

void say_missing(const char* name) noexcept {
  // write(2), not stdio: this runs inside an allocation function.
  const char* parts[] = {"dhat: the program called ", name,
                         "(), but no allocator in the process defines it after dhat-cpp's hooks: the call fails\n"};
  for (const char* part : parts) {
    const ssize_t ignored = write(STDERR_FILENO, part, std::strlen(part));
    static_cast<void>(ignored);
  }
}

}  // namespace

void NextEntryPoint::resolve() noexcept {
  int expected = kUnresolved;
  if (!state_.compare_exchange_strong(expected, kResolving, std::memory_order_acq_rel)) {
    while (state_.load(std::memory_order_acquire) != kFound) {
      sched_yield();  // another thread is looking: a dlsym's time
    }
    return;
  }
  void* function = dlsym(RTLD_NEXT, name_);
  if (function != nullptr) {
    CodeRange range{reinterpret_cast<std::uintptr_t>(function)};
    dl_iterate_phdr(&find_code_range, &range);
    text_begin_ = range.begin;
    text_end_ = range.end;
  } else {
    say_missing(name_);
  }
  function_ = function;
  state_.store(kFound, std::memory_order_release);
}

}  // namespace dhat::hooks
