#!/usr/bin/env bash
# `dhat-view open` in headless Chromium: start the server, read the URL it prints, check that the
# stock viewer shows the profile already loaded with the right totals, stop the server.
# usage: check_dhat_view_open.sh DHAT_VIEW NODE PROFILE
set -euo pipefail
dhat_view=$1 node=$2 profile=$3
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp)
"$dhat_view" open "$profile" --no-browser --seconds 120 >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 50); do
  grep -q 'http://' "$log" && break
  sleep 0.1
done
url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$log") || { cat "$log"; exit 1; }
"$node" "$here/check_in_stock_viewer.mjs" "$profile" --url "$url"
