using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using Skjold.Engine.Model;
using YamlDotNet.RepresentationModel;

namespace Skjold.Engine.Rbac;

/// <summary>
/// The API server's bootstrap RBAC policy (<c>Data/bootstrap-policy.yaml</c>): the ClusterRoles
/// (admin, edit, view with their aggregation, cluster-admin, the system: and controller roles), the
/// ClusterRoleBindings, and the Roles and RoleBindings of kube-system and kube-public, as objects.
/// RBAC analysis adds the ones an input lacks, so a manifest binding to <c>view</c> means what it
/// means in a cluster. Also knows the control plane's own identities and recognises the bootstrap
/// bindings themselves (same name, roleRef and subjects).
/// </summary>
public static class BootstrapPolicy
{
    /// <summary>The file name bootstrap objects carry as their source location.</summary>
    public const string SourceName = "(bootstrap policy)";

    private const string RbacVersion = "rbac.authorization.k8s.io/v1";

    private static readonly Lazy<Data> LazyData = new(Load);

    /// <summary>The bootstrap objects (ClusterRoles, ClusterRoleBindings, Roles, RoleBindings).</summary>
    public static IReadOnlyList<Resource> Objects => LazyData.Value.Objects;

    /// <summary>The Kubernetes minor version the data describes.</summary>
    public static string Version => LazyData.Value.Version;

    public static bool IsFromBootstrap(Resource r) => r.Location.File == SourceName;

    /// <summary>
    /// Whether <paramref name="binding"/> is one of the API server's own bootstrap bindings, exactly
    /// as the bootstrap policy defines it: the same kind, namespace and name, the same roleRef and
    /// the same subjects. A binding that only borrows a bootstrap name is judged like any other.
    /// </summary>
    public static bool IsBootstrapBinding(Resource binding)
    {
        var data = LazyData.Value;
        if (!data.Bindings.TryGetValue((binding.Kind, binding.Ref.Namespace, binding.Ref.Name), out var expected))
        {
            return false;
        }

        var roleRef = Json.Get(binding.Root, "roleRef"u8);
        if (Json.GetString(roleRef, "kind") != expected.RoleKind || Json.GetString(roleRef, "name") != expected.RoleName)
        {
            return false;
        }

        var actual = new HashSet<string>(StringComparer.Ordinal);
        var subjects = Json.Get(binding.Root, "subjects"u8);
        if (subjects.ValueKind == JsonValueKind.Array)
        {
            foreach (var s in subjects.EnumerateArray())
            {
                actual.Add(SubjectKey(Json.GetString(s, "kind") ?? string.Empty, Json.GetString(s, "name") ?? string.Empty, Json.GetString(s, "namespace"), binding.Ref.Namespace));
            }
        }

        return actual.SetEquals(expected.Subjects);
    }

    /// <summary>Whether the subject is one of the control plane's identities (see <see cref="RbacSubject.IsPlatform"/>).</summary>
    public static bool IsPlatformIdentity(RbacSubject s)
    {
        var data = LazyData.Value;
        switch (s.Kind)
        {
            case RbacSubject.User:
                if (data.Users.Contains(s.Name))
                {
                    return true;
                }

                foreach (var p in data.UserPrefixes)
                {
                    if (s.Name.StartsWith(p, StringComparison.Ordinal) && s.Name.Length > p.Length)
                    {
                        return true;
                    }
                }

                return false;
            case RbacSubject.Group:
                if (data.Groups.Contains(s.Name))
                {
                    return true;
                }

                foreach (var p in data.GroupPrefixes)
                {
                    if (s.Name.StartsWith(p, StringComparison.Ordinal) && s.Name.Length > p.Length)
                    {
                        return true;
                    }
                }

                return false;
            case RbacSubject.ServiceAccount:
                return data.ServiceAccounts.Contains($"{s.Namespace}/{s.Name}");
            default:
                return false;
        }
    }

    private static string SubjectKey(string kind, string name, string? ns, string? bindingNs) =>
        kind == RbacSubject.ServiceAccount ? $"{kind}:{(string.IsNullOrEmpty(ns) ? bindingNs : ns)}/{name}" : $"{kind}:{name}";

    private sealed record BindingShape(string RoleKind, string RoleName, FrozenSet<string> Subjects);

    private sealed class Data
    {
        public List<Resource> Objects { get; } = [];

        public Dictionary<(string Kind, string? Ns, string Name), BindingShape> Bindings { get; } = [];

        public HashSet<string> Users { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Groups { get; } = new(StringComparer.Ordinal);

        public HashSet<string> ServiceAccounts { get; } = new(StringComparer.Ordinal);

        public List<string> UserPrefixes { get; } = [];

        public List<string> GroupPrefixes { get; } = [];

        public string Version { get; set; } = string.Empty;
    }

    private static Data Load()
    {
        using var stream = typeof(BootstrapPolicy).Assembly.GetManifestResourceStream("Skjold.Engine.Data.bootstrap-policy.yaml")
            ?? throw new InvalidOperationException("embedded data file bootstrap-policy.yaml is missing");
        var yaml = new YamlStream();
        yaml.Load(new StreamReader(stream));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var data = new Data { Version = Scalar(root, "version") ?? string.Empty };

        var controllerBindings = new List<(string Name, string Sa)>();
        foreach (var role in Sequence(root, "clusterRoles"))
        {
            var name = Scalar(role, "name")!;
            data.Objects.Add(RoleObject("ClusterRole", null, name, role, role.Children.ContainsKey("aggregate")));
            const string ControllerPrefix = "system:controller:";
            if (name.StartsWith(ControllerPrefix, StringComparison.Ordinal))
            {
                controllerBindings.Add((name, name[ControllerPrefix.Length..]));
            }
        }

        foreach (var role in Sequence(root, "roles"))
        {
            data.Objects.Add(RoleObject("Role", Scalar(role, "namespace"), Scalar(role, "name")!, role, aggregated: false));
        }

        foreach (var b in Sequence(root, "clusterRoleBindings"))
        {
            AddBinding(data, "ClusterRoleBinding", null, Scalar(b, "name")!, "ClusterRole", Scalar(b, "role")!, Strings(b, "subjects"));
        }

        foreach (var (name, sa) in controllerBindings)
        {
            AddBinding(data, "ClusterRoleBinding", null, name, "ClusterRole", name, [$"ServiceAccount:kube-system/{sa}"]);
        }

        foreach (var b in Sequence(root, "roleBindings"))
        {
            AddBinding(data, "RoleBinding", Scalar(b, "namespace"), Scalar(b, "name")!, Scalar(b, "roleKind") ?? "Role", Scalar(b, "role")!, Strings(b, "subjects"));
        }

        if (root.Children.TryGetValue("platformIdentities", out var p) && p is YamlMappingNode ids)
        {
            data.Users.UnionWith(Strings(ids, "users"));
            data.Groups.UnionWith(Strings(ids, "groups"));
            data.ServiceAccounts.UnionWith(Strings(ids, "serviceAccounts"));
            data.UserPrefixes.AddRange(Strings(ids, "userPrefixes"));
            data.GroupPrefixes.AddRange(Strings(ids, "groupPrefixes"));
        }

        return data;
    }

    private static void AddBinding(Data data, string kind, string? ns, string name, string roleKind, string roleName, IReadOnlyList<string> subjects)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var json = new StringBuilder();
        json.Append("{\"apiVersion\":\"").Append(RbacVersion).Append("\",\"kind\":\"").Append(kind).Append("\",\"metadata\":");
        Metadata(json, name, ns, null);
        json.Append(",\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":").Append(Quote(roleKind)).Append(",\"name\":").Append(Quote(roleName)).Append('}');
        json.Append(",\"subjects\":[");
        for (var i = 0; i < subjects.Count; i++)
        {
            var colon = subjects[i].IndexOf(':', StringComparison.Ordinal);
            var sKind = subjects[i][..colon];
            var sName = subjects[i][(colon + 1)..];
            string? sNs = null;
            if (sKind == RbacSubject.ServiceAccount)
            {
                var slash = sName.IndexOf('/', StringComparison.Ordinal);
                sNs = sName[..slash];
                sName = sName[(slash + 1)..];
                data.ServiceAccounts.Add($"{sNs}/{sName}");
            }
            else if (sKind == RbacSubject.User)
            {
                data.Users.Add(sName);
            }
            else if (sName is not (RbacUser.Authenticated or RbacUser.Unauthenticated or RbacUser.ServiceAccounts))
            {
                data.Groups.Add(sName);
            }

            keys.Add(SubjectKey(sKind, sName, sNs, ns));
            json.Append(i > 0 ? "," : string.Empty).Append("{\"kind\":").Append(Quote(sKind)).Append(",\"name\":").Append(Quote(sName));
            json.Append(sNs is null ? ",\"apiGroup\":\"rbac.authorization.k8s.io\"" : ",\"namespace\":" + Quote(sNs)).Append('}');
        }

        json.Append("]}");
        data.Objects.Add(ToResource(json.ToString()));
        data.Bindings[(kind, ns, name)] = new BindingShape(roleKind, roleName, keys.ToFrozenSet(StringComparer.Ordinal));
    }

    private static Resource RoleObject(string kind, string? ns, string name, YamlMappingNode node, bool aggregated)
    {
        var json = new StringBuilder();
        json.Append("{\"apiVersion\":\"").Append(RbacVersion).Append("\",\"kind\":\"").Append(kind).Append("\",\"metadata\":");
        Metadata(json, name, ns, node.Children.TryGetValue("labels", out var l) ? (YamlMappingNode)l : null);
        if (aggregated)
        {
            json.Append(",\"aggregationRule\":{\"clusterRoleSelectors\":[");
            var keys = Strings(node, "aggregate");
            for (var i = 0; i < keys.Count; i++)
            {
                json.Append(i > 0 ? "," : string.Empty).Append("{\"matchLabels\":{").Append(Quote(keys[i])).Append(":\"true\"}}");
            }

            json.Append("]}");
        }

        json.Append(",\"rules\":[");
        var first = true;
        foreach (var rule in Sequence(node, "rules"))
        {
            json.Append(first ? string.Empty : ",").Append('{');
            var firstField = true;
            foreach (var field in new[] { "apiGroups", "resources", "resourceNames", "nonResourceURLs", "verbs" })
            {
                if (!rule.Children.ContainsKey(field))
                {
                    continue;
                }

                json.Append(firstField ? string.Empty : ",").Append(Quote(field)).Append(":[").Append(string.Join(",", Strings(rule, field).Select(Quote))).Append(']');
                firstField = false;
            }

            json.Append('}');
            first = false;
        }

        json.Append("]}");
        return ToResource(json.ToString());
    }

    private static void Metadata(StringBuilder json, string name, string? ns, YamlMappingNode? labels)
    {
        json.Append("{\"name\":").Append(Quote(name));
        if (ns is not null)
        {
            json.Append(",\"namespace\":").Append(Quote(ns));
        }

        json.Append(",\"labels\":{\"kubernetes.io/bootstrapping\":\"rbac-defaults\"");
        foreach (var (k, v) in labels?.Children ?? Enumerable.Empty<KeyValuePair<YamlNode, YamlNode>>())
        {
            json.Append(',').Append(Quote(((YamlScalarNode)k).Value!)).Append(':').Append(Quote(((YamlScalarNode)v).Value ?? string.Empty));
        }

        json.Append("},\"annotations\":{\"rbac.authorization.kubernetes.io/autoupdate\":\"true\"}}");
    }

    private static Resource ToResource(string json)
    {
        var root = JsonDocument.Parse(json).RootElement;
        return Resource.FromJson(root, new SourceLocation(SourceName, 0));
    }

    private static string Quote(string s) => JsonSerializer.Serialize(s, EngineJsonContext.Default.String);

    private static IEnumerable<YamlMappingNode> Sequence(YamlMappingNode m, string key) =>
        m.Children.TryGetValue(key, out var v) && v is YamlSequenceNode seq ? seq.Children.Cast<YamlMappingNode>() : [];

    private static List<string> Strings(YamlMappingNode m, string key) =>
        m.Children.TryGetValue(key, out var v) && v is YamlSequenceNode seq ? [.. seq.Children.Select(c => ((YamlScalarNode)c).Value ?? string.Empty)] : [];

    private static string? Scalar(YamlMappingNode m, string key) => m.Children.TryGetValue(key, out var v) ? ((YamlScalarNode)v).Value : null;
}
