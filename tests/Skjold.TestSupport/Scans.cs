using Skjold.Engine;
using Skjold.Engine.Model;
using Skjold.Engine.Policy;
using Skjold.Engine.Pss;
using Skjold.Kubernetes.Loading;

namespace Skjold.TestSupport;

/// <summary>Helpers that load YAML text and scan it.</summary>
public static class Scans
{
    public static IReadOnlyList<Resource> Load(string yaml, string name = "test.yaml", string defaultNamespace = "default")
    {
        var result = new ManifestLoader(new LoaderOptions { DefaultNamespace = defaultNamespace }).LoadText(name, yaml);
        if (result.Diagnostics.Any(d => d.Level == DiagnosticLevel.Error))
        {
            throw new InvalidOperationException("test input did not load: " + string.Join("; ", result.Diagnostics));
        }

        return result.Resources;
    }

    public static ScanResult Scan(string yaml, ScanPolicy? policy = null, TimeProvider? time = null) =>
        new Scanner(policy ?? ScanPolicy.Default, time: time).Scan(Load(yaml));

    public static ScanResult Scan(string yaml, PssLevel level, string version) =>
        Scan(yaml, new ScanPolicy(level, Version(version)));

    public static PssVersion Version(string text) =>
        PssVersion.TryParse(text, out var v) ? v : throw new ArgumentException("bad version " + text);

    public static IReadOnlyList<string> Ids(this ScanResult result, string prefix = "") =>
        result.Findings.Where(f => f.CheckId.StartsWith(prefix, StringComparison.Ordinal)).Select(f => f.CheckId).Distinct().Order(StringComparer.Ordinal).ToList();
}
