using System.Net;
using Skjold.Detection.Falco;

namespace Skjold.Detection.Skjold;

/// <summary>
/// A detection the Falco language cannot express: it remembers what it saw (per identity, per
/// binding) within a window measured on the clock the caller passes (the receiving host's
/// TimeProvider live, each event's own time when hunting over stored events). State is bounded:
/// at most <see cref="MaxTracked"/> keys per rule; beyond that the stalest are forgotten.
/// </summary>
public abstract class StatefulRule
{
    /// <summary>Keys (identities, bindings) one rule keeps state for at most.</summary>
    public const int MaxTracked = 100_000;

    public abstract string Name { get; }

    public abstract string Description { get; }

    public abstract FalcoPriority Priority { get; }

    /// <summary>MITRE ATT&amp;CK for Containers technique and the framework controls (framework:control).</summary>
    public abstract IReadOnlyList<string> Tags { get; }

    internal abstract FalcoAlert? Observe(AuditFacts e, DateTimeOffset now);

    protected FalcoAlert Alert(string output) => new(Name, Priority, output, Tags, FalcoRuleSet.Source);

    /// <summary>Keeps a per-key table within <see cref="MaxTracked"/>: drops keys idle longer than the window, then the oldest half.</summary>
    protected static void Bound<T>(Dictionary<string, T> table, Func<T, DateTimeOffset> lastSeen, DateTimeOffset cutoff)
    {
        if (table.Count < MaxTracked)
        {
            return;
        }

        foreach (var key in table.Where(kv => lastSeen(kv.Value) < cutoff).Select(kv => kv.Key).ToList())
        {
            table.Remove(key);
        }

        if (table.Count >= MaxTracked)
        {
            foreach (var key in table.OrderBy(kv => lastSeen(kv.Value)).Take(table.Count / 2).Select(kv => kv.Key).ToList())
            {
                table.Remove(key);
            }
        }
    }

    internal static bool Contains(IReadOnlyList<IPNetwork> ranges, IPAddress ip)
    {
        for (var i = 0; i < ranges.Count; i++)
        {
            if (ranges[i].Contains(ip))
            {
                return true;
            }
        }

        return false;
    }

    internal static string Identity(AuditFacts e) =>
        e.User is "system:anonymous" or null ? $"{e.User ?? "(unknown)"}@{e.SourceIp}" : e.User;
}

/// <summary>One identity reading Secrets in more namespaces than <see cref="Threshold.Count"/> within the window: credential harvesting.</summary>
public sealed class SecretsAcrossNamespacesRule(Threshold threshold) : StatefulRule
{
    private readonly Dictionary<string, List<(string Namespace, DateTimeOffset At)>> _reads = new(StringComparer.Ordinal);

    public override string Name => "Skjold secrets read across namespaces";

    public override string Description => $"one identity read Secrets in more than {threshold.Count} namespaces within {threshold.Within}";

    public override FalcoPriority Priority => FalcoPriority.Critical;

    public override IReadOnlyList<string> Tags { get; } = ["skjold", "k8s", "mitre_credential_access", "T1552.007", "iso27001:8.16", "iso27001:5.15", "pci-dss:10.4.1.1", "nis2:21.2.b", "nsm:3.3"];

    internal override FalcoAlert? Observe(AuditFacts e, DateTimeOffset now)
    {
        if (e.Resource != "secrets" || e.Verb is not ("get" or "list" or "watch") || !e.Succeeded || e.Namespace is null || e.User is null || e.Stage is "RequestReceived")
        {
            return null;
        }

        var who = Identity(e);
        var cutoff = now - threshold.Within;
        Bound(_reads, l => l.Count == 0 ? DateTimeOffset.MinValue : l[^1].At, cutoff);
        if (!_reads.TryGetValue(who, out var list))
        {
            _reads[who] = list = [];
        }

        var ns = e.Namespace;
        list.RemoveAll(r => r.At < cutoff || r.Namespace == ns);
        list.Add((ns, now));
        if (list.Count <= threshold.Count)
        {
            return null;
        }

        var namespaces = string.Join(", ", list.Select(r => r.Namespace).Order(StringComparer.Ordinal));
        _reads.Remove(who); // one alert per burst; the next needs as many namespaces again
        return Alert($"{who} read Secrets in {list.Count} namespaces within {threshold.Within} ({namespaces}); the threshold is {threshold.Count}");
    }
}

/// <summary>At least <see cref="Threshold.Count"/> refusals (401/403) for one identity within the window: probing for permissions or credentials.</summary>
public sealed class ProbingRule(Threshold threshold) : StatefulRule
{
    private readonly Dictionary<string, Queue<DateTimeOffset>> _denials = new(StringComparer.Ordinal);

    /// <summary>Identities with denials remembered (for the memory bound's test).</summary>
    internal int Tracked => _denials.Count;

    public override string Name => "Skjold repeated denials";

    public override string Description => $"one identity refused (401/403) {threshold.Count} times within {threshold.Within}";

    public override FalcoPriority Priority => FalcoPriority.Warning;

    public override IReadOnlyList<string> Tags { get; } = ["skjold", "k8s", "mitre_discovery", "T1613", "iso27001:8.16", "pci-dss:10.4.1.1", "nis2:21.2.b", "nsm:3.3"];

    internal override FalcoAlert? Observe(AuditFacts e, DateTimeOffset now)
    {
        if (e.Code is not (401 or 403) || e.Stage is "RequestReceived")
        {
            return null;
        }

        var who = Identity(e);
        var cutoff = now - threshold.Within;
        Bound(_denials, q => q.Count == 0 ? DateTimeOffset.MinValue : q.Last(), cutoff);
        if (!_denials.TryGetValue(who, out var q))
        {
            _denials[who] = q = new Queue<DateTimeOffset>();
        }

        while (q.TryPeek(out var first) && first < cutoff)
        {
            q.Dequeue();
        }

        q.Enqueue(now);
        if (q.Count < threshold.Count)
        {
            return null;
        }

        _denials.Remove(who);
        return Alert($"{who} was refused {threshold.Count} times within {threshold.Within} (last: {e.Code} on {e.Verb} {e.Resource}{(e.Subresource is null ? "" : "/" + e.Subresource)} from {e.SourceIp})");
    }
}

/// <summary>exec, attach or port-forward into a pod in a production namespace (by name or by labels).</summary>
public sealed class ExecIntoProductionRule(IReadOnlyList<string> namespaces, IReadOnlyDictionary<string, string> labels, Func<string, IReadOnlyDictionary<string, string>?>? namespaceLabels) : StatefulRule
{
    public override string Name => "Skjold exec into production";

    public override string Description => "exec, attach or port-forward into a pod in a production namespace";

    public override FalcoPriority Priority => FalcoPriority.Warning;

    public override IReadOnlyList<string> Tags { get; } = ["skjold", "k8s", "mitre_execution", "T1609", "iso27001:8.2", "iso27001:8.16", "pci-dss:7.2.2", "nis2:21.2.i"];

    internal override FalcoAlert? Observe(AuditFacts e, DateTimeOffset now)
    {
        if (e.Resource != "pods" || e.Subresource is not ("exec" or "attach" or "portforward") || e.Namespace is null || !e.Succeeded || e.Stage is "RequestReceived")
        {
            return null;
        }

        var byName = Glob.Any(namespaces, e.Namespace);
        var byLabels = !byName && labels.Count > 0 && namespaceLabels?.Invoke(e.Namespace) is { } actual && labels.All(l => actual.TryGetValue(l.Key, out var v) && v == l.Value);
        return byName || byLabels
            ? Alert($"{e.User} ran {e.Subresource} into pod {e.Namespace}/{e.Name} in production namespace {e.Namespace} (from {e.SourceIp})")
            : null;
    }
}

/// <summary>A service-account token used from outside the cluster's own ranges: a token taken off a pod or node.</summary>
public sealed class ServiceAccountFromOutsideRule(IReadOnlyList<IPNetwork> clusterCidrs) : StatefulRule
{
    private readonly Dictionary<string, DateTimeOffset> _reported = new(StringComparer.Ordinal);

    public override string Name => "Skjold service account token used from outside the cluster";

    public override string Description => "a service-account token used from a source address outside the configured cluster CIDRs";

    public override FalcoPriority Priority => FalcoPriority.Critical;

    public override IReadOnlyList<string> Tags { get; } = ["skjold", "k8s", "mitre_credential_access", "T1528", "iso27001:8.5", "iso27001:8.16", "pci-dss:8.2.2", "nis2:21.2.j"];

    internal override FalcoAlert? Observe(AuditFacts e, DateTimeOffset now)
    {
        if (clusterCidrs.Count == 0 || e.Stage is "RequestReceived" || !e.IsServiceAccount || e.SourceIp is not { } ip || Contains(clusterCidrs, ip))
        {
            return null;
        }

        var key = $"{e.User}|{ip}";
        Bound(_reported, t => t, now - TimeSpan.FromHours(1));
        if (_reported.TryGetValue(key, out var last) && now - last < TimeSpan.FromHours(1))
        {
            return null; // once an hour per account and address
        }

        _reported[key] = now;
        return Alert($"service account token of {e.User} used from {ip}, outside the cluster CIDRs ({e.Verb} {e.Resource} {e.Namespace}/{e.Name})");
    }
}

/// <summary>A request from outside the allowed source ranges (data residency: access only from the EEA offices and VPNs configured).</summary>
public sealed class OutsideAllowedRangesRule(IReadOnlyList<IPNetwork> allowed) : StatefulRule
{
    private readonly Dictionary<string, DateTimeOffset> _reported = new(StringComparer.Ordinal);

    public override string Name => "Skjold request from outside the allowed source ranges";

    public override string Description => "a request from a source address outside the configured allowed ranges";

    public override FalcoPriority Priority => FalcoPriority.Error;

    public override IReadOnlyList<string> Tags { get; } = ["skjold", "k8s", "mitre_initial_access", "T1078", "gdpr:44", "gdpr:32", "iso27001:5.15", "nsm:2.2", "nis2:21.2.i"];

    internal override FalcoAlert? Observe(AuditFacts e, DateTimeOffset now)
    {
        if (allowed.Count == 0 || e.Stage is "RequestReceived" || e.SourceIp is not { } ip || Contains(allowed, ip))
        {
            return null;
        }

        var key = $"{e.User}|{ip}";
        Bound(_reported, t => t, now - TimeSpan.FromHours(1));
        if (_reported.TryGetValue(key, out var last) && now - last < TimeSpan.FromHours(1))
        {
            return null;
        }

        _reported[key] = now;
        return Alert($"{e.User} reached the API from {ip}, outside the allowed source ranges ({e.Verb} {e.Resource}); reported once an hour per identity and address");
    }
}
