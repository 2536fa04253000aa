#include "runtime/profiler_thread.hpp"

#include "core/signals_blocked.hpp"

namespace dhat::runtime {

int start_profiler_thread(pthread_t* thread, const pthread_attr_t* attributes, void* (*body)(void*),
                          void* argument) noexcept {
  const core::SignalsBlocked blocked;  // the new thread inherits the mask
  return pthread_create(thread, attributes, body, argument);
}

}  // namespace dhat::runtime
