using System.Text.RegularExpressions;

namespace Skjold.SupplyChain.Sigstore;

/// <summary>An exact string or a regular expression (matched against the whole value, as cosign's --*-regexp flags are anchored here).</summary>
public sealed class IdentityMatcher
{
    private readonly string? _exact;
    private readonly Regex? _pattern;

    private IdentityMatcher(string? exact, Regex? pattern)
    {
        _exact = exact;
        _pattern = pattern;
    }

    public static IdentityMatcher Exact(string value) => new(value, null);

    /// <summary>A pattern anchored at both ends, with a one-second match timeout so a hostile certificate cannot stall admission.</summary>
    public static IdentityMatcher Pattern(string regex) =>
        new(null, new Regex($"^(?:{regex})$", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, TimeSpan.FromSeconds(1)));

    public bool Matches(string? value) =>
        value is not null && (_exact is not null ? string.Equals(_exact, value, StringComparison.Ordinal) : _pattern!.IsMatch(value));

    public override string ToString() => _exact ?? $"/{_pattern}/";
}
