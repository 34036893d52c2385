using Skjold.Engine.Policy;
using Skjold.SupplyChain.Oci;

namespace Skjold.SupplyChain.Policy;

/// <summary>Which rule (or exemption) governs an image in a namespace: pure matching, first rule wins.</summary>
public static class ImagePolicy
{
    /// <summary>The first unexpired exemption covering the image, else the first rule, else neither.</summary>
    public static (ImageRule? Rule, ImageExemption? Exemption) Match(SupplyChainSettings settings, ImageReference image, string? ns, DateOnly today)
    {
        foreach (var e in settings.Exemptions)
        {
            if (e.Expires >= today && AnyImage(e.Images, image) && InNamespaces(e.Namespaces, ns))
            {
                return (null, e);
            }
        }

        foreach (var r in settings.Rules)
        {
            if (AnyImage(r.Images, image) && InNamespaces(r.Namespaces, ns))
            {
                return (r, null);
            }
        }

        return (null, null);
    }

    private static bool AnyImage(IReadOnlyList<string> patterns, ImageReference image)
    {
        foreach (var p in patterns)
        {
            if (image.Matches(p))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Namespace patterns as exemptions use them (exact, *, or a prefix*); none means every namespace.</summary>
    private static bool InNamespaces(IReadOnlyList<string> patterns, string? ns)
    {
        if (patterns.Count == 0)
        {
            return true;
        }

        foreach (var p in patterns)
        {
            if (ns is not null && Exemption.Glob(p, ns))
            {
                return true;
            }
        }

        return false;
    }
}
