namespace Talus.Storage.Engine;

/// <summary>Names and version of the on-disk layout; see docs/storage-format.md.</summary>
public static class StorageFormat
{
    /// <summary>Bumped on any incompatible change of key or value layout. Stored in sys/format-version.</summary>
    public const int Version = 1;

    public const string MetaFamily = "meta";
    public const string SubFamily = "sub";
    public const string ZScoreFamily = "zscore";
    public const string SysFamily = "sys";

    /// <summary>sys key holding <see cref="Version"/> as ASCII digits.</summary>
    public static ReadOnlySpan<byte> FormatVersionKey => "format-version"u8;
}
