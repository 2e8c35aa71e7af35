using Talus.Replication.Master;

namespace Talus.Server.Commands;

/// <summary>What a connection from a replica has established: who it is and which link it belongs to.</summary>
public sealed class ReplicaSessionState
{
    /// <summary>Run id given in MetaSync (data connection) or TALUS-CONTROL (control connection).</summary>
    public string? RunId { get; set; }

    /// <summary>The link this connection belongs to.</summary>
    public ReplicaLink? Link { get; set; }
}
