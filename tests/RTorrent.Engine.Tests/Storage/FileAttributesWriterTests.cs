using RTorrent.Engine.Storage;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Storage;

public class FileAttributesWriterTests
{
    [Fact]
    public void A_link_is_made_relative_to_its_folder()
    {
        var root = TestPaths.NewTempDir();
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "T", "a"));
            File.WriteAllText(Path.Combine(root, "T", "b.txt"), "hi");
            FileAttributesWriter.CreateSymlink(root, Path.Combine(root, "T", "a", "l"), Path.Combine(root, "T", "b.txt"));
            Assert.Equal(Path.Combine("..", "b.txt"), new FileInfo(Path.Combine(root, "T", "a", "l")).LinkTarget);
            Assert.Equal("hi", File.ReadAllText(Path.Combine(root, "T", "a", "l")));
            // Again: nothing to do; a link elsewhere is replaced.
            FileAttributesWriter.CreateSymlink(root, Path.Combine(root, "T", "a", "l"), Path.Combine(root, "T", "b.txt"));
            FileAttributesWriter.CreateSymlink(root, Path.Combine(root, "T", "a", "l"), Path.Combine(root, "T"));
            Assert.Equal("..", new FileInfo(Path.Combine(root, "T", "a", "l")).LinkTarget);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void A_file_already_in_the_links_place_is_kept()
    {
        var root = TestPaths.NewTempDir();
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "T"));
            File.WriteAllText(Path.Combine(root, "T", "l"), "mine");
            var e = Assert.Throws<StorageIOException>(() =>
                FileAttributesWriter.CreateSymlink(root, Path.Combine(root, "T", "l"), Path.Combine(root, "T", "x")));
            Assert.Contains("already there", e.Message);
            Assert.Equal("mine", File.ReadAllText(Path.Combine(root, "T", "l")));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void A_link_that_would_lead_out_of_the_folder_is_refused_lexically_and_on_disk()
    {
        var top = TestPaths.NewTempDir();
        try
        {
            var root = Path.Combine(top, "downloads");
            var outside = Path.Combine(top, "outside");
            Directory.CreateDirectory(Path.Combine(root, "T"));
            Directory.CreateDirectory(outside);
            var e = Assert.Throws<StorageIOException>(() =>
                FileAttributesWriter.CreateSymlink(root, Path.Combine(root, "T", "l"), Path.Combine(outside, "x")));
            Assert.Equal(StorageErrorKind.OutsideDownloadFolder, e.Kind);
            // A hostile link already in the folder: a target through it leads out on disk.
            Directory.CreateSymbolicLink(Path.Combine(root, "T", "sub"), outside);
            e = Assert.Throws<StorageIOException>(() =>
                FileAttributesWriter.CreateSymlink(root, Path.Combine(root, "T", "l"), Path.Combine(root, "T", "sub", "x")));
            Assert.Equal(StorageErrorKind.OutsideDownloadFolder, e.Kind);
            // ... and a link made inside it would be made outside.
            e = Assert.Throws<StorageIOException>(() =>
                FileAttributesWriter.CreateSymlink(root, Path.Combine(root, "T", "sub", "l"), Path.Combine(root, "T")));
            Assert.Equal(StorageErrorKind.OutsideDownloadFolder, e.Kind);
            Assert.Empty(Directory.GetFileSystemEntries(outside));
            Assert.False(File.Exists(Path.Combine(root, "T", "l")));
        }
        finally { Directory.Delete(top, true); }
    }

    [Fact]
    public void The_executable_bit_follows_the_read_bits_and_never_crosses_a_link_out()
    {
        if (OperatingSystem.IsWindows()) return;
        var top = TestPaths.NewTempDir();
        try
        {
            var root = Path.Combine(top, "downloads");
            Directory.CreateDirectory(root);
            var f = Path.Combine(root, "f");
            File.WriteAllText(f, "x");
            File.SetUnixFileMode(f, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
            Assert.True(FileAttributesWriter.MakeExecutable(root, f));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute,
                File.GetUnixFileMode(f));
            Assert.False(FileAttributesWriter.MakeExecutable(root, f)); // already
            var outsideFile = Path.Combine(top, "victim");
            File.WriteAllText(outsideFile, "v");
            File.SetUnixFileMode(outsideFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.CreateSymbolicLink(Path.Combine(root, "l"), outsideFile);
            Assert.Throws<StorageIOException>(() => FileAttributesWriter.MakeExecutable(root, Path.Combine(root, "l")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(outsideFile));
        }
        finally { Directory.Delete(top, true); }
    }
}
