using RTorrent.Engine.Bencode;

namespace RTorrent.Engine.Resume;

/// <summary>Bencode lists of strings in resume data (labels, tracker tiers), read strictly: anything else is corrupt.</summary>
internal static class ResumeLists
{
    public static BList EncodeStrings(IEnumerable<string> values) => new(values.Select(v => (BValue)new BString(v)));

    public static BList EncodeTiers(IEnumerable<IEnumerable<string>> tiers) => new(tiers.Select(t => (BValue)EncodeStrings(t)));

    /// <exception cref="ResumeException">The value is not a list of strings.</exception>
    public static IReadOnlyList<string> DecodeStrings(BValue value, string key)
    {
        if (value is not BList list) throw Corrupt(key, "is not a list");
        var result = new string[list.Count];
        for (int i = 0; i < result.Length; i++)
            result[i] = (list[i] as BString)?.Text ?? throw Corrupt(key, $"entry {i} is not a string");
        return result;
    }

    /// <exception cref="ResumeException">The value is not a list of lists of strings.</exception>
    public static IReadOnlyList<IReadOnlyList<string>> DecodeTiers(BValue value, string key)
    {
        if (value is not BList list) throw Corrupt(key, "is not a list");
        var result = new IReadOnlyList<string>[list.Count];
        for (int i = 0; i < result.Length; i++) result[i] = DecodeStrings(list[i], key);
        return result;
    }

    private static ResumeException Corrupt(string key, string what) => new(ResumeProblem.Corrupt, $"'{key}' {what}");
}
