#!/usr/bin/env python3
"""Bulk add through the watch folder, then a restart of the same session (issue 13, items 1 and 2).
Usage (after `dotnet build -c Release`, under the shared CPU lock):
  flock /tmp/rt-cpu.lock python3 tests/RTorrent.Benchmarks/Daemon/measure_restart_bulk.py [N] [--tracker] [--restarts K]
      [--keep DIR] [--reuse DIR]
Makes N torrents of 64 KiB with their data (make_torrents.py; --tracker: announcing to a local opentracker), starts
`rtorrent daemon` on a throw-away session (DHT, LSD off; the Transmission RPC on a free 127.0.0.1 port), drops the N
.torrent files into its watch folder and times until every torrent seeds; SIGTERM and the time to exit; then starts the
daemon again on the same session K times (default 2), each time timing from starting the process to its first RPC
answer and to every torrent seeding, and the SIGTERM to exit. Progress is read with torrent-get (fields id, status;
6 is seeding) every 0.25 s; the slowest of those calls while torrents loaded is reported (the RPC must keep answering).
--reuse DIR skips the bulk add and restarts the session kept by an earlier --keep DIR. Prints one JSON line."""
import json, os, shutil, signal, socket, subprocess, sys, tempfile, time, http.client
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rpc, make_torrents

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.abspath(os.path.join(here, "..", "..", ".."))
dll = os.environ.get("RTORRENT_DLL", os.path.join(repo, "src", "RTorrent", "bin", "Release", "net10.0", "rtorrent.dll"))
args = sys.argv[1:]
n = int(args[0]) if args and args[0].isdigit() else 1000
use_tracker = "--tracker" in args
restarts = int(args[args.index("--restarts") + 1]) if "--restarts" in args else 2
keep = args[args.index("--keep") + 1] if "--keep" in args else None
reuse = args[args.index("--reuse") + 1] if "--reuse" in args else None
limit = float(os.environ.get("LIMIT", "1800"))

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def first_answer(port, t0, proc):
    while proc.poll() is None:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("POST", "/transmission/rpc", b"{}")
            if c.getresponse().status in (200, 409): return time.perf_counter() - t0
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("the daemon exited")

def wait_seeding(port, t0, count):
    """Seconds from t0 until `count` torrents seed; the slowest torrent-get meanwhile; torrents listed over time."""
    client = rpc.transmission(port)
    slowest, trace = 0.0, []
    while time.perf_counter() - t0 < limit:
        try:
            data, took = client.raw("torrent-get", {"fields": ["id", "status"]})
        except (ConnectionError, OSError, RuntimeError):
            client.conn = None; time.sleep(0.25); continue
        slowest = max(slowest, took)
        torrents = json.loads(data)["arguments"]["torrents"]
        seeding = sum(1 for t in torrents if t["status"] == 6)
        now = time.perf_counter() - t0
        if not trace or trace[-1][1] != len(torrents) or trace[-1][2] != seeding: trace.append((round(now, 2), len(torrents), seeding))
        if seeding >= count: return now, slowest, trace
        time.sleep(0.25)
    raise TimeoutError(f"not all seeding after {limit} s: {trace[-1] if trace else None}")

def start(session, base, port, tag):
    env = dict(os.environ, XDG_DATA_HOME=base + "/xdg", XDG_CONFIG_HOME=base + "/xdg")
    t0 = time.perf_counter()
    p = subprocess.Popen(["dotnet", dll, "daemon", "--session", session, "--rpc", f"127.0.0.1:{port}"], env=env,
                         stdout=subprocess.DEVNULL, stderr=open(f"{base}/daemon-{tag}.err", "w"))
    return p, t0

def stop(p):
    t1 = time.perf_counter(); p.send_signal(signal.SIGTERM)
    code = p.wait(timeout=600)
    return round(time.perf_counter() - t1, 2), code

base = reuse or keep or tempfile.mkdtemp(prefix="rt-restart-bulk-")
os.makedirs(base, exist_ok=True)
procs = []
result = {"torrents": n, "tracker": use_tracker}
try:
    session = base + "/session"
    if use_tracker:
        tport = int(open(base + "/tracker-port").read()) if reuse else free_port()
        open(base + "/tracker-port", "w").write(str(tport))
        os.makedirs(base + "/tracker", exist_ok=True); os.chmod(base, 0o755); os.chmod(base + "/tracker", 0o755)
    if not reuse:
        tracker_url = f"http://127.0.0.1:{tport}/announce" if use_tracker else None
        make_torrents.main.__globals__["sys"].argv = ["make_torrents.py", str(n), base + "/set"] + ([tracker_url] if tracker_url else [])
        make_torrents.main()
    if use_tracker:
        shutil.copy(base + "/set/infohashes.txt", base + "/tracker/whitelist"); os.chmod(base + "/tracker/whitelist", 0o644)
        procs.append(subprocess.Popen(["opentracker", "-i", "127.0.0.1", "-p", str(tport), "-P", str(tport), "-d", base + "/tracker",
                                       "-w", "whitelist"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    if not reuse:
        os.makedirs(session); os.makedirs(base + "/watch")
        json.dump({"listenPort": 0, "dhtEnabled": False, "lsdEnabled": False, "downloadDirectory": base + "/set/data",
                   "watchDirectory": base + "/watch"}, open(session + "/settings.json", "w"))
        port = free_port()
        p, t0 = start(session, base, port, "add"); procs.append(p)
        result["add_first_answer_s"] = round(first_answer(port, t0, p), 2)
        names = sorted(os.listdir(base + "/set/torrents"))
        t_add = time.perf_counter()
        for name in names: shutil.copy(base + "/set/torrents/" + name, base + "/watch/" + name)
        result["add_copy_s"] = round(time.perf_counter() - t_add, 2)
        took, slowest, trace = wait_seeding(port, t_add, n)
        result["watch_to_all_seeding_s"] = round(took, 1)
        result["add_slowest_poll_ms"] = round(slowest * 1000)
        result["add_trace"] = trace[:: max(1, len(trace) // 12)] + [trace[-1]]
        result["add_quit_s"], result["add_exit"] = stop(p); procs.remove(p)
    result["restarts"] = []
    for i in range(restarts):
        port = free_port()
        p, t0 = start(session, base, port, f"restart{i}"); procs.append(p)
        r = {"first_answer_s": round(first_answer(port, t0, p), 2)}
        took, slowest, trace = wait_seeding(port, t0, n)
        r["start_to_all_seeding_s"] = round(took, 2)
        r["slowest_poll_ms"] = round(slowest * 1000)
        r["trace"] = trace[:: max(1, len(trace) // 8)] + [trace[-1]]
        r["quit_s"], r["exit"] = stop(p); procs.remove(p)
        result["restarts"].append(r)
    print(json.dumps(result), flush=True)
finally:
    for p in reversed(procs):
        try: p.terminate(); p.wait(timeout=120)
        except Exception: p.kill()
    if not keep and not reuse: shutil.rmtree(base, ignore_errors=True)
