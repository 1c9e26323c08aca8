using RTorrent.Engine.Bencode;
using RTorrent.Engine.Resume;

namespace RTorrent.Engine.Tests.Resume;

public class ResumeRenamedFilesTests
{
    [Fact]
    public void Renamed_files_round_trip()
    {
        var data = ResumeDataTests.Sample() with { RenamedFiles = new Dictionary<int, string> { [2] = "New name/c.bin", [0] = "New name/a b.bin" } };

        var back = ResumeData.Decode(data.Encode());

        Assert.Equal(2, back.RenamedFiles.Count);
        Assert.Equal("New name/a b.bin", back.RenamedFiles[0]);
        Assert.Equal("New name/c.bin", back.RenamedFiles[2]);
    }

    [Fact]
    public void Data_written_before_renames_existed_loads_with_none_and_writes_no_key_when_there_are_none()
    {
        var old = ResumeDataTests.Sample().Encode();
        Assert.DoesNotContain("renamed-files", BencodeReader.DecodeDictionary(old).Select(e => e.Key.Text));

        var back = ResumeData.Decode(old);

        Assert.Empty(back.RenamedFiles);
        Assert.Equal(ResumeData.CurrentFormatVersion, back.FormatVersion); // nothing bumped: older readers still read new files
    }

    [Theory]
    [InlineData(3, "x", "names file 3 of 3")]
    [InlineData(-1, "x", "names file -1")]
    [InlineData(0, "../escape", "'..'")]
    [InlineData(0, "/etc/passwd", "absolute")]
    [InlineData(0, "a//b", "empty")]
    [InlineData(0, "", "empty")]
    public void Renames_outside_the_torrent_or_its_folder_are_corrupt(int index, string path, string why)
    {
        var bytes = ResumeDataTests.Resign(ResumeDataTests.Sample().Encode(),
            d => d["renamed-files"] = new BList { new BList { new BInteger(index), new BString(path) } });

        var e = Assert.Throws<ResumeException>(() => ResumeData.Decode(bytes));

        Assert.Equal(ResumeProblem.Corrupt, e.Problem);
        Assert.Contains("'renamed-files'", e.Message, StringComparison.Ordinal);
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_renamed_twice_or_a_malformed_entry_is_corrupt()
    {
        var twice = ResumeDataTests.Resign(ResumeDataTests.Sample().Encode(), d => d["renamed-files"] = new BList
        {
            new BList { new BInteger(1), new BString("a") },
            new BList { new BInteger(1), new BString("b") },
        });
        Assert.Contains("twice", Assert.Throws<ResumeException>(() => ResumeData.Decode(twice)).Message, StringComparison.Ordinal);

        var malformed = ResumeDataTests.Resign(ResumeDataTests.Sample().Encode(), d => d["renamed-files"] = new BList { new BString("a") });
        Assert.Contains("pair", Assert.Throws<ResumeException>(() => ResumeData.Decode(malformed)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encoding_refuses_a_rename_of_a_file_the_torrent_does_not_have()
    {
        var data = ResumeDataTests.Sample() with { RenamedFiles = new Dictionary<int, string> { [7] = "x" } };
        Assert.Throws<ArgumentException>(() => data.Encode());
    }
}
