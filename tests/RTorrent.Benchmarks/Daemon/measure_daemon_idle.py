#!/usr/bin/env python3
"""Idle CPU of `rtorrent daemon` holding N seeding torrents, alone and with the interface attached (issue 12, item 7).
Usage (after `dotnet build -c Release`; run under the shared CPU lock so builds do not skew it):
  flock /tmp/rt-cpu.lock python3 tests/RTorrent.Benchmarks/Daemon/measure_daemon_idle.py [N] [--tracker]
Makes N torrents of 64 KiB with their data (make_torrents.py), starts the daemon on a throw-away session with DHT and
LSD off, drops the torrents into its watch folder, waits until all seed, lets it settle, then measures the daemon's
CPU (user+system from /proc) over a window; then attaches the real interface in tmux (80x24) and measures both
processes again. Everything started is killed by PID at the end. Prints one JSON line.
"""
import json, os, shutil, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rpc, make_torrents

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.abspath(os.path.join(here, "..", "..", ".."))
dll = os.environ.get("RTORRENT_DLL", os.path.join(repo, "src", "RTorrent", "bin", "Release", "net10.0", "rtorrent.dll"))
n = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1000
use_tracker = "--tracker" in sys.argv
window = float(os.environ.get("WINDOW", "60"))

def ticks(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])

def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1]) / 1024
    return 0

def cpu_percent(pids, seconds):
    a = [ticks(p) for p in pids]; time.sleep(seconds); b = [ticks(p) for p in pids]
    hz = os.sysconf("SC_CLK_TCK")
    return [round((y - x) / hz / seconds * 100, 2) for x, y in zip(a, b)]

base = tempfile.mkdtemp(prefix="rt-daemon-idle-")
procs = []
tmux = ["tmux", "-L", f"rtidle{os.getpid()}"]
try:
    tracker_url = None
    if use_tracker:
        import socket
        s = socket.socket(); s.bind(("127.0.0.1", 0)); tport = s.getsockname()[1]; s.close()
        tracker_url = f"http://127.0.0.1:{tport}/announce"
    make_torrents.main.__globals__["sys"].argv = ["make_torrents.py", str(n), base + "/set"] + ([tracker_url] if tracker_url else [])
    make_torrents.main()
    if use_tracker:
        # Debian's opentracker tracks only the info-hashes of its whitelist (-w, read from its folder -d).
        os.makedirs(base + "/tracker"); os.chmod(base, 0o755); os.chmod(base + "/tracker", 0o755)
        shutil.copy(base + "/set/infohashes.txt", base + "/tracker/whitelist"); os.chmod(base + "/tracker/whitelist", 0o644)
        procs.append(subprocess.Popen(["opentracker", "-i", "127.0.0.1", "-p", str(tport), "-P", str(tport), "-d", base + "/tracker",
                                       "-w", "whitelist"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    session = base + "/session"; os.makedirs(session); os.makedirs(base + "/watch")
    json.dump({"listenPort": 0, "dhtEnabled": False, "lsdEnabled": False, "downloadDirectory": base + "/set/data",
               "watchDirectory": base + "/watch", "rpcBind": []}, open(session + "/settings.json", "w"))
    env = dict(os.environ, XDG_DATA_HOME=base + "/xdg", XDG_CONFIG_HOME=base + "/xdg")
    t0 = time.time()
    daemon = subprocess.Popen(["dotnet", dll, "daemon", "--session", session], env=env, stdout=subprocess.DEVNULL,
                              stderr=open(base + "/daemon.err", "w"))
    procs.append(daemon)
    while not os.path.exists(session + "/rpc.sock"): time.sleep(0.05)
    client = rpc.native(session)
    client.call("hello")
    for name in os.listdir(base + "/set/torrents"): shutil.copy(base + "/set/torrents/" + name, base + "/watch/" + name)
    t_added = time.time()
    while True:
        s = client.call("session")
        seeding = sum(1 for t in s["session"]["torrents"] if t["state"] == "Seeding")
        if seeding == n: break
        time.sleep(1)
    t_seeding = time.time() - t_added
    if use_tracker:
        # Every torrent announced (each seeding torrent appears in a scrape as one seeder).
        import urllib.request
        for line in open(base + "/set/infohashes.txt").read().split()[:3]:
            body = urllib.request.urlopen(f"http://127.0.0.1:{tport}/scrape?info_hash=" + "".join("%" + line[i:i + 2] for i in range(0, 40, 2))).read()
            if b"8:completei1e" not in body and b"completei1e" not in body: print("warning: tracker does not list us", body[:120], file=sys.stderr)
    time.sleep(float(os.environ.get("SETTLE", "30")))
    alone = cpu_percent([daemon.pid], window)[0]
    subprocess.run(tmux + ["new-session", "-d", "-s", "rt", "-x", "80", "-y", "24",
                           f"XDG_DATA_HOME={base}/xdg XDG_CONFIG_HOME={base}/xdg exec dotnet {dll} --session {session}"], check=True)
    tui = int(subprocess.check_output(tmux + ["display", "-p", "-t", "rt", "#{pane_pid}"]).strip())
    time.sleep(float(os.environ.get("SETTLE", "30")))
    screen = subprocess.check_output(tmux + ["capture-pane", "-p", "-t", "rt"]).decode()
    attached = cpu_percent([daemon.pid, tui], window)
    print(json.dumps({"torrents": n, "tracker": use_tracker, "watch_to_all_seeding_s": round(t_seeding, 1),
                      "daemon_idle_cpu_pct": alone, "daemon_cpu_with_interface_pct": attached[0], "interface_cpu_pct": attached[1],
                      "daemon_rss_mib": round(rss_mib(daemon.pid)), "interface_rss_mib": round(rss_mib(tui)), "window_s": window,
                      "attached_screen_ok": f"{n} torrents" in screen}))
finally:
    subprocess.run(tmux + ["kill-server"], stderr=subprocess.DEVNULL)
    for p in reversed(procs):
        try: p.terminate(); p.wait(timeout=60)
        except Exception: p.kill()
    shutil.rmtree(base, ignore_errors=True)
