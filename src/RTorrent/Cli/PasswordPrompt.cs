using System.Text;

namespace RTorrent.Cli;

/// <summary>Reads a password: from the terminal without echo, or one line of standard input when that is not a terminal.</summary>
internal static class PasswordPrompt
{
    /// <summary>
    /// Reads a password. On a terminal it asks with <paramref name="prompt"/> (on <paramref name="error"/>) and, with
    /// <paramref name="confirm"/>, asks again and returns null when the two differ. Otherwise it reads one line.
    /// </summary>
    public static string? Read(string prompt, bool confirm, TextWriter error)
    {
        if (Console.IsInputRedirected) return Console.In.ReadLine();
        string first = ReadHidden(prompt, error);
        if (!confirm) return first;
        string second = ReadHidden("Again: ", error);
        return first == second ? first : null;
    }

    /// <summary>Reads a line from the terminal without showing it.</summary>
    public static string ReadHidden(string prompt, TextWriter error)
    {
        error.Write(prompt);
        error.Flush();
        var text = new StringBuilder();
        while (true)
        {
            ConsoleKeyInfo key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter) break;
            if (key.Key == ConsoleKey.Backspace)
            {
                if (text.Length > 0) text.Length--;
                continue;
            }
            if (!char.IsControl(key.KeyChar)) text.Append(key.KeyChar);
        }
        error.WriteLine();
        return text.ToString();
    }
}
