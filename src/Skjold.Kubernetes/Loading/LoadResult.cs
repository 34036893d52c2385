using Skjold.Engine.Model;

namespace Skjold.Kubernetes.Loading;

/// <summary>What the loader read: resources in input order, problems found, and how much was read.</summary>
public sealed record LoadResult(IReadOnlyList<Resource> Resources, IReadOnlyList<Diagnostic> Diagnostics, int Files, long Bytes)
{
    public bool HasErrors => Diagnostics.Any(d => d.Level == DiagnosticLevel.Error);
}
