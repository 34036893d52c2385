using Skjold.Engine.Checks;

namespace Skjold.Engine.Workloads;

/// <summary>Workloads placed in the default namespace.</summary>
internal sealed class DefaultNamespaceCheck : WorkloadCheck
{
    public override string Id => "wl/default-namespace";

    public override void Evaluate(EvaluationInput input, ViolationSink report)
    {
        if ((input.Pod is not null || input.Kind == "Service") && input.Resource.Ref.Namespace == "default" && !input.Resource.NamespaceDefaulted)
        {
            report.Report("metadata.namespace", $"{input.Kind} is in the default namespace");
        }
    }
}
