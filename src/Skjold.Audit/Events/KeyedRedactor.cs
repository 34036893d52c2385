using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Skjold.Audit.Events;

/// <summary>
/// Replaces secret values with a keyed hash before an event is sealed, so the trail proves that a
/// value changed (or did not) without holding it: each value of a Secret's <c>data</c> and
/// <c>stringData</c>, and its <c>last-applied-configuration</c> annotation (which repeats them), in
/// <c>requestObject</c> and <c>responseObject</c>, for single Secrets and SecretLists; plus the
/// configured extra fields of other resources. The hash is HMAC-SHA256 under the audit log's
/// redaction key: <c>hmac-sha256:</c> followed by 64 hex digits.
/// </summary>
public sealed class KeyedRedactor : IRedactor
{
    public const string Prefix = "hmac-sha256:";
    private const string LastApplied = "kubectl.kubernetes.io/last-applied-configuration";

    private readonly byte[] _key;
    private readonly IReadOnlyList<RedactionRule> _rules;
    private string? _eventResource;
    private bool _requestIsSecret;
    private bool _responseIsSecret;

    public KeyedRedactor(byte[] key, IReadOnlyList<RedactionRule>? rules = null)
    {
        if (key.Length < 16)
        {
            throw new ArgumentException("the redaction key must be at least 16 bytes", nameof(key));
        }

        _key = key;
        _rules = rules ?? [];
        foreach (var r in _rules)
        {
            foreach (var f in r.Fields)
            {
                PathTracker.RegisterName(f);
            }
        }
    }

    /// <summary>Sets the resource named by the event's objectRef (Secrets are recognised by it too).</summary>
    public void BeginEvent(JsonElement auditEvent)
    {
        _eventResource = auditEvent.TryGetProperty("objectRef"u8, out var o) && o.ValueKind == JsonValueKind.Object
            && o.TryGetProperty("resource"u8, out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        _requestIsSecret = _eventResource == "secrets" || IsSecretKind(auditEvent, "requestObject"u8);
        _responseIsSecret = _eventResource == "secrets" || IsSecretKind(auditEvent, "responseObject"u8);
    }

    private static bool IsSecretKind(JsonElement auditEvent, ReadOnlySpan<byte> member) =>
        auditEvent.TryGetProperty(member, out var obj) && obj.ValueKind == JsonValueKind.Object
        && obj.TryGetProperty("kind"u8, out var kind) && kind.ValueKind == JsonValueKind.String
        && (kind.ValueEquals("Secret"u8) || kind.ValueEquals("SecretList"u8));

    public string Hash(string value)
    {
        var mac = HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(value));
        return Prefix + Convert.ToHexStringLower(mac);
    }

    public bool TryRedact(PathTracker path, JsonElement value, out string replacement)
    {
        replacement = string.Empty;
        // requestObject.<field>.<key> or responseObject.items.<i>.<field>.<key>
        if (path.Depth < 3 || !(path.Is(0, "requestObject") || path.Is(0, "responseObject")))
        {
            return false;
        }

        var objectDepth = path.Is(1, "items") && path.IsIndex(2) ? 3 : 1;
        if (path.Depth != objectDepth + 2 && !(path.Depth == objectDepth + 3 && path.Is(objectDepth, "metadata")))
        {
            return false;
        }

        var resource = _eventResource;
        var field = path.Name(objectDepth);
        if (path.Is(0, "requestObject") ? _requestIsSecret : _responseIsSecret)
        {
            if ((field is "data" or "stringData") && path.Depth == objectDepth + 2)
            {
                replacement = Hash(value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText());
                return true;
            }

            if (field == "metadata" && path.Is(objectDepth + 1, "annotations") && path.Is(objectDepth + 2, LastApplied))
            {
                replacement = Hash(value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText());
                return true;
            }

            return false;
        }

        foreach (var rule in _rules)
        {
            if (resource is not null && rule.Resources.Contains(resource) && field is not null && rule.Fields.Contains(field) && path.Depth == objectDepth + 2)
            {
                replacement = Hash(value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText());
                return true;
            }
        }

        return false;
    }
}
