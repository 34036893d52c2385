using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Skjold.TestSupport;

namespace Skjold.Cli.Tests;

/// <summary>
/// Every <c>skjold</c> command in the README's shell blocks runs as written, in the order written,
/// in a workspace laid out as a new user's would be: the shipped <c>examples/</c> and
/// <c>snapshots/</c>, a <c>manifests/</c> directory, and a cluster behind <c>$KUBECONFIG</c>
/// (an in-process API server: there is no Kubernetes here). Lines that only call other tools
/// (dotnet, ln, mkdir) are not skjold's; where a line pipes another tool's output into skjold
/// (helm, kustomize, kubectl), skjold reads the equivalent manifests on stdin. Three
/// substitutions, each because the line is meant for a machine the test is not: <c>serve</c> is
/// parsed, not left running; <c>node-check --root /</c> reads a fake node's files; <c>node.json</c>
/// (the user's own node-check result) is the shipped example's. A command passes when it exits 0
/// or 1 (findings) and prints no error.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class ReadmeCommandsTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-readme-").FullName;
    private FakeClusterApi _api = null!;

    public async Task InitializeAsync()
    {
        var items = (JsonArray)JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "snapshots", "example-cluster.json")))!["items"]!;
        _api = new FakeClusterApi(items, "v1.33.4");
        await _api.StartAsync();
        foreach (var shipped in new[] { "examples", "snapshots" })
        {
            Directory.CreateSymbolicLink(Path.Combine(_dir, shipped), Path.Combine(RepoPaths.Root, shipped));
        }

        Directory.CreateSymbolicLink(Path.Combine(_dir, "manifests"), Path.Combine(RepoPaths.Root, "examples", "insecure-app"));
        File.Copy(Path.Combine(RepoPaths.Root, "snapshots", "node-results", "control-plane-1.json"), Path.Combine(_dir, "node.json"));
        NodeTrees.KubeadmDefault(Path.Combine(_dir, "node-root"));
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    /// <summary>The README's shell lines, continuations joined, comments dropped.</summary>
    private static List<string> ReadmeLines()
    {
        var lines = new List<string>();
        var inBlock = false;
        var pending = new StringBuilder();
        foreach (var raw in File.ReadAllLines(Path.Combine(RepoPaths.Root, "README.md")))
        {
            if (raw.StartsWith("```", StringComparison.Ordinal))
            {
                inBlock = !inBlock && raw.Trim() == "```sh";
                continue;
            }

            if (!inBlock)
            {
                continue;
            }

            var line = Comment().Replace(raw, string.Empty).TrimEnd();
            if (line.EndsWith('\\'))
            {
                pending.Append(line[..^1]).Append(' ');
                continue;
            }

            pending.Append(line);
            if (pending.ToString().Trim() is { Length: > 0 } whole)
            {
                lines.Add(whole);
            }

            pending.Clear();
        }

        return lines;
    }

    [GeneratedRegex(@"\s+#\s.*$|^#.*$")]
    private static partial Regex Comment();

    /// <summary>One skjold invocation of a README line: its arguments, stdin and where stdout goes.</summary>
    private sealed record Invocation(string Line, string[] Args, string? Stdin, string? StdoutTo);

    private List<Invocation> Invocations(string manifestsYaml, string clusterJson)
    {
        var result = new List<Invocation>();
        foreach (var line in ReadmeLines())
        {
            foreach (var part in line.Split("&&", StringSplitOptions.TrimEntries))
            {
                var text = part;
                string? stdin = null;
                if (text.StartsWith("source <(", StringComparison.Ordinal))
                {
                    text = text["source <(".Length..].TrimEnd(')');
                }

                if (text.Contains('|', StringComparison.Ordinal))
                {
                    var producer = text[..text.IndexOf('|', StringComparison.Ordinal)];
                    stdin = producer.TrimStart().StartsWith("kubectl", StringComparison.Ordinal) ? clusterJson : manifestsYaml;
                    text = text[(text.IndexOf('|', StringComparison.Ordinal) + 1)..].Trim();
                }

                string? stdoutTo = null;
                if (text.Contains(" > ", StringComparison.Ordinal))
                {
                    stdoutTo = text[(text.IndexOf(" > ", StringComparison.Ordinal) + 3)..].Trim();
                    text = text[..text.IndexOf(" > ", StringComparison.Ordinal)].Trim();
                }

                const string DotnetRun = "dotnet run --project src/Skjold.Cli -c Release -- ";
                if (text.StartsWith(DotnetRun, StringComparison.Ordinal))
                {
                    text = "skjold " + text[DotnetRun.Length..];
                }

                if (!text.StartsWith("skjold ", StringComparison.Ordinal))
                {
                    continue; // dotnet, mkdir, ln: not skjold's
                }

                var args = text["skjold ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (args is ["node-check", "--root", "/", ..])
                {
                    args[2] = Path.Combine(_dir, "node-root");
                }

                result.Add(new Invocation(line, args, stdin, stdoutTo));
            }
        }

        return result;
    }

    [Fact]
    public void EveryReadmeCommand_RunsAsWritten()
    {
        var kubeconfig = _api.WriteKubeconfig(_dir);
        var env = new Dictionary<string, string> { ["KUBECONFIG"] = kubeconfig, ["HOME"] = _dir };
        var manifests = string.Join("\n---\n", Directory.GetFiles(Path.Combine(RepoPaths.Root, "examples", "insecure-app"), "*.yaml").Order(StringComparer.Ordinal).Select(File.ReadAllText));
        var clusterJson = File.ReadAllText(Path.Combine(RepoPaths.Root, "snapshots", "example-cluster.json"));
        var invocations = Invocations(manifests, clusterJson);
        Assert.True(invocations.Count >= 25, $"only {invocations.Count} skjold commands found in the README");

        var failures = new List<string>();
        foreach (var inv in invocations)
        {
            if (inv.Args[0] == "serve")
            {
                var parse = SkjoldCli.Build(new CliContext { WorkingDirectory = _dir }).Parse(inv.Args);
                if (parse.Errors.Count > 0)
                {
                    failures.Add($"{inv.Line}\n    does not parse: {parse.Errors[0].Message}");
                }

                continue;
            }

            var run = CliRunner.RunWithEnvironment(env, _dir, inv.Stdin, inv.Args);
            if (inv.StdoutTo is { } file)
            {
                File.WriteAllText(Path.Combine(_dir, file), run.Out);
            }

            if (run.ExitCode is not (0 or 1) || run.Error.Contains("error:", StringComparison.Ordinal))
            {
                failures.Add($"{inv.Line}\n    exit {run.ExitCode}: {run.Error.Split('\n').FirstOrDefault(l => l.Contains("error", StringComparison.Ordinal)) ?? run.Error.Trim()}");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {invocations.Count} README commands fail as written:\n" + string.Join("\n", failures));
        Assert.True(File.Exists(Path.Combine(_dir, "cluster.json")), "the README's snapshot step wrote no cluster.json");
        Assert.True(File.Exists(Path.Combine(_dir, "evidence.json")), "the README's bundle step wrote no evidence.json");
    }
}
