using System.Security.Cryptography;

namespace Skjold.Audit.Signing;

/// <summary>
/// The audit log's keys, created by <c>skjold audit init</c> in a key directory: an ECDSA P-256
/// signing key for tree heads (<c>audit-signing-key.pem</c>, private, mode 0600, and
/// <c>audit-signing-key.pub.pem</c>, to hand to auditors) and a random 32-byte redaction key
/// (<c>audit-redaction.key</c>, private) for the keyed hashes that replace secret values.
/// </summary>
public sealed class AuditKeys : IDisposable
{
    public const string SigningKeyFile = "audit-signing-key.pem";
    public const string PublicKeyFile = "audit-signing-key.pub.pem";
    public const string RedactionKeyFile = "audit-redaction.key";

    private readonly ECDsa _signing;

    private AuditKeys(ECDsa signing, byte[] redactionKey)
    {
        _signing = signing;
        RedactionKey = redactionKey;
        KeyId = KeyIdOf(signing);
    }

    public byte[] RedactionKey { get; }

    /// <summary>First 16 hex digits of SHA-256 over the public key (SubjectPublicKeyInfo).</summary>
    public string KeyId { get; }

    public string PublicKeyPem => _signing.ExportSubjectPublicKeyInfoPem();

    public static bool Exist(string directory) => File.Exists(Path.Combine(directory, SigningKeyFile));

    /// <summary>Creates new keys; refuses to overwrite existing ones.</summary>
    public static AuditKeys Create(string directory)
    {
        // The key directory is usually the data directory: created 0700, as the store creates it.
        PrivateDirectory.Create(directory);

        if (Exist(directory))
        {
            throw new InvalidOperationException($"{directory} already holds audit keys; refusing to replace them (tree heads signed with them could no longer be verified)");
        }

        var signing = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var redaction = RandomNumberGenerator.GetBytes(32);
        WritePrivate(Path.Combine(directory, SigningKeyFile), signing.ExportPkcs8PrivateKeyPem());
        WritePrivate(Path.Combine(directory, RedactionKeyFile), Convert.ToBase64String(redaction) + "\n");
        File.WriteAllText(Path.Combine(directory, PublicKeyFile), signing.ExportSubjectPublicKeyInfoPem() + "\n");
        return new AuditKeys(signing, redaction);
    }

    public static AuditKeys Load(string directory)
    {
        var signingPath = Path.Combine(directory, SigningKeyFile);
        if (!File.Exists(signingPath))
        {
            throw new FileNotFoundException($"no audit keys in {directory}; run 'skjold audit init' first", signingPath);
        }

        var signing = ECDsa.Create();
        signing.ImportFromPem(File.ReadAllText(signingPath));
        var redaction = Convert.FromBase64String(File.ReadAllText(Path.Combine(directory, RedactionKeyFile)).Trim());
        return new AuditKeys(signing, redaction);
    }

    /// <summary>A version 1 head (tests of stores written before version 2).</summary>
    /// <summary>
    /// Makes a new signing key in <paramref name="directory"/>; the old key files are kept under
    /// their key id (audit-signing-key.ID.pem and .pub.pem) so that nothing is lost. The redaction
    /// key stays. The caller records the rotation in the log before signing with the new key.
    /// </summary>
    public static AuditKeys Rotate(string directory, AuditKeys current)
    {
        var signingPath = Path.Combine(directory, SigningKeyFile);
        var publicPath = Path.Combine(directory, PublicKeyFile);
        File.Move(signingPath, Path.Combine(directory, $"audit-signing-key.{current.KeyId}.pem"));
        if (File.Exists(publicPath))
        {
            File.Move(publicPath, Path.Combine(directory, $"audit-signing-key.{current.KeyId}.pub.pem"));
        }

        var signing = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        WritePrivate(signingPath, signing.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(publicPath, signing.ExportSubjectPublicKeyInfoPem() + "\n");
        return new AuditKeys(signing, current.RedactionKey);
    }

    public SignedTreeHead Sign(long size, DateTimeOffset timestamp, byte[] root)
    {
        var truncated = DateTimeOffset.FromUnixTimeMilliseconds(timestamp.ToUnixTimeMilliseconds());
        var signature = _signing.SignData(SignedTreeHead.SignedBytes(size, truncated, root), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return new SignedTreeHead(size, truncated, root, signature, KeyId);
    }

    /// <summary>A version 2 head: chained to <paramref name="previous"/> and covering the sealed query index.</summary>
    public SignedTreeHead Sign(long size, DateTimeOffset timestamp, byte[] root, SignedTreeHead? previous, IndexState index)
    {
        var truncated = DateTimeOffset.FromUnixTimeMilliseconds(timestamp.ToUnixTimeMilliseconds());
        var extension = SignedTreeHead.MakeExtension(previous, index);
        var signature = _signing.SignData(SignedTreeHead.SignedBytes(size, truncated, root, extension), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return new SignedTreeHead(size, truncated, root, signature, KeyId) { Extension = extension };
    }

    /// <summary>Signs arbitrary bytes (export bundles) with the tree-head key.</summary>
    public byte[] SignData(byte[] data) => _signing.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    public void Dispose() => _signing.Dispose();

    public static string KeyIdOf(ECDsa key) => Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];

    /// <summary>Writes a private key file that must not exist yet, readable by its owner only (mode 0600).</summary>
    public static void WritePrivate(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(content);
    }
}
