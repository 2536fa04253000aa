// The profiler's own operator new and delete, and its own copies of the libstdc++ code that
// would otherwise allocate with the program's.
//
// Why: a program may replace operator new (to count, to pool, to trace). The profiler's own C++
// code (settings, snapshots, the report) must never call that replacement: it would change what
// the program counts and sees. So every layer under the public API is linked into one sealed
// object (cmake/DhatSealedObject.cmake): its references to the twenty replaceable forms are
// renamed to the `dhat_own_*` functions below, which take the profiler's own pages, and every
// template instance it holds (std::vector, std::string, nlohmann's, backward-cpp's) is made local
// to it, so neither the program's code nor the profiler's can bind to the other's copy.
//
// What remains is code that libstdc++.so holds compiled, which calls operator new through its
// own references (those resolve to the program's replacement). The profiler's code uses three
// such things that allocate: std::string's members, std::ifstream's buffer, and
// std::getline on a std::string (backward-cpp reads /proc/self/cmdline with both). The first two
// are instantiated here, so the sealed object has copies of its own; the third is an explicit
// specialization that only libstdc++.so defines, so the sealed object's calls to it are renamed to
// dhat_own_getline. structure.SealedObjectsNeverCallTheProgramsOperatorNew checks that nothing
// else of that kind is named; integration.ProgramNew.* runs a program whose replacement refuses
// every block it did not make.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <istream>
#include <new>
#include <string>

#include "core/internal_alloc.hpp"

template class std::__cxx11::basic_string<char>;
template class std::basic_filebuf<char>;
template class std::basic_ifstream<char>;

namespace {

// Memory from the profiler's own pages (core/internal_alloc.hpp), never from glibc's malloc: the
// sealed code also runs on the program's threads (write_snapshot, the testing API), and a
// signal handler that interrupted it inside glibc's malloc and allocated there hung the program
// (glibc's arena lock is not re-entrant). A block aligned beyond 16 bytes is carved out of a
// bigger one, whose start is kept in the word before it (its delete is an aligned form too).
constexpr std::size_t kNaturalAlignment = 16;

void* own_new_or_null(std::size_t bytes, std::size_t alignment) noexcept {
  const std::size_t real_bytes = bytes == 0 ? 1 : bytes;
  if (alignment <= kNaturalAlignment) {
    return dhat::core::internal_malloc(real_bytes);
  }
  if (real_bytes > SIZE_MAX - alignment - sizeof(void*)) {
    return nullptr;
  }
  void* raw = dhat::core::internal_malloc(real_bytes + alignment + sizeof(void*));
  if (raw == nullptr) {
    return nullptr;
  }
  const auto start = reinterpret_cast<std::uintptr_t>(raw) + sizeof(void*);
  const std::uintptr_t aligned = (start + alignment - 1) & ~(static_cast<std::uintptr_t>(alignment) - 1);
  reinterpret_cast<void**>(aligned)[-1] = raw;
  return reinterpret_cast<void*>(aligned);
}

// The standard's contract without the program's new-handler (calling it would run program
// code from inside the profiler): a zero-byte request gets a unique block, failure throws.
void* own_new(std::size_t bytes, std::size_t alignment) {
  void* block = own_new_or_null(bytes, alignment);
  if (block == nullptr) {
    throw std::bad_alloc();
  }
  return block;
}

void own_delete(void* block) noexcept { dhat::core::internal_free(block); }

void own_delete_aligned(void* block, std::align_val_t alignment) noexcept {
  if (block != nullptr && static_cast<std::size_t>(alignment) > kNaturalAlignment) {
    block = static_cast<void**>(block)[-1];
  }
  dhat::core::internal_free(block);
}

}  // namespace

// The names are the replaceable forms' mangled names behind `dhat_own_` (the renaming in
// cmake/DhatSealedObject.cmake is exactly that prefix); the parameter lists are the forms' own.
// NOLINTBEGIN(readability-identifier-naming,bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
extern "C" {
#define DHAT_OWN __attribute__((visibility("hidden")))
DHAT_OWN void* dhat_own__Znwm(std::size_t n) { return own_new(n, 0); }
DHAT_OWN void* dhat_own__Znam(std::size_t n) { return own_new(n, 0); }
DHAT_OWN void* dhat_own__ZnwmRKSt9nothrow_t(std::size_t n, const std::nothrow_t&) noexcept {
  return own_new_or_null(n, 0);
}
DHAT_OWN void* dhat_own__ZnamRKSt9nothrow_t(std::size_t n, const std::nothrow_t&) noexcept {
  return own_new_or_null(n, 0);
}
DHAT_OWN void* dhat_own__ZnwmSt11align_val_t(std::size_t n, std::align_val_t a) {
  return own_new(n, static_cast<std::size_t>(a));
}
DHAT_OWN void* dhat_own__ZnamSt11align_val_t(std::size_t n, std::align_val_t a) {
  return own_new(n, static_cast<std::size_t>(a));
}
DHAT_OWN void* dhat_own__ZnwmSt11align_val_tRKSt9nothrow_t(std::size_t n, std::align_val_t a,
                                                           const std::nothrow_t&) noexcept {
  return own_new_or_null(n, static_cast<std::size_t>(a));
}
DHAT_OWN void* dhat_own__ZnamSt11align_val_tRKSt9nothrow_t(std::size_t n, std::align_val_t a,
                                                           const std::nothrow_t&) noexcept {
  return own_new_or_null(n, static_cast<std::size_t>(a));
}
DHAT_OWN void dhat_own__ZdlPv(void* p) noexcept { own_delete(p); }
DHAT_OWN void dhat_own__ZdaPv(void* p) noexcept { own_delete(p); }
DHAT_OWN void dhat_own__ZdlPvm(void* p, std::size_t) noexcept { own_delete(p); }
DHAT_OWN void dhat_own__ZdaPvm(void* p, std::size_t) noexcept { own_delete(p); }
DHAT_OWN void dhat_own__ZdlPvRKSt9nothrow_t(void* p, const std::nothrow_t&) noexcept { own_delete(p); }
DHAT_OWN void dhat_own__ZdaPvRKSt9nothrow_t(void* p, const std::nothrow_t&) noexcept { own_delete(p); }
DHAT_OWN void dhat_own__ZdlPvSt11align_val_t(void* p, std::align_val_t a) noexcept { own_delete_aligned(p, a); }
DHAT_OWN void dhat_own__ZdaPvSt11align_val_t(void* p, std::align_val_t a) noexcept { own_delete_aligned(p, a); }
DHAT_OWN void dhat_own__ZdlPvmSt11align_val_t(void* p, std::size_t, std::align_val_t a) noexcept {
  own_delete_aligned(p, a);
}
DHAT_OWN void dhat_own__ZdaPvmSt11align_val_t(void* p, std::size_t, std::align_val_t a) noexcept {
  own_delete_aligned(p, a);
}
DHAT_OWN void dhat_own__ZdlPvSt11align_val_tRKSt9nothrow_t(void* p, std::align_val_t a,
                                                           const std::nothrow_t&) noexcept {
  own_delete_aligned(p, a);
}
DHAT_OWN void dhat_own__ZdaPvSt11align_val_tRKSt9nothrow_t(void* p, std::align_val_t a,
                                                           const std::nothrow_t&) noexcept {
  own_delete_aligned(p, a);
}

// The name must be a plain symbol (the seal renames references to it), so C linkage for a
// function of C++ types: it is never called from C.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wreturn-type-c-linkage"
#endif
// std::getline(std::istream&, std::string&, char): what libstdc++'s specialization does (clear,
// then extract up to the delimiter, which is consumed and not stored; failbit when nothing was
// extracted, eofbit at the end), on the sealed object's own std::string.
__attribute__((visibility("hidden"))) std::istream& dhat_own_getline(std::istream& in, std::string& line,
                                                                     char delimiter) {
  std::size_t extracted = 0;
  std::ios_base::iostate state = std::ios_base::goodbit;
  const std::istream::sentry ok(in, true);
  if (ok) {
    line.clear();
    std::streambuf* buffer = in.rdbuf();
    for (;;) {
      const int c = buffer->sbumpc();
      if (c == std::char_traits<char>::eof()) {
        state |= std::ios_base::eofbit;
        break;
      }
      ++extracted;
      if (std::char_traits<char>::to_char_type(c) == delimiter) {
        break;
      }
      line.push_back(std::char_traits<char>::to_char_type(c));
    }
  }
  if (extracted == 0) {
    state |= std::ios_base::failbit;
  }
  in.setstate(state);
  return in;
}
}
// NOLINTEND(readability-identifier-naming,bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
