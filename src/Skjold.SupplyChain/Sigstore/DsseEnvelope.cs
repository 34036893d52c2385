using System.Globalization;
using System.Text;

namespace Skjold.SupplyChain.Sigstore;

/// <summary>A DSSE envelope (payload type, payload, signatures); signatures are over <see cref="Pae"/>.</summary>
public sealed record DsseEnvelope(string PayloadType, byte[] Payload, IReadOnlyList<byte[]> Signatures)
{
    public const string InTotoPayloadType = "application/vnd.in-toto+json";

    /// <summary>DSSE's pre-authentication encoding: "DSSEv1" SP len(type) SP type SP len(body) SP body.</summary>
    public byte[] Pae() => Pae(PayloadType, Payload);

    public static byte[] Pae(string payloadType, ReadOnlySpan<byte> payload)
    {
        var type = Encoding.UTF8.GetBytes(payloadType);
        var head = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"DSSEv1 {type.Length} "));
        var mid = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $" {payload.Length} "));
        var result = new byte[head.Length + type.Length + mid.Length + payload.Length];
        head.CopyTo(result, 0);
        type.CopyTo(result, head.Length);
        mid.CopyTo(result, head.Length + type.Length);
        payload.CopyTo(result.AsSpan(head.Length + type.Length + mid.Length));
        return result;
    }
}
