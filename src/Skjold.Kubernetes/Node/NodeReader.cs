using System.Runtime.InteropServices;
using System.Text.Json;
using Skjold.Engine.Model;
using Skjold.Engine.Node;
using Skjold.Kubernetes.Loading;

namespace Skjold.Kubernetes.Node;

/// <summary>
/// Reads what the CIS control-plane and node checks need from a node's filesystem, or from a copy
/// of it under <c>root</c>: the kubelet's systemd unit and drop-ins (with their environment
/// files) for its flags, its configuration file and <c>--config-dir</c> drop-ins wherever the flags
/// put them, the static pod manifests (in the kubelet's <c>staticPodPath</c>) for the control-plane
/// components' flags, the audit policy and encryption configuration they name, and the mode and
/// owner of the files the benchmark cares about. Owners are resolved with the node's own
/// /etc/passwd and /etc/group. Nothing is written.
/// </summary>
public sealed partial class NodeReader(string root)
{
    private static readonly string[] UnitFiles = ["/etc/systemd/system/kubelet.service", "/lib/systemd/system/kubelet.service", "/usr/lib/systemd/system/kubelet.service"];
    private static readonly string[] DropInDirs = ["/lib/systemd/system/kubelet.service.d", "/usr/lib/systemd/system/kubelet.service.d", "/etc/systemd/system/kubelet.service.d"];
    private static readonly Dictionary<string, string> Binaries = new(StringComparer.Ordinal)
    {
        ["kube-apiserver"] = "apiserver",
        ["kube-controller-manager"] = "controller-manager",
        ["kube-scheduler"] = "scheduler",
        ["etcd"] = "etcd",
    };

    private readonly string _root = Path.GetFullPath(root);
    private Dictionary<int, string> _users = [];
    private Dictionary<int, string> _groups = [];

    public NodeFacts Read()
    {
        var facts = new NodeFacts();
        _users = ReadIds("/etc/passwd");
        _groups = ReadIds("/etc/group");
        var kubelet = ReadKubelet(facts);

        var manifestDirs = new List<string>();
        if (kubelet?.Config is { } cfg && Json.GetString(cfg, "staticPodPath") is { Length: > 0 } sp)
        {
            manifestDirs.Add(sp);
        }

        if (kubelet is not null && kubelet.Flags.TryGetValue("pod-manifest-path", out var mp))
        {
            manifestDirs.Add(mp);
        }

        manifestDirs.Add("/etc/kubernetes/manifests");
        manifestDirs.Add("/var/lib/rancher/rke2/agent/pod-manifests");
        foreach (var dir in manifestDirs.Distinct(StringComparer.Ordinal))
        {
            ReadStaticPods(dir, facts);
        }

        ReadControlPlaneFiles(facts);
        return facts;
    }

    /// <summary>Where components are looked for (under the root): kubelet units, static pod directories, the kubelet's configuration.</summary>
    public static IReadOnlyList<string> SearchedPaths { get; } =
        [.. UnitFiles, "/etc/kubernetes/manifests", "/var/lib/rancher/rke2/agent/pod-manifests", "/var/lib/kubelet/config.yaml"];

    /// <summary>A host path inside the root.</summary>
    public string Host(string path) => Path.Combine(_root, path.TrimStart('/'));

    private NodeComponent? ReadKubelet(NodeFacts facts)
    {
        // systemd: the unit, then drop-ins in name order (later wins); ExecStart= empties the list.
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        string? execStart = null;
        string? source = null;
        var units = UnitFiles.Where(f => File.Exists(Host(f))).Take(1).ToList();
        foreach (var dir in DropInDirs)
        {
            if (Directory.Exists(Host(dir)))
            {
                units.AddRange(Directory.GetFiles(Host(dir), "*.conf").Order(StringComparer.Ordinal).Select(f => "/" + Path.GetRelativePath(_root, f).Replace('\\', '/')));
            }
        }

        foreach (var unit in units)
        {
            AddFile(facts, "kubelet-service", unit);
            // Backslash-newline continues a line in systemd units.
            foreach (var raw in File.ReadAllText(Host(unit)).Replace("\\\n", " ", StringComparison.Ordinal).Split('\n'))
            {
                var line = raw.Trim();
                if (line.StartsWith("Environment=", StringComparison.Ordinal))
                {
                    foreach (var pair in SplitArgs(line["Environment=".Length..]))
                    {
                        var eq = pair.IndexOf('=', StringComparison.Ordinal);
                        if (eq > 0)
                        {
                            env[pair[..eq]] = pair[(eq + 1)..];
                        }
                    }
                }
                else if (line.StartsWith("EnvironmentFile=", StringComparison.Ordinal))
                {
                    var file = line["EnvironmentFile=".Length..].TrimStart('-');
                    if (File.Exists(Host(file)))
                    {
                        foreach (var envLine in File.ReadAllLines(Host(file)))
                        {
                            var eq = envLine.IndexOf('=', StringComparison.Ordinal);
                            if (eq > 0 && !envLine.TrimStart().StartsWith('#'))
                            {
                                env[envLine[..eq].Trim()] = envLine[(eq + 1)..].Trim().Trim('"', '\'');
                            }
                        }
                    }
                }
                else if (line.StartsWith("ExecStart=", StringComparison.Ordinal))
                {
                    var value = line["ExecStart=".Length..].Trim();
                    execStart = value.Length == 0 ? null : value;
                    source = unit;
                }
            }
        }

        var component = new NodeComponent("kubelet", source ?? "(no kubelet unit found)");
        var found = execStart is not null;
        if (execStart is not null)
        {
            var expanded = EnvReference().Replace(execStart, m => env.GetValueOrDefault(m.Groups["a"].Success ? m.Groups["a"].Value : m.Groups["b"].Value, string.Empty));
            var args = SplitArgs(expanded).ToList();
            ParseFlags(args.Skip(1), component.Flags);
        }

        // The configuration file and its drop-ins: flags win over drop-ins, drop-ins over the file.
        var configPath = component.Flags.GetValueOrDefault("config") ?? (File.Exists(Host("/var/lib/kubelet/config.yaml")) ? "/var/lib/kubelet/config.yaml" : null);
        JsonElement? merged = null;
        if (configPath is not null && File.Exists(Host(configPath)))
        {
            found = true;
            AddFile(facts, "kubelet-config", configPath);
            merged = ReadDocument(configPath, facts);
            component.ConfigFiles.Add(configPath);
        }
        else if (configPath is not null)
        {
            facts.Notes.Add($"kubelet --config {configPath} not found");
        }

        if (component.Flags.GetValueOrDefault("config-dir") is { } dropIns && Directory.Exists(Host(dropIns)))
        {
            foreach (var file in Directory.GetFiles(Host(dropIns), "*.conf").Order(StringComparer.Ordinal))
            {
                var hostPath = "/" + Path.GetRelativePath(_root, file).Replace('\\', '/');
                AddFile(facts, "kubelet-config", hostPath);
                if (ReadDocument(hostPath, facts) is { } part)
                {
                    merged = merged is { } m ? Merge(m, part) : part;
                    component.ConfigFiles.Add(hostPath);
                }
            }
        }

        component.Config = merged;
        if (!found)
        {
            return null;
        }

        facts.Components["kubelet"] = component;
        var kubeconfig = component.Flags.GetValueOrDefault("kubeconfig") ?? "/etc/kubernetes/kubelet.conf";
        AddFile(facts, "kubelet-kubeconfig", kubeconfig);
        var ca = component.Flags.GetValueOrDefault("client-ca-file")
            ?? (merged is { } c ? Json.GetString(Json.Get(Json.Get(c, "authentication"u8), "x509"u8), "clientCAFile") : null);
        if (ca is not null)
        {
            AddFile(facts, "client-ca", ca);
        }

        return component;
    }

    private void ReadStaticPods(string dir, NodeFacts facts)
    {
        if (!Directory.Exists(Host(dir)))
        {
            return;
        }

        foreach (var file in Directory.GetFiles(Host(dir)).Order(StringComparer.Ordinal))
        {
            var hostPath = "/" + Path.GetRelativePath(_root, file).Replace('\\', '/');
            if (ReadDocument(hostPath, facts) is not { } pod)
            {
                continue;
            }

            var containers = Json.Get(Json.Get(pod, "spec"u8), "containers"u8);
            if (containers.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var c in containers.EnumerateArray())
            {
                var argv = Strings(Json.Get(c, "command"u8)).Concat(Strings(Json.Get(c, "args"u8))).ToList();
                if (argv.Count == 0 || !Binaries.TryGetValue(Path.GetFileName(argv[0]), out var name) || facts.Components.ContainsKey(name))
                {
                    continue;
                }

                var component = new NodeComponent(name, hostPath);
                ParseFlags(argv.Skip(1), component.Flags);
                facts.Components[name] = component;
                AddFile(facts, name + "-manifest", hostPath);
            }
        }
    }

    private void ReadControlPlaneFiles(NodeFacts facts)
    {
        if (facts.Components.TryGetValue("apiserver", out var api))
        {
            AddFile(facts, "admin-kubeconfig", "/etc/kubernetes/admin.conf");
            AddFile(facts, "admin-kubeconfig", "/etc/kubernetes/super-admin.conf");
            if (api.Flags.TryGetValue("audit-policy-file", out var audit))
            {
                facts.AuditPolicy = ReadDocument(audit, facts) is { } a ? (audit, a) : null;
            }

            if (api.Flags.TryGetValue("encryption-provider-config", out var enc))
            {
                facts.EncryptionConfiguration = ReadDocument(enc, facts) is { } e ? (enc, e) : null;
            }

            var pki = api.Flags.TryGetValue("client-ca-file", out var clientCa) ? Path.GetDirectoryName(clientCa)!.Replace('\\', '/') : "/etc/kubernetes/pki";
            if (Directory.Exists(Host(pki)))
            {
                AddFile(facts, "pki", pki);
                foreach (var file in Directory.EnumerateFileSystemEntries(Host(pki), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    var hostPath = "/" + Path.GetRelativePath(_root, file).Replace('\\', '/');
                    AddFile(facts, "pki", hostPath);
                    if (file.EndsWith(".crt", StringComparison.Ordinal))
                    {
                        AddFile(facts, "pki-certificates", hostPath);
                    }
                    else if (file.EndsWith(".key", StringComparison.Ordinal))
                    {
                        AddFile(facts, "pki-keys", hostPath);
                    }
                }
            }
        }

        if (facts.Components.TryGetValue("scheduler", out var scheduler))
        {
            AddFile(facts, "scheduler-kubeconfig", scheduler.Flags.GetValueOrDefault("kubeconfig") ?? "/etc/kubernetes/scheduler.conf");
        }

        if (facts.Components.TryGetValue("controller-manager", out var cm))
        {
            AddFile(facts, "controller-manager-kubeconfig", cm.Flags.GetValueOrDefault("kubeconfig") ?? "/etc/kubernetes/controller-manager.conf");
        }

        if (facts.Components.TryGetValue("etcd", out var etcd))
        {
            AddFile(facts, "etcd-data-dir", etcd.Flags.GetValueOrDefault("data-dir") ?? "/var/lib/etcd");
        }
    }

    /// <summary>Records a file that exists, with its mode and owner.</summary>
    private void AddFile(NodeFacts facts, string logical, string hostPath)
    {
        var full = Host(hostPath);
        if (!File.Exists(full) && !Directory.Exists(full))
        {
            return;
        }

        if (!TryStat(full, out var mode, out var uid, out var gid))
        {
            facts.Notes.Add($"cannot read the mode and owner of {hostPath}");
            return;
        }

        var owner = $"{_users.GetValueOrDefault(uid, uid.ToString(System.Globalization.CultureInfo.InvariantCulture))}:{_groups.GetValueOrDefault(gid, gid.ToString(System.Globalization.CultureInfo.InvariantCulture))}";
        facts.AddFile(logical, new NodeFile(hostPath, mode, owner, Directory.Exists(full)));
    }

    private JsonElement? ReadDocument(string hostPath, NodeFacts facts)
    {
        var full = Host(hostPath);
        if (!File.Exists(full))
        {
            facts.Notes.Add($"{hostPath} not found");
            return null;
        }

        try
        {
            var result = new ManifestLoader(new LoaderOptions { MaxFileBytes = 16 << 20 }).LoadText(hostPath, File.ReadAllText(full));
            if (result.Resources.Count > 0)
            {
                return result.Resources[0].Root;
            }

            facts.Notes.Add($"{hostPath}: {string.Join("; ", result.Diagnostics.Select(d => d.Message))}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            facts.Notes.Add($"{hostPath}: {ex.Message}");
        }

        return null;
    }

    private Dictionary<int, string> ReadIds(string file)
    {
        var map = new Dictionary<int, string> { [0] = "root" };
        if (File.Exists(Host(file)))
        {
            foreach (var line in File.ReadLines(Host(file)))
            {
                var parts = line.Split(':');
                if (parts.Length >= 3 && int.TryParse(parts[2], System.Globalization.CultureInfo.InvariantCulture, out var id))
                {
                    map.TryAdd(id, parts[0]);
                }
            }
        }

        return map;
    }

    /// <summary>Mode and owner through statx(2), whose layout is the same on every Linux architecture.</summary>
    private static bool TryStat(string path, out int mode, out int uid, out int gid)
    {
        mode = uid = gid = 0;
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        var buffer = new byte[256];
        const int AtFdCwd = -100;
        const uint StatxBasicStats = 0x7ff;
        if (Statx(AtFdCwd, path, 0, StatxBasicStats, buffer) != 0)
        {
            return false;
        }

        uid = BitConverter.ToInt32(buffer, 20);
        gid = BitConverter.ToInt32(buffer, 24);
        mode = BitConverter.ToUInt16(buffer, 28) & 0xFFF;
        return true;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, [Out] byte[] buffer);

    [System.Text.RegularExpressions.GeneratedRegex(@"\$\{(?<a>[A-Za-z_][A-Za-z0-9_]*)\}|\$(?<b>[A-Za-z_][A-Za-z0-9_]*)")]
    private static partial System.Text.RegularExpressions.Regex EnvReference();
}
