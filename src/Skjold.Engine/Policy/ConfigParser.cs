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
public static partial class ConfigParser
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

    private static ScanPolicy WithSource(this ScanPolicy policy, string file) =>
        new(policy.PssLevel, policy.PssVersion, policy.Disabled, policy.Enabled, policy.Severities, policy.TrustedRegistries, policy.Exemptions, file);

}
