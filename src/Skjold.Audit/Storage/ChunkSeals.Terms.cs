using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Skjold.Audit.Events;

namespace Skjold.Audit.Storage;

/// <summary>The terms of an event and of a query, as strings and as keys, and their counts for a chunk's manifest.</summary>
public static partial class ChunkSeals
{
    /// <summary>A term's 64-bit key in manifests: the first 8 bytes of SHA-256 of its text.</summary>
    public static ulong TermHash(string term)
    {
        Span<byte> h = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(term), h);
        return BinaryPrimitives.ReadUInt64BigEndian(h);
    }

    /// <summary>
    /// The terms an event carries: those of the term index (user, namespace, source IP, resource,
    /// resource in a namespace, API group, explicit groups) and its verb, subresource and code.
    /// </summary>
    public static void Terms(AuditRecord f, List<string> into)
    {
        into.Clear();
        if (f.Username is { } u)
        {
            into.Add("u:" + u);
        }

        if (f.Namespace is { } ns)
        {
            into.Add("n:" + ns);
        }

        if (f.SourceIp is { } ip)
        {
            into.Add("i:" + ip);
        }

        if (f.Resource is { } r)
        {
            into.Add("R:" + r);
            if (f.Namespace is not null)
            {
                into.Add($"r:{r}/{f.Namespace}");
            }
        }

        if (!string.IsNullOrEmpty(f.ApiGroup))
        {
            into.Add("a:" + f.ApiGroup);
        }

        foreach (var g in f.Groups.Distinct(StringComparer.Ordinal))
        {
            if (!SqlAuditStore.IsImplicitGroup(g))
            {
                into.Add("g:" + g);
            }
        }

        if (f.Verb is { } v)
        {
            into.Add("v:" + v);
        }

        if (f.Subresource is { } s)
        {
            into.Add("s:" + s);
        }

        if (CodeText(f.Code) is { } c)
        {
            into.Add("c:" + c);
        }
    }

    /// <summary>Terms every match of the query must carry (any one of them bounds the candidates).</summary>
    public static List<string> Terms(AuditQuery q)
    {
        var terms = TermPostings.Of(q).ToList();
        if (q.Verbs.Count == 1)
        {
            terms.Add("v:" + q.Verbs[0]);
        }

        if (q.Subresources.Count == 1)
        {
            terms.Add("s:" + q.Subresources[0]);
        }

        if (q.Codes.Count == 1)
        {
            terms.Add("c:" + q.Codes[0].ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return terms;
    }
    /// <summary>The terms an event carries, as keys (no strings built, no dictionary).</summary>
    internal static TermPostings.Term[] TermsOf(AuditRecord f)
    {
        var n = (f.Username is null ? 0 : 1) + (f.Namespace is null ? 0 : 1) + (f.SourceIp is null ? 0 : 1) + (f.Resource is null ? 0 : f.Namespace is null ? 1 : 2)
            + (string.IsNullOrEmpty(f.ApiGroup) ? 0 : 1) + (f.Verb is null ? 0 : 1) + (f.Subresource is null ? 0 : 1) + (f.Code is null ? 0 : 1);
        for (var i = 0; i < f.Groups.Count; i++)
        {
            if (!SqlAuditStore.IsImplicitGroup(f.Groups[i]) && IndexOf(f.Groups, f.Groups[i]) == i)
            {
                n++;
            }
        }

        var terms = new TermPostings.Term[n];
        var k = 0;
        if (f.Username is { } u)
        {
            terms[k++] = new('u', u);
        }

        if (f.Namespace is { } ns)
        {
            terms[k++] = new('n', ns);
        }

        if (f.SourceIp is { } ip)
        {
            terms[k++] = new('i', ip);
        }

        if (f.Resource is { } r)
        {
            terms[k++] = new('R', r);
            if (f.Namespace is not null)
            {
                terms[k++] = new('r', r, f.Namespace);
            }
        }

        if (!string.IsNullOrEmpty(f.ApiGroup))
        {
            terms[k++] = new('a', f.ApiGroup);
        }

        for (var i = 0; i < f.Groups.Count; i++)
        {
            if (!SqlAuditStore.IsImplicitGroup(f.Groups[i]) && IndexOf(f.Groups, f.Groups[i]) == i)
            {
                terms[k++] = new('g', f.Groups[i]);
            }
        }

        if (f.Verb is { } v)
        {
            terms[k++] = new('v', v);
        }

        if (f.Subresource is { } sub)
        {
            terms[k++] = new('s', sub);
        }

        if (CodeText(f.Code) is { } c)
        {
            terms[k++] = new('c', c);
        }

        return terms;
    }
    /// <summary>Counts the terms an event carries (as <see cref="Terms(AuditRecord, List{string})"/> lists them) without building strings.</summary>
    internal static void CountTerms(AuditRecord f, Dictionary<TermPostings.Term, int> counts)
    {
        static void Put(Dictionary<TermPostings.Term, int> counts, TermPostings.Term t) =>
            System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(counts, t, out _)++;

        if (f.Username is { } u)
        {
            Put(counts, new('u', u));
        }

        if (f.Namespace is { } ns)
        {
            Put(counts, new('n', ns));
        }

        if (f.SourceIp is { } ip)
        {
            Put(counts, new('i', ip));
        }

        if (f.Resource is { } r)
        {
            Put(counts, new('R', r));
            if (f.Namespace is not null)
            {
                Put(counts, new('r', r, f.Namespace));
            }
        }

        if (!string.IsNullOrEmpty(f.ApiGroup))
        {
            Put(counts, new('a', f.ApiGroup));
        }

        for (var i = 0; i < f.Groups.Count; i++)
        {
            var g = f.Groups[i];
            if (!SqlAuditStore.IsImplicitGroup(g) && IndexOf(f.Groups, g) == i)
            {
                Put(counts, new('g', g));
            }
        }

        if (f.Verb is { } v)
        {
            Put(counts, new('v', v));
        }

        if (f.Subresource is { } s)
        {
            Put(counts, new('s', s));
        }

        if (CodeText(f.Code) is { } c)
        {
            Put(counts, new('c', c));
        }
    }

    private static int IndexOf(IReadOnlyList<string> list, string value)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] == value)
            {
                return i;
            }
        }

        return -1;
    }
}
