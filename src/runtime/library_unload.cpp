#include "runtime/library_unload.hpp"

#include <dlfcn.h>
#include <link.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/recorder.hpp"
#include "core/signals_blocked.hpp"
#include "report/dwarf_symbolizer.hpp"
#include "report/unloaded_code.hpp"

namespace dhat::runtime {

namespace {

struct Range {
  std::uintptr_t base = 0;  // the module's load bias, to find it among the loaded objects
  std::uintptr_t begin = ~std::uintptr_t{0};
  std::uintptr_t end = 0;
};

int find_segments(dl_phdr_info* info, std::size_t, void* context) {
  auto* range = static_cast<Range*>(context);
  if (info->dlpi_addr != range->base || info->dlpi_name == nullptr || info->dlpi_name[0] == '\0') {
    return 0;
  }
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type == PT_LOAD && (segment.p_flags & PF_X) != 0) {
      range->begin = std::min<std::uintptr_t>(range->begin, info->dlpi_addr + segment.p_vaddr);
      range->end = std::max<std::uintptr_t>(range->end, info->dlpi_addr + segment.p_vaddr + segment.p_memsz);
    }
  }
  return 1;
}

struct Collected {
  Range range;
  std::vector<std::uintptr_t> addresses;
};

void collect_addresses(const core::HeapModel&, const core::StackTable& stacks, const core::Timeline&,
                       const core::RssTimeline&, std::uint64_t, void* context) {
  auto* out = static_cast<Collected*>(context);
  for (core::PpId pp = 0; pp < stacks.size(); ++pp) {
    const std::uintptr_t* frames = stacks.frames(pp);
    for (std::uint32_t i = 0; i < stacks.depth(pp); ++i) {
      if (frames[i] >= out->range.begin && frames[i] < out->range.end) {
        out->addresses.push_back(frames[i]);
      }
    }
  }
}

}  // namespace

void before_library_unload(void* handle) noexcept {
  if (handle == nullptr || (!core::is_recording() && !core::is_ad_hoc_run())) {
    return;
  }
  // The library's frames are symbolized here, on the thread that calls dlclose (the loader's
  // lock it holds keeps other threads out): its signals are blocked meanwhile, so that no
  // handler's allocation is taken for the symbolizer's (signals_blocked.hpp).
  const core::OwnLibcCall not_recorded;
  try {
    link_map* map = nullptr;
    if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || map == nullptr) {
      return;
    }
    Collected collected;
    collected.range.base = map->l_addr;
    dl_iterate_phdr(&find_segments, &collected.range);
    if (collected.range.begin >= collected.range.end) {
      return;
    }
    if (!core::read_state(&collect_addresses, &collected)) {
      return;  // the run ended meanwhile
    }
    std::sort(collected.addresses.begin(), collected.addresses.end());
    collected.addresses.erase(std::unique(collected.addresses.begin(), collected.addresses.end()),
                              collected.addresses.end());
    if (collected.addresses.empty()) {
      return;
    }
    report::DwarfSymbolizer symbolizer;  // reads the process's modules now, the library still mapped
    for (std::uintptr_t address : collected.addresses) {
      report::remember_unloaded_frames(address, symbolizer.resolve(address));
    }
  } catch (...) {
    // Frames of this library will show as unknown; the run itself goes on.
  }
}

namespace {
thread_local int t_dlclose_depth = 0;  // dlclose may nest: a destructor can dlclose another library
}  // namespace

void set_inside_dlclose(bool inside) noexcept { t_dlclose_depth += inside ? 1 : -1; }
bool inside_dlclose() noexcept { return t_dlclose_depth > 0; }

}  // namespace dhat::runtime
