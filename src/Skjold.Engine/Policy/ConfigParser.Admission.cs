using System.Collections.Frozen;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Pss;
using YamlDotNet.RepresentationModel;

namespace Skjold.Engine.Policy;

/// <summary>The admission section of skjold.yaml: modes, exemptions by namespace, user and runtime class, and an action per check.</summary>
public static partial class ConfigParser
{
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
}
