namespace RTorrent.Abstractions;

public interface IRTorrentPlugin
{
    void Register(IPluginRegistry registry);
}

public interface IPluginRegistry
{
    void AddPiecePicker(IPiecePickerFactory factory);
}

public interface IPluginComponent
{
    string Name { get; }
    string Version { get; }
    string Description { get; }
}

public sealed record PiecePickerContext(int PieceCount, long PieceLength);

public interface IPiecePickerFactory : IPluginComponent
{
    IPiecePicker Create(PiecePickerContext context);
}

// The real IPiecePicker has RankPieces; this one does not.
public interface IPiecePicker
{
}
