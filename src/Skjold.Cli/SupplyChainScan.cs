using Skjold.Engine.Model;
using Skjold.SupplyChain.Admission;
using Skjold.SupplyChain.Policy;

namespace Skjold.Cli;

/// <summary>--verify-images of scan and report: the supply-chain checks over the loaded resources, with skjold.yaml's supplyChain: section.</summary>
internal static class SupplyChainScan
{
    /// <summary>The results, or null after an error line (no usable supplyChain: section).</summary>
    public static ExternalResults? Collect(string? configPath, IReadOnlyList<Resource> resources, CliContext context)
    {
        if (!ConfigLoader.TryLoadSupplyChain(configPath, context.WorkingDirectory, context.Error, out var settings))
        {
            return null;
        }

        if (!settings.Enabled)
        {
            context.Error.WriteLine("error: --verify-images needs supplyChain.images rules or supplyChain.vulnerabilities in skjold.yaml (see docs/supply-chain.md)");
            return null;
        }

        foreach (var problem in settings.Reports.AddFrom(resources))
        {
            context.Error.WriteLine($"warning: {problem}");
        }

        using var service = new ImageVerificationService(settings, time: context.Time);
        return SupplyChainEvidence.CollectAsync(resources, service, CancellationToken.None).GetAwaiter().GetResult();
    }
}
