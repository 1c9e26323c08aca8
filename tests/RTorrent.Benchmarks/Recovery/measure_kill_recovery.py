#!/usr/bin/env python3
"""Recovery after kill -9 (issue 14 item 5): time from start to the first peer, bytes read, pieces kept.
Usage (from the repository root, under the shared CPU lock):
  flock /tmp/rt-cpu.lock python3 tests/RTorrent.Benchmarks/Recovery/measure_kill_recovery.py [MIB] [--at F]
      [--repo DIR] [--base DIR]
Builds recovery_worker.cs against the engine of --repo (default: this tree; an older tree gets a copy of the worker,
which uses only public API, so `git archive COMMIT | tar -x -C DIR` measures a commit), makes a random payload of MIB
MiB (default 4096) and its torrent once in --base (default a temporary folder, removed at exit), seeds it from one
process and downloads it in another. Kills the leecher with SIGKILL when it has the fraction F of the pieces
(default 0.5; 1 = 0.3 s after it completed), starts it again and reports, from that process' start: seconds to the
first connected peer, bytes it read (rchar) by then, and the pieces it had then against the pieces it had at the kill
(last progress line before the kill, up to 50 ms old). Prints one JSON line."""
import json, os, shutil, signal, subprocess, sys, tempfile, time

here = os.path.dirname(os.path.abspath(__file__))
args = sys.argv[1:]
mib = int(args[0]) if args and args[0].isdigit() else 4096
at = float(args[args.index("--at") + 1]) if "--at" in args else 0.5
repo = os.path.abspath(args[args.index("--repo") + 1]) if "--repo" in args else os.path.abspath(os.path.join(here, "..", "..", ".."))
base = args[args.index("--base") + 1] if "--base" in args else None
keep = base is not None
base = os.path.abspath(base or tempfile.mkdtemp(prefix="rt-kill-recovery-"))
os.makedirs(base, exist_ok=True)

worker_dir = os.path.join(repo, "tests", "RTorrent.Benchmarks", "Recovery")
os.makedirs(worker_dir, exist_ok=True)
if os.path.abspath(worker_dir) != here: shutil.copy(os.path.join(here, "recovery_worker.cs"), worker_dir)
out = os.path.join(base, "bin-" + str(abs(hash(repo))))
subprocess.run(["dotnet", "build", os.path.join(worker_dir, "recovery_worker.cs"), "-c", "Release", "-o", out, "-nologo", "-v", "q"],
               check=True, stdout=subprocess.DEVNULL)
worker = ["dotnet", os.path.join(out, "recovery_worker.dll")]

if not os.path.exists(os.path.join(base, "payload.torrent")):
    subprocess.run(worker + ["prepare", base, str(mib)], check=True)
for d in ("leech", "leech-session"): shutil.rmtree(os.path.join(base, d), ignore_errors=True)
if os.path.exists(os.path.join(base, "seed.port")): os.remove(os.path.join(base, "seed.port"))

procs = []
def run(*a, **kw):
    p = subprocess.Popen(worker + list(a), stdout=subprocess.PIPE, stderr=open(os.path.join(base, a[0] + ".err"), "a"), text=True, **kw)
    procs.append(p); return p

try:
    seed = run("seed", base)
    while not os.path.exists(os.path.join(base, "seed.port")):
        if seed.poll() is not None: raise RuntimeError("the seeder exited")
        time.sleep(0.1)
    port = open(os.path.join(base, "seed.port")).read().strip()

    leech = run("leech", base, port)
    first = json.loads(leech.stdout.readline())
    count, last, done_at = first["count"], first, None
    for line in leech.stdout:
        last = json.loads(line)
        if at >= 1 and last["pieces"] >= count:
            done_at = done_at or time.perf_counter()
            if time.perf_counter() - done_at >= 0.3: break
        elif at < 1 and last["pieces"] >= at * count: break
    leech.send_signal(signal.SIGKILL); leech.wait()
    at_kill = last["pieces"]

    again = run("leech", base, port)
    restart = json.loads(again.stdout.readline())
    again.send_signal(signal.SIGKILL); again.wait()
    print(json.dumps({"mib": mib, "pieces": count, "kill_at": at, "pieces_at_kill": at_kill,
                      "first_peer_s": restart["seconds"], "read_mib": round(restart["rchar"] / 2**20, 1),
                      "pieces_at_first_peer": restart["pieces"], "first_run_first_peer_s": first["seconds"],
                      "repo": repo, "load": open("/proc/loadavg").read().split()[0]}))
finally:
    for p in procs:
        if p.poll() is None: p.send_signal(signal.SIGKILL); p.wait()
    if not keep: shutil.rmtree(base, ignore_errors=True)
