namespace RTorrent.Engine.Settings;

/// <summary>
/// The JSON shape of <see cref="EngineSettings"/>: the same fields with setters. The source generator sets init-only
/// properties through an object initializer that replaces absent fields with zeros and nulls
/// (dotnet/runtime#84484), so the immutable record is read through this mutable twin, which starts from the
/// defaults and keeps them for absent fields.
/// </summary>
internal sealed class SettingsDocument
{
    public SettingsDocument() : this(new EngineSettings()) { }

    public SettingsDocument(EngineSettings s)
    {
        ListenPort = s.ListenPort;
        ListenOnIPv4 = s.ListenOnIPv4;
        ListenOnIPv6 = s.ListenOnIPv6;
        MaxConnections = s.MaxConnections;
        MaxConnectionsPerTorrent = s.MaxConnectionsPerTorrent;
        MaxHalfOpenConnections = s.MaxHalfOpenConnections;
        ConnectionsPerSecond = s.ConnectionsPerSecond;
        UploadSlots = s.UploadSlots;
        DownloadRateLimit = s.DownloadRateLimit;
        UploadRateLimit = s.UploadRateLimit;
        DownloadRateLimitWhenOn = s.DownloadRateLimitWhenOn;
        UploadRateLimitWhenOn = s.UploadRateLimitWhenOn;
        AltSpeedEnabled = s.AltSpeedEnabled;
        AltDownloadRateLimit = s.AltDownloadRateLimit;
        AltUploadRateLimit = s.AltUploadRateLimit;
        AltSpeedScheduleEnabled = s.AltSpeedScheduleEnabled;
        AltSpeedScheduleBegin = s.AltSpeedScheduleBegin;
        AltSpeedScheduleEnd = s.AltSpeedScheduleEnd;
        AltSpeedScheduleDays = s.AltSpeedScheduleDays;
        AddedHook = s.AddedHook;
        AddedHookEnabled = s.AddedHookEnabled;
        CompletedHook = s.CompletedHook;
        CompletedHookEnabled = s.CompletedHookEnabled;
        RemovedHook = s.RemovedHook;
        RemovedHookEnabled = s.RemovedHookEnabled;
        SeedingDoneHook = s.SeedingDoneHook;
        SeedingDoneHookEnabled = s.SeedingDoneHookEnabled;
        HookTimeoutSeconds = s.HookTimeoutSeconds;
        DefaultTorrentDownloadRateLimit = s.DefaultTorrentDownloadRateLimit;
        DefaultTorrentUploadRateLimit = s.DefaultTorrentUploadRateLimit;
        DownloadDirectory = s.DownloadDirectory;
        WatchDirectory = s.WatchDirectory;
        DhtEnabled = s.DhtEnabled;
        DhtBootstrapNodes = s.DhtBootstrapNodes;
        PexEnabled = s.PexEnabled;
        LsdEnabled = s.LsdEnabled;
        PortForwardingEnabled = s.PortForwardingEnabled;
        EnableIncomingUtp = s.EnableIncomingUtp;
        EnableOutgoingUtp = s.EnableOutgoingUtp;
        EnableIncomingTcp = s.EnableIncomingTcp;
        EnableOutgoingTcp = s.EnableOutgoingTcp;
        BlocklistEnabled = s.BlocklistEnabled;
        BlocklistUrl = s.BlocklistUrl;
        BlocklistFile = s.BlocklistFile;
        BlocklistRefreshHours = s.BlocklistRefreshHours;
        ProxyType = s.ProxyType;
        ProxyHost = s.ProxyHost;
        ProxyPort = s.ProxyPort;
        ProxyUsername = s.ProxyUsername;
        ProxyPassword = s.ProxyPassword;
        ProxyPeers = s.ProxyPeers;
        ProxyTrackers = s.ProxyTrackers;
        ProxyWebSeeds = s.ProxyWebSeeds;
        ProxyDht = s.ProxyDht;
        ProxyOnly = s.ProxyOnly;
        DisabledPeerSources = s.DisabledPeerSources;
        DefaultPicker = s.DefaultPicker;
        DefaultStorage = s.DefaultStorage;
        SeedRatioLimit = s.SeedRatioLimit;
        SeedRatioLimitWhenOn = s.SeedRatioLimitWhenOn;
        DownloadQueueEnabled = s.DownloadQueueEnabled;
        DownloadQueueSize = s.DownloadQueueSize;
        SeedQueueEnabled = s.SeedQueueEnabled;
        SeedQueueSize = s.SeedQueueSize;
        ActiveQueueEnabled = s.ActiveQueueEnabled;
        ActiveQueueSize = s.ActiveQueueSize;
        QueueStalledEnabled = s.QueueStalledEnabled;
        QueueStalledMinutes = s.QueueStalledMinutes;
        IdleSeedingLimitEnabled = s.IdleSeedingLimitEnabled;
        IdleSeedingLimit = s.IdleSeedingLimit;
        SeedingTimeLimitEnabled = s.SeedingTimeLimitEnabled;
        SeedingTimeLimit = s.SeedingTimeLimit;
        MinSeedingTime = s.MinSeedingTime;
        SeedingLimitAction = s.SeedingLimitAction;
        Preallocate = s.Preallocate;
        Encryption = s.Encryption;
        MaxOpenFiles = s.MaxOpenFiles;
        DiskReadCacheSize = s.DiskReadCacheSize;
        WebSeedConnections = s.WebSeedConnections;
        StartAddedTorrents = s.StartAddedTorrents;
        RpcBind = s.RpcBind;
        RpcUsername = s.RpcUsername;
        RpcPasswordHash = s.RpcPasswordHash;
        RpcHostAllowListEnabled = s.RpcHostAllowListEnabled;
        RpcHostAllowList = s.RpcHostAllowList;
        RpcAddressAllowListEnabled = s.RpcAddressAllowListEnabled;
        RpcAddressAllowList = s.RpcAddressAllowList;
        RpcMaxRequestBytes = s.RpcMaxRequestBytes;
        RpcTlsCertificate = s.RpcTlsCertificate;
        RpcTlsKey = s.RpcTlsKey;
        RpcWebHome = s.RpcWebHome;
    }

    public int ListenPort { get; set; }

    public bool ListenOnIPv4 { get; set; }

    public bool ListenOnIPv6 { get; set; }

    public int MaxConnections { get; set; }

    public int MaxConnectionsPerTorrent { get; set; }

    public int MaxHalfOpenConnections { get; set; }

    public int ConnectionsPerSecond { get; set; }

    public int UploadSlots { get; set; }

    public long DownloadRateLimit { get; set; }

    public long UploadRateLimit { get; set; }

    public long DownloadRateLimitWhenOn { get; set; }

    public long UploadRateLimitWhenOn { get; set; }

    public bool AltSpeedEnabled { get; set; }

    public long AltDownloadRateLimit { get; set; }

    public long AltUploadRateLimit { get; set; }

    public bool AltSpeedScheduleEnabled { get; set; }

    public int AltSpeedScheduleBegin { get; set; }

    public int AltSpeedScheduleEnd { get; set; }

    public int AltSpeedScheduleDays { get; set; }

    public string? AddedHook { get; set; }

    public bool AddedHookEnabled { get; set; }

    public string? CompletedHook { get; set; }

    public bool CompletedHookEnabled { get; set; }

    public string? RemovedHook { get; set; }

    public bool RemovedHookEnabled { get; set; }

    /// <inheritdoc cref="EngineSettings.SeedingDoneHook"/>
    public string? SeedingDoneHook { get; set; }

    /// <inheritdoc cref="EngineSettings.SeedingDoneHookEnabled"/>
    public bool SeedingDoneHookEnabled { get; set; }

    public int HookTimeoutSeconds { get; set; }

    public long DefaultTorrentDownloadRateLimit { get; set; }

    public long DefaultTorrentUploadRateLimit { get; set; }

    public string DownloadDirectory { get; set; }

    public string? WatchDirectory { get; set; }

    public bool DhtEnabled { get; set; }

    public IReadOnlyList<string> DhtBootstrapNodes { get; set; }

    public bool PexEnabled { get; set; }

    public bool LsdEnabled { get; set; }

    public bool PortForwardingEnabled { get; set; }

    public bool EnableIncomingUtp { get; set; }

    public bool EnableOutgoingUtp { get; set; }

    public bool EnableIncomingTcp { get; set; }

    public bool EnableOutgoingTcp { get; set; }

    public bool BlocklistEnabled { get; set; }

    public string? BlocklistUrl { get; set; }

    public string? BlocklistFile { get; set; }

    public int BlocklistRefreshHours { get; set; }

    public IReadOnlyList<string> DisabledPeerSources { get; set; }

    public string DefaultPicker { get; set; }

    public string DefaultStorage { get; set; }

    public double? SeedRatioLimit { get; set; }

    public double SeedRatioLimitWhenOn { get; set; }

    public bool DownloadQueueEnabled { get; set; }

    public int DownloadQueueSize { get; set; }

    public bool SeedQueueEnabled { get; set; }

    public int SeedQueueSize { get; set; }

    public bool ActiveQueueEnabled { get; set; }

    public int ActiveQueueSize { get; set; }

    public bool QueueStalledEnabled { get; set; }

    public int QueueStalledMinutes { get; set; }

    public bool IdleSeedingLimitEnabled { get; set; }

    public int IdleSeedingLimit { get; set; }

    public bool SeedingTimeLimitEnabled { get; set; }

    public int SeedingTimeLimit { get; set; }

    public int MinSeedingTime { get; set; }

    [System.Text.Json.Serialization.JsonConverter(typeof(CamelCaseActionConverter))]
    public Client.SeedingLimitAction SeedingLimitAction { get; set; }

    /// <summary>Writes "stop", "remove", "removeWithData" as the RPC and the docs spell them (reading ignores case).</summary>
    internal sealed class CamelCaseActionConverter() :
        System.Text.Json.Serialization.JsonStringEnumConverter<Client.SeedingLimitAction>(System.Text.Json.JsonNamingPolicy.CamelCase, allowIntegerValues: false);

    [System.Text.Json.Serialization.JsonConverter(typeof(ProxyKindConverter))]
    public Proxies.ProxyKind ProxyType { get; set; }

    /// <summary>Writes "none", "socks4", "socks5", "http" (reading ignores case).</summary>
    internal sealed class ProxyKindConverter() :
        System.Text.Json.Serialization.JsonStringEnumConverter<Proxies.ProxyKind>(System.Text.Json.JsonNamingPolicy.CamelCase, allowIntegerValues: false);

    public string? ProxyHost { get; set; }

    public int ProxyPort { get; set; }

    public string? ProxyUsername { get; set; }

    public string? ProxyPassword { get; set; }

    public bool ProxyPeers { get; set; }

    public bool ProxyTrackers { get; set; }

    public bool ProxyWebSeeds { get; set; }

    public bool ProxyDht { get; set; }

    public bool ProxyOnly { get; set; }

    public bool Preallocate { get; set; }

    [System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<Peers.Encryption.EncryptionMode>))]
    public Peers.Encryption.EncryptionMode Encryption { get; set; }

    public int MaxOpenFiles { get; set; }

    public long DiskReadCacheSize { get; set; }

    public int WebSeedConnections { get; set; }

    public bool StartAddedTorrents { get; set; }

    public IReadOnlyList<string> RpcBind { get; set; }

    public string? RpcUsername { get; set; }

    public string? RpcPasswordHash { get; set; }

    public bool RpcHostAllowListEnabled { get; set; }

    public IReadOnlyList<string> RpcHostAllowList { get; set; }

    public bool RpcAddressAllowListEnabled { get; set; }

    public IReadOnlyList<string> RpcAddressAllowList { get; set; }

    public long RpcMaxRequestBytes { get; set; }

    public string? RpcTlsCertificate { get; set; }

    public string? RpcTlsKey { get; set; }

    public string? RpcWebHome { get; set; }

    public EngineSettings ToSettings() => new()
    {
        ListenPort = ListenPort,
        ListenOnIPv4 = ListenOnIPv4,
        ListenOnIPv6 = ListenOnIPv6,
        MaxConnections = MaxConnections,
        MaxConnectionsPerTorrent = MaxConnectionsPerTorrent,
        MaxHalfOpenConnections = MaxHalfOpenConnections,
        ConnectionsPerSecond = ConnectionsPerSecond,
        UploadSlots = UploadSlots,
        DownloadRateLimit = DownloadRateLimit,
        UploadRateLimit = UploadRateLimit,
        DownloadRateLimitWhenOn = DownloadRateLimitWhenOn,
        UploadRateLimitWhenOn = UploadRateLimitWhenOn,
        AltSpeedEnabled = AltSpeedEnabled,
        AltDownloadRateLimit = AltDownloadRateLimit,
        AltUploadRateLimit = AltUploadRateLimit,
        AltSpeedScheduleEnabled = AltSpeedScheduleEnabled,
        AltSpeedScheduleBegin = AltSpeedScheduleBegin,
        AltSpeedScheduleEnd = AltSpeedScheduleEnd,
        AltSpeedScheduleDays = AltSpeedScheduleDays,
        AddedHook = AddedHook,
        AddedHookEnabled = AddedHookEnabled,
        CompletedHook = CompletedHook,
        CompletedHookEnabled = CompletedHookEnabled,
        RemovedHook = RemovedHook,
        RemovedHookEnabled = RemovedHookEnabled,
        SeedingDoneHook = SeedingDoneHook,
        SeedingDoneHookEnabled = SeedingDoneHookEnabled,
        HookTimeoutSeconds = HookTimeoutSeconds,
        DefaultTorrentDownloadRateLimit = DefaultTorrentDownloadRateLimit,
        DefaultTorrentUploadRateLimit = DefaultTorrentUploadRateLimit,
        DownloadDirectory = DownloadDirectory,
        WatchDirectory = WatchDirectory,
        DhtEnabled = DhtEnabled,
        DhtBootstrapNodes = DhtBootstrapNodes,
        PexEnabled = PexEnabled,
        LsdEnabled = LsdEnabled,
        PortForwardingEnabled = PortForwardingEnabled,
        EnableIncomingUtp = EnableIncomingUtp,
        EnableOutgoingUtp = EnableOutgoingUtp,
        EnableIncomingTcp = EnableIncomingTcp,
        EnableOutgoingTcp = EnableOutgoingTcp,
        BlocklistEnabled = BlocklistEnabled,
        BlocklistUrl = BlocklistUrl,
        BlocklistFile = BlocklistFile,
        BlocklistRefreshHours = BlocklistRefreshHours,
        ProxyType = ProxyType,
        ProxyHost = ProxyHost,
        ProxyPort = ProxyPort,
        ProxyUsername = ProxyUsername,
        ProxyPassword = ProxyPassword,
        ProxyPeers = ProxyPeers,
        ProxyTrackers = ProxyTrackers,
        ProxyWebSeeds = ProxyWebSeeds,
        ProxyDht = ProxyDht,
        ProxyOnly = ProxyOnly,
        DisabledPeerSources = DisabledPeerSources,
        DefaultPicker = DefaultPicker,
        DefaultStorage = DefaultStorage,
        SeedRatioLimit = SeedRatioLimit,
        SeedRatioLimitWhenOn = SeedRatioLimitWhenOn,
        DownloadQueueEnabled = DownloadQueueEnabled,
        DownloadQueueSize = DownloadQueueSize,
        SeedQueueEnabled = SeedQueueEnabled,
        SeedQueueSize = SeedQueueSize,
        ActiveQueueEnabled = ActiveQueueEnabled,
        ActiveQueueSize = ActiveQueueSize,
        QueueStalledEnabled = QueueStalledEnabled,
        QueueStalledMinutes = QueueStalledMinutes,
        IdleSeedingLimitEnabled = IdleSeedingLimitEnabled,
        IdleSeedingLimit = IdleSeedingLimit,
        SeedingTimeLimitEnabled = SeedingTimeLimitEnabled,
        SeedingTimeLimit = SeedingTimeLimit,
        MinSeedingTime = MinSeedingTime,
        SeedingLimitAction = SeedingLimitAction,
        Preallocate = Preallocate,
        Encryption = Encryption,
        MaxOpenFiles = MaxOpenFiles,
        DiskReadCacheSize = DiskReadCacheSize,
        WebSeedConnections = WebSeedConnections,
        StartAddedTorrents = StartAddedTorrents,
        RpcBind = RpcBind,
        RpcUsername = RpcUsername,
        RpcPasswordHash = RpcPasswordHash,
        RpcHostAllowListEnabled = RpcHostAllowListEnabled,
        RpcHostAllowList = RpcHostAllowList,
        RpcAddressAllowListEnabled = RpcAddressAllowListEnabled,
        RpcAddressAllowList = RpcAddressAllowList,
        RpcMaxRequestBytes = RpcMaxRequestBytes,
        RpcTlsCertificate = RpcTlsCertificate,
        RpcTlsKey = RpcTlsKey,
        RpcWebHome = RpcWebHome,
    };
}
