using System.Buffers;
using RocksDbSharp;
using Talus.Storage.Encoding;
using Talus.Storage.Engine;
using Talus.Storage.Util;

namespace Talus.Storage.Types;

/// <summary>
/// What hashes and sets share: elements are sub-keys <c>[db][key length][key][version][element]</c> in the
/// <c>sub</c> column family (a hash field's value is the sub-key's value; a set member's value is empty),
/// and the metadata record carries the version and the element count. Every change writes its sub-keys and
/// the updated count in one batch, under the key's stripe lock; a collection that becomes empty loses its
/// metadata record, and sub-keys of dead versions are left to the compaction filter.
/// Reads that touch more than one record (iteration, several fields) also take the stripe lock, so they
/// see one state of the key, as a single-threaded Redis would.
/// </summary>
public abstract class SubKeyCollection
{
    private protected SubKeyCollection(Database db, RedisType type)
    {
        Db = db;
        Type = type;
    }

    /// <summary>Receives one element; the spans are valid only during the call. Returns false to stop.</summary>
    private protected delegate bool ElementVisitor(ReadOnlySpan<byte> element, ReadOnlySpan<byte> value);

    private protected Database Db { get; }

    private protected RedisType Type { get; }

    private protected StorageEngine Engine => Db.Engine;

    /// <summary>HLEN / SCARD: the count kept in the metadata, O(1).</summary>
    public OpStatus Count(ReadOnlySpan<byte> key, out long count)
    {
        var found = Db.Lookup(key, Type, out var meta, out _);
        count = found == KeyLookup.Found ? meta.Size : 0;
        return found == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.Ok;
    }

    /// <summary>Reads the metadata for a change: a missing key gets fresh metadata with a new version.</summary>
    private protected KeyLookup LookupForWrite(ReadOnlySpan<byte> key, out Metadata meta)
    {
        var found = Db.Lookup(key, Type, out meta, out _);
        if (found == KeyLookup.Missing)
        {
            meta = Metadata.NewCollection(Type, Engine.NextVersion());
        }
        return found;
    }

    private protected byte[] SubKey(ReadOnlySpan<byte> key, in Metadata meta, ReadOnlySpan<byte> element) =>
        KeyCodec.SubKey(Db.Index, key, meta.Version, element);

    private protected bool Exists(byte[] subKey) => Engine.TryGet(Engine.Sub, subKey, out _);

    /// <summary>
    /// The sub-key of one element, written into <paramref name="stack"/> when it fits (a command's one member or field:
    /// nothing allocated), else into a rented array that <see cref="ElementSubKey.Dispose"/> returns.
    /// </summary>
    private protected ElementSubKey StackSubKey(ReadOnlySpan<byte> key, in Metadata meta, ReadOnlySpan<byte> element, Span<byte> stack)
    {
        var length = KeyCodec.SubKeyPrefixOverhead + key.Length + 8 + element.Length;
        byte[]? rented = null;
        var subKey = (length <= stack.Length ? stack : (rented = ArrayPool<byte>.Shared.Rent(length)))[..length];
        var prefix = KeyCodec.WriteSubKeyPrefix(Db.Index, key, meta.Version, subKey);
        element.CopyTo(subKey[prefix..]);
        return new ElementSubKey(subKey, rented);
    }

    /// <summary>An element's sub-key built by <see cref="StackSubKey"/>.</summary>
    private protected readonly ref struct ElementSubKey(Span<byte> key, byte[]? rented)
    {
        public Span<byte> Key { get; } = key;

        public void Dispose()
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// HDEL / SREM: removes the elements present (each counted once) and the new size in one batch; an
    /// emptied key's metadata is deleted by <see cref="PutMeta"/>.
    /// </summary>
    private protected OpStatus RemoveElements(ReadOnlySpan<byte> key, IReadOnlyList<byte[]> elements, out long removed)
    {
        removed = 0;
        using (Db.Locks.Lock(Db.Index, key))
        {
            var found = Db.Lookup(key, Type, out var meta, out _);
            if (found != KeyLookup.Found)
            {
                return found == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.Ok;
            }
            var batch = ThreadBuffers.Batch();
            HashSet<byte[]>? seen = elements.Count > 1 ? new(ByteArrayComparer.Instance) : null;
            foreach (var element in elements)
            {
                var subKey = SubKey(key, meta, element);
                if ((seen is null || seen.Add(element)) && Exists(subKey))
                {
                    batch.Delete(subKey, Engine.Sub);
                    removed++;
                }
            }
            if (removed > 0)
            {
                meta.Size -= removed;
                PutMeta(batch, key, meta);
                Engine.Write(batch);
            }
            return OpStatus.Ok;
        }
    }

    /// <summary>Adds the metadata with its new count to the batch, or its deletion when the count is 0.</summary>
    private protected void PutMeta(WriteBatch batch, ReadOnlySpan<byte> key, in Metadata meta)
    {
        if (meta.Size == 0)
        {
            batch.Delete(Db.MetaKeySpan(key), Engine.Meta);
            return;
        }
        Span<byte> record = stackalloc byte[Metadata.CollectionSize];
        var n = meta.Encode(record);
        batch.Put(Db.MetaKeySpan(key), record[..n], Engine.Meta);
    }

    /// <summary>Visits the elements of one version of a key in bytewise order.</summary>
    private protected void ForEach(ReadOnlySpan<byte> key, ulong version, ElementVisitor visit)
    {
        var prefix = KeyCodec.SubKeyPrefix(Db.Index, key, version);
        using var it = Engine.NewIterator(Engine.Sub, prefix, KeyCodec.PrefixUpperBound(prefix));
        for (it.Seek(prefix); it.Valid(); it.Next())
        {
            if (!visit(it.GetKeySpan()[prefix.Length..], it.GetValueSpan()))
            {
                return;
            }
        }
    }

    /// <summary>Every element (and its value) of a live collection, in bytewise order.</summary>
    private protected List<KeyValuePair<byte[], byte[]>> ReadAll(ReadOnlySpan<byte> key, in Metadata meta, bool withValues)
    {
        var items = new List<KeyValuePair<byte[], byte[]>>((int)Math.Min(meta.Size, 1 << 20));
        ForEach(key, meta.Version, (element, value) =>
        {
            items.Add(new(element.ToArray(), withValues ? value.ToArray() : []));
            return true;
        });
        return items;
    }

    /// <summary>The elements at the given ascending positions (a repeated position yields the element again), in one pass.</summary>
    private protected List<KeyValuePair<byte[], byte[]>> ReadAt(ReadOnlySpan<byte> key, in Metadata meta, long[] positions, bool withValues)
    {
        var items = new List<KeyValuePair<byte[], byte[]>>(positions.Length);
        long position = 0;
        var next = 0;
        ForEach(key, meta.Version, (element, value) =>
        {
            if (positions[next] == position)
            {
                var pick = new KeyValuePair<byte[], byte[]>(element.ToArray(), withValues ? value.ToArray() : []);
                while (next < positions.Length && positions[next] == position)
                {
                    items.Add(pick);
                    next++;
                }
            }
            position++;
            return next < positions.Length;
        });
        return items;
    }

    /// <summary>
    /// HRANDFIELD / SRANDMEMBER with a count: a positive count picks distinct elements (all when it exceeds the
    /// size), a negative one picks |count| times with repetition. Holds at most min(|count|, size) elements.
    /// </summary>
    private protected OpStatus Sample(ReadOnlySpan<byte> key, long count, bool withValues, out ElementSample sample)
    {
        sample = ElementSample.Empty;
        using (Db.Locks.Lock(Db.Index, key))
        {
            var found = Db.Lookup(key, Type, out var meta, out _);
            if (found != KeyLookup.Found)
            {
                return found == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.Ok;
            }
            if (count == 0)
            {
                return OpStatus.Ok;
            }
            var size = meta.Size;
            if (count >= size)
            {
                sample = new ElementSample(ReadAll(key, meta, withValues), 0);
            }
            else if (count > 0)
            {
                var items = ReadAt(key, meta, RandomIndices.Distinct(size, count), withValues);
                RandomIndices.Shuffle(items);
                sample = new ElementSample(items, 0);
            }
            else if (-count >= size)
            {
                sample = new ElementSample(ReadAll(key, meta, withValues), -count);
            }
            else
            {
                var items = ReadAt(key, meta, RandomIndices.WithRepetition(size, -count), withValues);
                RandomIndices.Shuffle(items);
                sample = new ElementSample(items, 0);
            }
            return OpStatus.Ok;
        }
    }

    /// <summary>
    /// One HSCAN / SSCAN step: examines up to <paramref name="count"/> elements from the cursor's position and
    /// returns those matching the glob (with their values when <paramref name="withValues"/>), flattened.
    /// </summary>
    private protected OpStatus ScanElements(ReadOnlySpan<byte> key, long cursor, ReadOnlySpan<byte> pattern, long count, bool withValues, out ScanPage page)
    {
        var items = new List<byte[]>();
        page = new ScanPage(0, items);
        var found = Db.Lookup(key, Type, out var meta, out _);
        if (found != KeyLookup.Found)
        {
            return found == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.Ok;
        }
        var prefix = KeyCodec.SubKeyPrefix(Db.Index, key, meta.Version);
        var start = ResumePoint(Db.Index, key, prefix, Db.Dataset.Cursors.Resume(cursor));
        var matchAll = pattern.IsEmpty || Glob.IsMatchAll(pattern);
        using var it = Engine.NewIterator(Engine.Sub, prefix, KeyCodec.PrefixUpperBound(prefix));
        long examined = 0;
        for (it.Seek(start); it.Valid(); it.Next())
        {
            if (examined++ >= count)
            {
                page = new ScanPage(Db.Dataset.Cursors.Save(it.Key()), items);
                return OpStatus.Ok;
            }
            var element = it.GetKeySpan()[prefix.Length..];
            if (matchAll || Glob.Match(pattern, element))
            {
                items.Add(element.ToArray());
                if (withValues)
                {
                    items.Add(it.GetValueSpan().ToArray());
                }
            }
        }
        return OpStatus.Ok;
    }

    /// <summary>
    /// Where a scan of the `sub` keys under <paramref name="prefix"/> (key <paramref name="key"/> of database
    /// <paramref name="dbIndex"/>) resumes: the saved sub-key when it belongs to this version of the key, the same
    /// element in the current version when the key was re-created meanwhile, else the start (a cursor of another key).
    /// </summary>
    internal static byte[] ResumePoint(int dbIndex, ReadOnlySpan<byte> key, byte[] prefix, byte[]? saved)
    {
        if (saved is null)
        {
            return prefix;
        }
        if (saved.AsSpan().StartsWith(prefix))
        {
            return saved;
        }
        if (KeyCodec.TryDecodeSubKey(saved, out var db, out var userKey, out _, out var element) && db == dbIndex && userKey.SequenceEqual(key))
        {
            var resume = new byte[prefix.Length + element.Length];
            prefix.CopyTo(resume, 0);
            element.CopyTo(resume.AsSpan(prefix.Length));
            return resume;
        }
        return prefix;
    }
}
