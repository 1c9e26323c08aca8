#!/usr/bin/env python3
"""Idle CPU of the real program's interface in tmux: an empty session with DHT, LSD and PEX off, so only the interface
and the engine's idle timers run. Usage (after `dotnet build src/RTorrent -c Release`, under the shared CPU lock):
  flock /tmp/rt-cpu.lock python3 tests/RTorrent.Tests/Tui/measure-real-idle.py [PATH/TO/rtorrent.dll]
The session, settings and downloads live in a throw-away folder; the tmux server has its own socket and the process is
killed by PID at the end.
"""
import os, subprocess, time, sys, json, shutil, tempfile
here = os.path.dirname(os.path.abspath(__file__))
dll = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "..", "src", "RTorrent", "bin", "Release", "net10.0", "rtorrent.dll")
S = "rt"; T = ["tmux", "-L", "rtrealidle"]
base = tempfile.mkdtemp(prefix="rt-real-idle-")
os.makedirs(base + "/session"); os.makedirs(base + "/dl")
json.dump({"listenPort": 0, "listenOnIPv6": False, "dhtEnabled": False, "lsdEnabled": False, "pexEnabled": False,
           "sessionDirectory": base + "/session", "downloadDirectory": base + "/dl"}, open(base + "/session/settings.json", "w"))
env = f"XDG_DATA_HOME={base}/data XDG_CONFIG_HOME={base}/config"
subprocess.run(T + ["new-session", "-d", "-s", S, "-x", "80", "-y", "24", f"{env} exec dotnet {dll} --session {base}/session"], check=True)
pid = int(subprocess.check_output(T + ["display", "-p", "-t", S, "#{pane_pid}"]).strip())
try:
    time.sleep(15)
    def ticks():
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split(); return int(f[11]) + int(f[12])
    a = ticks(); time.sleep(30); b = ticks()
    print(f"{dll}: idle CPU {(b - a) / 100 / 30 * 100:.2f}% of a core over 30 s")
finally:
    subprocess.run(T + ["kill-server"])
    time.sleep(4)  # SIGHUP: the program saves its session and exits by itself
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    shutil.rmtree(base, ignore_errors=True)
