namespace Skjold.Engine.Rbac;

/// <summary>
/// What a grant lets its holder do beyond the literal rule: the ways to run code as a service
/// account (create pods; create, update or patch a pod controller, whose template names any service
/// account of the namespace; change running pods or add ephemeral containers to them; exec, attach),
/// decided by the authorizer's matching of each request. The RBAC checks and the escalation finder
/// both ask here, so they cannot disagree.
/// </summary>
public static class RbacCapabilities
{
    /// <summary>The first minor in which exec, attach and port-forward need <c>create</c>; before it a WebSocket upgrade with <c>get</c> is enough.</summary>
    public const int StreamingNeedsCreateSince = 35;

    /// <summary>Controllers whose pod template the holder writes, and so whose service account it picks.</summary>
    public static readonly (string Group, string Resource)[] PodControllers =
    [
        ("apps", "deployments"), ("apps", "replicasets"), ("apps", "statefulsets"), ("apps", "daemonsets"),
        ("batch", "jobs"), ("batch", "cronjobs"), ("", "replicationcontrollers"),
    ];

    private static readonly string[] TemplateWriteVerbs = ["create", "update", "patch"];
    private static readonly string[] PodChangeVerbs = ["update", "patch"];

    /// <summary>A namespaced request in the grant's namespace (any namespace for a cluster-wide grant).</summary>
    public static RbacRequest In(RbacGrant g, string verb, string group, string resource, string subresource = "", string? name = null, string? ns = null) =>
        RbacRequest.ForResource(verb, group, resource, subresource, name, g.Namespace ?? ns ?? "default");

    /// <summary>A request for a cluster-scoped resource (never granted by a RoleBinding).</summary>
    public static RbacRequest Cluster(string verb, string group, string resource, string subresource = "", string? name = null) =>
        RbacRequest.ForResource(verb, group, resource, subresource, name);

    /// <summary>The verbs that open exec, attach or port-forward streams on Kubernetes 1.<paramref name="minor"/>.</summary>
    public static string[] StreamVerbs(int minor) => minor < StreamingNeedsCreateSince ? ["create", "get"] : ["create"];

    /// <summary>
    /// The request by which the grant lets its holder start a pod with any service account of the
    /// namespace: create pods, or create, update or patch a pod controller. Null when it does not.
    /// </summary>
    public static RbacRequest? RunsAnyServiceAccount(RbacGrant g, string? ns = null)
    {
        var pods = In(g, "create", "", "pods", ns: ns);
        if (g.Allows(pods))
        {
            return pods;
        }

        foreach (var (group, resource) in PodControllers)
        {
            foreach (var verb in TemplateWriteVerbs)
            {
                var r = In(g, verb, group, resource, ns: ns);
                if (g.Allows(r))
                {
                    return r;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The request by which the grant lets its holder run code in pods that already exist, with
    /// their service accounts: update or patch pods (their images), update or patch
    /// pods/ephemeralcontainers, exec or attach. Null when it does not.
    /// </summary>
    public static RbacRequest? RunsInExistingPods(RbacGrant g, int minor, string? ns = null)
    {
        foreach (var verb in PodChangeVerbs)
        {
            foreach (var sub in (string[])["", "ephemeralcontainers"])
            {
                var r = In(g, verb, "", "pods", sub, ns: ns);
                if (g.Allows(r))
                {
                    return r;
                }
            }
        }

        return Streams(g, minor, "exec", ns) ?? Streams(g, minor, "attach", ns);
    }

    /// <summary>The request by which the grant opens an exec, attach or portforward stream, if it does.</summary>
    public static RbacRequest? Streams(RbacGrant g, int minor, string subresource, string? ns = null)
    {
        foreach (var verb in StreamVerbs(minor))
        {
            var r = In(g, verb, "", "pods", subresource, ns: ns);
            if (g.Allows(r))
            {
                return r;
            }
        }

        return null;
    }

    /// <summary>The first of the requests the grant allows.</summary>
    public static RbacRequest? First(RbacGrant g, IEnumerable<RbacRequest> requests)
    {
        foreach (var r in requests)
        {
            if (g.Allows(r))
            {
                return r;
            }
        }

        return null;
    }
}
