#!/usr/bin/env python3
"""Makes N single-file torrents of 64 KiB (4 pieces of 16 KiB) with their data, for session-size benchmarks
(issues 12 and 13): DIR/data/t-00000.bin ... and DIR/torrents/t-00000.torrent ..., announcing to TRACKER if given,
and DIR/infohashes.txt (the whitelist Debian's opentracker needs to track them).
Usage: make_torrents.py N DIR [TRACKER_URL]. Deterministic content (torrent i holds bytes derived from i), so two runs
make the same info-hashes."""
import hashlib, os, sys

def bencode(v):
    if isinstance(v, int): return b"i%de" % v
    if isinstance(v, bytes): return b"%d:%s" % (len(v), v)
    if isinstance(v, str): return bencode(v.encode())
    if isinstance(v, list): return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, dict): return b"d" + b"".join(bencode(k) + bencode(v[k]) for k in sorted(v, key=lambda k: k.encode() if isinstance(k, str) else k)) + b"e"
    raise TypeError(type(v))

def main():
    n, root = int(sys.argv[1]), sys.argv[2]
    tracker = sys.argv[3] if len(sys.argv) > 3 else None
    data_dir, torrent_dir = os.path.join(root, "data"), os.path.join(root, "torrents")
    os.makedirs(data_dir, exist_ok=True); os.makedirs(torrent_dir, exist_ok=True)
    piece = 16 * 1024
    hashes = []
    for i in range(n):
        name = f"t-{i:05d}.bin"
        seed = hashlib.sha256(b"rtorrent-bench-%d" % i).digest()
        content = (seed * (64 * 1024 // len(seed) + 1))[:64 * 1024]
        path = os.path.join(data_dir, name)
        if not os.path.exists(path):
            with open(path, "wb") as f: f.write(content)
        pieces = b"".join(hashlib.sha1(content[o:o + piece]).digest() for o in range(0, len(content), piece))
        meta = {"info": {"name": name, "length": len(content), "piece length": piece, "pieces": pieces}, "created by": "make_torrents.py"}
        if tracker: meta["announce"] = tracker
        with open(os.path.join(torrent_dir, name[:-4] + ".torrent"), "wb") as f: f.write(bencode(meta))
        hashes.append(hashlib.sha1(bencode(meta["info"])).hexdigest())
    # Debian's opentracker only tracks listed torrents (-w): the info-hashes, one per line.
    with open(os.path.join(root, "infohashes.txt"), "w") as f: f.write("\n".join(hashes) + "\n")

if __name__ == "__main__":
    main()
