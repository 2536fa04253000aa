// The symbol that makes a static link take the hooks.
//
// Contract: malloc_hooks.cpp defines `DHAT_HOOKS_LINK_ANCHOR`; the `dhat` target tells every
// program that links it to treat that name as undefined (`-Wl,--undefined=...`, an interface
// link option of dhat::dhat, installed and exported with it), so the linker takes the hooks'
// object out of libdhat.a even when the program's own code never names malloc.
//
// Why not a call from the Profiler: that made the public API's code include the hooks' internals
// only to be linked with them. The anchor keeps the API, the runtime and the hooks apart, and
// also holds for a program that links dhat::dhat but constructs its Profiler in a shared library.
#pragma once

#define DHAT_HOOKS_LINK_ANCHOR dhat_hooks_link_anchor
#define DHAT_LINK_ANCHOR_VISIBILITY __attribute__((visibility("default"), used))
