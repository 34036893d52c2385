using System.Globalization;
using System.Text.Json;
using Skjold.Engine.Model;
using YamlDotNet.RepresentationModel;

namespace Skjold.Engine.Node;

public enum NodeStatus
{
    Pass,
    Fail,
    NotApplicable,
}

/// <summary>The outcome of one CIS node check, with the evidence it rests on.</summary>
public sealed record NodeCheckResult(string Id, NodeStatus Status, string Evidence, string Subject, string? File, string? Setting);

/// <summary>
/// Evaluates the CIS control-plane and node checks (rules in <c>Data/node-rules.yaml</c>) over the
/// facts read from a node. Pure: no I/O.
/// </summary>
public static class NodeEvaluator
{
    internal sealed record Rule(string Id, string? File, string? Mode, string? Owner, string? Component, string? Flag, string? Config,
        string? Expect, string? Value, string? Also, bool UnsetPasses, string? Special);

    private static readonly Lazy<IReadOnlyList<Rule>> LazyRules = new(LoadRules);

    internal static IReadOnlyList<Rule> Rules => LazyRules.Value;

    /// <summary>The ids of every rule, for catalog consistency tests.</summary>
    public static IEnumerable<string> RuleIds => Rules.Select(r => r.Id);

    public static List<NodeCheckResult> Evaluate(NodeFacts facts) => [.. Rules.Select(r => Evaluate(r, facts))];

    private static NodeCheckResult Evaluate(Rule rule, NodeFacts facts)
    {
        if (rule.File is { } logical)
        {
            return EvaluateFile(rule, logical, facts);
        }

        var componentName = rule.Component!;
        if (!facts.Components.TryGetValue(componentName, out var component))
        {
            return new NodeCheckResult(rule.Id, NodeStatus.NotApplicable, $"no {componentName} on this node", componentName, null, null);
        }

        return rule.Special switch
        {
            "encryption-providers" => Encryption(rule, facts, component),
            "audit-policy-coverage" => AuditCoverage(rule, facts, component),
            _ => EvaluateSetting(rule, component),
        };
    }

    private static NodeCheckResult EvaluateFile(Rule rule, string logical, NodeFacts facts)
    {
        if (!facts.Files.TryGetValue(logical, out var files) || files.Count == 0)
        {
            return new NodeCheckResult(rule.Id, NodeStatus.NotApplicable, $"{logical}: not found on this node", logical, null, null);
        }

        var bad = new List<string>();
        foreach (var f in files)
        {
            if (rule.Mode is { } modeText)
            {
                var allowed = Convert.ToInt32(modeText, 8);
                if ((f.Mode & ~allowed & 0x1FF) != 0)
                {
                    bad.Add($"{f.Path} has mode {Convert.ToString(f.Mode & 0xFFF, 8)}, more permissive than {modeText}");
                }
            }
            else if (rule.Owner is { } owner && f.Owner != owner)
            {
                bad.Add($"{f.Path} is owned by {f.Owner}, not {owner}");
            }
        }

        var what = rule.Mode is not null ? $"mode at most {rule.Mode}" : $"owner {rule.Owner}";
        return bad.Count == 0
            ? new NodeCheckResult(rule.Id, NodeStatus.Pass, $"{string.Join(", ", files.Select(f => f.Path))}: {what}", logical, files[0].Path, null)
            : new NodeCheckResult(rule.Id, NodeStatus.Fail, string.Join("; ", bad.Take(5)) + (bad.Count > 5 ? $"; and {bad.Count - 5} more" : string.Empty), logical,
                files.First(f => bad.Any(b => b.StartsWith(f.Path, StringComparison.Ordinal))).Path, null);
    }

    /// <summary>A flag, or the kubelet configuration field that stands for it (a flag wins), against the expectation.</summary>
    private static NodeCheckResult EvaluateSetting(Rule rule, NodeComponent c)
    {
        string? value = null;
        string where;
        string setting;
        if (rule.Flag is { } flag && c.Flags.TryGetValue(flag, out var flagValue))
        {
            value = flagValue;
            setting = "--" + flag;
            where = c.Source;
            if (flag == "feature-gates" && rule.Config is { } gatePath && gatePath.StartsWith("featureGates.", StringComparison.Ordinal))
            {
                value = FeatureGate(flagValue, gatePath["featureGates.".Length..]);
                setting = $"--feature-gates {gatePath["featureGates.".Length..]}";
            }
        }
        else if (rule.Config is { } path && c.Config is { } config && ConfigValue(config, path) is { } configValue)
        {
            value = configValue;
            setting = path;
            where = string.Join(" + ", c.ConfigFiles);
        }
        else
        {
            setting = rule.Flag is not null ? "--" + rule.Flag : rule.Config!;
            where = c.Source;
        }

        var shown = value is null ? $"{setting} not set" : $"{setting}={value}";
        bool pass;
        if (value is null)
        {
            pass = rule.Expect == "absent" || rule.UnsetPasses;
        }
        else
        {
            pass = rule.Expect switch
            {
                "present" => value.Length > 0,
                "absent" => false,
                "equals" => string.Equals(value, rule.Value, StringComparison.OrdinalIgnoreCase),
                "notEquals" => !string.Equals(value, rule.Value, StringComparison.OrdinalIgnoreCase) && !(rule.Value == "0" && value is "0s" or "0m" or "0h"),
                "includes" => List(value).Contains(rule.Value!, StringComparer.OrdinalIgnoreCase),
                "excludes" => !List(value).Contains(rule.Value!, StringComparer.OrdinalIgnoreCase),
                "atLeast" => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= double.Parse(rule.Value!, CultureInfo.InvariantCulture),
                _ => false,
            };
        }

        if (pass && rule.Also is { } also && !c.Flags.ContainsKey(also))
        {
            pass = false;
            shown += $", --{also} not set";
        }

        var expectation = rule.Expect switch
        {
            "present" => "must be set",
            "absent" => "must not be set",
            "equals" => $"must be {rule.Value}",
            "notEquals" => $"must not be {rule.Value}",
            "includes" => $"must include {rule.Value}",
            "excludes" => $"must not include {rule.Value}",
            "atLeast" => $"must be at least {rule.Value}",
            _ => string.Empty,
        };
        return new NodeCheckResult(rule.Id, pass ? NodeStatus.Pass : NodeStatus.Fail, $"{c.Name}: {shown} ({expectation}; read from {where})", c.Name,
            setting.StartsWith("--", StringComparison.Ordinal) ? c.Source : c.ConfigFiles.LastOrDefault() ?? c.Source, setting);
    }

    private static string? FeatureGate(string gates, string name)
    {
        foreach (var g in List(gates))
        {
            var eq = g.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && g[..eq] == name)
            {
                return g[(eq + 1)..];
            }
        }

        return null;
    }

    private static string[] List(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string? ConfigValue(JsonElement config, string dotted)
    {
        var e = config;
        foreach (var part in dotted.Split('.'))
        {
            e = Json.Get(e, part);
            if (e.ValueKind == JsonValueKind.Undefined)
            {
                return null;
            }
        }

        return e.ValueKind switch
        {
            JsonValueKind.String => e.GetString(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Number => e.GetRawText(),
            JsonValueKind.Null => null,
            _ => e.GetRawText(),
        };
    }

    private static NodeCheckResult Encryption(Rule rule, NodeFacts facts, NodeComponent c)
    {
        if (facts.EncryptionConfiguration is not { } enc)
        {
            return new NodeCheckResult(rule.Id, c.Flags.ContainsKey("encryption-provider-config") ? NodeStatus.Fail : NodeStatus.Fail,
                c.Flags.TryGetValue("encryption-provider-config", out var p) ? $"--encryption-provider-config={p} could not be read" : "no --encryption-provider-config: secrets are stored unencrypted",
                c.Name, c.Source, "--encryption-provider-config");
        }

        var resources = Json.Get(enc.Content, "resources"u8);
        if (resources.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in resources.EnumerateArray())
            {
                var names = Json.Get(entry, "resources"u8);
                if (names.ValueKind == JsonValueKind.Array && names.EnumerateArray().Any(n => Json.AsString(n) is "secrets" or "*.*" or "*."))
                {
                    var providers = Json.Get(entry, "providers"u8);
                    var first = providers.ValueKind == JsonValueKind.Array && providers.GetArrayLength() > 0
                        ? providers[0].EnumerateObject().Select(x => x.Name).FirstOrDefault() : null;
                    var ok = first is "aescbc" or "aesgcm" or "secretbox" or "kms";
                    return new NodeCheckResult(rule.Id, ok ? NodeStatus.Pass : NodeStatus.Fail,
                        $"first provider for secrets in {enc.Path}: {first ?? "(none)"}{(ok ? string.Empty : "; secrets are written unencrypted")}", c.Name, enc.Path, "providers[0]");
                }
            }
        }

        return new NodeCheckResult(rule.Id, NodeStatus.Fail, $"{enc.Path} has no entry for secrets: they are stored unencrypted", c.Name, enc.Path, "resources");
    }

    /// <summary>
    /// CIS 3.2.2: the policy records (at least Metadata) access to secrets, configmaps and token
    /// reviews without their bodies, changes to pods and deployments, and exec, attach, port-forward
    /// and proxy. Rules are matched in order, first match wins, as the API server does.
    /// </summary>
    private static NodeCheckResult AuditCoverage(Rule rule, NodeFacts facts, NodeComponent c)
    {
        if (facts.AuditPolicy is not { } policy)
        {
            return new NodeCheckResult(rule.Id, NodeStatus.Fail,
                c.Flags.TryGetValue("audit-policy-file", out var p) ? $"--audit-policy-file={p} could not be read" : "no --audit-policy-file: nothing is audited",
                c.Name, c.Source, "--audit-policy-file");
        }

        (string Group, string Resource, string Verb, bool BodiesForbidden, string Label)[] probes =
        [
            ("", "secrets", "get", true, "reading secrets"),
            ("", "configmaps", "update", true, "changing configmaps"),
            ("authentication.k8s.io", "tokenreviews", "create", true, "token reviews"),
            ("", "pods", "create", false, "creating pods"),
            ("", "pods", "delete", false, "deleting pods"),
            ("apps", "deployments", "update", false, "changing deployments"),
            ("", "pods/exec", "create", false, "pods/exec"),
            ("", "pods/attach", "create", false, "pods/attach"),
            ("", "pods/portforward", "create", false, "pods/portforward"),
            ("", "pods/proxy", "get", false, "pods/proxy"),
            ("", "services/proxy", "get", false, "services/proxy"),
        ];
        var problems = new List<string>();
        foreach (var (group, resource, verb, noBodies, label) in probes)
        {
            var level = AuditLevel(policy.Content, group, resource, verb);
            if (level is "None")
            {
                problems.Add($"{label} is not logged");
            }
            else if (noBodies && level is "Request" or "RequestResponse")
            {
                problems.Add($"{label} is logged at {level}, which writes secret values into the log");
            }
        }

        return problems.Count == 0
            ? new NodeCheckResult(rule.Id, NodeStatus.Pass, $"{policy.Path} covers secrets, configmaps and token reviews at Metadata, pod and deployment changes, exec, attach, port-forward and proxy", c.Name, policy.Path, "rules")
            : new NodeCheckResult(rule.Id, NodeStatus.Fail, $"{policy.Path}: {string.Join("; ", problems)}", c.Name, policy.Path, "rules");
    }

    private static string AuditLevel(JsonElement policy, string group, string resource, string verb)
    {
        var rules = Json.Get(policy, "rules"u8);
        if (rules.ValueKind != JsonValueKind.Array)
        {
            return "None";
        }

        var slash = resource.IndexOf('/', StringComparison.Ordinal);
        var baseResource = slash > 0 ? resource[..slash] : resource;
        foreach (var r in rules.EnumerateArray())
        {
            // Rules limited to some users, groups or namespaces do not decide for requests in general.
            if (Json.Get(r, "users"u8).ValueKind == JsonValueKind.Array || Json.Get(r, "userGroups"u8).ValueKind == JsonValueKind.Array
                || Json.Get(r, "namespaces"u8).ValueKind == JsonValueKind.Array)
            {
                continue;
            }

            var verbs = Json.Get(r, "verbs"u8);
            if (verbs.ValueKind == JsonValueKind.Array && !verbs.EnumerateArray().Any(v => Json.AsString(v) == verb))
            {
                continue;
            }

            var resources = Json.Get(r, "resources"u8);
            if (resources.ValueKind == JsonValueKind.Array)
            {
                var matched = false;
                foreach (var gr in resources.EnumerateArray())
                {
                    var g = Json.GetString(gr, "group") ?? string.Empty;
                    if (g != group && g != "*")
                    {
                        continue;
                    }

                    var names = Json.Get(gr, "resources"u8);
                    if (names.ValueKind != JsonValueKind.Array || names.GetArrayLength() == 0
                        || names.EnumerateArray().Any(n => Json.AsString(n) is { } s && (s == resource || s == "*" || s == baseResource + "/*" || (slash < 0 && s == baseResource))))
                    {
                        matched = true;
                        break;
                    }
                }

                if (!matched)
                {
                    continue;
                }
            }

            if (Json.Get(r, "nonResourceURLs"u8).ValueKind == JsonValueKind.Array)
            {
                continue;
            }

            return Json.GetString(r, "level") ?? "None";
        }

        return "None";
    }

    private static List<Rule> LoadRules()
    {
        using var stream = typeof(NodeEvaluator).Assembly.GetManifestResourceStream("Skjold.Engine.Data.node-rules.yaml")
            ?? throw new InvalidOperationException("embedded node-rules.yaml is missing");
        var yaml = new YamlStream();
        yaml.Load(new StreamReader(stream));
        var list = new List<Rule>();
        foreach (var node in ((YamlSequenceNode)((YamlMappingNode)yaml.Documents[0].RootNode).Children["rules"]).Children.Cast<YamlMappingNode>())
        {
            string? S(string key) => node.Children.TryGetValue(key, out var v) ? ((YamlScalarNode)v).Value : null;
            list.Add(new Rule(S("id")!, S("file"), S("mode"), S("owner"), S("component"), S("flag"), S("config"), S("expect"), S("value"), S("also"),
                S("unsetPasses") == "true", S("special")));
        }

        return list;
    }
}
