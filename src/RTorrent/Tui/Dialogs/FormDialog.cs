using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace RTorrent.Tui.Dialogs;

/// <summary>
/// A modal form with Cancel and an accept button (the default, so Enter in any field accepts). The form checks its
/// fields before closing: a refusal is shown in red text inside the dialog and the dialog stays open with what the
/// user typed. Esc cancels.
/// </summary>
internal abstract class FormDialog : Dialog
{
    private readonly Button _cancel;
    private readonly Label _error;

    protected FormDialog(string title, string acceptText)
    {
        Title = title;
        _error = new Label { X = 0, Width = Dim.Fill(), Height = 1, Text = "" };
        _cancel = new Button { Text = "_Cancel" };
        AcceptButton = new Button { Text = acceptText };
        AddButton(_cancel);
        AddButton(AcceptButton);
    }

    /// <summary>The button that accepts (the default).</summary>
    protected Button AcceptButton { get; }

    /// <summary>The user accepted and the fields were valid.</summary>
    public bool IsAccepted { get; private set; }

    /// <summary>The message shown for the last refused attempt, or empty.</summary>
    public string ErrorText => _error.Text ?? "";

    /// <summary>Adds the error line one row below the last field; call after adding the fields.</summary>
    protected void AddErrorLine()
    {
        View? last = SubViews.LastOrDefault();
        _error.Y = last is null ? 0 : Pos.Bottom(last) + 1;
        Add(_error);
    }

    /// <summary>Checks the fields and keeps what they mean; returns a message for the user when something is wrong.</summary>
    protected abstract string? Validate();

    /// <summary>Shows a message in the error line.</summary>
    protected void ShowError(string message) => _error.Text = message;

    /// <summary>Accepts as if the default button had been pressed (for tests and callers).</summary>
    public bool TryAccept()
    {
        string? error = Validate();
        if (error is not null)
        {
            ShowError(error);
            return false;
        }
        IsAccepted = true;
        return true;
    }

    protected override bool OnAccepting(CommandEventArgs args)
    {
        View? source = null;
        args.Context?.Binding?.Source?.TryGetTarget(out source);
        if (ReferenceEquals(source, _cancel)) return base.OnAccepting(args);
        // Enter in a field, or the accept button: the form must be valid to close.
        if (!TryAccept()) return true;
        return base.OnAccepting(args);
    }
}
