using System.Numerics;
using System.Runtime.InteropServices;
using Talus.Storage.Encoding;
using Talus.Storage.Util;

namespace Talus.Storage.Types;

/// <summary>
/// Bit operations on strings (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP). Bit 0 is the most significant bit of
/// byte 0, as in Redis. A string is read as if zero-padded without end; SETBIT and BITOP grow or write the
/// stored value in one batch like any other string write.
/// </summary>
public sealed partial class RedisString
{
    /// <summary>
    /// SETBIT: sets or clears one bit, growing the string with zero bytes when the bit lies past its end.
    /// Nothing is written when the bit already holds the value and the string does not grow.
    /// </summary>
    public OpStatus SetBit(ReadOnlySpan<byte> key, long bitOffset, bool on, out int previous)
    {
        previous = 0;
        var byteIndex = bitOffset >> 3;
        if (bitOffset < 0 || byteIndex >= MaxLength)
        {
            return OpStatus.TooLarge;
        }
        var mask = (byte)(0x80 >> (int)(bitOffset & 7));
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = _db.Lookup(key, RedisType.String, out var meta, out var raw);
            if (lookup == KeyLookup.WrongType)
            {
                return OpStatus.WrongType;
            }
            var current = lookup == KeyLookup.Found ? raw[Metadata.HeaderSize..] : default;
            if (byteIndex < current.Length)
            {
                previous = (current[(int)byteIndex] & mask) != 0 ? 1 : 0;
                if (previous == (on ? 1 : 0))
                {
                    return OpStatus.Ok;
                }
            }
            var length = (int)Math.Max(current.Length, byteIndex + 1);
            // The record is built in place: header, old bytes, zero padding, then the bit flipped.
            var record = ThreadBuffers.Value(Metadata.HeaderSize + length);
            new Metadata { Type = RedisType.String, ExpireAtMs = lookup == KeyLookup.Found ? meta.ExpireAtMs : 0 }.Encode(record);
            var payload = record.AsSpan(Metadata.HeaderSize, length);
            current.CopyTo(payload);
            payload[current.Length..].Clear();
            payload[(int)byteIndex] = on ? (byte)(payload[(int)byteIndex] | mask) : (byte)(payload[(int)byteIndex] & ~mask);
            var batch = ThreadBuffers.Batch();
            batch.Put(_db.MetaKeySpan(key), record.AsSpan(0, Metadata.HeaderSize + length), _db.Engine.Meta);
            _db.Engine.Write(batch);
            return OpStatus.Ok;
        }
    }

    /// <summary>GETBIT: the bit at <paramref name="bitOffset"/> (0 past the end or for a missing key).</summary>
    public KeyLookup GetBit(ReadOnlySpan<byte> key, long bitOffset, out int bit)
    {
        var lookup = Get(key, out var value);
        var byteIndex = bitOffset >> 3;
        bit = lookup == KeyLookup.Found && byteIndex < value.Length && (value[(int)byteIndex] & (0x80 >> (int)(bitOffset & 7))) != 0 ? 1 : 0;
        return lookup;
    }

    /// <summary>
    /// BITOP: combines the sources (missing keys read as empty strings) and stores the result in
    /// <paramref name="destination"/> without expiry, or deletes it when the result is empty. Every key
    /// involved stays locked from the reads to the write. <paramref name="length"/> is the result's length.
    /// </summary>
    public OpStatus BitOp(BitOperation op, byte[] destination, IReadOnlyList<byte[]> sources, out long length)
    {
        length = 0;
        using (_db.Locks.LockMany(_db.Index, sources.Append(destination)))
        {
            var values = new byte[sources.Count][];
            for (var i = 0; i < sources.Count; i++)
            {
                var lookup = Get(sources[i], out var value);
                if (lookup == KeyLookup.WrongType)
                {
                    return OpStatus.WrongType;
                }
                values[i] = lookup == KeyLookup.Found ? value.ToArray() : [];
            }
            var result = Combine(op, values);
            length = result.Length;
            if (result.Length > 0)
            {
                Put(destination, result, 0);
            }
            else if (_db.Lookup(destination, RedisType.None, out _, out _) == KeyLookup.Found)
            {
                var batch = ThreadBuffers.Batch();
                batch.Delete(_db.MetaKeySpan(destination), _db.Engine.Meta);
                _db.Engine.Write(batch);
            }
            return OpStatus.Ok;
        }
    }

    /// <summary>The BITOP result of <paramref name="values"/>: as long as the longest, shorter ones zero-padded.</summary>
    public static byte[] Combine(BitOperation op, IReadOnlyList<byte[]> values)
    {
        var maxLength = values.Max(v => v.Length);
        var result = new byte[maxLength];
        values[0].CopyTo(result, 0);
        if (op == BitOperation.Not)
        {
            Apply(result, result, static (a, _) => ~a);
            return result;
        }
        for (var i = 1; i < values.Count; i++)
        {
            var source = values[i];
            switch (op)
            {
                case BitOperation.And:
                    Apply(result.AsSpan(0, source.Length), source, static (a, b) => a & b);
                    result.AsSpan(source.Length).Clear(); // AND with the zero padding
                    break;
                case BitOperation.Or:
                    Apply(result.AsSpan(0, source.Length), source, static (a, b) => a | b);
                    break;
                default:
                    Apply(result.AsSpan(0, source.Length), source, static (a, b) => a ^ b);
                    break;
            }
        }
        return result;
    }

    /// <summary><paramref name="target"/>[i] = f(target[i], source[i]) eight bytes at a time, then byte by byte.</summary>
    private static void Apply(Span<byte> target, ReadOnlySpan<byte> source, Func<ulong, ulong, ulong> f)
    {
        var words = target.Length / 8;
        var targetWords = MemoryMarshal.Cast<byte, ulong>(target[..(words * 8)]);
        var sourceWords = MemoryMarshal.Cast<byte, ulong>(source[..(words * 8)]);
        for (var i = 0; i < targetWords.Length; i++)
        {
            targetWords[i] = f(targetWords[i], sourceWords[i]);
        }
        for (var i = words * 8; i < target.Length; i++)
        {
            target[i] = (byte)f(target[i], source[i]);
        }
    }

    /// <summary>
    /// BITCOUNT over [start, end] (inclusive; negative counts from the end) in bytes or, with
    /// <paramref name="bitUnits"/>, in bits; Redis' clamping of out-of-range indexes.
    /// </summary>
    public static long CountBits(ReadOnlySpan<byte> value, long start, long end, bool bitUnits)
    {
        long total = value.Length;
        if (bitUnits)
        {
            total <<= 3;
        }
        if (!ClampRange(total, ref start, ref end))
        {
            return 0;
        }
        if (!bitUnits)
        {
            return PopCount(value.Slice((int)start, (int)(end - start + 1)));
        }
        var first = (int)(start >> 3);
        var last = (int)(end >> 3);
        var count = PopCount(value.Slice(first, last - first + 1));
        // Take away the bits of the edge bytes that lie outside [start, end].
        var before = (byte)(0xFF << (8 - (int)(start & 7)));
        var after = (byte)((1 << (7 - (int)(end & 7))) - 1);
        count -= BitOperations.PopCount((uint)(value[first] & before));
        count -= BitOperations.PopCount((uint)(value[last] & after));
        return count;
    }

    /// <summary>
    /// BITPOS: the position of the first bit equal to <paramref name="bit"/> in the range, or -1. Without a
    /// range (<paramref name="start"/> null) or without an end, a search for 0 that finds none answers the
    /// first bit past the string (it reads as zero-padded); with an explicit end it answers -1.
    /// </summary>
    public static long FindBit(ReadOnlySpan<byte> value, int bit, long? start, long? end, bool bitUnits)
    {
        long total = value.Length;
        long from, to;
        if (start is null)
        {
            from = 0;
            to = total - 1;
        }
        else
        {
            from = start.Value;
            to = end ?? total - 1;
            if (bitUnits)
            {
                total <<= 3;
            }
            if (!ClampRange(total, ref from, ref to))
            {
                return -1;
            }
        }
        if (from > to)
        {
            return -1;
        }
        if (!bitUnits)
        {
            from <<= 3;
            to = (to << 3) + 7;
        }
        var found = FirstBit(value, from, to, bit);
        if (found >= 0 || bit == 1 || end is not null)
        {
            return found;
        }
        return to + 1;
    }

    /// <summary>Redis' index normalisation: negatives from the end, then clamped; false when the range is empty.</summary>
    private static bool ClampRange(long total, ref long start, ref long end)
    {
        if (start < 0)
        {
            start += total;
        }
        if (end < 0)
        {
            end += total;
        }
        start = Math.Max(start, 0);
        end = Math.Min(Math.Max(end, 0), total - 1);
        return start <= end;
    }

    /// <summary>First bit equal to <paramref name="bit"/> in the bit range [from, to] (inside the value), or -1.</summary>
    private static long FirstBit(ReadOnlySpan<byte> value, long from, long to, int bit)
    {
        var first = (int)(from >> 3);
        var last = (int)(to >> 3);
        var skip = bit == 1 ? (byte)0 : (byte)0xFF;
        var i = first;
        while (i <= last)
        {
            if (i != first && i != last)
            {
                // Whole bytes between the edges: jump to the first one that holds a wanted bit.
                var next = value[i..last].IndexOfAnyExcept(skip);
                if (next < 0)
                {
                    i = last;
                    continue;
                }
                i += next;
            }
            var lo = i == first ? (int)(from & 7) : 0;
            var hi = i == last ? (int)(to & 7) : 7;
            for (var b = lo; b <= hi; b++)
            {
                if (((value[i] >> (7 - b)) & 1) == bit)
                {
                    return ((long)i << 3) + b;
                }
            }
            i++;
        }
        return -1;
    }

    private static long PopCount(ReadOnlySpan<byte> bytes)
    {
        long count = 0;
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (var w in words)
        {
            count += BitOperations.PopCount(w);
        }
        for (var i = words.Length * 8; i < bytes.Length; i++)
        {
            count += BitOperations.PopCount(bytes[i]);
        }
        return count;
    }
}
