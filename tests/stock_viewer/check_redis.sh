#!/usr/bin/env bash
# Debian's redis-server (built with jemalloc) under dhat-run: it starts on a loopback port, keeps
# jemalloc as its allocator, answers a few commands and shuts down cleanly; its profile names
# redis's own allocation sites (zmalloc) and loads in the stock viewer with the right totals.
#
# usage: check_redis.sh DHAT_RUN NODE CHECK_IN_STOCK_VIEWER.mjs   (in a scratch directory)
set -euo pipefail
dhat_run=$1 node=$2 check=$3
profile=$PWD/redis.json
rm -f "$profile" redis.log
port=$((20000 + $$ % 20000))
while redis-cli -p "$port" ping >/dev/null 2>&1; do port=$((port + 1)); done
"$dhat_run" -o "$profile" -- redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
  --daemonize no --dir "$PWD" >redis.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
[ "$(redis-cli -p "$port" set greeting hello)" = OK ] || { echo "redis: SET failed"; cat redis.log; exit 1; }
[ "$(redis-cli -p "$port" get greeting)" = hello ] || { echo "redis: GET failed"; exit 1; }
[ "$(redis-cli -p "$port" rpush list a b c d)" = 4 ] || { echo "redis: RPUSH failed"; exit 1; }
allocator=$(redis-cli -p "$port" info memory | tr -d '\r' | sed -n 's/^mem_allocator://p')
case "$allocator" in
  jemalloc*) ;;
  *) echo "redis: its allocator is '$allocator', not jemalloc"; exit 1 ;;
esac
redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
wait "$server" || { echo "redis-server exited with $?"; cat redis.log; exit 1; }
trap - EXIT
grep -q "ready to exit" redis.log || { echo "redis: no clean shutdown"; cat redis.log; exit 1; }
[ -s "$profile" ] || { echo "redis: no profile"; cat redis.log; exit 1; }
grep -q '"0x[0-9A-F]*: zmalloc ' "$profile" || { echo "redis: no zmalloc frame in the profile"; exit 1; }
echo "redis: $allocator, clean shutdown, profile written"
"$node" "$check" "$profile"
