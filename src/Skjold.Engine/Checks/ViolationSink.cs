using Skjold.Engine.Pss;

namespace Skjold.Engine.Checks;

/// <summary>
/// Collects violations from checks. Pod Security checks get Pod Security Admission's message
/// prefix (<c>violates PodSecurity "restricted:latest": </c>); other checks report plain messages.
/// </summary>
internal sealed class ViolationSink
{
    private string _prefix = string.Empty;
    private string _checkId = string.Empty;

    public List<Violation> Items { get; } = [];

    public void Clear() => Items.Clear();

    private PssLevel _level;
    private PssVersion _version;

    /// <summary>Starts Pod Security reporting for a level and version.</summary>
    public void BeginPodSecurity(PssLevel level, PssVersion version)
    {
        if (_prefix.Length == 0 || level != _level || version != _version)
        {
            _level = level;
            _version = version;
            _prefix = $"violates PodSecurity \"{level.ToName()}:{version}\": ";
        }
    }

    public void SetCheck(string checkId) => _checkId = checkId;

    /// <summary>Reports a Pod Security violation: reason and detail as Pod Security Admission words them.</summary>
    public void Report(string path, string reason, string detail) =>
        Items.Add(new Violation(_checkId, path, string.Concat(_prefix, reason, " (", detail, ")")));

    /// <summary>Reports a violation of a Skjold check with a plain message.</summary>
    public void Report(string path, string message) => Items.Add(new Violation(_checkId, path, message));
}
