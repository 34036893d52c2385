using System.Text.Json;

namespace Skjold.Kubernetes.Live;

/// <summary>
/// Writes to a cluster, for the hosts that act on one (incident runbooks): create, patch and
/// delete, each optionally as a server-side dry run (nothing is persisted, admission still runs),
/// eviction (which honours PodDisruptionBudgets) and exec. Failures are
/// <see cref="ClusterRequestException"/>s carrying the API server's status.
/// </summary>
public interface IClusterClient
{
    /// <summary>GETs a path with its query (an object, a list with selectors, a pod's log) and returns the body as sent.</summary>
    Task<byte[]> GetAsync(string pathAndQuery, CancellationToken cancellationToken);

    /// <summary>POSTs <paramref name="body"/> to the collection <paramref name="collection"/> (its <see cref="ObjectPath.Name"/> unused).</summary>
    Task<JsonDocument> CreateAsync(ObjectPath collection, JsonElement body, bool dryRun, CancellationToken cancellationToken);

    Task<JsonDocument> PatchAsync(ObjectPath target, string patch, PatchKind kind, bool dryRun, CancellationToken cancellationToken);

    Task DeleteAsync(ObjectPath target, bool dryRun, CancellationToken cancellationToken);

    /// <summary>Evicts a pod through the eviction subresource; false when a PodDisruptionBudget forbids it now (429).</summary>
    Task<bool> EvictAsync(string @namespace, string pod, bool dryRun, CancellationToken cancellationToken);

    /// <summary>Runs a command in a container as <c>kubectl exec</c> does and collects its output (each stream bounded by <paramref name="maxOutputBytes"/>).</summary>
    Task<ExecResult> ExecAsync(string @namespace, string pod, string container, IReadOnlyList<string> command, long maxOutputBytes, CancellationToken cancellationToken);
}

/// <summary>An object or collection of the API: /api/v1/namespaces/NS/pods/NAME or /apis/GROUP/VERSION/....</summary>
public sealed record ObjectPath(string Group, string Version, string Plural, string? Namespace = null, string? Name = null, string? Subresource = null)
{
    public string Path
    {
        get
        {
            var root = Group.Length == 0 ? $"/api/{Version}" : $"/apis/{Group}/{Version}";
            var ns = Namespace is null ? string.Empty : $"/namespaces/{Uri.EscapeDataString(Namespace)}";
            var name = Name is null ? string.Empty : "/" + Uri.EscapeDataString(Name);
            var sub = Subresource is null ? string.Empty : "/" + Subresource;
            return $"{root}{ns}/{Plural}{name}{sub}";
        }
    }

    public static ObjectPath Pods(string ns, string? name = null) => new(string.Empty, "v1", "pods", ns, name);

    public static ObjectPath NetworkPolicies(string ns, string? name = null) => new("networking.k8s.io", "v1", "networkpolicies", ns, name);
}

/// <summary>The patch formats of the API server.</summary>
public enum PatchKind
{
    /// <summary>application/merge-patch+json (RFC 7386).</summary>
    Merge,

    /// <summary>application/json-patch+json (RFC 6902).</summary>
    Json,

    /// <summary>application/strategic-merge-patch+json.</summary>
    StrategicMerge,
}

/// <summary>What a command run with exec printed and how it ended (exit code 0 when the API server reported success).</summary>
public sealed record ExecResult(int ExitCode, byte[] Stdout, byte[] Stderr, bool Truncated);

/// <summary>The API server refused a request; <see cref="Reason"/> and the message come from its Status.</summary>
public sealed class ClusterRequestException : Exception
{
    public ClusterRequestException(int statusCode, string? reason, string message)
        : base(message)
    {
        StatusCode = statusCode;
        Reason = reason;
    }

    public ClusterRequestException()
    {
    }

    public ClusterRequestException(string message)
        : base(message)
    {
    }

    public ClusterRequestException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public int StatusCode { get; }

    public string? Reason { get; }
}
