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
    private readonly FilterDelegate _subFilter;
    private volatile StorageEngine? _engine;
    private volatile bool _expireInCompaction = true;

    [ThreadStatic]
    private static byte[]? _scratch;

    public CompactionFilters()
    {
        _metaFilter = FilterMeta;
        _subFilter = FilterSub;
        MetaFilter = new CompactionFilter(_metaName, _metaFilter, _destructor, IntPtr.Zero);
        SubFilter = new CompactionFilter(_subName, _subFilter, _destructor, IntPtr.Zero);
        ZScoreFilter = new CompactionFilter(_zscoreName, _subFilter, _destructor, IntPtr.Zero);
    }

    public CompactionFilter MetaFilter { get; }

    public CompactionFilter SubFilter { get; }

    public CompactionFilter ZScoreFilter { get; }

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

    private char FilterSub(IntPtr state, int level, IntPtr key, UIntPtr keyLength, IntPtr value, UIntPtr valueLength, IntPtr newValue, IntPtr newValueLength, out byte valueChanged)
    {
        valueChanged = 0;
        try
        {
            var engine = _engine;
            if (engine is null)
            {
                return (char)0;
            }
            var length = (int)keyLength;
            var scratch = _scratch is { } s && s.Length >= length ? s : (_scratch = new byte[Math.Max(length, 256)]);
            Marshal.Copy(key, scratch, 0, length);
            if (!KeyCodec.TryDecodeSubKey(scratch.AsSpan(0, length), out var db, out var userKey, out var version, out var field))
            {
                return (char)0;
            }
            var metaKey = KeyCodec.MetaKey(db, userKey);
            var metaValue = engine.Db.Get(metaKey, engine.Meta);
            if (metaValue is null)
            {
                return (char)1;
            }
            if (!Metadata.TryDecode(metaValue, out var meta))
            {
                return (char)0;
            }
            if (meta.Type == RedisType.String || meta.Version != version)
            {
                return (char)1;
            }
            if (meta.Type == RedisType.List && field.Length == 8
                && BinaryPrimitives.ReadUInt64BigEndian(field) is var index && (index < meta.Head || index >= meta.Tail))
            {
                // A popped element: pops move head or tail past it and leave it for this filter.
                return (char)1;
            }
            return _expireInCompaction && meta.IsExpired(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()) ? (char)1 : (char)0;
        }
        catch
        {
            return (char)0;
        }
    }
}
