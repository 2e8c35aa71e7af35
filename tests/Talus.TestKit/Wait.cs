namespace Talus.TestKit;

/// <summary>Polls observable state until a condition holds, with a deadline; never a bare sleep.</summary>
public static class Wait
{
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#}s waiting for {what}");
            }
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition().ConfigureAwait(false))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#}s waiting for {what}");
            }
            await Task.Delay(20).ConfigureAwait(false);
        }
    }
}
