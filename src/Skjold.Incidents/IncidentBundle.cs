using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Skjold.Audit;
using Skjold.Audit.Events;
using Skjold.Audit.Export;
using Skjold.Audit.Signing;

namespace Skjold.Incidents;

/// <summary>
/// An incident's signed evidence bundle (<c>skjold-incident-bundle/v1</c>, of the audit bundle's family): the
/// incident as recorded, its deadlines, its merged timeline, the hashes of the evidence files, and an audit bundle
/// of every leaf the timeline cites (each event with its inclusion proof against a signed tree head), all signed
/// with the trail's key. Verification needs only the public key: it checks the signature, every proof, and that
/// the incident described is what its sealed events fold to.
/// </summary>
public static class IncidentBundle
{
    public const string Format = "skjold-incident-bundle/v1";

    public static async Task<JsonObject> ExportAsync(AuditLog log, Incident incident, IReadOnlyList<TimelineItem> timeline, Nis2Entity nis2, string? evidenceDirectory, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(incident);
        var leaves = timeline.Select(t => t.Leaf).Concat(incident.Timeline.Select(e => e.Leaf)).ToList();
        var trail = await AuditBundle.ExportLeavesAsync(log, leaves, time, ct).ConfigureAwait(false);
        var evidence = new JsonArray();
        if (evidenceDirectory is not null && Directory.Exists(Path.Combine(evidenceDirectory, incident.Id)))
        {
            foreach (var file in Directory.GetFiles(Path.Combine(evidenceDirectory, incident.Id)).Order(StringComparer.Ordinal))
            {
                await using var stream = File.OpenRead(file);
                evidence.Add((JsonNode)new JsonObject { ["file"] = Path.GetFileName(file), ["sha256"] = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct).ConfigureAwait(false)) });
            }
        }

        var bundle = new JsonObject
        {
            ["format"] = Format,
            ["exportedAt"] = time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["keyId"] = log.Keys.KeyId,
            ["incident"] = Summary(incident),
            ["deadlines"] = new JsonArray([.. ReportingClocks.For(incident, nis2).Select(d => (JsonNode)new JsonObject
            {
                ["regime"] = d.Regime,
                ["what"] = d.What,
                ["due"] = d.Due.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
                ["applies"] = d.Applies,
                ["why"] = d.Why,
            })]),
            ["timeline"] = new JsonArray([.. timeline.Select(t => (JsonNode)new JsonObject
            {
                ["at"] = t.At.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
                ["source"] = t.Source,
                ["leaf"] = t.Leaf,
                ["text"] = t.Text,
            })]),
            ["evidence"] = evidence,
            ["trail"] = trail,
        };
        bundle["signature"] = Convert.ToBase64String(log.Keys.SignData(SignedContent(bundle)));
        return bundle;
    }

    /// <summary>The problems found (none: the bundle is intact and says what the trail says).</summary>
    public static IReadOnlyList<string> Verify(JsonElement bundle, TreeHeadVerifier key, string? evidenceDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        var problems = new List<string>();
        if (bundle.ValueKind != JsonValueKind.Object || !bundle.TryGetProperty("format", out var f) || f.GetString() != Format)
        {
            return [$"not a {Format} bundle"];
        }

        var node = JsonNode.Parse(bundle.GetRawText())!.AsObject();
        var signature = node["signature"]?.GetValue<string>();
        node.Remove("signature");
        byte[] sig;
        try
        {
            sig = Convert.FromBase64String(signature ?? "");
        }
        catch (FormatException)
        {
            sig = [];
        }

        if (signature is null || !key.VerifyData(SignedContent(node), sig))
        {
            problems.Add("the bundle's signature is not valid for this public key: it was altered or signed by another key");
        }

        var trail = bundle.GetProperty("trail");
        foreach (var p in AuditBundle.Verify(trail, key).Problems)
        {
            problems.Add($"trail: {p.Message}");
        }

        // The incident described must be what its sealed events fold to.
        var id = bundle.GetProperty("incident").GetProperty("id").GetString();
        var events = new List<IncidentEvents.Sealed>();
        foreach (var e in trail.GetProperty("events").EnumerateArray())
        {
            var ev = e.GetProperty("event");
            var verb = ev.TryGetProperty("verb", out var v) ? v.GetString() ?? "" : "";
            if (!verb.StartsWith("incident-", StringComparison.Ordinal) || !ev.TryGetProperty("annotations", out var a))
            {
                continue;
            }

            var fields = a.EnumerateObject().Where(x => x.Value.ValueKind == JsonValueKind.String).ToDictionary(x => x.Name, x => x.Value.GetString()!, StringComparer.Ordinal);
            if (fields.GetValueOrDefault(IncidentEvents.Prefix + "incident-id") != id)
            {
                continue;
            }

            var at = DateTimeOffset.Parse(ev.GetProperty("stageTimestamp").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            events.Add(new IncidentEvents.Sealed(e.GetProperty("index").GetInt64(), at, verb, fields));
        }

        var folded = IncidentEvents.Fold(events.OrderBy(e => e.Leaf));
        if (folded is null)
        {
            problems.Add($"the trail in the bundle holds no opening of incident {id}");
        }
        else if (!JsonNode.DeepEquals(Summary(folded), JsonNode.Parse(bundle.GetProperty("incident").GetRawText())))
        {
            problems.Add($"the incident described is not what its sealed events say (status, owner, severity, resolution or timeline differ)");
        }

        if (evidenceDirectory is not null && id is not null)
        {
            foreach (var e in bundle.GetProperty("evidence").EnumerateArray())
            {
                var file = Path.Combine(evidenceDirectory, id, Path.GetFileName(e.GetProperty("file").GetString()!));
                if (!File.Exists(file))
                {
                    problems.Add($"evidence {Path.GetFileName(file)} is missing");
                }
                else if (Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file))) != e.GetProperty("sha256").GetString())
                {
                    problems.Add($"evidence {Path.GetFileName(file)} does not match its hash: it was changed");
                }
            }
        }

        return problems;
    }

    private static JsonObject Summary(Incident i) => new()
    {
        ["id"] = i.Id,
        ["type"] = IncidentTypes.Name(i.Type),
        ["targets"] = new JsonArray([.. i.Targets.Select(t => (JsonNode)t.ToString())]),
        ["severity"] = i.Severity,
        ["awareAt"] = i.AwareAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        ["owner"] = i.Owner,
        ["status"] = i.Status.ToString().ToLowerInvariant(),
        ["personalData"] = i.PersonalData.Involved switch { true => "yes", false => "no", _ => "unknown" },
        ["personalDataReasoning"] = i.PersonalData.Reasoning,
        ["resolution"] = i.Resolution,
        ["entries"] = i.Timeline.Count,
        ["appliedSteps"] = new JsonArray([.. i.AppliedSteps.Order().Select(s => (JsonNode)s)]),
    };

    private static byte[] SignedContent(JsonObject bundleWithoutSignature)
    {
        using var doc = JsonDocument.Parse(bundleWithoutSignature.ToJsonString());
        return SHA256.HashData(CanonicalJson.Serialize(doc.RootElement));
    }
}
