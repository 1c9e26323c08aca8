#!/usr/bin/env python3
"""Seedbox-size sessions (issue 13): RTorrent beside Debian's rTorrent 0.9.8 on the same N torrents, as a user meets them.

Usage (after `dotnet build RTorrent.sln -c Release`; `apt-get install -y rtorrent opentracker tmux strace`):
  python3 tests/RTorrent.Benchmarks/Seedbox/measure_seedbox.py [-n 1000] [--clients rtorrent,rtorrent098]
      [--lock /tmp/rt-cpu.lock] [--settle 60] [--window 60] [--timeout 1200] [--diagnose DIR] [--jsonl FILE]
  python3 tests/RTorrent.Benchmarks/Seedbox/measure_seedbox.py --table FILE.jsonl   (the table of saved results)
`-n 100` runs in a couple of minutes. With --lock, each client is measured holding that lock (flock), so builds and
other benchmarks that take it do not run beside it; the load average before each client is recorded.

The data: N single-file torrents of 64 KiB (4 pieces of 16 KiB) and their data (../Daemon/make_torrents.py), all
announcing to one opentracker on 127.0.0.1 (Debian's needs the info-hashes as a whitelist: -w), started afresh for each
client. For each client, in a throw-away folder:
 1. start it on an empty session with a watch folder (RTorrent: `rtorrent daemon`, settings.json with DHT and LSD off,
    listenPort 0; rTorrent 0.9.8: `system.daemon.set = true`, a `schedule2` watch every 5 s, DHT/PEX/UDP trackers off,
    one port on 127.0.0.1, an SCGI socket);
 2. "watch folder to all seeding": move the N .torrent files into its watch folder (each written elsewhere first and
    renamed in, as a careful tool does) and time until all N are seeding (RTorrent: state Seeding in its native RPC
    `session` over rpc.sock, asked for changes only; rTorrent: `d.multicall2` d.complete=1, d.state=1, d.is_active=1,
    not hashing, over XML-RPC/SCGI). Polls back off so they cost at most about a fifth of the time;
 3. let it settle (--settle s, no polling), then "memory once settled" (VmRSS) and "idle CPU" (utime+stime from /proc
    over --window s, with nothing changing: no RPC, no interface), threads and open file descriptors by kind, and how
    many seeds the tracker lists;
 4. RTorrent only: the real interface (`rtorrent --session DIR`, attached to the daemon) in a tmux terminal at 80x24,
    120x40 and 200x60: a few warm-up presses, then Down pressed --presses times at each size, timed from
    `tmux send-keys` until `capture-pane` shows a changed screen (so tmux's delivery and the capture polling, a few
    ms, are included: an upper bound). rTorrent 0.9.8 run as a daemon has no interface; with --rt-keys its own ncurses
    interface is started afterwards on the same session in tmux (not a daemon) and timed the same way;
 5. "quit": SIGTERM and the time until the process has exited (exit code kept), then the tracker's seed count (every
    `stopped` announce sent lowers it);
 6. "restart to all seeding": start it again on the same session and time from the start of the process until all N
    seed; then quit again (timed too).
With --diagnose DIR (RTorrent only), at step 3 it also keeps, in DIR: per-thread CPU over the window, `strace -c -f`
over 30 s of idle, `dotnet-counters collect` over the idle window, a `dotnet-gcdump` heap summary, and a 30 s
`dotnet-trace` sample of the threads' stacks (wall-clock time, waits included: top methods); and after step 6 a third start on the same session whose first 60 s are
traced the same way (syscall counts, counters, threads and descriptors as it restores) and which is then quit
mid-restore (timed). Every wait is bounded (--timeout for the long ones); everything started is ended by its PID, the
tmux server by its own socket; the throw-away folders are removed (--keep keeps them).
With --keys-only (RTorrent only) the idle readings of step 3 (settling at most 10 s) and step 6 are left out: all
seeding, the key timing, quit. With --local-keys the interface is also timed on a session of its own
(`rtorrent --session DIR` with no daemon, so it restores the N torrents itself) once the daemon has quit, the same way
(reported as "keys_local").
Prints one JSON line per client and N, then a Markdown table of this run's results.
"""
import argparse, datetime, fcntl, glob, json, os, platform, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.abspath(os.path.join(here, "..", "..", ".."))
sys.path.insert(0, os.path.join(here, "..", "Daemon"))
sys.path.insert(0, here)
import rpc, make_torrents, scgi  # noqa: E402

DLL = os.environ.get("RTORRENT_DLL", os.path.join(repo, "src", "RTorrent", "bin", "Release", "net10.0", "rtorrent.dll"))
RTORRENT098 = os.environ.get("RTORRENT098", "/usr/bin/rtorrent")
TOOLS = os.path.expanduser("~/.dotnet/tools")
HZ = os.sysconf("SC_CLK_TCK")


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- /proc

def ticks(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


def status(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"): return int(line.split()[1])
    return 0


def rss_mib(pid):
    return round(status(pid, "VmRSS") / 1024, 1)


def thread_ticks(pid):
    """{tid: (name, ticks)} of every thread."""
    out = {}
    for t in glob.glob(f"/proc/{pid}/task/*"):
        try:
            s = open(t + "/stat").read()
            name = s[s.index("(") + 1:s.rindex(")")]
            f = s.rsplit(")", 1)[1].split()
            out[int(os.path.basename(t))] = (name, int(f[11]) + int(f[12]))
        except (OSError, ValueError):
            pass
    return out


def fd_kinds(pid, session=None, data=None):
    kinds = {}
    for fd in glob.glob(f"/proc/{pid}/fd/*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:"): k = "socket"
        elif target.startswith("pipe:"): k = "pipe"
        elif target.startswith("anon_inode:"): k = target[len("anon_inode:"):].strip("[]")
        elif session and target.startswith(session): k = "session folder"
        elif data and target.startswith(data): k = "data"
        elif target.startswith("/dev/"): k = "device"
        elif ".so" in target or target.endswith(".dll"): k = "library"
        else: k = "other file"
        kinds[k] = kinds.get(k, 0) + 1
    return dict(sorted(kinds.items(), key=lambda kv: -kv[1]))


def idle_cpu(pid, seconds, per_thread=False):
    """Percent of one core over `seconds`; with per_thread, also the threads grouped by name (percent, count)."""
    a, ta = ticks(pid), thread_ticks(pid) if per_thread else None
    time.sleep(seconds)
    b = ticks(pid)
    pct = round((b - a) / HZ / seconds * 100, 2)
    if not per_thread: return pct, None
    tb = thread_ticks(pid)
    groups = {}
    for tid, (name, t) in tb.items():
        before = ta.get(tid, (name, 0))[1]
        g = groups.setdefault(name, [0.0, 0])
        g[0] += (t - before) / HZ / seconds * 100; g[1] += 1
    return pct, {k: [round(v[0], 2), v[1]] for k, v in sorted(groups.items(), key=lambda kv: -kv[1][0])}


def loadavg():
    return open("/proc/loadavg").read().split()[:3]


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def end(proc, timeout):
    """SIGTERM, wait up to `timeout`; returns (seconds, exit code, killed)."""
    t = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=timeout); killed = False
    except subprocess.TimeoutExpired:
        proc.kill(); code = proc.wait(); killed = True
    return round(time.perf_counter() - t, 2), code, killed


def wait_for(pred, timeout, step=0.05):
    t = time.time()
    while time.time() - t < timeout:
        try:
            if pred(): return True
        except (OSError, RuntimeError, ConnectionError):
            pass
        time.sleep(step)
    return False


# ---------------------------------------------------------------- tracker

class Tracker:
    def __init__(self, base, port, whitelist):
        self.dir, self.port = base + "/tracker", port
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(base, 0o755); os.chmod(self.dir, 0o755)  # opentracker chroots to -d and drops to nobody
        shutil.copy(whitelist, self.dir + "/whitelist"); os.chmod(self.dir + "/whitelist", 0o644)
        self.proc = subprocess.Popen(["opentracker", "-i", "127.0.0.1", "-p", str(port), "-P", str(port), "-d", self.dir,
                                      "-w", "whitelist", "-A", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for(lambda: self.peers() is not None, 10): raise RuntimeError("opentracker did not start")

    def peers(self):
        """(peers, seeds) the tracker lists, from its stats page (the admin address may read it)."""
        import http.client
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            c.request("GET", "/stats?mode=peer"); body = c.getresponse().read().decode(errors="replace").split("\n")
            return int(body[0]), int(body[1])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try: self.proc.wait(10)
            except subprocess.TimeoutExpired: self.proc.kill(); self.proc.wait()


# ---------------------------------------------------------------- clients

class RTorrent:
    name = "RTorrent"

    def __init__(self, base, data, n):
        self.base, self.data, self.n = base, data, n
        self.session, self.watch = base + "/session", base + "/watch"
        os.makedirs(self.session); os.makedirs(self.watch)
        json.dump({"listenPort": 0, "dhtEnabled": False, "lsdEnabled": False, "downloadDirectory": data,
                   "watchDirectory": self.watch, "rpcBind": []}, open(self.session + "/settings.json", "w"))
        self.env = dict(os.environ, XDG_DATA_HOME=base + "/xdg", XDG_CONFIG_HOME=base + "/xdg")
        self.proc = None; self.client = None

    def version(self):
        return "commit " + git_commit()

    def command(self):
        return ["dotnet", DLL, "daemon", "--session", self.session]

    def start(self, wrap=None):
        self.proc = subprocess.Popen((wrap or []) + self.command(), env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=open(self.base + "/daemon.err", "a"))
        self.client = None; self.instance = None; self.version_seen = 0; self.states = {}
        return self.proc

    def ready(self):
        if self.proc.poll() is not None: raise RuntimeError(f"exited with {self.proc.returncode}")
        if not os.path.exists(self.session + "/rpc.sock"): return False
        c = rpc.native(self.session); c.call("hello"); self.client = c
        return True

    def seeding(self):
        """Number of torrents seeding; the session is asked only for what changed since the last call."""
        args = {"instance": self.instance, "since": self.version_seen} if self.instance else {}
        r = self.client.call("session", args)
        if r.get("full") or r.get("instance") != self.instance: self.states = {}
        self.instance, self.version_seen = r["instance"], r["version"]
        for t in r["session"]["torrents"]: self.states[t["id"]] = t["state"]
        for i in r.get("removed") or []: self.states.pop(i, None)
        return sum(1 for s in self.states.values() if s == "Seeding"), len(self.states)

    def pid(self):
        return self.proc.pid

    def interface(self, tmux, size):
        return tmux.start(size, f"XDG_DATA_HOME={self.base}/xdg XDG_CONFIG_HOME={self.base}/xdg exec dotnet {DLL} --session {self.session}")

    def interface_ready(self, screen):
        return f"{self.n:,} torrents" in screen or f"{self.n} torrents" in screen


class RTorrent098:
    name = "rTorrent 0.9.8"

    def __init__(self, base, data, n):
        self.base, self.data, self.n = base, data, n
        self.session, self.watch, self.sock = base + "/session", base + "/watch", base + "/scgi.sock"
        os.makedirs(self.session); os.makedirs(self.watch)
        self.port = free_port()
        self.proc = None

    def config(self, daemon=True):
        path = self.base + ("/rtorrent.rc" if daemon else "/rtorrent-ui.rc")
        with open(path, "w") as f:
            f.write("\n".join([
                "system.daemon.set = true" if daemon else "",
                f"session.path.set = {self.session}",
                f"directory.default.set = {self.data}",
                f"network.scgi.open_local = {self.sock}",
                # The watch folder as the issue has it: looked at every 5 s (load.start skips what is loaded).
                f'schedule2 = watch_directory,5,5,"load.start={self.watch}/*.torrent"',
                "dht.mode.set = disable", "protocol.pex.set = no", "trackers.use_udp.set = no",
                f"network.port_range.set = {self.port}-{self.port}", "network.port_random.set = no",
                "network.bind_address.set = 127.0.0.1", "network.local_address.set = 127.0.0.1",
                f"log.open_file = main, {self.base}/rtorrent.log", "log.add_output = info, main", ""]))
        return path

    def version(self):
        try:
            v = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "rtorrent"], capture_output=True, text=True).stdout
            return "Debian rtorrent " + v
        except OSError:
            return "rtorrent"

    def command(self, daemon=True):
        return [RTORRENT098, "-n", "-o", "import=" + self.config(daemon)]

    def start(self, wrap=None):
        if os.path.exists(self.sock): os.unlink(self.sock)
        self.proc = subprocess.Popen((wrap or []) + self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.base + "/rtorrent.err", "a"))
        self.client = None
        return self.proc

    def ready(self):
        if self.proc is not None and self.proc.poll() is not None: raise RuntimeError(f"exited with {self.proc.returncode}")
        if not os.path.exists(self.sock): return False
        c = scgi.ScgiXmlRpc(self.sock); c.call("system.client_version"); self.client = c
        return True

    def seeding(self):
        rows = self.client.call("d.multicall2", "", "main", "d.complete=", "d.state=", "d.is_active=", "d.is_hash_checking=")
        return sum(1 for c, s, a, h in rows if c == 1 and s == 1 and a == 1 and h == 0), len(rows)

    def pid(self):
        return self.proc.pid


def git_commit():
    try:
        c = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
        return c + ("+changes" if dirty else "")
    except OSError:
        return "?"


# ---------------------------------------------------------------- progress

def until_all_seeding(client, n, t0, timeout, timeline):
    """Polls until all n seed or `timeout` seconds from t0 passed. Returns (seconds or None, seeding reached, loaded).
    The interval grows with the cost of a call (at least 0.25 s, at least 4 times the call), so polling takes at
    most about a fifth of the time."""
    seeding = loaded = 0; last_mark = -1e9
    while True:
        now = time.perf_counter()
        if now - t0 > timeout: return None, seeding, loaded
        try:
            seeding, loaded = client.seeding()
        except (OSError, RuntimeError, ConnectionError, ValueError) as e:
            if client.proc.poll() is not None: raise RuntimeError(f"{client.name} exited with {client.proc.returncode}") from e
            time.sleep(0.25); continue
        took = time.perf_counter() - now
        at = time.perf_counter() - t0
        if at - last_mark >= 10 or seeding == n:
            timeline.append([round(at, 1), seeding, loaded]); last_mark = at
        if seeding == n: return round(at, 2), seeding, loaded
        time.sleep(max(0.25, 4 * took))


def move_into_watch(src_dir, staging, watch):
    """Each .torrent written beside the watch folder, then renamed into it (whole files only)."""
    os.makedirs(staging, exist_ok=True)
    names = sorted(os.listdir(src_dir))
    for name in names: shutil.copy(os.path.join(src_dir, name), os.path.join(staging, name))
    for name in names: os.rename(os.path.join(staging, name), os.path.join(watch, name))


# ---------------------------------------------------------------- the interface in tmux

class Tmux:
    def __init__(self, tag):
        self.t = ["tmux", "-L", f"rtseedbox{os.getpid()}{tag}"]; self.s = "bench"

    def start(self, size, command):
        w, h = size.split("x")
        subprocess.run(self.t + ["-f", "/dev/null", "new-session", "-d", "-s", self.s, "-x", w, "-y", h, command], check=True)
        return int(subprocess.check_output(self.t + ["display", "-p", "-t", self.s, "#{pane_pid}"]).strip())

    def cap(self):
        return subprocess.check_output(self.t + ["capture-pane", "-p", "-t", self.s])

    def key(self, k):
        subprocess.run(self.t + ["send-keys", "-t", self.s, k])

    def resize(self, size):
        w, h = size.split("x")
        subprocess.run(self.t + ["resize-window", "-t", self.s, "-x", w, "-y", h])

    def kill(self):
        subprocess.run(self.t + ["kill-server"], stderr=subprocess.DEVNULL)


def time_keys(tmux, sizes, presses, home_key="Home"):
    """Median (and p95, max) of Down key to changed screen at each size, after warm-up presses at that size."""
    out = {}
    for size in sizes:
        tmux.resize(size); time.sleep(2)
        for k in ["Down", "Up"] * 5: tmux.key(k); time.sleep(0.15)
        tmux.key(home_key); time.sleep(1)
        lat = []
        for _ in range(presses):
            before = tmux.cap(); t = time.perf_counter()
            tmux.key("Down")
            while tmux.cap() == before and time.perf_counter() - t < 2: pass
            lat.append((time.perf_counter() - t) * 1000)
            time.sleep(0.15)
        lat.sort()
        out[size] = {"median_ms": round(statistics.median(lat), 1), "p95_ms": round(lat[max(0, int(len(lat) * 0.95) - 1)], 1),
                     "max_ms": round(lat[-1], 1), "presses": len(lat), "unchanged": sum(1 for x in lat if x >= 2000)}
    return out


# ---------------------------------------------------------------- diagnostics (RTorrent)

def diagnose_window(pid, ddir, tag, seconds, session, data):
    """strace -c -f, dotnet-counters and per-thread CPU over the same `seconds`; returns a summary."""
    os.makedirs(ddir, exist_ok=True)
    tids = [os.path.basename(t) for t in glob.glob(f"/proc/{pid}/task/*")]
    st_out = f"{ddir}/{tag}-strace.txt"
    st = subprocess.Popen(["strace", "-c", "-f", "-o", st_out] + sum((["-p", t] for t in tids), []),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctr_out = f"{ddir}/{tag}-counters.json"
    ctr = subprocess.Popen([TOOLS + "/dotnet-counters", "collect", "-p", str(pid), "--format", "json", "-o", ctr_out,
                            "--refresh-interval", "5", "--counters", "System.Runtime"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    pct, threads = idle_cpu(pid, seconds, per_thread=True)
    for p in (st, ctr):
        p.send_signal(signal.SIGINT)
        try: p.wait(30)
        except subprocess.TimeoutExpired: p.kill(); p.wait()
    summary = {"cpu_pct_while_traced": pct, "threads_by_name": threads, "fds": fd_kinds(pid, session, data),
               "threads": status(pid, "Threads"), "rss_mib": rss_mib(pid)}
    try:
        lines = open(st_out).read().splitlines()
        rows = [l.split() for l in lines if l and l[0] == " " or (l and l[0].isdigit())]
        calls = []
        for r in rows:
            if len(r) >= 5 and r[-1] != "total":
                try: calls.append((r[-1], int(r[3])))
                except ValueError: pass
        summary["syscalls_top"] = dict(sorted(calls, key=lambda c: -c[1])[:12])
        summary["syscalls_total"] = sum(c for _, c in calls)
    except OSError:
        pass
    summary["counters"] = counters_summary(ctr_out)
    return summary


def counters_summary(path):
    """From dotnet-counters' JSON: rates added up over the window (per second), gauges at their largest."""
    try:
        text = open(path).read().strip()
        if not text.endswith("]}"): text = text.rstrip(",\n ") + "]}"
        events = json.loads(text).get("Events", [])
    except (OSError, ValueError):
        return None
    sums, peaks, span = {}, {}, set()
    for e in events:
        name = e.get("name", "")
        if e.get("tags"): name += "[" + e["tags"] + "]"
        v = e.get("value") or 0
        span.add(e.get("timestamp"))
        if "/ " in name: sums[name] = sums.get(name, 0) + v
        else: peaks[name] = max(peaks.get(name, 0), v)
    seconds = max(1, (len(span) - 1) * 5)
    out = {k.replace(" / 5 sec", " per s"): round(v / seconds, 2) for k, v in sums.items() if v}
    out.update({k: v for k, v in peaks.items() if v})
    return out


def gcdump_top(pid, ddir, tag):
    out = f"{ddir}/{tag}.gcdump"
    try:
        subprocess.run([TOOLS + "/dotnet-gcdump", "collect", "-p", str(pid), "-o", out], capture_output=True, timeout=300)
        rep = subprocess.run([TOOLS + "/dotnet-gcdump", "report", out], capture_output=True, text=True, timeout=300).stdout
        open(f"{ddir}/{tag}-gcdump.txt", "w").write(rep)
        return rep.splitlines()[:30]
    except (OSError, subprocess.TimeoutExpired) as e:
        return [f"gcdump failed: {e}"]


def trace_top(pid, ddir, tag, seconds):
    out = f"{ddir}/{tag}.nettrace"
    try:
        subprocess.run([TOOLS + "/dotnet-trace", "collect", "-p", str(pid), "--profile", "dotnet-sampled-thread-time", "--duration",
                        "00:" + time.strftime("%H:%M:%S", time.gmtime(seconds)), "-o", out], capture_output=True, timeout=seconds + 120,
                       stdin=subprocess.DEVNULL)
        rep = subprocess.run([TOOLS + "/dotnet-trace", "report", out, "topN", "-n", "25", "--inclusive"], capture_output=True,
                             text=True, timeout=600).stdout
        rep_ex = subprocess.run([TOOLS + "/dotnet-trace", "report", out, "topN", "-n", "25"], capture_output=True,
                                text=True, timeout=600).stdout
        open(f"{ddir}/{tag}-trace-top.txt", "w").write("inclusive:\n" + rep + "\nexclusive:\n" + rep_ex)
        return rep_ex.splitlines()[:30]
    except (OSError, subprocess.TimeoutExpired) as e:
        return [f"trace failed: {e}"]


# ---------------------------------------------------------------- one client

def measure(kind, n, dataset, tracker_port, args):
    base = tempfile.mkdtemp(prefix=f"rt-seedbox-{kind.__name__.lower()}-")
    res = {"client": kind.name, "n": n, "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "host": platform.node(), "loadavg_before": loadavg()}
    tracker = None; c = None; tmux = None; others = []
    try:
        tracker = Tracker(base, tracker_port, dataset + "/infohashes.txt")
        c = kind(base, dataset + "/data", n)
        res["version"] = c.version()
        log(f"{kind.name} {n}: starting")
        t_start = time.perf_counter(); c.start()
        if not wait_for(c.ready, 120): raise RuntimeError("no RPC answer within 120 s")
        res["start_to_rpc_s"] = round(time.perf_counter() - t_start, 2)
        # 1. watch folder
        t0 = time.perf_counter()
        move_into_watch(dataset + "/torrents", base + "/staging", c.watch)
        res["moved_into_watch_s"] = round(time.perf_counter() - t0, 2)
        timeline = []
        took, reached, loaded = until_all_seeding(c, n, t0, args.timeout, timeline)
        res.update(watch_to_all_seeding_s=took, watch_reached=reached, watch_loaded=loaded, watch_timeline=timeline)
        log(f"{kind.name} {n}: watch folder to all seeding {took} s (reached {reached})")
        # 2. settled
        if args.keys_only: args.settle = min(args.settle, 10)
        time.sleep(args.settle)
        pid = c.pid()
        res["rss_settled_mib"] = rss_mib(pid)
        res["threads"] = status(pid, "Threads")
        res["fds"] = fd_kinds(pid, c.session, c.data)
        res["tracker_peers_seeds_settled"] = tracker.peers()
        res["loadavg_before_idle"] = loadavg()
        if not args.keys_only:
            cpu, by_thread = idle_cpu(pid, args.window, per_thread=True)
            res["idle_cpu_pct"] = cpu; res["idle_window_s"] = args.window; res["idle_cpu_by_thread"] = by_thread
            res["rss_after_idle_mib"] = rss_mib(pid)
            log(f"{kind.name} {n}: RSS {res['rss_settled_mib']} MiB, idle {cpu}% of a core")
        if args.diagnose and kind is RTorrent:
            d = args.diagnose + f"/{n}"
            res["diag_idle"] = diagnose_window(pid, d, "idle", 30, c.session, c.data)
            res["diag_idle"]["gcdump_top"] = gcdump_top(pid, d, "idle")
            res["diag_idle"]["trace_top_exclusive"] = trace_top(pid, d, "idle", 30)
            time.sleep(10)
        # 3. keys
        if kind is RTorrent and args.sizes:
            tmux = Tmux("a"); ui = c.interface(tmux, args.sizes[0])
            if wait_for(lambda: c.interface_ready(tmux.cap().decode(errors="replace")), 180, 0.5):
                time.sleep(5)
                res["keys"] = time_keys(tmux, args.sizes, args.presses)
                res["interface_rss_mib"] = rss_mib(ui)
            else:
                res["keys"] = "the interface showed no full list within 180 s"
                open(base + "/screen.txt", "wb").write(tmux.cap())
            tmux.kill(); tmux = None
            wait_for(lambda: not os.path.exists(f"/proc/{ui}"), 10)  # SIGHUP: it saves and exits by itself
            if os.path.exists(f"/proc/{ui}"): os.kill(ui, signal.SIGKILL)
            time.sleep(5)
        # 4. quit
        res["loadavg_before_quit"] = loadavg()
        res["quit_s"], res["quit_exit"], res["quit_killed"] = end(c.proc, args.timeout)
        time.sleep(1)
        res["tracker_peers_seeds_after_quit"] = tracker.peers()
        log(f"{kind.name} {n}: quit {res['quit_s']} s (exit {res['quit_exit']})")
        # 4b. the interface on a session of its own (RTorrent, --local-keys)
        if kind is RTorrent and args.local_keys and args.sizes:
            time.sleep(2)
            if os.path.exists(c.session + "/rpc.sock"): os.unlink(c.session + "/rpc.sock")
            res["keys_local"] = time_local_keys(c, args)
        if args.keys_only: return res
        # 5. restart
        time.sleep(2)
        t0 = time.perf_counter(); c.start()
        if not wait_for(c.ready, 120): raise RuntimeError("no RPC answer after restart within 120 s")
        res["restart_to_rpc_s"] = round(time.perf_counter() - t0, 2)
        timeline = []
        took, reached, loaded = until_all_seeding(c, n, t0, args.timeout, timeline)
        res.update(restart_to_all_seeding_s=took, restart_reached=reached, restart_loaded=loaded, restart_timeline=timeline)
        res["rss_after_restart_mib"] = rss_mib(c.pid())
        log(f"{kind.name} {n}: restart to all seeding {took} s (reached {reached})")
        time.sleep(5)
        res["quit_after_restart_s"], res["quit_after_restart_exit"], _ = end(c.proc, args.timeout)
        # 6. rTorrent's own interface on the same session (not a daemon)
        if kind is RTorrent098 and args.rt_keys and args.sizes:
            tmux = Tmux("b")
            if os.path.exists(c.sock): os.unlink(c.sock)
            ui = tmux.start(args.sizes[0], " ".join(c.command(daemon=False)))
            c.proc = None
            if wait_for(c.ready, 120) and until_all_seeding(_Pid(c, ui), n, time.perf_counter(), args.timeout, [])[0] is not None:
                time.sleep(5)
                res["keys"] = time_keys(tmux, args.sizes, args.presses)
                res["keys_note"] = "rTorrent's own ncurses interface, started (not a daemon) on the same session in tmux"
            try: os.kill(ui, signal.SIGTERM)
            except ProcessLookupError: pass
            wait_for(lambda: not os.path.exists(f"/proc/{ui}"), args.timeout, 0.2)
            tmux.kill(); tmux = None
        # 7. a traced restart (RTorrent, --diagnose)
        if args.diagnose and kind is RTorrent:
            d = args.diagnose + f"/{n}"
            time.sleep(2)
            t0 = time.perf_counter(); c.start()
            wait_for(lambda: os.path.exists(f"/proc/{c.pid()}/task"), 10)
            time.sleep(0.3)
            res["diag_restart"] = diagnose_window(c.pid(), d, "restart", min(60, args.timeout), c.session, c.data)
            try:
                c.ready(); res["diag_restart"]["seeding_loaded_after_window"] = c.seeding()
            except (OSError, RuntimeError) as e:
                res["diag_restart"]["seeding_loaded_after_window"] = str(e)
            res["diag_restart"]["window_ended_s_after_start"] = round(time.perf_counter() - t0, 1)
            res["diag_restart"]["quit_mid_restore_s"], res["diag_restart"]["quit_mid_restore_exit"], _ = end(c.proc, args.timeout)
        return res
    except Exception as e:  # a failed run still reports what it reached
        res["error"] = f"{type(e).__name__}: {e}"
        return res
    finally:
        if tmux: tmux.kill()
        for p in ([c.proc] if c and c.proc else []):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try: p.wait(60)
                except subprocess.TimeoutExpired: p.kill(); p.wait()
        if tracker: tracker.stop()
        if args.keep: log("kept", base)
        else: shutil.rmtree(base, ignore_errors=True)


def time_local_keys(c, args):
    """Down key timing of `rtorrent --session DIR` with no daemon: it restores the N torrents itself."""
    tmux = Tmux("l"); ui = c.interface(tmux, args.sizes[0])
    try:
        if not wait_for(lambda: c.interface_ready(tmux.cap().decode(errors="replace")), args.timeout, 0.5):
            open(c.base + "/screen-local.txt", "wb").write(tmux.cap())
            return "the interface showed no full list within the timeout"
        time.sleep(5)
        keys = time_keys(tmux, args.sizes, args.presses)
        keys["interface_rss_mib"] = rss_mib(ui)
        return keys
    finally:
        tmux.kill()
        wait_for(lambda: not os.path.exists(f"/proc/{ui}"), 60)  # SIGHUP: it saves and exits by itself
        if os.path.exists(f"/proc/{ui}"): os.kill(ui, signal.SIGKILL)


class _Pid:
    """The interactive rTorrent (started by tmux, so no Popen) seen as a client for until_all_seeding."""
    def __init__(self, c, pid):
        self.c, self.name = c, c.name
        self.proc = type("P", (), {"poll": staticmethod(lambda: None if os.path.exists(f"/proc/{pid}") else 1),
                                   "returncode": "?"})()
    def seeding(self):
        return self.c.seeding()


# ---------------------------------------------------------------- table

def fmt_s(v, reached=None, n=None):
    if v is None: return f"not all within the limit ({reached:,} of {n:,})" if reached is not None else ""
    return f"{v:.1f} s"


def table(results):
    rows = ["| | N torrents | watch folder to all seeding | restart to all seeding | memory once settled (RSS) | "
            "idle CPU settled, nothing changing | Down key to screen change median (80x24 / 120x40 / 200x60) | quit |",
            "|---|---|---|---|---|---|---|---|"]
    for r in results:
        keys = r.get("keys")
        k = " / ".join(f"{v['median_ms']:.0f}" for v in keys.values()) + " ms" if isinstance(keys, dict) else (keys or "")
        if r["client"] == "rTorrent 0.9.8" and not isinstance(keys, dict): k = "(no interface as a daemon)"
        rows.append(f"| {r['client']} | {r['n']:,} | {fmt_s(r.get('watch_to_all_seeding_s'), r.get('watch_reached'), r['n'])} | "
                    f"{fmt_s(r.get('restart_to_all_seeding_s'), r.get('restart_reached'), r['n'])} | "
                    f"{r.get('rss_settled_mib', 0):.0f} MiB | {r.get('idle_cpu_pct', float('nan')):.2f} % of a core | {k} | "
                    f"{r['quit_s']:.1f} s |" if "quit_s" in r else
                    f"| {r['client']} | {r['n']:,} | error: {r.get('error', '?')} | | | | | |")
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=1000, help="torrents (default 1000)")
    ap.add_argument("--clients", default="rtorrent,rtorrent098", help="rtorrent,rtorrent098 (default both)")
    ap.add_argument("--settle", type=float, default=60, help="seconds between all seeding and the memory/CPU readings")
    ap.add_argument("--window", type=float, default=60, help="idle CPU window, seconds")
    ap.add_argument("--timeout", type=float, default=1200, help="bound of each long wait (adding, restoring, quitting)")
    ap.add_argument("--sizes", default="80x24,120x40,200x60", help="terminal sizes for the key timing ('' for none)")
    ap.add_argument("--presses", type=int, default=30)
    ap.add_argument("--rt-keys", action="store_true", help="also time rTorrent 0.9.8's own interface (non-daemon, in tmux)")
    ap.add_argument("--diagnose", metavar="DIR", help="RTorrent: strace, counters, gcdump, trace, per-thread CPU into DIR")
    ap.add_argument("--lock", help="flock this file around each client's measurement (e.g. /tmp/rt-cpu.lock)")
    ap.add_argument("--jsonl", help="append each result line to this file too")
    ap.add_argument("--keep", action="store_true", help="keep the throw-away folders")
    ap.add_argument("--keys-only", action="store_true", help="RTorrent: only all seeding, the key timing and quit (no idle window, no restart)")
    ap.add_argument("--local-keys", action="store_true", help="RTorrent: also time the keys of the interface on a session of its own")
    ap.add_argument("--table", metavar="JSONL", help="only print the Markdown table of saved results")
    args = ap.parse_args()
    if args.table:
        print(table([json.loads(l) for l in open(args.table) if l.strip()])); return
    args.sizes = [s for s in args.sizes.split(",") if s]
    if args.diagnose: args.diagnose = os.path.abspath(args.diagnose)
    kinds = {"rtorrent": RTorrent, "rtorrent098": RTorrent098}
    clients = [kinds[k.strip()] for k in args.clients.split(",")]
    if RTorrent in clients and not os.path.exists(DLL): sys.exit(f"{DLL} is missing: dotnet build RTorrent.sln -c Release")
    if RTorrent098 in clients and not os.path.exists(RTORRENT098): sys.exit(f"{RTORRENT098} is missing: apt-get install -y rtorrent")
    work = tempfile.mkdtemp(prefix="rt-seedbox-data-")
    results = []
    try:
        tracker_port = free_port()
        t = time.perf_counter()
        sys.argv = ["make_torrents.py", str(args.n), work, f"http://127.0.0.1:{tracker_port}/announce"]
        make_torrents.main()
        log(f"made {args.n} torrents in {time.perf_counter() - t:.1f} s ({work})")
        for kind in clients:
            lock = open(args.lock, "a") if args.lock else None
            waited = time.perf_counter()
            if lock: fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                r = measure(kind, args.n, work, tracker_port, args)
                r["lock_waited_s"] = round(time.perf_counter() - waited, 1) if lock else None
            finally:
                if lock: lock.close()
            results.append(r)
            line = json.dumps(r)
            print(line, flush=True)
            if args.jsonl: open(args.jsonl, "a").write(line + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(table(results))


if __name__ == "__main__":
    main()
