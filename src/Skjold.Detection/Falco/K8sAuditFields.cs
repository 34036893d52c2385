using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;

namespace Skjold.Detection.Falco;

/// <summary>
/// The fields of Falco's k8saudit plugin (<c>ka.*</c>) and the JSON fields (<c>jevt.*</c>), read
/// from one audit event. A field the event does not have extracts no value; a condition on it is
/// false, as in Falco. List fields (the containers', the role rules', ...) extract every value.
/// </summary>
public static partial class K8sAuditFields
{
    /// <summary>How a field takes its argument: <c>ka.uri.param[key]</c>, <c>jevt.value[/json/pointer]</c>, <c>ka.req.pod.containers.image[0]</c>.</summary>
    public enum Argument
    {
        None,
        KeyRequired,
        OptionalIndex,
    }

    private delegate void Extractor(JsonElement e, string? arg, List<string> into);

    private sealed record Field(Argument Arg, bool IsList, Extractor Extract);

    private static readonly string[] ContainerKinds = ["containers", "initContainers", "ephemeralContainers"];

    private static readonly FrozenDictionary<string, Field> Fields = Build();

    /// <summary>Whether <paramref name="name"/> is a field this engine extracts, and how it takes an argument.</summary>
    public static bool TryDescribe(string name, out Argument argument, out bool isList)
    {
        if (Fields.TryGetValue(name, out var f))
        {
            argument = f.Arg;
            isList = f.IsList;
            return true;
        }

        argument = Argument.None;
        isList = false;
        return false;
    }

    /// <summary>An extractor bound to one field and argument, resolved once (compiled conditions call it per event).</summary>
    internal static Func<JsonElement, List<string>> Bind(string name, string? argument)
    {
        if (!Fields.TryGetValue(name, out var f))
        {
            return _ => [];
        }

        if (name == "jevt.value" && argument is { Length: > 0 } pointer && pointer[0] == '/')
        {
            // The pointer is split once, not per event (every rule's kevt macro reads /stage).
            var tokens = pointer[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
            return e =>
            {
                var values = new List<string>(1);
                AddScalar(Follow(e, tokens), values);
                return values;
            };
        }

        if (f.Arg == Argument.OptionalIndex && argument is not null)
        {
            var index = int.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : -1;
            return e =>
            {
                var all = new List<string>(2);
                f.Extract(e, argument, all);
                return index >= 0 && index < all.Count ? [all[index]] : [];
            };
        }

        return e =>
        {
            var values = new List<string>(1);
            f.Extract(e, argument, values);
            return values;
        };
    }

    private static FrozenDictionary<string, Field> Build()
    {
        var d = new Dictionary<string, Field>(StringComparer.Ordinal);
        void S(string name, params string[] path) => d[name] = new Field(Argument.None, false, (e, _, into) => AddScalar(Walk(e, path), into));
        void A(string name, string annotation) => d[name] = new Field(Argument.None, false, (e, _, into) =>
            AddScalar(Walk(e, "annotations", annotation), into));

        // The event.
        S("ka.auditid", "auditID");
        S("ka.stage", "stage");
        A("ka.auth.decision", "authorization.k8s.io/decision");
        A("ka.auth.reason", "authorization.k8s.io/reason");
        A("ka.auth.openshift.decision", "authorization.openshift.io/decision");
        A("ka.auth.openshift.username", "authentication.openshift.io/username");
        A("ka.validations.admission.policy.failure", "validation.policy.admission.k8s.io/validation_failure");
        A("ka.security.pod.violations", "pod-security.kubernetes.io/audit-violations");
        S("ka.user.name", "user", "username");
        d["ka.user.groups"] = new Field(Argument.None, true, (e, _, into) => AddEach(Walk(e, "user", "groups"), into));
        S("ka.impuser.name", "impersonatedUser", "username");
        S("ka.verb", "verb");
        S("ka.uri", "requestURI");
        d["ka.uri.param"] = new Field(Argument.KeyRequired, false, (e, key, into) => UriParam(Walk(e, "requestURI"), key!, into));
        S("ka.target.name", "objectRef", "name");
        S("ka.target.namespace", "objectRef", "namespace");
        S("ka.target.resource", "objectRef", "resource");
        S("ka.target.subresource", "objectRef", "subresource");
        d["ka.target.pod.name"] = new Field(Argument.None, false, (e, _, into) =>
        {
            if (Str(Walk(e, "objectRef", "resource")) == "pods")
            {
                AddScalar(Walk(e, "objectRef", "name"), into);
            }
        });
        S("ka.resp.name", "responseObject", "metadata", "name");
        S("ka.response.code", "responseStatus", "code");
        S("ka.response.reason", "responseStatus", "reason");
        S("ka.useragent", "userAgent");
        d["ka.sourceips"] = new Field(Argument.OptionalIndex, true, (e, _, into) => AddEach(Walk(e, "sourceIPs"), into));

        // Bindings, roles, config maps and services in the request object.
        d["ka.req.binding.subjects"] = new Field(Argument.None, true, (e, _, into) => AddEachRaw(Walk(e, "requestObject", "subjects"), into));
        foreach (var (field, kind) in new[] { ("user_names", "User"), ("group_names", "Group"), ("serviceaccount_names", "ServiceAccount") })
        {
            d["ka.req.binding.subjects." + field] = new Field(Argument.None, true, (e, _, into) =>
            {
                foreach (var s in Items(Walk(e, "requestObject", "subjects")))
                {
                    if (Str(Walk(s, "kind")) == kind && Str(Walk(s, "name")) is { } n)
                    {
                        into.Add(n);
                    }
                }
            });
        }

        d["ka.req.binding.subjects.serviceaccount_ns_names"] = new Field(Argument.None, true, (e, _, into) =>
        {
            foreach (var s in Items(Walk(e, "requestObject", "subjects")))
            {
                if (Str(Walk(s, "kind")) == "ServiceAccount" && Str(Walk(s, "name")) is { } n)
                {
                    into.Add($"{Str(Walk(s, "namespace"))}:{n}");
                }
            }
        });
        S("ka.req.binding.role", "requestObject", "roleRef", "name");
        d["ka.req.configmap.name"] = new Field(Argument.None, false, (e, _, into) =>
        {
            if (Str(Walk(e, "objectRef", "resource")) == "configmaps")
            {
                AddScalar(Walk(e, "requestObject", "metadata", "name"), into);
            }
        });
        d["ka.req.configmap.obj"] = new Field(Argument.None, false, (e, _, into) =>
        {
            if (Str(Walk(e, "objectRef", "resource")) == "configmaps" && Walk(e, "requestObject") is { ValueKind: JsonValueKind.Object } obj)
            {
                into.Add(obj.GetRawText());
            }
        });
        d["ka.req.role.rules"] = new Field(Argument.None, true, (e, _, into) => AddEachRaw(Walk(e, "requestObject", "rules"), into));
        foreach (var (field, key) in new[] { ("apiGroups", "apiGroups"), ("nonResourceURLs", "nonResourceURLs"), ("verbs", "verbs"), ("resources", "resources") })
        {
            d["ka.req.role.rules." + field] = new Field(Argument.OptionalIndex, true, (e, _, into) =>
            {
                foreach (var rule in Items(Walk(e, "requestObject", "rules")))
                {
                    AddEach(Walk(rule, key), into);
                }
            });
        }

        S("ka.req.service.type", "requestObject", "spec", "type");
        d["ka.req.service.ports"] = new Field(Argument.OptionalIndex, true, (e, _, into) => AddEachRaw(Walk(e, "requestObject", "spec", "ports"), into));

        // Pods.
        S("ka.req.pod.host_ipc", "requestObject", "spec", "hostIPC");
        S("ka.req.pod.host_network", "requestObject", "spec", "hostNetwork");
        S("ka.req.container.host_network", "requestObject", "spec", "hostNetwork");
        S("ka.req.pod.host_pid", "requestObject", "spec", "hostPID");
        S("ka.req.pod.run_as_user", "requestObject", "spec", "securityContext", "runAsUser");
        S("ka.req.pod.run_as_group", "requestObject", "spec", "securityContext", "runAsGroup");
        S("ka.req.pod.fs_group", "requestObject", "spec", "securityContext", "fsGroup");
        d["ka.req.pod.supplemental_groups"] = new Field(Argument.None, true, (e, _, into) => AddEach(Walk(e, "requestObject", "spec", "securityContext", "supplementalGroups"), into));
        d["ka.req.pod.volumes.hostpath"] = new Field(Argument.OptionalIndex, true, (e, _, into) =>
        {
            foreach (var v in Items(Walk(e, "requestObject", "spec", "volumes")))
            {
                AddScalar(Walk(v, "hostPath", "path"), into);
            }
        });
        d["ka.req.pod.volumes.flexvolume_driver"] = new Field(Argument.OptionalIndex, true, (e, _, into) =>
        {
            foreach (var v in Items(Walk(e, "requestObject", "spec", "volumes")))
            {
                AddScalar(Walk(v, "flexVolume", "driver"), into);
            }
        });
        d["ka.req.pod.volumes.volume_type"] = new Field(Argument.OptionalIndex, true, (e, _, into) =>
        {
            foreach (var v in Items(Walk(e, "requestObject", "spec", "volumes")))
            {
                foreach (var p in v.EnumerateObject())
                {
                    if (p.Name != "name")
                    {
                        into.Add(p.Name);
                    }
                }
            }
        });
        foreach (var kind in ContainerKinds)
        {
            ContainerFields(d, kind);
        }

        d["ka.req.container.image"] = new Field(Argument.None, false, (e, _, into) =>
        {
            if (Items(Walk(e, "requestObject", "spec", "containers")).FirstOrDefault() is { ValueKind: JsonValueKind.Object } c)
            {
                AddScalar(Walk(c, "image"), into);
            }
        });
        d["ka.req.container.image.repository"] = new Field(Argument.None, false, (e, _, into) =>
        {
            if (Items(Walk(e, "requestObject", "spec", "containers")).FirstOrDefault() is { ValueKind: JsonValueKind.Object } c && Str(Walk(c, "image")) is { } image)
            {
                into.Add(Repository(image));
            }
        });
        d["ka.req.container.privileged"] = new Field(Argument.None, false, (e, _, into) =>
        {
            if (Walk(e, "requestObject", "spec") is { ValueKind: JsonValueKind.Object } spec)
            {
                var any = ContainerKinds.SelectMany(k => Items(Walk(spec, k))).Any(c => Walk(c, "securityContext", "privileged").ValueKind == JsonValueKind.True);
                into.Add(any ? "true" : "false");
            }
        });

        // The event as JSON.
        d["jevt.value"] = new Field(Argument.KeyRequired, false, (e, pointer, into) => AddScalar(Pointer(e, pointer!), into));
        d["jevt.obj"] = new Field(Argument.None, false, (e, _, into) => into.Add(e.GetRawText()));
        d["jevt.rawtime"] = new Field(Argument.None, false, (e, _, into) =>
        {
            var t = Str(Walk(e, "stageTimestamp")) ?? Str(Walk(e, "timestamp"));
            if (t is not null && DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when))
            {
                into.Add(((when.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100).ToString(CultureInfo.InvariantCulture));
            }
        });
        d["jevt.time"] = new Field(Argument.None, false, (e, _, into) => AddScalar(Walk(e, "stageTimestamp"), into));
        return d.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static void ContainerFields(Dictionary<string, Field> d, string kind)
    {
        var prefix = $"ka.req.pod.{kind}.";
        void C(string name, Action<JsonElement, JsonElement, List<string>> each) => d[prefix + name] = new Field(Argument.OptionalIndex, true, (e, _, into) =>
        {
            var spec = Walk(e, "requestObject", "spec");
            foreach (var c in Items(Walk(spec, kind)))
            {
                each(spec, c, into);
            }
        });
        C("name", (_, c, into) => AddScalar(Walk(c, "name"), into));
        C("image", (_, c, into) => AddScalar(Walk(c, "image"), into));
        C("image.repository", (_, c, into) =>
        {
            if (Str(Walk(c, "image")) is { } image)
            {
                into.Add(Repository(image));
            }
        });
        C("command", (_, c, into) => AddJoined(Walk(c, "command"), into));
        C("args", (_, c, into) => AddJoined(Walk(c, "args"), into));
        C("privileged", (_, c, into) => into.Add(Bool(Walk(c, "securityContext", "privileged"))));
        C("allow_privilege_escalation", (_, c, into) => into.Add(Bool(Walk(c, "securityContext", "allowPrivilegeEscalation"))));
        C("read_only_fs", (_, c, into) => into.Add(Bool(Walk(c, "securityContext", "readOnlyRootFilesystem"))));
        C("run_as_user", (_, c, into) => AddScalar(Walk(c, "securityContext", "runAsUser"), into));
        C("run_as_group", (_, c, into) => AddScalar(Walk(c, "securityContext", "runAsGroup"), into));
        C("eff_run_as_user", (spec, c, into) => into.Add(Str(Walk(c, "securityContext", "runAsUser")) ?? Str(Walk(spec, "securityContext", "runAsUser")) ?? "0"));
        C("eff_run_as_group", (spec, c, into) => into.Add(Str(Walk(c, "securityContext", "runAsGroup")) ?? Str(Walk(spec, "securityContext", "runAsGroup")) ?? "0"));
        C("proc_mount", (_, c, into) => into.Add(Str(Walk(c, "securityContext", "procMount")) ?? "Default"));
        C("add_capabilities", (_, c, into) => AddEach(Walk(c, "securityContext", "capabilities", "add"), into));
        C("host_port", (_, c, into) =>
        {
            foreach (var p in Items(Walk(c, "ports")))
            {
                AddScalar(Walk(p, "hostPort"), into);
            }
        });
    }

}
