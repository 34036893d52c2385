using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Skjold.Audit.Events;

namespace Skjold.Audit.Storage;

/// <summary>
/// What a purge or an erasure changed: how many leaves, which (as ranges "0-99,120"), and a digest
/// a verifier recomputes from the store. For a purge it covers what the purge keeps of each leaf
/// (index, time, verb, resource, subresource, namespace, API group, code); for an erasure the
/// SHA-256 of each new payload. The record of the purge or erasure, sealed in the log, carries
/// both: a payload that is gone or changed verifies only when such a record covers its leaf.
/// </summary>
public sealed record RedactionOutcome(long Count, string Ranges, string Digest)
{
    /// <summary>Parses ranges written by <see cref="RedactionDigest"/>.</summary>
    public static List<(long From, long To)> ParseRanges(string text)
    {
        var list = new List<(long, long)>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0 && long.TryParse(part[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var a)
                && long.TryParse(part[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var b) && a <= b)
            {
                list.Add((a, b));
            }
            else if (long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var one))
            {
                list.Add((one, one));
            }
            else
            {
                throw new FormatException($"'{part}' is not a leaf range");
            }
        }

        return list;
    }
}

/// <summary>Builds a <see cref="RedactionOutcome"/> over leaves given in ascending order.</summary>
public sealed class RedactionDigest
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly StringBuilder _ranges = new();
    private long _start = -1;
    private long _last = -2;

    public long Count { get; private set; }

    /// <summary>A purged leaf: what the purge keeps of it.</summary>
    public void AddKept(AuditRecord r)
    {
        Next(r.Index);
        Span<byte> n = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(n, SqlAuditStore.Micros(r.Time));
        _hash.AppendData(n);
        foreach (var v in new[] { r.Verb, r.Resource, r.Subresource, r.Namespace, r.ApiGroup, r.Code?.ToString(CultureInfo.InvariantCulture) })
        {
            var bytes = v is null ? [0xFF] : Encoding.UTF8.GetBytes(v);
            BinaryPrimitives.WriteInt32BigEndian(n, v is null ? -1 : bytes.Length);
            _hash.AppendData(n[..4]);
            if (v is not null)
            {
                _hash.AppendData(bytes);
            }
        }
    }

    /// <summary>An erased leaf: the hash of its new payload.</summary>
    public void AddPayload(long index, ReadOnlySpan<byte> payload)
    {
        Next(index);
        _hash.AppendData(SHA256.HashData(payload));
    }

    private void Next(long index)
    {
        if (index <= _last)
        {
            throw new InvalidOperationException("leaves must be added in ascending order");
        }

        Span<byte> n = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(n, index);
        _hash.AppendData(n);
        if (index != _last + 1)
        {
            Close();
            _start = index;
        }

        _last = index;
        Count++;
    }

    private void Close()
    {
        if (_start < 0)
        {
            return;
        }

        if (_ranges.Length > 0)
        {
            _ranges.Append(',');
        }

        _ranges.Append(_start.ToString(CultureInfo.InvariantCulture));
        if (_last > _start)
        {
            _ranges.Append('-').Append(_last.ToString(CultureInfo.InvariantCulture));
        }
    }

    public RedactionOutcome Finish()
    {
        Close();
        _start = -1;
        var digest = Convert.ToHexStringLower(_hash.GetHashAndReset());
        return new RedactionOutcome(Count, _ranges.ToString(), digest);
    }
}
