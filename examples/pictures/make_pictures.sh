#!/usr/bin/env bash
# Makes the README's pictures from the examples: the heap and RSS of examples/resident_memory
# (dhat-view plot, an SVG) and the flame graph of examples/quickstart (dhat-view flamegraph,
# photographed by headless Chromium as a PNG).
#
# usage: examples/pictures/make_pictures.sh [BUILD_DIR [OUT_DIR]]
#   BUILD_DIR: a configured build with the examples and dhat-view built (default build/dev);
#   OUT_DIR:   where the pictures go (default: this directory).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build/dev}" && pwd)
out=$(mkdir -p "${2:-$here}" && cd "${2:-$here}" && pwd)
chromium=${DHAT_CHROMIUM:-/usr/bin/chromium}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Run from the build directory, so that the pictures name the programs as ./examples/NAME.
cd "$build"
DHAT_OUT="$work/resident_memory.json" ./examples/resident_memory >/dev/null 2>&1
./viewer/dhat-view plot "$work/resident_memory.json" -o "$out/heap-and-rss.svg"
DHAT_OUT="$work/quickstart.json" ./examples/quickstart >/dev/null 2>&1
./viewer/dhat-view flamegraph "$work/quickstart.json" -o "$work/flame.html"
"$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --disable-sync --no-first-run --hide-scrollbars --user-data-dir="$work/chromium" \
  --screenshot="$out/flame-graph.png" --window-size=1100,270 "file://$work/flame.html" >/dev/null 2>&1
test -s "$out/flame-graph.png"
echo "wrote $out/heap-and-rss.svg and $out/flame-graph.png"
