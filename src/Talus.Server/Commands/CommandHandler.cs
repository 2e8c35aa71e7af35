namespace Talus.Server.Commands;

/// <summary>Validates the arguments in <see cref="CommandContext.Args"/>, then executes and writes exactly one reply.</summary>
public delegate void CommandHandler(CommandContext ctx);
