using RTorrent.Testing;
using RTorrent.Tui;

namespace RTorrent.Tests.Tui;

public sealed class PathCompletionTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("rt-complete");

    public PathCompletionTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "movies"));
        Directory.CreateDirectory(Path.Combine(_root, "music"));
        File.WriteAllText(Path.Combine(_root, "ubuntu-24.04.torrent"), "x");
        File.WriteAllText(Path.Combine(_root, "ubuntu-22.04.torrent"), "x");
        File.WriteAllText(Path.Combine(_root, "ubuntu-notes.txt"), "x");
        File.WriteAllText(Path.Combine(_root, "debian.torrent"), "x");
        File.WriteAllText(Path.Combine(_root, ".secret.torrent"), "x");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_unique_match_is_completed_whole()
    {
        PathCompletionResult r = PathCompletion.Complete(_root + "/deb", false, ".torrent");
        Assert.Equal(_root + "/debian.torrent", r.Text);
        Assert.Empty(r.Candidates);
    }

    [Fact]
    public void Folders_complete_with_a_slash()
    {
        Assert.Equal(_root + "/movies/", PathCompletion.Complete(_root + "/mov", true).Text);
    }

    [Fact]
    public void Ambiguous_matches_complete_the_common_part_and_list_the_rest()
    {
        PathCompletionResult r = PathCompletion.Complete(_root + "/ubu", false, ".torrent");
        Assert.Equal(_root + "/ubuntu-2", r.Text); // the .txt is left out while .torrent files match
        Assert.Equal(["ubuntu-22.04.torrent", "ubuntu-24.04.torrent"], r.Candidates);
        Assert.True(r.Changed(_root + "/ubu"));

        PathCompletionResult again = PathCompletion.Complete(r.Text, false, ".torrent");
        Assert.False(again.Changed(r.Text));
        Assert.Equal(2, again.Candidates.Count);
    }

    [Fact]
    public void Other_files_are_offered_when_no_torrent_matches()
    {
        Assert.Equal(_root + "/ubuntu-notes.txt", PathCompletion.Complete(_root + "/ubuntu-n", false, ".torrent").Text);
    }

    [Fact]
    public void Folder_completion_offers_only_folders()
    {
        PathCompletionResult r = PathCompletion.Complete(_root + "/m", true);
        Assert.Equal(_root + "/mu", PathCompletion.Complete(_root + "/mu", true).Text[..(_root.Length + 3)]);
        Assert.Equal(["movies/", "music/"], r.Candidates);
    }

    [Fact]
    public void Hidden_files_need_a_leading_dot_and_relative_paths_use_the_given_folder()
    {
        Assert.DoesNotContain(PathCompletion.Complete(_root + "/", false).Candidates, c => c.StartsWith('.'));
        Assert.Equal(_root + "/.secret.torrent", PathCompletion.Complete(_root + "/.s", false).Text);
        Assert.Equal("debian.torrent", PathCompletion.Complete("de", false, ".torrent", _root).Text);
    }

    [Fact]
    public void Nothing_to_complete_leaves_the_text_alone()
    {
        Assert.Equal(_root + "/zzz", PathCompletion.Complete(_root + "/zzz", false).Text);
        Assert.Equal("/no/such/folder/x", PathCompletion.Complete("/no/such/folder/x", false).Text);
    }

    [Fact]
    public void Home_is_expanded_for_lookup()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Assert.Equal(home, PathCompletion.Expand("~"));
        Assert.Equal(Path.Combine(home, "x"), PathCompletion.Expand("~/x"));
        Assert.Equal(Path.Combine(_root, "a"), PathCompletion.Expand("a", _root));
    }
}
