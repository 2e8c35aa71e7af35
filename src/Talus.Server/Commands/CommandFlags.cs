namespace Talus.Server.Commands;

/// <summary>Properties of a command that the dispatcher's gates and COMMAND INFO read.</summary>
[Flags]
public enum CommandFlags
{
    None = 0,
    Write = 1 << 0,      // changes data: refused on a read-only replica
    ReadOnly = 1 << 1,   // reads data only
    Admin = 1 << 2,      // server administration
    NoAuth = 1 << 3,     // allowed before AUTH (AUTH, HELLO, QUIT)
    Fast = 1 << 4,       // O(1) or O(log n)
    Loading = 1 << 5,    // allowed while the dataset loads
    Stale = 1 << 6,      // allowed on a replica whose link is down
    PubSub = 1 << 7,     // pub/sub command (allowed in subscribe mode)
    Blocking = 1 << 8,   // may block the client
    NoMulti = 1 << 9,    // not allowed inside MULTI
    DenyOom = 1 << 10,   // may grow memory
    NoScript = 1 << 11,  // not allowed from scripts
    SkipMonitor = 1 << 12, // hidden from MONITOR (AUTH, replication verbs)
    Internal = 1 << 13,  // replication verb used between Talus nodes
    MayReplicate = 1 << 14, // not a write, but held by CLIENT PAUSE WRITE as Redis holds it (PUBLISH, SPUBLISH, PFCOUNT); COMMAND INFO does not list it, as Redis 7.0 does not
}
