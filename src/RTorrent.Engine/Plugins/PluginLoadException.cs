namespace RTorrent.Engine.Plugins;

/// <summary>A plugin folder is not a usable plugin; the message is the one line shown to the user.</summary>
public sealed class PluginLoadException : Exception
{
    /// <summary>Creates the exception with a message for the user.</summary>
    public PluginLoadException(string message) : base(message) { }

    /// <summary>Creates the exception with a message for the user and its cause.</summary>
    public PluginLoadException(string message, Exception innerException) : base(message, innerException) { }
}
