namespace Talus.Replication;

/// <summary>What this node is in its replication group.</summary>
public enum ReplicationRole
{
    Master,  // accepts writes, serves replicas
    Replica, // follows a master; client writes are refused
}
