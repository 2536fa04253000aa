# What the profiler library needs, found once for every directory: Threads, nlohmann_json,
# backward-cpp's header, and libdw/libelf as imported targets made from pkg-config's answer
# (dhat::libdw, dhat::libelf: neither this build nor a consumer of the installed package relies on
# them being on the default linker path). cmake/dhatConfig.cmake.in finds the same again for find_package(dhat).
find_package(Threads REQUIRED)
find_path(DHAT_BACKWARD_INCLUDE_DIR backward.hpp)
if(NOT DHAT_BACKWARD_INCLUDE_DIR)
  message(FATAL_ERROR "dhat: backward.hpp not found (Debian: apt-get install libbackward-cpp-dev)")
endif()
include(DhatPkgModule)
dhat_import_pkg_module(libdw dhat::libdw GLOBAL)
dhat_import_pkg_module(libelf dhat::libelf GLOBAL)
if(NOT dhat__libdw_FOUND OR NOT dhat__libelf_FOUND)
  message(FATAL_ERROR "dhat: libdw and libelf not found by pkg-config "
    "(Debian: apt-get install pkgconf libdw-dev libelf-dev)")
endif()
