// A program whose operator new is its own pool and whose operator delete refuses every block
// that pool did not make (it aborts, as a real pool allocator would corrupt itself). Every call
// of either appends a letter to $HOSTILE_NEW_LOG: 'n' new, 'd' delete; main adds 'M' when it
// starts, 'C'/'c' around the calls whose strings dhat-cpp hands back to the program, 'E' at its
// end. So anything of the profiler's that reaches the program's operator new shows as a letter
// before 'M', after 'E' or between, and anything freed with the wrong allocator aborts.
//
//   hostile_new_probe PROFILE SNAPSHOT TESTING_PROFILE
// Linked with dhat::dhat it profiles itself; built switched off, it runs under dhat-run.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <dhat/dhat.hpp>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace {

constexpr std::size_t kArena = std::size_t{64} << 20;
alignas(4096) char g_arena[kArena];
std::atomic<std::size_t> g_used{0};
int g_log = -1;

void note(char letter) {
  if (g_log < 0) {
    const char* path = std::getenv("HOSTILE_NEW_LOG");
    if (path == nullptr) {
      return;
    }
    g_log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }
  if (g_log >= 0) {
    static_cast<void>(write(g_log, &letter, 1));
  }
}

void* pool_new(std::size_t bytes, std::size_t alignment) noexcept {
  note('n');
  if (alignment < 16) {
    alignment = 16;
  }
  const std::size_t size = ((bytes == 0 ? 1 : bytes) + alignment - 1) / alignment * alignment + alignment;
  const std::size_t start = g_used.fetch_add(size, std::memory_order_relaxed);
  if (start + size > kArena) {
    return nullptr;
  }
  const auto base = reinterpret_cast<std::uintptr_t>(g_arena + start);
  return reinterpret_cast<void*>((base + alignment - 1) / alignment * alignment);
}

void* pool_new_or_throw(std::size_t bytes, std::size_t alignment) {
  void* block = pool_new(bytes, alignment);
  if (block == nullptr) {
    throw std::bad_alloc();
  }
  return block;
}

void pool_delete(void* block) noexcept {
  if (block == nullptr) {
    return;
  }
  note('d');
  if (static_cast<char*>(block) < g_arena || static_cast<char*>(block) >= g_arena + kArena) {
    static const char message[] = "hostile_new_probe: operator delete of a block its operator new did not make\n";
    static_cast<void>(write(2, message, sizeof message - 1));
    std::abort();
  }
}

}  // namespace

// All twenty replaceable forms: dhat-cpp's own are not linked at all.
// NOLINTBEGIN(misc-new-delete-overloads,hicpp-new-delete-operators,cert-dcl54-cpp)
void* operator new(std::size_t n) { return pool_new_or_throw(n, 0); }
void* operator new[](std::size_t n) { return pool_new_or_throw(n, 0); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return pool_new(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return pool_new(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return pool_new_or_throw(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return pool_new_or_throw(n, static_cast<std::size_t>(a)); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return pool_new(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return pool_new(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { pool_delete(p); }
void operator delete[](void* p) noexcept { pool_delete(p); }
void operator delete(void* p, std::size_t) noexcept { pool_delete(p); }
void operator delete[](void* p, std::size_t) noexcept { pool_delete(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { pool_delete(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { pool_delete(p); }
void operator delete(void* p, std::align_val_t) noexcept { pool_delete(p); }
void operator delete[](void* p, std::align_val_t) noexcept { pool_delete(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { pool_delete(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { pool_delete(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { pool_delete(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { pool_delete(p); }
// NOLINTEND(misc-new-delete-overloads,hicpp-new-delete-operators,cert-dcl54-cpp)

// Code in no module at all (written at run time into anonymous memory, as a JIT would): the
// report names its address through backward-cpp, whose set-up reads /proc/self/cmdline with
// std::ifstream and std::getline. It calls malloc(bytes) and returns the block.
using MallocLike = void* (*)(std::size_t);
MallocLike code_outside_modules() {
  // In the middle of 4 MiB of its own: libdw counts an anonymous page right after a library's
  // last segment as that library's (its .bss), and would name the library.
  constexpr std::size_t kReserve = std::size_t{4} << 20;
  void* reserved = mmap(nullptr, kReserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (reserved == MAP_FAILED) {
    return nullptr;
  }
  void* page = static_cast<char*>(reserved) + kReserve / 2;
  if (mprotect(page, 4096, PROT_READ | PROT_WRITE) != 0) {
    return nullptr;
  }
  auto* code = static_cast<unsigned char*>(page);
  const auto target = reinterpret_cast<std::uint64_t>(&std::malloc);
#if defined(__x86_64__)
  // sub rsp,8; movabs rax,target; call rax; add rsp,8; ret
  const unsigned char head[] = {0x48, 0x83, 0xEC, 0x08, 0x48, 0xB8};
  const unsigned char tail[] = {0xFF, 0xD0, 0x48, 0x83, 0xC4, 0x08, 0xC3};
  std::memcpy(code, head, sizeof head);
  std::memcpy(code + sizeof head, &target, sizeof target);
  std::memcpy(code + sizeof head + sizeof target, tail, sizeof tail);
#elif defined(__aarch64__)
  // stp x29,x30,[sp,-16]!; mov x29,sp; ldr x16,=target; blr x16; ldp x29,x30,[sp],16; ret
  const std::uint32_t words[] = {0xA9BF7BFD, 0x910003FD, 0x58000090, 0xD63F0200, 0xA8C17BFD, 0xD65F03C0};
  std::memcpy(code, words, sizeof words);
  std::memcpy(code + sizeof words, &target, sizeof target);
#else
#error "code_outside_modules: x86-64 and aarch64 only"
#endif
  __builtin___clear_cache(reinterpret_cast<char*>(code), reinterpret_cast<char*>(code) + 64);
  if (mprotect(page, 4096, PROT_READ | PROT_EXEC) != 0) {
    return nullptr;
  }
  return reinterpret_cast<MallocLike>(page);
}

extern "C" __attribute__((noinline)) void* probe_malloc_site(std::size_t bytes) { return std::malloc(bytes); }

int main(int argc, char** argv) {
  if (argc != 4) {
    return 2;
  }
  note('M');
  {
    dhat::Profiler profiler = dhat::Profiler::builder().file_name(argv[1]).build();
    int* one = new int(1);
    int* eight = new int[8];
    delete one;
    delete[] eight;
    for (int i = 0; i < 3; ++i) {
      std::free(probe_malloc_site(64));
    }
    const MallocLike outside = code_outside_modules();
    if (outside == nullptr) {
      return 4;
    }
    std::free(outside(40));
    if (!dhat::write_snapshot(argv[2]) && DHAT_ENABLED) {
      return 3;
    }
  }  // the profile is written here (linked), with no call of this program's operator new
  note('C');
  {
    // Strings the program gets from dhat-cpp: made with the program's operator new, freed here.
    dhat::Profiler testing = dhat::Profiler::builder().file_name(argv[3]).testing().build();
    std::string refusal;
    const std::string saved = dhat::detail::save_profile_for_failed_assertion(&refusal);
    const dhat::AllocationCheck check =
        dhat::check_allocations([] { std::free(probe_malloc_site(8)); }, dhat::AllocationLimits{0, UINT64_MAX, 2});
    std::printf("saved=%d refused=%d check_ok=%d report=%d\n", static_cast<int>(!saved.empty()),
                static_cast<int>(!refusal.empty()), static_cast<int>(check.ok),
                static_cast<int>(!check.report.empty()));
  }
  note('c');
  note('E');
  return 0;
}
