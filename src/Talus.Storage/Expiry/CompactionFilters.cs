using System.Buffers.Binary;
using System.Runtime.InteropServices;
using RocksDbSharp;
using Talus.Storage.Encoding;
using Talus.Storage.Engine;

namespace Talus.Storage.Expiry;

/// <summary>
/// Background reclamation. The meta filter drops metadata whose expiry has passed; the sub and zscore
/// filters drop sub-keys whose key no longer exists or has a newer version (DEL, overwrite, expiry and
/// FLUSHDB of a collection only touch its metadata, so they stay O(1)), and list elements outside the list's
/// [head, tail) (pops only move head or tail). RocksDB turns a filtered entry
/// into a tombstone, so an older version underneath never reappears.
/// These callbacks run on RocksDB threads and abort the process if they throw: each one catches
/// everything and keeps the entry when in doubt. The delegates live in fields because the native side
/// holds only function pointers.
/// <para>
/// The sub and zscore filters come from factories: RocksDB asks for a filter per compaction (<see cref="SubKeyRun"/>),
/// which reads a collection's metadata once for the run of its sub-keys instead of once per sub-key.
/// </para>
/// </summary>
internal sealed class CompactionFilters
{
    private static readonly IntPtr MetaName = Marshal.StringToHGlobalAnsi("talus.meta-expiry");
    private static readonly IntPtr SubName = Marshal.StringToHGlobalAnsi("talus.sub-orphans");
    private static readonly IntPtr ZScoreName = Marshal.StringToHGlobalAnsi("talus.zscore-orphans");

    private readonly NameDelegate _metaName = _ => MetaName;
    private readonly NameDelegate _subName = _ => SubName;
    private readonly NameDelegate _zscoreName = _ => ZScoreName;
    private readonly DestructorDelegate _destructor = _ => { };
    private readonly FilterDelegate _metaFilter;
    private readonly CreateCompactionFilterDelegate _createSubFilter;
    private readonly CreateCompactionFilterDelegate _createZScoreFilter;
    private readonly FilterDelegate _runFilter;
    private readonly DestructorDelegate _runDestructor;
    private volatile StorageEngine? _engine;
    private volatile bool _expireInCompaction = true;

    public CompactionFilters()
    {
        _metaFilter = FilterMeta;
        _runFilter = FilterRun;
        _runDestructor = FreeRun;
        _createSubFilter = (_, _) => CreateRun(_subName);
        _createZScoreFilter = (_, _) => CreateRun(_zscoreName);
        MetaFilter = new CompactionFilter(_metaName, _metaFilter, _destructor, IntPtr.Zero);
        SubFilterFactory = Native.Instance.rocksdb_compactionfilterfactory_create(IntPtr.Zero, _destructor, _createSubFilter, _subName);
        ZScoreFilterFactory = Native.Instance.rocksdb_compactionfilterfactory_create(IntPtr.Zero, _destructor, _createZScoreFilter, _zscoreName);
    }

    public CompactionFilter MetaFilter { get; }

    /// <summary>The factory of the sub family's filters; the column family options that take it own it.</summary>
    public IntPtr SubFilterFactory { get; }

    /// <summary>The factory of the zscore family's filters; the column family options that take it own it.</summary>
    public IntPtr ZScoreFilterFactory { get; }

    public bool ExpireInCompaction
    {
        get => _expireInCompaction;
        set => _expireInCompaction = value;
    }

    public void Attach(StorageEngine engine) => _engine = engine;

    public void Detach() => _engine = null;

    private char FilterMeta(IntPtr state, int level, IntPtr key, UIntPtr keyLength, IntPtr value, UIntPtr valueLength, IntPtr newValue, IntPtr newValueLength, out byte valueChanged)
    {
        valueChanged = 0;
        try
        {
            if (!_expireInCompaction || _engine is null || (ulong)valueLength < Metadata.HeaderSize)
            {
                return (char)0;
            }
            var expireAt = Marshal.ReadInt64(value, 2);
            return expireAt > 0 && expireAt <= DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() ? (char)1 : (char)0;
        }
        catch
        {
            return (char)0;
        }
    }

    /// <summary>A new compaction's sub-key filter; RocksDB deletes it (<see cref="FreeRun"/>) when the compaction ends.</summary>
    private IntPtr CreateRun(NameDelegate name)
    {
        GCHandle handle = default;
        try
        {
            handle = GCHandle.Alloc(new SubKeyRun(this));
            return Native.Instance.rocksdb_compactionfilter_create(GCHandle.ToIntPtr(handle), _runDestructor, _runFilter, name);
        }
        catch
        {
            if (handle.IsAllocated)
            {
                handle.Free();
            }
            // No filter for this compaction: it keeps every entry, and a later one reclaims them.
            return IntPtr.Zero;
        }
    }

    private void FreeRun(IntPtr state)
    {
        try
        {
            GCHandle.FromIntPtr(state).Free();
        }
        catch
        {
            // Nothing to free; nothing may escape to the native side.
        }
    }

    private char FilterRun(IntPtr state, int level, IntPtr key, UIntPtr keyLength, IntPtr value, UIntPtr valueLength, IntPtr newValue, IntPtr newValueLength, out byte valueChanged)
    {
        valueChanged = 0;
        try
        {
            return GCHandle.FromIntPtr(state).Target is SubKeyRun run && run.Drop(key, (int)keyLength) ? (char)1 : (char)0;
        }
        catch
        {
            return (char)0;
        }
    }

    /// <summary>
    /// The sub-key filter of one compaction, which RocksDB runs on one thread: drops sub-keys whose key no longer
    /// exists, is a string now, has a newer version or has expired, and list elements outside [head, tail).
    /// <para>
    /// A collection's sub-keys come one after another (they start with its key), so the run reads the key's
    /// metadata at its first sub-key and decides the following ones from it. That read is made after the
    /// compaction began, so it is at least as new as every entry of the compaction's input, as a read per entry
    /// would be: a version or a type that replaced the sub-key's never gives way to it again (a re-created key gets
    /// a new version), and an element popped by then can only come back as a newer entry of its index, outside
    /// this compaction. The metadata is kept for one compaction only: from before a compaction began, it could
    /// take an element pushed since (pushes after pops reuse indices) for a popped one.
    /// </para>
    /// </summary>
    private sealed class SubKeyRun(CompactionFilters filters)
    {
        private byte[] _subKey = new byte[256];
        private byte[] _metaKey = new byte[256];
        private byte[] _nextKey = new byte[256];
        private int _metaKeyLength = -1;
        private bool _found;
        private bool _decoded;
        private Metadata _meta;

        public bool Drop(IntPtr key, int length)
        {
            var engine = filters._engine;
            if (engine is null)
            {
                return false;
            }
            if (_subKey.Length < length)
            {
                _subKey = new byte[Math.Max(length, 2 * _subKey.Length)];
            }
            Marshal.Copy(key, _subKey, 0, length);
            if (!KeyCodec.TryDecodeSubKey(_subKey.AsSpan(0, length), out var db, out var userKey, out var version, out var field))
            {
                return false;
            }
            Load(engine, db, userKey);
            if (!_found)
            {
                return true;
            }
            if (!_decoded)
            {
                return false;
            }
            if (_meta.Type == RedisType.String || _meta.Version != version)
            {
                return true;
            }
            if (_meta.Type == RedisType.List && field.Length == 8
                && BinaryPrimitives.ReadUInt64BigEndian(field) is var index && (index < _meta.Head || index >= _meta.Tail))
            {
                // A popped element: pops move head or tail past it and leave it for this filter.
                return true;
            }
            return filters._expireInCompaction && _meta.IsExpired(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        }

        /// <summary>Reads the metadata of (db, key) unless it is the key of the previous sub-key.</summary>
        private void Load(StorageEngine engine, int db, ReadOnlySpan<byte> userKey)
        {
            var length = KeyCodec.MetaKeyLength(userKey);
            if (_nextKey.Length < length)
            {
                _nextKey = new byte[Math.Max(length, 2 * _nextKey.Length)];
            }
            KeyCodec.EncodeMetaKey(db, userKey, _nextKey);
            if (_metaKeyLength == length && _nextKey.AsSpan(0, length).SequenceEqual(_metaKey.AsSpan(0, length)))
            {
                return;
            }
            // The new key becomes the one kept; the old buffer takes the next key.
            (_metaKey, _nextKey) = (_nextKey, _metaKey);
            // Forgotten first: a read that throws leaves no key behind that the next sub-key could match.
            _metaKeyLength = -1;
            var value = engine.Db.Get(_metaKey.AsSpan(0, length), engine.Meta);
            _found = value is not null;
            _decoded = value is not null && Metadata.TryDecode(value, out _meta);
            _metaKeyLength = length;
        }
    }
}
