using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Skjold.SupplyChain.Inventory;

/// <summary>
/// The inventory as a CycloneDX 1.5 JSON BOM for an auditor: one <c>container</c> component per image (purl
/// <c>pkg:oci/NAME@DIGEST?repository_url=...&amp;tag=...</c>, SHA-256 hash), with Skjold's findings about it as
/// properties (<c>skjold:location</c>, <c>skjold:signature</c>, <c>skjold:signed-by</c>, <c>skjold:vulnerabilities</c>,
/// <c>skjold:registry-region</c>).
/// </summary>
public static class CycloneDxInventory
{
    public static string Write(IReadOnlyList<InventoryEntry> entries, string toolVersion, DateTimeOffset now, string? subject = null)
    {
        var components = new JsonArray();
        foreach (var e in entries)
        {
            var name = e.Repository.Contains('/', StringComparison.Ordinal) ? e.Repository[(e.Repository.LastIndexOf('/') + 1)..] : e.Repository;
            var query = $"repository_url={Uri.EscapeDataString(e.Registry + "/" + e.Repository)}" + (e.Tag is null ? "" : "&tag=" + Uri.EscapeDataString(e.Tag));
            var purl = e.Digest is null ? $"pkg:oci/{name}?{query}" : $"pkg:oci/{name}@{Uri.EscapeDataString(e.Digest)}?{query}";
            var properties = new JsonArray();
            foreach (var l in e.Locations)
            {
                properties.Add(Property("skjold:location", $"{l.Kind}/{l.Namespace ?? "-"}/{l.Name}/{l.Container}"));
            }

            properties.Add(Property("skjold:signature", e.Signature));
            if (e.SignedBy is { Length: > 0 } by)
            {
                properties.Add(Property("skjold:signed-by", by));
            }

            properties.Add(Property("skjold:vulnerabilities", e.Vulnerabilities));
            properties.Add(Property("skjold:registry-region", e.Region));
            if (e.RegionInEea is { } eea)
            {
                properties.Add(Property("skjold:registry-in-eea", eea ? "true" : "false"));
            }

            var component = new JsonObject
            {
                ["type"] = "container",
                ["bom-ref"] = purl,
                ["name"] = $"{e.Registry}/{e.Repository}",
                ["version"] = e.Digest ?? e.Tag ?? "",
                ["purl"] = purl,
            };
            if (e.Digest is { } d && d.StartsWith("sha256:", StringComparison.Ordinal))
            {
                component["hashes"] = new JsonArray(new JsonObject { ["alg"] = "SHA-256", ["content"] = d[7..] });
            }

            component["properties"] = properties;
            components.Add((JsonNode)component);
        }

        var bom = new JsonObject
        {
            ["bomFormat"] = "CycloneDX",
            ["specVersion"] = "1.5",
            ["serialNumber"] = "urn:uuid:" + Guid.NewGuid().ToString(),
            ["version"] = 1,
            ["metadata"] = new JsonObject
            {
                ["timestamp"] = now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                ["tools"] = new JsonObject { ["components"] = new JsonArray(new JsonObject { ["type"] = "application", ["name"] = "skjold", ["version"] = toolVersion }) },
                ["component"] = new JsonObject { ["type"] = "platform", ["name"] = subject ?? "kubernetes cluster", ["bom-ref"] = "skjold:subject" },
            },
            ["components"] = components,
        };
        return bom.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    private static JsonNode Property(string name, string value) => new JsonObject { ["name"] = name, ["value"] = value };
}
