using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Skjold.Engine.Model;
using Skjold.Kubernetes.Loading;

namespace Skjold.Kubernetes.Tests;

public sealed class ManifestLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-loader-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static LoadResult Load(string text, string name = "in.yaml", LoaderOptions? options = null) =>
        new ManifestLoader(options).LoadText(name, text);

    [Fact]
    public void MultiDocumentYaml_EveryDocumentWithItsLine()
    {
        var result = Load("""
            # leading comment
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: a}
            ---
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: b}
            ...
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: c}
            """);
        Assert.Empty(result.Diagnostics);
        Assert.Equal(["a", "b", "c"], result.Resources.Select(r => r.Ref.Name));
        Assert.Equal([2, 7, 12], result.Resources.Select(r => r.Location.Line));
    }

    [Fact]
    public void Locate_PathsMapToTheLineOfTheField()
    {
        var result = Load("""
            apiVersion: v1
            kind: Pod
            metadata:
              name: p
            spec:
              containers:
              - name: one
                image: a
              - name: two
                securityContext:
                  privileged: true
            """);
        var pod = Assert.Single(result.Resources);
        Assert.Equal(11, pod.Locate("spec.containers[1].securityContext.privileged").Line);
        Assert.Equal(10, pod.Locate("spec.containers[1].securityContext").Line);
        Assert.Equal(9, pod.Locate("spec.containers[1]").Line);
        // A missing field points at its nearest existing ancestor.
        Assert.Equal(10, pod.Locate("spec.containers[1].securityContext.runAsNonRoot").Line);
        Assert.Equal(7, pod.Locate("spec.containers[0].securityContext.runAsNonRoot").Line);
    }

    [Fact]
    public void KubectlListJson_ExpandedWithItemLines()
    {
        var json = """
            {
              "apiVersion": "v1",
              "kind": "List",
              "items": [
                {
                  "apiVersion": "apps/v1",
                  "kind": "Deployment",
                  "metadata": {"name": "web", "namespace": "shop"},
                  "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}
                },
                {
                  "apiVersion": "v1",
                  "kind": "Service",
                  "metadata": {"name": "web", "namespace": "shop"}
                }
              ]
            }
            """;
        var result = Load(json, "dump.json");
        Assert.Empty(result.Diagnostics);
        Assert.Equal(["Deployment", "Service"], result.Resources.Select(r => r.Kind));
        Assert.Equal(5, result.Resources[0].Location.Line);
        Assert.Equal(9, result.Resources[0].Locate("spec.template.spec.containers[0].image").Line);
        Assert.Equal(11, result.Resources[1].Location.Line);
    }

    [Fact]
    public void TypedApiList_ItemsWithoutKindInheritIt()
    {
        var result = Load("""
            {"apiVersion": "v1", "kind": "PodList", "items": [{"metadata": {"name": "p1"}, "spec": {}}]}
            """, "pods.json");
        var pod = Assert.Single(result.Resources);
        Assert.Equal("Pod", pod.Kind);
        Assert.Equal("v1", pod.Ref.ApiVersion);
    }

    [Fact]
    public void ConcatenatedJsonValues_AllRead()
    {
        var result = Load("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}""" + "\n" +
                          """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}""", "two.json");
        Assert.Equal(["a", "b"], result.Resources.Select(r => r.Ref.Name));
        Assert.Equal(2, result.Resources[1].Location.Line);
    }

    [Fact]
    public void FlowStyleYamlStartingWithBrace_ReadAsYaml()
    {
        var result = Load("{apiVersion: v1, kind: ConfigMap, metadata: {name: flow}}\n", "flow.yaml");
        Assert.Empty(result.Diagnostics);
        Assert.Equal("flow", Assert.Single(result.Resources).Ref.Name);
    }

    [Fact]
    public void YamlScalars_ResolvedAsKubernetesDoes()
    {
        var result = Load("""
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec:
              hostNetwork: yes
              hostPID: "true"
              hostIPC: On
              terminationGracePeriodSeconds: 030
              priority: 0x10
              extra: ~
              ratio: 1.5
              version: 1.30
              tagged: !!str 42
            """);
        var spec = Assert.Single(result.Resources).Root.GetProperty("spec");
        Assert.Equal(JsonValueKind.True, spec.GetProperty("hostNetwork").ValueKind);
        Assert.Equal(JsonValueKind.String, spec.GetProperty("hostPID").ValueKind);
        Assert.Equal(JsonValueKind.True, spec.GetProperty("hostIPC").ValueKind);
        Assert.Equal(24, spec.GetProperty("terminationGracePeriodSeconds").GetInt32());
        Assert.Equal(16, spec.GetProperty("priority").GetInt32());
        Assert.Equal(JsonValueKind.Null, spec.GetProperty("extra").ValueKind);
        Assert.Equal(1.5, spec.GetProperty("ratio").GetDouble());
        Assert.Equal("42", spec.GetProperty("tagged").GetString());
    }

    [Fact]
    public void MergeKeys_InListsAndInsideAliases_AsGoYamlMergesThem()
    {
        var r = Load("""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: m
              namespace: a
              labels: &base {app: web, tier: front}
              annotations:
                <<: [*base]
                tier: back
            data:
              x: &outer {<<: *base, y: "2"}
              copy: *outer
              z: {<<: [*outer, *base], app: own}
            """).Resources.Single();
        var meta = r.Root.GetProperty("metadata");
        Assert.Equal("web", meta.GetProperty("annotations").GetProperty("app").GetString());
        Assert.Equal("back", meta.GetProperty("annotations").GetProperty("tier").GetString()); // explicit keys win over merged ones
        var data = r.Root.GetProperty("data");
        Assert.Equal("{\"app\":\"web\",\"tier\":\"front\",\"y\":\"2\"}", data.GetProperty("x").GetRawText());
        Assert.Equal(data.GetProperty("x").GetRawText(), data.GetProperty("copy").GetRawText());
        Assert.Equal("own", data.GetProperty("z").GetProperty("app").GetString());
        Assert.Equal("2", data.GetProperty("z").GetProperty("y").GetString());
    }

    [Fact]
    public void QuotedScalarContinuedAtKeyIndentation_ReadAsGoYamlReadsIt()
    {
        var result = Load("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: q\n  namespace: a\n  annotations:\n    description: \"a long text that\n    continues here\"\n    other: 'it''s\n    fine'\ndata:\n  k: v\n");
        Assert.Empty(result.Diagnostics);
        var annotations = result.Resources.Single().Root.GetProperty("metadata").GetProperty("annotations");
        Assert.Equal("a long text that continues here", annotations.GetProperty("description").GetString());
        Assert.Equal("it's fine", annotations.GetProperty("other").GetString());
        Assert.Equal(12, result.Resources.Single().Locate("data.k").Line);
    }

    [Fact]
    public void AnchorsAliasesAndMergeKeys_Expanded()
    {
        var result = Load("""
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            x-defaults: &sc
              privileged: true
              runAsUser: 0
            spec:
              containers:
              - name: a
                securityContext: *sc
              - name: b
                securityContext:
                  <<: *sc
                  runAsUser: 1000
              - name: c
                securityContext:
                  runAsUser: 5
                  <<: *sc
            """);
        Assert.Empty(result.Diagnostics);
        var containers = Assert.Single(result.Resources).Root.GetProperty("spec").GetProperty("containers");
        Assert.True(containers[0].GetProperty("securityContext").GetProperty("privileged").GetBoolean());
        Assert.True(containers[1].GetProperty("securityContext").GetProperty("privileged").GetBoolean());
        Assert.Equal(1000, containers[1].GetProperty("securityContext").GetProperty("runAsUser").GetInt32());
        Assert.Equal(5, containers[2].GetProperty("securityContext").GetProperty("runAsUser").GetInt32());
        Assert.True(containers[2].GetProperty("securityContext").GetProperty("privileged").GetBoolean());
    }

    [Fact]
    public void SyntaxError_ReportedWithLineAndColumn_OtherDocumentsStillRead()
    {
        var result = Load("""
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: before}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: broken
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: after}
            """);
        Assert.Equal(["before", "after"], result.Resources.Select(r => r.Ref.Name));
        var error = Assert.Single(result.Diagnostics);
        Assert.Equal("yaml-syntax", error.Code);
        Assert.Equal(8, error.Location!.Value.Line);
        Assert.True(error.Location!.Value.Column > 0);
    }

    [Theory]
    [InlineData("- a\n- b\n", "not-a-mapping", "list")]
    [InlineData("just a string\n", "not-a-mapping", "string")]
    [InlineData("kind: Pod\nmetadata: {name: x}\n", "missing-apiversion", "apiVersion")]
    [InlineData("apiVersion: v1\nmetadata: {name: x}\n", "missing-kind", "kind")]
    public void NonObjects_GetClearDiagnostics(string yaml, string code, string mentions)
    {
        var result = Load(yaml);
        Assert.Empty(result.Resources);
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(code, d.Code);
        Assert.Equal(DiagnosticLevel.Error, d.Level);
        Assert.Contains(mentions, d.Message, StringComparison.Ordinal);
        Assert.Equal(1, d.Location!.Value.Line);
    }

    [Fact]
    public void AliasBomb_RefusedQuicklyWithBoundedMemory()
    {
        var sb = new StringBuilder("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n  l0: &l0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (var i = 1; i < 12; i++)
        {
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"  l{i}: &l{i} [{string.Join(",", Enumerable.Repeat($"*l{i - 1}", 10))}]\n");
        }

        sb.Append("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: survivor}\n");
        var before = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        var result = Load(sb.ToString());
        watch.Stop();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains(result.Diagnostics, d => d.Code == "alias-limit");
        Assert.Equal("survivor", Assert.Single(result.Resources).Ref.Name);
        // 10^12 nodes if expanded; the budget stops it after 100,000. Generous bounds, not a timing test.
        Assert.True(allocated < 512L * 1024 * 1024, $"allocated {allocated:N0} bytes");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void DeepNesting_Refused()
    {
        var yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n  x: " + new string('[', 10_000) + new string(']', 10_000) + "\n";
        var result = Load(yaml);
        Assert.Empty(result.Resources);
        Assert.Equal("too-deep", Assert.Single(result.Diagnostics).Code);
    }

    [Fact]
    public void DeepJson_Refused()
    {
        var json = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"data\":" + new string('[', 5000) + new string(']', 5000) + "}";
        var result = Load(json, "deep.json");
        Assert.Empty(result.Resources);
        Assert.Equal("json-syntax", Assert.Single(result.Diagnostics).Code);
    }

    [Fact]
    public void OversizedFile_RefusedWithConfiguredLimit()
    {
        var path = Path.Combine(_dir, "big.yaml");
        File.WriteAllText(path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  x: \"" + new string('a', 4096) + "\"\n");
        var result = new ManifestLoader(new LoaderOptions { MaxFileBytes = 1024 }).LoadPaths([path]);
        Assert.Empty(result.Resources);
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("file-too-large", d.Code);
        Assert.Contains("--max-file-size", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OversizedStdin_Refused()
    {
        var bytes = Encoding.UTF8.GetBytes("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\n" + new string('#', 5000));
        var result = new ManifestLoader(new LoaderOptions { MaxFileBytes = 1024 }).LoadPaths(["-"], () => new MemoryStream(bytes));
        Assert.Equal("file-too-large", Assert.Single(result.Diagnostics).Code);
    }

    [Fact]
    public void InvalidUtf8_ReportedWithPosition_OtherDocumentsRead()
    {
        var path = Path.Combine(_dir, "bad.yaml");
        var bytes = new List<byte>();
        bytes.AddRange(Encoding.UTF8.GetBytes("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x"));
        bytes.AddRange([0xC3, 0x28]);
        bytes.AddRange(Encoding.UTF8.GetBytes("\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: good}\n"));
        File.WriteAllBytes(path, [.. bytes]);
        var result = new ManifestLoader().LoadPaths([path]);
        Assert.Equal("good", Assert.Single(result.Resources).Ref.Name);
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("invalid-utf8", d.Code);
        Assert.Equal(4, d.Location!.Value.Line);
        Assert.Equal(10, d.Location!.Value.Column);
    }

    [Fact]
    public void ByteOrderMark_Accepted_Utf16Rejected()
    {
        var path = Path.Combine(_dir, "bom.yaml");
        File.WriteAllBytes(path, [.. "\uFEFF"u8.ToArray(), .. "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bom}\n"u8.ToArray()]);
        Assert.Equal("bom", Assert.Single(new ManifestLoader().LoadPaths([path]).Resources).Ref.Name);

        var utf16 = Path.Combine(_dir, "utf16.yaml");
        File.WriteAllText(utf16, "apiVersion: v1\n", Encoding.Unicode);
        Assert.Equal("unsupported-encoding", Assert.Single(new ManifestLoader().LoadPaths([utf16]).Diagnostics).Code);
    }

    [Fact]
    public void Directories_RecursiveByExtension_SkipsNonManifestsAndHidden()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "a", "b"));
        Directory.CreateDirectory(Path.Combine(_dir, ".git"));
        File.WriteAllText(Path.Combine(_dir, "a", "one.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\n");
        File.WriteAllText(Path.Combine(_dir, "a", "b", "two.yml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: two}\n");
        File.WriteAllText(Path.Combine(_dir, "a", "b", "three.json"), """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"three"}}""");
        File.WriteAllText(Path.Combine(_dir, "a", "notes.txt"), "not yaml");
        File.WriteAllText(Path.Combine(_dir, "skjold.yaml"), "pss: {level: baseline}\n");
        File.WriteAllText(Path.Combine(_dir, "values.yaml"), "replicaCount: 1\n");
        File.WriteAllText(Path.Combine(_dir, ".git", "x.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hidden}\n");
        var result = new ManifestLoader().LoadPaths([_dir]);
        Assert.Empty(result.Diagnostics);
        // Ordinal path order: a/b/three.json, a/b/two.yml, a/one.yaml.
        Assert.Equal(["three", "two", "one"], result.Resources.Select(r => r.Ref.Name));
        Assert.Equal(3, result.Files);
    }

    [Fact]
    public void MissingPath_IsAnError()
    {
        var result = new ManifestLoader().LoadPaths([Path.Combine(_dir, "nope.yaml")]);
        Assert.Equal("not-found", Assert.Single(result.Diagnostics).Code);
    }

    [Fact]
    public void Stdin_ReadAsAFile()
    {
        var bytes = Encoding.UTF8.GetBytes("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: piped}\n");
        var result = new ManifestLoader().LoadPaths(["-"], () => new MemoryStream(bytes));
        var r = Assert.Single(result.Resources);
        Assert.Equal("piped", r.Ref.Name);
        Assert.Equal("-", r.Location.File);
    }

    [Fact]
    public void DuplicateKeys_WarnedLastWins()
    {
        var result = Load("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: false\n  hostPID: true\n");
        Assert.Contains(result.Diagnostics, d => d.Code == "yaml-duplicate-key" && d.Level == DiagnosticLevel.Warning);
        Assert.True(Assert.Single(result.Resources).Root.GetProperty("spec").GetProperty("hostPID").GetBoolean());
    }
}
