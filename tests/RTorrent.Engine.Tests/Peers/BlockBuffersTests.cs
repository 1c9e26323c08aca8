using RTorrent.Engine.Peers;

namespace RTorrent.Engine.Tests.Peers;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BlockBuffersCollection
{
    /// <summary>The pool is process-wide: these tests run while no other test receives blocks.</summary>
    public const string Name = "block buffers (process-wide pool)";
}

/// <summary>Received-block buffers are reused, bounded, and let go once unused.</summary>
[Collection(BlockBuffersCollection.Name)]
public sealed class BlockBuffersTests
{
    public BlockBuffersTests()
    {
        // Start empty: two checks with no rent between them let everything go.
        BlockBuffers.TrimIfUnused();
        BlockBuffers.TrimIfUnused();
    }

    [Fact]
    public void A_returned_buffer_is_handed_out_again_and_one_of_another_size_is_not_kept()
    {
        var b = BlockBuffers.Rent();
        Assert.Equal(BlockBuffers.Size, b.Length);
        BlockBuffers.Return(b);
        BlockBuffers.Return(new byte[100]);
        Assert.Equal(1, BlockBuffers.Kept);
        Assert.Same(b, BlockBuffers.Rent());
        Assert.Equal(0, BlockBuffers.Kept);
    }

    [Fact]
    public void What_is_kept_never_passes_the_bound()
    {
        for (int i = 0; i < BlockBuffers.MaxKept + 100; i++) BlockBuffers.Return(new byte[BlockBuffers.Size]);
        Assert.Equal(BlockBuffers.MaxKept, BlockBuffers.Kept);
    }

    [Fact]
    public void A_pool_unused_between_two_checks_is_let_go_and_one_in_use_is_not()
    {
        BlockBuffers.Return(BlockBuffers.Rent());
        BlockBuffers.Return(new byte[BlockBuffers.Size]);
        Assert.Equal(0, BlockBuffers.TrimIfUnused()); // a block was rented since the last check: kept
        Assert.Equal(2, BlockBuffers.Kept);
        Assert.Equal(2, BlockBuffers.TrimIfUnused()); // none since: let go
        Assert.Equal(0, BlockBuffers.Kept);
    }
}
