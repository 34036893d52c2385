using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Skjold.Detection.Skjold;

/// <summary>
/// The fields of one audit event the stateful rules read. The few every rule looks at first
/// (verb, resource, code, stage) are read up front; the rest when a rule asks, once.
/// </summary>
internal sealed class AuditFacts
{
    private readonly JsonElement _user;
    private readonly JsonElement _obj;
    private string? _userName;
    private string? _namespace;
    private string? _name;
    private string? _apiGroup;
    private string? _subresource;
    private IReadOnlyList<string>? _groups;
    private IPAddress? _ip;
    private bool _userRead, _nsRead, _nameRead, _groupRead, _subRead, _ipRead;

    private AuditFacts(JsonElement e)
    {
        Event = e;
        _user = e.TryGetProperty("user", out var u) ? u : default;
        _obj = e.TryGetProperty("objectRef", out var o) ? o : default;
        Verb = S(e, "verb");
        Resource = S(_obj, "resource");
        Stage = S(e, "stage");
        if (e.TryGetProperty("responseStatus", out var rs) && rs.ValueKind == JsonValueKind.Object && rs.TryGetProperty("code", out var c))
        {
            Code = c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out var n) ? n
                : c.ValueKind == JsonValueKind.String && int.TryParse(c.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out n) ? n : 0;
        }
    }

    public static AuditFacts From(JsonElement e) => new(e);

    public JsonElement Event { get; }

    public string? Verb { get; }

    public string? Resource { get; }

    public string? Stage { get; }

    public int Code { get; }

    public string? User => Read(ref _userRead, ref _userName, _user, "username");

    public string? Namespace => Read(ref _nsRead, ref _namespace, _obj, "namespace");

    public string? Name => Read(ref _nameRead, ref _name, _obj, "name");

    public string? Subresource => Read(ref _subRead, ref _subresource, _obj, "subresource");

    public string? ApiGroup => _apiGroup ??= S(_obj, "apiGroup") ?? "";

    public IReadOnlyList<string> Groups => Lazy(ref _groupRead, ref _groups, () =>
        _user.ValueKind == JsonValueKind.Object && _user.TryGetProperty("groups", out var g) && g.ValueKind == JsonValueKind.Array
            ? g.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToList()
            : []) ?? [];

    public IPAddress? SourceIp => Lazy(ref _ipRead, ref _ip, () =>
        Event.TryGetProperty("sourceIPs", out var ips) && ips.ValueKind == JsonValueKind.Array && ips.GetArrayLength() > 0 && ips[0].ValueKind == JsonValueKind.String
            && (IPAddress.TryParse(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(ips[0]), out var ip) // no string for the address
                || IPAddress.TryParse(ips[0].GetString(), out ip)) ? ip : null); // an escaped address

    /// <summary>
    /// The request succeeded: 2xx and 3xx, and 101 Switching Protocols, which is how the API server records an
    /// exec, attach or port-forward whose stream was opened (SPDY or WebSocket upgrade).
    /// </summary>
    public bool Succeeded => Code is 101 or (>= 200 and < 400);

    public bool IsServiceAccount => User?.StartsWith("system:serviceaccount:", StringComparison.Ordinal) == true;

    private static string? Read(ref bool read, ref string? value, JsonElement o, string name)
    {
        if (!read)
        {
            value = S(o, name);
            read = true;
        }

        return value;
    }

    private static T? Lazy<T>(ref bool read, ref T? value, Func<T?> get)
        where T : class
    {
        if (!read)
        {
            value = get();
            read = true;
        }

        return value;
    }

    private static string? S(JsonElement o, string name) => o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
