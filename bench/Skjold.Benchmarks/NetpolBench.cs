using System.Diagnostics;
using System.Globalization;
using System.Text;
using Skjold.Engine;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Network;
using Skjold.Engine.Policy;
using Skjold.Kubernetes.Loading;

namespace Skjold.Benchmarks;

/// <summary>
/// NetworkPolicy model on a generated cluster: 5,000 pods in 200 namespaces with 1,000 policies
/// (default deny, DNS, same-tier, cross-namespace, IP-block egress). Times building the model
/// plus every netpol finding, and single reach queries. Medians.
/// </summary>
internal static class NetpolBench
{
    public static int Run(int namespaces, int podsPerNamespace)
    {
        var yaml = Generate(namespaces, podsPerNamespace);
        var resources = new ManifestLoader(new LoaderOptions { MaxFileBytes = 1L << 30 }).LoadText("netpol.yaml", yaml).Resources;
        var pods = resources.Count(r => r.Kind == "Pod");
        var policies = resources.Count(r => r.Kind == "NetworkPolicy");
        Console.WriteLine($"{pods:N0} pods in {namespaces} namespaces, {policies:N0} NetworkPolicies; {Environment.ProcessorCount} cores");

        var onlyNetpol = ConfigParser.Parse("checks:\n  disable: [\"pss/*\", \"wl/*\", \"rbac/*\", \"secrets/*\", \"upgrade/*\", \"residency/*\"]\n", "bench.yaml", CheckCatalog.Default);
        var scanner = new Scanner(onlyNetpol);
        NetworkModel model = null!;
        var build = Timing.Median(7, () => model = NetworkModel.Build(resources));
        var findings = 0;
        var all = Timing.Median(7, () => findings = scanner.Scan(resources).Findings.Count);
        Console.WriteLine($"build connectivity model:          median {build,8:F1} ms");
        Console.WriteLine($"model + every netpol finding:      median {all,8:F1} ms ({findings:N0} findings)   target < 2000 ms");

        var random = new Random(7);
        var workloads = model.Workloads;
        // Half the pairs within one namespace (where policies allow some traffic), half across.
        var pairs = Enumerable.Range(0, 2000).Select(i =>
        {
            var ia = random.Next(workloads.Count);
            var ib = i % 2 == 0 ? (ia / podsPerNamespace * podsPerNamespace) + random.Next(podsPerNamespace) : random.Next(workloads.Count);
            return (workloads[ia], workloads[ib]);
        }).ToList();
        var times = new List<double>();
        var allowed = 0;
        foreach (var (a, b) in pairs.Take(200))
        {
            model.Reach(a, b); // warm-up
        }

        foreach (var (a, b) in pairs)
        {
            var sw = Stopwatch.StartNew();
            var answer = model.Reach(a, b);
            times.Add(sw.Elapsed.TotalMicroseconds);
            allowed += answer.Allowed.IsEmpty ? 0 : 1;
        }

        times.Sort();
        Console.WriteLine($"reach query (with explanation):    median {times[times.Count / 2],8:F1} µs, p99 {times[times.Count * 99 / 100]:F1} µs over {pairs.Count} random pairs ({allowed} allowed)   target < 1 ms");
        var sub = workloads.Take(500).ToList();
        var map = Timing.Median(3, () => ConnectivityList.Build(NetworkModelFor(resources, sub)));
        Console.WriteLine($"connectivity list, 500 of the pods (250,000 pairs): median {map:F0} ms");
        return 0;
    }

    private static NetworkModel NetworkModelFor(IReadOnlyList<Resource> resources, List<NetworkWorkload> subset)
    {
        var keep = subset.Select(w => w.Resource).ToHashSet();
        return NetworkModel.Build(resources.Where(r => r.Kind != "Pod" || keep.Contains(r)).ToList());
    }

    internal static string Generate(int namespaces, int podsPerNamespace)
    {
        var sb = new StringBuilder();
        string[] tiers = ["web", "api", "worker", "db", "cache"];
        for (var n = 0; n < namespaces; n++)
        {
            var ns = $"ns-{n:D3}";
            sb.Append(CultureInfo.InvariantCulture, $"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {{team: t{n % 20}, env: {(n % 3 == 0 ? "prod" : "dev")}}}}}\n---\n");
            for (var p = 0; p < podsPerNamespace; p++)
            {
                var tier = tiers[p % tiers.Length];
                sb.Append(CultureInfo.InvariantCulture, $"apiVersion: v1\nkind: Pod\nmetadata: {{name: pod-{p:D3}, namespace: {ns}, labels: {{app: app-{p % 8}, tier: {tier}}}}}\nspec: {{containers: [{{name: c, image: 'r.example/app:1', ports: [{{name: http, containerPort: 8080}}, {{name: metrics, containerPort: 9090}}]}}]}}\n---\n");
            }

            // Every tenth namespace forgot its default deny; every seventh has a policy with a typo in its selector.
            var name = n % 7 == 0 ? "stale-policy" : "default-deny";
            var selector = n % 10 == 0 ? "{matchLabels: {app: app-99}}" : "{}";
            sb.Append(CultureInfo.InvariantCulture, $"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {{podSelector: {selector}, policyTypes: [Ingress, Egress]}}\n---\n");
            sb.Append(CultureInfo.InvariantCulture, $"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: allow-dns, namespace: {ns}}}\nspec: {{podSelector: {{}}, policyTypes: [Egress], egress: [{{to: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: kube-system}}}}}}], ports: [{{port: 53, protocol: UDP}}, {{port: 53, protocol: TCP}}]}}]}}\n---\n");
            sb.Append(CultureInfo.InvariantCulture, $"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: web-to-api, namespace: {ns}}}\nspec: {{podSelector: {{matchLabels: {{tier: api}}}}, ingress: [{{from: [{{podSelector: {{matchLabels: {{tier: web}}}}}}], ports: [{{port: http}}]}}]}}\n---\n");
            sb.Append(CultureInfo.InvariantCulture, $"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: team-monitoring, namespace: {ns}}}\nspec: {{podSelector: {{matchExpressions: [{{key: tier, operator: In, values: [api, worker]}}]}}, ingress: [{{from: [{{namespaceSelector: {{matchLabels: {{team: t{n % 20}}}}}, podSelector: {{matchLabels: {{app: app-1}}}}}}], ports: [{{port: 9000, endPort: 9100}}]}}]}}\n---\n");
            sb.Append(CultureInfo.InvariantCulture, $"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: egress-partners, namespace: {ns}}}\nspec: {{podSelector: {{matchLabels: {{tier: worker}}}}, policyTypes: [Egress], egress: [{{to: [{{ipBlock: {{cidr: 10.{n % 250}.0.0/16, except: [10.{n % 250}.1.0/24]}}}}, {{podSelector: {{matchLabels: {{tier: db}}}}}}], ports: [{{port: 443}}, {{port: 5432}}]}}]}}\n---\n");
        }

        return sb.ToString();
    }
}
