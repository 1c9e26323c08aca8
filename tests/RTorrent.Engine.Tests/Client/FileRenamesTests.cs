using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Tests.Session;

namespace RTorrent.Engine.Tests.Client;

public class FileRenamesTests
{
    private static readonly TorrentMetainfo Multi = RelocationTorrents.MultiFile(null, "Album", 16384,
        new TestFile("cd1/01.flac", 20000), new TestFile("pad", 12768, Pad: true), new TestFile("cd1/02.flac", 100),
        new TestFile("cd2/01.flac", 300), new TestFile("cover.jpg", 40)).Meta;

    private static string[] Paths(RenamePlan plan) => [.. plan.Paths.Where((_, i) => !Multi.Files[i].IsPadding)];

    [Fact]
    public void Renaming_a_folder_renames_every_file_under_it_and_nothing_else()
    {
        var plan = FileRenames.Plan(Multi, null, "Album/cd1", "Disc 1");

        Assert.True(plan.IsFolder);
        Assert.Equal("Album/Disc 1", plan.NewPath);
        Assert.Equal(["Album/Disc 1/01.flac", "Album/Disc 1/02.flac", "Album/cd2/01.flac", "Album/cover.jpg"], Paths(plan));
        Assert.Equal([0, 2], plan.Renamed.Keys.Order());
        Assert.Equal("Album", FileRenames.DisplayName(Multi, plan.Renamed)); // the top folder did not change
        Assert.Equal(".pad/12768", plan.Paths[1]); // pad files are never renamed (never on disk)
    }

    [Fact]
    public void Renaming_the_top_folder_renames_the_torrent_and_renaming_back_forgets_the_rename()
    {
        var plan = FileRenames.Plan(Multi, null, "Album", "Best of");
        Assert.Equal("Best of", FileRenames.DisplayName(Multi, plan.Renamed));
        Assert.Equal("Best of/cd2/01.flac", FileRenames.PathOf(Multi, plan.Renamed, 3));
        Assert.Equal("Album", Multi.Name); // the metainfo never changes

        var file = FileRenames.Plan(Multi, plan.Renamed, "Best of/cover.jpg", "front.jpg");
        Assert.Equal("Best of/front.jpg", FileRenames.PathOf(Multi, file.Renamed, 4));

        var back = FileRenames.Plan(Multi, file.Renamed, "Best of", "Album");
        Assert.Equal([4], back.Renamed.Keys);
        Assert.Equal("Album/front.jpg", back.Renamed[4]);
        Assert.Equal("Album", FileRenames.DisplayName(Multi, back.Renamed));
    }

    [Fact]
    public void A_single_file_torrents_file_is_its_name()
    {
        var (single, _) = RelocationTorrents.SingleFile(null, "movie.mkv", 1000, 16384);
        var plan = FileRenames.Plan(single, null, "movie.mkv", "Movie (2024).mkv");
        Assert.False(plan.IsFolder);
        Assert.Equal("Movie (2024).mkv", FileRenames.DisplayName(single, plan.Renamed));
        Assert.Equal("Movie (2024).mkv", FileRenames.StorageFiles(single, plan.Renamed)[0].Path);
    }

    [Fact]
    public void The_same_name_is_nothing_to_do()
    {
        var plan = FileRenames.Plan(Multi, null, "Album/cover.jpg/", "cover.jpg");
        Assert.True(plan.IsNoOp);
        Assert.Empty(plan.Renamed);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("a/b", "path separator")]
    [InlineData("a\\b", "path separator")]
    [InlineData("..", "not allowed")]
    [InlineData(".", "not allowed")]
    [InlineData("nul\0byte", "NUL")]
    [InlineData("tab\there", "not a safe file name")]
    [InlineData("evil\u202Egnp.exe", "not a safe file name")]
    public void Names_a_torrent_path_could_not_have_are_refused(string name, string why)
    {
        var e = Assert.Throws<ArgumentException>(() => FileRenames.Plan(Multi, null, "Album/cover.jpg", name));
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
        Assert.Contains("Album/cover.jpg", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_name_too_long_for_a_file_system_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => FileRenames.Plan(Multi, null, "Album/cover.jpg", new string('x', 300)));
        Assert.Contains("too long", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Album/cd1/01.flac", "02.flac", "file named 'Album/cd1/02.flac'")]
    [InlineData("Album/cd1/01.flac", "02.FLAC", "file named 'Album/cd1/02.flac'")] // ignoring case, as the sanitizer keeps paths unique
    [InlineData("Album/cover.jpg", "cd2", "folder named 'Album/cd2'")]
    [InlineData("Album/cd1", "cover.jpg", "file named 'Album/cover.jpg'")]
    public void A_name_another_file_or_folder_of_the_torrent_has_is_refused(string path, string name, string why)
    {
        var e = Assert.Throws<ArgumentException>(() => FileRenames.Plan(Multi, null, path, name));
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Album/cd3")]
    [InlineData("Album/cd")] // a prefix of a folder's name is not that folder
    [InlineData("album/cover.jpg")] // paths are matched exactly, as Transmission does
    [InlineData(".pad/12768")] // pad files are not the user's
    [InlineData("/")]
    public void A_path_the_torrent_does_not_have_is_refused(string path)
    {
        Assert.Throws<ArgumentException>(() => FileRenames.Plan(Multi, null, path, "x"));
    }

    [Fact]
    public void Changing_only_the_case_of_a_name_is_a_rename()
    {
        var plan = FileRenames.Plan(Multi, null, "Album/cover.jpg", "Cover.jpg");
        Assert.False(plan.IsNoOp);
        Assert.Equal("Album/Cover.jpg", plan.Renamed[4]);
    }
}
