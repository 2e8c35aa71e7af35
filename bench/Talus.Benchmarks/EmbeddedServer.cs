using System.Buffers;
using Microsoft.Extensions.Logging.Abstractions;
using Talus.Server.Config;
using Talus.Server.Dispatch;
using Talus.Server.Host;
using Talus.Storage;
using Talus.Storage.Engine;

namespace Talus.Benchmarks;

/// <summary>
/// A Talus server without sockets: a dataset on a temp directory, the real dispatcher and command table, and
/// one client's <see cref="RequestProcessor"/> fed whole request buffers. Replies go to an in-memory buffer
/// that each call resets, so what is measured is parse → dispatch → storage → reply, as a connection runs it.
/// </summary>
public sealed class EmbeddedServer : IDisposable
{
    private readonly string _dir;
    private readonly ArrayBufferWriter<byte> _output = new(256 * 1024);
    private readonly RequestProcessor _processor;

    /// <param name="fsync">The appendfsync policy.</param>
    /// <param name="slowlogMicros">slowlog-log-slower-than (Talus' default 10000; -1 turns the slowlog off).</param>
    public EmbeddedServer(FsyncPolicy fsync = FsyncPolicy.EverySec, long slowlogMicros = 10000)
    {
        _dir = Path.Combine(Path.GetTempPath(), "talus-bench-" + Guid.NewGuid().ToString("N"));
        var options = new ServerOptions { Dir = _dir, AppendFsync = fsync, SlowlogLogSlowerThan = slowlogMicros };
        Dataset = Dataset.Open(options.ToStorageOptions(), NullLogger.Instance);
        Server = new ServerContext(options, Dataset, NullLoggerFactory.Instance);
        var dispatcher = new CommandDispatcher(Server);
        var session = new ClientSession(1, null, null, authenticated: true);
        _processor = new RequestProcessor(Server, dispatcher, session, _output);
    }

    public Dataset Dataset { get; }

    public ServerContext Server { get; }

    /// <summary>The replies of the last <see cref="Run"/>.</summary>
    public ReadOnlySpan<byte> Output => _output.WrittenSpan;

    /// <summary>Executes every command in <paramref name="request"/> (which must hold whole commands only).</summary>
    public int Run(byte[] request)
    {
        _output.ResetWrittenCount();
        _processor.Context.Writer.ResetCounter();
        var buffer = new ReadOnlySequence<byte>(request);
        var outcome = _processor.Process(buffer, out var consumed);
        if (outcome != BatchOutcome.NeedMoreData || !consumed.Equals(buffer.End))
        {
            throw new InvalidOperationException($"request not fully executed: {outcome}");
        }
        return _output.WrittenCount;
    }

    public void Dispose()
    {
        _processor.Dispose();
        Dataset.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // a leftover temp directory is harmless
        }
    }
}
