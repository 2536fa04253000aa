# The platforms the profiler runs on, checked when it is configured, so that an unsupported one
# fails here with a sentence instead of deep inside the build. (Switched off, DHAT_ENABLE=OFF,
# dhat-cpp is a header of inline no-ops and builds anywhere.)
include(CheckSymbolExists)
# One architecture header each (src/core/arch_*.hpp): x86-64 and AArch64 (64-bit ARM).
set(DHAT_SUPPORTED_PROCESSORS x86_64 AMD64 aarch64 arm64 ARM64)
if(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux" OR NOT CMAKE_SYSTEM_PROCESSOR IN_LIST DHAT_SUPPORTED_PROCESSORS)
  message(FATAL_ERROR "dhat: the profiler supports Linux with glibc on x86-64 and on AArch64 (64-bit ARM); "
    "this build is for ${CMAKE_SYSTEM_NAME} on ${CMAKE_SYSTEM_PROCESSOR}. Configure with -DDHAT_ENABLE=OFF to "
    "build the same code with dhat-cpp's API as inline no-ops.")
endif()
check_symbol_exists(__GLIBC__ "features.h" DHAT_HAVE_GLIBC)
if(NOT DHAT_HAVE_GLIBC)
  message(FATAL_ERROR "dhat: the profiler needs glibc (its hooks forward to glibc's __libc_* allocator); "
    "this C library is not glibc. Configure with -DDHAT_ENABLE=OFF to build with the API as inline no-ops.")
endif()
