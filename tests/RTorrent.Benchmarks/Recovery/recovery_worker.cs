#:project ../../../src/RTorrent.Engine/RTorrent.Engine.csproj
#:property PublishAot=false
// The processes measure_kill_recovery.py runs (issue 14 item 5): a seeder and a leecher, each an in-process
// ClientSession on loopback. Uses only public API that existed before the piece journal, so the same file measures
// an older tree too. Modes:
//   prepare BASE MIB   random payload BASE/seed/payload.bin of MIB MiB and BASE/payload.torrent (once)
//   seed BASE          seeds it (session BASE/seed-session), writes its port to BASE/seed.port, runs until killed
//   leech BASE PORT    session BASE/leech-session: restores it (or adds the torrent), adds the seeder as a peer,
//                      prints one JSON line when the first peer is connected, then progress lines, until killed
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Session;

string mode = args[0], root = args[1];
switch (mode)
{
    case "prepare":
    {
        long mib = long.Parse(args[2]);
        Directory.CreateDirectory(Path.Combine(root, "seed"));
        string payload = Path.Combine(root, "seed", "payload.bin");
        var chunk = new byte[16 << 20];
        var rng = new Random(14);
        await using (var f = new FileStream(payload, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            for (long done = 0; done < mib << 20; done += chunk.Length)
            {
                rng.NextBytes(chunk);
                f.Write(chunk, 0, (int)Math.Min(chunk.Length, (mib << 20) - done));
            }
        await TorrentCreator.CreateFileAsync(payload, Path.Combine(root, "payload.torrent"), new TorrentCreatorOptions { OmitCreationDate = true }, overwrite: true);
        break;
    }
    case "seed":
    {
        var meta = TorrentMetainfo.Load(Path.Combine(root, "payload.torrent"));
        await using var s = await ClientSession.OpenAsync(Options(Path.Combine(root, "seed-session"),
            long.Parse(Environment.GetEnvironmentVariable("SEED_UPLOAD_LIMIT") ?? "0")));
        var restored = await s.RestoreAsync();
        if (restored.Count == 0) await s.AddAsync(meta, new TorrentOptions { SavePath = Path.Combine(root, "seed") });
        File.WriteAllText(Path.Combine(root, "seed.port.part"), s.Engine.ListenPort.ToString());
        File.Move(Path.Combine(root, "seed.port.part"), Path.Combine(root, "seed.port"), true);
        await Task.Delay(Timeout.Infinite);
        break;
    }
    case "leech":
    {
        var meta = TorrentMetainfo.Load(Path.Combine(root, "payload.torrent"));
        var seeder = new IPEndPoint(IPAddress.Loopback, int.Parse(args[2]));
        var started = Process.GetCurrentProcess().StartTime.ToUniversalTime();
        double Since() => (DateTime.UtcNow - started).TotalSeconds;
        await using var s = await ClientSession.OpenAsync(Options(Path.Combine(root, "leech-session"), 0));
        string data = Path.Combine(root, "leech");
        Directory.CreateDirectory(data);
        bool saved = File.Exists(Path.Combine(root, "leech-session", meta.WireHash.ToHex() + ".resume"));
        Task adding = saved ? s.RestoreAsync() : s.AddAsync(meta, new TorrentOptions { SavePath = data });
        Torrent? t = null;
        while ((t = s.Engine.Torrents.FirstOrDefault()) is null) await Task.Delay(1);
        await t.AddPeerAsync(seeder); // known while it is checked: connected as soon as it starts
        bool first = false;
        while (true)
        {
            var snap = (await s.Engine.GetSnapshotAsync()).Torrents.FirstOrDefault(); // the only torrent
            if (snap is not null && !first && snap.PeersConnected > 0)
            {
                first = true;
                foreach (var entry in (await s.Engine.GetDetailsAsync([t]))[0].Log) Console.Error.WriteLine($"{entry.Level}: {entry.Message}");
                Console.WriteLine(JsonSerializer.Serialize(new { ev = "first_peer", seconds = Math.Round(Since(), 3), rchar = ReadChars(), pieces = snap.PiecesHave, count = meta.PieceCount, restored = saved }));
            }
            else if (snap is not null && first)
                Console.WriteLine(JsonSerializer.Serialize(new { ev = "progress", seconds = Math.Round(Since(), 3), pieces = snap.PiecesHave, count = meta.PieceCount }));
            await Task.Delay(first ? 50 : 5);
        }
    }
}

static SessionOptions Options(string session, long uploadLimit) => new()
{
    SessionDirectory = session,
    Engine = new EngineConfig { ListenAddress = IPAddress.Loopback, UploadLimit = uploadLimit },
    LoadPlugins = false,
    EnableDht = false,
    DisabledPeerSources = ["tracker", "pex", "lsd"],
};

// Bytes this process read through read(2) and friends so far (/proc/self/io rchar): the check's reads dominate.
static long ReadChars()
{
    foreach (var line in File.ReadLines("/proc/self/io"))
        if (line.StartsWith("rchar:", StringComparison.Ordinal)) return long.Parse(line[6..].Trim());
    return -1;
}
