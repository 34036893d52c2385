using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Policy;
using Skjold.TestSupport;

namespace Skjold.Reports.Tests;

public sealed class ReportWriterTests
{
    private const string Yaml = """
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: apps}
        spec:
          containers: [{name: c, image: "a:1", securityContext: {privileged: true}}]
        """;

    private static ReportContext Context(string baseDir = "/repo")
    {
        var result = Scans.Scan(Yaml);
        result = result with
        {
            Diagnostics = [Diagnostic.Error("yaml-syntax", "x.yaml:3:1: invalid YAML: oops", new SourceLocation("x.yaml", 3, 1))],
        };
        return new ReportContext(result, ScanPolicy.Default, CheckCatalog.Default, "1.2.3", new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero), baseDir);
    }

    private static string Write(IReportWriter writer, ReportContext context)
    {
        var sw = new StringWriter();
        writer.Write(context, sw);
        return sw.ToString();
    }

    [Fact]
    public void Json_HasDocumentedTopLevelShape()
    {
        using var doc = JsonDocument.Parse(Write(new JsonReportWriter(), Context()));
        var root = doc.RootElement;
        Assert.Equal("1", root.GetProperty("schemaVersion").GetString());
        Assert.Equal("1.2.3", root.GetProperty("tool").GetProperty("version").GetString());
        Assert.Equal("2026-11-24T12:00:00Z", root.GetProperty("generatedAt").GetString());
        var finding = root.GetProperty("findings").EnumerateArray().First(f => f.GetProperty("checkId").GetString() == "pss/privileged");
        foreach (var key in new[] { "checkId", "title", "severity", "resource", "path", "message", "remediation", "location" })
        {
            Assert.True(finding.TryGetProperty(key, out _), key);
        }

        foreach (var key in new[] { "apiVersion", "kind", "namespace", "name" })
        {
            Assert.True(finding.GetProperty("resource").TryGetProperty(key, out _), key);
        }

        Assert.Equal("test.yaml", finding.GetProperty("location").GetProperty("file").GetString());
        Assert.Equal(5, finding.GetProperty("location").GetProperty("line").GetInt32());
        Assert.Equal(1, root.GetProperty("summary").GetProperty("errors").GetInt32());
        Assert.Equal(1, root.GetProperty("summary").GetProperty("bySeverity").GetProperty("critical").GetInt32());
        Assert.Equal("yaml-syntax", root.GetProperty("diagnostics")[0].GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("/repo/k8s/app.yaml", "/repo", "k8s/app.yaml")]
    [InlineData("k8s/app.yaml", "/repo", "k8s/app.yaml")]
    [InlineData("./k8s/my app.yaml", "/repo", "k8s/my%20app.yaml")]
    [InlineData("/elsewhere/app.yaml", "/repo", "/elsewhere/app.yaml")]
    public void Sarif_RelativeUris(string file, string baseDir, string expected)
    {
        Assert.Equal(expected, SarifReportWriter.RelativeUri(file, baseDir));
    }

    [Fact]
    public void Sarif_SecuritySeverityAndInvocation()
    {
        using var doc = JsonDocument.Parse(Write(new SarifReportWriter(), Context()));
        var run = doc.RootElement.GetProperty("runs")[0];
        var rule = run.GetProperty("tool").GetProperty("driver").GetProperty("rules").EnumerateArray().First(r => r.GetProperty("id").GetString() == "pss/privileged");
        Assert.Equal("9.5", rule.GetProperty("properties").GetProperty("security-severity").GetString());
        Assert.False(run.GetProperty("invocations")[0].GetProperty("executionSuccessful").GetBoolean());
    }
}
