// What a preloaded profiler needs to know at the process's first allocation, where it starts
// recording (src/preload/preload_entry.cpp).
//
// Contract: callable from inside an allocation function before any constructor has run (no
// allocation of its own through the hooks; the caller holds a ReentrancyGuard anyway).
#pragma once

namespace dhat::runtime {

// Whether the allocation being made is libstdc++'s own start-up (its exception pool) in a process
// where nothing but the profiler's library needs libstdc++: the preload library is C++, so in a C
// program libstdc++ is loaded for it alone, and what it allocates as it starts is the profiler's,
// not the program's. Looked at on the stack: it passes through libstdc++'s code.
[[nodiscard]] bool is_profilers_own_libstdcxx_starting() noexcept;

}  // namespace dhat::runtime
