using Skjold.Engine.Checks;

namespace Skjold.Engine.Pss;

/// <summary>
/// One Pod Security Standards control, named as Pod Security Admission names it. A check applies
/// from <see cref="MinMinor"/> on and may behave differently by version; restricted checks may
/// replace a baseline one (<see cref="Overrides"/>) from their own first version.
/// </summary>
internal abstract class PssCheck
{
    /// <summary>The Pod Security Admission check name, for example <c>capabilities_restricted</c>.</summary>
    public abstract string Name { get; }

    public abstract PssLevel Level { get; }

    public virtual int MinMinor => 0;

    /// <summary>The baseline check this restricted check replaces at the restricted level.</summary>
    public virtual string? Overrides => null;

    private string? _checkId;

    public string CheckId => _checkId ??= "pss/" + Name;

    public abstract void Evaluate(PodTemplateView pod, int minor, ViolationSink report);

    protected static string Quote(string name) => "\"" + name + "\"";

    protected static string ContainerLabel(ContainerView c) => "container " + Quote(c.DisplayName);
}
