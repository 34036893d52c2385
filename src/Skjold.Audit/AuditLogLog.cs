using Microsoft.Extensions.Logging;

namespace Skjold.Audit;

/// <summary>The audit library's log messages (event ids 2000-2099).</summary>
internal static partial class AuditLogLog
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Error, Message = "Signing a tree head failed; the next batch or sign interval tries again")]
    public static partial void SignFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "Committing a batch of {Count} events failed; their callers are told")]
    public static partial void CommitFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "Observer {Observer} failed on the batch from leaf {FirstIndex} ({Count} events); it gets the next batch")]
    public static partial void ObserverFailed(ILogger logger, Exception exception, string observer, long firstIndex, int count);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "Signed tree head at size {Size} with key {KeyId}")]
    public static partial void Signed(ILogger logger, long size, string keyId);
}
