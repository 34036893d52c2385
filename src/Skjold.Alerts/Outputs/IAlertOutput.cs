namespace Skjold.Alerts.Outputs;

/// <summary>One alert taken from the outbox: its place in the output's order and how often it was tried.</summary>
public sealed record OutboxEntry(long Seq, string Output, Alert Alert, int Attempts);

/// <summary>
/// A receiver of alerts (a SIEM's syslog port, a webhook, Alertmanager). Alerts arrive in outbox
/// order; an output reports how far delivery is <em>known</em> to have got as a sequence number,
/// cumulatively: every alert up to it reached the receiver. HTTP outputs know that when the
/// receiver answers 2xx; a stream output (syslog over TCP) knows it only once the connection has
/// stayed up for a while after the write, and anything not confirmed is sent again after a
/// failure (receivers drop the duplicate by <see cref="Alert.Id"/>). Failures are exceptions.
/// </summary>
public interface IAlertOutput : IAsyncDisposable
{
    string Name { get; }

    /// <summary>Sends <paramref name="entries"/> (in order); returns the highest sequence number known delivered.</summary>
    ValueTask<long> SendAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken);

    /// <summary>With nothing new to send: the highest sequence number known delivered now.</summary>
    ValueTask<long> ConfirmAsync(CancellationToken cancellationToken);

    /// <summary>Forgets what was sent but not confirmed, and drops the connection (after a failure the dispatcher resends from the store).</summary>
    ValueTask ResetAsync();
}

/// <summary>A receiver refused or could not take alerts; the dispatcher retries with back-off.</summary>
public sealed class AlertDeliveryException(string message, Exception? inner = null) : Exception(message, inner);
