# dhat_import_pkg_module(MODULE TARGET [GLOBAL]): an imported target for a pkg-config module,
# linking it by library name (-ldw -lelf, with pkg-config's -L directories), not by the full
# path of its shared object, so that a `-static` program (README: "Fully static programs") links
# the same target against the static archives. Sets TARGET_FOUND in the caller. Used by this
# build and, installed next to dhatConfig.cmake, by find_package(dhat).
function(dhat_import_pkg_module module target)
  set(found_var "${target}_FOUND")
  string(MAKE_C_IDENTIFIER "${found_var}" found_var)
  if(TARGET ${target})
    set(${found_var} TRUE PARENT_SCOPE)
    return()
  endif()
  find_package(PkgConfig QUIET)
  if(NOT PKG_CONFIG_FOUND)
    set(${found_var} FALSE PARENT_SCOPE)
    return()
  endif()
  string(MAKE_C_IDENTIFIER "dhat_pkg_${module}" pkg)  # one prefix per module: pkg-config caches by prefix
  pkg_check_modules(${pkg} QUIET ${module})
  if(NOT ${pkg}_FOUND)
    set(${found_var} FALSE PARENT_SCOPE)
    return()
  endif()
  if(ARGV2 STREQUAL "GLOBAL")
    add_library(${target} INTERFACE IMPORTED GLOBAL)
  else()
    add_library(${target} INTERFACE IMPORTED)
  endif()
  set_target_properties(${target} PROPERTIES
    INTERFACE_LINK_LIBRARIES "${${pkg}_LIBRARIES}"
    INTERFACE_LINK_DIRECTORIES "${${pkg}_LIBRARY_DIRS}"
    INTERFACE_INCLUDE_DIRECTORIES "${${pkg}_INCLUDE_DIRS}"
    INTERFACE_COMPILE_OPTIONS "${${pkg}_CFLAGS_OTHER}")
  set(${found_var} TRUE PARENT_SCOPE)
endfunction()
