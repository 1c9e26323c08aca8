using RTorrent.Engine.Client;
using RTorrent.Engine.Session;
using RTorrent.Tui.Dialogs;

namespace RTorrent.Tui;

/// <summary>Categories and tags (docs/CATEGORIES.md): g sets them on a torrent, G edits categories, v/V filter the list.</summary>
internal sealed partial class MainWindow
{
    /// <summary>The categories last read from the backend (the filter offers them even before a torrent is in one).</summary>
    private IReadOnlyList<Category> _categories = [];

    /// <summary>Reads the categories, then runs <paramref name="then"/> on the interface thread with them.</summary>
    private void WithCategories(Action<IReadOnlyList<Category>> then)
    {
        Task<IReadOnlyList<Category>> load;
        try
        {
            load = _backend.GetCategoriesAsync();
        }
        catch (Exception e)
        {
            ShowError("Cannot read the categories: " + e.Message);
            return;
        }
        WhenDone(load, t =>
        {
            if (t.IsFaulted)
            {
                ShowError("Cannot read the categories: " + Describe(t.Exception!));
                return;
            }
            if (!t.IsCompletedSuccessfully || _stopping) return;
            _categories = t.Result;
            then(t.Result);
        });
    }

    /// <summary>g: the torrent's category and tags.</summary>
    internal void ShowCategoryDialog()
    {
        if (!NeedTorrent(out TorrentSnapshot t)) return;
        WithCategories(categories =>
        {
            var dialog = new CategoryDialog(t.Name, t.Category, t.Labels, [.. categories.Select(c => c.Name)]);
            (string? Category, IReadOnlyList<string> Tags)? chosen = null;
            dialog.IsRunningChanged += (_, e) =>
            {
                if (!e.Value && dialog.IsAccepted) chosen = (dialog.Category, dialog.Tags);
            };
            RunDialog(dialog);
            if (chosen is not { } c) return;
            bool categoryChanged = (c.Category ?? "") != t.Category;
            bool tagsChanged = !c.Tags.SequenceEqual(t.Labels, StringComparer.Ordinal);
            if (!categoryChanged && !tagsChanged) return;
            string what = c.Category is null ? "no category" : $"category {c.Category}";
            string tags = c.Tags.Count == 0 ? "no tags" : "tags " + string.Join(", ", c.Tags);
            RunOperation(async () =>
            {
                if (tagsChanged) await _backend.SetTagsAsync(t.Id, c.Tags).ConfigureAwait(false);
                if (categoryChanged) await _backend.SetCategoryAsync(t.Id, c.Category).ConfigureAwait(false);
            }, $"{TorrentText.Fit(t.Name, 40)}: {what}, {tags}.");
        });
    }

    /// <summary>G: add, change or remove a category (the torrent's own first).</summary>
    internal void ShowCategoryEditor()
    {
        string? current = CurrentTorrent?.Category;
        WithCategories(categories =>
        {
            var dialog = new CategoryEditDialog(categories.FirstOrDefault(c => c.Name == current), categories, remote: Attached);
            (Category? Save, string? Remove)? chosen = null;
            dialog.IsRunningChanged += (_, e) =>
            {
                if (!e.Value && dialog.IsAccepted) chosen = (dialog.Saved, dialog.ToRemove);
            };
            RunDialog(dialog);
            if (chosen is not { } c) return;
            if (c.Remove is { } removed)
                RunOperation(() => _backend.RemoveCategoryAsync(removed), $"Category {removed} removed.");
            else if (c.Save is { } saved)
                RunOperation(() => _backend.SaveCategoryAsync(saved), $"Category {saved.Name} saved.");
        });
    }

    /// <summary>v, V: the next, previous category or tag filter.</summary>
    internal void CycleGroupFilter(int step)
    {
        string? keep = CurrentTorrentIdFromList();
        _list.CycleGroupFilter(step, _categories.Select(c => c.Name));
        ShowRows(keep);
        UpdateTitle();
        // The categories no torrent is in yet are offered from the next press on.
        try
        {
            var load = _backend.GetCategoriesAsync();
            WhenDone(load, t => { if (t.IsCompletedSuccessfully) _categories = t.Result; });
        }
        catch (NotSupportedException)
        {
        }
    }
}
