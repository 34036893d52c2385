using Microsoft.Extensions.Logging;

namespace Skjold.Kubernetes;

/// <summary>The Kubernetes library's log messages (event ids 3000-3099): 3050-3059 the namespace watch.</summary>
internal static partial class KubernetesLog
{
    [LoggerMessage(EventId = 3050, Level = LogLevel.Information, Message = "Listed {Count} namespaces at resourceVersion {ResourceVersion}")]
    public static partial void NamespacesListed(ILogger logger, int count, string? resourceVersion);

    [LoggerMessage(EventId = 3051, Level = LogLevel.Information, Message = "Namespace watch resourceVersion {ResourceVersion} expired (410); listing again")]
    public static partial void NamespaceWatchExpired(ILogger logger, string? resourceVersion);

    [LoggerMessage(EventId = 3052, Level = LogLevel.Warning, Message = "Namespace watch failed ({ErrorType}: {Error}); retrying in {BackoffSeconds} s")]
    public static partial void NamespaceWatchFailed(ILogger logger, string errorType, string error, double backoffSeconds);
}
