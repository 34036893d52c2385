namespace Skjold.Incidents;

/// <summary>One API request a step makes: method, path (with query), and a short description of the body.</summary>
public sealed record ApiRequest(string Method, string Path, string? Body = null)
{
    public override string ToString() => Body is null ? $"{Method} {Path}" : $"{Method} {Path}  {Body}";
}

/// <summary>One step of a runbook: what it does, the requests it makes, the RBAC it needs, and whether it disrupts anything.</summary>
public sealed record RunbookStep(
    int Number,
    string Title,
    string What,
    IReadOnlyList<ApiRequest> Requests,
    IReadOnlyList<string> Rbac,
    bool Disruptive,
    bool Manual = false,
    IReadOnlyList<string>? Commands = null)
{
    /// <summary>What <c>incident apply</c> does for the step (<see cref="StepKind.Guidance"/>: nothing, a person does it or runs the commands).</summary>
    public StepKind Kind { get; init; } = StepKind.Guidance;
}

/// <summary>The steps <c>incident apply</c> can carry out through the cluster API.</summary>
public enum StepKind
{
    Guidance,
    IsolatePod,
    CaptureEvidence,
    CaptureExec,
    DeletePod,
    ReplaceSecret,
    RestartMounters,
    RevokeAccess,
    CordonNode,
    DrainNode,
    TaintNode,
    ListNodePods,
}

/// <summary>What a plan knows about the target from the cluster (a snapshot or a live read); empty when nothing is known.</summary>
public sealed record PlanContext
{
    public IReadOnlyList<string> Containers { get; init; } = [];

    public IReadOnlyList<string> Images { get; init; } = [];

    public string? ServiceAccount { get; init; }

    public IReadOnlyList<string> MountedSecrets { get; init; } = [];

    public string? Node { get; init; }

    /// <summary>For a node: the pods on it (namespace/name).</summary>
    public IReadOnlyList<string> PodsOnNode { get; init; } = [];

    /// <summary>For a secret: the workloads that mount it (Kind/namespace/name).</summary>
    public IReadOnlyList<string> Mounters { get; init; } = [];

    /// <summary>For a secret: the subjects RBAC lets read it (get it by name, or list or watch secrets in its namespace), with the binding.</summary>
    public IReadOnlyList<string> Readers { get; init; } = [];

    /// <summary>For an identity: the bindings that name it (Kind/namespace/name).</summary>
    public IReadOnlyList<string> Bindings { get; init; } = [];
}
