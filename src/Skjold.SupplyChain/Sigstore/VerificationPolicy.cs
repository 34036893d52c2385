using Skjold.SupplyChain.Crypto;

namespace Skjold.SupplyChain.Sigstore;

/// <summary>
/// Who must have signed: a key (for key-based bundles), or a certificate identity and OIDC issuer (for keyless
/// ones). A keyless policy without both an identity and an issuer is refused: "any Fulcio certificate" trusts
/// anyone with an e-mail address.
/// </summary>
public sealed record VerificationPolicy
{
    public VerifyingKey? Key { get; init; }

    public IdentityMatcher? Identity { get; init; }

    public IdentityMatcher? Issuer { get; init; }

    public static VerificationPolicy ForKey(VerifyingKey key) => new() { Key = key };

    public static VerificationPolicy ForIdentity(IdentityMatcher identity, IdentityMatcher issuer) => new() { Identity = identity, Issuer = issuer };
}
