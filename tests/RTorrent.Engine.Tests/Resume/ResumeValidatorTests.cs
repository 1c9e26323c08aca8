using System.Security.Cryptography;
using RTorrent.Abstractions;
using RTorrent.Engine.Resume;
using RTorrent.Engine.Storage;
using RTorrent.Engine.Tests.Storage;

namespace RTorrent.Engine.Tests.Resume;

public class ResumeValidatorTests
{
    // a: 0..2999 (pieces 0-2), b: 3000..4999 (pieces 2-4), pad 5000..5119, c: 5120..6143 (piece 5). Pieces of 1024.
    private static readonly FileLayout Layout = new(
    [
        new StorageFile(0, "t/a", 3000, false),
        new StorageFile(1, "t/b", 2000, false),
        new StorageFile(2, "t/.pad/120", 120, true),
        new StorageFile(3, "t/c", 1024, false),
    ], 1024);

    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static StorageFileState F(long length, DateTimeOffset? time) => new(true, length, time);

    private static ResumeData Data(Func<int, bool> verified, params StorageFileState[] files) => new()
    {
        InfoHash = ResumeDataTests.Hash,
        SavePath = "/d",
        PieceCount = Layout.PieceCount,
        VerifiedPieces = ResumeDataTests.Bitfield(Layout.PieceCount, verified),
        Files = files,
    };

    private static readonly StorageFileState[] Saved = [F(3000, T0), F(2000, T0), default, F(1024, T0)];

    [Fact]
    public void Unchanged_files_keep_every_claimed_piece()
    {
        var v = ResumeValidator.Validate(Data(_ => true, Saved), Layout, Saved);
        Assert.True(v.IsIntact);
        Assert.Equal(6, v.TrustedCount);
        Assert.Empty(v.Reasons);
    }

    [Fact]
    public void A_complete_file_modified_later_loses_its_pieces_including_shared_ones()
    {
        var now = (StorageFileState[])Saved.Clone();
        now[0] = F(3000, T0.AddSeconds(1));
        var v = ResumeValidator.Validate(Data(_ => true, Saved), Layout, now);
        Assert.Equal([0, 1, 2], v.PiecesToRecheck); // piece 2 is shared with b, and goes too
        Assert.Equal(3, v.TrustedCount);
        Assert.Contains("t/a: modified", Assert.Single(v.Reasons));
        Assert.Equal(ResumeDataTests.Bitfield(6, p => p > 2), v.TrustedPieces);
    }

    [Fact]
    public void An_incomplete_file_may_grow_newer_through_our_own_writes_after_the_save()
    {
        // Piece 4 (in b) was not verified at the save, so b was still being written: a newer time and size are ours.
        var saved = new[] { F(3000, T0), F(1500, T0), default, F(1024, T0) };
        var now = new[] { F(3000, T0), F(2000, T0.AddMinutes(5)), default, F(1024, T0) };
        var v = ResumeValidator.Validate(Data(p => p != 4, saved), Layout, now);
        Assert.True(v.IsIntact);
        Assert.Equal(5, v.TrustedCount);
    }

    [Fact]
    public void Journaled_pieces_are_trusted_and_a_file_they_completed_is_judged_as_one_still_downloading()
    {
        // At the save b had only piece 3; the journal adds 4 (b is now complete, grown and newer through our writes)
        // and c's piece 5, c not existing at the save (our first write created it).
        var saved = new[] { F(3000, T0), F(1500, T0), default, new StorageFileState(false, 0, null) };
        var now = new[] { F(3000, T0), F(2000, T0.AddSeconds(30)), default, F(1024, T0.AddSeconds(30)) };
        var v = ResumeValidator.Validate(Data(p => p <= 3, saved), Layout, now, [4, 5]);
        Assert.True(v.IsIntact, string.Join("; ", v.Reasons));
        Assert.Equal(6, v.TrustedCount);

        // A journaled piece the file is too short to hold is not trusted, and neither are the file's other claims.
        now[1] = F(1800, T0.AddSeconds(30));
        v = ResumeValidator.Validate(Data(p => p <= 3, saved), Layout, now, [4, 5]);
        Assert.Equal([2, 3, 4], v.PiecesToRecheck);
        Assert.Contains("too short", Assert.Single(v.Reasons));
    }

    [Fact]
    public void An_incomplete_file_that_shrank_got_older_or_vanished_loses_its_pieces()
    {
        var saved = new[] { F(3000, T0), F(2000, T0), default, F(1024, T0) };
        var data = Data(p => p != 4, saved);

        var older = ResumeValidator.Validate(data, Layout, [F(3000, T0), F(2000, T0.AddDays(-1)), default, F(1024, T0)]);
        Assert.Equal([2, 3], older.PiecesToRecheck);
        Assert.Contains("replaced", older.Reasons[0]);

        var shrank = ResumeValidator.Validate(data, Layout, [F(3000, T0), F(1000, T0), default, F(1024, T0)]);
        Assert.Equal([2, 3], shrank.PiecesToRecheck);

        var gone = ResumeValidator.Validate(data, Layout, [F(3000, T0), default, default, F(1024, T0)]);
        Assert.Equal([2, 3], gone.PiecesToRecheck);
        Assert.Equal("t/b: missing", gone.Reasons[0]);
    }

    [Fact]
    public void Files_without_claimed_pieces_do_not_matter_and_short_files_are_caught()
    {
        // Only piece 5 (c) claimed; a and b changed entirely.
        var now = new[] { default, F(7, T0.AddYears(1)), default, F(1024, T0) };
        Assert.True(ResumeValidator.Validate(Data(p => p == 5, Saved), Layout, now).IsIntact);

        // Claimed piece 0 but the file is now too short to hold it, even though the save said 0 bytes and it was incomplete.
        var saved = new[] { F(0, T0), F(0, T0), default, F(0, T0) };
        var v = ResumeValidator.Validate(Data(p => p == 0, saved), Layout, [F(500, T0), default, default, default]);
        Assert.Equal([0], v.PiecesToRecheck);
        Assert.Contains("too short", v.Reasons[0]);
    }

    [Fact]
    public void Media_without_times_are_judged_by_size()
    {
        var saved = new[] { F(3000, null), F(2000, null), default, F(1024, null) };
        Assert.True(ResumeValidator.Validate(Data(_ => true, saved), Layout, saved).IsIntact);
    }

    [Fact]
    public async Task Following_the_save_rule_a_crash_after_more_writes_still_resumes_exactly_the_saved_pieces()
    {
        using var tmp = new TempDir("rt-resume");
        using var factory = new FileStorageFactory();
        var ctx = new StorageContext(tmp.Sub("dl"), Layout.Files, ResumeDataTests.Hash.ToHex());
        var data = StorageTestData.Random((int)Layout.TotalLength, 8);
        Array.Clear(data, 5000, 120);
        var hashes = new byte[Layout.PieceCount * 20];
        for (int p = 0; p < Layout.PieceCount; p++)
            SHA1.HashData(data.AsSpan((int)Layout.GetPieceOffset(p), Layout.GetPieceSize(p)), hashes.AsSpan(p * 20));
        var store = new ResumeStore(tmp.Sub("session"));

        await using (var storage = factory.Open(ctx))
        {
            var io = new PieceIO(storage, Layout);
            await io.PrepareFilesAsync(false);
            foreach (var p in new[] { 0, 1, 5 }) await io.WritePieceAsync(p, Slice(data, p));

            // The rule: snapshot, flush, probe, save.
            var snapshot = ResumeDataTests.Bitfield(Layout.PieceCount, p => p is 0 or 1 or 5);
            await storage.FlushAsync(default);
            var probes = await io.ProbeFilesAsync();
            await store.SaveAsync(new ResumeData
            {
                InfoHash = ResumeDataTests.Hash, SavePath = ctx.SaveDirectory, PieceCount = Layout.PieceCount,
                VerifiedPieces = snapshot, Files = probes, AddedAt = DateTimeOffset.UtcNow,
            });

            // More pieces land after the save; then the process dies without saving again.
            await Task.Delay(20); // let the clock move so file times differ
            await io.WritePieceAsync(3, Slice(data, 3));
            await io.WritePieceAsync(2, Slice(data, 2)[..100].ToArray().Concat(new byte[924]).ToArray()); // a half-written piece
        }

        await using (var storage = factory.Open(ctx))
        {
            var io = new PieceIO(storage, Layout);
            var loaded = await store.LoadAsync(ResumeDataTests.Hash, Layout.PieceCount, Layout.Files.Count);
            Assert.Equal(ResumeLoadStatus.Loaded, loaded.Status);
            var validation = ResumeValidator.Validate(loaded.Data!, Layout, await io.ProbeFilesAsync());
            Assert.True(validation.IsIntact, string.Join("; ", validation.Reasons));
            Assert.Equal(ResumeDataTests.Bitfield(6, p => p is 0 or 1 or 5), validation.TrustedPieces);
            // And what it trusts is really on disk.
            var recheck = await PieceRecheck.RunAsync(io, hashes);
            for (int p = 0; p < Layout.PieceCount; p++)
                if (loaded.Data!.IsPieceVerified(p)) Assert.True(recheck.IsVerified(p), $"piece {p}");
            Assert.False(recheck.IsVerified(2));
        }
    }

    private static ReadOnlyMemory<byte> Slice(byte[] data, int piece) =>
        data.AsMemory((int)Layout.GetPieceOffset(piece), Layout.GetPieceSize(piece));
}
