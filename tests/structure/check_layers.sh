#!/usr/bin/env bash
# The dependency rule, checked on the includes of every file under src/ and viewer/:
#   entry points (api, hooks, preload) -> runtime -> core, report -> format
# report never includes core; only report (and dhat-view) see nlohmann; only report sees libdw,
# libelf and backward-cpp (core reads <dwarf.h>, which is DWARF's names and no library).
# usage: check_layers.sh ROOT   (prints every violation; exit 1 if there is one)
set -euo pipefail
root=$1
declare -A allowed=(
  [format]="format"
  [core]="core format"
  [report]="report format"
  [runtime]="runtime core report format dhat"
  [hooks]="hooks runtime core format"
  [api]="api runtime core format dhat"
  [preload]="preload runtime format dhat"
  [viewer]="format"
)
third_party_only_in_report='nlohmann/|elfutils/|libelf\.h|gelf\.h|backward\.hpp'
violations=0
check() {  # FILE LAYER
  local file=$1 layer=$2 target
  while IFS= read -r target; do
    local top=${target%%/*}
    if [ "$top" = "$target" ]; then
      continue  # a file of the same directory ("commands.hpp")
    fi
    if ! [[ " ${allowed[$layer]} " == *" $top "* ]]; then
      echo "layers: ${file#"$root"/} includes $target: $layer may include only: ${allowed[$layer]}"
      violations=$((violations + 1))
    fi
  done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file")
  if [ "$layer" != report ] && [ "$layer" != viewer ]; then
    if grep -nE "^#include <($third_party_only_in_report)" "$file" >/dev/null; then
      echo "layers: ${file#"$root"/} includes $(grep -oE "<($third_party_only_in_report)[^>]*>?" "$file" | head -1): only report/ may"
      violations=$((violations + 1))
    fi
  fi
  if [ "$layer" = viewer ] && grep -nE '^#include <(elfutils/|libelf\.h|gelf\.h|backward\.hpp)' "$file" >/dev/null; then
    echo "layers: ${file#"$root"/} includes a symbolizer library: dhat-view builds on src/format only"
    violations=$((violations + 1))
  fi
}
for dir in "$root"/src/*/ "$root"/viewer/; do
  [ -d "$dir" ] || continue
  layer=$(basename "$dir")
  if [ -z "${allowed[$layer]+x}" ]; then
    echo "layers: $layer/ is not in the dependency rule (tests/structure/check_layers.sh)"
    violations=$((violations + 1))
    continue
  fi
  while IFS= read -r file; do
    check "$file" "$layer"
  done < <(find "$dir" -name '*.cpp' -o -name '*.hpp' | sort)
done
if [ "$violations" -ne 0 ]; then
  echo "layers: $violations violations"
  exit 1
fi
echo "layers: every include follows the dependency rule"
