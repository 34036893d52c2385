using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Workloads;

/// <summary>Secrets consumed as environment variables (env valueFrom.secretKeyRef or envFrom secretRef).</summary>
internal sealed class SecretEnvCheck : WorkloadCheck
{
    public override string Id => "wl/secret-env";

    public override void Evaluate(EvaluationInput input, ViolationSink report)
    {
        if (input.Pod is not { } pod)
        {
            return;
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            if (c.Env.ValueKind == JsonValueKind.Array)
            {
                var j = 0;
                foreach (var e in c.Env.EnumerateArray())
                {
                    var secretRef = Json.Get(Json.Get(e, "valueFrom"u8), "secretKeyRef"u8);
                    if (secretRef.ValueKind == JsonValueKind.Object)
                    {
                        report.Report(JsonPath.Child(JsonPath.Index(JsonPath.Child(c.Path, "env"), j), "valueFrom", "secretKeyRef"),
                            $"container \"{c.DisplayName}\" reads secret \"{Json.GetString(secretRef, "name")}\" into env {Json.GetString(e, "name")}");
                    }

                    j++;
                }
            }

            if (c.EnvFrom.ValueKind == JsonValueKind.Array)
            {
                var j = 0;
                foreach (var e in c.EnvFrom.EnumerateArray())
                {
                    var secretRef = Json.Get(e, "secretRef"u8);
                    if (secretRef.ValueKind == JsonValueKind.Object)
                    {
                        report.Report(JsonPath.Child(JsonPath.Index(JsonPath.Child(c.Path, "envFrom"), j), "secretRef"),
                            $"container \"{c.DisplayName}\" loads every key of secret \"{Json.GetString(secretRef, "name")}\" into its environment");
                    }

                    j++;
                }
            }
        }
    }
}
