using Talus.Protocol;
using Talus.Server.Commands;

namespace Talus.Server.Transactions;

/// <summary>A command queued between MULTI and EXEC: its descriptor and a private copy of its arguments.</summary>
public sealed record QueuedCommand(CommandDescriptor Command, CommandArgs Args);
