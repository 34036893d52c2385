using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss.Checks;

/// <summary>From v1.34, probes and lifecycle handlers must not name a host to connect to.</summary>
internal sealed class HostProbesAndHostLifecycleCheck : PssCheck
{
    public override string Name => "hostProbesAndHostLifecycle";

    public override PssLevel Level => PssLevel.Baseline;

    public override int MinMinor => 34;

    public override void Evaluate(PodTemplateView pod, int minor, ViolationSink report)
    {
        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            CheckHandler(c, c.LivenessProbe, "livenessProbe", report);
            CheckHandler(c, c.ReadinessProbe, "readinessProbe", report);
            CheckHandler(c, c.StartupProbe, "startupProbe", report);
            if (c.Lifecycle.ValueKind == JsonValueKind.Object)
            {
                CheckHandler(c, Json.Get(c.Lifecycle, "postStart"u8), "lifecycle.postStart", report);
                CheckHandler(c, Json.Get(c.Lifecycle, "preStop"u8), "lifecycle.preStop", report);
            }
        }
    }

    private static void CheckHandler(ContainerView c, JsonElement handler, string field, ViolationSink report)
    {
        if (handler.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        Check(c, Json.Get(Json.Get(handler, "httpGet"u8), "host"u8), field + ".httpGet.host", report);
        Check(c, Json.Get(Json.Get(handler, "tcpSocket"u8), "host"u8), field + ".tcpSocket.host", report);
    }

    private static void Check(ContainerView c, JsonElement host, string field, ViolationSink report)
    {
        if (Json.IsNonEmptyString(host))
        {
            report.Report(c.Path + "." + field, "probe or lifecycle host",
                $"{ContainerLabel(c)} must not set {field} to {Quote(host.GetString()!)}");
        }
    }
}
