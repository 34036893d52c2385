using System.Collections.Frozen;
using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss.Checks;

/// <summary>Only namespaced, isolated sysctls are allowed; the allowed set grows by version.</summary>
internal sealed class SysctlsCheck : PssCheck
{
    // (minor version from which the sysctl is allowed, name)
    private static readonly FrozenDictionary<string, int> AllowedSince = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["kernel.shm_rmid_forced"] = 0,
        ["net.ipv4.ip_local_port_range"] = 0,
        ["net.ipv4.tcp_syncookies"] = 0,
        ["net.ipv4.ping_group_range"] = 0,
        ["net.ipv4.ip_unprivileged_port_start"] = 0,
        ["net.ipv4.ip_local_reserved_ports"] = 27,
        ["net.ipv4.tcp_keepalive_time"] = 29,
        ["net.ipv4.tcp_fin_timeout"] = 29,
        ["net.ipv4.tcp_keepalive_intvl"] = 29,
        ["net.ipv4.tcp_keepalive_probes"] = 29,
        ["net.ipv4.tcp_rmem"] = 32,
        ["net.ipv4.tcp_wmem"] = 32,
        ["net.ipv4.tcp_slow_start_after_idle"] = 37,
        ["net.ipv4.tcp_notsent_lowat"] = 37,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public override string Name => "sysctls";

    public override PssLevel Level => PssLevel.Baseline;

    public static bool IsAllowed(string name, int minor) => AllowedSince.TryGetValue(name, out var since) && minor >= since;

    public override void Evaluate(PodTemplateView pod, int minor, ViolationSink report)
    {
        var sysctls = pod.PodSecurityContext.Sysctls;
        if (sysctls.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var i = 0;
        foreach (var s in sysctls.EnumerateArray())
        {
            var name = Json.GetString(s, "name") ?? string.Empty;
            if (!IsAllowed(name, minor))
            {
                report.Report(JsonPath.Child(JsonPath.Index(pod.PodSecurityContextPath("sysctls"), i), "name"),
                    "forbidden sysctls", "pod must not set sysctl " + Quote(name));
            }

            i++;
        }
    }
}
