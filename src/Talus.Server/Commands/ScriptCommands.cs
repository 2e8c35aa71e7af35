namespace Talus.Server.Commands;

/// <summary>
/// SCRIPT, as far as a server without Lua scripting has it: KILL answers as Redis does when no script runs.
/// Redis Sentinel sends SCRIPT KILL to a master that answers BUSY, so the answer must be Redis' own.
/// </summary>
public static class ScriptCommands
{
    private static void Kill(CommandContext ctx) => ctx.Writer.WriteError("NOTBUSY No scripts in execution right now.");

    private static void Help(CommandContext ctx) => ContainerCommand.WriteHelp(ctx,
        "KILL",
        "    Kill the currently executing Lua script.");

    public static readonly CommandDescriptor[] Table =
    [
        new("SCRIPT", -2, CommandFlags.None, 0, 0, 0, ContainerCommand.Dispatch, "scripting")
        {
            Subcommands =
            [
                new("SCRIPT|KILL", 2, CommandFlags.NoScript, 0, 0, 0, Kill, "scripting"),
                new("SCRIPT|HELP", 2, CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, Help, "scripting"),
            ],
        },
    ];
}
