namespace RTorrent.TestPlugins.Helper;

public sealed class Greeting
{
    public string Text => "hello";
}
