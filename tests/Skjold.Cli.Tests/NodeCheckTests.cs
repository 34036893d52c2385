using System.Runtime.Versioning;
using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Node;
using Skjold.Kubernetes.Node;
using Skjold.TestSupport;

namespace Skjold.Cli.Tests;

/// <summary>skjold node-check on generated node trees: kubeadm defaults, hardened, and configuration in unusual places.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class NodeCheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-node-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Dictionary<string, NodeCheckResult> Results(string root) =>
        NodeEvaluator.Evaluate(new NodeReader(root).Read()).ToDictionary(r => r.Id);

    [Fact]
    public void KubeadmDefaults_FailWhatKubeadmLeavesOpen_PassTheRest()
    {
        NodeTrees.KubeadmDefault(_dir);
        var r = Results(_dir);
        string[] fail =
        [
            "node/1.1.12", "node/1.2.1", "node/1.2.5", "node/1.2.15", "node/1.2.16", "node/1.2.17", "node/1.2.18", "node/1.2.19", "node/1.2.27", "node/1.2.28",
            "node/1.2.30", "node/1.3.2", "node/1.4.1", "node/3.2.1", "node/3.2.2", "node/4.1.1", "node/4.1.9", "node/4.2.13", "node/4.2.14",
        ];
        string[] pass =
        [
            "node/1.1.1", "node/1.1.2", "node/1.1.7", "node/1.1.11", "node/1.1.13", "node/1.1.19", "node/1.1.20", "node/1.1.21", "node/1.2.2", "node/1.2.4", "node/1.2.6",
            "node/1.2.7", "node/1.2.8", "node/1.2.10", "node/1.2.14", "node/1.2.22", "node/1.2.23", "node/1.2.24", "node/1.2.25", "node/1.2.26", "node/1.3.3",
            "node/1.3.7", "node/1.4.2", "node/2.1", "node/2.2", "node/2.3", "node/2.5", "node/4.1.2", "node/4.1.5", "node/4.1.7", "node/4.2.1", "node/4.2.2",
            "node/4.2.3", "node/4.2.4", "node/4.2.10",
        ];
        Assert.All(fail, id => Assert.True(r[id].Status == NodeStatus.Fail, $"{id} should fail: {r[id].Evidence}"));
        Assert.All(pass, id => Assert.True(r[id].Status == NodeStatus.Pass, $"{id} should pass: {r[id].Evidence}"));
        Assert.Contains("/var/lib/etcd is owned by root:root", r["node/1.1.12"].Evidence, StringComparison.Ordinal);
        Assert.Contains("mode 644", r["node/4.1.9"].Evidence, StringComparison.Ordinal);
        Assert.Contains("read from /var/lib/kubelet/config.yaml", r["node/4.2.1"].Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void HardenedNode_PassesEveryApplicableCheck()
    {
        NodeTrees.Hardened(_dir);
        var r = Results(_dir);
        var failed = r.Values.Where(x => x.Status == NodeStatus.Fail).Select(x => $"{x.Id}: {x.Evidence}").ToList();
        Assert.Empty(failed);
        Assert.True(r.Values.Count(x => x.Status == NodeStatus.Pass) >= 70);
        Assert.Equal(NodeStatus.Pass, r["node/3.2.2"].Status);
        Assert.Equal(NodeStatus.Pass, r["node/1.2.28"].Status);
    }

    [Fact]
    public void UnusualPlaces_ConfigDirDropInsOverrideTheFile_FlagsOverrideBoth()
    {
        NodeTrees.UnusualPlaces(_dir);
        var facts = new NodeReader(_dir).Read();
        Assert.Equal("/usr/lib/systemd/system/kubelet.service", facts.Components["kubelet"].Source);
        Assert.Equal(["/opt/k8s/kubelet/config.yaml", "/etc/kubernetes/kubelet.conf.d/50-hardening.conf"], facts.Components["kubelet"].ConfigFiles);
        Assert.Equal("/srv/k8s/static/kube-apiserver.yaml", facts.Components["apiserver"].Source); // found through staticPodPath
        var r = NodeEvaluator.Evaluate(facts).ToDictionary(x => x.Id);

        Assert.Equal(NodeStatus.Pass, r["node/4.2.1"].Status); // the drop-in turns anonymous auth off
        Assert.Contains("50-hardening.conf", r["node/4.2.1"].Evidence, StringComparison.Ordinal);
        Assert.Equal(NodeStatus.Pass, r["node/4.2.2"].Status);
        Assert.Equal(NodeStatus.Pass, r["node/4.2.13"].Status);
        Assert.Equal(NodeStatus.Pass, r["node/4.2.14"].Status); // from the main file
        Assert.Equal(NodeStatus.Fail, r["node/4.2.4"].Status); // --read-only-port=10255 on the command line wins
        Assert.Contains("--read-only-port=10255", r["node/4.2.4"].Evidence, StringComparison.Ordinal);
        Assert.Equal(NodeStatus.Fail, r["node/4.1.5"].Status); // kubeconfig from --kubeconfig, mode 640
        Assert.Contains("/opt/k8s/kubelet/kubeconfig", r["node/4.1.5"].Evidence, StringComparison.Ordinal);
        Assert.Equal(NodeStatus.NotApplicable, r["node/2.1"].Status); // no etcd on this node
        Assert.Equal(NodeStatus.NotApplicable, r["node/1.3.2"].Status);
    }

    [Fact]
    public void EmptyRoot_EverythingNotApplicable()
    {
        var r = Results(_dir);
        Assert.All(r.Values, x => Assert.Equal(NodeStatus.NotApplicable, x.Status));
    }

    [Fact]
    public void Cli_JsonReportWithEvaluatedChecks_AndExitCodes()
    {
        NodeTrees.KubeadmDefault(_dir);
        var run = CliRunner.Run(_dir, null, "node-check", "--root", _dir, "--format", "json");
        Assert.Equal(1, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Out);
        var ids = doc.RootElement.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("checkId").GetString()).ToHashSet();
        Assert.Contains("node/1.2.15", ids);
        Assert.DoesNotContain("node/1.2.8", ids);
        var evaluated = doc.RootElement.GetProperty("evaluatedChecks").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("node/1.2.8", evaluated);
        Assert.Contains("passed", run.Error, StringComparison.Ordinal);
        var profiling = doc.RootElement.GetProperty("findings").EnumerateArray().First(f => f.GetProperty("checkId").GetString() == "node/1.2.15");
        Assert.EndsWith("kube-apiserver.yaml", profiling.GetProperty("location").GetProperty("file").GetString(), StringComparison.Ordinal);

        NodeTrees.Hardened(Directory.CreateTempSubdirectory("skjold-node-h-").FullName is var hardened ? hardened : throw new InvalidOperationException());
        try
        {
            var ok = CliRunner.Run(_dir, null, "node-check", "--root", hardened);
            Assert.Equal(0, ok.ExitCode);
            Assert.Contains(" 0 checks FAIL,", ok.Out, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(hardened, recursive: true);
        }

        var missing = CliRunner.Run(_dir, null, "node-check", "--root", Path.Combine(_dir, "nope"));
        Assert.Equal(2, missing.ExitCode);
    }

    [Fact]
    public void Cli_TableReadsLikeACisReport()
    {
        NodeTrees.KubeadmDefault(_dir);

        var run = CliRunner.Run(_dir, null, "node-check", "--root", _dir);

        Assert.Equal(1, run.ExitCode);
        var lines = run.Out.Split('\n');
        Assert.Contains("[INFO] 1 Control plane", lines);
        Assert.Contains("[INFO] 1.2 API server", lines);
        Assert.Contains(lines, l => l.StartsWith("[FAIL] 1.2.15 ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("[PASS] 1.2.8 ", StringComparison.Ordinal));
        Assert.DoesNotContain("Scanned 0 resources", run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("Pod Security", run.Out, StringComparison.Ordinal);

        // 1.2.8 before 1.2.10: CIS order, not string order; etcd's checks directly under 2.
        var i8 = Array.FindIndex(lines, l => l.Contains(" 1.2.8 ", StringComparison.Ordinal));
        var i10 = Array.FindIndex(lines, l => l.Contains(" 1.2.10 ", StringComparison.Ordinal));
        Assert.True(i8 >= 0 && i10 > i8);
        Assert.Contains("[INFO] 2 etcd", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("[INFO] 2.1 ", StringComparison.Ordinal));

        // A fix for every failure, then a summary per section and in total.
        var remediations = run.Out[run.Out.IndexOf("== Remediations ==", StringComparison.Ordinal)..];
        Assert.Contains("1.2.15 ", remediations, StringComparison.Ordinal);
        Assert.Matches(@"\n1 Control plane: \d+ checks PASS, \d+ checks FAIL, \d+ checks INFO", run.Out);
        Assert.Matches(@"\nTotal: \d+ checks PASS, [1-9]\d* checks FAIL, \d+ checks INFO", run.Out);
    }

    [Fact]
    public void Cli_NoComponentUnderRoot_IsExit2_SayingWhereItLooked()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "etc"));

        var run = CliRunner.Run(_dir, null, "node-check", "--root", _dir);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: no Kubernetes component found under", run.Error, StringComparison.Ordinal);
        Assert.Contains("/etc/kubernetes/manifests", run.Error, StringComparison.Ordinal);
        Assert.Contains("kubelet.service", run.Error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, run.Out);
    }

    [Fact]
    public void EveryAutomatedKubeBenchCheck_HasASkjoldRule_AndEveryRuleIsInTheCatalog()
    {
        var dir = Path.Combine(RepoPaths.Peers, "kube-bench");
        var automated = new List<string>();
        foreach (var file in new[] { "master.yaml", "etcd.yaml", "node.yaml", "controlplane.yaml" })
        {
            // kube-bench's files hold shell snippets YamlDotNet refuses; the id and text lines are regular.
            string? id = null;
            foreach (var line in File.ReadLines(Path.Combine(dir, file)))
            {
                var t = line.Trim();
                if (t.StartsWith("- id: ", StringComparison.Ordinal))
                {
                    id = t["- id: ".Length..].Trim('"');
                }
                else if (id is not null && t.StartsWith("text: ", StringComparison.Ordinal))
                {
                    if (id.Count(c => c == '.') >= 1 && (t.Contains("(Automated)", StringComparison.Ordinal) || id.StartsWith("3.2.", StringComparison.Ordinal)))
                    {
                        automated.Add(id);
                    }

                    id = null;
                }
            }
        }

        var rules = NodeEvaluator.RuleIds.ToHashSet();
        var missing = automated.Where(id => !rules.Contains("node/" + id)).ToList();
        // 4.3.1 concerns kube-proxy, which runs as a DaemonSet and keeps no configuration on the node's disk.
        Assert.Equal(["4.3.1"], missing);
        Assert.All(rules, id => Assert.True(CheckCatalog.Default.Contains(id), $"{id} has no catalog entry"));
        Assert.All(CheckCatalog.Default.All.Where(c => c.Id.StartsWith("node/", StringComparison.Ordinal)), c => Assert.Contains(c.Id, rules));
    }

    [Fact]
    public void DeployManifests_NeedOnlyReadOnlyHostMounts()
    {
        var run = CliRunner.Run(RepoPaths.Root, null, "scan", "deploy/node-check", "--pss-level", "restricted", "--format", "json");
        using var doc = JsonDocument.Parse(run.Out);
        var ids = doc.RootElement.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("checkId").GetString()!).ToHashSet();
        // What the job inherently needs: host paths, and root to read root-owned 0600 files. Nothing else.
        Assert.Subset(new HashSet<string> { "pss/hostPathVolumes", "pss/restrictedVolumes", "pss/runAsNonRoot", "pss/runAsUser", "wl/image-digest", "wl/liveness-probe", "wl/readiness-probe" }, ids);
        var text = File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "node-check", "daemonset.yaml"));
        Assert.Equal(9, text.Split("readOnly: true").Length - 1);
    }
}
