using Talus.Protocol;
using Talus.Server.Commands;

namespace Talus.Server.Transactions;

/// <summary>
/// Which keys a write command modified, for WATCH: the dispatcher calls <see cref="AfterWrite"/> once a write
/// command has changed data. Mostly the command's key positions; the exceptions are commands whose key
/// positions include keys they only read (the STORE family and BITOP write only their destination, COPY only
/// its copy, possibly in another database; MOVE its key in both databases; SORT and GEORADIUS their STORE destination) and those whose keys are not positional (ZMPOP's numkeys list,
/// touched in full: a conservative superset of the key Redis pops from). FLUSHDB/FLUSHALL are handled
/// before they run (<see cref="BeforeWrite"/>), while the keys they remove still exist.
/// </summary>
internal static class WatchTouch
{
    public static void BeforeWrite(CommandContext ctx, CommandDescriptor command)
    {
        var registry = ctx.Server.Watches;
        if (command.Name == "FLUSHDB")
        {
            registry.TouchFlush(ctx.Server.Dataset, ctx.Session.DbIndex);
        }
        else if (command.Name == "FLUSHALL")
        {
            registry.TouchFlush(ctx.Server.Dataset, null);
        }
    }

    public static void AfterWrite(CommandContext ctx, CommandDescriptor command)
    {
        var registry = ctx.Server.Watches;
        var args = ctx.Args;
        var db = ctx.Session.DbIndex;
        switch (command.Name)
        {
            case "FLUSHDB" or "FLUSHALL":
                return;
            case "BITOP":
                registry.Touch(db, args[2]);
                return;
            case "SINTERSTORE" or "SUNIONSTORE" or "SDIFFSTORE" or "ZUNIONSTORE" or "ZINTERSTORE" or "ZDIFFSTORE" or "ZRANGESTORE" or "PFMERGE" or "GEOSEARCHSTORE":
                registry.Touch(db, args[1]);
                return;
            case "COPY":
                registry.Touch(CopyTargetDb(args, db), args[2]);
                return;
            case "MOVE":
                registry.Touch(db, args[1]);
                if (DbAt(args, 2) is { } target)
                {
                    registry.Touch(target, args[1]);
                }
                return;
            case "GEORADIUS" or "GEORADIUSBYMEMBER":
                if (GeoCommands.RadiusStoreIndex(args, command.Name == "GEORADIUSBYMEMBER") is var geoStore and >= 0)
                {
                    registry.Touch(db, args[geoStore]);
                }
                return;
            case "SORT":
                if (SortCommands.StoreIndex(args) is var store and >= 0)
                {
                    registry.Touch(db, args[store]);
                }
                return;
            case "ZMPOP" or "LMPOP":
                TouchNumKeys(registry, args, db, 1);
                return;
            case "BZMPOP" or "BLMPOP":
                TouchNumKeys(registry, args, db, 2);
                return;
        }
        foreach (var i in command.KeyIndices(args.Count))
        {
            registry.Touch(db, args[i]);
        }
    }

    private static int CopyTargetDb(CommandArgs args, int db)
    {
        for (var i = 3; i + 1 < args.Count; i++)
        {
            if (args.Is(i, "DB") && DbAt(args, i + 1) is { } target)
            {
                return target;
            }
        }
        return db;
    }

    /// <summary>Argument <paramref name="index"/> as a database number, or null (the command refused it anyway).</summary>
    private static int? DbAt(CommandArgs args, int index) =>
        args.TryGetLong(index, out var db) && db is >= 0 and <= int.MaxValue ? (int)db : null;

    private static void TouchNumKeys(WatchRegistry registry, CommandArgs args, int db, int numKeysAt)
    {
        if (!args.TryGetLong(numKeysAt, out var n))
        {
            return;
        }
        for (var i = numKeysAt + 1; i < args.Count && i <= numKeysAt + n; i++)
        {
            registry.Touch(db, args[i]);
        }
    }
}
