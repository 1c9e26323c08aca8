using System.Text;

namespace RTorrent.Engine.Metainfo;

/// <summary>
/// Resolves BEP 47 symlink targets inside a multi-file torrent's folder, as the links will be on disk: through the
/// torrent's own tree of files, folders and other links, so <c>..</c> after a link goes to the parent of where that link
/// leads (like realpath), not lexically. A target that climbs above the torrent's folder, is absolute, holds a path
/// separator in an element, loops, or passes more than <see cref="MaxLinkHops"/> links is refused: the link is not
/// created and the reason is given. Everything else resolves to a path inside the folder (the folder itself included).
/// </summary>
/// <remarks>
/// BEP 47 reads a target from the torrent's root; libtorrent also reads it from the link's own folder when nothing in
/// the torrent has the root-relative path (macOS bundles link <c>Versions/Current</c> to <c>A</c>). So a target is tried
/// from the root first, then from the link's folder; a target found in neither but inside the folder is kept (the link
/// dangles, inside). Work is linear in the size of the targets: the tree is nodes of (parent, name), a position is a
/// node, <c>..</c> is its parent, and each link is resolved once (memoized).
/// </remarks>
internal sealed class SymlinkResolver
{
    /// <summary>Most links one target may pass through (Linux's MAXSYMLINKS).</summary>
    public const int MaxLinkHops = 40;

    /// <summary>
    /// Most characters of resolved targets in one torrent. A target of a few bytes can name a deep folder through
    /// another link ("x/a" with x -> a path 1000 folders deep), so a million such links would make gigabytes of paths
    /// from a small file; real torrents stay far below this. Links past it are refused.
    /// </summary>
    public const long MaxTargetCharacters = 8_000_000;

    private long _targetCharacters;

    private readonly Dictionary<(int Parent, string Name), int> _children = [];
    private readonly List<int> _parents = [-1];
    private readonly List<string> _names = [""];
    private readonly List<bool> _inTorrent = [true];
    private readonly List<int> _lengths = [0]; // characters of each node's path
    private readonly Dictionary<int, int> _linkAt = []; // node -> index into _links
    private readonly List<Link> _links = [];
    private readonly int _root;
    private readonly PathSanitizerOptions _options;

    private sealed class Link(int node, int parent, IReadOnlyList<ReadOnlyMemory<byte>> raw)
    {
        public int Node { get; } = node;
        public int Parent { get; } = parent;
        public IReadOnlyList<ReadOnlyMemory<byte>> Raw { get; } = raw;
        public int State; // 0 not resolved, 1 resolving, 2 done
        public int Target = -1; // node, or -1 when refused
        public string? Problem;
    }

    /// <param name="root">The torrent's folder (its sanitized name).</param>
    /// <param name="options">How the torrent's paths were sanitized (target elements are sanitized the same way).</param>
    public SymlinkResolver(string root, PathSanitizerOptions options)
    {
        _options = options;
        _root = Child(0, root, inTorrent: true);
    }

    /// <summary>A file or link of the torrent (sanitized path starting with the root).</summary>
    public void AddPath(string path)
    {
        int node = 0;
        foreach (var name in path.Split('/'))
        {
            ParseWork.Add(name.Length + 1);
            node = Child(node, name, inTorrent: true);
        }
    }

    /// <summary>A link at <paramref name="path"/> (already added) with the torrent's raw target elements; returns its id.</summary>
    public int AddLink(string path, IReadOnlyList<ReadOnlyMemory<byte>> rawTarget)
    {
        int node = Find(path);
        var link = new Link(node, _parents[node], rawTarget);
        _linkAt[node] = _links.Count;
        _links.Add(link);
        return _links.Count - 1;
    }

    /// <summary>The link's resolved target ('/'-separated, starting with the root), or null with the reason it is refused.</summary>
    public string? Resolve(int id, out string? problem, out bool dangling)
    {
        var link = _links[id];
        int hops = 0;
        ResolveLink(link, ref hops);
        problem = link.Problem;
        dangling = link.Target >= 0 && !_inTorrent[link.Target];
        if (link.Target < 0) return null;
        _targetCharacters += _lengths[link.Target];
        if (_targetCharacters > MaxTargetCharacters)
        {
            problem = $"the torrent's link targets pass {MaxTargetCharacters} characters in all (MaxTargetCharacters)";
            dangling = false;
            return null;
        }
        return PathOf(link.Target);
    }

    private void ResolveLink(Link link, ref int hops)
    {
        if (link.State == 2) return;
        if (link.State == 1) return; // the walk that reached it reports the loop
        link.State = 1;
        string? problem = null;
        int fromRoot = Walk(_root, link.Raw, ref hops, ref problem);
        int target = fromRoot;
        if (fromRoot < 0 || !_inTorrent[fromRoot])
        {
            string? second = null;
            int fromLink = problem is null || problem.Contains("outside", StringComparison.Ordinal)
                ? Walk(link.Parent, link.Raw, ref hops, ref second) : -1;
            if (fromLink >= 0 && (_inTorrent[fromLink] || fromRoot < 0))
            {
                target = fromLink;
                problem = null;
            }
        }
        if (target == link.Node) { target = -1; problem = "it points at itself"; }
        link.Target = target;
        link.Problem = target < 0 ? problem ?? "it cannot be resolved" : null;
        link.State = 2;
    }

    /// <summary>Walks the raw elements from <paramref name="start"/>; -1 with a problem when the walk must be refused.</summary>
    private int Walk(int start, IReadOnlyList<ReadOnlyMemory<byte>> raw, ref int hops, ref string? problem)
    {
        int node = start;
        foreach (var e in raw)
        {
            var span = e.Span;
            ParseWork.Add(span.Length + 1);
            if (span.IsEmpty || span.SequenceEqual("."u8)) continue;
            if (span.SequenceEqual(".."u8))
            {
                if (node == _root)
                {
                    problem = "it leads outside the torrent's folder";
                    return -1;
                }
                node = _parents[node];
                continue;
            }
            if (span.IndexOfAny((byte)'/', (byte)'\\') >= 0 || span.IndexOf((byte)0) >= 0 || (span.Length >= 2 && span[1] == ':'))
            {
                problem = "it is an absolute path or holds a path separator";
                return -1;
            }
            node = Child(node, PathSanitizer.SanitizeElement(span, _options), inTorrent: false);
            if (_linkAt.TryGetValue(node, out int id))
            {
                if (++hops > MaxLinkHops)
                {
                    problem = $"it passes more than {MaxLinkHops} links";
                    return -1;
                }
                var other = _links[id];
                ResolveLink(other, ref hops);
                if (other.Target < 0)
                {
                    problem = other.State == 1 ? "it loops through itself"
                        : $"it passes through a refused link ({PathOf(other.Node)})";
                    return -1;
                }
                node = other.Target;
            }
        }
        return node;
    }

    private int Child(int parent, string name, bool inTorrent)
    {
        if (_children.TryGetValue((parent, name), out int node))
        {
            if (inTorrent) _inTorrent[node] = true;
            return node;
        }
        node = _parents.Count;
        _children[(parent, name)] = node;
        _parents.Add(parent);
        _names.Add(name);
        _inTorrent.Add(inTorrent);
        _lengths.Add(parent == 0 ? name.Length : _lengths[parent] + 1 + name.Length);
        return node;
    }

    private int Find(string path)
    {
        int node = 0;
        foreach (var name in path.Split('/')) node = _children[(node, name)];
        return node;
    }

    private string PathOf(int node)
    {
        var parts = new List<string>();
        for (int n = node; n > 0; n = _parents[n]) parts.Add(_names[n]);
        parts.Reverse();
        ParseWork.Add(parts.Sum(p => p.Length + 1));
        return string.Join('/', parts);
    }

    /// <summary>The raw target as the torrent spelled it, for messages.</summary>
    public static string Spell(IReadOnlyList<ReadOnlyMemory<byte>> raw) =>
        string.Join('/', raw.Select(e => Encoding.UTF8.GetString(e.Span)));
}
