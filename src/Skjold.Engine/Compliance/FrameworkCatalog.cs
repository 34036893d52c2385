using Skjold.Engine.Checks;
using YamlDotNet.RepresentationModel;

namespace Skjold.Engine.Compliance;

/// <summary>A control of a framework, with Skjold's short title and, for manual ones, what to ask a provider.</summary>
public sealed record Control(string Id, string Title, string? Group, IReadOnlyList<string> Questions);

/// <summary>A compliance framework: its controls, and which of Skjold's checks give evidence for each.</summary>
public sealed class Framework
{
    private readonly Dictionary<string, Control> _byId;

    internal Framework(string id, string name, string version, string source, IReadOnlyList<Control> controls, IReadOnlyDictionary<string, IReadOnlyList<string>> checksByControl)
    {
        Id = id;
        Name = name;
        Version = version;
        Source = source;
        Controls = controls;
        ChecksByControl = checksByControl;
        _byId = controls.ToDictionary(c => c.Id, StringComparer.Ordinal);
    }

    public string Id { get; }

    public string Name { get; }

    public string Version { get; }

    /// <summary>Name with version, for headings ("PCI DSS v4.0.1"; names that already carry their version as they are).</summary>
    public string Title => Name.Contains(Version, StringComparison.Ordinal) ? Name : $"{Name} v{Version}";

    public string Source { get; }

    public IReadOnlyList<Control> Controls { get; }

    /// <summary>Check ids per control id (controls without checks are absent: they are manual).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> ChecksByControl { get; }

    public Control? Control(string id) => _byId.GetValueOrDefault(id);

    public IReadOnlyList<string> ChecksOf(string controlId) => ChecksByControl.TryGetValue(controlId, out var list) ? list : [];

    public bool IsManual(string controlId) => ChecksOf(controlId).Count == 0;
}

/// <summary>
/// The frameworks of <c>Data/frameworks.yaml</c> joined with the <c>controls:</c> of every check in
/// the check catalog. Building it fails if a check names a control that is not in its framework.
/// </summary>
public sealed class FrameworkCatalog
{
    private static readonly Lazy<FrameworkCatalog> LazyDefault = new(() => Load(CheckCatalog.Default));

    private FrameworkCatalog(IReadOnlyList<Framework> frameworks) => Frameworks = frameworks;

    public static FrameworkCatalog Default => LazyDefault.Value;

    public IReadOnlyList<Framework> Frameworks { get; }

    public Framework? Find(string id) => Frameworks.FirstOrDefault(f => f.Id == id);

    public static FrameworkCatalog Load(CheckCatalog checks)
    {
        using var stream = typeof(FrameworkCatalog).Assembly.GetManifestResourceStream("Skjold.Engine.Data.frameworks.yaml")
            ?? throw new InvalidOperationException("embedded frameworks.yaml is missing");
        var yaml = new YamlStream();
        yaml.Load(new StreamReader(stream));
        var frameworks = new List<Framework>();
        foreach (var f in ((YamlSequenceNode)((YamlMappingNode)yaml.Documents[0].RootNode).Children["frameworks"]).Children.Cast<YamlMappingNode>())
        {
            var id = S(f, "id")!;
            var controls = new List<Control>();
            foreach (var c in ((YamlSequenceNode)f.Children["controls"]).Children.Cast<YamlMappingNode>())
            {
                var questions = c.Children.TryGetValue("questions", out var q) ? ((YamlSequenceNode)q).Children.Select(x => ((YamlScalarNode)x).Value!).ToList() : [];
                controls.Add(new Control(S(c, "id")!, S(c, "title")!, S(c, "group"), questions));
            }

            var known = controls.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
            var byControl = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var check in checks.All)
            {
                if (!check.Controls.TryGetValue(id, out var ids))
                {
                    continue;
                }

                foreach (var controlId in ids)
                {
                    if (!known.Contains(controlId))
                    {
                        throw new FormatException($"check {check.Id} maps to {id} control '{controlId}', which is not in frameworks.yaml");
                    }

                    if (!byControl.TryGetValue(controlId, out var list))
                    {
                        byControl[controlId] = list = [];
                    }

                    list.Add(check.Id);
                }
            }

            frameworks.Add(new Framework(id, S(f, "name")!, S(f, "version")!, S(f, "source")!, controls,
                byControl.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value, StringComparer.Ordinal)));
        }

        return new FrameworkCatalog(frameworks);
    }

    private static string? S(YamlMappingNode m, string key) => m.Children.TryGetValue(key, out var v) ? ((YamlScalarNode)v).Value : null;
}
