#!/usr/bin/env bash
# Package tests: install dhat-cpp to a prefix and build a consumer with find_package(dhat); the
# same consumer with find_package on a build tree (its export()), and with add_subdirectory,
# switched on and off. Each consumer runs and its profile (or the absence of one) is checked.
# usage: run_package_tests.sh SOURCE_DIR WORK_DIR [BUILD_DIR [TOOLCHAIN_FILE]]
#   BUILD_DIR: a configured, built tree; TOOLCHAIN_FILE: cross-build every project with it.
set -euo pipefail
src=$1
work=$2
build=${3:-}
toolchain=${4:-}
rm -rf "$work" && mkdir -p "$work"
quiet() { "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log"; exit 1; }; }
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
[ -n "$toolchain" ] && generator+=(-DCMAKE_TOOLCHAIN_FILE="$toolchain")

check_profile() {  # DIR
  local json=$1/consumer.json
  [ -f "$json" ] || { echo "no profile at $json"; exit 1; }
  grep -q '"tb":4096,"tbk":1' "$json" || { echo "consumer_site's 4096-byte block missing in $json"; exit 1; }
  grep -q 'consumer_site' "$json" || { echo "consumer_site frame missing in $json"; exit 1; }
}

echo "-- install"
quiet cmake -S "$src" -B "$work/lib" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDHAT_BUILD_TESTS=OFF \
  -DDHAT_BUILD_EXAMPLES=OFF -DDHAT_INSTALL=ON -DCMAKE_INSTALL_PREFIX="$work/prefix"
quiet cmake --build "$work/lib"
quiet cmake --install "$work/lib"
[ -f "$work/prefix/include/dhat/dhat.hpp" ] && [ -f "$work/prefix/lib/cmake/dhat/dhatConfig.cmake" ]

echo "-- find_package(dhat)"
quiet cmake -S "$src/tests/package/consumer" -B "$work/fp" "${generator[@]}" -DCMAKE_PREFIX_PATH="$work/prefix"
quiet cmake --build "$work/fp"
(cd "$work/fp" && ./consumer 2>/dev/null)
check_profile "$work/fp"

passed=2
if [ -n "$build" ]; then
  echo "-- find_package(dhat) on the build tree $build"
  [ -f "$build/dhatConfig.cmake" ] && [ -f "$build/dhatTargets.cmake" ] || { echo "no exported package in $build"; exit 1; }
  quiet cmake -S "$src/tests/package/consumer" -B "$work/bt" "${generator[@]}" -Ddhat_DIR="$build"
  quiet cmake --build "$work/bt"
  (cd "$work/bt" && ./consumer 2>/dev/null)
  check_profile "$work/bt"
  passed=$((passed + 1))
fi

echo "-- add_subdirectory"
quiet cmake -S "$src/tests/package/consumer" -B "$work/as" "${generator[@]}" -DCONSUMER_MODE=add_subdirectory \
  -DDHAT_SOURCE_DIR="$src" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
quiet cmake --build "$work/as"
(cd "$work/as" && ./consumer 2>/dev/null)
check_profile "$work/as"
# dhat_keep_tail_call_frames(consumer) compiled it with -fno-optimize-sibling-calls.
grep -q -- '-fno-optimize-sibling-calls.*main.cpp' "$work/as/compile_commands.json" ||
  { echo "dhat_keep_tail_call_frames did not add -fno-optimize-sibling-calls"; exit 1; }
# A static allocator archive: the link fails, naming what to do (when libjemalloc.a is installed).
if grep -q consumer_static_allocator "$work/as/build.ninja" 2>/dev/null; then
  if cmake --build "$work/as" --target consumer_static_allocator >"$work/static.log" 2>&1; then
    echo "a program with libjemalloc.a linked with dhat::dhat"; exit 1
  fi
  grep -q "dhat_cannot_profile_a_statically_linked_allocator__link_its_shared_library_or_use_dhat_run" "$work/static.log" ||
    { cat "$work/static.log"; echo "no dhat message for the static allocator"; exit 1; }
fi

echo "-- add_subdirectory, DHAT_ENABLE=OFF"
quiet cmake -S "$src/tests/package/consumer" -B "$work/off" "${generator[@]}" -DCONSUMER_MODE=add_subdirectory \
  -DDHAT_SOURCE_DIR="$src" -DDHAT_ENABLE=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
quiet cmake --build "$work/off"
# Switched off, dhat_keep_tail_call_frames changes nothing.
if grep -q -- '-fno-optimize-sibling-calls' "$work/off/compile_commands.json"; then
  echo "switched off, dhat_keep_tail_call_frames still added -fno-optimize-sibling-calls"; exit 1
fi
if grep -q consumer_static_allocator "$work/off/build.ninja" 2>/dev/null; then
  quiet cmake --build "$work/off" --target consumer_static_allocator  # switched off: links as without dhat
fi
(cd "$work/off" && ./consumer)
[ ! -e "$work/off/consumer.json" ] || { echo "switched-off consumer wrote a profile"; exit 1; }
if nm --defined-only "$work/off/consumer" | grep -qE ' T (malloc|_Znwm)$'; then
  echo "switched-off consumer defines malloc or operator new"; exit 1
fi
echo "package tests: $((passed + 2)) passed, 0 failed"
