// Threads of the profiler's own (the snapshot writer, the report's thread).
//
// Contract: `start_profiler_thread` is pthread_create with every asynchronous signal blocked in
// the new thread (the faults a thread raises itself, SIGSEGV SIGBUS SIGFPE SIGILL SIGTRAP
// SIGSYS, stay as they were), and the caller's mask unchanged. So a process-directed signal is
// only ever taken by a thread of the program, as without the profiler: one that every program
// thread blocks stays pending, and no handler of the program runs on the profiler's thread.
#pragma once

#include <pthread.h>

namespace dhat::runtime {

// pthread_create's result.
[[nodiscard]] int start_profiler_thread(pthread_t* thread, const pthread_attr_t* attributes, void* (*body)(void*),
                                        void* argument) noexcept;

}  // namespace dhat::runtime
