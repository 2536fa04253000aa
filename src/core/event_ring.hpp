// A thread's ring of heap events, stamped with the cycle counter (core/arch.hpp), waiting to be applied to
// the profile in time order by whichever thread holds the recorder's lock next (thread_merge.hpp).
//
// Contract: one producer (the owning thread) and one consumer at a time (a thread holding the
// recorder's lock). The producer never waits except when its ring is full. The consumer
// applies an event only once no thread can still publish an earlier one: a thread marks itself
// "in flight" (with a reading no later than its next stamp) before it reads the counter, and
// the consumer reads the counter before it reads the marks (see `stamp_and_publish`). So the
// events of all threads come out in one order that every thread's own order, and every
// happens-before between threads (a free, then the malloc that reuses the address elsewhere),
// agrees with. This needs a counter that runs at one rate and agrees across cores (x86-64: an
// invariant TSC the kernel trusts; AArch64: the generic timer, by definition).
//
// Why: with threads, one shared lock per event cost 18x the plain run on four threads (each
// event moved the lock's cache line and the tables' lines between cores). A ring event costs
// the producer a handful of stores to lines only it writes, and the consumer applies events in
// batches.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/arch.hpp"  // the cycle counter
#include "core/heap_event.hpp"
#include "core/internal_check.hpp"
#include "core/internal_pages.hpp"

namespace dhat::core {

// A heap event with its TSC stamp, as the ring holds it.
struct StampedEvent {
  std::uint64_t tsc = 0;
  HeapEvent event;
};
static_assert(sizeof(StampedEvent) == 32, "two events per cache line");

// A counter reading taken only after every earlier instruction (a store of the in-flight mark
// included) has completed.
inline std::uint64_t tsc_after_earlier() noexcept { return counter_after_earlier(); }

// A counter reading that completes before any later load starts.
inline std::uint64_t tsc_before_later() noexcept { return counter_before_later(); }

class EventRing {
 public:
  static constexpr std::size_t kCapacity = 8192;
  static constexpr std::uint64_t kIdle = ~std::uint64_t{0};

  // Every cross-thread hand-off below is an atomic with the ordering it needs by the C++ memory
  // model (not by x86's stronger one: AArch64 runs this code too), the reason beside it. The one
  // thing the model cannot say, how a counter reading relates to memory, is in the fenced
  // readings of core/arch.hpp (counter_after_earlier, counter_before_later) and explained at
  // stamp_and_publish.

  // ---- Producer (the owning thread) ----
  bool full() noexcept {
    // Relaxed: head_ is written by this thread only.
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    if (head - cached_tail_ < kCapacity) {
      return false;
    }
    // Acquire, pairing with consume_until's release: the consumer's reads of the slots it freed
    // happen before this thread writes them again.
    cached_tail_ = tail_.load(std::memory_order_acquire);
    return head - cached_tail_ >= kCapacity;
  }

  // Stamps `event` with the TSC and publishes it. Requires !full().
  void stamp_and_publish(const HeapEvent& event) noexcept {
    // The mark is this thread's previous stamp: no later than the one about to be taken. It
    // must be visible to a consumer that reads its own counter before this stamp. Either the
    // mark is stored with a full barrier (an exchange), which costs this thread a drain of its
    // store buffer on every event; or the consumer runs a process-wide barrier (membarrier,
    // see process_barrier.hpp) between reading its counter and reading the marks, and a plain
    // store suffices: the barrier interrupts this thread at one instruction, precisely; a stamp
    // read before that point comes with a mark the barrier made visible, and one after it is
    // later than the consumer's reading.
    // (The fenced counter reading below then waits for this store to be visible to every core:
    // x86-64's LFENCE after the exchange's locked instruction, AArch64's DSB ISH.)
    if (fenced_marks_) {
      in_flight_.exchange(last_tsc_, std::memory_order_seq_cst);
    } else {
      in_flight_.store(last_tsc_, std::memory_order_release);
      std::atomic_signal_fence(std::memory_order_seq_cst);
    }
    // Fenced either way: the stamp must follow every load before it, or a thread that frees a
    // block handed over by another (a load saw it) could stamp its free before the allocation.
    const std::uint64_t tsc = tsc_after_earlier();
    last_tsc_ = tsc;
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    // The producer checked full() first, or made room (the consumer moved tail_ on, which
    // cached_tail_ learns at the next full()): the ring's real tail is what bounds the head.
    DHAT_INTERNAL_CHECK(head - tail_.load(std::memory_order_acquire) < kCapacity);
    StampedEvent& slot = events_.at[head % kCapacity];
    slot.tsc = tsc;
    slot.event = event;
    // The consumer last read the slots ahead: claim them for writing before they are needed.
    prefetch_for_write(&events_.at[(head + kPrefetchAhead) % kCapacity]);
    // Release, pairing with published_end's acquire: the slot's contents are visible to a
    // consumer that sees the new head.
    head_.store(head + 1, std::memory_order_release);
    // Release, pairing with in_flight_mark's acquire: a consumer that sees the mark cleared sees
    // the head that was stored before it (so "not in flight" always means "published").
    in_flight_.store(kIdle, std::memory_order_release);
  }

  // ---- Consumer (with the recorder's lock held) ----
  // The mark first, then the published events (the order the contract relies on): both acquire,
  // so the head is read after the mark (pairing with the producer's release stores above).
  std::uint64_t in_flight_mark() const noexcept { return in_flight_.load(std::memory_order_acquire); }
  std::uint64_t published_end() const noexcept { return head_.load(std::memory_order_acquire); }
  // Relaxed: tail_ is written by consumers only, and consumers hold the recorder's lock.
  std::uint64_t consumed_end() const noexcept { return tail_.load(std::memory_order_relaxed); }
  const StampedEvent& event_at(std::uint64_t position) const noexcept { return events_.at[position % kCapacity]; }
  void consume_until(std::uint64_t position) noexcept {
    DHAT_INTERNAL_CHECK(position >= tail_.load(std::memory_order_relaxed) &&
                        position <= head_.load(std::memory_order_acquire));
    // Release, pairing with full()'s acquire: the slots read up to `position` may be rewritten.
    tail_.store(position, std::memory_order_release);
  }

  // The slots' memory back to the kernel (consumer side, the owner gone, the ring fully consumed).
  void release_slots() noexcept { release_pages_within(&events_, sizeof(events_)); }

  // Back to an empty ring for a new owner (consumer side, ring fully consumed).
  // `fenced_marks`: whether consumers go without the process-wide barrier.
  // Relaxed stores: made by the claiming thread with the recorder's lock held, which every
  // consumer takes (acquire) before it reads them.
  void reset_for_new_owner(bool fenced_marks) noexcept {
    fenced_marks_ = fenced_marks;
    head_.store(0, std::memory_order_relaxed);
    tail_.store(0, std::memory_order_relaxed);
    in_flight_.store(kIdle, std::memory_order_relaxed);
    cached_tail_ = 0;
    last_tsc_ = 0;
  }

 private:
  // Written by the producer on every event, read by the consumer.
  alignas(kCacheLineBytes) std::atomic<std::uint64_t> in_flight_{kIdle};
  std::atomic<std::uint64_t> head_{0};
  std::uint64_t cached_tail_ = 0;  // producer's copy of tail_, so it rarely reads the consumer's line
  std::uint64_t last_tsc_ = 0;
  bool fenced_marks_ = true;
  static constexpr std::size_t kPrefetchAhead = 8;
  // Written by the consumer.
  alignas(kCacheLineBytes) std::atomic<std::uint64_t> tail_{0};
  // Not initialized: the ring lives in fresh zeroed pages (thread_merge.cpp), and writing its
  // 256 KiB at construction made every thread hold all of it (292 KiB of RSS per thread, 1,000
  // parked threads: 11 MB -> 304 MB). Untouched, a thread holds the pages its events reached.
  union Slots {
    StampedEvent at[kCapacity];
    Slots() noexcept {}  // NOLINT(modernize-use-equals-default): `= default` would initialize
  };
  alignas(kCacheLineBytes) Slots events_;
};

}  // namespace dhat::core
