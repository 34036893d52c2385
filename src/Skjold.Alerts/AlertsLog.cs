using Microsoft.Extensions.Logging;

namespace Skjold.Alerts;

/// <summary>The log messages of alert delivery (event ids 5000-5099).</summary>
internal static partial class AlertsLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "alert output {Output}: delivery failed ({Failures} in a row), retrying in {DelaySeconds:F1} s: {Error}")]
    public static partial void DeliveryFailed(ILogger logger, string output, int failures, double delaySeconds, string error);
}
