using System.Globalization;
using System.Text.Json;
using Skjold.Detection.Falco;

namespace Skjold.Benchmarks;

/// <summary>
/// Falco's full k8saudit rule file over the shared audit events (../shared/peers/falco), replayed on
/// one thread: events per second of FalcoRuleSet.Evaluate, median of rounds. The floor measured in
/// the same run: parsing nothing, only walking the events (what the loop costs without rules).
/// </summary>
internal static class DetectionBench
{
    public static int Run(int rounds)
    {
        var peers = Path.Combine(Skjold.TestSupport.RepoPaths.Peers, "falco");
        var rules = new FalcoRuleSet();
        rules.Load(File.ReadAllText(Path.Combine(peers, "k8saudit-rules", "plugins_k8saudit_rules_k8s_audit_rules.yaml")), "k8s_audit_rules.yaml");
        var events = new List<JsonElement>();
        foreach (var file in Directory.GetFiles(Path.Combine(peers, "audit-events", "k8s_audit"), "*.json").Order(StringComparer.Ordinal))
        {
            using var reader = new StreamReader(file);
            events.AddRange(AuditEventLines.Read(reader));
        }

        const int Replay = 400;
        var alerts = 0;
        // Steady state, as a receiving host runs for days: each evaluator runs 3 s before it is measured, so
        // tiered compilation has promoted the compiled conditions (one warm-up pass is not enough: the first
        // second of a fresh rule set runs at about 60% of its steady speed).
        var ms = Timing.Median(rounds, Warm(() =>
        {
            alerts = 0;
            for (var r = 0; r < Replay; r++)
            {
                foreach (var e in events)
                {
                    alerts += rules.Evaluate(e).Count;
                }
            }
        }));
        var floor = Timing.Median(rounds, () =>
        {
            var n = 0;
            for (var r = 0; r < Replay; r++)
            {
                foreach (var e in events)
                {
                    n += e.ValueKind == JsonValueKind.Object ? 1 : 0;
                }
            }
        });
        // Falco's rules plus Skjold's own (shipped file and stateful rules with every range check on), as skjold serve runs them.
        var settings = Skjold.Detection.Skjold.DetectionSettings.Default with
        {
            ClusterCidrs = [System.Net.IPNetwork.Parse("10.0.0.0/8")],
            AllowedSourceRanges = [System.Net.IPNetwork.Parse("10.0.0.0/8"), System.Net.IPNetwork.Parse("172.16.0.0/12"), System.Net.IPNetwork.Parse("192.168.0.0/16")],
        };
        var full = new FalcoRuleSet();
        Skjold.Detection.Skjold.DetectionEngine.LoadBuiltin(full, settings);
        full.Load(File.ReadAllText(Path.Combine(peers, "k8saudit-rules", "plugins_k8saudit_rules_k8s_audit_rules.yaml")), "k8s_audit_rules.yaml");
        var engine = new Skjold.Detection.Skjold.DetectionEngine(full, settings);
        var clock = DateTimeOffset.UnixEpoch;
        var engineAlerts = 0;
        var engineMs = Timing.Median(rounds, Warm(() =>
        {
            engineAlerts = 0;
            for (var r = 0; r < Replay; r++)
            {
                foreach (var e in events)
                {
                    clock = clock.AddMilliseconds(1);
                    engineAlerts += engine.Evaluate(e, clock).Count;
                }
            }
        }));
        var total = (double)events.Count * Replay;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"detection (Falco + Skjold's {engine.Stateful.Count} stateful and shipped rules, {full.Rules.Count} rules in all): median {engineMs:F1} ms = {total / engineMs * 1000:N0} events/s on one thread, {engineAlerts / Replay} alerts per replay; {engineMs / ms:F2}x Falco's rules alone"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"detection: {rules.Rules.Count} rules, {events.Count} distinct events x {Replay} = {total:N0} evaluations, {alerts / Replay} alerts per replay; " +
            $"median {ms:F1} ms = {total / ms * 1000:N0} events/s on one thread (loop floor {floor:F2} ms)"));
        return 0;
    }

    /// <summary>Runs <paramref name="action"/> for 3 s, then hands it back for measuring.</summary>
    private static Action Warm(Action action)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(3))
        {
            action();
        }

        return action;
    }
}
