using System.Collections.Concurrent;
using System.Text.Json;
using Skjold.SupplyChain.Cosign;
using Skjold.SupplyChain.Oci;

namespace Skjold.SupplyChain.Policy;

/// <summary>Counters for metrics: how often the cache answered, the registry was asked, or could not be.</summary>
public sealed class ImageVerificationStats
{
    private long _cacheHits, _verifications, _unavailable, _sharedHits;

    public long CacheHits => Interlocked.Read(ref _cacheHits);

    public long SharedHits => Interlocked.Read(ref _sharedHits);

    public long Verifications => Interlocked.Read(ref _verifications);

    public long Unavailable => Interlocked.Read(ref _unavailable);

    internal void Hit() => Interlocked.Increment(ref _cacheHits);

    internal void SharedHit() => Interlocked.Increment(ref _sharedHits);

    internal void Verified() => Interlocked.Increment(ref _verifications);

    internal void Failed() => Interlocked.Increment(ref _unavailable);
}

/// <summary>
/// Checks images against the supply-chain policy: finds the governing rule, resolves a tag to its digest,
/// verifies the digest's signatures and attestations in the registry, and caches the verdict per rule and
/// digest (bounded, with a time to live; shared with other replicas through <see cref="IVerificationStore"/>
/// when there is one). Concurrent checks of the same digest share one verification. A registry that cannot
/// be asked within the caller's deadline yields <see cref="ImageDecision.Unavailable"/>, which an enforcing
/// rule turns into a denial.
/// </summary>
public sealed class ImageVerificationService : IDisposable
{
    private static readonly TimeSpan TagTtl = TimeSpan.FromSeconds(60);
    private readonly SupplyChainSettings _settings;
    private readonly RegistryClient _registry;
    private readonly bool _ownsRegistry;
    private readonly TimeProvider _time;
    private readonly IVerificationStore? _shared;
    private readonly VerificationCache<ImageCheck> _verdicts;
    private readonly VerificationCache<string> _tags;
    private readonly ConcurrentDictionary<string, Lazy<Task<ImageCheck>>> _inFlight = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CosignVerifier> _verifiers = new(StringComparer.Ordinal);

    public ImageVerificationService(SupplyChainSettings settings, RegistryClient? registry = null, TimeProvider? time = null, IVerificationStore? shared = null)
    {
        _settings = settings;
        _time = time ?? TimeProvider.System;
        _ownsRegistry = registry is null;
        _registry = registry ?? new RegistryClient(settings.Registry, settings.RegistryTrust);
        _shared = shared;
        _verdicts = new VerificationCache<ImageCheck>(settings.CacheSize, _time);
        _tags = new VerificationCache<string>(settings.CacheSize, _time);
        foreach (var rule in settings.Rules)
        {
            _verifiers[rule.Name] = new CosignVerifier(_registry, settings.TrustedRoot, new CosignVerifierOptions { RequireTransparencyLog = rule.TransparencyLog }, _time);
        }
    }

    public SupplyChainSettings Settings => _settings;

    public ImageVerificationStats Stats { get; } = new();

    public RegistryClient Registry => _registry;

    public void Dispose()
    {
        if (_ownsRegistry)
        {
            _registry.Dispose();
        }
    }

    /// <summary>The verdict on <paramref name="image"/> as run in namespace <paramref name="ns"/>; never throws for registry or signature problems.</summary>
    public async Task<ImageCheck> CheckAsync(string image, string? ns, CancellationToken ct)
    {
        try
        {
            return await CheckCoreAsync(image, ns, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Past the caller's deadline there is no verdict; an enforcing rule denies (fail closed).
            Stats.Failed();
            var governing = ImageReference.TryParse(image, out var r, out _) ? ImagePolicy.Match(_settings, r!, ns, DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime)).Rule : FirstRuleFor(ns);
            return new ImageCheck(image, r, r?.Digest, governing, null, governing is null ? ImageDecision.NotCovered : ImageDecision.Unavailable,
                "no verdict within the admission deadline", []);
        }
    }

    private async Task<ImageCheck> CheckCoreAsync(string image, string? ns, CancellationToken ct)
    {
        if (!ImageReference.TryParse(image, out var reference, out var error))
        {
            // A name that cannot be read cannot be matched to a rule: under any enforcing rule for this namespace it fails.
            var governing = FirstRuleFor(ns);
            return new ImageCheck(image, null, null, governing, null, governing is null ? ImageDecision.NotCovered : ImageDecision.Failed,
                $"image '{image}' cannot be read: {error}", []);
        }

        var today = DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime);
        var (rule, exemption) = ImagePolicy.Match(_settings, reference!, ns, today);
        if (exemption is not null)
        {
            return new ImageCheck(image, reference, reference!.Digest, null, exemption, ImageDecision.Exempt,
                $"exempt until {exemption.Expires:yyyy-MM-dd}: {exemption.Reason}", []);
        }

        if (rule is null)
        {
            return new ImageCheck(image, reference, reference!.Digest, null, null, ImageDecision.NotCovered, "no supply-chain rule covers this image", []);
        }

        string digest;
        try
        {
            digest = reference!.Digest ?? await ResolveAsync(reference, ct).ConfigureAwait(false);
        }
        catch (RegistryException e)
        {
            return Unavailable(image, reference!, null, rule, e);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Stats.Failed();
            return new ImageCheck(image, reference, null, rule, null, ImageDecision.Unavailable, "the registry did not answer within the admission deadline", []);
        }

        if (!digest.StartsWith("sha256:", StringComparison.Ordinal))
        {
            return new ImageCheck(image, reference, digest, rule, null, ImageDecision.Failed, $"digest {digest}: only sha256 digests can be verified", []);
        }

        // The rule's content is part of the key: a verdict reached under other keys or identities (an older
        // configuration on another replica sharing the store) is never reused.
        var key = $"{rule.Name}|{Fingerprint(rule)}|{reference.Registry}/{reference.Repository}@{digest}";
        if (_verdicts.TryGet(key, out var cached))
        {
            Stats.Hit();
            return cached with { Image = image, FromCache = true };
        }

        if (_shared is not null)
        {
            try
            {
                if (await _shared.GetAsync(key, ct).ConfigureAwait(false) is { } shared)
                {
                    Stats.SharedHit();
                    var fromStore = new ImageCheck(image, reference, digest, rule, null, shared.Verified ? ImageDecision.Verified : ImageDecision.Failed, shared.Message, []) { FromCache = true };
                    _verdicts.Set(key, fromStore, shared.Verified ? _settings.CacheTtl : _settings.NegativeCacheTtl);
                    return fromStore;
                }
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
            {
                // The shared cache is an optimisation: without it, verify here.
            }
        }

        // One verification per digest at a time, not bound to any one caller's deadline (each request is bounded by
        // the registry timeout); each caller waits only as long as its own deadline allows.
        var lazy = _inFlight.GetOrAdd(key, _ => new Lazy<Task<ImageCheck>>(() => VerifyAsync(image, reference, digest, rule, key, CancellationToken.None)));
        try
        {
            var result = await lazy.Value.WaitAsync(ct).ConfigureAwait(false);
            return result with { Image = image };
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Stats.Failed();
            return new ImageCheck(image, reference, digest, rule, null, ImageDecision.Unavailable, "signature verification did not finish within the admission deadline", []);
        }
        finally
        {
            if (lazy.IsValueCreated && lazy.Value.IsCompleted)
            {
                _inFlight.TryRemove(new KeyValuePair<string, Lazy<Task<ImageCheck>>>(key, lazy));
            }
        }
    }

    /// <summary>
    /// The vulnerability gate's verdict for an image (null when supplyChain.vulnerabilities does not cover it):
    /// the digest (given, or resolved from the tag) looked up among the known scan results, with the VEX statements
    /// for its repository. A digest that cannot be resolved has no scan result (so an enforcing gate denies).
    /// </summary>
    public async Task<Vulnerabilities.VulnerabilityVerdict?> CheckVulnerabilitiesAsync(string image, string? digest, string? ns, CancellationToken ct)
    {
        if (_settings.Vulnerabilities is not { } policy)
        {
            return null;
        }

        if (!ImageReference.TryParse(image, out var reference, out var error))
        {
            return new Vulnerabilities.VulnerabilityVerdict(Vulnerabilities.VulnerabilityDecision.NoReport, $"image '{image}' cannot be read: {error}", [], []);
        }

        if (!policy.Covers(reference!, ns))
        {
            return null;
        }

        try
        {
            digest ??= reference!.Digest ?? await ResolveAsync(reference, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RegistryException or OperationCanceledException)
        {
            Stats.Failed();
            return new Vulnerabilities.VulnerabilityVerdict(Vulnerabilities.VulnerabilityDecision.NoReport,
                $"the digest of {image} is unknown, so no scan result can be matched ({(e is RegistryException r ? r.Message : "no answer within the deadline")})", [], []);
        }

        var report = _settings.Reports.Find(digest);
        return Vulnerabilities.VulnerabilityGate.Evaluate(policy, report, _settings.Reports.VexFor($"{reference!.Registry}/{reference.Repository}"), $"{reference.Registry}/{reference.Repository}@{digest}", _time.GetUtcNow());
    }

    private readonly ConcurrentDictionary<ImageRule, string> _fingerprints = new(ReferenceEqualityComparer.Instance);

    /// <summary>A short hash of what a rule accepts: its signers, threshold, log requirement and attestations.</summary>
    private string Fingerprint(ImageRule rule) => _fingerprints.GetOrAdd(rule, r =>
    {
        var text = new System.Text.StringBuilder();
        text.Append(r.Threshold).Append('|').Append(r.TransparencyLog).Append('|');
        foreach (var a in r.Authorities)
        {
            text.Append(a.Description).Append('|');
            if (a.Policy.Key is { } k)
            {
                text.Append(Convert.ToHexStringLower(k.KeyId)).Append('|');
            }
        }

        foreach (var a in r.Attestations)
        {
            text.Append(a).Append('|');
        }

        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString())).AsSpan(0, 8));
    });

    private ImageRule? FirstRuleFor(string? ns)
    {
        foreach (var r in _settings.Rules)
        {
            if (r.Namespaces.Count == 0 || (ns is not null && r.Namespaces.Any(p => Engine.Policy.Exemption.Glob(p, ns))))
            {
                return r;
            }
        }

        return null;
    }

    private async Task<string> ResolveAsync(ImageReference reference, CancellationToken ct)
    {
        var tagKey = $"{reference.Registry}/{reference.Repository}:{reference.Tag}";
        if (_tags.TryGet(tagKey, out var digest))
        {
            return digest;
        }

        var (resolved, _) = await _registry.ResolveAsync(reference, ct).ConfigureAwait(false);
        _tags.Set(tagKey, resolved, TagTtl < _settings.CacheTtl ? TagTtl : _settings.CacheTtl);
        return resolved;
    }

    private async Task<ImageCheck> VerifyAsync(string image, ImageReference reference, string digest, ImageRule rule, string key, CancellationToken ct)
    {
        ImageVerification verification;
        try
        {
            var authorities = new List<Sigstore.VerificationPolicy>(rule.Authorities.Count);
            foreach (var a in rule.Authorities)
            {
                authorities.Add(a.Policy);
            }

            verification = await _verifiers[rule.Name].VerifyAsync(reference, digest, authorities, ct).ConfigureAwait(false);
        }
        catch (RegistryException e)
        {
            return Unavailable(image, reference, digest, rule, e);
        }

        Stats.Verified();
        var check = Judge(image, reference, digest, rule, verification);
        var ttl = check.Decision == ImageDecision.Verified ? _settings.CacheTtl : _settings.NegativeCacheTtl;
        _verdicts.Set(key, check, ttl);
        if (_shared is not null)
        {
            try
            {
                await _shared.PutAsync(key, check.Decision == ImageDecision.Verified, check.Message, _time.GetUtcNow() + ttl, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
            {
            }
        }

        return check;
    }

    private ImageCheck Unavailable(string image, ImageReference reference, string? digest, ImageRule rule, RegistryException e)
    {
        Stats.Failed();
        // A registry that answers "not found" for the image is a settled failure; anything else is undecided.
        var decision = e.Status is 404 ? ImageDecision.Failed : ImageDecision.Unavailable;
        return new ImageCheck(image, reference, digest, rule, null, decision, e.Message, []);
    }

    /// <summary>Threshold and attestations, from what verified.</summary>
    internal static ImageCheck Judge(string image, ImageReference reference, string digest, ImageRule rule, ImageVerification v)
    {
        var count = v.VerifiedCount;
        if (count < rule.Threshold)
        {
            var reasons = new List<string>();
            foreach (var s in v.Signatures)
            {
                if (!s.Verified && s.Failure is { } f && !reasons.Contains(f))
                {
                    reasons.Add(f);
                }
            }

            var message = v.Signatures.Count == 0
                ? $"{reference.Registry}/{reference.Repository}@{digest} has no signature (rule {rule.Name} needs {rule.Threshold} by {Signers(rule)})"
                : $"{count} of {rule.Threshold} required signatures verified for {reference.Registry}/{reference.Repository}@{digest} (rule {rule.Name}): {string.Join("; ", reasons.Take(3))}";
            return new ImageCheck(image, reference, digest, rule, null, ImageDecision.Failed, message, v.Signatures);
        }

        foreach (var need in rule.Attestations)
        {
            var found = false;
            foreach (var a in v.Attestations(need.PredicateType))
            {
                if (need.Builder is null || (a.Statement is { } st && BuilderId(st) == need.Builder))
                {
                    found = true;
                    break;
                }
            }

            if (!found)
            {
                return new ImageCheck(image, reference, digest, rule, null, ImageDecision.Failed,
                    $"no verified attestation {need} for {reference.Registry}/{reference.Repository}@{digest} (rule {rule.Name})", v.Signatures);
            }
        }

        var by = new List<string>();
        foreach (var s in v.Signatures)
        {
            if (s.Verified && s.PredicateType is null)
            {
                by.Add(s.Identity ?? s.Key ?? "key");
            }
        }

        return new ImageCheck(image, reference, digest, rule, null, ImageDecision.Verified,
            $"signed by {string.Join(", ", by.Distinct())} (rule {rule.Name})", v.Signatures);
    }

    private static string Signers(ImageRule rule) => string.Join(" or ", rule.Authorities.Select(a => a.Description));

    /// <summary>The builder of a SLSA provenance statement: predicate.runDetails.builder.id (v1) or predicate.builder.id (v0.2).</summary>
    internal static string? BuilderId(byte[] statement)
    {
        try
        {
            using var doc = JsonDocument.Parse(statement, new JsonDocumentOptions { MaxDepth = 64 });
            if (!doc.RootElement.TryGetProperty("predicate", out var p) || p.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            if (p.TryGetProperty("runDetails", out var rd) && rd.ValueKind == JsonValueKind.Object && rd.TryGetProperty("builder", out var b1) && b1.ValueKind == JsonValueKind.Object && b1.TryGetProperty("id", out var id1))
            {
                return id1.GetString();
            }

            return p.TryGetProperty("builder", out var b2) && b2.ValueKind == JsonValueKind.Object && b2.TryGetProperty("id", out var id2) ? id2.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
