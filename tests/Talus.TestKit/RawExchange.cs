using System.Net;
using System.Net.Sockets;

namespace Talus.TestKit;

/// <summary>
/// One throw-away connection for protocol tests: sends raw bytes and collects every byte the server sends
/// until the server closes the connection. With <c>halfClose</c> the client then shuts its sending side,
/// which makes the end deterministic: the server answers whatever complete commands it got, sees
/// end-of-stream and closes (Redis and talus alike). Without it, only a server that closes by itself (after a
/// protocol error) ends the exchange; otherwise it times out.
/// </summary>
public static class RawExchange
{
    /// <param name="preamble">sent first, and its reply of exactly <paramref name="preambleReplyLength"/> bytes discarded (AUTH)</param>
    public static async Task<byte[]> RunAsync(int port, byte[] input, bool halfClose = true, byte[]? preamble = null, int preambleReplyLength = 0, TimeSpan? timeout = null)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token).ConfigureAwait(false);
        if (preamble is not null)
        {
            await socket.SendAsync(preamble, cts.Token).ConfigureAwait(false);
            var skip = new byte[preambleReplyLength];
            for (var got = 0; got < skip.Length;)
            {
                var n = await socket.ReceiveAsync(skip.AsMemory(got), cts.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new IOException("server closed the connection during the preamble");
                }
                got += n;
            }
        }
        // Send and receive at once: the server may answer (or close) long before a large input is sent.
        var sending = SendAllAsync(socket, input, halfClose, cts.Token);
        using var output = new MemoryStream();
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, cts.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }
                output.Write(buffer, 0, n);
            }
        }
        catch (SocketException)
        {
            // A reset after the server closed with our bytes unread: what arrived before it still counts.
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the server did not close the connection within the timeout; got {output.Length} bytes: {Differential.Escape(output.ToArray())}");
        }
        await sending.ConfigureAwait(false);
        return output.ToArray();
    }

    private static async Task SendAllAsync(Socket socket, byte[] input, bool halfClose, CancellationToken token)
    {
        try
        {
            await socket.SendAsync(input, token).ConfigureAwait(false);
            if (halfClose)
            {
                socket.Shutdown(SocketShutdown.Send);
            }
        }
        catch (SocketException)
        {
            // the server closed first (protocol error): its reply is what the test looks at
        }
    }

    /// <summary>Resident set size of a process in bytes (VmRSS from /proc/pid/status).</summary>
    public static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kb = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
                return kb * 1024;
            }
        }
        throw new InvalidOperationException($"no VmRSS for pid {pid}");
    }
}
