using System.Text.Json;
using System.Xml;

namespace Skjold.Cli.Tests;

/// <summary>SARIF and JUnit as code scanning and Jenkins read them, and resources told apart by file.</summary>
public sealed class ReportFormatTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-formats-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Pod(bool privileged) => $"apiVersion: v1\nkind: Pod\nmetadata: {{name: web, namespace: shop}}\nspec:\n  containers:\n  - {{name: c, image: nginx, securityContext: {{privileged: {(privileged ? "true" : "false")}}}}}\n";

    private void Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    [Fact]
    public void SameNameInTwoFiles_AreTwoResources()
    {
        Write("dev/web.yaml", Pod(privileged: false));
        Write("prod/web.yaml", Pod(privileged: true));

        var json = CliRunner.Run(_dir, null, "scan", ".", "--format", "json");
        var privileged = JsonDocument.Parse(json.Out).RootElement.GetProperty("findings").EnumerateArray().Single(f => f.GetProperty("checkId").GetString() == "pss/privileged");
        Assert.Equal("prod/web.yaml", privileged.GetProperty("location").GetProperty("file").GetString());

        // Each finding line names its file: the privileged finding is prod's, never dev's. The most
        // severe resource comes first.
        var table = CliRunner.Run(_dir, null, "scan", ".");
        var privilegedLine = table.Out.Split('\n').Single(l => l.Contains("pss/privileged", StringComparison.Ordinal));
        Assert.Contains("prod/web.yaml:", privilegedLine, StringComparison.Ordinal);
        Assert.DoesNotContain(table.Out.Split('\n'), l => l.Contains("pss/privileged", StringComparison.Ordinal) && l.Contains("dev/web.yaml", StringComparison.Ordinal));
        Assert.True(table.Out.IndexOf("prod/web.yaml", StringComparison.Ordinal) < table.Out.IndexOf("dev/web.yaml", StringComparison.Ordinal));

        var sarif = JsonDocument.Parse(CliRunner.Run(_dir, null, "scan", ".", "--format", "sarif").Out).RootElement;
        var prints = sarif.GetProperty("runs")[0].GetProperty("results").EnumerateArray().Select(r => r.GetProperty("partialFingerprints").GetProperty("skjoldFinding/v2").GetString()).ToList();
        Assert.Equal(prints.Count, prints.Distinct().Count());
    }

    [Fact]
    public void Sarif_EveryResultHasAPhysicalLocation_AndOutsidePathsAreAbsolute()
    {
        var stdin = JsonDocument.Parse(CliRunner.Run(_dir, Pod(true), "scan", "-", "--format", "sarif").Out).RootElement;
        foreach (var r in stdin.GetProperty("runs")[0].GetProperty("results").EnumerateArray())
        {
            var artifact = r.GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("artifactLocation");
            Assert.Equal("stdin", artifact.GetProperty("uri").GetString());
        }

        var named = JsonDocument.Parse(CliRunner.Run(_dir, Pod(true), "scan", "-", "--format", "sarif", "--stdin-name", "charts/web/templates/pod.yaml").Out).RootElement;
        Assert.Equal("charts/web/templates/pod.yaml", named.GetProperty("runs")[0].GetProperty("results")[0].GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("artifactLocation").GetProperty("uri").GetString());

        var outside = Directory.CreateTempSubdirectory("skjold-outside-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(outside, "pod.yaml"), Pod(true));
            var doc = JsonDocument.Parse(CliRunner.Run(_dir, null, "scan", Path.Combine(outside, "pod.yaml"), "--format", "sarif").Out).RootElement;
            var artifact = doc.GetProperty("runs")[0].GetProperty("results")[0].GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("artifactLocation");
            Assert.StartsWith("file:///", artifact.GetProperty("uri").GetString(), StringComparison.Ordinal);
            Assert.False(artifact.TryGetProperty("uriBaseId", out _)); // SARIF1004: an absolute URI takes no base
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    /// <summary>The JUnit schema as Jenkins' xunit plugin enforces it: a testcase has no file or line.</summary>
    private const string StrictJUnit = """
        <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">
          <xs:element name="failure"><xs:complexType mixed="true"><xs:attribute name="type" type="xs:string"/><xs:attribute name="message" type="xs:string"/></xs:complexType></xs:element>
          <xs:element name="error"><xs:complexType mixed="true"><xs:attribute name="type" type="xs:string"/><xs:attribute name="message" type="xs:string"/></xs:complexType></xs:element>
          <xs:element name="skipped"><xs:complexType mixed="true"><xs:attribute name="message" type="xs:string"/></xs:complexType></xs:element>
          <xs:element name="system-out" type="xs:string"/>
          <xs:element name="system-err" type="xs:string"/>
          <xs:element name="testcase">
            <xs:complexType>
              <xs:sequence><xs:choice minOccurs="0" maxOccurs="unbounded"><xs:element ref="skipped"/><xs:element ref="error"/><xs:element ref="failure"/><xs:element ref="system-out"/><xs:element ref="system-err"/></xs:choice></xs:sequence>
              <xs:attribute name="name" type="xs:string" use="required"/>
              <xs:attribute name="assertions" type="xs:string"/>
              <xs:attribute name="time" type="xs:string"/>
              <xs:attribute name="classname" type="xs:string"/>
              <xs:attribute name="status" type="xs:string"/>
            </xs:complexType>
          </xs:element>
          <xs:element name="testsuite">
            <xs:complexType>
              <xs:sequence><xs:element ref="testcase" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
              <xs:attribute name="name" type="xs:string" use="required"/>
              <xs:attribute name="tests" type="xs:string" use="required"/>
              <xs:attribute name="failures" type="xs:string"/>
              <xs:attribute name="errors" type="xs:string"/>
              <xs:attribute name="time" type="xs:string"/>
              <xs:attribute name="skipped" type="xs:string"/>
              <xs:attribute name="timestamp" type="xs:string"/>
            </xs:complexType>
          </xs:element>
          <xs:element name="testsuites">
            <xs:complexType>
              <xs:sequence><xs:element ref="testsuite" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
              <xs:attribute name="name" type="xs:string"/>
              <xs:attribute name="time" type="xs:string"/>
              <xs:attribute name="tests" type="xs:string"/>
              <xs:attribute name="failures" type="xs:string"/>
              <xs:attribute name="errors" type="xs:string"/>
              <xs:attribute name="timestamp" type="xs:string"/>
            </xs:complexType>
          </xs:element>
        </xs:schema>
        """;

    [Fact]
    public void JUnit_ValidatesAgainstTheStrictSchema_WithTheLocationInTheText()
    {
        Write("pod.yaml", Pod(true));
        Write("bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata: [oops\n");
        var run = CliRunner.Run(_dir, null, "scan", ".", "--format", "junit");
        var settings = new XmlReaderSettings { ValidationType = ValidationType.Schema };
        settings.Schemas.Add(null, XmlReader.Create(new StringReader(StrictJUnit)));
        var problems = new List<string>();
        settings.ValidationEventHandler += (_, e) => problems.Add(e.Message);
        using (var reader = XmlReader.Create(new StringReader(run.Out), settings))
        {
            while (reader.Read())
            {
            }
        }

        Assert.Empty(problems);
        Assert.Contains("Location: pod.yaml:", run.Out, StringComparison.Ordinal);
    }
}
