#!/usr/bin/env bash
# Builds the test workload (test/workload/fakenode.c) into .tmp/workload/:
#   bin/fakenode            the static binary
#   bin/node                hard link (so comm / exe basename are `node`)
#   lib/fakeproc/dash       hard link (the fake sh's exe is .../dash, like Debian's /bin/sh)
#   lib/fakeproc/sh -> dash (comm `sh`)
# Idempotent: recompiles only when the source (or this script) is newer.
# Prints the path of the binary on stdout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/test/workload/fakenode.c"
OUT="$ROOT/.tmp/workload"
BIN="$OUT/bin/fakenode"

mkdir -p "$OUT/bin" "$OUT/lib/fakeproc"
if [[ ! -x "$BIN" || "$SRC" -nt "$BIN" || "${BASH_SOURCE[0]}" -nt "$BIN" ]]; then
  if [[ ! -e /usr/lib/x86_64-linux-gnu/libc.a && -z "$(find /usr/lib -name libc.a -print -quit 2>/dev/null)" ]]; then
    echo "build-workload: libc.a not found (apt-get install libc6-dev)" >&2
    exit 1
  fi
  gcc -O2 -Wall -Wextra -static -pthread -o "$BIN.tmp" "$SRC"
  mv -f "$BIN.tmp" "$BIN"
fi
ln -f "$BIN" "$OUT/bin/node"
ln -f "$BIN" "$OUT/lib/fakeproc/dash"
ln -sfn dash "$OUT/lib/fakeproc/sh"
echo "$BIN"
