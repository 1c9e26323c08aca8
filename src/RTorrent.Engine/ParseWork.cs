namespace RTorrent.Engine;

/// <summary>
/// Counts the units of work the parsers do on the current thread: keys compared, file indices marked, characters of
/// path keys built. Tests read it to prove that a parser's work grows linearly with its input (a stopwatch on a shared
/// machine proves nothing, and a test that times would be flaky). Thread-static, so tests running in parallel do not
/// see each other's work; a count costs one thread-local add.
/// </summary>
/// <remarks>
/// Usage in a test: <c>long before = ParseWork.Units; Parse(input); long work = ParseWork.Units - before;</c>, then
/// compare the work on an input of size n with the work on one of size 2n. A unit is whatever the counting code says
/// it is; only the growth matters.
/// </remarks>
internal static class ParseWork
{
    [ThreadStatic] private static long t_units;

    /// <summary>Units counted on this thread so far.</summary>
    public static long Units => t_units;

    /// <summary>Counts <paramref name="units"/> units of work.</summary>
    public static void Add(long units) => t_units += units;
}
