# Cross-building dhat-cpp for 64-bit ARM Linux (glibc) on a Debian x86-64 machine, with Debian's
# multiarch packages (.ci/install-deps: g++-aarch64-linux-gnu, qemu-user, and the arm64 builds of
# libdw, libelf, zlib, liblzma, libbz2, GoogleTest, SQLite, jemalloc, gperftools, mimalloc).
# The arm64 libraries are in /usr/lib/aarch64-linux-gnu and the arm64 loader in /lib, so the
# programs run under qemu-user with no sysroot option; programs started by the tests themselves
# (probes, dhat-run's) need the kernel to hand arm64 binaries to qemu (binfmt_misc: .ci/run's
# aarch64 stage registers it). Used by the `aarch64` presets (CMakePresets.json).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)

# Headers and libraries of the target: multiarch keeps the arm64 ones beside the host's, under
# /usr, so search /usr with lib/aarch64-linux-gnu first; programs are the host's.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /usr)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# pkg-config (libdw, libelf) must answer for arm64, not for this machine.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
