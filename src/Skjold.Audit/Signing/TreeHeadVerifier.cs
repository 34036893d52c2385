using System.Security.Cryptography;

namespace Skjold.Audit.Signing;

/// <summary>Checks tree head signatures with nothing but the public key.</summary>
public sealed class TreeHeadVerifier : IDisposable
{
    private readonly ECDsa _key;

    public TreeHeadVerifier(string publicKeyPem)
    {
        _key = ECDsa.Create();
        _key.ImportFromPem(publicKeyPem);
        KeyId = AuditKeys.KeyIdOf(_key);
    }

    public string KeyId { get; }

    public bool Verify(SignedTreeHead sth) =>
        _key.VerifyData(SignedTreeHead.SignedBytes(sth.Size, sth.Timestamp, sth.Root, sth.Extension), sth.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    public bool VerifyData(byte[] data, byte[] signature) =>
        _key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    public void Dispose() => _key.Dispose();
}
