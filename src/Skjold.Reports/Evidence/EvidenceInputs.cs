using Skjold.Engine.Model;
using Skjold.Reports.Compliance;

namespace Skjold.Reports.Evidence;

/// <summary>What a compliance report is measured on. Everything here goes into the report's input digest.</summary>
public sealed record EvidenceInputs
{
    /// <summary>The cluster objects: manifests, a snapshot or a live read.</summary>
    public IReadOnlyList<Resource> Resources { get; init; } = [];

    /// <summary>How the report names the resources' sources, in order ("live cluster", or the paths as given, relative).</summary>
    public IReadOnlyList<string> ResourceLabels { get; init; } = [];

    /// <summary>node-check JSON reports, each with the name the report gives it.</summary>
    public IReadOnlyList<EvidenceFile> NodeResults { get; init; } = [];

    /// <summary>Results of checks a host ran with I/O (supply chain: signatures, scan results), measured into the digest.</summary>
    public IReadOnlyList<ExternalResults> External { get; init; } = [];

    /// <summary>The configuration file (exemptions and attestations decide statuses, so it is measured too).</summary>
    public EvidenceFile? Configuration { get; init; }

    /// <summary>An earlier report to diff against.</summary>
    public ComplianceBaseline? Baseline { get; init; }
}

/// <summary>A file's name as the report shows it, and its bytes.</summary>
public sealed record EvidenceFile(string Name, byte[] Bytes);
