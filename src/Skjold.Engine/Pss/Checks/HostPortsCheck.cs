using System.Globalization;
using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss.Checks;

/// <summary>Containers must not bind host ports.</summary>
internal sealed class HostPortsCheck : PssCheck
{
    public override string Name => "hostPorts";

    public override PssLevel Level => PssLevel.Baseline;

    public override void Evaluate(PodTemplateView pod, int minor, ViolationSink report)
    {
        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            if (c.Ports.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            var j = 0;
            foreach (var port in c.Ports.EnumerateArray())
            {
                var hostPort = Json.GetInt64(Json.Get(port, "hostPort"u8));
                if (hostPort is { } hp && hp != 0)
                {
                    report.Report(JsonPath.Child(JsonPath.Index(JsonPath.Child(c.Path, "ports"), j), "hostPort"), "hostPort",
                        $"{ContainerLabel(c)} uses hostPort {hp.ToString(CultureInfo.InvariantCulture)}");
                }

                j++;
            }
        }
    }
}
