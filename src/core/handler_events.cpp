#include "core/handler_events.hpp"

#include "core/internal_pages.hpp"
#include "core/recorder_state.hpp"

namespace dhat::core {

DHAT_CONSTINIT thread_local std::atomic<std::uint32_t> t_held_events DHAT_TLS{0};

namespace {

constexpr std::uint32_t kFree = 0;
constexpr std::uint32_t kWriting = 1;
constexpr std::uint32_t kReady = 2;

// Mapped at the first held event and kept (fresh pages are zero: every slot free; untouched
// pages hold no memory).
std::atomic<HeldEvent*> g_pool{nullptr};
std::atomic<std::uint64_t> g_order{0};
// Slots [0, g_used) have been claimed at least once: the scans look no further.
std::atomic<std::size_t> g_used{0};

const void* this_thread() noexcept { return &t_held_events; }

HeldEvent* pool() noexcept {
  HeldEvent* slots = g_pool.load(std::memory_order_acquire);
  if (slots != nullptr) {
    return slots;
  }
  constexpr std::size_t kBytes = sizeof(HeldEvent) * kHeldEventSlots;
  // Small pages: a fresh huge page takes milliseconds to fault in, here inside a handler.
  auto* fresh = static_cast<HeldEvent*>(reserve_pages(kBytes));
  if (fresh == nullptr) {
    return nullptr;
  }
  if (!commit_pages(fresh, 0, kBytes)) {
    unmap_pages(fresh, kBytes);
    return nullptr;
  }
  // Two threads' handlers may map at once: one mapping wins, the other goes back.
  if (!g_pool.compare_exchange_strong(slots, fresh, std::memory_order_acq_rel, std::memory_order_acquire)) {
    unmap_pages(fresh, kBytes);
    return slots;
  }
  return fresh;
}

// A free slot, now being written by this thread; null if the pool is full or has no memory.
HeldEvent* claim_slot() noexcept {
  HeldEvent* slots = pool();
  if (slots == nullptr) {
    return nullptr;
  }
  for (std::size_t i = 0; i < kHeldEventSlots; ++i) {
    std::uint32_t expected = kFree;
    if (slots[i].state.compare_exchange_strong(expected, kWriting, std::memory_order_acquire,
                                               std::memory_order_relaxed)) {
      std::size_t used = g_used.load(std::memory_order_relaxed);
      while (used < i + 1 && !g_used.compare_exchange_weak(used, i + 1, std::memory_order_relaxed)) {
      }
      return &slots[i];
    }
  }
  return nullptr;
}

// Makes the slot visible to this thread's replay: ready, and the thread told to look.
void publish_slot(HeldEvent& slot) noexcept {
  slot.owner.store(this_thread(), std::memory_order_relaxed);
  slot.order.store(g_order.fetch_add(1, std::memory_order_relaxed), std::memory_order_relaxed);
  slot.state.store(kReady, std::memory_order_release);
  t_held_events.fetch_add(1, std::memory_order_relaxed);
}

DHAT_CAPTURE_PATH bool hold(HeldKind kind, std::uintptr_t old_block, std::uintptr_t block, std::size_t bytes,
                            const DeferredRelease& later = {}) noexcept {
  HeldEvent* slot = claim_slot();
  if (slot == nullptr) {
    return false;
  }
  slot->kind = kind;
  slot->old_block = old_block;
  slot->block = block;
  slot->bytes = bytes;
  slot->later = later;
  slot->generation = g_generation.load(std::memory_order_relaxed);
  slot->stack.depth = 0;
  if (kind != HeldKind::free) {
    // From here, trimming the profiler's frames: the first kept is the handler's call.
    capture_stack(slot->stack, state().settings.max_frames);
  }
  publish_slot(*slot);
  return true;
}

}  // namespace

DHAT_CAPTURE_PATH bool hold_alloc(std::uintptr_t block, std::size_t bytes) noexcept {
  return hold(HeldKind::alloc, 0, block, bytes);
}

bool hold_free(std::uintptr_t block, const DeferredRelease& later) noexcept {
  return hold(HeldKind::free, 0, block, 0, later);
}

DHAT_CAPTURE_PATH bool hold_realloc(std::uintptr_t old_block, std::uintptr_t new_block, std::size_t bytes,
                                    const DeferredRelease& later) noexcept {
  return hold(HeldKind::realloc, old_block, new_block, bytes, later);
}

HeldEvent* oldest_held_event_of_this_thread() noexcept {
  HeldEvent* slots = g_pool.load(std::memory_order_acquire);
  if (slots == nullptr) {
    return nullptr;
  }
  // Only events published before the scan began: a handler that runs during the scan may put
  // its events in slots behind the scan and ahead of it, and the one ahead (its free) must not
  // pass for the oldest while the one behind (its allocation) is missed. Everything of this
  // thread's below the horizon was published (its handlers run to their end) before the scan.
  const std::uint64_t horizon = g_order.load(std::memory_order_relaxed);
  HeldEvent* oldest = nullptr;
  std::uint64_t oldest_order = 0;
  // A slot this thread's handler claimed raised g_used before this thread resumed.
  const std::size_t used = g_used.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < used; ++i) {
    HeldEvent& slot = slots[i];
    if (slot.state.load(std::memory_order_acquire) != kReady ||
        slot.owner.load(std::memory_order_relaxed) != this_thread()) {
      continue;
    }
    const std::uint64_t order = slot.order.load(std::memory_order_relaxed);
    if (order >= horizon) {
      continue;
    }
    if (oldest == nullptr || order < oldest_order) {
      oldest = &slot;
      oldest_order = order;
    }
  }
  return oldest;
}

void release_held_event(HeldEvent& event) noexcept {
  event.owner.store(nullptr, std::memory_order_relaxed);
  event.state.store(kFree, std::memory_order_release);
}

}  // namespace dhat::core
