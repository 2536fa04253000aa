// A program with its own plain and aligned operator new (counting its calls), linked with
// dhat::dhat:  own_new_probe PROFILE.json   prints "plain=N aligned=M" for the calls in main.
// The forms it does not define come from dhat-cpp and, as libstdc++'s would, call its own.
#include <dhat/dhat.hpp>

#include <cstdio>
#include <cstdlib>
#include <new>

namespace {
int g_plain = 0;
int g_aligned = 0;
}  // namespace

extern "C" __attribute__((noinline)) void* program_new_site(std::size_t n) { return std::malloc(n); }
extern "C" __attribute__((noinline)) void* program_aligned_site(std::size_t alignment, std::size_t n) {
  return std::aligned_alloc(alignment, (n + alignment - 1) / alignment * alignment);
}

// NOLINTBEGIN(misc-new-delete-overloads,hicpp-new-delete-operators,cert-dcl54-cpp)
void* operator new(std::size_t n) {
  ++g_plain;
  void* block = program_new_site(n == 0 ? 1 : n);
  if (block == nullptr) {
    throw std::bad_alloc();
  }
  return block;
}
void* operator new(std::size_t n, std::align_val_t alignment) {
  ++g_aligned;
  void* block = program_aligned_site(static_cast<std::size_t>(alignment), n == 0 ? 1 : n);
  if (block == nullptr) {
    throw std::bad_alloc();
  }
  return block;
}
// NOLINTEND(misc-new-delete-overloads,hicpp-new-delete-operators,cert-dcl54-cpp)

struct alignas(64) Wide {
  char bytes[128];
};

int main(int argc, char** argv) {
  if (argc != 2) {
    return 2;
  }
  dhat::Profiler profiler = dhat::Profiler::builder().file_name(argv[1]).build();
  g_plain = 0;
  g_aligned = 0;
  int* one = new int(5);
  int* four = new int[4];
  int* maybe = new (std::nothrow) int(7);
  Wide* wide = new Wide;
  Wide* wides = new Wide[2];
  const int plain = g_plain;
  const int aligned = g_aligned;
  delete one;
  delete[] four;
  delete maybe;
  delete wide;
  delete[] wides;
  std::printf("plain=%d aligned=%d\n", plain, aligned);
  return 0;
}
