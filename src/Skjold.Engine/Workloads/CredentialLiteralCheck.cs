using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Workloads;

/// <summary>Literal env values that look like passwords, tokens or keys. The value is never repeated in the message.</summary>
internal sealed class CredentialLiteralCheck : WorkloadCheck
{
    public override string Id => "wl/credential-literal";

    public override void Evaluate(EvaluationInput input, ViolationSink report)
    {
        if (input.Pod is not { } pod)
        {
            return;
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            if (c.Env.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            var j = 0;
            foreach (var e in c.Env.EnumerateArray())
            {
                var name = Json.GetString(e, "name") ?? string.Empty;
                var value = Json.GetString(e, "value");
                if (value is not null && CredentialPatterns.LooksLikeCredential(name, value))
                {
                    report.Report(JsonPath.Child(JsonPath.Index(JsonPath.Child(c.Path, "env"), j), "value"),
                        $"container \"{c.DisplayName}\" env {name} holds a literal value that looks like a credential");
                }

                j++;
            }
        }
    }
}
