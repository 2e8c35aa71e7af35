using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Talus.Replication.Tests;

/// <summary>
/// A logger that keeps every formatted line (so a test can check what was, and was not, logged) and echoes it
/// to the test's output, which xunit shows when the test fails.
/// </summary>
internal sealed class RecordingLogger : ILogger
{
    private readonly ITestOutputHelper? _output;
    private readonly ConcurrentQueue<(LogLevel Level, string Text)> _lines = new();

    public RecordingLogger(ITestOutputHelper? output = null) => _output = output;

    public IReadOnlyList<(LogLevel Level, string Text)> Lines => _lines.ToArray();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var text = formatter(state, exception) + (exception is null ? "" : " | " + exception);
        _lines.Enqueue((logLevel, text));
        try
        {
            _output?.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {logLevel}: {text}");
        }
        catch (InvalidOperationException)
        {
            // the test already finished; its output is closed
        }
    }
}
