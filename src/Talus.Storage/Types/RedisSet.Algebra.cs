using RocksDbSharp;
using Talus.Storage.Encoding;
using Talus.Storage.Engine;
using Talus.Storage.Util;

namespace Talus.Storage.Types;

/// <summary>
/// The multi-key set commands. They stream: an intersection walks the smallest set and probes the others
/// with point reads, a difference walks the first set and probes the rest, a union merges the sets' sorted
/// iterators. Only what the reply (or the destination batch) holds is ever in memory. Every key involved is
/// locked for the whole operation, so the result reflects one state of all of them.
/// </summary>
public sealed partial class RedisSet
{
    /// <summary>Receives one result member (valid only during the call); returns false to stop.</summary>
    private delegate bool MemberSink(ReadOnlySpan<byte> member);

    /// <summary>SINTER / SUNION / SDIFF: WrongType when any key holds another type, even after a missing one.</summary>
    public OpStatus Combine(SetOperation operation, IReadOnlyList<byte[]> keys, out List<byte[]> members)
    {
        members = [];
        using (Db.Locks.LockMany(Db.Index, keys))
        {
            if (!TryReadOperands(keys, out var sets))
            {
                return OpStatus.WrongType;
            }
            var result = new List<byte[]>();
            Combine(operation, sets, member =>
            {
                result.Add(member.ToArray());
                return true;
            });
            members = result;
            return OpStatus.Ok;
        }
    }

    /// <summary>
    /// SINTERSTORE / SUNIONSTORE / SDIFFSTORE: replaces <paramref name="destination"/> (whatever its type, and
    /// without expiry) by the result in one batch, or deletes it when the result is empty.
    /// </summary>
    public OpStatus CombineAndStore(SetOperation operation, byte[] destination, IReadOnlyList<byte[]> keys, out long count)
    {
        count = 0;
        using (Db.Locks.LockMany(Db.Index, keys.Append(destination)))
        {
            if (!TryReadOperands(keys, out var sets))
            {
                return OpStatus.WrongType;
            }
            var existed = Db.Lookup(destination, RedisType.None, out _, out _) == KeyLookup.Found;
            var meta = Metadata.NewCollection(RedisType.Set, Engine.NextVersion());
            using var batch = new WriteBatch();
            long stored = 0;
            Combine(operation, sets, member =>
            {
                batch.Put(KeyCodec.SubKey(Db.Index, destination, meta.Version, member), ReadOnlySpan<byte>.Empty, Engine.Sub);
                stored++;
                return true;
            });
            if (stored == 0 && !existed)
            {
                return OpStatus.Ok;
            }
            meta.Size = stored;
            PutMeta(batch, destination, meta);
            Engine.Write(batch);
            count = stored;
            return OpStatus.Ok;
        }
    }

    /// <summary>SINTERCARD: the size of the intersection, counting no further than <paramref name="limit"/> (0 = no limit).</summary>
    public OpStatus InterCard(IReadOnlyList<byte[]> keys, long limit, out long count)
    {
        count = 0;
        using (Db.Locks.LockMany(Db.Index, keys))
        {
            if (!TryReadOperands(keys, out var sets))
            {
                return OpStatus.WrongType;
            }
            long found = 0;
            Combine(SetOperation.Inter, sets, _ => ++found != limit);
            count = found;
            return OpStatus.Ok;
        }
    }

    /// <summary>
    /// SMOVE, with Redis' order of checks: a missing source answers 0 before any type check of the
    /// destination; moving within one key only tells whether the member is there.
    /// </summary>
    public OpStatus Move(byte[] source, byte[] destination, ReadOnlySpan<byte> member, out bool moved)
    {
        moved = false;
        using (Db.Locks.LockMany(Db.Index, [source, destination]))
        {
            var sourceFound = Db.Lookup(source, RedisType.Set, out var sourceMeta, out _);
            if (sourceFound == KeyLookup.Missing)
            {
                return OpStatus.Ok;
            }
            var destinationFound = LookupForWrite(destination, out var destinationMeta);
            if (sourceFound == KeyLookup.WrongType || destinationFound == KeyLookup.WrongType)
            {
                return OpStatus.WrongType;
            }
            var sourceSubKey = SubKey(source, sourceMeta, member);
            if (!Exists(sourceSubKey))
            {
                return OpStatus.Ok;
            }
            moved = true;
            if (source.AsSpan().SequenceEqual(destination))
            {
                return OpStatus.Ok;
            }
            using var batch = new WriteBatch();
            batch.Delete(sourceSubKey, Engine.Sub);
            sourceMeta.Size--;
            PutMeta(batch, source, sourceMeta);
            var destinationSubKey = SubKey(destination, destinationMeta, member);
            if (destinationFound == KeyLookup.Missing || !Exists(destinationSubKey))
            {
                batch.Put(destinationSubKey, ReadOnlySpan<byte>.Empty, Engine.Sub);
                destinationMeta.Size++;
                PutMeta(batch, destination, destinationMeta);
            }
            Engine.Write(batch);
            return OpStatus.Ok;
        }
    }

    /// <summary>Reads every key's metadata; false when one holds another type.</summary>
    private bool TryReadOperands(IReadOnlyList<byte[]> keys, out Operand[] sets)
    {
        sets = new Operand[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            var found = Db.Lookup(keys[i], RedisType.Set, out var meta, out _);
            if (found == KeyLookup.WrongType)
            {
                return false;
            }
            sets[i] = new Operand(keys[i], found == KeyLookup.Found, meta, KeyCodec.SubKeyPrefix(Db.Index, keys[i], meta.Version));
        }
        return true;
    }

    private void Combine(SetOperation operation, Operand[] sets, MemberSink emit)
    {
        switch (operation)
        {
            case SetOperation.Inter:
                Intersect(sets, emit);
                break;
            case SetOperation.Union:
                Merge(sets, emit);
                break;
            default:
                Subtract(sets, emit);
                break;
        }
    }

    private void Intersect(Operand[] sets, MemberSink emit)
    {
        if (sets.Any(s => !s.Exists))
        {
            return; // intersecting with an empty set
        }
        var smallest = sets.MinBy(s => s.Size)!;
        var others = sets
            .Where(s => !s.Key.AsSpan().SequenceEqual(smallest.Key))
            .DistinctBy(s => s.Key, ByteArrayComparer.Instance)
            .OrderBy(s => s.Size)
            .ToArray();
        ForEach(smallest.Key, smallest.Version, (member, _) =>
        {
            foreach (var other in others)
            {
                if (!other.Contains(Engine, member))
                {
                    return true;
                }
            }
            return emit(member);
        });
    }

    private void Subtract(Operand[] sets, MemberSink emit)
    {
        var first = sets[0];
        if (!first.Exists)
        {
            return;
        }
        var others = sets.Skip(1).Where(s => s.Exists).DistinctBy(s => s.Key, ByteArrayComparer.Instance).ToArray();
        ForEach(first.Key, first.Version, (member, _) =>
        {
            foreach (var other in others)
            {
                if (other.Contains(Engine, member))
                {
                    return true;
                }
            }
            return emit(member);
        });
    }

    /// <summary>A k-way merge of the sets' iterators (each in member order), emitting each member once.</summary>
    private void Merge(Operand[] sets, MemberSink emit)
    {
        var live = sets.Where(s => s.Exists).DistinctBy(s => s.Key, ByteArrayComparer.Instance).ToArray();
        var iterators = new Iterator?[live.Length];
        try
        {
            var heads = new PriorityQueue<int, byte[]>(ByteArrayComparer.Instance);
            for (var i = 0; i < live.Length; i++)
            {
                var prefix = live[i].Prefix;
                var it = iterators[i] = Engine.NewIterator(Engine.Sub, prefix, KeyCodec.PrefixUpperBound(prefix));
                it.Seek(prefix);
                if (it.Valid())
                {
                    heads.Enqueue(i, it.GetKeySpan()[prefix.Length..].ToArray());
                }
            }
            byte[]? last = null;
            while (heads.TryDequeue(out var i, out var member))
            {
                if (last is null || !member.AsSpan().SequenceEqual(last))
                {
                    if (!emit(member))
                    {
                        return;
                    }
                    last = member;
                }
                var it = iterators[i]!;
                it.Next();
                if (it.Valid())
                {
                    heads.Enqueue(i, it.GetKeySpan()[live[i].Prefix.Length..].ToArray());
                }
            }
        }
        finally
        {
            foreach (var it in iterators)
            {
                it?.Dispose();
            }
        }
    }

    /// <summary>One input set of an operation, with a reusable buffer for probing its members.</summary>
    private sealed class Operand(byte[] key, bool exists, Metadata meta, byte[] prefix)
    {
        private byte[] _probe = [];

        public byte[] Key { get; } = key;

        public bool Exists { get; } = exists;

        public long Size { get; } = meta.Size;

        public ulong Version { get; } = meta.Version;

        public byte[] Prefix { get; } = prefix;

        public bool Contains(StorageEngine engine, ReadOnlySpan<byte> member)
        {
            var length = Prefix.Length + member.Length;
            if (_probe.Length < length)
            {
                _probe = new byte[Math.Max(length, Prefix.Length + 64)];
                Prefix.CopyTo(_probe, 0);
            }
            member.CopyTo(_probe.AsSpan(Prefix.Length));
            return engine.TryGet(engine.Sub, _probe.AsSpan(0, length), out _);
        }
    }
}
