using System.Globalization;
using System.Text;
using Skjold.Engine;
using Skjold.Engine.Policy;
using Skjold.Engine.Pss;
using Skjold.Kubernetes.Loading;
using Skjold.TestSupport;
using Xunit.Abstractions;

namespace Skjold.Conformance;

/// <summary>
/// Runs every Pod Security Admission fixture in ../shared/peers/pod-security-admission through
/// Skjold's scanner at the fixture's level and version. A pass fixture must yield no pss/ finding;
/// a fail fixture must yield a finding from the check its file name names.
/// </summary>
public sealed class PodSecurityAdmissionConformanceTests(ITestOutputHelper output)
{
    private static string FixtureRoot => Path.Combine(RepoPaths.Peers, "pod-security-admission");

    [Fact]
    public void Fixtures_AllLevelsAndVersions_AgreeWithPodSecurityAdmission()
    {
        Assert.True(Directory.Exists(FixtureRoot), $"PSA fixtures not found at {FixtureRoot}");
        var loader = new ManifestLoader();
        var checkNames = PodSecurityEvaluatorNames();
        var total = 0;
        var agreed = 0;
        var disagreements = new List<string>();
        foreach (var levelDir in Directory.GetDirectories(FixtureRoot).Order(StringComparer.Ordinal))
        {
            Assert.True(PssLevels.TryParse(Path.GetFileName(levelDir), out var level));
            foreach (var versionDir in Directory.GetDirectories(levelDir))
            {
                Assert.True(PssVersion.TryParse(Path.GetFileName(versionDir), out var version));
                var scanner = new Scanner(new ScanPolicy(level, version));
                foreach (var outcome in new[] { "pass", "fail" })
                {
                    var dir = Path.Combine(versionDir, outcome);
                    if (!Directory.Exists(dir))
                    {
                        continue;
                    }

                    foreach (var file in Directory.GetFiles(dir, "*.yaml").Order(StringComparer.Ordinal))
                    {
                        total++;
                        var loaded = loader.LoadPaths([file]);
                        Assert.Empty(loaded.Diagnostics);
                        var result = scanner.Scan(loaded.Resources);
                        var pss = result.Findings.Where(f => f.CheckId.StartsWith("pss/", StringComparison.Ordinal)).ToList();
                        bool ok;
                        if (outcome == "pass")
                        {
                            ok = pss.Count == 0;
                        }
                        else
                        {
                            var expected = ExpectedCheck(Path.GetFileNameWithoutExtension(file), checkNames);
                            ok = pss.Any(f => string.Equals(f.CheckId, "pss/" + expected, StringComparison.Ordinal));
                        }

                        if (ok)
                        {
                            agreed++;
                        }
                        else
                        {
                            disagreements.Add($"{Path.GetRelativePath(FixtureRoot, file)}: got [{string.Join(", ", pss.Select(f => f.CheckId).Distinct())}]");
                        }
                    }
                }
            }
        }

        var summary = string.Create(CultureInfo.InvariantCulture, $"PSS conformance: {agreed}/{total} Pod Security Admission fixtures agree");
        output.WriteLine(summary);
        WriteArtifact(summary, disagreements);
        foreach (var d in disagreements.Take(50))
        {
            output.WriteLine("  " + d);
        }

        Assert.True(total >= 4537, $"expected at least 4537 fixtures, found {total}");
        Assert.True(disagreements.Count == 0, summary + "\n" + string.Join("\n", disagreements.Take(50)));
    }

    private static HashSet<string> PodSecurityEvaluatorNames() =>
        Scanner.ImplementedCheckIds.Where(id => id.StartsWith("pss/", StringComparison.Ordinal)).Select(id => id[4..]).ToHashSet(StringComparer.Ordinal);

    /// <summary>Fixture files are named by the lower-cased check name plus a number: capabilities_baseline3.</summary>
    private static string ExpectedCheck(string fileStem, HashSet<string> names)
    {
        var stem = fileStem.TrimEnd('0', '1', '2', '3', '4', '5', '6', '7', '8', '9');
        return names.FirstOrDefault(n => string.Equals(n, stem, StringComparison.OrdinalIgnoreCase)) ?? stem;
    }

    private static void WriteArtifact(string summary, List<string> disagreements)
    {
        var sb = new StringBuilder().AppendLine(summary);
        foreach (var d in disagreements)
        {
            sb.AppendLine(d);
        }

        File.WriteAllText(RepoPaths.Artifact("pss-conformance.txt"), sb.ToString());
    }
}
