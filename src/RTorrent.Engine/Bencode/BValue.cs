using System.Text;

namespace RTorrent.Engine.Bencode;

/// <summary>A decoded (or built) bencode value. Decoded values remember where their bytes were in the input.</summary>
public abstract class BValue
{
    private protected BValue() { }

    /// <summary>The input the value was decoded from (empty for built values).</summary>
    public ReadOnlyMemory<byte> Source { get; internal set; }

    /// <summary>Offset of the value's first byte in <see cref="Source"/>.</summary>
    public int SourceOffset { get; internal set; }

    /// <summary>Length of the value's encoding in <see cref="Source"/>.</summary>
    public int SourceLength { get; internal set; }

    /// <summary>
    /// The exact bytes this value was decoded from. For values that were built rather than decoded, the canonical
    /// encoding. Info-hashes are computed over these bytes, never over a re-encoding.
    /// </summary>
    public ReadOnlyMemory<byte> RawBytes =>
        Source.IsEmpty ? BencodeWriter.Encode(this) : Source.Slice(SourceOffset, SourceLength);
}

/// <summary>A bencode integer.</summary>
public sealed class BInteger : BValue
{
    /// <summary>Creates an integer.</summary>
    public BInteger(long value) => Value = value;

    /// <summary>The value.</summary>
    public long Value { get; }

    /// <inheritdoc/>
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Implicit conversion for building values.</summary>
    public static implicit operator BInteger(long value) => new(value);
}

/// <summary>A bencode byte string. Decoded strings are slices of the input: nothing is copied until asked.</summary>
public sealed class BString : BValue, IEquatable<BString>
{
    private string? _text;

    /// <summary>Creates a string over bytes (not copied).</summary>
    public BString(ReadOnlyMemory<byte> bytes) => Bytes = bytes;

    /// <summary>Creates a string from text, encoded as UTF-8.</summary>
    public BString(string text)
    {
        Bytes = Encoding.UTF8.GetBytes(text);
        _text = text;
    }

    /// <summary>The raw bytes.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    /// <summary>The bytes as UTF-8 text (invalid sequences become U+FFFD).</summary>
    public string Text => _text ??= Encoding.UTF8.GetString(Bytes.Span);

    /// <summary>Whether the bytes are valid UTF-8.</summary>
    public bool IsValidUtf8 => System.Text.Unicode.Utf8.IsValid(Bytes.Span);

    /// <inheritdoc/>
    public bool Equals(BString? other) => other is not null && Bytes.Span.SequenceEqual(other.Bytes.Span);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is BString s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Bytes.Span);
        return hash.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString() => Text;

    /// <summary>Implicit conversion for building values.</summary>
    public static implicit operator BString(string text) => new(text);
}

/// <summary>A bencode list.</summary>
public sealed class BList : BValue, IReadOnlyList<BValue>
{
    private readonly List<BValue> _items;

    /// <summary>Creates an empty list.</summary>
    public BList() => _items = [];

    /// <summary>Creates a list of the given values.</summary>
    public BList(IEnumerable<BValue> items) => _items = [.. items];

    internal BList(List<BValue> items, bool _) => _items = items;

    /// <inheritdoc/>
    public BValue this[int index] => _items[index];

    /// <inheritdoc/>
    public int Count => _items.Count;

    /// <summary>Appends a value (for building).</summary>
    public void Add(BValue value) => _items.Add(value);

    /// <inheritdoc/>
    public IEnumerator<BValue> GetEnumerator() => _items.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// A bencode dictionary. Decoded dictionaries keep their entries in input order, duplicates included (lookups find
/// the first), and remember whether the keys were canonical (strictly ascending by raw bytes).
/// </summary>
public sealed class BDictionary : BValue, IEnumerable<KeyValuePair<BString, BValue>>
{
    /// <summary>Up to this many entries a lookup scans them; beyond, it uses an index made at the first lookup.</summary>
    private const int ScanLimit = 16;

    private readonly List<KeyValuePair<BString, BValue>> _entries;
    // Key -> position of its first entry, once there are more than ScanLimit entries. Kept up to date by the setter,
    // so building a dictionary of n keys costs n lookups, not n^2/2 comparisons (a resume file with 16,000 keys took
    // over a second when every set scanned the entries before it).
    private Dictionary<BString, int>? _index;

    /// <summary>Creates an empty dictionary.</summary>
    public BDictionary()
    {
        _entries = [];
        KeysCanonical = true;
    }

    internal BDictionary(List<KeyValuePair<BString, BValue>> entries, bool keysCanonical)
    {
        _entries = entries;
        KeysCanonical = keysCanonical;
    }

    /// <summary>False when the decoded keys were unsorted or repeated (non-canonical bencode).</summary>
    public bool KeysCanonical { get; private set; }

    /// <summary>The entries in input order (for built dictionaries, insertion order).</summary>
    public IReadOnlyList<KeyValuePair<BString, BValue>> Entries => _entries;

    /// <summary>Number of entries.</summary>
    public int Count => _entries.Count;

    /// <summary>Gets or sets a value by key. Setting replaces an existing entry.</summary>
    public BValue? this[string key]
    {
        get => TryGetValue(Encoding.UTF8.GetBytes(key), out var v) ? v : null;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            Set(new BString(key), value);
        }
    }

    /// <summary>Adds or replaces the entry of a key given as raw bytes (keys that are not text: BEP 52's piece layers).</summary>
    public void Set(BString k, BValue value)
    {
        ArgumentNullException.ThrowIfNull(k);
        ArgumentNullException.ThrowIfNull(value);
        {
            int at = IndexOf(k);
            if (at >= 0)
            {
                _entries[at] = new(k, value); // same key at the same place: the index stays right
                return;
            }
            _entries.Add(new(k, value));
            _index?.TryAdd(k, _entries.Count - 1);
        }
    }

    /// <summary>Adds an entry (for building; use the indexer to replace).</summary>
    public void Add(string key, BValue value) => this[key] = value;

    /// <summary>Finds the first value with the given key.</summary>
    public bool TryGetValue(ReadOnlySpan<byte> key, out BValue value)
    {
        int at = _entries.Count > ScanLimit ? IndexOf(new BString(key.ToArray())) : Scan(key);
        value = at >= 0 ? _entries[at].Value : null!;
        return at >= 0;
    }

    /// <summary>Position of the first entry with the key, or -1.</summary>
    private int IndexOf(BString key)
    {
        if (_entries.Count <= ScanLimit) return Scan(key.Bytes.Span);
        _index ??= BuildIndex();
        ParseWork.Add(1);
        return _index.TryGetValue(key, out int at) ? at : -1;
    }

    private int Scan(ReadOnlySpan<byte> key)
    {
        for (int i = 0; i < _entries.Count; i++)
        {
            if (_entries[i].Key.Bytes.Span.SequenceEqual(key))
            {
                ParseWork.Add(i + 1);
                return i;
            }
        }
        ParseWork.Add(_entries.Count);
        return -1;
    }

    private Dictionary<BString, int> BuildIndex()
    {
        ParseWork.Add(_entries.Count);
        var d = new Dictionary<BString, int>(_entries.Count);
        for (int i = 0; i < _entries.Count; i++) d.TryAdd(_entries[i].Key, i);
        return d;
    }

    /// <summary>Whether the key is present.</summary>
    public bool ContainsKey(string key) => TryGetValue(Encoding.UTF8.GetBytes(key), out _);

    /// <summary>The value of <paramref name="key"/> if it is of type <typeparamref name="T"/>, otherwise null.</summary>
    public T? Get<T>(string key) where T : BValue => TryGetValue(Encoding.UTF8.GetBytes(key), out var v) ? v as T : null;

    /// <summary>The text of a string entry, or null.</summary>
    public string? GetText(string key) => Get<BString>(key)?.Text;

    /// <summary>The value of an integer entry, or null.</summary>
    public long? GetInteger(string key) => Get<BInteger>(key)?.Value;

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<BString, BValue>> GetEnumerator() => _entries.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
