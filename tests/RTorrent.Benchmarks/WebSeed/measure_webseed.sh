#!/usr/bin/env bash
# One nginx web seed on 127.0.0.1, a torrent whose only source it is: RTorrent (`rtorrent download`) and aria2 (`aria2c`
# with the .torrent) side by side, ROUNDS rounds, each client once per round. Prints one line per run: client, seconds,
# CPU seconds (user+system of the client and its children, from /usr/bin/time), CPU seconds per GiB. Needs nginx-light,
# aria2 and a built rtorrent.dll. Run it only on a quiet machine (uptime's load under 2), under the CPU lock:
#   flock /tmp/rt-cpu.lock tests/RTorrent.Benchmarks/WebSeed/measure_webseed.sh src/RTorrent/bin/Release/net10.0/rtorrent.dll 1024 3
set -eu
DLL=$(realpath "$1"); MIB=${2:-1024}; ROUNDS=${3:-3}
W=$(mktemp -d /tmp/rt-wsbench.XXXXXX)
trap 'kill "$(cat "$W/nginx.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$W"' EXIT
mkdir -p "$W/www" "$W/logs" "$W/tmp"
head -c $((MIB * 1024 * 1024)) /dev/urandom > "$W/www/payload.bin"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$W/nginx.conf" <<CONF
daemon on;
master_process off;
worker_processes 1;
pid $W/nginx.pid;
error_log $W/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $W/tmp/b; proxy_temp_path $W/tmp/p; fastcgi_temp_path $W/tmp/f; uwsgi_temp_path $W/tmp/u; scgi_temp_path $W/tmp/s;
  sendfile on; keepalive_requests 100000; default_type application/octet-stream;
  server { listen 127.0.0.1:$PORT; root $W/www; }
}
CONF
nginx -p "$W" -c "$W/nginx.conf" -e "$W/logs/error.log"
dotnet "$DLL" create "$W/www/payload.bin" -o "$W/payload.torrent" --piece-size $((1024 * 1024)) -w "http://127.0.0.1:$PORT/" >/dev/null
run() { # name, command...
  local name=$1; shift
  rm -rf "$W/out" "$W/session" "$W/home"; mkdir -p "$W/out" "$W/home"
  sync; echo 3 | sudo -n tee /proc/sys/vm/drop_caches >/dev/null 2>&1 || true
  cat "$W/www/payload.bin" > /dev/null # the server's file in the page cache for every run alike
  local t0 t1; t0=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$W/cpu" "$@" >/dev/null 2>"$W/err" || { echo "$name FAILED"; tail -5 "$W/err"; return; }
  t1=$(date +%s.%N)
  cmp -s "$W/www/payload.bin" "$W/out/payload.bin" || { echo "$name WRONG DATA"; return; }
  read -r u s < "$W/cpu"
  python3 -c "import sys; w=$t1-$t0; c=$u+$s; g=$MIB/1024; print(f'$name {w:.2f} s wall, {c:.2f} s cpu, {c/g:.2f} cpu s/GiB, {g*1024/w:.0f} MiB/s')"
}
for r in $(seq 1 "$ROUNDS"); do
  run rtorrent env XDG_DATA_HOME="$W/home" XDG_CONFIG_HOME="$W/home" dotnet "$DLL" download "$W/payload.torrent" --save "$W/out" \
    --session "$W/session" --bind 127.0.0.1 --port 0 --no-dht --no-lsd --no-pex
  run aria2 aria2c --no-conf --enable-dht=false --bt-enable-lpd=false --enable-peer-exchange=false --file-allocation=none \
    --summary-interval=0 --console-log-level=warn --seed-time=0 --bt-save-metadata=false --auto-save-interval=0 \
    --dir "$W/out" "$W/payload.torrent"
done
