using System.Text.Json;
using System.Text.Json.Serialization;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Session;

namespace RTorrent.Remote.Native;

/// <summary>
/// RTorrent's own protocol at <c>/rtorrent/rpc</c>: <see cref="ITorrentBackend"/> over HTTP, in Transmission's
/// envelope (<c>{"method", "arguments"}</c> in, <c>{"result", "arguments"}</c> out) and behind the same security
/// checks. The interface attaches to a daemon with it. It carries the engine's snapshot records as they are
/// (Transmission's RPC would lose the peer flags, piece states and logs), and sends the torrent list as changes since
/// the client's last version (see <see cref="SnapshotJournal"/>). docs/RPC.md lists the methods.
/// </summary>
public static class NativeProtocol
{
    /// <summary>The protocol version; a client refuses a daemon with another major version.</summary>
    public const int Version = 1;

    /// <summary>Method names.</summary>
    public static class Methods
    {
        /// <summary>Who the daemon is, and its plugins.</summary>
        public const string Hello = "hello";
        /// <summary>The torrent list since a version.</summary>
        public const string Session = "session";
        /// <summary>One torrent in detail.</summary>
        public const string Details = "details";
        /// <summary>The session log.</summary>
        public const string Log = "log";
        /// <summary>Add a torrent.</summary>
        public const string Add = "add";
        /// <summary>Start a torrent.</summary>
        public const string Start = "start";
        /// <summary>Start a torrent now, beside the queue (forced).</summary>
        public const string StartNow = "start-now";
        /// <summary>Move a torrent in the queue.</summary>
        public const string QueueMove = "queue-move";
        /// <summary>Stop a torrent.</summary>
        public const string Stop = "stop";
        /// <summary>Recheck a torrent.</summary>
        public const string Recheck = "recheck";
        /// <summary>Remove a torrent.</summary>
        public const string Remove = "remove";
        /// <summary>File priorities.</summary>
        public const string FilePriority = "file-priority";
        /// <summary>A torrent's rate limits.</summary>
        public const string TorrentLimits = "torrent-limits";
        /// <summary>The session's rate limits.</summary>
        public const string GlobalLimits = "global-limits";
        /// <summary>Sequential download.</summary>
        public const string Sequential = "sequential";
        /// <summary>BEP 16 super-seeding (the request is a <see cref="SequentialRequest"/>: id and on).</summary>
        public const string SuperSeeding = "super-seeding";
        /// <summary>The editable settings.</summary>
        public const string SettingsGet = "settings-get";
        /// <summary>Save the editable settings.</summary>
        public const string SettingsSet = "settings-set";
        /// <summary>Free space of a folder on the daemon's machine.</summary>
        public const string FreeSpace = "free-space";
        /// <summary>Stop the daemon.</summary>
        public const string StopDaemon = "stop-daemon";
        /// <summary>The session's categories (a <see cref="CategoriesResult"/>).</summary>
        public const string Categories = "categories";
        /// <summary>Add or change a category (the request is a <see cref="Engine.Client.Category"/>).</summary>
        public const string CategorySave = "category-save";
        /// <summary>Remove a category (a <see cref="CategoryNameRequest"/>).</summary>
        public const string CategoryRemove = "category-remove";
        /// <summary>Set a torrent's category (a <see cref="CategorySetRequest"/>).</summary>
        public const string CategorySet = "category-set";
        /// <summary>Set a torrent's tags (a <see cref="TagsRequest"/>).</summary>
        public const string TagsSet = "tags-set";
        /// <summary>The feeds, their items and the rules (docs/FEEDS.md).</summary>
        public const string Feeds = "feeds";
        /// <summary>Replace the feeds and rules (feeds.json).</summary>
        public const string FeedsSet = "feeds-set";
        /// <summary>Poll a feed (or all) now.</summary>
        public const string FeedsRefresh = "feeds-refresh";
    }
}

/// <summary>The answer to <c>hello</c>.</summary>
public sealed record HelloResult
{
    /// <summary>Protocol version.</summary>
    public int Protocol { get; init; } = NativeProtocol.Version;
    /// <summary>The daemon's program version.</summary>
    public string ProgramVersion { get; init; } = "";
    /// <summary>The daemon's machine name.</summary>
    public string HostName { get; init; } = "";
    /// <summary>The daemon's session folder.</summary>
    public string SessionDirectory { get; init; } = "";
    /// <summary>Piece pickers, default first.</summary>
    public IReadOnlyList<string> Pickers { get; init; } = [];
    /// <summary>Storages, default first.</summary>
    public IReadOnlyList<string> Storages { get; init; } = [];
    /// <summary>Plugins found by the daemon.</summary>
    public IReadOnlyList<PluginInfo> Plugins { get; init; } = [];
    /// <summary>Whether <c>stop-daemon</c> is allowed.</summary>
    public bool CanStopDaemon { get; init; }
}

/// <summary>Arguments of <c>session</c>.</summary>
public sealed record SessionRequest
{
    /// <summary>The daemon run the client's version belongs to (null the first time).</summary>
    public string? Instance { get; init; }
    /// <summary>The last version the client has (0 the first time).</summary>
    public long Since { get; init; }
}

/// <summary>The answer to <c>session</c>.</summary>
public sealed record SessionDelta
{
    /// <summary>The daemon run.</summary>
    public required string Instance { get; init; }
    /// <summary>This answer's version: the client sends it as <c>since</c> next time.</summary>
    public long Version { get; init; }
    /// <summary>Whether <see cref="Session"/> holds every torrent (else only those changed since the client's version).</summary>
    public bool Full { get; init; }
    /// <summary>The session totals and the (changed) torrents.</summary>
    public required SessionSnapshot Session { get; init; }
    /// <summary>Ids removed since the client's version (empty when <see cref="Full"/>).</summary>
    public IReadOnlyList<string> Removed { get; init; } = [];
}

/// <summary>Arguments naming one torrent.</summary>
public sealed record TorrentRequest
{
    /// <summary>The torrent's id (hex info-hash).</summary>
    public required string Id { get; init; }
}

/// <summary>Arguments of <c>queue-move</c>.</summary>
public sealed record QueueMoveRequest
{
    /// <summary>The torrent's id (hex info-hash).</summary>
    public required string Id { get; init; }
    /// <summary>top, up, down or bottom.</summary>
    public required string Move { get; init; }
}

/// <summary>The answer to <c>details</c>.</summary>
public sealed record DetailsResult
{
    /// <summary>The details, or null when there is no such torrent.</summary>
    public TorrentDetails? Details { get; init; }
}

/// <summary>The answer to <c>log</c>.</summary>
public sealed record LogResult
{
    /// <summary>Entries, oldest first.</summary>
    public IReadOnlyList<LogEntry> Entries { get; init; } = [];
}

/// <summary>Arguments of <c>add</c>: exactly one of <see cref="Torrent"/> and <see cref="Magnet"/>.</summary>
public sealed record AddRequest
{
    /// <summary>The .torrent file's contents (from the client's machine).</summary>
    public byte[]? Torrent { get; init; }
    /// <summary>A magnet link.</summary>
    public string? Magnet { get; init; }
    /// <summary>Save folder on the daemon's machine; empty for the daemon's default.</summary>
    public string SaveDirectory { get; init; } = "";
    /// <summary>Start at once.</summary>
    public bool Start { get; init; } = true;
    /// <summary>Picker name, or null.</summary>
    public string? Picker { get; init; }
    /// <summary>Storage name, or null.</summary>
    public string? Storage { get; init; }
}

/// <summary>The answer to <c>add</c>.</summary>
public sealed record AddResult
{
    /// <summary>The new torrent's id.</summary>
    public required string Id { get; init; }
}

/// <summary>Arguments of <c>remove</c>.</summary>
public sealed record RemoveRequest
{
    /// <summary>The torrent.</summary>
    public required string Id { get; init; }
    /// <summary>Delete its files too.</summary>
    public bool DeleteData { get; init; }
}

/// <summary>Arguments of <c>file-priority</c>.</summary>
public sealed record FilePriorityRequest
{
    /// <summary>The torrent.</summary>
    public required string Id { get; init; }
    /// <summary>File indexes.</summary>
    public IReadOnlyList<int> Files { get; init; } = [];
    /// <summary>The priority.</summary>
    public Priority Priority { get; init; }
}

/// <summary>Arguments of <c>torrent-limits</c> and <c>global-limits</c>.</summary>
public sealed record LimitsRequest
{
    /// <summary>The torrent (for torrent-limits).</summary>
    public string? Id { get; init; }
    /// <summary>Download limit, bytes/s (0 = none).</summary>
    public long Download { get; init; }
    /// <summary>Upload limit, bytes/s (0 = none).</summary>
    public long Upload { get; init; }
}

/// <summary>Arguments of <c>sequential</c>.</summary>
public sealed record SequentialRequest
{
    /// <summary>The torrent.</summary>
    public required string Id { get; init; }
    /// <summary>On or off.</summary>
    public bool On { get; init; }
}

/// <summary>Arguments of <c>free-space</c>.</summary>
public sealed record FreeSpaceRequest
{
    /// <summary>A folder on the daemon's machine.</summary>
    public required string Path { get; init; }
}

/// <summary>The answer to <c>free-space</c>.</summary>
public sealed record FreeSpaceResult
{
    /// <summary>Bytes free, or null when unknown.</summary>
    public long? Bytes { get; init; }
}

/// <summary>The answer to <c>categories</c>.</summary>
public sealed record CategoriesResult
{
    /// <summary>Every category, sorted by name.</summary>
    public IReadOnlyList<Category> Categories { get; init; } = [];
}

/// <summary>Arguments of <c>category-remove</c>.</summary>
public sealed record CategoryNameRequest
{
    /// <summary>The category's name.</summary>
    public required string Name { get; init; }
}

/// <summary>Arguments of <c>category-set</c>.</summary>
public sealed record CategorySetRequest
{
    /// <summary>The torrent.</summary>
    public required string Id { get; init; }
    /// <summary>The category, or null/empty for none.</summary>
    public string? Category { get; init; }
}

/// <summary>Arguments of <c>tags-set</c>.</summary>
public sealed record TagsRequest
{
    /// <summary>The torrent.</summary>
    public required string Id { get; init; }
    /// <summary>Its tags (labels).</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];
}

/// <summary>Arguments of <c>feeds-refresh</c>.</summary>
public sealed record FeedRefreshRequest
{
    /// <summary>The feed's name; null for every enabled feed.</summary>
    public string? Feed { get; init; }
}

/// <summary>
/// Piece states travel as base64 (one byte each) instead of a JSON array of names: a 10,000-piece torrent is 13 KB
/// instead of 100 KB, twice a second while its Pieces tab is open.
/// </summary>
internal sealed class PieceStatesConverter : JsonConverter<PieceDisplayState[]>
{
    public override PieceDisplayState[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        byte[] bytes = reader.GetBytesFromBase64();
        var states = new PieceDisplayState[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
            states[i] = bytes[i] <= (byte)PieceDisplayState.Skipped ? (PieceDisplayState)bytes[i]
                : throw new JsonException($"piece state {bytes[i]} is not known");
        return states;
    }

    public override void Write(Utf8JsonWriter writer, PieceDisplayState[] value, JsonSerializerOptions options)
    {
        byte[] bytes = new byte[value.Length];
        for (int i = 0; i < value.Length; i++) bytes[i] = (byte)value[i];
        writer.WriteBase64StringValue(bytes);
    }
}

/// <summary>
/// A snapshot's string lists (labels, web seeds) as JSON arrays, read back as <see cref="EquatableList{T}"/> so that a
/// received snapshot equals the one sent.
/// </summary>
internal sealed class StringListConverter : JsonConverter<EquatableList<string>>
{
    public override EquatableList<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        ReadStrings(ref reader);

    public override void Write(Utf8JsonWriter writer, EquatableList<string> value, JsonSerializerOptions options) => WriteStrings(writer, value);

    internal static EquatableList<string> ReadStrings(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("expected a list of strings");
        var items = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            items.Add(reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new JsonException("expected a string"));
        return EquatableList.Of(items);
    }

    internal static void WriteStrings(Utf8JsonWriter writer, EquatableList<string> value)
    {
        writer.WriteStartArray();
        foreach (string item in value) writer.WriteStringValue(item);
        writer.WriteEndArray();
    }
}

/// <summary>Tracker tiers (a list of lists of URLs), read back as equatable lists.</summary>
internal sealed class TiersConverter : JsonConverter<EquatableList<EquatableList<string>>>
{
    public override EquatableList<EquatableList<string>> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("expected a list of tracker tiers");
        var tiers = new List<EquatableList<string>>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) tiers.Add(StringListConverter.ReadStrings(ref reader));
        return tiers.Count == 0 ? EquatableList<EquatableList<string>>.Empty : new EquatableList<EquatableList<string>>(tiers);
    }

    public override void Write(Utf8JsonWriter writer, EquatableList<EquatableList<string>> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var tier in value) StringListConverter.WriteStrings(writer, tier);
        writer.WriteEndArray();
    }
}

/// <summary>Source-generated JSON for the native protocol (no reflection).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    Converters = [typeof(PieceStatesConverter), typeof(StringListConverter), typeof(TiersConverter)])]
[JsonSerializable(typeof(HelloResult))]
[JsonSerializable(typeof(SessionRequest))]
[JsonSerializable(typeof(SessionDelta))]
[JsonSerializable(typeof(TorrentRequest))]
[JsonSerializable(typeof(DetailsResult))]
[JsonSerializable(typeof(LogResult))]
[JsonSerializable(typeof(AddRequest))]
[JsonSerializable(typeof(AddResult))]
[JsonSerializable(typeof(RemoveRequest))]
[JsonSerializable(typeof(FilePriorityRequest))]
[JsonSerializable(typeof(LimitsRequest))]
[JsonSerializable(typeof(SequentialRequest))]
[JsonSerializable(typeof(QueueMoveRequest))]
[JsonSerializable(typeof(EditableSettings))]
[JsonSerializable(typeof(FreeSpaceRequest))]
[JsonSerializable(typeof(FreeSpaceResult))]
[JsonSerializable(typeof(Category))]
[JsonSerializable(typeof(CategoriesResult))]
[JsonSerializable(typeof(CategoryNameRequest))]
[JsonSerializable(typeof(CategorySetRequest))]
[JsonSerializable(typeof(TagsRequest))]
[JsonSerializable(typeof(RTorrent.Engine.Feeds.FeedsSnapshot))]
[JsonSerializable(typeof(RTorrent.Engine.Feeds.FeedConfig))]
[JsonSerializable(typeof(FeedRefreshRequest))]
internal sealed partial class NativeJsonContext : JsonSerializerContext;
