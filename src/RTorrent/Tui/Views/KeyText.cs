using System.Text;
using Terminal.Gui.Input;

namespace RTorrent.Tui.Views;

/// <summary>Key matching that does not depend on how a terminal reports Shift with punctuation.</summary>
internal static class KeyText
{
    /// <summary>
    /// Whether <paramref name="key"/> types <paramref name="ch"/> (no Ctrl or Alt). Terminals send '?' or 'A' as the
    /// character itself, with or without a Shift flag, so the printed character is what counts.
    /// </summary>
    public static bool IsChar(Key key, char ch)
    {
        if (key.IsCtrl || key.IsAlt) return false;
        return key.TryGetPrintableRune(out Rune rune) && rune.Value == ch;
    }

    /// <summary>The character <paramref name="key"/> types, or null for a non-printing key or a Ctrl/Alt chord.</summary>
    public static char? Char(Key key)
    {
        if (key.IsCtrl || key.IsAlt) return null;
        return key.TryGetPrintableRune(out Rune rune) && rune.IsBmp ? (char)rune.Value : null;
    }
}
