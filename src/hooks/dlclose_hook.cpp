// dlclose: resolve the frames of the library being unloaded first (runtime/library_unload.hpp),
// then unload it with the C library's dlclose.
#include <dlfcn.h>

#include "core/recorder.hpp"
#include "runtime/library_unload.hpp"

namespace {

using DlcloseFn = int (*)(void*);

DlcloseFn real_dlclose() {
  static DlcloseFn real = reinterpret_cast<DlcloseFn>(dlsym(RTLD_NEXT, "dlclose"));
  return real;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int dlclose(void* handle) noexcept {
  if (dhat::core::is_recording() || dhat::core::is_ad_hoc_run()) {
    dhat::runtime::before_library_unload(handle);
  }
  const DlcloseFn real = real_dlclose();
  if (real == nullptr) {
    return -1;
  }
  dhat::runtime::set_inside_dlclose(true);
  const int result = real(handle);
  dhat::runtime::set_inside_dlclose(false);
  return result;
}
