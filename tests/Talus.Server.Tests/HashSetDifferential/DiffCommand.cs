namespace Talus.Server.Tests.HashSetDifferential;

/// <summary>One command of a differential stream and how its replies are compared.</summary>
internal sealed record DiffCommand(string[] Args, ReplyCheck Check)
{
    /// <summary>The state may differ afterwards (SPOP) or time must pass (a 1 ms expiry): the batch ends here.</summary>
    public bool EndsBatch { get; init; }

    /// <summary>After the batch, wait until the key has expired on both servers.</summary>
    public bool AwaitsExpiry { get; init; }

    public string Name => Args[0].ToUpperInvariant();

    public override string ToString() => string.Join(' ', Args.Select(a => a.Length == 0 || a.Contains(' ') ? $"\"{a}\"" : a));
}
