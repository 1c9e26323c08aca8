namespace RTorrent.Engine.Plugins;

/// <summary>A component could not be registered: its name is invalid or already taken.</summary>
public sealed class PluginRegistrationException : Exception
{
    /// <summary>Creates the exception with a message for the user.</summary>
    public PluginRegistrationException(string message) : base(message) { }

    /// <summary>Creates the exception with a message for the user and its cause.</summary>
    public PluginRegistrationException(string message, Exception innerException) : base(message, innerException) { }
}
