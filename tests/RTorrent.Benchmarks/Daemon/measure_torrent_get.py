#!/usr/bin/env python3
"""How long Transmission's `torrent-get` takes with N torrents, RTorrent's daemon beside transmission-daemon on the same
torrents and data (issue 12, item 7). Usage (after `dotnet build -c Release`, under the shared CPU lock):
  flock /tmp/rt-cpu.lock python3 tests/RTorrent.Benchmarks/Daemon/measure_torrent_get.py [N] [--only rtorrent|transmission]
Each daemon gets a throw-away session and its own RPC port on 127.0.0.1, loads the N torrents (RTorrent through its watch
folder, Transmission from its config folder's torrents/), and once all N are listed, the calls the web client makes are
timed from this script (HTTP round trip on loopback until the whole response is read; parsing it is left out) after SETTLE seconds (default 70, past
Transmission's 60 s recently-active window), 5 warm-up calls then 21 measured:
  - full:   torrent-get of every torrent with the web client's fields (its first poll),
  - active: torrent-get ids=recently-active with its stats fields (its poll every few seconds),
  - one:    torrent-get of one torrent with the inspector's fields (files, peers, trackerStats).
Prints one JSON line per daemon with median, min and max milliseconds and the response size."""
import json, os, shutil, socket, statistics, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rpc, make_torrents

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.abspath(os.path.join(here, "..", "..", ".."))
dll = os.environ.get("RTORRENT_DLL", os.path.join(repo, "src", "RTorrent", "bin", "Release", "net10.0", "rtorrent.dll"))
n = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 10000
only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
# Seconds to let the torrents settle before measuring: past Transmission's 60 s recently-active window by default.
settle = float(os.environ.get("SETTLE", "70"))

# The fields Transmission's web client (3.00, Debian's) asks for: Torrent.Fields.Metadata + Stats, and the inspector's.
METADATA = ["addedDate", "name", "totalSize"]
STATS = ["error", "errorString", "eta", "isFinished", "isStalled", "leftUntilDone", "metadataPercentComplete", "peersConnected",
         "peersGettingFromUs", "peersSendingToUs", "percentDone", "queuePosition", "rateDownload", "rateUpload", "recheckProgress",
         "seedRatioMode", "seedRatioLimit", "sizeWhenDone", "status", "trackers", "downloadDir", "uploadedEver", "uploadRatio",
         "webseedsSendingToUs"]
INSPECTOR = ["id", "activityDate", "corruptEver", "desiredAvailable", "downloadedEver", "fileStats", "haveUnchecked", "haveValid",
             "peers", "startDate", "trackerStats", "comment", "creator", "dateCreated", "files", "hashString", "isPrivate",
             "pieceCount", "pieceSize"]

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def wait_listed(client, count, limit=1800):
    t0 = time.time()
    while time.time() - t0 < limit:
        try:
            got = client.call("torrent-get", {"fields": ["id"]})
            if len(got["torrents"]) >= count: return time.time() - t0
        except (ConnectionError, OSError, RuntimeError):
            client.conn = None
        time.sleep(2)
    raise TimeoutError(f"only {len(got['torrents'])} of {count} torrents listed")

def timed(client, args, runs=21, warmup=5):
    """Milliseconds from sending the request to having read the whole response (what the daemon costs a client);
    parsing the JSON, which takes this script about 40 ms for 5 MB, is left out (it is checked once)."""
    times, size = [], 0
    for i in range(warmup + runs):
        data, took = client.raw("torrent-get", args)
        if i == 0:
            reply = json.loads(data)
            if reply.get("result") != "success": raise RuntimeError(reply.get("result"))
        if i >= warmup: times.append(took * 1000); size = len(data)
    return {"median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1), "max_ms": round(max(times), 1), "bytes": size}

def measure(name, client):
    listed = client.call("torrent-get", {"fields": ["id"]})["torrents"]
    one = listed[len(listed) // 2]["id"]
    return {"daemon": name, "torrents": len(listed),
            "full": timed(client, {"fields": ["id"] + METADATA + STATS}),
            "active": timed(client, {"fields": ["id"] + STATS, "ids": "recently-active"}),
            "one": timed(client, {"fields": INSPECTOR, "ids": [one]})}

base = tempfile.mkdtemp(prefix="rt-torrent-get-")
procs = []
try:
    make_torrents.main.__globals__["sys"].argv = ["make_torrents.py", str(n), base + "/set"]
    make_torrents.main()
    if only in (None, "rtorrent"):
        port = free_port()
        session = base + "/rt-session"; os.makedirs(session); os.makedirs(base + "/rt-watch")
        json.dump({"listenPort": 0, "dhtEnabled": False, "lsdEnabled": False, "downloadDirectory": base + "/set/data",
                   "watchDirectory": base + "/rt-watch", "rpcBind": [f"127.0.0.1:{port}"]}, open(session + "/settings.json", "w"))
        env = dict(os.environ, XDG_DATA_HOME=base + "/xdg", XDG_CONFIG_HOME=base + "/xdg")
        p = subprocess.Popen(["dotnet", dll, "daemon", "--session", session], env=env, stdout=subprocess.DEVNULL,
                             stderr=open(base + "/rtorrent.err", "w"))
        procs.append(p)
        client = rpc.transmission(port)
        wait_listed(client, 0, 60)
        for f in os.listdir(base + "/set/torrents"): shutil.copy(f"{base}/set/torrents/{f}", f"{base}/rt-watch/{f}")
        loaded = wait_listed(client, n)
        time.sleep(settle)
        result = measure("rtorrent", client); result["load_s"] = round(loaded, 1)
        print(json.dumps(result), flush=True)
        p.terminate(); p.wait(timeout=120)
    if only in (None, "transmission"):
        port = free_port()
        config = base + "/tr-config"; os.makedirs(config + "/torrents")
        for f in os.listdir(base + "/set/torrents"): shutil.copy(f"{base}/set/torrents/{f}", f"{config}/torrents/{f}")
        json.dump({"rpc-port": port, "rpc-bind-address": "127.0.0.1", "rpc-authentication-required": False,
                   "rpc-whitelist-enabled": False, "rpc-host-whitelist-enabled": False, "dht-enabled": False, "lpd-enabled": False,
                   "pex-enabled": False, "utp-enabled": False, "port-forwarding-enabled": False, "peer-port": free_port(),
                   "download-dir": base + "/set/data", "message-level": 1}, open(config + "/settings.json", "w"))
        p = subprocess.Popen(["transmission-daemon", "-f", "-g", config], stdout=subprocess.DEVNULL, stderr=open(base + "/transmission.err", "w"))
        procs.append(p)
        client = rpc.transmission(port)
        loaded = wait_listed(client, n)
        time.sleep(settle)
        result = measure("transmission-daemon " + subprocess.check_output(["transmission-daemon", "-V"], stderr=subprocess.STDOUT).decode().split()[1], client)
        result["load_s"] = round(loaded, 1)
        print(json.dumps(result), flush=True)
finally:
    for p in procs:
        try: p.terminate(); p.wait(timeout=120)
        except Exception: p.kill()
    shutil.rmtree(base, ignore_errors=True)
