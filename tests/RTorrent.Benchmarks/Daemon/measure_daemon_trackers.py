#!/usr/bin/env python3
"""What a session of N torrents on one tracker does to that tracker (issue 13, item 5): the announces at start, the
connections they take, and the `stopped` events at quit, counted by the tracker itself.
Usage (after `dotnet build -c Release`; run under the shared CPU lock so builds do not skew it):
  flock /tmp/rt-cpu.lock python3 tests/RTorrent.Benchmarks/Daemon/measure_daemon_trackers.py [N] [--udp] [--no-restart]
Makes N torrents of 64 KiB with their data (make_torrents.py) announcing to one Debian opentracker on 127.0.0.1 (HTTP,
or UDP with --udp), started with its whitelist and with 127.0.0.1 blessed (-A) so its /stats counters can be read.
Starts the daemon on a throw-away session (DHT and LSD off), drops the torrents into its watch folder, waits until the
tracker lists all N as seeds, then SIGTERM: the time to exit and how many torrents the tracker still lists (stopped
events lost; a lost one stays listed until opentracker's peer timeout). Then starts the daemon again on the same session (every torrent restored and announcing `started` at
once: the storm this measures), waits until all N are listed again, and quits again.
The tracker's counters (TCP connections accepted, HTTP announces answered; UDP connects and announces) are read every
0.1 s; the script's own /stats requests are taken off the TCP count. Everything started is killed by PID. Prints JSON.
"""
import json, os, shutil, signal, socket, subprocess, sys, tempfile, threading, time, urllib.request
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rpc, make_torrents

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.abspath(os.path.join(here, "..", "..", ".."))
dll = os.environ.get("RTORRENT_DLL", os.path.join(repo, "src", "RTorrent", "bin", "Release", "net10.0", "rtorrent.dll"))
n = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1000
udp = "--udp" in sys.argv
restart = "--no-restart" not in sys.argv
limit = float(os.environ.get("LIMIT", "1800"))  # longest wait for any phase


class Tracker:
    """opentracker's own counters, sampled on a thread: (time, tcp connections, tcp announces, udp connects, udp announces)."""
    def __init__(self, port):
        self.port, self.samples, self.polls, self.lock = port, [], 0, threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def stats(self, mode):
        with self.lock: self.polls += 1
        body = urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats?mode={mode}", timeout=10).read().decode()
        return [int(x) for x in body.split("\n")[:2]]

    def sample(self):
        tcp = self.stats("tcp4"); u = self.stats("udp4")
        with self.lock: polls = self.polls
        # This sample's two requests and every earlier poll were TCP connections of ours, not the daemon's.
        return (time.time(), tcp[0] - polls, tcp[1], u[0], u[1])

    def run(self):
        while not self.stop.is_set():
            try: self.samples.append(self.sample())
            except OSError: pass
            time.sleep(0.1)

    def seeds(self):
        with self.lock: self.polls += 1
        body = urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats?mode=peer", timeout=10).read().decode()
        return int(body.split("\n")[1])

    def window(self, t0, t1):
        """Counters' growth between two times, and the busiest second of announces in it."""
        s = [x for x in self.samples if t0 <= x[0] <= t1]
        if len(s) < 2: return {}
        ann = 2 if not udp else 4
        peak = 0
        for i, a in enumerate(s):
            j = i
            while j + 1 < len(s) and s[j + 1][0] - a[0] <= 1.0: j += 1
            if s[j][0] > a[0]: peak = max(peak, s[j][ann] - a[ann])
        first = next((x for x in s if x[ann] > s[0][ann]), None)
        last = next((x for x in reversed(s) if x[ann] < s[-1][ann]), None)
        return {"announces": s[-1][ann] - s[0][ann], "tcp_connections": s[-1][1] - s[0][1], "udp_connects": s[-1][3] - s[0][3],
                "busiest_second_announces": peak,
                "announcing_s": round(last[0] - first[0], 1) if first and last else 0.0}


def wait(cond, what, every=0.5):
    deadline = time.time() + limit
    while not cond():
        if time.time() > deadline: raise TimeoutError(what)
        time.sleep(every)


base = tempfile.mkdtemp(prefix="rt-daemon-trackers-")
procs = []
result = {"torrents": n, "tracker": "udp" if udp else "http"}
try:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); tport = s.getsockname()[1]; s.close()
    url = f"udp://127.0.0.1:{tport}/announce" if udp else f"http://127.0.0.1:{tport}/announce"
    make_torrents.main.__globals__["sys"].argv = ["make_torrents.py", str(n), base + "/set", url]
    make_torrents.main()
    os.makedirs(base + "/tracker"); os.chmod(base, 0o755); os.chmod(base + "/tracker", 0o755)
    shutil.copy(base + "/set/infohashes.txt", base + "/tracker/whitelist"); os.chmod(base + "/tracker/whitelist", 0o644)
    ot = subprocess.Popen(["opentracker", "-i", "127.0.0.1", "-p", str(tport), "-P", str(tport), "-d", base + "/tracker",
                           "-w", "whitelist", "-A", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(ot)
    tracker = Tracker(tport)
    def tracker_up():
        try: return tracker.seeds() == 0
        except OSError: return False
    wait(tracker_up, "opentracker up", 0.1)
    tracker.thread.start()

    session = base + "/session"; os.makedirs(session); os.makedirs(base + "/watch")
    json.dump({"listenPort": 0, "dhtEnabled": False, "lsdEnabled": False, "downloadDirectory": base + "/set/data",
               "watchDirectory": base + "/watch", "rpcBind": []}, open(session + "/settings.json", "w"))
    env = dict(os.environ, XDG_DATA_HOME=base + "/xdg", XDG_CONFIG_HOME=base + "/xdg")

    def start():
        if os.path.exists(session + "/rpc.sock"): os.remove(session + "/rpc.sock")
        d = subprocess.Popen(["dotnet", dll, "daemon", "--session", session], env=env, stdout=subprocess.DEVNULL,
                             stderr=open(base + "/daemon.err", "a"))
        procs.append(d)
        wait(lambda: os.path.exists(session + "/rpc.sock"), "rpc socket", 0.05)
        return d

    def quit(d, phase, stale):
        """SIGTERM; returns how many entries the tracker still lists (the daemon listens on a new port each run, so a
        stopped event lost stays listed beside the next run's entry)."""
        seeds_before = tracker.seeds()
        t0 = time.time(); d.send_signal(signal.SIGTERM)
        code = d.wait(timeout=limit)
        took = time.time() - t0
        time.sleep(1.0)  # the sampler's next reads
        w = tracker.window(t0 - 0.2, time.time())
        after = tracker.seeds()
        result[phase] = {"sigterm_to_exit_s": round(took, 2), "exit_code": code, "listed_before": seeds_before,
                         "stopped_lost": after - stale, **w}
        return after

    # Phase 1: the torrents dropped into the watch folder of a running daemon.
    d = start()
    t_start = time.time()
    for name in sorted(os.listdir(base + "/set/torrents")): shutil.copy(base + "/set/torrents/" + name, base + "/watch/" + name)
    wait(lambda: tracker.seeds() == n, "all listed after adding")
    t_listed = time.time()
    result["add"] = {"start_to_all_listed_s": round(t_listed - t_start, 1), **tracker.window(t_start, t_listed)}
    time.sleep(5)
    stale = quit(d, "quit_after_add", 0)

    if restart:
        # Phase 2: restart on the same session: every torrent restored and announcing started.
        t_start = time.time()
        d = start()
        wait(lambda: tracker.seeds() >= n + stale, "all listed after restart")
        t_listed = time.time()
        result["restart"] = {"start_to_all_listed_s": round(t_listed - t_start, 1), **tracker.window(t_start, t_listed)}
        time.sleep(5)
        quit(d, "quit_after_restart", stale)
    print(json.dumps(result))
finally:
    for p in reversed(procs):
        try:
            if p.poll() is None: p.terminate(); p.wait(timeout=60)
        except Exception: p.kill()
    if os.environ.get("KEEP"): print("kept", base, file=sys.stderr)
    else: shutil.rmtree(base, ignore_errors=True)
