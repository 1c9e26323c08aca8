namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// Every interop test runs in this one collection, one test at a time: each starts several real clients, and the
/// build machine has two cores. (xunit.runner.json also turns off parallel collections for the assembly.)
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class InteropCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Interop (real clients, one at a time)";
}
