// What differs between the processors the profiler runs on, in one place per architecture:
// arch_x86_64.hpp and arch_aarch64.hpp, chosen here at compile time. Everything else in the
// profiler is written once, against these names.
//
// Contract: each architecture header defines, in namespace dhat::core,
//  - kCacheLineBytes: the line size the hot tables align to (false sharing);
//  - kDwarfFp, kDwarfSp, kDwarfReturnAddress: DWARF register numbers of the frame pointer, the
//    stack pointer and the return-address column; kSignedReturnAddresses: whether CFI may say
//    that a return address is signed (AArch64 pointer authentication);
//  - EntryFrame, DHAT_ENTRY_FRAME() and caller_frame_of(): how a hook hands the walker the frame
//    of the function that called it (stack_capture.hpp);
//  - strip_return_address(): a return address as code address (AArch64: without its signature);
//  - the cycle counter: read_counter(), counter_after_earlier() (a reading taken after every
//    earlier load and store has completed), counter_before_later() (a reading complete before any
//    later load starts), counter_is_invariant() (one rate, whatever the core's power state) and
//    counters_agree_across_cpus() (readings of different CPUs may be compared) and
//    counter_orders_hand_offs() (its ticks are fine enough to order threads' dependent events);
//  - prefetch_for_write() and spin_pause().
// Any other processor gets a compile-time error naming the supported ones (and cmake/
// DhatPlatform.cmake says the same at configure time).
#pragma once

#if defined(__x86_64__)
#include "core/arch_x86_64.hpp"
#elif defined(__aarch64__)
#include "core/arch_aarch64.hpp"
#else
#error "dhat-cpp's profiler supports Linux on x86-64 and AArch64 (configure with -DDHAT_ENABLE=OFF elsewhere)"
#endif
