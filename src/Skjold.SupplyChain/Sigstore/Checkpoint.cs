using System.Globalization;
using System.Text;

namespace Skjold.SupplyChain.Sigstore;

/// <summary>
/// A transparency log checkpoint in the signed-note format (C2SP tlog-checkpoint and signed-note): the body
/// "origin\nsize\nbase64(root)\n[extension lines]\n", a blank line, then signature lines
/// "— name base64(keyhint[4] || signature)". Witness cosignatures may sit beside the log's own.
/// </summary>
public sealed record Checkpoint(string Origin, long Size, byte[] RootHash, string Body, IReadOnlyList<(string Name, byte[] Hint, byte[] Signature)> Signatures)
{
    private const int MaxSignatures = 100;

    public static Checkpoint Parse(string note)
    {
        var split = note.IndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0)
        {
            throw new SigstoreException("checkpoint: no blank line between the body and its signatures");
        }

        var body = note[..(split + 1)];
        var lines = body[..^1].Split('\n');
        if (lines.Length < 3)
        {
            throw new SigstoreException("checkpoint: the body needs an origin, a size and a root hash");
        }

        if (lines[0].Length == 0)
        {
            throw new SigstoreException("checkpoint: empty origin");
        }

        if (!long.TryParse(lines[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            throw new SigstoreException($"checkpoint: the size line '{Trim(lines[1])}' is not a decimal number (is the origin missing?)");
        }

        byte[] root;
        try
        {
            root = Convert.FromBase64String(lines[2]);
        }
        catch (FormatException)
        {
            throw new SigstoreException("checkpoint: the root hash line is not base64");
        }

        if (root.Length != 32)
        {
            throw new SigstoreException($"checkpoint: the root hash is {root.Length} bytes, not 32");
        }

        var sigs = new List<(string, byte[], byte[])>();
        foreach (var line in note[(split + 2)..].Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (!line.StartsWith("\u2014 ", StringComparison.Ordinal))
            {
                throw new SigstoreException("checkpoint: a signature line does not start with an em dash");
            }

            var space = line.IndexOf(' ', 2);
            if (space < 0)
            {
                throw new SigstoreException("checkpoint: a signature line without a signature");
            }

            byte[] raw;
            try
            {
                raw = Convert.FromBase64String(line[(space + 1)..]);
            }
            catch (FormatException)
            {
                throw new SigstoreException("checkpoint: a signature that is not base64");
            }

            if (raw.Length < 5)
            {
                throw new SigstoreException("checkpoint: a signature shorter than its key hint");
            }

            if (sigs.Count == MaxSignatures)
            {
                throw new SigstoreException($"checkpoint: more than {MaxSignatures} signatures");
            }

            sigs.Add((line[2..space], raw[..4], raw[4..]));
        }

        if (sigs.Count == 0)
        {
            throw new SigstoreException("checkpoint: no signatures");
        }

        return new Checkpoint(lines[0], size, root, body, sigs);
    }

    /// <summary>
    /// True when a signature by <paramref name="log"/> verifies: its name is the log's host, its key hint is the
    /// first four bytes of the log's id, and it checks out over the body. Other signatures (witnesses) are ignored.
    /// </summary>
    public bool IsSignedBy(TrustedLog log)
    {
        var message = Encoding.UTF8.GetBytes(Body);
        foreach (var (name, hint, signature) in Signatures)
        {
            if (name.Equals(log.Host, StringComparison.Ordinal)
                && hint.AsSpan().SequenceEqual(log.LogId.AsSpan(0, 4))
                && log.Key.Verify(message, signature))
            {
                return true;
            }
        }

        return false;
    }

    private static string Trim(string s) => s.Length > 40 ? s[..40] + "..." : s;
}
