using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Workloads;

/// <summary>Containers drop NET_RAW (directly or with ALL).</summary>
internal sealed class NetRawCheck : WorkloadCheck
{
    public override string Id => "wl/net-raw";

    public override void Evaluate(EvaluationInput input, ViolationSink report)
    {
        if (input.Pod is not { } pod || pod.IsWindows)
        {
            return;
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            if (!DropsNetRaw(c.SecurityContext.CapDrop))
            {
                report.Report(c.SecurityContextPath("capabilities") + ".drop",
                    $"container \"{c.DisplayName}\" does not drop NET_RAW");
            }
        }
    }

    private static bool DropsNetRaw(JsonElement drop)
    {
        if (drop.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var d in drop.EnumerateArray())
        {
            var s = Json.AsString(d);
            if (s is not null && (s.Equals("ALL", StringComparison.OrdinalIgnoreCase)
                || s.Equals("NET_RAW", StringComparison.OrdinalIgnoreCase)
                || s.Equals("CAP_NET_RAW", StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }
}
