using Microsoft.Extensions.Logging;

namespace Skjold.Server;

/// <summary>
/// Every log message of the server, in one table of event ids: 1-9 admission, 20-29 the audit
/// receiver, 30-39 audit reads, 40-49 the serving certificate (50-59, the namespace watch, are in Skjold.Kubernetes' KubernetesLog), 60-69
/// the hosts starting, 70-79 detection.
/// </summary>
public static partial class ServerLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "admission {Uid} {Endpoint} {Operation} {Kind} {Namespace}/{Name} by {User} dryRun={DryRun}: {Decision} allowed={Allowed} checks={Checks} in {ElapsedMs:0.###} ms")]
    public static partial void AdmissionDecision(ILogger logger, string uid, string endpoint, string operation, string kind, string? @namespace, string? name,
        string user, bool dryRun, string decision, bool allowed, string checks, double elapsedMs);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Rejected a {Endpoint} request with {Status}: {Reason}")]
    public static partial void AdmissionBadRequest(ILogger logger, string endpoint, int status, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "admission {Uid} {Endpoint} missed its {TimeoutSeconds} s deadline")]
    public static partial void AdmissionTimeout(ILogger logger, string uid, string endpoint, double timeoutSeconds);

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Sealed {Count} audit events at leaf {FirstIndex}; log size {Size}; {Rejected} items rejected")]
    public static partial void AuditBatchStored(ILogger logger, int count, long firstIndex, long size, int rejected);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Unauthenticated audit batch from {Remote} refused")]
    public static partial void AuditBatchUnauthorized(ILogger logger, string? remote);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "Audit batch refused with {Status}: {Reason}")]
    public static partial void AuditBatchRejected(ILogger logger, int status, string reason);

    [LoggerMessage(EventId = 23, Level = LogLevel.Error, Message = "Audit batch could not be stored ({ErrorType}: {Error}); answered 503 so the API server retries")]
    public static partial void AuditBatchStoreFailed(ILogger logger, string errorType, string error);

    [LoggerMessage(EventId = 30, Level = LogLevel.Information, Message = "Audit query answered with {Count} events for {Remote}")]
    public static partial void AuditQueryAnswered(ILogger logger, int count, string? remote);

    [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "Unauthenticated audit read of {Path} from {Remote} refused")]
    public static partial void AuditQueryUnauthorized(ILogger logger, string path, string? remote);

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "Serving certificate reloaded: {Subject}, valid until {NotAfter:u}")]
    public static partial void CertificateReloaded(ILogger logger, string subject, DateTime notAfter);

    [LoggerMessage(EventId = 41, Level = LogLevel.Warning, Message = "Serving certificate could not be reloaded, keeping the current one: {Error}")]
    public static partial void CertificateReloadFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 60, Level = LogLevel.Information, Message = "Skjold {Version} serving admission on {Address}")]
    public static partial void AdmissionServing(ILogger logger, string version, Uri address);

    [LoggerMessage(EventId = 61, Level = LogLevel.Information, Message = "Skjold audit receiver on {Address}, sealing into {Store}")]
    public static partial void AuditReceiverServing(ILogger logger, Uri address, string store);

    [LoggerMessage(EventId = 70, Level = LogLevel.Warning, Message = "Detection: {Rule} ({Priority}) on leaf {Leaf}: {Output}")]
    public static partial void DetectionAlert(ILogger logger, string rule, string priority, long leaf, string output);

    [LoggerMessage(EventId = 71, Level = LogLevel.Warning, Message = "Falco alert sealed: {Rule} ({Priority}) at leaf {Leaf}")]
    public static partial void FalcoAlertSealed(ILogger logger, string rule, string priority, long leaf);

    [LoggerMessage(EventId = 72, Level = LogLevel.Warning, Message = "Falco alert body rejected with {Status}: {Reason}")]
    public static partial void FalcoRejected(ILogger logger, int status, string reason);
}
