# Per-target compile settings (never CMAKE_CXX_FLAGS): standard, warnings, PIC, sanitizer,
# DHAT_WERROR and the internal checks.

# Public usage requirements of an INTERFACE target must be INTERFACE, of a real one PUBLIC.
if(DHAT_ENABLE)
  set(DHAT_PUBLIC_SCOPE PUBLIC)
else()
  set(DHAT_PUBLIC_SCOPE INTERFACE)
endif()

function(dhat_sanitizer_flags out)
  if(DHAT_SANITIZER STREQUAL "")
    set(${out} "" PARENT_SCOPE)
  elseif(DHAT_SANITIZER STREQUAL "undefined")
    set(${out} -fsanitize=undefined -fno-sanitize-recover=all PARENT_SCOPE)
  else()
    set(${out} -fsanitize=${DHAT_SANITIZER} -fno-omit-frame-pointer PARENT_SCOPE)
  endif()
endfunction()

function(dhat_apply_sanitizer target)
  dhat_sanitizer_flags(flags)
  if(flags)
    target_compile_options(${target} PRIVATE ${flags})
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "STATIC_LIBRARY")
      # A sanitized archive calls the sanitizer's runtime: whatever links it must link that too
      # (a consumer of a sanitized build tree, the package test's find_package on it).
      target_link_options(${target} INTERFACE ${flags})
    else()
      target_link_options(${target} PRIVATE ${flags})
    endif()
  endif()
endfunction()

function(dhat_apply_werror target)
  if(DHAT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# For the library's own code: every directory under src/ is one target made with this.
function(dhat_target_settings target)
  target_compile_features(${target} PRIVATE cxx_std_17)
  set_target_properties(${target} PROPERTIES
    CXX_EXTENSIONS OFF
    POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
  if(DHAT_INTERNAL_CHECKS)
    target_compile_definitions(${target} PRIVATE DHAT_INTERNAL_CHECKS=1)
  endif()
  dhat_apply_werror(${target})
  dhat_apply_sanitizer(${target})
endfunction()

# For test and example executables: the sanitizer, and warnings.
function(dhat_program_settings target)
  target_compile_features(${target} PRIVATE cxx_std_17)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  dhat_apply_werror(${target})
  dhat_apply_sanitizer(${target})
endfunction()
