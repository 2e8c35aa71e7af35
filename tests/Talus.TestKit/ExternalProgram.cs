using System.Diagnostics;

namespace Talus.TestKit;

/// <summary>A program (redis-cli, node) run to its end, with its output captured and a deadline.</summary>
public static class ExternalProgram
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        public override string ToString() => $"exit {ExitCode}, stdout:\n{StdOut}\nstderr:\n{StdErr}";
    }

    /// <summary>Starts <paramref name="psi"/> with its streams redirected, writes <paramref name="stdin"/> (then closes it) and waits.</summary>
    public static async Task<Result> RunAsync(ProcessStartInfo psi, byte[]? stdin = null, TimeSpan? timeout = null)
    {
        psi.RedirectStandardInput = true;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {psi.FileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.BaseStream.WriteAsync(stdin);
        }
        process.StandardInput.Close();
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{psi.FileName} {string.Join(' ', psi.ArgumentList)} did not finish: {await stdout}");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
