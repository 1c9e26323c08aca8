#!/usr/bin/env python3
"""Time from starting `rtorrent daemon` on an empty session until its RPC answers (issue 12: within a second), over
several runs. Usage (after `dotnet build -c Release`): python3 tests/RTorrent.Benchmarks/Daemon/measure_daemon_startup.py [RUNS]
Each run: a fresh session folder (DHT and LSD off), the daemon started with `dotnet rtorrent.dll daemon`, then
Transmission's RPC polled every 5 ms over TCP until it answers (the 409 of the session-id handshake counts: the server
is up and checking); then SIGTERM and the time to exit 0. Prints one JSON line with the medians."""
import json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time, http.client

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.abspath(os.path.join(here, "..", "..", ".."))
dll = os.environ.get("RTORRENT_DLL", os.path.join(repo, "src", "RTorrent", "bin", "Release", "net10.0", "rtorrent.dll"))
runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
answer, stop = [], []
for _ in range(runs):
    base = tempfile.mkdtemp(prefix="rt-daemon-start-")
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    os.makedirs(base + "/session")
    json.dump({"listenPort": 0, "dhtEnabled": False, "lsdEnabled": False, "downloadDirectory": base + "/dl"}, open(base + "/session/settings.json", "w"))
    env = dict(os.environ, XDG_DATA_HOME=base + "/xdg", XDG_CONFIG_HOME=base + "/xdg")
    t0 = time.perf_counter()
    p = subprocess.Popen(["dotnet", dll, "daemon", "--session", base + "/session", "--rpc", f"127.0.0.1:{port}"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("POST", "/transmission/rpc", b"{}")
                status = c.getresponse().status
                if status in (200, 409): break
            except OSError:
                time.sleep(0.005)
        answer.append(time.perf_counter() - t0)
        t1 = time.perf_counter(); p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=60) == 0
        stop.append(time.perf_counter() - t1)
    finally:
        if p.poll() is None: p.kill()
        shutil.rmtree(base, ignore_errors=True)
print(json.dumps({"runs": runs, "rpc_answers_s_median": round(statistics.median(answer), 3), "min": round(min(answer), 3),
                  "max": round(max(answer), 3), "sigterm_to_exit_s_median": round(statistics.median(stop), 3)}))
