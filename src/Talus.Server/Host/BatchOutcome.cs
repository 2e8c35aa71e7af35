namespace Talus.Server.Host;

/// <summary>Why <see cref="RequestProcessor.Process"/> stopped, and what the transport does next.</summary>
public enum BatchOutcome
{
    NeedMoreData,   // everything complete was executed; the rest is a partial command
    FlushFirst,     // replies piled up; flush, then continue with the same buffer
    Blocked,        // a blocking command is pending; await it, then continue
    StripeBusy,     // a command gave way to a key another thread holds; await its release, then read it again
    ProtocolError,  // framing broken: error written, close
    Closing,        // QUIT or kill: stop reading
    StorageFailure, // EXEC's commit failed: close without sending the unflushed replies
}
