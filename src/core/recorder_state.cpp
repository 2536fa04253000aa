#include "core/recorder_state.hpp"

#include "core/internal_alloc.hpp"

#include "core/reentrancy_guard.hpp"

namespace dhat::core {

DHAT_CONSTINIT thread_local unsigned char t_inside_profiler DHAT_TLS = kOutsideProfiler;
DHAT_CONSTINIT thread_local bool t_holds_lock DHAT_TLS = false;
DHAT_CONSTINIT thread_local ThreadState t_state DHAT_TLS;
DHAT_CONSTINIT thread_local ThreadBuffer* t_buffer DHAT_TLS = nullptr;
DHAT_CONSTINIT thread_local bool t_buffer_retired DHAT_TLS = false;

std::atomic<int> g_phase{static_cast<int>(Phase::idle)};
std::atomic<bool> g_buffered{false};
std::atomic<std::size_t> g_libgcc_walks{0};
std::atomic<std::size_t> g_unrecorded_handler_events{0};
std::atomic<std::uint32_t> g_generation{0};

DHAT_CONSTINIT StateStorage g_state_storage;

namespace {

// fork() while another thread holds a lock would leave the child's copy locked forever.
// Holding both across fork keeps the state consistent; the child then stops recording (its
// profile would otherwise overwrite the parent's file) and runs its allocations through.
void lock_before_fork() {
  g_state_storage.state.mutex.lock();
  g_state_storage.state.stacks_mutex.lock();
  internal_alloc_before_fork();  // taken inside both locks elsewhere too: the same order
}
void unlock_in_parent() {
  internal_alloc_after_fork();
  g_state_storage.state.stacks_mutex.unlock();
  g_state_storage.state.mutex.unlock();
}
void unlock_in_child() {
  internal_alloc_after_fork();
  if (phase_is(Phase::recording) || phase_is(Phase::ad_hoc)) {
    set_phase(Phase::stopped);
  }
  g_state_storage.state.stacks_mutex.unlock();
  g_state_storage.state.mutex.unlock();
}

}  // namespace

void install_fork_handlers() noexcept {
  static bool installed = false;  // called with the recorder's lock held
  if (!installed) {
    pthread_atfork(&lock_before_fork, &unlock_in_parent, &unlock_in_child);
    installed = true;
  }
}

}  // namespace dhat::core
