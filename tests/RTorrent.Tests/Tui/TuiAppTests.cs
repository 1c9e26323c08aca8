using RTorrent.Tui;

namespace RTorrent.Tests.Tui;

[Collection(TuiCollection.Name)]
public class TuiAppTests
{
    [Fact]
    public async Task Without_a_terminal_it_says_so_and_exits_instead_of_hanging()
    {
        // Tests run with DisableRealDriverIO=1, which is exactly how Terminal.Gui reports "no terminal attached".
        TextWriter original = Console.Error;
        var error = new StringWriter();
        Console.SetError(error);
        int code;
        try
        {
            code = await TuiApp.RunAsync(new FakeBackend(3)).WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            Console.SetError(original);
        }
        Assert.Equal(TuiApp.ExitNoTerminal, code);
        Assert.Contains("the interface needs a terminal", error.ToString());
        Assert.Contains("rtorrent --help", error.ToString());
    }
}
