using Skjold.Engine.Model;
using Skjold.Engine.Policy;
using Skjold.Engine.Pss;

namespace Skjold.Engine.Workloads;

/// <summary>What a check sees: the resource, its pod template when it has one, the policy and the scan's index.</summary>
internal sealed class EvaluationInput
{
    public required Resource Resource { get; set; }

    public PodTemplateView? Pod { get; set; }

    public required ScanPolicy Policy { get; set; }

    public required ResourceIndex Index { get; set; }

    public string Kind => Resource.Ref.Kind;

    /// <summary>True for kinds whose pods run to completion (Jobs, CronJobs and pods they own).</summary>
    public bool IsBatch =>
        Kind is "Job" or "CronJob" || (Kind == "Pod" && ResourceIndex.ControllerKind(Resource) is "Job");
}
