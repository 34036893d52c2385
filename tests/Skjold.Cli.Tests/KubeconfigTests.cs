using System.Text.Json;
using System.Text.Json.Nodes;
using Skjold.TestSupport;

namespace Skjold.Cli.Tests;

/// <summary>
/// Cluster access follows kubectl's loading rules. Two in-process API servers (there is no API
/// server on these machines; <see cref="FakeClusterApi"/> speaks the list protocol) stand for two
/// clusters, so each test can see which one a command talked to. The environment is the test's
/// own: nothing of this process's $KUBECONFIG or $HOME leaks in.
/// </summary>
public sealed class KubeconfigTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-kubeconfig-").FullName;
    private FakeClusterApi _east = null!;
    private FakeClusterApi _west = null!;

    public async Task InitializeAsync()
    {
        var items = (JsonArray)JsonNode.Parse(new ClusterGenerator(2).Generate())!["items"]!;
        _east = new FakeClusterApi(items, "v1.31.2");
        _west = new FakeClusterApi(items, "v1.32.1");
        await _east.StartAsync();
        await _west.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _east.DisposeAsync();
        await _west.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    private static string Cluster(string name, FakeClusterApi api) =>
        $"- name: {name}\n  cluster:\n    server: {api.Address.ToString().TrimEnd('/')}\n";

    private static string User(string name, string token) => $"- name: {name}\n  user:\n    token: {token}\n";

    private static string Context(string name, string cluster, string user, string? ns = null) =>
        $"- name: {name}\n  context:\n    cluster: {cluster}\n    user: {user}\n" + (ns is null ? string.Empty : $"    namespace: {ns}\n");

    private string Write(string name, string clusters, string users, string contexts, string? current)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "apiVersion: v1\nkind: Config\nclusters:\n" + clusters + "users:\n" + users + "contexts:\n" + contexts + (current is null ? string.Empty : $"current-context: {current}\n"));
        return path;
    }

    private Dictionary<string, string> Env(string? kubeconfig = null)
    {
        var env = new Dictionary<string, string> { ["HOME"] = Path.Combine(_dir, "home") };
        if (kubeconfig is not null)
        {
            env["KUBECONFIG"] = kubeconfig;
        }

        return env;
    }

    private CliRun Snapshot(Dictionary<string, string> env, params string[] extra) =>
        CliRunner.RunWithEnvironment(env, _dir, ["snapshot", "-o", "snap.json", .. extra]);

    private string SnapshotVersion() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "snap.json"))).RootElement.GetProperty("metadata").GetProperty("annotations").GetProperty("skjold.io/server-version").GetString()!;

    [Fact]
    public void KubeconfigVariable_IsAListMerged_FirstCurrentContextWins()
    {
        // The first file has the east cluster and no current-context; the second has west and sets it.
        var first = Write("a.yaml", Cluster("east", _east), User("east-reader", _east.Token), Context("east", "east", "east-reader"), current: null);
        var second = Write("b.yaml", Cluster("west", _west), User("west-reader", _west.Token), Context("west", "west", "west-reader"), current: "west");

        var run = Snapshot(Env($"{first}:{second}"));

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal("v1.32.1", SnapshotVersion());
        Assert.Equal(0, _east.PageRequests);

        // The summary as JSON, for scripts.
        var json = Snapshot(Env($"{first}:{second}"), "-f", "json");
        var summary = JsonDocument.Parse(json.Out).RootElement;
        Assert.Equal("v1.32.1", summary.GetProperty("serverVersion").GetString());
        Assert.True(summary.GetProperty("counts").GetProperty("Pod").GetInt32() > 0);

        // A context from the first file is reachable by name through the merge.
        Assert.Equal(0, Snapshot(Env($"{first}:{second}"), "--context", "east").ExitCode);
        Assert.Equal("v1.31.2", SnapshotVersion());
    }

    [Fact]
    public void KubeconfigVariable_FirstFileNamingAnEntryWins_AndMissingFilesAreSkipped()
    {
        // Both files define a context "prod"; kubectl takes the first file's.
        var first = Write("one.yaml", Cluster("c1", _east), User("u1", _east.Token), Context("prod", "c1", "u1"), current: "prod");
        var second = Write("two.yaml", Cluster("c2", _west), User("u2", _west.Token), Context("prod", "c2", "u2"), current: "prod");

        var run = Snapshot(Env($"{Path.Combine(_dir, "absent.yaml")}:{first}:{second}"));

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal("v1.31.2", SnapshotVersion());
    }

    [Fact]
    public void KubeconfigFlag_WinsOverTheVariable_AndHomeConfigIsTheFallback()
    {
        var envFile = Write("env.yaml", Cluster("east", _east), User("r", _east.Token), Context("east", "east", "r"), current: "east");
        var flagFile = Write("flag.yaml", Cluster("west", _west), User("r", _west.Token), Context("west", "west", "r"), current: "west");

        Assert.Equal(0, Snapshot(Env(envFile), "--kubeconfig", flagFile).ExitCode);
        Assert.Equal("v1.32.1", SnapshotVersion());

        Assert.Equal(0, Snapshot(Env(envFile)).ExitCode);
        Assert.Equal("v1.31.2", SnapshotVersion());

        // Neither flag nor variable: ~/.kube/config.
        Write("home/.kube/config", Cluster("west", _west), User("r", _west.Token), Context("west", "west", "r"), current: "west");
        Assert.Equal(0, Snapshot(Env()).ExitCode);
        Assert.Equal("v1.32.1", SnapshotVersion());
    }

    [Fact]
    public void ClusterAndUserOverrides_ReplaceTheContextsParts()
    {
        var file = Write(
            "kc.yaml",
            Cluster("east", _east) + Cluster("west", _west),
            User("east-reader", _east.Token) + User("west-reader", _west.Token) + User("nobody", "wrong-token"),
            Context("main", "east", "nobody"),
            current: "main");

        // The context's user has a wrong token: the server refuses it.
        var refused = Snapshot(Env(file));
        Assert.Equal(2, refused.ExitCode);
        Assert.DoesNotContain("   at ", refused.Error, StringComparison.Ordinal);

        Assert.Equal(0, Snapshot(Env(file), "--kube-user", "east-reader").ExitCode);
        Assert.Equal("v1.31.2", SnapshotVersion());

        Assert.Equal(0, Snapshot(Env(file), "--kube-cluster", "west", "--kube-user", "west-reader").ExitCode);
        Assert.Equal("v1.32.1", SnapshotVersion());
    }

    [Fact]
    public void UnknownNamesAndMissingConfiguration_AreOneLineErrors_AndNoFileIsLeft()
    {
        var file = Write("kc.yaml", Cluster("east", _east), User("r", _east.Token), Context("east", "east", "r"), current: "east");

        var context = Snapshot(Env(file), "--context", "staging");
        Assert.Equal(2, context.ExitCode);
        Assert.Contains("context \"staging\" is not in the kubeconfig", context.Error, StringComparison.Ordinal);
        Assert.Contains("it has: east", context.Error, StringComparison.Ordinal);

        var user = Snapshot(Env(file), "--kube-user", "admin");
        Assert.Equal(2, user.ExitCode);
        Assert.Contains("user \"admin\" is not in the kubeconfig", user.Error, StringComparison.Ordinal);

        var none = Snapshot(Env());
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("no cluster configuration", none.Error, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_dir, "home", ".kube", "config"), none.Error, StringComparison.Ordinal);

        var missingFlag = Snapshot(Env(file), "--kubeconfig", "nope.yaml");
        Assert.Equal(2, missingFlag.ExitCode);
        Assert.Contains("does not exist", missingFlag.Error, StringComparison.Ordinal);

        Assert.False(File.Exists(Path.Combine(_dir, "snap.json")));
        Assert.False(File.Exists(Path.Combine(_dir, "snap.json.partial")));
    }

    [Fact]
    public void ScanCluster_WithNamespace_ReportsOnlyThatNamespacesObjects()
    {
        var file = Write("kc.yaml", Cluster("east", _east), User("r", _east.Token), Context("east", "east", "r", ns: "team-001"), current: "east");

        var all = CliRunner.RunWithEnvironment(Env(file), _dir, "scan", "--cluster", "--format", "json");
        var one = CliRunner.RunWithEnvironment(Env(file), _dir, "scan", "--cluster", "-n", "team-001", "--format", "json");
        var both = CliRunner.RunWithEnvironment(Env(file), _dir, "scan", "--cluster", "-n", "team-001", "-A");

        static List<string?> Namespaces(string json) =>
            [.. JsonDocument.Parse(json).RootElement.GetProperty("findings").EnumerateArray()
                .Select(f => f.GetProperty("resource").TryGetProperty("namespace", out var ns) ? ns.GetString() : null)];

        var allNs = Namespaces(all.Out);
        var oneNs = Namespaces(one.Out);
        Assert.Contains("team-000", allNs);
        Assert.Contains("team-001", oneNs);
        Assert.All(oneNs, ns => Assert.True(ns is null or "team-001", ns));
        Assert.True(oneNs.Count < allNs.Count);
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("not both", both.Error, StringComparison.Ordinal);
    }
}
