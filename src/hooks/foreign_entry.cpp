#include "hooks/foreign_entry.hpp"

#include <dlfcn.h>
#include <sched.h>
#include <unistd.h>

#include <cstring>

namespace dhat::hooks {

namespace {

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
    if (!core::code_range_of(reinterpret_cast<std::uintptr_t>(function), &text_begin_, &text_end_)) {
      text_begin_ = text_end_ = 0;
    }
    core::add_allocator_code(function);
  } else {
    say_missing(name_);
  }
  function_ = function;
  state_.store(kFound, std::memory_order_release);
}

}  // namespace dhat::hooks
