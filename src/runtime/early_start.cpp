#include "runtime/early_start.hpp"

#include <dlfcn.h>
#include <link.h>

#include <cstdint>
#include <cstring>

#include "core/stack_capture.hpp"

namespace dhat::runtime {

namespace {

// The code range of the loaded libstdc++.so.*, and whether an object other than the profiler's
// library needs it (DT_NEEDED).
struct LibstdcxxUse {
  std::uintptr_t self = 0;  // the profiler's library's load address
  std::uintptr_t begin = 0, end = 0;
  bool needed_by_another = false;
};

int look_at_object(dl_phdr_info* info, std::size_t, void* data) noexcept {
  auto* use = static_cast<LibstdcxxUse*>(data);
  const char* name = info->dlpi_name == nullptr ? "" : info->dlpi_name;
  const char* base = std::strrchr(name, '/');
  base = base == nullptr ? name : base + 1;
  const bool is_libstdcxx = std::strncmp(base, "libstdc++.so", 12) == 0;
  const ElfW(Dyn)* dynamic = nullptr;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (is_libstdcxx && segment.p_type == PT_LOAD && (segment.p_flags & PF_X) != 0) {
      use->begin = info->dlpi_addr + segment.p_vaddr;
      use->end = use->begin + segment.p_memsz;
    }
    if (segment.p_type == PT_DYNAMIC) {
      dynamic = reinterpret_cast<const ElfW(Dyn)*>(info->dlpi_addr + segment.p_vaddr);
    }
  }
  if (is_libstdcxx || info->dlpi_addr == use->self || dynamic == nullptr || use->needed_by_another) {
    return 0;
  }
  std::uintptr_t strings = 0;
  for (const ElfW(Dyn)* entry = dynamic; entry->d_tag != DT_NULL; ++entry) {
    if (entry->d_tag == DT_STRTAB) {
      strings = entry->d_un.d_ptr;
    }
  }
  if (strings == 0) {
    return 0;
  }
  if (strings < info->dlpi_addr) {
    strings += info->dlpi_addr;  // the loader relocates it in place, except where it does not (vDSO)
  }
  for (const ElfW(Dyn)* entry = dynamic; entry->d_tag != DT_NULL; ++entry) {
    if (entry->d_tag == DT_NEEDED &&
        std::strncmp(reinterpret_cast<const char*>(strings + entry->d_un.d_val), "libstdc++.so", 12) == 0) {
      use->needed_by_another = true;
    }
  }
  return 0;
}

}  // namespace

bool is_profilers_own_libstdcxx_starting() noexcept {
  Dl_info self{};
  LibstdcxxUse use;
  if (dladdr(reinterpret_cast<const void*>(&look_at_object), &self) != 0) {
    use.self = reinterpret_cast<std::uintptr_t>(self.dli_fbase);
  }
  dl_iterate_phdr(&look_at_object, &use);
  if (use.needed_by_another || use.begin == use.end) {
    return false;
  }
  core::RawStack stack;
  core::capture_stack(stack, 16);
  for (std::uint32_t i = 0; i < stack.depth; ++i) {
    if (stack.frames[i] - use.begin < use.end - use.begin) {
      return true;
    }
  }
  return false;
}

}  // namespace dhat::runtime
