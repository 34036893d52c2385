using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Skjold.Cli.Tests;

/// <summary>
/// Hostile and unusual input next to a privileged Pod: every run ends with the documented exit
/// code and a clear message, and the Pod is still found (the rest of the input is scanned).
/// Time and memory of these inputs are measured in the benchmark, not here.
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    private const string PrivilegedPod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: victim, namespace: apps}
        spec:
          containers:
          - {name: c, image: nginx, securityContext: {privileged: true}}
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-hostile-").FullName;

    public HostileInputTests() => File.WriteAllText(Path.Combine(_dir, "pod.yaml"), PrivilegedPod);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return name;
    }

    private (CliRun Run, JsonElement Report) Scan(params string[] args)
    {
        var run = CliRunner.Run(_dir, null, ["scan", .. args, "--format", "json"]);
        Assert.True(run.Out.Length > 0, $"no report; stderr: {run.Error}");
        return (run, JsonDocument.Parse(run.Out).RootElement.Clone());
    }

    private static int VictimFindings(JsonElement report) =>
        report.GetProperty("findings").EnumerateArray().Count(f => f.GetProperty("resource").GetProperty("name").GetString() == "victim" && f.GetProperty("checkId").GetString() == "pss/privileged");

    private static string Diagnostics(JsonElement report) =>
        string.Join("\n", report.GetProperty("diagnostics").EnumerateArray().Select(d => d.GetProperty("message").GetString()));

    public static TheoryData<string, string, string> RefusedDocuments => new()
    {
        { "alias-bomb", BillionLaughs(), "alias" },
        { "merge-bomb", MergeBomb(), "merge bomb" },
        { "deep", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d, namespace: apps}\ndata:\n  x: " + new string('[', 300) + new string(']', 300) + "\n", "nests deeper" },
        { "million", "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[" + string.Join(",", Enumerable.Repeat("{}", 1_000_000)) + "]}", "more problems like the ones above" },
        { "bad-utf8", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: u, namespace: apps}\ndata: {k: \"\uFFFD\"}\n", "invalid UTF-8" },
    };

    [Theory]
    [MemberData(nameof(RefusedDocuments))]
    public void RefusedDocument_ExitsTwo_NamesTheProblem_AndScansTheRest(string name, string content, string message)
    {
        var file = name == "million" ? name + ".json" : name + ".yaml";
        if (name == "bad-utf8")
        {
            var bytes = Encoding.UTF8.GetBytes(content);
            var at = bytes.AsSpan().IndexOf("\uFFFD"u8);
            bytes[at] = 0xC0;
            bytes[at + 1] = 0x20;
            File.WriteAllBytes(Path.Combine(_dir, file), bytes);
        }
        else
        {
            Write(file, content);
        }

        var stopwatch = Stopwatch.StartNew();
        var (run, report) = Scan(".");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, Diagnostics(report), StringComparison.Ordinal);
        Assert.Equal(1, VictimFindings(report));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromMinutes(2), "a hostile document must not take minutes"); // a hang guard, not a timing assertion
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFE, 0x61, 0x00 }, "UTF-16")]
    [InlineData(new byte[] { 0xFF, 0xFE, 0x00, 0x00, 0x61, 0x00, 0x00, 0x00 }, "UTF-32")]
    [InlineData(new byte[] { 0x00, 0x00, 0xFE, 0xFF, 0x00, 0x00, 0x00, 0x61 }, "UTF-32")]
    public void OtherEncodings_AreNamed(byte[] bom, string encoding)
    {
        File.WriteAllBytes(Path.Combine(_dir, "wide.yaml"), [.. bom, .. Encoding.Unicode.GetBytes("apiVersion: v1\nkind: ConfigMap\n")]);
        var (run, report) = Scan(".");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"file is {encoding}", Diagnostics(report), StringComparison.Ordinal);
        Assert.Equal(1, VictimFindings(report));
    }

    [Fact]
    public void FileSystemTraps_AreNotFollowedOrRead()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "sub"));
        File.CreateSymbolicLink(Path.Combine(_dir, "sub", "up"), "..");
        File.CreateSymbolicLink(Path.Combine(_dir, "loop"), _dir);
        File.CreateSymbolicLink(Path.Combine(_dir, "zero.yaml"), "/dev/zero");
        var fifo = Path.Combine(_dir, "pipe.yaml");
        using (var mkfifo = Process.Start("mkfifo", fifo))
        {
            mkfifo.WaitForExit();
        }

        var (run, report) = Scan(".");
        Assert.Equal(1, run.ExitCode); // findings, and nothing unreadable was tried
        Assert.Equal(1, VictimFindings(report)); // found once, not once per link
        var notes = Diagnostics(report);
        Assert.Contains("loop: symbolic link to a directory; not followed", notes, StringComparison.Ordinal);
        Assert.Contains("pipe.yaml: empty, or not a regular file", notes, StringComparison.Ordinal);
        Assert.Contains("zero.yaml: empty, or not a regular file", notes, StringComparison.Ordinal);

        // Named on the command line, /dev/zero is read up to the limit and refused, not read whole.
        var zero = CliRunner.Run(_dir, null, "scan", "zero.yaml", "--max-file-size", "1MiB");
        Assert.Equal(2, zero.ExitCode);
        Assert.Contains("exceeds the limit of 1,048,576 bytes", zero.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void HugeScalarsAndHostileCredentialValues_AreJudgedAndScanned()
    {
        Write("big.yaml", $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big, namespace: apps}}\ndata:\n  blob: \"{new string('a', 10_000_000)}\"\n  url: \"://{new string('u', 90_000)}:\"\n");
        Write("env.yaml", $"apiVersion: v1\nkind: Pod\nmetadata: {{name: env, namespace: apps}}\nspec:\n  containers:\n  - {{name: c, image: nginx, env: [{{name: SETTING, value: \"{new string('x', 90_000)}AKIAIOSFODNN7EXAMPLE\"}}]}}\n");
        var (run, report) = Scan(".");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(1, VictimFindings(report));
        Assert.Contains(report.GetProperty("findings").EnumerateArray(), f => f.GetProperty("checkId").GetString() == "wl/credential-literal");
    }

    [Fact]
    public void NestedLists_AreFlattened()
    {
        Write("lists.json", "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[" +
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"inner\",\"namespace\":\"apps\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\",\"securityContext\":{\"privileged\":true}}]}}]}]}");
        var (run, report) = Scan("lists.json");
        Assert.Equal(1, run.ExitCode);
        var finding = report.GetProperty("findings").EnumerateArray().First(f => f.GetProperty("resource").GetProperty("name").GetString() == "inner");
        Assert.Equal("lists.json", finding.GetProperty("location").GetProperty("file").GetString());
    }

    [Fact]
    public void ValidYaml_IsAccepted_AsGoYamlAcceptsIt()
    {
        Write("merges.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: merges
              namespace: apps
              labels: &base {app: web}
              annotations:
                <<: [*base]
                note: "a long note that
                goes on at the key's indentation"
            data: &d
              <<: *base
              extra: "1"
            binaryData: {}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: alias-with-merge, namespace: apps, labels: &base2 {app: web}}
            data:
              x: &outer {<<: *base2, y: "2"}
              copy: *outer
            """);
        var (run, report) = Scan("merges.yaml");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(string.Empty, Diagnostics(report));
        Assert.Equal(2, report.GetProperty("summary").GetProperty("resources").GetInt32());
    }

    [Fact]
    public void JsonValues_OneBadValueLosesOnlyItself()
    {
        Write("multi.json", """
            {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"apps"}}
            {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b", oops}}
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"c","namespace":"apps"},"spec":{"containers":[{"name":"c","image":"nginx","securityContext":{"privileged":true}}]}}
            """);
        var (run, report) = Scan("multi.json");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("multi.json:2:", Diagnostics(report), StringComparison.Ordinal);
        Assert.Equal(2, report.GetProperty("summary").GetProperty("resources").GetInt32());
    }

    [Fact]
    public void Yaml11BooleanNamespace_IsReported()
    {
        Write("y.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: y}\n");
        var (run, report) = Scan("y.yaml", "pod.yaml");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("metadata.namespace of ConfigMap is a boolean", Diagnostics(report), StringComparison.Ordinal);
        Assert.Equal(1, VictimFindings(report));
    }

    [Fact]
    public void KustomizationsAndCharts_AreSkippedWithANote()
    {
        Write("overlay/kustomization.yaml", "resources: [../pod.yaml]\npatches: []\n");
        Write("chart/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n");
        Write("chart/values.yaml", "replicaCount: 2\n");
        Write("chart/templates/deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n{{- if .Values.x }}\n");
        var (run, report) = Scan(".");
        Assert.Equal(1, run.ExitCode); // the pod's findings; nothing here is an input error
        var notes = Diagnostics(report);
        Assert.Contains("kustomization file", notes, StringComparison.Ordinal);
        Assert.Contains("kustomize build", notes, StringComparison.Ordinal);
        Assert.Contains("a Helm chart", notes, StringComparison.Ordinal);
        Assert.Contains("helm template RELEASE", notes, StringComparison.Ordinal);
        Assert.Equal(1, VictimFindings(report));
    }

    [Fact]
    public void StrayFile_EveryCommandReportsTheRest()
    {
        Write("settings.yaml", "replicaCount: 2\n");
        var report = CliRunner.Run(_dir, null, "report", "--framework", "cis", ".", "--format", "json");
        Assert.Equal(2, report.ExitCode);
        Assert.Contains("settings.yaml", report.Error, StringComparison.Ordinal);
        Assert.Equal("fail", JsonDocument.Parse(report.Out).RootElement.GetProperty("controls").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "5.2.2").GetProperty("status").GetString());

        var rbac = CliRunner.Run(_dir, null, "rbac", "who-can", "get", "secrets", ".");
        Assert.Equal(2, rbac.ExitCode);
        Assert.Contains("subjects may get secrets", rbac.Out, StringComparison.Ordinal);

        var netpol = CliRunner.Run(_dir, null, "netpol", "map", ".");
        Assert.Equal(2, netpol.ExitCode);
        Assert.Contains("settings.yaml", netpol.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyInput_FailsUnlessAllowed()
    {
        var stdin = CliRunner.Run(_dir, string.Empty, "scan", "-");
        Assert.Equal(2, stdin.ExitCode);
        Assert.Contains("holds no Kubernetes objects", stdin.Error, StringComparison.Ordinal);
        Assert.Equal(0, CliRunner.Run(_dir, string.Empty, "scan", "-", "--allow-empty").ExitCode);
        Write("empty/nothing.yaml", "# nothing here\n");
        Assert.Equal(2, CliRunner.Run(_dir, null, "scan", "empty").ExitCode);
        Assert.Equal(2, CliRunner.Run(_dir, null, "report", "--framework", "cis", "empty").ExitCode);
    }

    private static string BillionLaughs()
    {
        var sb = new StringBuilder("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol, namespace: apps}\ndata:\n  a0: &a0 lol\n");
        for (var i = 1; i < 12; i++)
        {
            sb.Append($"  a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]\n");
        }

        return sb.ToString();
    }

    private static string MergeBomb()
    {
        var sb = new StringBuilder("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: merge, namespace: apps}\ndata:\n  m0: &m0 {k: v}\n");
        for (var i = 1; i <= 40; i++)
        {
            sb.Append($"  m{i}: &m{i} {{<<: *m{i - 1}, <<: *m{i - 1}, k{i}: v}}\n");
        }

        return sb.ToString();
    }
}
