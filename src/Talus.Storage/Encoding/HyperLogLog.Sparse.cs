namespace Talus.Storage.Encoding;

/// <summary>
/// Updates of the sparse encoding, step for step as Redis' hllSparseSet does them, so the opcodes (and so
/// the stored bytes) are the ones redis-server would write.
/// </summary>
public sealed partial class HyperLogLog
{
    /// <summary>
    /// Redis' hllSparseSet: raises one register of the sparse code in place, splitting the opcode that covers
    /// it (at worst XZERO into XZERO VAL XZERO) and merging equal neighbouring VALs, or promotes to dense.
    /// Returns 1 when the register grew, 0 when not, -1 when the code is corrupt.
    /// </summary>
    private int SparseSet(int index, int count)
    {
        if (count > SparseValMaxValue)
        {
            return Promote(index, count);
        }
        EnsureCapacity(_length + 3);
        if (!TryLocate(index, out var p, out var prev, out var first, out var span))
        {
            return -1;
        }
        var b = _bytes;
        var end = _length;
        var op = b[p];
        // Step 2: the trivial in-place updates.
        if (IsVal(op))
        {
            if (ValValue(op) >= count)
            {
                return 0;
            }
            if (ValLength(op) == 1)
            {
                b[p] = Val(count, 1);
                return MergeValues(prev, end);
            }
        }
        if (IsZero(op) && span == 1)
        {
            b[p] = Val(count, 1);
            return MergeValues(prev, end);
        }
        Span<byte> seq = stackalloc byte[5];
        var n = Split(op, index, first, first + span - 1, count, seq);
        // Step 3: put the new sequence in place of the opcode, moving the tail; promote instead when the
        // string would outgrow the sparse limit.
        var next = p + (IsXZero(op) ? 2 : 1);
        var delta = n - (IsXZero(op) ? 2 : 1);
        if (delta > 0 && _length + delta > SparseMaxBytes)
        {
            return Promote(index, count);
        }
        if (delta != 0 && next < end)
        {
            Array.Copy(b, next, b, next + delta, end - next);
        }
        _length += delta;
        seq[..n].CopyTo(b.AsSpan(p));
        return MergeValues(prev, end + delta);
    }

    /// <summary>
    /// Step 1: the opcode at <paramref name="p"/> covers registers <paramref name="first"/> to first+span-1,
    /// <paramref name="index"/> among them; <paramref name="prev"/> is the opcode before it (-1 for none).
    /// False when the code ends first (corrupt).
    /// </summary>
    private bool TryLocate(int index, out int p, out int prev, out int first, out int span)
    {
        var b = _bytes;
        var end = _length;
        p = HeaderSize;
        prev = -1;
        first = 0;
        span = 0;
        while (p < end)
        {
            var opLength = 1;
            if (IsZero(b[p]))
            {
                span = (b[p] & 0x3f) + 1;
            }
            else if (IsVal(b[p]))
            {
                span = ValLength(b[p]);
            }
            else
            {
                span = XZeroLength(b.AsSpan(0, end), p);
                opLength = 2;
            }
            if (index <= first + span - 1)
            {
                break;
            }
            prev = p;
            p += opLength;
            first += span;
        }
        return span != 0 && p < end;
    }

    /// <summary>
    /// The general case of step 2: the opcode covering first..last becomes up to three opcodes, the runs
    /// before and after <paramref name="index"/> keeping their value and <paramref name="index"/> set to
    /// <paramref name="count"/> (worst case XZERO VAL XZERO, 5 bytes). Returns the bytes written.
    /// </summary>
    private static int Split(byte op, int index, int first, int last, int count, Span<byte> seq)
    {
        var n = 0;
        if (!IsVal(op))
        {
            if (index != first)
            {
                n += PutZeros(seq, n, index - first);
            }
            seq[n++] = Val(count, 1);
            if (index != last)
            {
                n += PutZeros(seq, n, last - index);
            }
            return n;
        }
        var current = ValValue(op);
        if (index != first)
        {
            seq[n++] = Val(current, index - first);
        }
        seq[n++] = Val(count, 1);
        if (index != last)
        {
            seq[n++] = Val(current, last - index);
        }
        return n;
    }

    /// <summary>Step 4 of hllSparseSet: merge adjacent VALs of equal value, scanning up to 5 opcodes from the previous one.</summary>
    private int MergeValues(int prev, int end)
    {
        var b = _bytes;
        var p = prev >= 0 ? prev : HeaderSize;
        var scan = 5;
        while (p < end && scan-- > 0)
        {
            if (IsXZero(b[p]))
            {
                p += 2;
                continue;
            }
            if (IsZero(b[p]))
            {
                p++;
                continue;
            }
            if (p + 1 < end && IsVal(b[p + 1]) && ValValue(b[p]) == ValValue(b[p + 1]))
            {
                var length = ValLength(b[p]) + ValLength(b[p + 1]);
                if (length <= SparseValMaxLength)
                {
                    b[p + 1] = Val(ValValue(b[p]), length);
                    Array.Copy(b, p + 1, b, p, end - p - 1);
                    _length--;
                    end--;
                    continue; // try to merge the merged opcode with the next one too
                }
            }
            p++;
        }
        InvalidateCache();
        return 1;
    }

    /// <summary>Sparse to dense, then the register update that did not fit (it always changes the register).</summary>
    private int Promote(int index, int count)
    {
        if (!ToDense())
        {
            return -1;
        }
        DenseSet(_bytes.AsSpan(HeaderSize, DenseSize - HeaderSize), index, count);
        return 1;
    }

    private void EnsureCapacity(int length)
    {
        if (_bytes.Length < length)
        {
            Array.Resize(ref _bytes, Math.Max(length, _bytes.Length * 2));
        }
    }

    /// <summary>Writes a run of zero registers as ZERO (up to 64) or XZERO; returns the bytes written.</summary>
    private static int PutZeros(Span<byte> seq, int n, int length)
    {
        if (length > SparseZeroMaxLength)
        {
            SetXZero(seq, n, length);
            return 2;
        }
        seq[n] = (byte)(length - 1);
        return 1;
    }
}
