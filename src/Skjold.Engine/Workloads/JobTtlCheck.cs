using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Workloads;

/// <summary>Jobs (and CronJob job templates) set ttlSecondsAfterFinished. Jobs owned by a CronJob are judged through it.</summary>
internal sealed class JobTtlCheck : WorkloadCheck
{
    public override string Id => "wl/job-ttl";

    public override void Evaluate(EvaluationInput input, ViolationSink report)
    {
        var root = input.Resource.Root;
        if (input.Kind == "Job" && ResourceIndex.ControllerKind(input.Resource) is null
            && !Json.Exists(Json.Get(Json.Get(root, "spec"u8), "ttlSecondsAfterFinished"u8)))
        {
            report.Report("spec.ttlSecondsAfterFinished", "Job does not set ttlSecondsAfterFinished");
        }
        else if (input.Kind == "CronJob"
            && !Json.Exists(Json.Get(Json.Get(Json.Get(Json.Get(root, "spec"u8), "jobTemplate"u8), "spec"u8), "ttlSecondsAfterFinished"u8)))
        {
            report.Report("spec.jobTemplate.spec.ttlSecondsAfterFinished", "CronJob's job template does not set ttlSecondsAfterFinished");
        }
    }
}
