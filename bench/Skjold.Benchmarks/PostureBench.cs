using Skjold.Engine;
using Skjold.Engine.Policy;
using Skjold.Engine.Rbac;
using Skjold.Kubernetes.Loading;
using Skjold.TestSupport;

namespace Skjold.Benchmarks;

/// <summary>
/// Cluster posture on a generated large snapshot: loading, building the RBAC model, who-can
/// queries, escalation-path search and the whole posture scan, in process (medians), then the
/// CLI end to end as a child process with its peak resident memory (VmHWM).
/// </summary>
internal static class PostureBench
{
    public static async Task<int> RunAsync(int teams)
    {
        var dir = Directory.CreateTempSubdirectory("skjold-posture-").FullName;
        try
        {
            var path = Path.Combine(dir, "snapshot.json");
            new ClusterGenerator(teams).WriteTo(path);
            var loader = new ManifestLoader(new LoaderOptions { MaxFileBytes = 1L << 31 });
            var resources = loader.LoadPaths([path]).Resources;
            var kinds = resources.GroupBy(r => r.Kind).ToDictionary(g => g.Key, g => g.Count());
            Console.WriteLine($"Snapshot: {resources.Count:N0} objects, {new FileInfo(path).Length / 1048576.0:F1} MiB; " +
                $"{kinds.GetValueOrDefault("RoleBinding") + kinds.GetValueOrDefault("ClusterRoleBinding"):N0} bindings, {kinds.GetValueOrDefault("Role") + kinds.GetValueOrDefault("ClusterRole"):N0} roles, " +
                $"{kinds.GetValueOrDefault("Pod"):N0} pods; {Environment.ProcessorCount} cores");

            var load = Timing.Median(5, () => loader.LoadPaths([path]));
            Console.WriteLine($"load (parse snapshot):         median {load,8:F0} ms");

            RbacModel model = null!;
            var build = Timing.Median(5, () => model = RbacModel.Build(resources));
            Console.WriteLine($"RBAC model build:              median {build,8:F1} ms ({model.Grants.Count:N0} grants)");

            (string Verb, string Resource, string? Sub, string? Ns)[] questions =
            [
                ("get", "secrets", null, null), ("create", "pods", null, "team-250"), ("create", "pods", "exec", null),
                ("bind", "clusterroles", null, null), ("*", "*", null, null), ("patch", "deployments", null, "team-042"),
            ];
            foreach (var (verb, res, sub, ns) in questions)
            {
                var count = 0;
                var ms = Timing.Median(21, () => count = model.WhoCan(verb, res, sub, ns).Select(g => g.Subject).Distinct().Count());
                Console.WriteLine($"who-can {verb} {res}{(sub is null ? string.Empty : "/" + sub)}{(ns is null ? string.Empty : " -n " + ns),-14} median {ms,8:F2} ms ({count} subjects)");
            }

            var paths = 0;
            var subjects = model.Subjects().Where(s => !s.IsPlatform).ToList();
            var search = Timing.Median(3, () =>
            {
                var finder = new EscalationFinder(model, resources);
                paths = subjects.Count(s => finder.Find(s) is not null);
            });
            Console.WriteLine($"escalation paths, all {subjects.Count:N0} subjects: median {search,8:F0} ms ({paths} paths)");

            var scanner = new Scanner(ScanPolicy.Default);
            var findings = 0;
            var scan = Timing.Median(5, () => findings = scanner.Scan(resources).Findings.Count);
            Console.WriteLine($"posture scan (all checks):     median {scan,8:F0} ms ({findings:N0} findings)");
            var both = Timing.Median(3, () => scanner.Scan(loader.LoadPaths([path]).Resources));
            Console.WriteLine($"load + posture scan:           median {both,8:F0} ms");
            Console.WriteLine($"bench process peak RSS: {PeakRss(Environment.ProcessId) / 1048576.0:F0} MiB");

            await EndToEndAsync(path).ConfigureAwait(false);
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>skjold scan SNAPSHOT as a user runs it: wall time and peak RSS of the process.</summary>
    private static async Task EndToEndAsync(string snapshot)
    {
        if (ProcessProbe.Cli is not { } cli)
        {
            Console.WriteLine("(end-to-end skipped: build src/Skjold.Cli in Release first)");
            return;
        }

        var times = new List<double>();
        var peaks = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            var (ms, peak, _) = await ProcessProbe.RunAsync(cli, ["scan", snapshot, "--max-file-size", "1GiB", "--format", "json", "--output", "/dev/null"]).ConfigureAwait(false);
            times.Add(ms);
            peaks.Add(peak);
        }

        times.Sort();
        peaks.Sort();
        Console.WriteLine($"skjold scan SNAPSHOT (process, incl. startup): median {times[1]:F0} ms, peak RSS median {peaks[1] / 1048576.0:F0} MiB");
    }

    private static long PeakRss(int pid) => ProcessProbe.PeakRss(pid);
}
