namespace Talus.Protocol;

/// <summary>Bounds the parser enforces before it buffers anything, so a hostile frame cannot grow memory.</summary>
public sealed class RespLimits
{
    /// <summary>Most arguments a client that has not authenticated may send in one multibulk (Redis: 10).</summary>
    public const int UnauthenticatedMaxArguments = 10;

    /// <summary>Largest bulk string a client that has not authenticated may send (Redis: 16 KB).</summary>
    public const int UnauthenticatedMaxBulkLength = 16 * 1024;

    /// <summary>Largest bulk string accepted (Redis' proto-max-bulk-len, default 512 MB).</summary>
    public long MaxBulkLength { get; set; } = 512L * 1024 * 1024;

    /// <summary>Largest multibulk element count (Redis 7 accepts up to INT_MAX; arguments are buffered as they arrive).</summary>
    public int MaxArguments { get; set; } = int.MaxValue;

    /// <summary>Largest inline command line and largest length header (Redis' PROTO_INLINE_MAX_SIZE).</summary>
    public int MaxInlineLength { get; set; } = 64 * 1024;

    /// <summary>
    /// The connection must still authenticate: multibulks of more than <see cref="UnauthenticatedMaxArguments"/>
    /// arguments or bulks over <see cref="UnauthenticatedMaxBulkLength"/> bytes are protocol errors.
    /// </summary>
    public bool BeforeAuth { get; init; }

    /// <summary>Limits for a connection that has not authenticated yet.</summary>
    public static RespLimits Unauthenticated { get; } = new() { BeforeAuth = true };
}
