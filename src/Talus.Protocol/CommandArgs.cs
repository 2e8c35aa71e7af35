using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Talus.Protocol;

/// <summary>
/// The argv of one command. Arguments are copied into one pooled arena that is reused for the next
/// command on the same connection, so parsing a command allocates nothing once the arena has grown.
/// </summary>
public sealed class CommandArgs : IDisposable
{
    private byte[] _arena;
    private int _arenaUsed;
    private int[] _offsets;
    private int[] _lengths;

    public CommandArgs()
    {
        _arena = ArrayPool<byte>.Shared.Rent(4096);
        _offsets = new int[16];
        _lengths = new int[16];
    }

    /// <summary>Bytes currently reserved for argument data (diagnostics and memory-bound tests).</summary>
    public int ArenaCapacity => _arena.Length;

    /// <summary>Number of arguments, the command name included.</summary>
    public int Count { get; private set; }

    public ReadOnlySpan<byte> this[int index] => new(_arena, _offsets[index], _lengths[index]);

    /// <summary>The argument up to its first NUL byte: what Redis sees when it formats or compares it as a C string.</summary>
    public ReadOnlySpan<byte> CString(int index)
    {
        var arg = this[index];
        var nul = arg.IndexOf((byte)0);
        return nul < 0 ? arg : arg[..nul];
    }

    /// <summary>Copies argument <paramref name="index"/> into a new array (for values that outlive the command).</summary>
    public byte[] ToArray(int index) => this[index].ToArray();

    /// <summary>Copies <paramref name="count"/> arguments from <paramref name="start"/> on, each into a new array (keys of a blocking pop, BITOP's sources).</summary>
    public byte[][] ToArrays(int start, int count)
    {
        var arrays = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            arrays[i] = ToArray(start + i);
        }
        return arrays;
    }

    public ReadOnlyMemory<byte> Memory(int index) => new(_arena, _offsets[index], _lengths[index]);

    public string GetString(int index) => Encoding.UTF8.GetString(this[index]);

    /// <summary>
    /// ASCII case-insensitive comparison with an upper-case literal, as Redis' strcasecmp: like it, the
    /// comparison ends at the argument's first NUL byte, so "NX\0junk" is the option NX.
    /// </summary>
    public bool Is(int index, string upper)
    {
        var arg = CString(index);
        if (arg.Length != upper.Length)
        {
            return false;
        }
        for (var i = 0; i < arg.Length; i++)
        {
            var c = arg[i];
            if (c is >= (byte)'a' and <= (byte)'z')
            {
                c = (byte)(c - 32);
            }
            if (c != upper[i])
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Parses a signed 64-bit integer exactly as Redis' string2ll: no spaces, no '+', no leading zeros.</summary>
    public bool TryGetLong(int index, out long value) => TryParseLong(this[index], out value);

    public static bool TryParseLong(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        if (s.Length == 0 || s.Length > 20)
        {
            return false;
        }
        if (s.Length > 1 && (s[0] == (byte)'0' || (s[0] == (byte)'-' && s[1] == (byte)'0')))
        {
            return false;
        }
        if (s[0] == (byte)'+' || s[0] == (byte)' ' || s[^1] == (byte)' ')
        {
            return false;
        }
        return Utf8Parser.TryParse(s, out value, out var consumed) && consumed == s.Length;
    }

    /// <summary>Command name upper-cased into <paramref name="destination"/>; returns the length, or -1 when too long.</summary>
    public int UpperName(Span<byte> destination)
    {
        var name = this[0];
        if (name.Length > destination.Length)
        {
            return -1;
        }
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            destination[i] = c is >= (byte)'a' and <= (byte)'z' ? (byte)(c - 32) : c;
        }
        return name.Length;
    }

    /// <summary>
    /// Forgets every argument, including those of a partly received command (see <see cref="RespParser"/>):
    /// the next parse starts at the beginning of a command.
    /// </summary>
    public void Reset()
    {
        Count = 0;
        _arenaUsed = 0;
        PartialCount = 0;
        PartialBytes = 0;
    }

    /// <summary>Declared argument count of the partly received multibulk whose first <see cref="Count"/> arguments are held.</summary>
    internal long PartialCount { get; private set; }

    /// <summary>Bytes of the partly received multibulk those arguments took (0 = nothing saved).</summary>
    internal long PartialBytes { get; private set; }

    internal void SavePartial(long count, long bytes)
    {
        PartialCount = count;
        PartialBytes = bytes;
    }

    /// <summary>Reserves room for an argument of <paramref name="length"/> bytes and returns it to be filled.</summary>
    internal Span<byte> Append(int length)
    {
        if (Count == _offsets.Length)
        {
            Array.Resize(ref _offsets, Count * 2);
            Array.Resize(ref _lengths, Count * 2);
        }
        if (_arenaUsed + length > _arena.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_arena.Length * 2, _arenaUsed + length));
            _arena.AsSpan(0, _arenaUsed).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_arena);
            _arena = bigger;
        }
        _offsets[Count] = _arenaUsed;
        _lengths[Count] = length;
        Count++;
        var span = _arena.AsSpan(_arenaUsed, length);
        _arenaUsed += length;
        return span;
    }

    /// <summary>Builds an argv from strings (tests, internal commands).</summary>
    public static CommandArgs From(params string[] args)
    {
        var result = new CommandArgs();
        foreach (var a in args)
        {
            var bytes = Encoding.UTF8.GetBytes(a);
            bytes.CopyTo(result.Append(bytes.Length));
        }
        return result;
    }

    /// <summary>Builds an argv from raw byte strings.</summary>
    public static CommandArgs From(IReadOnlyList<byte[]> args)
    {
        var result = new CommandArgs();
        foreach (var a in args)
        {
            a.CopyTo(result.Append(a.Length));
        }
        return result;
    }

    /// <summary>Shrinks the arena back after a huge command so one big request does not pin memory forever.</summary>
    public void Trim()
    {
        if (_arena.Length > 1024 * 1024 && Count == 0)
        {
            ArrayPool<byte>.Shared.Return(_arena);
            _arena = ArrayPool<byte>.Shared.Rent(4096);
            _offsets = new int[16];
            _lengths = new int[16];
        }
    }

    public void Dispose()
    {
        if (_arena.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_arena);
            _arena = [];
        }
    }
}
