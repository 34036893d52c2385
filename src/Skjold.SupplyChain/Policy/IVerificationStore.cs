namespace Skjold.SupplyChain.Policy;

/// <summary>
/// Verdicts shared by replicas (the PostgreSQL store): a digest verified by one replica is not verified again
/// by the next. Only settled verdicts (verified or failed) are shared, never "registry unavailable".
/// </summary>
public interface IVerificationStore
{
    ValueTask<(bool Verified, string Message)?> GetAsync(string key, CancellationToken ct);

    ValueTask PutAsync(string key, bool verified, string message, DateTimeOffset expires, CancellationToken ct);
}
