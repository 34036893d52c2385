using System.Diagnostics;
using System.Globalization;
using Skjold.Engine;
using Skjold.Engine.Checks;
using Skjold.Engine.Policy;
using Skjold.Engine.Pss;
using Skjold.Kubernetes.Loading;

namespace Skjold.Benchmarks;

/// <summary>Where scan time goes: the same loaded corpus under policies that switch parts off.</summary>
internal static class Experiments
{
    public static int Run(int objects)
    {
        var root = Directory.CreateTempSubdirectory("skjold-exp-").FullName;
        try
        {
            var dir = Corpus.WriteYaml(root, objects);
            var resources = new ManifestLoader().LoadPaths([dir]).Resources;
            var allWl = CheckCatalog.Default.All.Where(c => c.Id.StartsWith("wl/", StringComparison.Ordinal)).Select(c => c.Id).ToList();
            var policies = new (string, ScanPolicy)[]
            {
                ("default", ScanPolicy.Default),
                ("pss only", new ScanPolicy(PssLevel.Restricted, PssVersion.Latest, disabled: allWl)),
                ("wl only", new ScanPolicy(PssLevel.Privileged, PssVersion.Latest)),
                ("nothing", new ScanPolicy(PssLevel.Privileged, PssVersion.Latest, disabled: allWl)),
            };
            for (var round = 0; round < 3; round++)
            {
                foreach (var (name, policy) in policies)
                {
                    var scanner = new Scanner(policy);
                    var sw = Stopwatch.StartNew();
                    var n = scanner.Scan(resources).Findings.Count;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-10} {sw.Elapsed.TotalMilliseconds,8:F0} ms {n,8} findings"));
                }
            }

            return 0;
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
