using System.Collections.Frozen;
using Skjold.Engine.Model;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Skjold.Engine.Checks;

/// <summary>
/// The metadata of every check, from <c>Data/checks.yaml</c> (compiled into code). One place per
/// check: id, title, severity, description, remediation and framework controls.
/// </summary>
public sealed class CheckCatalog
{
    private readonly FrozenDictionary<string, CheckMetadata> _byId;

    private CheckCatalog(IReadOnlyList<CheckMetadata> checks)
    {
        All = checks;
        _byId = checks.ToFrozenDictionary(c => c.Id, StringComparer.Ordinal);
    }

    public static CheckCatalog Default { get; } = LoadEmbedded();

    public IReadOnlyList<CheckMetadata> All { get; }

    public CheckMetadata this[string id] =>
        _byId.TryGetValue(id, out var m) ? m : throw new KeyNotFoundException($"check '{id}' is not in the catalog");

    public bool TryGet(string id, out CheckMetadata metadata) => _byId.TryGetValue(id, out metadata!);

    public bool Contains(string id) => _byId.ContainsKey(id);

    /// <summary>Parses catalog YAML; throws <see cref="FormatException"/> naming the bad entry.</summary>
    public static CheckCatalog Parse(string yaml)
    {
        var deserializer = new StaticDeserializerBuilder(new CatalogYamlContext()).WithNamingConvention(CamelCaseNamingConvention.Instance).Build();
        var doc = deserializer.Deserialize<CatalogDocument>(yaml) ?? new CatalogDocument();
        var list = new List<CheckMetadata>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in doc.Checks)
        {
            if (string.IsNullOrWhiteSpace(c.Id))
            {
                throw new FormatException("check catalog: an entry has no id");
            }

            if (!seen.Add(c.Id))
            {
                throw new FormatException($"check catalog: duplicate id '{c.Id}'");
            }

            if (!SeverityNames.TryParse(c.Severity, out var severity))
            {
                throw new FormatException($"check catalog: '{c.Id}' has severity '{c.Severity}', expected one of {SeverityNames.AllowedList}");
            }

            if (string.IsNullOrWhiteSpace(c.Title) || string.IsNullOrWhiteSpace(c.Remediation))
            {
                throw new FormatException($"check catalog: '{c.Id}' needs a title and a remediation");
            }

            var controls = c.Controls.ToDictionary(
                kv => kv.Key,
                kv => (IReadOnlyList<string>)kv.Value.ToArray(),
                StringComparer.Ordinal);
            list.Add(new CheckMetadata(c.Id, c.Title, severity.Value, c.Category ?? string.Empty, c.Description ?? string.Empty,
                c.Remediation, c.DefaultEnabled ?? true, controls)
            {
                Reads = ExpandReads(c, doc.KindGroups),
                Requires = CheckRequires(c),
            });
        }

        return new CheckCatalog(list);
    }

    private static List<string> ExpandReads(CatalogEntry c, Dictionary<string, List<string>> groups)
    {
        if (c.Reads is null || (c.Reads.Count == 0 && (c.Requires?.Count ?? 0) == 0))
        {
            throw new FormatException($"check catalog: '{c.Id}' needs reads: (the kinds it looks at) or requires:");
        }

        var kinds = new List<string>();
        foreach (var r in c.Reads)
        {
            if (r is CheckMetadata.AnyKind or CheckMetadata.NodeCheck)
            {
                kinds.Add(r);
            }
            else if (groups.TryGetValue(r, out var group))
            {
                kinds.AddRange(group);
            }
            else if (r.Length > 0 && char.IsUpper(r[0]))
            {
                kinds.Add(r);
            }
            else
            {
                throw new FormatException($"check catalog: '{c.Id}' reads '{r}', which is neither a kind (capitalised) nor a group in kindGroups ({string.Join(", ", groups.Keys)})");
            }
        }

        return kinds;
    }

    private static List<string> CheckRequires(CatalogEntry c)
    {
        foreach (var r in c.Requires ?? [])
        {
            if (!Requirements.All.Contains(r))
            {
                throw new FormatException($"check catalog: '{c.Id}' requires '{r}'; known: {string.Join(", ", Requirements.All)}");
            }
        }

        return c.Requires ?? [];
    }

    /// <summary>
    /// The shipped catalog, compiled from Data/checks.yaml into code (CheckCatalogData.g.cs, kept
    /// equal to the YAML by CompiledCatalogTests): no YAML is parsed when a command starts.
    /// </summary>
    private static CheckCatalog LoadEmbedded() => new(CheckCatalogData.Checks());
}

/// <summary>Generated (reflection-free) deserialization of the catalog document.</summary>
[YamlStaticContext]
[YamlSerializable(typeof(CatalogDocument))]
[YamlSerializable(typeof(CatalogEntry))]
public partial class CatalogYamlContext : StaticContext;

internal sealed class CatalogDocument
{
    public List<CatalogEntry> Checks { get; set; } = [];

    public Dictionary<string, List<string>> KindGroups { get; set; } = [];
}

internal sealed class CatalogEntry
{
    public string Id { get; set; } = string.Empty;

    public string Title { get; set; } = string.Empty;

    public string? Severity { get; set; }

    public string? Category { get; set; }

    public string? Description { get; set; }

    public string Remediation { get; set; } = string.Empty;

    public bool? DefaultEnabled { get; set; }

    public Dictionary<string, List<string>> Controls { get; set; } = [];

    public List<string>? Reads { get; set; }

    public List<string>? Requires { get; set; }
}
