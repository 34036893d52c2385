using System.Text.Json;

namespace Skjold.Engine.Node;

/// <summary>A file or directory the CIS checks look at, with its mode and owner as found on the node.</summary>
public sealed record NodeFile(string Path, int Mode, string Owner, bool IsDirectory);

/// <summary>
/// A control-plane component or the kubelet as configured on the node: its command-line flags
/// (name without dashes to value), where they were read, and for the kubelet the effective
/// configuration file content (main file merged with drop-ins) and where each part came from.
/// </summary>
public sealed class NodeComponent(string name, string source)
{
    public string Name { get; } = name;

    /// <summary>The file the flags were read from (static pod manifest, systemd unit, process command line).</summary>
    public string Source { get; } = source;

    public Dictionary<string, string> Flags { get; } = new(StringComparer.Ordinal);

    /// <summary>The kubelet's effective configuration (KubeletConfiguration), if it has one.</summary>
    public JsonElement? Config { get; set; }

    /// <summary>Files the configuration was merged from, in order (main file first, then drop-ins).</summary>
    public List<string> ConfigFiles { get; } = [];
}

/// <summary>What <c>skjold node-check</c> found on a node: components, files, and the API server's audit and encryption configuration.</summary>
public sealed class NodeFacts
{
    public Dictionary<string, NodeComponent> Components { get; } = new(StringComparer.Ordinal);

    /// <summary>Files by the logical names the rules use (apiserver-manifest, pki-keys, kubelet-config, ...).</summary>
    public Dictionary<string, List<NodeFile>> Files { get; } = new(StringComparer.Ordinal);

    public (string Path, JsonElement Content)? AuditPolicy { get; set; }

    public (string Path, JsonElement Content)? EncryptionConfiguration { get; set; }

    /// <summary>Things the reader could not read or resolve, reported with the results.</summary>
    public List<string> Notes { get; } = [];

    public void AddFile(string logical, NodeFile file)
    {
        if (!Files.TryGetValue(logical, out var list))
        {
            Files[logical] = list = [];
        }

        if (!list.Any(f => f.Path == file.Path))
        {
            list.Add(file);
        }
    }
}
