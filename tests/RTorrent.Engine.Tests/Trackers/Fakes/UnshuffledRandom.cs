namespace RTorrent.Engine.Tests.Trackers.Fakes;

/// <summary>A Random whose shuffles leave the order alone (Fisher-Yates picks j = i), so tier order is the metainfo's.</summary>
internal sealed class UnshuffledRandom() : Random(12345)
{
    public override int Next(int minValue, int maxValue) => minValue;
}
