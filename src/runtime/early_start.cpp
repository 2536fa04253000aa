#include "runtime/early_start.hpp"

#include <dlfcn.h>
#include <link.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/stack_capture.hpp"

namespace dhat::runtime {

namespace {

// The loaded objects, as far as deciding who needs libstdc++ goes: called inside the process's
// first allocation, so fixed storage and no allocation (and only then: one thread).
struct LoadedObject {
  const char* base_name;  // the file name without its directory: what DT_NEEDED entries name
  std::uintptr_t address;
  const ElfW(Dyn) * dynamic;
  bool needed;  // by the program, directly or through what it needs
};
constexpr std::size_t kMaxObjects = 1024;
struct LoadedObjects {
  LoadedObject list[kMaxObjects];
  std::size_t count = 0;
  std::uintptr_t libstdcxx_begin = 0, libstdcxx_end = 0;  // its code
};
LoadedObjects g_objects;

const char* base_name_of(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash == nullptr ? path : slash + 1;
}

int collect_object(dl_phdr_info* info, std::size_t, void* data) noexcept {
  auto* objects = static_cast<LoadedObjects*>(data);
  if (objects->count == kMaxObjects) {
    return 1;
  }
  LoadedObject& object = objects->list[objects->count++];
  object =
      LoadedObject{base_name_of(info->dlpi_name == nullptr ? "" : info->dlpi_name), info->dlpi_addr, nullptr, false};
  const bool is_libstdcxx = std::strncmp(object.base_name, "libstdc++.so", 12) == 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (is_libstdcxx && segment.p_type == PT_LOAD && (segment.p_flags & PF_X) != 0) {
      objects->libstdcxx_begin = info->dlpi_addr + segment.p_vaddr;
      objects->libstdcxx_end = objects->libstdcxx_begin + segment.p_memsz;
    }
    if (segment.p_type == PT_DYNAMIC) {
      object.dynamic = reinterpret_cast<const ElfW(Dyn)*>(info->dlpi_addr + segment.p_vaddr);
    }
  }
  return 0;
}

// The names `object` needs (DT_NEEDED), each passed to `visit`.
template <typename Visit>
void for_each_needed(const LoadedObject& object, Visit&& visit) {
  if (object.dynamic == nullptr) {
    return;
  }
  std::uintptr_t strings = 0;
  for (const ElfW(Dyn)* entry = object.dynamic; entry->d_tag != DT_NULL; ++entry) {
    if (entry->d_tag == DT_STRTAB) {
      strings = entry->d_un.d_ptr;
    }
  }
  if (strings == 0) {
    return;
  }
  if (strings < object.address) {
    strings += object.address;  // the loader relocates it in place, except where it does not (vDSO)
  }
  for (const ElfW(Dyn)* entry = object.dynamic; entry->d_tag != DT_NULL; ++entry) {
    if (entry->d_tag == DT_NEEDED) {
      visit(reinterpret_cast<const char*>(strings + entry->d_un.d_val));
    }
  }
}

// Marks what the program needs: the main program (the first object), every LD_PRELOAD library but
// the profiler's, and, repeatedly, what those need. What only the profiler's library brings in
// (libstdc++ in a C program; libdw, libelf, a sanitizer's runtime) stays unmarked.
void mark_what_the_program_needs(LoadedObjects& objects, std::uintptr_t self) {
  if (objects.count == 0) {
    return;
  }
  objects.list[0].needed = true;
  if (const char* preload = std::getenv("LD_PRELOAD")) {
    for (std::size_t i = 1; i < objects.count; ++i) {
      LoadedObject& object = objects.list[i];
      const char* at = std::strstr(preload, object.base_name);
      object.needed = object.address != self && object.base_name[0] != '\0' && at != nullptr;
    }
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t i = 0; i < objects.count; ++i) {
      if (!objects.list[i].needed || objects.list[i].address == self) {
        continue;
      }
      for_each_needed(objects.list[i], [&](const char* name) {
        for (std::size_t j = 0; j < objects.count; ++j) {
          LoadedObject& other = objects.list[j];
          if (!other.needed && std::strcmp(other.base_name, name) == 0) {
            other.needed = true;
            changed = true;
          }
        }
      });
    }
  }
}

}  // namespace

bool is_profilers_own_libstdcxx_starting() noexcept {
  Dl_info self{};
  if (dladdr(reinterpret_cast<const void*>(&collect_object), &self) == 0) {
    return false;
  }
  LoadedObjects& objects = g_objects;
  objects.count = 0;
  objects.libstdcxx_begin = objects.libstdcxx_end = 0;
  dl_iterate_phdr(&collect_object, &objects);
  if (objects.libstdcxx_begin == objects.libstdcxx_end) {
    return false;  // no libstdc++ at all
  }
  mark_what_the_program_needs(objects, reinterpret_cast<std::uintptr_t>(self.dli_fbase));
  for (std::size_t i = 0; i < objects.count; ++i) {
    if (objects.list[i].needed && std::strncmp(objects.list[i].base_name, "libstdc++.so", 12) == 0) {
      return false;  // the program's own
    }
  }
  core::RawStack stack;
  core::capture_stack(stack, 16);
  for (std::uint32_t i = 0; i < stack.depth; ++i) {
    if (stack.frames[i] - objects.libstdcxx_begin < objects.libstdcxx_end - objects.libstdcxx_begin) {
      return true;
    }
  }
  return false;
}

}  // namespace dhat::runtime
