using System.CommandLine;
using System.Text.RegularExpressions;
using Skjold.Engine.Model;

namespace Skjold.Cli;

/// <summary>
/// How manifests are placed and judged: <c>--namespace</c> (where namespaced objects that name no
/// namespace go, as <c>kubectl apply -n</c> puts them) and <c>--kube-version</c> (the Kubernetes
/// version to judge version-dependent permissions by when the input is not a snapshot that says).
/// </summary>
internal sealed partial class InputScope
{
    public InputScope(bool questionNamespace = false)
    {
        Namespace = new Option<string?>("--namespace", "-n")
        {
            Description = questionNamespace
                ? "Namespace the question is asked in (cluster-wide grants included); also where objects without metadata.namespace are placed, as kubectl apply -n would (default: any namespace; objects go to default)"
                : "Namespace of objects without metadata.namespace, as kubectl apply -n would place them (default: default)",
        };
    }

    public Option<string?> Namespace { get; }

    /// <summary>-A: every namespace (kubectl's flag); the default for files and for posture reads of a live cluster.</summary>
    public Option<bool> AllNamespaces { get; } = new("--all-namespaces", "-A")
    {
        Description = "Every namespace (the default for files, scan --cluster and report --cluster; rbac --cluster asks in the context's namespace unless -A or -n is given)",
    };

    /// <summary>The namespace given with -n, or null (none given, or -A).</summary>
    public string? Given(ParseResult parse) => parse.GetValue(AllNamespaces) ? null : parse.GetValue(Namespace);

    /// <summary>Where objects without metadata.namespace go: -n, else default.</summary>
    public string DefaultNamespace(ParseResult parse) => parse.GetValue(Namespace) ?? "default";

    public Option<string?> KubeVersion { get; } = new("--kube-version")
    {
        Description = "Kubernetes version the manifests are for, such as 1.33 (default: the version a snapshot records, else the oldest minor still supported upstream)",
    };

    public Option<bool> AllowEmpty { get; } = new("--allow-empty")
    {
        Description = "Accept an input without any Kubernetes object (by default that is an error, exit 2, so a failed helm template or kustomize build does not pass)",
    };

    public void AddTo(Command c)
    {
        c.Options.Add(Namespace);
        c.Options.Add(AllNamespaces);
        c.Options.Add(KubeVersion);
        c.Options.Add(AllowEmpty);
    }

    /// <summary>Reads and checks both options; writes an error naming the option when one is malformed.</summary>
    public bool TryRead(ParseResult parse, CliContext context, out string defaultNamespace, out int? kubeMinor)
    {
        defaultNamespace = DefaultNamespace(parse);
        kubeMinor = null;
        if (parse.GetValue(AllNamespaces) && parse.GetValue(Namespace) is not null)
        {
            context.Error.WriteLine("error: give either -n/--namespace or -A/--all-namespaces, not both");
            return false;
        }

        if (!NamespaceName().IsMatch(defaultNamespace))
        {
            context.Error.WriteLine($"error: --namespace '{defaultNamespace}' is not a namespace name (lower-case letters, digits and '-', at most 63 characters)");
            return false;
        }

        if (parse.GetValue(KubeVersion) is { } text)
        {
            kubeMinor = KubernetesVersion.ParseMinor(text);
            if (kubeMinor is null || kubeMinor < 16 || kubeMinor > 99)
            {
                context.Error.WriteLine($"error: --kube-version '{text}' is not a Kubernetes version such as 1.33 or v1.33.2");
                return false;
            }
        }

        return true;
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex NamespaceName();
}
