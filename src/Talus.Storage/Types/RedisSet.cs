using RocksDbSharp;
using Talus.Storage.Encoding;
using Talus.Storage.Util;

namespace Talus.Storage.Types;

/// <summary>
/// Sets: each member is a sub-key <c>[db][key length][key][version][member]</c> in the <c>sub</c> column family
/// with an empty value; the metadata record holds the version and the member count (SCARD is O(1)).
/// See <see cref="SubKeyCollection"/> for the locking and batching rules; the multi-key operations are in
/// RedisSet.Algebra.cs.
/// </summary>
public sealed partial class RedisSet : SubKeyCollection
{
    internal RedisSet(Database db) : base(db, RedisType.Set)
    {
    }

    /// <summary>SADD: adds the members not yet present; <paramref name="added"/> counts them.</summary>
    public OpStatus Add(ReadOnlySpan<byte> key, IReadOnlyList<byte[]> members, out long added)
    {
        added = 0;
        using (Db.Locks.Lock(Db.Index, key))
        {
            var found = LookupForWrite(key, out var meta);
            if (found == KeyLookup.WrongType)
            {
                return OpStatus.WrongType;
            }
            var batch = ThreadBuffers.Batch();
            HashSet<byte[]>? seen = members.Count > 1 ? new(ByteArrayComparer.Instance) : null;
            foreach (var member in members)
            {
                if (seen is not null && !seen.Add(member))
                {
                    continue;
                }
                var subKey = SubKey(key, meta, member);
                if (found == KeyLookup.Missing || !Exists(subKey))
                {
                    batch.Put(subKey, ReadOnlySpan<byte>.Empty, Engine.Sub);
                    added++;
                }
            }
            if (added > 0)
            {
                meta.Size += added;
                PutMeta(batch, key, meta);
                Engine.Write(batch);
            }
            return OpStatus.Ok;
        }
    }

    /// <summary>
    /// SADD of one member, the common case, as <see cref="Add"/> does it but with the member read from the command's
    /// arguments in place and its sub-key built on the stack: nothing allocated per command.
    /// </summary>
    public OpStatus AddOne(ReadOnlySpan<byte> key, ReadOnlySpan<byte> member, out long added)
    {
        added = 0;
        using (Db.Locks.Lock(Db.Index, key))
        {
            var found = LookupForWrite(key, out var meta);
            if (found == KeyLookup.WrongType)
            {
                return OpStatus.WrongType;
            }
            using var subKey = StackSubKey(key, meta, member, stackalloc byte[256]);
            if (found == KeyLookup.Missing || !Engine.TryGet(Engine.Sub, subKey.Key, out _))
            {
                var batch = ThreadBuffers.Batch();
                batch.Put(subKey.Key, ReadOnlySpan<byte>.Empty, Engine.Sub);
                added = 1;
                meta.Size++;
                PutMeta(batch, key, meta);
                Engine.Write(batch);
            }
            return OpStatus.Ok;
        }
    }

    /// <summary>SREM: removes the members present; the key goes with its last member.</summary>
    public OpStatus Remove(ReadOnlySpan<byte> key, IReadOnlyList<byte[]> members, out long removed) => RemoveElements(key, members, out removed);

    /// <summary>SISMEMBER: one point read of the member's sub-key.</summary>
    public OpStatus IsMember(ReadOnlySpan<byte> key, ReadOnlySpan<byte> member, out bool isMember)
    {
        isMember = false;
        var found = Db.Lookup(key, RedisType.Set, out var meta, out _);
        if (found != KeyLookup.Found)
        {
            return found == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.Ok;
        }
        isMember = Exists(SubKey(key, meta, member));
        return OpStatus.Ok;
    }

    /// <summary>SMISMEMBER: one answer per member, read under the key's lock.</summary>
    public OpStatus AreMembers(ReadOnlySpan<byte> key, IReadOnlyList<byte[]> members, out bool[] areMembers)
    {
        areMembers = new bool[members.Count];
        using (Db.Locks.Lock(Db.Index, key))
        {
            var found = Db.Lookup(key, RedisType.Set, out var meta, out _);
            if (found != KeyLookup.Found)
            {
                return found == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.Ok;
            }
            for (var i = 0; i < members.Count; i++)
            {
                areMembers[i] = Exists(SubKey(key, meta, members[i]));
            }
            return OpStatus.Ok;
        }
    }

    /// <summary>SMEMBERS, in bytewise order.</summary>
    public OpStatus Members(ReadOnlySpan<byte> key, out List<byte[]> members)
    {
        members = [];
        using (Db.Locks.Lock(Db.Index, key))
        {
            var found = Db.Lookup(key, RedisType.Set, out var meta, out _);
            if (found != KeyLookup.Found)
            {
                return found == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.Ok;
            }
            var result = new List<byte[]>((int)Math.Min(meta.Size, 1 << 20));
            ForEach(key, meta.Version, (member, _) =>
            {
                result.Add(member.ToArray());
                return true;
            });
            members = result;
            return OpStatus.Ok;
        }
    }

    /// <summary>
    /// SPOP: removes and returns up to <paramref name="count"/> distinct random members. Popping the whole set
    /// deletes only the metadata (its sub-keys are reclaimed by compaction). NotFound when the key is missing.
    /// </summary>
    public OpStatus Pop(ReadOnlySpan<byte> key, long count, out List<byte[]> members)
    {
        members = [];
        using (Db.Locks.Lock(Db.Index, key))
        {
            var found = Db.Lookup(key, RedisType.Set, out var meta, out _);
            if (found != KeyLookup.Found)
            {
                return found == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.NotFound;
            }
            if (count <= 0)
            {
                return OpStatus.Ok;
            }
            using var batch = new WriteBatch();
            List<KeyValuePair<byte[], byte[]>> picked;
            if (count >= meta.Size)
            {
                picked = ReadAll(key, meta, withValues: false);
                meta.Size = 0;
            }
            else
            {
                picked = ReadAt(key, meta, RandomIndices.Distinct(meta.Size, count), withValues: false);
                RandomIndices.Shuffle(picked);
                foreach (var (member, _) in picked)
                {
                    batch.Delete(SubKey(key, meta, member), Engine.Sub);
                }
                meta.Size -= picked.Count;
            }
            PutMeta(batch, key, meta);
            Engine.Write(batch);
            members = picked.ConvertAll(p => p.Key);
            return OpStatus.Ok;
        }
    }

    /// <summary>SRANDMEMBER with a count (see <see cref="ElementSample"/>); a missing key gives an empty sample.</summary>
    public OpStatus RandomMembers(ReadOnlySpan<byte> key, long count, out ElementSample sample) =>
        Sample(key, count, withValues: false, out sample);

    /// <summary>SSCAN: matching members.</summary>
    public OpStatus Scan(ReadOnlySpan<byte> key, long cursor, ReadOnlySpan<byte> pattern, long count, out ScanPage page) =>
        ScanElements(key, cursor, pattern, count, withValues: false, out page);
}
