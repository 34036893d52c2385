using Skjold.Audit.Signing;

namespace Skjold.Audit;

/// <summary>One thing verification found wrong, with the leaf it concerns when known.</summary>
public sealed record VerificationProblem(string Kind, long? LeafIndex, string Message);

/// <summary>The result of verifying a store or a bundle.</summary>
public sealed record VerificationReport(
    long Size,
    long LeavesChecked,
    long Purged,
    int TreeHeadsVerified,
    long UnsignedTail,
    IReadOnlyList<VerificationProblem> Problems)
{
    public bool Ok => Problems.Count == 0;

    /// <summary>How many problems there were in all (only the first 50 are listed).</summary>
    public long ProblemCount { get; init; }

    /// <summary>Leaves whose identifying fields an erasure record covers.</summary>
    public long Erased { get; init; }

    /// <summary>Things that are not tampering but limit what was proven (the key's origin, an unsigned tail within the sealing interval).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Key ids whose heads were accepted: the given key and keys it rotated to.</summary>
    public IReadOnlyList<string> TrustedKeys { get; init; } = [];
}

/// <summary>What verification expects of sealing and what the auditor pinned before.</summary>
public sealed record VerifyOptions
{
    /// <summary>More unsigned events than this after the last head is tampering (a writer signs every 10,000 events, batches are at most 8,192).</summary>
    public long MaxUnsigned { get; init; } = 10_000 + 8_192;

    /// <summary>Unsigned events after a head older than this: the writer would have sealed them (it signs after 10 s without events).</summary>
    public TimeSpan MaxUnsignedAge { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The clock verification runs by (a head's age is judged against it).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>A tree head the auditor kept (skjold audit checkpoint): the log must extend it.</summary>
    public SignedTreeHead? Checkpoint { get; init; }

    /// <summary>Further public keys the auditor trusts (for example the keys of a log rotated before the auditor's copy).</summary>
    public IReadOnlyList<TreeHeadVerifier> AlsoTrusted { get; init; } = [];
}
