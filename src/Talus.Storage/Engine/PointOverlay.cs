using System.IO.Hashing;

namespace Talus.Storage.Engine;

/// <summary>
/// The point reads of an open <see cref="EngineTransaction"/>: for each (column family, key) its writes touched,
/// where the last put or deletion of it lies in the transaction's records. It keeps offsets only (the records
/// own the bytes), in an open-addressing table, so recording a write and reading it back allocate nothing once
/// the table has grown. It cannot answer for range deletions; the transaction switches to its index before the
/// first one.
/// </summary>
internal sealed class PointOverlay
{
    private Entry[] _entries = new Entry[16];
    private int[] _slots = new int[32];
    private int _count;

    internal enum Lookup
    {
        /// <summary>The transaction did not write the key: read the database.</summary>
        Absent,
        /// <summary>The transaction's last write of the key is a put.</summary>
        Set,
        /// <summary>The transaction's last write of the key is a deletion.</summary>
        Deleted,
    }

    /// <summary>Records the puts and deletions of the records that start at <paramref name="offset"/> of <paramref name="records"/>.</summary>
    public void Add(ReadOnlySpan<byte> records, int offset)
    {
        var pos = offset;
        while (pos < records.Length)
        {
            var record = WriteBatchFormat.ReadRecord(records, ref pos);
            switch (record.Tag)
            {
                case 0 or 4 or 7 or 8: // deletion, single deletion
                    Set(records, new Entry(record.Family, record.KeyStart, record.KeyLength, -1, 0));
                    break;
                case 1 or 5: // value
                    Set(records, new Entry(record.Family, record.KeyStart, record.KeyLength, record.ValueStart, record.ValueLength));
                    break;
                case WriteBatchFormat.LogDataTag:
                    break;
                default: // range deletions are never added here (the transaction indexes them); merges are not used
                    throw new NotSupportedException($"write batch record tag {record.Tag} in a transaction's point overlay");
            }
        }
    }

    /// <summary>What the transaction wrote last at (family, key); for <see cref="Lookup.Set"/>, the value.</summary>
    public Lookup Find(ReadOnlySpan<byte> records, uint family, ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (_count == 0)
        {
            return Lookup.Absent;
        }
        var mask = _slots.Length - 1;
        for (var slot = Slot(family, key); ; slot = (slot + 1) & mask)
        {
            var index = _slots[slot] - 1;
            if (index < 0)
            {
                return Lookup.Absent;
            }
            ref readonly var entry = ref _entries[index];
            if (entry.Family == family && records.Slice(entry.KeyStart, entry.KeyLength).SequenceEqual(key))
            {
                if (entry.ValueStart < 0)
                {
                    return Lookup.Deleted;
                }
                value = records.Slice(entry.ValueStart, entry.ValueLength);
                return Lookup.Set;
            }
        }
    }

    private void Set(ReadOnlySpan<byte> records, Entry entry)
    {
        var key = records.Slice(entry.KeyStart, entry.KeyLength);
        var mask = _slots.Length - 1;
        for (var slot = Slot(entry.Family, key); ; slot = (slot + 1) & mask)
        {
            var index = _slots[slot] - 1;
            if (index < 0)
            {
                if (_count == _entries.Length)
                {
                    Array.Resize(ref _entries, _count * 2);
                }
                _entries[_count++] = entry;
                _slots[slot] = _count;
                if (_count * 2 > _slots.Length)
                {
                    Grow(records);
                }
                return;
            }
            ref var existing = ref _entries[index];
            if (existing.Family == entry.Family && records.Slice(existing.KeyStart, existing.KeyLength).SequenceEqual(key))
            {
                existing = entry;
                return;
            }
        }
    }

    private void Grow(ReadOnlySpan<byte> records)
    {
        _slots = new int[_slots.Length * 2];
        var mask = _slots.Length - 1;
        for (var i = 0; i < _count; i++)
        {
            ref readonly var entry = ref _entries[i];
            var slot = Slot(entry.Family, records.Slice(entry.KeyStart, entry.KeyLength));
            while (_slots[slot] != 0)
            {
                slot = (slot + 1) & mask;
            }
            _slots[slot] = i + 1;
        }
    }

    private int Slot(uint family, ReadOnlySpan<byte> key) => (int)(XxHash3.HashToUInt64(key, family) & (uint)(_slots.Length - 1));

    /// <summary>One key's last write: offsets into the records; <see cref="ValueStart"/> -1 for a deletion.</summary>
    private readonly record struct Entry(uint Family, int KeyStart, int KeyLength, int ValueStart, int ValueLength);
}
