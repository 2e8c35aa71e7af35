using System.Globalization;
using Talus.Soak;

// Usage: Talus.Soak MINUTES [SEED]. Exit code 0 when every replica ends equal to the master, 1 otherwise.
if (args.Length < 1 || !double.TryParse(args[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var minutes) || minutes <= 0)
{
    Console.Error.WriteLine("Usage: Talus.Soak MINUTES [SEED]");
    return 2;
}
var seed = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : Environment.TickCount & 0x7fffffff;
await using var run = new SoakRun(TimeSpan.FromMinutes(minutes), seed);
return await run.RunAsync();
