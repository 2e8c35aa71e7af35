namespace Talus.Protocol;

/// <summary>Bounds the parser enforces before it buffers anything, so a hostile frame cannot grow memory.</summary>
public sealed class RespLimits
{
    /// <summary>Largest bulk string accepted (Redis' proto-max-bulk-len, default 512 MB).</summary>
    public long MaxBulkLength { get; set; } = 512L * 1024 * 1024;

    /// <summary>Largest multibulk element count (Redis hard-codes 1024*1024).</summary>
    public int MaxArguments { get; set; } = 1024 * 1024;

    /// <summary>Largest inline command line and largest length header (Redis' PROTO_INLINE_MAX_SIZE).</summary>
    public int MaxInlineLength { get; set; } = 64 * 1024;

    /// <summary>Limits for a connection that has not authenticated yet (Redis allows 10 args of 16 KB).</summary>
    public static RespLimits Unauthenticated { get; } = new() { MaxArguments = 10, MaxBulkLength = 16 * 1024 };
}
