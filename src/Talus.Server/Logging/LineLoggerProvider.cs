using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Talus.Server.Logging;

/// <summary>
/// Writes one line per event in Redis' log format (<c>pid:role dd Mon yyyy HH:mm:ss.fff level message</c>,
/// level marks . - * #) to standard output or to the <c>logfile</c>. Writes are serialised and flushed per line,
/// so a kill -9 loses no complete line.
/// </summary>
public sealed class LineLoggerProvider : ILoggerProvider
{
    private readonly TextWriter _output;
    private readonly Lock _lock = new();
    private readonly bool _ownsOutput;

    public LineLoggerProvider(string logFile)
    {
        if (string.IsNullOrEmpty(logFile))
        {
            _output = Console.Out;
        }
        else
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(logFile));
            if (directory is not null)
            {
                Directory.CreateDirectory(directory);
            }
            _output = new StreamWriter(new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
            _ownsOutput = true;
        }
    }

    /// <summary>Minimum level written; changed at runtime by CONFIG SET loglevel.</summary>
    public LogLevel MinimumLevel { get; set; } = LogLevel.Information;

    /// <summary>The role letter Redis prints after the pid: M (master) or S (replica).</summary>
    public char RoleMark { get; set; } = 'M';

    public static LogLevel FromRedisLevel(string level) => level switch
    {
        "debug" => LogLevel.Trace,
        "verbose" => LogLevel.Debug,
        "warning" => LogLevel.Warning,
        "nothing" => LogLevel.None,
        _ => LogLevel.Information,
    };

    public ILogger CreateLogger(string categoryName) => new LineLogger(this, categoryName);

    internal void Write(LogLevel level, string category, string message, Exception? exception)
    {
        var mark = level switch
        {
            LogLevel.Trace => '.',
            LogLevel.Debug => '-',
            LogLevel.Information => '*',
            _ => '#',
        };
        var time = DateTime.Now.ToString("dd MMM yyyy HH:mm:ss.fff", CultureInfo.InvariantCulture);
        var line = $"{Environment.ProcessId}:{RoleMark} {time} {mark} {message}";
        if (exception is not null)
        {
            line += $" ({exception.GetType().Name}: {exception.Message})";
        }
        lock (_lock)
        {
            _output.WriteLine(line);
            _output.Flush();
        }
        _ = category;
    }

    public void Dispose()
    {
        if (_ownsOutput)
        {
            _output.Dispose();
        }
    }

    private sealed class LineLogger(LineLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= provider.MinimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write(logLevel, category, formatter(state, exception), exception);
            }
        }
    }
}
