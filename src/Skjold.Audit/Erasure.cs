using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Skjold.Audit.Events;
using Skjold.Audit.Storage;

namespace Skjold.Audit;

/// <summary>
/// GDPR Article 17 erasure without breaking proofs: a person's identifying fields in the stored
/// events (user name, UID and extra attributes, the same fields of an impersonated user, source
/// IPs and user agent) are replaced with a keyed hash under the log's redaction key, and the
/// erasure is recorded in the log with the leaves it changed and a digest of their new payloads.
/// Leaf hashes stay, so every proof still verifies; a verifier accepts a changed payload only where
/// an erasure record covers it and the digest matches. The same person's events stay linkable by
/// the hash (pseudonymised) without being readable.
/// </summary>
public sealed class Erasure(AuditLog log)
{
    public async Task<RedactionOutcome> EraseAsync(string user, string reason, bool dryRun, CancellationToken ct)
    {
        var redactor = new KeyedRedactor(log.Keys.RedactionKey);
        var outcome = await log.Store.EraseAsync(user, payload => Rewrite(payload, user, redactor), dryRun, ct).ConfigureAwait(false);
        if (dryRun || outcome.Count == 0)
        {
            return outcome;
        }

        var details = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [Retention.RecordPrefix + "erase.subject"] = redactor.Hash(user),
            [Retention.RecordPrefix + "erase.reason"] = reason,
            [Retention.RecordPrefix + "erase.count"] = outcome.Count.ToString(CultureInfo.InvariantCulture),
            [Retention.RecordPrefix + "erase.leaves"] = outcome.Ranges,
            [Retention.RecordPrefix + "erase.digest"] = outcome.Digest,
        };
        await log.RecordSystemEventAsync("erase", $"erasure replaced the identifying fields of {outcome.Count} events with keyed hashes", details, ct).ConfigureAwait(false);
        return outcome;
    }

    /// <summary>The event with the person's identifying fields replaced by keyed hashes, canonical again.</summary>
    public static byte[] Rewrite(byte[] payload, string user, KeyedRedactor redactor)
    {
        var root = JsonNode.Parse(payload)!.AsObject();
        string H(string v) => v.StartsWith(KeyedRedactor.Prefix, StringComparison.Ordinal) ? v : redactor.Hash(v);
        void ErasePerson(JsonObject? person)
        {
            if (person is null)
            {
                return;
            }

            foreach (var field in new[] { "username", "uid" })
            {
                if (person[field] is JsonValue v && v.TryGetValue<string>(out var s))
                {
                    person[field] = H(s);
                }
            }

            if (person["extra"] is JsonObject extra)
            {
                foreach (var key in extra.Select(p => p.Key).ToList())
                {
                    if (extra[key] is JsonArray values)
                    {
                        extra[key] = new JsonArray([.. values.Select(x => (JsonNode?)(x is JsonValue xv && xv.TryGetValue<string>(out var s) ? H(s) : null))]);
                    }
                }
            }
        }

        ErasePerson(root["user"] as JsonObject);
        if (root["impersonatedUser"] is JsonObject imp && imp["username"]?.GetValue<string>() == user)
        {
            ErasePerson(imp);
        }

        if (root["sourceIPs"] is JsonArray ips)
        {
            root["sourceIPs"] = new JsonArray([.. ips.Select(x => (JsonNode?)(x is JsonValue xv && xv.TryGetValue<string>(out var s) ? H(s) : null))]);
        }

        if (root["userAgent"] is JsonValue ua && ua.TryGetValue<string>(out var agent))
        {
            root["userAgent"] = H(agent);
        }

        using var doc = JsonDocument.Parse(root.ToJsonString());
        return CanonicalJson.Serialize(doc.RootElement);
    }
}
