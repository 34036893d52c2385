using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Skjold.Detection.Skjold;

/// <summary>The fields of one audit event the stateful rules read, extracted once.</summary>
internal readonly record struct AuditFacts(
    string? User, IReadOnlyList<string> Groups, string? Verb, string? ApiGroup, string? Resource, string? Subresource, string? Namespace, string? Name,
    int Code, IPAddress? SourceIp, string? Decision, string? Stage, string? BoundPod, JsonElement Event)
{
    public bool Succeeded => Code is >= 200 and < 400;

    public bool IsServiceAccount => User?.StartsWith("system:serviceaccount:", StringComparison.Ordinal) == true;

    public static AuditFacts From(JsonElement e)
    {
        static string? S(JsonElement o, string name) => o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var user = e.TryGetProperty("user", out var u) ? u : default;
        var obj = e.TryGetProperty("objectRef", out var o) ? o : default;
        var groups = new List<string>();
        string? pod = null;
        if (user.ValueKind == JsonValueKind.Object)
        {
            if (user.TryGetProperty("groups", out var g) && g.ValueKind == JsonValueKind.Array)
            {
                groups.AddRange(g.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!));
            }

            if (user.TryGetProperty("extra", out var extra) && extra.ValueKind == JsonValueKind.Object
                && extra.TryGetProperty("authentication.kubernetes.io/pod-name", out var p) && p.ValueKind == JsonValueKind.Array && p.GetArrayLength() > 0)
            {
                pod = p[0].ValueKind == JsonValueKind.String ? p[0].GetString() : null;
            }
        }

        var code = 0;
        if (e.TryGetProperty("responseStatus", out var rs) && rs.ValueKind == JsonValueKind.Object && rs.TryGetProperty("code", out var c))
        {
            code = c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out var n) ? n
                : c.ValueKind == JsonValueKind.String && int.TryParse(c.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out n) ? n : 0;
        }

        IPAddress? ip = null;
        if (e.TryGetProperty("sourceIPs", out var ips) && ips.ValueKind == JsonValueKind.Array && ips.GetArrayLength() > 0 && ips[0].ValueKind == JsonValueKind.String)
        {
            IPAddress.TryParse(ips[0].GetString(), out ip);
        }

        string? decision = null;
        if (e.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object)
        {
            decision = S(a, "authorization.k8s.io/decision");
        }

        return new AuditFacts(S(user, "username"), groups, S(e, "verb"), S(obj, "apiGroup"), S(obj, "resource"), S(obj, "subresource"), S(obj, "namespace"), S(obj, "name"),
            code, ip, decision, S(e, "stage"), pod, e);
    }
}
