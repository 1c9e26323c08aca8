using System.Text;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Tests.Metainfo;

public class PathSanitizerTests
{
    private static readonly PathSanitizerOptions Posix = new() { WindowsRules = false };
    private static readonly PathSanitizerOptions Windows = new() { WindowsRules = true };

    [Theory]
    [InlineData("..", "_")]
    [InlineData(".", "_")]
    [InlineData("", "_")]
    [InlineData("/", "_")]
    [InlineData("a/b", "ab")]
    [InlineData("a\\b", "ab")]
    [InlineData("/etc", "etc")]
    [InlineData("C:\\Windows", "C:Windows")]
    [InlineData("x\0y\u0001z\u007f", "xyz")]
    [InlineData("txt\u202Eexe.doc", "txtexe.doc")]
    [InlineData("...", "...")]
    [InlineData("CON", "CON")]
    [InlineData("name. ", "name. ")]
    [InlineData("ok name.txt", "ok name.txt")]
    public void Posix_elements(string raw, string expected) => Assert.Equal(expected, PathSanitizer.SanitizeElement(raw, Posix));

    [Theory]
    [InlineData("CON", "_CON")]
    [InlineData("con.txt", "_con.txt")]
    [InlineData("COM1", "_COM1")]
    [InlineData("LPT9.tar.gz", "_LPT9.tar.gz")]
    [InlineData("CONSOLE", "CONSOLE")]
    [InlineData("name. .", "name")]
    [InlineData("...", "_")]
    [InlineData("C:\\Windows", "C_Windows")]
    [InlineData("a<b>c|d?e*f\"g", "a_b_c_d_e_f_g")]
    public void Windows_elements(string raw, string expected) => Assert.Equal(expected, PathSanitizer.SanitizeElement(raw, Windows));

    [Fact]
    public void Invalid_utf8_becomes_underscore()
    {
        Assert.Equal("_est", PathSanitizer.SanitizeElement([0x82, (byte)'e', (byte)'s', (byte)'t'], Posix));
        Assert.Equal("a_b", PathSanitizer.SanitizeElement([(byte)'a', 0xFF, (byte)'b'], Posix));
    }

    [Fact]
    public void Long_element_is_cut_to_240_bytes_keeping_the_extension()
    {
        var name = new string('a', 300) + ".mkv";
        var result = PathSanitizer.SanitizeElement(name, Posix);
        Assert.Equal(new string('a', 240) + ".mkv", result);
    }

    [Fact]
    public void Long_element_is_cut_on_a_character_boundary()
    {
        var name = string.Concat(Enumerable.Repeat("é", 200)); // 400 bytes
        var result = PathSanitizer.SanitizeElement(name, Posix);
        Assert.True(Encoding.UTF8.GetByteCount(result) <= PathSanitizer.MaxElementBytes);
        Assert.Equal(120, result.Length);
        Assert.DoesNotContain('\uFFFD', result);
    }

    [Fact]
    public void Long_extension_is_not_kept()
    {
        var name = "x." + new string('e', 300);
        var result = PathSanitizer.SanitizeElement(name, Posix);
        Assert.Equal(PathSanitizer.MaxElementBytes, Encoding.UTF8.GetByteCount(result));
    }

    private static string Add(PathSanitizer s, string? root, params string[] elements) =>
        s.AddFile(root, [.. elements.Select(e => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(e))]);

    [Fact]
    public void Duplicates_are_renamed_like_libtorrent()
    {
        var s = new PathSanitizer(Posix);
        Assert.Equal("t/foo/bar.txt", Add(s, "t", "foo", "bar.txt"));
        Assert.Equal("t/foo/bar.1.txt", Add(s, "t", "foo", "bar.txt"));
        Assert.Equal("t/foo/bar.2.txt", Add(s, "t", "foo", "bar.txt"));
        Assert.Equal("t/foo/noext", Add(s, "t", "foo", "noext"));
        Assert.Equal("t/foo/noext.1", Add(s, "t", "foo", "noext"));
        Assert.Equal(3, s.Changes.Count);
    }

    [Fact]
    public void Unchanged_paths_are_not_reported()
    {
        var s = new PathSanitizer(Posix);
        Assert.Equal("t/Ünïcødé/ファイル.txt", Add(s, "t", "Ünïcødé", "ファイル.txt"));
        Assert.Equal("t/plain.txt", Add(s, "t", "plain.txt"));
        Assert.Empty(s.Changes);
    }

    [Fact]
    public void Names_differing_only_in_case_collide()
    {
        var s = new PathSanitizer(Posix);
        Assert.Equal("t/Read.me", Add(s, "t", "Read.me"));
        Assert.Equal("t/read.1.me", Add(s, "t", "read.me"));
    }

    [Fact]
    public void A_file_and_a_folder_of_the_same_name_do_not_collide()
    {
        var s = new PathSanitizer(Posix);
        Assert.Equal("t/x", Add(s, "t", "x"));
        Assert.Equal("t/x.1/y", Add(s, "t", "x", "y"));
        Assert.Equal("t/x.1/z", Add(s, "t", "x", "z"));

        var s2 = new PathSanitizer(Posix);
        Assert.Equal("t/x/y", Add(s2, "t", "x", "y"));
        Assert.Equal("t/x.1", Add(s2, "t", "x"));
    }

    [Fact]
    public void Sanitizing_makes_collisions_which_are_renamed()
    {
        var s = new PathSanitizer(Posix);
        Assert.Equal("t/_/foo", Add(s, "t", "/", "foo"));
        Assert.Equal("t/_/foo.1", Add(s, "t", "\\", "foo"));
        Assert.Equal("t/_/foo.2", Add(s, "t", "..", "foo"));
    }

    [Fact]
    public void Too_many_duplicates_are_refused()
    {
        var s = new PathSanitizer(Posix with { MaxDuplicateProbes = 10 });
        Assert.Throws<TorrentFormatException>(() =>
        {
            for (int i = 0; i < 100; i++) Add(s, "t", "same");
        });
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("/etc/passwd")]
    public void ResolveInside_refuses_paths_that_leave_the_folder(string path)
    {
        var dir = Path.Combine(Path.GetTempPath(), "rt-downloads");
        Assert.Throws<ArgumentException>(() => PathSanitizer.ResolveInside(dir, path));
    }

    [Fact]
    public void ResolveInside_accepts_a_sanitized_path()
    {
        var dir = Path.Combine(Path.GetTempPath(), "rt-downloads");
        Assert.Equal(Path.Combine(dir, "t", "a", "b"), PathSanitizer.ResolveInside(dir, "t/a/b"));
    }
}
