#!/usr/bin/env bash
# Times hashing a 1 GiB file: sha1sum, openssl, mktorrent and `rtorrent create` (1 thread and all cores).
# Usage: tests/RTorrent.Benchmarks/measure-hashing.sh [ROUNDS]   (from the repository root; needs mktorrent)
# The file lives in /dev/shm (page cache only, so the disk is not measured) and is deleted at exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
F=/dev/shm/rt-measure-1g-$$.bin
OUT=$(mktemp -d /tmp/rt-measure-XXXX)
trap 'rm -rf "$F" "$OUT"' EXIT
dotnet build -c Release src/RTorrent -nologo -v q >/dev/null
RT="dotnet src/RTorrent/bin/Release/net10.0/rtorrent.dll"
head -c $((1 << 30)) /dev/urandom > "$F"
cat "$F" > /dev/null
echo "$(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load: $(cut -d' ' -f1-3 /proc/loadavg)"
run() { local label=$1; shift; /usr/bin/time -f "$label: wall %e s, user %U s, sys %S s" "$@" >/dev/null; }
for r in $(seq "$ROUNDS"); do
  echo "round $r (load $(cut -d' ' -f1 /proc/loadavg))"
  run "sha1sum                     " sha1sum "$F"
  run "openssl sha1                " openssl sha1 "$F"
  run "mktorrent -t 1, 1 MiB pieces" mktorrent -t 1 -l 20 -d -a http://127.0.0.1/a -o "$OUT/mk1-$r.torrent" "$F"
  run "mktorrent -t 2, 1 MiB pieces" mktorrent -t 2 -l 20 -d -a http://127.0.0.1/a -o "$OUT/mk2-$r.torrent" "$F"
  run "rtorrent create --threads 1 " $RT create "$F" -o "$OUT/rt1.torrent" --piece-size 1M --no-date --threads 1 --force
  run "rtorrent create (all cores) " $RT create "$F" -o "$OUT/rt.torrent" --piece-size 1M --no-date --force
  run "rtorrent --help (startup)   " $RT --help
done 2>&1
