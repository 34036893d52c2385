using System.Collections.Frozen;
using System.Globalization;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Pss;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Skjold.Engine.Policy;

/// <summary>
/// Reads skjold.yaml text into a <see cref="ScanPolicy"/>. Strict: an unknown key, a wrong type,
/// an unknown check id or a bad value is a <see cref="ConfigException"/> naming the key and line.
/// </summary>
public static class ConfigParser
{
    /// <summary>
    /// Parses skjold.yaml. Every problem is collected, each with file and line, and a bad section or
    /// list entry does not hide the ones after it; with any problem the whole file is refused
    /// (<see cref="ConfigException.Errors"/> lists them all).
    /// </summary>
    public static ScanPolicy Parse(string text, string file, CheckCatalog catalog)
    {
        var outer = t_errors;
        var errors = new List<ConfigException>();
        t_errors = errors;
        try
        {
            var policy = ParseCore(text, file, catalog);
            return errors.Count == 0 ? policy : throw ConfigException.Of(errors);
        }
        catch (ConfigException ex) when (ex.Errors.Count <= 1 && errors.Count > 0 && !errors.Contains(ex))
        {
            errors.Add(ex);
            throw ConfigException.Of(errors);
        }
        finally
        {
            t_errors = outer;
        }
    }

    /// <summary>The problems found so far by the Parse running on this thread (null outside one).</summary>
    [ThreadStatic]
    private static List<ConfigException>? t_errors;

    /// <summary>Runs one section's or entry's reader; its problem is recorded and reading goes on.</summary>
    private static void Collect(Action read)
    {
        try
        {
            read();
        }
        catch (ConfigException ex) when (t_errors is not null)
        {
            t_errors.Add(ex);
        }
    }

    private static ScanPolicy ParseCore(string text, string file, CheckCatalog catalog)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new ConfigException($"not valid YAML: {ex.Message}", At(file, ex.Start));
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            return ScanPolicy.Default.WithSource(file);
        }

        var root = stream.Documents[0].RootNode as YamlMappingNode
            ?? throw new ConfigException("the top level must be a mapping of keys (pss, checks, registries, exemptions)", At(file, stream.Documents[0].RootNode.Start));

        var level = PssLevel.Restricted;
        var version = PssVersion.Latest;
        var disabled = new List<string>();
        var enabled = new List<string>();
        var severities = new Dictionary<string, Severity>(StringComparer.Ordinal);
        var trusted = new List<string>();
        var exemptions = new List<Exemption>();

        var admission = Engine.Admission.AdmissionSettings.Default;
        var upgradeTarget = PssVersion.NewestKnownMinor;
        IReadOnlyList<string> allowedRegions = ["eea"];
        var destinations = new List<(string, string)>();
        var attestations = new List<Compliance.Attestation>();
        foreach (var (key, value) in Entries(root, file, "apiVersion", "kind", "pss", "checks", "registries", "exemptions", "admission", "upgrade", "residency", "attestations", "outputs", "detection", "supplyChain", "incidents"))
        {
            switch (key)
            {
                case "apiVersion":
                case "kind":
                    Scalar(value, file, key);
                    break;
                case "outputs":
                case "detection":
                case "supplyChain":
                case "incidents":
                    break; // read by Skjold.Alerts (OutputsConfig), the detection host and Skjold.SupplyChain, not the scan policy
                case "pss":
                    Collect(() =>
                    {
                        foreach (var (k, v) in Entries(Map(value, file, "pss"), file, "level", "version"))
                        {
                            var s = Scalar(v, file, "pss." + k);
                            if (k == "level" && !PssLevels.TryParse(s, out level))
                            {
                                throw new ConfigException($"pss.level: '{s}' is not a level; use privileged, baseline or restricted", At(file, v.Start));
                            }

                            if (k == "version" && !PssVersion.TryParse(s, out version))
                            {
                                throw new ConfigException($"pss.version: '{s}' is not a version; use v1.0 to v1.{PssVersion.NewestKnownMinor} or latest", At(file, v.Start));
                            }
                        }
                    });
                    break;
                case "checks":
                    Collect(() =>
                    {
                        foreach (var (k, v) in Entries(Map(value, file, "checks"), file, "disable", "enable", "severity"))
                        {
                            if (k == "severity")
                            {
                                foreach (var (id, sev) in Entries(Map(v, file, "checks.severity"), file))
                                {
                                    RequireCheck(catalog, id, file, sev, "checks.severity");
                                    var s = Scalar(sev, file, "checks.severity." + id);
                                    if (!SeverityNames.TryParse(s, out var parsed))
                                    {
                                        throw new ConfigException($"checks.severity.{id}: '{s}' is not a severity; use {SeverityNames.AllowedList}", At(file, sev.Start));
                                    }

                                    severities[id] = parsed.Value;
                                }
                            }
                            else
                            {
                                var list = k == "disable" ? disabled : enabled;
                                foreach (var item in Sequence(v, file, "checks." + k))
                                {
                                    Collect(() =>
                                    {
                                        var id = Scalar(item, file, "checks." + k);
                                        RequireCheck(catalog, id, file, item, "checks." + k);
                                        list.Add(id);
                                    });
                                }
                            }
                        }
                    });
                    break;
                case "registries":
                    Collect(() =>
                    {
                        foreach (var (k, v) in Entries(Map(value, file, "registries"), file, "trusted"))
                        {
                            foreach (var item in Sequence(v, file, "registries." + k))
                            {
                                var r = Scalar(item, file, "registries.trusted");
                                if (string.IsNullOrWhiteSpace(r))
                                {
                                    throw new ConfigException("registries.trusted: an entry is empty", At(file, item.Start));
                                }

                                if (!Workloads.ImageReference.IsValidTrustedEntry(r.Trim()))
                                {
                                    throw new ConfigException($"registries.trusted: '{r.Trim()}' is not a registry, registry/path or pattern (letters, digits, . - _ / : and the wildcards * and ?)", At(file, item.Start));
                                }

                                trusted.Add(r.Trim());
                            }
                        }
                    });
                    break;
                case "admission":
                    Collect(() =>
                    {
                        admission = ParseAdmission(Map(value, file, "admission"), file, catalog);
                    });
                    break;
                case "upgrade":
                    Collect(() =>
                    {
                        foreach (var (k, v) in Entries(Map(value, file, "upgrade"), file, "targetVersion"))
                        {
                            var targetText = Scalar(v, file, "upgrade." + k);
                            if (!PssVersion.TryParse(targetText, out var target))
                            {
                                throw new ConfigException($"upgrade.targetVersion: '{targetText}' is not a version such as v1.33", At(file, v.Start));
                            }

                            upgradeTarget = target.Minor;
                        }
                    });
                    break;
                case "attestations":
                    Collect(() =>
                    {
                        var ai = 0;
                        foreach (var item in Sequence(value, file, "attestations"))
                        {
                            var at = ai;
                            Collect(() => attestations.Add(ParseAttestation(Map(item, file, $"attestations[{at}]"), file, at)));
                            ai++;
                        }
                    });
                    break;
                case "residency":
                    Collect(() =>
                    {
                        foreach (var (k, v) in Entries(Map(value, file, "residency"), file, "allowed", "destinations"))
                        {
                            if (k == "allowed")
                            {
                                allowedRegions = Sequence(v, file, "residency.allowed").Select(x => Scalar(x, file, "residency.allowed")).ToList();
                                if (allowedRegions.Count == 0)
                                {
                                    throw new ConfigException("residency.allowed: give at least one region, or eea or eu", At(file, v.Start));
                                }
                            }
                            else
                            {
                                foreach (var item in Sequence(v, file, "residency.destinations"))
                                {
                                    string? name = null, region = null;
                                    foreach (var (dk, dv) in Entries(Map(item, file, "residency.destinations"), file, "name", "region"))
                                    {
                                        if (dk == "name")
                                        {
                                            name = Scalar(dv, file, "residency.destinations.name");
                                        }
                                        else
                                        {
                                            region = Scalar(dv, file, "residency.destinations.region");
                                        }
                                    }

                                    if (name is null || region is null)
                                    {
                                        throw new ConfigException("residency.destinations: each destination needs a name and a region", At(file, item.Start));
                                    }

                                    destinations.Add((name, region));
                                }
                            }
                        }
                    });
                    break;
                case "exemptions":
                    Collect(() =>
                    {
                        var index = 0;
                        foreach (var item in Sequence(value, file, "exemptions"))
                        {
                            var at = index;
                            Collect(() => exemptions.Add(ParseExemption(Map(item, file, $"exemptions[{at}]"), file, at, catalog)));
                            index++;
                        }
                    });
                    break;
                default:
                    break;
            }
        }

        return new ScanPolicy(level, version, disabled, enabled, severities, trusted, exemptions, file)
        {
            Admission = admission,
            UpgradeTargetMinor = upgradeTarget,
            AllowedRegions = allowedRegions,
            DataDestinations = destinations,
            Attestations = attestations,
        };
    }

    private static Compliance.Attestation ParseAttestation(YamlMappingNode node, string file, int index)
    {
        string? framework = null, control = null, by = null, evidence = null, note = null;
        DateOnly? date = null;
        var validDays = 365;
        var key = $"attestations[{index}]";
        foreach (var (k, v) in Entries(node, file, "framework", "control", "by", "date", "validDays", "evidence", "note"))
        {
            var text = Scalar(v, file, $"{key}.{k}");
            switch (k)
            {
                case "framework":
                    if (Compliance.FrameworkCatalog.Default.Find(text) is null)
                    {
                        throw new ConfigException($"{key}.framework: unknown framework '{text}'; known: {string.Join(", ", Compliance.FrameworkCatalog.Default.Frameworks.Select(f => f.Id))}", At(file, v.Start));
                    }

                    framework = text;
                    break;
                case "control":
                    control = text;
                    break;
                case "by":
                    by = text;
                    break;
                case "evidence":
                    evidence = text;
                    break;
                case "note":
                    note = text;
                    break;
                case "date":
                    if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
                    {
                        throw new ConfigException($"{key}.date: '{text}' is not a date (YYYY-MM-DD)", At(file, v.Start));
                    }

                    date = d;
                    break;
                case "validDays":
                    if (!int.TryParse(text, CultureInfo.InvariantCulture, out validDays) || validDays < 1)
                    {
                        throw new ConfigException($"{key}.validDays: '{text}' is not a positive number of days", At(file, v.Start));
                    }

                    break;
                default:
                    break;
            }
        }

        if (framework is null || control is null || by is null || date is null || evidence is null)
        {
            throw new ConfigException($"{key}: an attestation needs framework, control, by, date and evidence", At(file, node.Start));
        }

        if (Compliance.FrameworkCatalog.Default.Find(framework)!.Control(control) is null)
        {
            throw new ConfigException($"{key}.control: '{control}' is not a control of {framework}", At(file, node.Start));
        }

        return new Compliance.Attestation(framework, control, by, date.Value, validDays, evidence, note, At(file, node.Start));
    }

    private static Engine.Admission.AdmissionSettings ParseAdmission(YamlMappingNode node, string file, CheckCatalog catalog)
    {
        var settings = Engine.Admission.AdmissionSettings.Default;
        foreach (var (k, v) in Entries(node, file, "defaults", "checks", "namespaces", "exemptions", "mutation"))
        {
            var key = "admission." + k;
            switch (k)
            {
                case "defaults":
                    var modes = new Dictionary<string, Engine.Admission.PssMode>(StringComparer.Ordinal)
                    {
                        ["enforce"] = settings.DefaultEnforce,
                        ["audit"] = settings.DefaultAudit,
                        ["warn"] = settings.DefaultWarn,
                    };
                    foreach (var (mk, mv) in Entries(Map(v, file, key), file, "enforce", "enforce-version", "audit", "audit-version", "warn", "warn-version"))
                    {
                        var text = Scalar(mv, file, $"{key}.{mk}");
                        var mode = mk.Split('-')[0];
                        if (mk.EndsWith("-version", StringComparison.Ordinal))
                        {
                            if (!PssVersion.TryParse(text, out var ver))
                            {
                                throw new ConfigException($"{key}.{mk}: '{text}' is not a version; use v1.0 to v1.{PssVersion.NewestKnownMinor} or latest", At(file, mv.Start));
                            }

                            modes[mode] = modes[mode] with { Version = ver };
                        }
                        else
                        {
                            if (!PssLevels.TryParse(text, out var lvl))
                            {
                                throw new ConfigException($"{key}.{mk}: '{text}' is not a level; use privileged, baseline or restricted", At(file, mv.Start));
                            }

                            modes[mode] = modes[mode] with { Level = lvl };
                        }
                    }

                    settings = settings with { DefaultEnforce = modes["enforce"], DefaultAudit = modes["audit"], DefaultWarn = modes["warn"] };
                    break;
                case "checks":
                    var actions = new Dictionary<string, Engine.Admission.AdmissionAction>(StringComparer.Ordinal);
                    foreach (var (ck, cv) in Entries(Map(v, file, key), file, "default", "warnFrom", "actions"))
                    {
                        if (ck == "warnFrom")
                        {
                            var text = Scalar(cv, file, $"{key}.warnFrom");
                            if (!SeverityNames.TryParse(text, out var sev))
                            {
                                throw new ConfigException($"{key}.warnFrom: '{text}' is not a severity; use {SeverityNames.AllowedList}", At(file, cv.Start));
                            }

                            settings = settings with { WarnFrom = sev.Value };
                        }
                        else if (ck == "default")
                        {
                            settings = settings with { DefaultAction = ParseAction(cv, file, $"{key}.default") };
                        }
                        else
                        {
                            foreach (var (id, av) in Entries(Map(cv, file, $"{key}.actions"), file))
                            {
                                RequireCheck(catalog, id, file, av, $"{key}.actions");
                                actions[id] = ParseAction(av, file, $"{key}.actions.{id}");
                            }
                        }
                    }

                    settings = settings with { Actions = actions.ToFrozenDictionary(StringComparer.Ordinal) };
                    break;
                case "namespaces":
                    var perNs = new Dictionary<string, System.Collections.Frozen.FrozenDictionary<string, Engine.Admission.AdmissionAction>>(StringComparer.Ordinal);
                    foreach (var (ns, nv) in Entries(Map(v, file, key), file))
                    {
                        var map = new Dictionary<string, Engine.Admission.AdmissionAction>(StringComparer.Ordinal);
                        foreach (var (id, av) in Entries(Map(nv, file, $"{key}.{ns}"), file))
                        {
                            RequireCheck(catalog, id, file, av, $"{key}.{ns}");
                            map[id] = ParseAction(av, file, $"{key}.{ns}.{id}");
                        }

                        perNs[ns] = map.ToFrozenDictionary(StringComparer.Ordinal);
                    }

                    settings = settings with { NamespaceActions = perNs.ToFrozenDictionary(StringComparer.Ordinal) };
                    break;
                case "exemptions":
                    foreach (var (ek, ev) in Entries(Map(v, file, key), file, "usernames", "namespaces", "runtimeClasses"))
                    {
                        var set = Sequence(ev, file, $"{key}.{ek}").Select(x => Scalar(x, file, $"{key}.{ek}")).ToFrozenSet(StringComparer.Ordinal);
                        settings = ek switch
                        {
                            "usernames" => settings with { ExemptUsernames = set },
                            "namespaces" => settings with { ExemptNamespaces = set },
                            _ => settings with { ExemptRuntimeClasses = set },
                        };
                    }

                    break;
                default:
                    foreach (var (mk, mv) in Entries(Map(v, file, key), file, "namespaceLabel"))
                    {
                        settings = settings with { MutationLabel = Scalar(mv, file, $"{key}.{mk}") };
                    }

                    break;
            }
        }

        return settings;
    }

    private static Engine.Admission.AdmissionAction ParseAction(YamlNode node, string file, string key) =>
        Scalar(node, file, key) switch
        {
            "deny" => Engine.Admission.AdmissionAction.Deny,
            "warn" => Engine.Admission.AdmissionAction.Warn,
            "audit" => Engine.Admission.AdmissionAction.Audit,
            "off" => Engine.Admission.AdmissionAction.Off,
            var other => throw new ConfigException($"{key}: '{other}' is not an action; use deny, warn, audit or off", At(file, node.Start)),
        };

    private static ScanPolicy WithSource(this ScanPolicy policy, string file) =>
        new(policy.PssLevel, policy.PssVersion, policy.Disabled, policy.Enabled, policy.Severities, policy.TrustedRegistries, policy.Exemptions, file);

    private static Exemption ParseExemption(YamlMappingNode node, string file, int index, CheckCatalog catalog)
    {
        var prefix = $"exemptions[{index}]";
        List<string> checks = [], namespaces = [], kinds = [], names = [];
        LabelSelector? selector = null;
        string? reason = null;
        DateOnly? expires = null;
        foreach (var (k, v) in Entries(node, file, "checks", "namespaces", "kinds", "names", "selector", "reason", "expires"))
        {
            var key = $"{prefix}.{k}";
            switch (k)
            {
                case "checks":
                    foreach (var item in Sequence(v, file, key))
                    {
                        var id = Scalar(item, file, key);
                        RequireCheck(catalog, id, file, item, key);

                        checks.Add(id);
                    }

                    break;
                case "namespaces":
                    namespaces.AddRange(Sequence(v, file, key).Select(n => Scalar(n, file, key)));
                    break;
                case "kinds":
                    kinds.AddRange(Sequence(v, file, key).Select(n => Scalar(n, file, key)));
                    break;
                case "names":
                    names.AddRange(Sequence(v, file, key).Select(n => Scalar(n, file, key)));
                    break;
                case "selector":
                    selector = ParseSelector(Map(v, file, key), file, key);
                    break;
                case "reason":
                    reason = Scalar(v, file, key);
                    break;
                case "expires":
                    var text = Scalar(v, file, key);
                    if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                    {
                        throw new ConfigException($"{key}: '{text}' is not a date; write it as YYYY-MM-DD", At(file, v.Start));
                    }

                    expires = date;
                    break;
                default:
                    break;
            }
        }

        if (checks.Count == 0)
        {
            throw new ConfigException($"{prefix}.checks: an exemption must list the checks it covers (use \"*\" for all)", At(file, node.Start));
        }

        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new ConfigException($"{prefix}.reason: an exemption needs a reason, so that auditors can see why it exists", At(file, node.Start));
        }

        return new Exemption(checks, namespaces, kinds, names, selector, reason, expires, At(file, node.Start));
    }

    private static LabelSelector ParseSelector(YamlMappingNode node, string file, string prefix)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var expressions = new List<LabelSelectorRequirement>();
        foreach (var (k, v) in Entries(node, file, "matchLabels", "matchExpressions"))
        {
            if (k == "matchLabels")
            {
                foreach (var (lk, lv) in Entries(Map(v, file, $"{prefix}.matchLabels"), file))
                {
                    labels[lk] = Scalar(lv, file, $"{prefix}.matchLabels.{lk}");
                }

                continue;
            }

            foreach (var item in Sequence(v, file, $"{prefix}.matchExpressions"))
            {
                string? key = null, op = null;
                var values = new List<string>();
                foreach (var (ek, ev) in Entries(Map(item, file, $"{prefix}.matchExpressions"), file, "key", "operator", "values"))
                {
                    if (ek == "values")
                    {
                        values.AddRange(Sequence(ev, file, $"{prefix}.matchExpressions.values").Select(x => Scalar(x, file, "values")));
                    }
                    else if (ek == "key")
                    {
                        key = Scalar(ev, file, "key");
                    }
                    else
                    {
                        op = Scalar(ev, file, "operator");
                    }
                }

                var parsedOp = op switch
                {
                    "In" => LabelOperator.In,
                    "NotIn" => LabelOperator.NotIn,
                    "Exists" => LabelOperator.Exists,
                    "DoesNotExist" => LabelOperator.DoesNotExist,
                    _ => throw new ConfigException($"{prefix}.matchExpressions: operator '{op}' is not In, NotIn, Exists or DoesNotExist", At(file, item.Start)),
                };
                if (string.IsNullOrEmpty(key))
                {
                    throw new ConfigException($"{prefix}.matchExpressions: each expression needs a key", At(file, item.Start));
                }

                expressions.Add(new LabelSelectorRequirement(key, parsedOp, values));
            }
        }

        return new LabelSelector(labels, expressions);
    }

    private static void RequireCheck(CheckCatalog catalog, string id, string file, YamlNode node, string key)
    {
        if (id.EndsWith('*'))
        {
            if (!catalog.All.Any(c => Exemption.Glob(id, c.Id)))
            {
                throw new ConfigException($"{key}: pattern '{id}' matches no check (run 'skjold checks' for the list)", At(file, node.Start));
            }

            return;
        }

        if (!catalog.Contains(id))
        {
            throw new ConfigException($"{key}: unknown check '{id}' (run 'skjold checks' for the list)", At(file, node.Start));
        }
    }

    private static IEnumerable<(string Key, YamlNode Value)> Entries(YamlMappingNode node, string file, params string[] allowed)
    {
        foreach (var (k, v) in node.Children)
        {
            var key = (k as YamlScalarNode)?.Value ?? throw new ConfigException("keys must be plain strings", At(file, k.Start));
            if (allowed.Length > 0 && Array.IndexOf(allowed, key) < 0)
            {
                var unknown = new ConfigException($"unknown key '{key}'; expected one of: {string.Join(", ", allowed)}", At(file, k.Start));
                if (t_errors is null)
                {
                    throw unknown;
                }

                t_errors.Add(unknown); // reported; the keys after it are still read
                continue;
            }

            yield return (key, v);
        }
    }

    private static YamlMappingNode Map(YamlNode node, string file, string key) =>
        node as YamlMappingNode ?? throw new ConfigException($"{key}: expected a mapping", At(file, node.Start));

    private static IEnumerable<YamlNode> Sequence(YamlNode node, string file, string key) => node switch
    {
        YamlSequenceNode s => s.Children,
        YamlScalarNode { Value: null or "" } => [],
        _ => throw new ConfigException($"{key}: expected a list", At(file, node.Start)),
    };

    private static string Scalar(YamlNode node, string file, string key) =>
        (node as YamlScalarNode)?.Value ?? throw new ConfigException($"{key}: expected a single value", At(file, node.Start));

    private static SourceLocation At(string file, Mark mark) => new(file, (int)mark.Line, (int)mark.Column);
}
