/* A tiny allocator for tests, safe to enter from a signal handler: one atomic bump pointer over a
 * 1 GiB reservation, a header per block with its size, frees that keep nothing (the memory is
 * never reused, so never handed out twice). It defines the C allocation functions and not glibc's
 * __libc_* names, so the hooks forward to it as to any other allocator (the next definitions,
 * inside an AllocatorCall).
 *
 * Test controls (dlsym'd by the probe): bump_raise_in_malloc(signal) makes every call of its
 * malloc raise `signal` at its own thread before it allocates (0: none), so that the handler runs
 * inside the allocator; bump_calloc calls malloc through the PLT, as an allocator that calls its
 * own exported names does (the hooks must not record that call a second time).
 * bump_reuse_in_free(signal): from then on free keeps each block on a LIFO list and malloc of the
 * same size takes the newest back first (as glibc's tcache does), and free raises `signal` once
 * the block is on the list, so that a handler's malloc of that size is handed the address the
 * program has just freed (single-threaded use). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define RESERVED ((size_t)1 << 30)
#define HEADER 16

static _Atomic(uintptr_t) next_free;
static _Atomic(uintptr_t) limit;
static _Atomic int raise_signal;
/* volatile: the compiler knows raise() cannot see a static, and would drop the stores as dead */
static _Thread_local volatile int inside_raise __attribute__((tls_model("initial-exec")));

static _Atomic int reuse_signal;
static void* _Atomic freed; /* the LIFO list, linked through the blocks */

void bump_raise_in_malloc(int signal) { atomic_store(&raise_signal, signal); }
void bump_reuse_in_free(int signal) { atomic_store(&reuse_signal, signal); }

static void raise_once(int signal) {
  if (signal != 0 && !inside_raise) {
    inside_raise = 1; /* what the handler allocates or frees does not raise again */
    raise(signal);
    inside_raise = 0;
  }
}

static void* take(size_t alignment, size_t bytes) {
  if (atomic_load(&limit) == 0) {
    void* area = mmap(NULL, RESERVED, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (area == MAP_FAILED) {
      errno = ENOMEM;
      return NULL;
    }
    uintptr_t expected = 0;
    if (atomic_compare_exchange_strong(&next_free, &expected, (uintptr_t)area)) {
      atomic_store(&limit, (uintptr_t)area + RESERVED);
    } else {
      munmap(area, RESERVED);
      while (atomic_load(&limit) == 0) {
      }
    }
  }
  if (alignment < HEADER) {
    alignment = HEADER;
  }
  if (bytes > RESERVED) {
    errno = ENOMEM;
    return NULL;
  }
  const size_t span = HEADER + bytes + alignment;
  const uintptr_t start = atomic_fetch_add(&next_free, span);
  if (start + span > atomic_load(&limit)) {
    errno = ENOMEM;
    return NULL;
  }
  const uintptr_t block = (start + HEADER + alignment - 1) & ~(uintptr_t)(alignment - 1);
  ((size_t*)block)[-1] = bytes;
  return (void*)block;
}

static size_t size_of(const void* block) { return ((const size_t*)block)[-1]; }

void* malloc(size_t bytes) {
  raise_once(atomic_load(&raise_signal));
  void* newest = atomic_load(&freed);
  if (newest != NULL && size_of(newest) == bytes) {
    atomic_store(&freed, *(void**)newest);
    return newest;
  }
  return take(HEADER, bytes);
}

void free(void* block) {
  const int signal = atomic_load(&reuse_signal);
  if (block == NULL || signal == 0) {
    return;
  }
  *(void**)block = atomic_load(&freed);
  atomic_store(&freed, block);
  raise_once(signal);
}

void* calloc(size_t count, size_t size) {
  size_t bytes = 0;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return NULL;
  }
  return malloc(bytes); /* through the PLT: fresh pages are zero, and never reused */
}

void* realloc(void* block, size_t bytes) {
  void* moved = take(HEADER, bytes);
  if (moved != NULL && block != NULL) {
    const size_t old = size_of(block);
    memcpy(moved, block, old < bytes ? old : bytes);
  }
  return moved;
}

void* memalign(size_t alignment, size_t bytes) { return take(alignment, bytes); }
void* aligned_alloc(size_t alignment, size_t bytes) { return take(alignment, bytes); }
int posix_memalign(void** out, size_t alignment, size_t bytes) {
  void* block = take(alignment, bytes);
  if (block == NULL) {
    return ENOMEM;
  }
  *out = block;
  return 0;
}
void* valloc(size_t bytes) { return take(4096, bytes); }
void* pvalloc(size_t bytes) { return take(4096, (bytes + 4095) & ~(size_t)4095); }
size_t malloc_usable_size(void* block) { return block == NULL ? 0 : size_of(block); }
