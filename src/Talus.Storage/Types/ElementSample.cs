namespace Talus.Storage.Types;

/// <summary>
/// The answer to a random pick (HRANDFIELD, SRANDMEMBER). When <see cref="Draws"/> is 0 the reply is
/// <see cref="Elements"/> as they are; otherwise it is <see cref="Draws"/> independent uniform picks from
/// <see cref="Elements"/>, which then hold the whole collection (a large negative count: the reply repeats
/// elements, so it is produced while writing instead of being built in memory).
/// </summary>
public sealed record ElementSample(List<KeyValuePair<byte[], byte[]>> Elements, long Draws)
{
    public static ElementSample Empty => new([], 0);

    /// <summary>How many elements the reply holds.</summary>
    public long Count => Draws > 0 ? Draws : Elements.Count;
}
