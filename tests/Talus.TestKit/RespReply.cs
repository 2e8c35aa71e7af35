using System.Text;

namespace Talus.TestKit;

/// <summary>A parsed RESP reply, with the exact bytes it arrived as (for byte-for-byte comparisons).</summary>
public sealed class RespReply
{
    public required char Type { get; init; }

    /// <summary>Simple string, error text, bulk string (null for a null bulk), or number text.</summary>
    public string? Text { get; init; }

    public byte[]? Bytes { get; init; }

    public long Integer { get; init; }

    public List<RespReply>? Items { get; init; }

    public required byte[] Raw { get; init; }

    public bool IsError => Type == '-';

    public bool IsNull => (Type == '$' || Type == '*') && Text is null && Items is null || Type == '_';

    public override string ToString() => Type switch
    {
        '+' => Text!,
        '-' => "(error) " + Text,
        ':' => Integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
        '$' when Text is null => "(nil)",
        '$' => "\"" + Text + "\"",
        '*' or '%' or '~' or '>' when Items is null => "(nil array)",
        '*' or '%' or '~' or '>' => "[" + string.Join(", ", Items!) + "]",
        _ => Encoding.UTF8.GetString(Raw).TrimEnd(),
    };
}
