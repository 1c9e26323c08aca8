using RTorrent.Engine.Session;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Tui;

namespace RTorrent.Tests.Tui;

/// <summary>A backend that passes every call to another, so a test can change one behaviour (slowness, failures).</summary>
internal abstract class DelegatingBackend(FakeBackend inner) : ITorrentBackend
{
    public FakeBackend Inner { get; } = inner;

    public virtual Task<SessionSnapshot> GetSessionAsync(CancellationToken cancellationToken = default) => Inner.GetSessionAsync(cancellationToken);
    public virtual Task<TorrentDetails?> GetDetailsAsync(string id, CancellationToken cancellationToken = default) => Inner.GetDetailsAsync(id, cancellationToken);
    public virtual Task<IReadOnlyList<LogEntry>> GetSessionLogAsync(CancellationToken cancellationToken = default) => Inner.GetSessionLogAsync(cancellationToken);
    public virtual Task<string> AddTorrentAsync(string pathOrMagnet, string saveDirectory, bool start, string? picker, string? storage,
        CancellationToken cancellationToken = default) => Inner.AddTorrentAsync(pathOrMagnet, saveDirectory, start, picker, storage, cancellationToken);
    public virtual Task StartAsync(string id, CancellationToken cancellationToken = default) => Inner.StartAsync(id, cancellationToken);
    public virtual Task StopAsync(string id, CancellationToken cancellationToken = default) => Inner.StopAsync(id, cancellationToken);
    public virtual Task RecheckAsync(string id, CancellationToken cancellationToken = default) => Inner.RecheckAsync(id, cancellationToken);
    public virtual Task RemoveAsync(string id, bool deleteData, CancellationToken cancellationToken = default) => Inner.RemoveAsync(id, deleteData, cancellationToken);
    public virtual Task SetFilePriorityAsync(string id, IReadOnlyList<int> fileIndexes, Priority priority, CancellationToken cancellationToken = default) =>
        Inner.SetFilePriorityAsync(id, fileIndexes, priority, cancellationToken);
    public virtual Task SetTorrentLimitsAsync(string id, long downloadLimit, long uploadLimit, CancellationToken cancellationToken = default) =>
        Inner.SetTorrentLimitsAsync(id, downloadLimit, uploadLimit, cancellationToken);
    public virtual Task SetGlobalLimitsAsync(long downloadLimit, long uploadLimit, CancellationToken cancellationToken = default) =>
        Inner.SetGlobalLimitsAsync(downloadLimit, uploadLimit, cancellationToken);
    public virtual Task SetSequentialAsync(string id, bool sequential, CancellationToken cancellationToken = default) => Inner.SetSequentialAsync(id, sequential, cancellationToken);
    public virtual Task SetSuperSeedingAsync(string id, bool on, CancellationToken cancellationToken = default) => Inner.SetSuperSeedingAsync(id, on, cancellationToken);
    public IReadOnlyList<string> PickerNames => Inner.PickerNames;
    public IReadOnlyList<string> StorageNames => Inner.StorageNames;
    public IReadOnlyList<PluginInfo> Plugins => Inner.Plugins;
    public virtual Task<EditableSettings> GetSettingsAsync(CancellationToken cancellationToken = default) => Inner.GetSettingsAsync(cancellationToken);
    public virtual Task SaveSettingsAsync(EditableSettings settings, CancellationToken cancellationToken = default) => Inner.SaveSettingsAsync(settings, cancellationToken);
    public BackendInfo Info => Inner.Info;
    public virtual Task<long?> GetFreeSpaceAsync(string folder, CancellationToken cancellationToken = default) => Inner.GetFreeSpaceAsync(folder, cancellationToken);
    public virtual Task StopDaemonAsync(CancellationToken cancellationToken = default) => Inner.StopDaemonAsync(cancellationToken);
}
