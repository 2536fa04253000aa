#!/usr/bin/env sh
# Prints the path of Valgrind's stock dh_view.html on this machine (it is Valgrind's, GPL, and
# never copied into this repository). $DHAT_VIEWER wins; then the usual install places.
# Exits 1 with a message when there is none (install Debian's `valgrind` package).
for candidate in "${DHAT_VIEWER:-}" /usr/libexec/valgrind/dh_view.html /usr/lib/valgrind/dh_view.html \
                 /usr/local/libexec/valgrind/dh_view.html /usr/local/lib/valgrind/dh_view.html; do
  if [ -n "$candidate" ] && [ -r "$candidate" ]; then
    echo "$candidate"
    exit 0
  fi
done
echo "dhat: no dh_view.html found; install Valgrind or set DHAT_VIEWER" >&2
exit 1
