using Skjold.Engine.Checks;

namespace Skjold.Engine.Workloads;

/// <summary>A Skjold check over one resource (and, where it needs them, the other resources in the scan).</summary>
internal abstract class WorkloadCheck
{
    public abstract string Id { get; }

    public abstract void Evaluate(EvaluationInput input, ViolationSink report);
}
