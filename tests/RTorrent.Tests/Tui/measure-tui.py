#!/usr/bin/env python3
"""Idle CPU and keypress-to-redraw of the real interface in tmux over the test assembly's fake backend.

Keys are pressed a few times first (the JIT compiles each path on its first use), then the process is left idle.
Usage (after `dotnet build tests/RTorrent.Tests -c Release`):  tests/RTorrent.Tests/Tui/measure-tui.py TORRENTS ACTIVE [SETTLE]
SETTLE is how long to wait before reading CPU time (10 s; the JIT is still re-compiling hot code for about a minute).
Latency is the time from `tmux send-keys` until `capture-pane` shows a different screen, so it includes tmux's delivery
and the polling of capture-pane (a few ms each): an upper bound of what the interface adds. The tmux server has its own
socket and is killed at the end.
"""
import os, subprocess, time, sys, statistics
DLL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bin", "Release", "net10.0", "RTorrent.Tests.dll")
N=sys.argv[1]; active=sys.argv[2]; settle=float(sys.argv[3]) if len(sys.argv)>3 else 10; S="tm"
T=["tmux","-L","rtmeasure"]
subprocess.run(T+["new-session","-d","-s",S,"-x","80","-y","24",f"exec dotnet {DLL} tui-fake {N} {active}"],check=True)
pid=int(subprocess.check_output(T+["display","-p","-t",S,"#{pane_pid}"]).strip())
cap=lambda: subprocess.check_output(T+["capture-pane","-p","-t",S])
t0=time.time()
while b"torrents" not in cap():
    time.sleep(0.1)
    if time.time()-t0>60: print("no start"); break
# Warm up as a user would have: the first presses run code the JIT has not compiled yet (tens of ms each).
for k in ["Down","Up"]*5+[">","<","f","F","Enter","Escape"]*2:
    subprocess.run(T+["send-keys","-t",S,k]); time.sleep(0.15)
time.sleep(settle)
def ticks(): 
    f=open(f"/proc/{pid}/stat").read().rsplit(")",1)[1].split(); return int(f[11])+int(f[12])
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1])//1024
a=ticks(); time.sleep(20); b=ticks()
print(f"{N} torrents, {active} active: idle CPU {(b-a)/100/20*100:.2f}% of a core over 20 s, RSS {rss()} MiB")
if active=="0":
  for keys in (["Down","Up"],[">","<"],["f","F"],["Enter","Escape"]):
    lat=[]; each={k:[] for k in keys}
    for i in range(20):
        for k in keys:
            before=cap(); t=time.perf_counter()
            subprocess.run(T+["send-keys","-t",S,k])
            while cap()==before and time.perf_counter()-t<2: pass
            ms=(time.perf_counter()-t)*1000
            lat.append(ms); each[k].append(ms)
            time.sleep(0.15)
    lat.sort()
    alone="; ".join(f"{k} alone median {statistics.median(v):.1f}, p95 {sorted(v)[int(len(v)*0.95)-1]:.1f}" for k,v in each.items())
    print(f"  {'/'.join(keys)}: keypress to changed screen median {statistics.median(lat):.1f} ms, p95 {lat[int(len(lat)*0.95)-1]:.1f} ms, max {lat[-1]:.1f} ms ({len(lat)} presses; {alone})")
subprocess.run(T+["kill-server"])
# The tui-fake host has no TerminalLost hook, so it would outlive its terminal: kill it by PID.
try:
    os.kill(pid, 9)
except ProcessLookupError:
    pass
