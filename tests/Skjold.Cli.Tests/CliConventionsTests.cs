using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Skjold.TestSupport;

namespace Skjold.Cli.Tests;

/// <summary>
/// Habits of kubectl, Trivy and kube-bench users: one output convention, one-line errors with exit
/// code 2 for every usage or input error, "did you mean", and no file or database made by mistake.
/// </summary>
public sealed class CliConventionsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-conventions-").FullName;

    private static string Examples => Path.Combine(RepoPaths.Root, "examples");

    public void Dispose() => Directory.Delete(_dir, true);

    private CliRun Run(params string[] args) => CliRunner.Run(_dir, null, args);

    private static void AssertOneLineError(CliRun run, string expected)
    {
        Assert.Equal(2, run.ExitCode);
        var first = run.Error.Split('\n')[0];
        Assert.StartsWith("error: ", first, StringComparison.Ordinal);
        Assert.Contains(expected, first, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("scan", "json", "-f json")]
    [InlineData("scan", "sarif", "-f sarif")]
    [InlineData("report", "md", "-f markdown")]
    [InlineData("node-check", "json", "-f json")]
    public void OutputGivenAFormatName_IsRefusedWithAHint_AndNoFileIsWritten(string command, string value, string hint)
    {
        string[] args = command switch
        {
            "report" => ["report", "--framework", "cis", Examples, "-o", value],
            "node-check" => ["node-check", "--root", _dir, "-o", value],
            _ => [command, Examples, "-o", value],
        };

        var run = Run(args);

        AssertOneLineError(run, $"did you mean '{hint}'?");
        Assert.False(File.Exists(Path.Combine(_dir, value)));
    }

    [Fact]
    public void OutputNamedLikeAFormat_CanStillBeWrittenAsAPath()
    {
        var run = Run("scan", Examples, "-f", "json", "-o", "./json");

        Assert.Equal(1, run.ExitCode); // the examples have findings
        Assert.True(File.Exists(Path.Combine(_dir, "json")));
    }

    [Fact]
    public void DashOutput_IsStdout()
    {
        var run = Run("scan", Examples, "-f", "json", "-o", "-");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("skjold", JsonDocument.Parse(run.Out).RootElement.GetProperty("tool").GetProperty("name").GetString());
        Assert.False(File.Exists(Path.Combine(_dir, "-")));

        // A command that only writes files says so rather than making a file called "-".
        AssertOneLineError(Run("snapshot", "-o", "-"), "-o - (stdout) is not supported");
    }

    [Fact]
    public void MarkdownAndMd_AreOneFormat_Everywhere()
    {
        var checksMd = Run("checks", "-f", "md");
        var checksMarkdown = Run("checks", "-f", "markdown");
        Assert.Equal(0, checksMd.ExitCode);
        Assert.Equal(checksMarkdown.Out, checksMd.Out);

        var reportMd = Run("report", "--framework", "cis", Examples, "-f", "md");
        var reportMarkdown = Run("report", "--framework", "cis", Examples, "--format=markdown");
        Assert.StartsWith("# ", reportMd.Out, StringComparison.Ordinal);
        Assert.Equal(reportMarkdown.ExitCode, reportMd.ExitCode);
        Assert.StartsWith("# ", reportMarkdown.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sacn", "unknown command 'sacn'; did you mean 'scan'?")]
    [InlineData("audit qury", "unknown command 'qury'; did you mean 'query'?")]
    [InlineData("netpol rech", "unknown command 'rech'; did you mean 'reach'?")]
    public void MistypedCommand_SuggestsTheNearestOne_InOneLine(string typed, string expected)
    {
        var run = Run([.. typed.Split(' '), Examples]);

        AssertOneLineError(run, expected);
        Assert.Equal(2, run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // the error and the help pointer
    }

    [Fact]
    public void InitIntoAMissingDirectory_IsAOneLineError()
    {
        AssertOneLineError(Run("init", "-o", Path.Combine(_dir, "nonexistent", "x.yaml")), "does not exist");
    }

    [Fact]
    public void AuditCommandsWithoutAStore_SayWhere_AndCreateNothing()
    {
        var store = Path.Combine(_dir, "nostore");
        AssertOneLineError(Run("audit", "query", "--data-dir", store, "--user", "alice"), "no audit trail in");
        AssertOneLineError(Run("audit", "verify", "--data-dir", store), "no audit trail in");
        AssertOneLineError(Run("audit", "hold", "list", "--data-dir", store), "no audit trail in");
        Assert.False(Directory.Exists(store));
        Assert.False(File.Exists(Path.Combine(_dir, "skjold-audit", "audit.db")));
    }

    [Fact]
    public void RbacPaths_AMissingFile_IsNeverTakenForASubject()
    {
        AssertOneLineError(Run("rbac", "paths", "nonexistent.json"), "nonexistent.json: no such file or directory");
    }

    [Theory]
    [InlineData("rbac", "who-can", "get", "secrets")]
    [InlineData("rbac", "paths")]
    [InlineData("netpol", "map")]
    [InlineData("report", "--framework", "cis")]
    public void ClusterCommands_AnUnknownOption_IsAnError_NotReadAsAPath(params string[] command)
    {
        var run = Run([.. command, Examples, "--max-file-size", "64MiB"]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("error: unknown option '--max-file-size'", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("no such file or directory", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void RbacWhoCan_WarnsAboutAnUnknownVerbAndResource()
    {
        var run = Run("rbac", "who-can", "fly", "secretz", Examples);

        Assert.Contains("'fly' is not a verb the API server checks", run.Error, StringComparison.Ordinal);
        Assert.Contains("'secretz' is not a built-in resource", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("200")]
    [InlineData("-1")]
    public void FailUnder_OutOfRange_IsAUsageError(string value)
    {
        AssertOneLineError(Run("report", "--framework", "cis", Examples, "--fail-under", value), "--fail-under must be a score from 0 to 100");
    }

    [Fact]
    public void ReportBaseline_ThatIsNotAReport_IsAOneLineError()
    {
        var path = Path.Combine(_dir, "other.json");
        File.WriteAllText(path, "{\"kind\":\"List\",\"items\":[]}");

        AssertOneLineError(Run("report", "--framework", "cis", Examples, "--baseline", path, "-f", "json"), "not a Skjold compliance report");
        var markdown = Path.Combine(_dir, "notes.md");
        File.WriteAllText(markdown, "# notes\n");
        AssertOneLineError(Run("report", "--framework", "cis", Examples, "--baseline", markdown, "-f", "json"), ": not JSON (line 1); give a report written with 'skjold report -f json'");
    }

    [Fact]
    public void ReportClusterWithPaths_IsRefused_NotOneOfThemSilentlyIgnored()
    {
        // Reading the cluster and also given files: kubectl-style commands refuse rather than pick one.
        AssertOneLineError(Run("report", "--framework", "cis", "--cluster", Examples, "-f", "json"), "give either --cluster or paths, not both");
    }

    [Fact]
    public void ReportNodeResultsThatCannotBeRead_NameTheOptionAndFile()
    {
        AssertOneLineError(Run("report", "--framework", "cis", "--node-results", Path.Combine(_dir, "absent.json"), "-f", "json"), "error: --node-results " + Path.Combine(_dir, "absent.json") + ": ");
    }

    [Fact]
    public void ServerOptionProblems_NameTheFlag_NotTheLibraryProperty()
    {
        var namespaces = Path.Combine(_dir, "ns.json");
        File.WriteAllText(namespaces, "{\"kind\":\"List\",\"items\":[]}");
        File.WriteAllText(Path.Combine(_dir, "short-token"), "short\n");
        Assert.Equal(0, Run("audit", "init", "--data-dir", "trail").ExitCode);

        AssertOneLineError(Run("serve", "--listen", "https://127.0.0.1:0", "--self-signed", "--namespaces-file", namespaces, "--audit-data-dir", "trail", "--audit-token-file", "short-token"),
            "error: audit receiver: --audit-token-file: the audit bearer token must be at least 16 characters");
        AssertOneLineError(Run("audit", "serve", "--data-dir", "trail", "--listen", "https://127.0.0.1:0", "--self-signed"),
            "error: --token-file or --client-ca: the audit receiver needs a bearer token or a client CA");
    }

    [Fact]
    public void Serve_OnABusyPort_IsAOneLineError()
    {
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var port = ((IPEndPoint)busy.LocalEndpoint).Port;
        var namespaces = Path.Combine(_dir, "namespaces.json");
        File.WriteAllText(namespaces, "{\"kind\":\"List\",\"items\":[]}");

        var run = Run("serve", "--listen", $"https://127.0.0.1:{port}", "--self-signed", "--namespaces-file", namespaces);

        AssertOneLineError(run, "address already in use");
    }
}

/// <summary>Help that teaches: every command says how it is used and what its exit codes mean.</summary>
public sealed class HelpTests
{
    private static IEnumerable<System.CommandLine.Command> All(System.CommandLine.Command c) => c.Subcommands.SelectMany(All).Prepend(c);

    public static TheoryData<string> Commands()
    {
        var data = new TheoryData<string>();
        var root = SkjoldCli.Build(new CliContext());
        foreach (var c in All(root).Skip(1))
        {
            data.Add(string.Join(' ', Path(c)));
        }

        return data;
    }

    private static IEnumerable<string> Path(System.CommandLine.Command c) =>
        c.Parents.OfType<System.CommandLine.Command>().FirstOrDefault() is { } parent && parent is not System.CommandLine.RootCommand ? Path(parent).Append(c.Name) : [c.Name];

    [Theory]
    [MemberData(nameof(Commands))]
    public void EveryCommand_HasExamplesAndExitCodes_AndNoDoubledDefault(string command)
    {
        var run = CliRunner.Run(System.IO.Path.GetTempPath(), null, [.. command.Split(' '), "--help"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Examples:", run.Out, StringComparison.Ordinal);
        Assert.Contains("skjold " + command, run.Out[run.Out.IndexOf("Examples:", StringComparison.Ordinal)..], StringComparison.Ordinal);
        Assert.Contains("Exit codes:", run.Out, StringComparison.Ordinal);
        foreach (var line in run.Out.Split('\n'))
        {
            Assert.False(line.Contains("[default: ", StringComparison.Ordinal) && System.Text.RegularExpressions.Regex.IsMatch(line, @"\(default[: ]"), $"doubled default in: {line.Trim()}");
        }
    }

    [Theory]
    [InlineData("report keygen", " report keygen [options]")]
    [InlineData("report verify", " report verify <BUNDLE> [options]")]
    public void SubcommandUsage_DoesNotShowTheParentsArguments(string command, string usage)
    {
        var run = CliRunner.Run(System.IO.Path.GetTempPath(), null, [.. command.Split(' '), "--help"]);

        // The program's name in the usage line is the test host's here.
        Assert.Contains(usage + "\n", run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("<PATH>", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Severities_AreListedInOrder()
    {
        var run = CliRunner.Run(System.IO.Path.GetTempPath(), null, "scan", "--help");

        Assert.Contains("info < low < medium < high < critical", run.Out, StringComparison.Ordinal);
    }
}

/// <summary>-o/--output FILE and -f json on every command that prints results.</summary>
public sealed class OutputEverywhereTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-output-").FullName;

    private static string Snapshot => Path.Combine(RepoPaths.Root, "snapshots", "example-cluster.json");

    public void Dispose() => Directory.Delete(_dir, true);

    public static TheoryData<string[]> Commands() => new()
    {
        new[] { "checks", "-f", "json" },
        new[] { "frameworks", "-f", "json" },
        new[] { "version", "-f", "json" },
        new[] { "rbac", "who-can", "get", "secrets", "-n", "payments", "SNAPSHOT", "-f", "json" },
        new[] { "rbac", "can", "sa:ci/deployer", "SNAPSHOT", "-f", "json" },
        new[] { "rbac", "paths", "SNAPSHOT", "-f", "json" },
        new[] { "netpol", "reach", "--from", "payments/ledger", "--to", "payments/ledger-db:5432/TCP", "SNAPSHOT", "-f", "json" },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public void OutputFile_HoldsWhatStdoutWould(string[] args)
    {
        var resolved = args.Select(a => a == "SNAPSHOT" ? Snapshot : a).ToArray();
        var stdout = CliRunner.Run(_dir, null, resolved);
        var toFile = CliRunner.Run(_dir, null, [.. resolved, "-o", "result.json"]);

        Assert.Equal(stdout.ExitCode, toFile.ExitCode);
        Assert.Equal(string.Empty, toFile.Out);
        var written = File.ReadAllText(Path.Combine(_dir, "result.json"));
        Assert.Equal(stdout.Out, written);
        JsonDocument.Parse(written).Dispose();
    }

    [Fact]
    public void FailedRun_LeavesNoOutputFile()
    {
        var run = CliRunner.Run(_dir, null, "rbac", "who-can", "get", "secrets", Path.Combine(_dir, "missing.json"), "-o", "result.json");

        Assert.Equal(2, run.ExitCode);
        Assert.False(File.Exists(Path.Combine(_dir, "result.json")));
    }
}

/// <summary>-f yaml wherever a command writes JSON: the same document.</summary>
public sealed class YamlOutputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-yaml-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static System.Text.Json.Nodes.JsonNode? FromYaml(string yaml)
    {
        var o = new YamlDotNet.Serialization.DeserializerBuilder().Build().Deserialize<object?>(yaml);
        var json = new YamlDotNet.Serialization.SerializerBuilder().JsonCompatible().Build().Serialize(o);
        return System.Text.Json.Nodes.JsonNode.Parse(json);
    }

    private static string Canon(System.Text.Json.Nodes.JsonNode? n) => n switch
    {
        System.Text.Json.Nodes.JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + ":" + Canon(p.Value))) + "}",
        System.Text.Json.Nodes.JsonArray a => "[" + string.Join(",", a.Select(Canon)) + "]",
        null => "null",
        _ => n.ToString(), // numbers, strings and booleans as text: YAML's scalars carry no JSON type
    };

    [Theory]
    [InlineData("version")]
    [InlineData("checks")]
    [InlineData("rbac who-can get secrets -n payments SNAPSHOT")]
    [InlineData("frameworks")]
    public void Yaml_IsTheJsonDocument(string command)
    {
        var args = command.Split(' ').Select(a => a == "SNAPSHOT" ? Path.Combine(RepoPaths.Root, "snapshots", "example-cluster.json") : a).ToArray();
        var json = CliRunner.Run(_dir, null, [.. args, "-f", "json"]);
        var yaml = CliRunner.Run(_dir, null, [.. args, "-f", "yaml"]);

        Assert.Equal(json.ExitCode, yaml.ExitCode);
        Assert.False(yaml.Out.TrimStart().StartsWith('{') || yaml.Out.TrimStart().StartsWith('['), "not YAML: " + yaml.Out[..Math.Min(80, yaml.Out.Length)]);
        Assert.Equal(Canon(System.Text.Json.Nodes.JsonNode.Parse(json.Out)), Canon(FromYaml(yaml.Out)));
    }

    [Fact]
    public void Yaml_OfAScanWrittenToAFile_IsYaml()
    {
        var run = CliRunner.Run(_dir, null, "scan", Path.Combine(RepoPaths.Root, "examples"), "-f", "yml", "-o", "scan.yaml");

        Assert.Equal(1, run.ExitCode);
        var doc = FromYaml(File.ReadAllText(Path.Combine(_dir, "scan.yaml")))!;
        Assert.Equal("skjold", (string?)doc["tool"]!["name"]);
        Assert.Equal("1", doc["schemaVersion"]!.ToString());
    }
}
