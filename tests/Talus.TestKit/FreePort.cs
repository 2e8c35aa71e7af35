using System.Net;
using System.Net.Sockets;

namespace Talus.TestKit;

/// <summary>Finds loopback ports nobody listens on (the OS picks; the port is released for the server to bind).</summary>
public static class FreePort
{
    private static readonly HashSet<int> Handed = [];
    private static readonly Lock Gate = new();

    public static int Next()
    {
        lock (Gate)
        {
            while (true)
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                var port = ((IPEndPoint)probe.LocalEndPoint!).Port;
                if (Handed.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
