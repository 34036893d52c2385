using Skjold.SupplyChain.Admission;
using Skjold.SupplyChain.Policy;

namespace Skjold.Cli;

/// <summary>The supply-chain gate of <c>skjold serve</c>: built from skjold.yaml's supplyChain: rules, its verdicts shared through PostgreSQL when the trail lives there.</summary>
internal static class SupplyChainGate
{
    /// <summary>The gate, or null when the configuration has no supplyChain.images rules.</summary>
    public static async Task<ImageAdmission?> CreateAsync(SupplyChainSettings settings, string? postgres, CliContext context, CancellationToken ct)
    {
        if (!settings.Enabled)
        {
            return null;
        }

        IVerificationStore? shared = null;
        if (postgres is not null)
        {
            try
            {
                var db = Npgsql.NpgsqlDataSource.Create(postgres);
                shared = await PostgresVerificationStore.OpenAsync(db, context.Time, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or ArgumentException)
            {
                throw new ArgumentException($"the shared image verification cache in PostgreSQL: {e.Message}", "SupplyChain", e);
            }
        }

        return new ImageAdmission(new ImageVerificationService(settings, time: context.Time, shared: shared));
    }
}
