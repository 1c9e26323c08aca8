#!/usr/bin/env bash
# Every swarm row of docs/PERFORMANCE.md ("Every swarm row ..."), interleaved: each round runs every client once per
# row, so all of them see the same machine. Needs ../shared/bench beside the repository and, for the ctorrent and
# rTorrent rows, `apt-get install ctorrent rtorrent`.
# usage: all-rows.sh RESULTS.jsonl PATH/TO/rtorrent.dll [ROUNDS]   (publish ReadyToRun first, see PERFORMANCE.md)
# Summarize with: ../shared/bench/summarize.py RESULTS.jsonl
set -u
OUT=$1; DLL=$2; R=${3:-3}
S="$(cd "$(dirname "$0")/../../.." && pwd)/../shared/bench/swarm.sh"
CMD="exec dotnet $DLL download {torrent} --save {outdir} --port {listenport} --no-dht --no-lsd --session /tmp/fb-s-{listenport}-\$RANDOM"
SEED="exec dotnet $DLL seed {torrent} --save {outdir} --port {listenport} --no-dht --no-lsd --session /tmp/fb-seed-\$RANDOM"
run() { echo "### $(date +%T) $*" >&2; timeout 600 "$S" -o "$OUT" -R 1 "$@" 2>&1 | grep -E " in [0-9.]+ s|FAIL|error" >&2; }
for round in $(seq 1 "$R"); do
  for args in "-n 1" "-n 4" "-f 200"; do
    run -d custom $args --cmd "$CMD" -l "rtorrent-dotnet round $round"
    for c in libtorrent aria2 ctorrent rtorrent; do run -d $c $args -l "round $round"; done
  done
  run -r custom --seed-cmd "$SEED" -l "rtorrent-dotnet round $round"
  run -r libtorrent -l "round $round"
  run -r aria2 -l "round $round"
done
if [[ ${WITH_TRANSMISSION:-1} == 1 ]]; then
  run -d transmission -n 1 -l "once"
  run -r transmission -t 240 -l "once"
fi
